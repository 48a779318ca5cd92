using System;
using System.Collections.Generic;
using System.IO;
using System.Management.Automation;
using FluxForensics.Model;
using FluxForensics.Remediation;

namespace FluxForensics.Commands
{
    /// <summary>What the three quarantine cmdlets share: -WhatIf detection and opening the store with a clear error.</summary>
    internal static class RemediationCmdletSupport
    {
        public static bool IsWhatIf(PSCmdlet cmdlet)
        {
            if (cmdlet.MyInvocation.BoundParameters.TryGetValue("WhatIf", out object? value))
            {
                return value is SwitchParameter s ? s.IsPresent : value is bool b && b;
            }

            object? preference = cmdlet.SessionState.PSVariable.GetValue("WhatIfPreference");
            return preference is SwitchParameter sp ? sp.IsPresent : preference is bool pb && pb;
        }

        /// <summary>
        /// The remediation service for Remove-FluxInfection and Restore-FluxQuarantine: every change it makes is asked for
        /// through this cmdlet's ShouldProcess (so -WhatIf and -Confirm act the same in both), and -WhatIf is passed on so
        /// the service runs its checks and changes nothing.
        /// </summary>
        public static RemediationService Service(FluxCmdlet cmdlet, string? quarantinePath, bool force)
        {
            string? resolved = quarantinePath is null ? null : cmdlet.SessionState.Path.GetUnresolvedProviderPathFromPSPath(quarantinePath);
            return new RemediationService(cmdlet.Reporter, (target, action) => cmdlet.ShouldProcess(target, action), resolved, force, IsWhatIf(cmdlet));
        }

        /// <summary>Runs a service call; a store that cannot be used at all is a terminating error (nothing can run without it).</summary>
        public static IReadOnlyList<FluxRemediation> Run(FluxCmdlet cmdlet, Func<IReadOnlyList<FluxRemediation>> call)
        {
            try
            {
                return call();
            }
            catch (QuarantineStoreUnavailableException e)
            {
                cmdlet.ThrowTerminatingError(new ErrorRecord(e.InnerException ?? e, "QuarantineStoreUnavailable", e.InnerException is UnauthorizedAccessException ? ErrorCategory.PermissionDenied : ErrorCategory.ResourceUnavailable, e.StorePath)
                {
                    ErrorDetails = new ErrorDetails($"{e.Message} It is readable by root/Administrators only; run elevated or choose -QuarantinePath."),
                });
                return Array.Empty<FluxRemediation>();
            }
        }

        /// <summary>Opens the store; a terminating error when it cannot be used at all (nothing can run without it).</summary>
        public static QuarantineStore? OpenStore(FluxCmdlet cmdlet, string? path, bool create)
        {
            string? resolved = path is null ? null : cmdlet.SessionState.Path.GetUnresolvedProviderPathFromPSPath(path);
            try
            {
                return QuarantineStore.Open(resolved, create);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                cmdlet.ThrowTerminatingError(new ErrorRecord(e, "QuarantineStoreUnavailable", e is UnauthorizedAccessException ? ErrorCategory.PermissionDenied : ErrorCategory.ResourceUnavailable, resolved ?? QuarantineStore.DefaultPath)
                {
                    ErrorDetails = new ErrorDetails($"The quarantine store '{resolved ?? QuarantineStore.DefaultPath}' cannot be used: {e.Message} It is readable by root/Administrators only; run elevated or choose -QuarantinePath."),
                });
                return null;
            }
        }
    }
}
