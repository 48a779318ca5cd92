using System.Management.Automation;
using FluxForensics.Model;

namespace FluxForensics.Commands
{
    /// <summary>Persistence entries on this machine or an offline root, scored (issue 6).</summary>
    [Cmdlet(VerbsCommon.Get, "SuspiciousAutorun")]
    [OutputType(typeof(SuspiciousAutorun))]
    public sealed class GetSuspiciousAutorunCommand : FluxCmdlet
    {
        /// <summary>A mounted Windows volume or a Linux root to analyse offline.</summary>
        [Parameter(Position = 0)]
        public string? Root { get; set; }

        /// <summary>Every entry, not only those at or above Low.</summary>
        [Parameter]
        public SwitchParameter All { get; set; }

        [Parameter]
        [ValidateRange(0, 100)]
        public int MinimumRiskScore { get; set; }

        /// <summary>Listener or USB findings whose SHA-256 raises the score of an autorun running the same file.</summary>
        [Parameter]
        public PSObject[]? CorrelateWith { get; set; }

        /// <summary>Findings piped in for correlation.</summary>
        [Parameter(ValueFromPipeline = true)]
        public PSObject? InputObject { get; set; }

        protected override void EndProcessing()
        {
            ThrowNotImplemented("issue 6");
        }
    }
}
