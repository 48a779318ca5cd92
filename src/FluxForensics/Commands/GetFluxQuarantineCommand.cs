using System.Management.Automation;
using FluxForensics.Model;

namespace FluxForensics.Commands
{
    /// <summary>Lists what the quarantine store holds (issue 8).</summary>
    [Cmdlet(VerbsCommon.Get, "FluxQuarantine")]
    [OutputType(typeof(FluxQuarantineItem))]
    public sealed class GetFluxQuarantineCommand : FluxCmdlet
    {
        [Parameter(Position = 0)]
        [Alias("QuarantineId")]
        public string[]? Id { get; set; }

        [Parameter]
        public string? RunId { get; set; }

        [Parameter]
        public string? QuarantinePath { get; set; }

        protected override void EndProcessing()
        {
            ThrowNotImplemented("issue 8");
        }
    }
}
