using System.Management.Automation;
using FluxForensics.Model;

namespace FluxForensics.Commands
{
    /// <summary>Every listening socket with its owning process, scored (issue 5).</summary>
    [Cmdlet(VerbsCommon.Get, "FluxListener")]
    [OutputType(typeof(FluxListener))]
    public sealed class GetFluxListenerCommand : FluxCmdlet
    {
        /// <summary>Process names or image paths that are expected to listen (e.g. a real web or DNS server).</summary>
        [Parameter]
        public string[]? ExpectedListener { get; set; }

        /// <summary>Also report processes with heavy outbound fan-out that listen on nothing.</summary>
        [Parameter]
        public SwitchParameter IncludeOutbound { get; set; }

        [Parameter]
        [ValidateRange(0, 100)]
        public int MinimumRiskScore { get; set; }

        protected override void EndProcessing()
        {
            ThrowNotImplemented("issue 5");
        }
    }
}
