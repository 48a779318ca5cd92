using System;
using System.IO;
using System.Management.Automation;
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
