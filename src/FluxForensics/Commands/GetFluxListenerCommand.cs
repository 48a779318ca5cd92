using System;
using System.Linq;
using System.Management.Automation;
using FluxForensics.Detection;
using FluxForensics.Host;
using FluxForensics.Model;

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
            ListenerFacts facts;
            try
            {
                facts = SocketOwnerScanner.Collect(
                    SocketReader.ForThisPlatform(),
                    ProcessReader.ForThisPlatform(),
                    IncludeOutbound.IsPresent,
                    ListenerRules.HeavyOutboundConnections,
                    Reporter,
                    CancellationToken);
            }
            catch (OperationCanceledException)
            {
                base.EndProcessing();
                return;
            }

            foreach (var issue in facts.Snapshot.Issues)
            {
                Reporter.Issue(issue);
            }

            // One warning for everything that could not be seen, not one per process.
            if (facts.Snapshot.BlindSpots.Count > 0)
            {
                WriteWarning("Get-FluxListener could not see everything: " + string.Join("; ", facts.Snapshot.BlindSpots) + ".");
            }

            if (facts.Snapshot.Sockets.Count == 0 && facts.Snapshot.BlindSpots.Count > 0)
            {
                ThrowTerminating("SocketTablesUnreadable", ErrorCategory.PermissionDenied, null,
                    "No socket table could be read: " + string.Join("; ", facts.Snapshot.BlindSpots));
            }

            var findings = ListenerRules.Evaluate(facts, new ListenerRuleOptions
            {
                ExpectedListeners = ExpectedListener ?? Array.Empty<string>(),
                IncludeOutbound = IncludeOutbound.IsPresent,
                MinimumRiskScore = MinimumRiskScore,
            });

            foreach (var finding in findings)
            {
                WriteObject(finding);
            }

            base.EndProcessing();
        }
    }
}
