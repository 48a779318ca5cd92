using System;
using System.Linq;
using System.Management.Automation;
using FluxForensics.Model;
using FluxForensics.Scans;

namespace FluxForensics.Commands
{
    /// <summary>Every listening socket with its owning process, scored (issue 5).</summary>
    [Cmdlet(VerbsCommon.Get, "FluxListener", HelpUri = HelpRoot + "Get-FluxListener.md")]
    [OutputType(typeof(FluxListener))]
    public sealed class GetFluxListenerCommand : FluxCmdlet
    {
        /// <summary>Process names, service names or image paths that are expected to listen (e.g. a real web or DNS server).</summary>
        [Parameter]
        [ValidateNotNull]
        [SupportsWildcards]
        public string[]? ExpectedListener { get; set; }

        /// <summary>Also report processes with heavy outbound fan-out that listen on nothing.</summary>
        [Parameter]
        public SwitchParameter IncludeOutbound { get; set; }

        [Parameter]
        [ValidateRange(0, 100)]
        public int MinimumRiskScore { get; set; }

        protected override void EndProcessing()
        {
            ListenerScanResult result;
            try
            {
                result = ListenerScan.Run(new ListenerScanOptions
                {
                    ExpectedListeners = ExpectedListener ?? Array.Empty<string>(),
                    IncludeOutbound = IncludeOutbound.IsPresent,
                    MinimumRiskScore = MinimumRiskScore,
                }, Reporter, CancellationToken);
            }
            catch (OperationCanceledException)
            {
                base.EndProcessing();
                return;
            }

            // One warning for everything that could not be seen, not one per process.
            if (result.BlindSpots.Count > 0)
            {
                WriteWarning("Get-FluxListener could not see everything: " + string.Join("; ", result.BlindSpots) + ".");
            }

            if (result.NoSocketTableRead)
            {
                ThrowTerminating("SocketTablesUnreadable", ErrorCategory.PermissionDenied, null,
                    "No socket table could be read: " + string.Join("; ", result.BlindSpots));
            }

            foreach (var finding in result.Findings)
            {
                WriteObject(finding);
            }

            base.EndProcessing();
        }
    }
}
