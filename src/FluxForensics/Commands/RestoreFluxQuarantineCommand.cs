using System.Management.Automation;
using FluxForensics.Model;

namespace FluxForensics.Commands
{
    /// <summary>Puts quarantined items back exactly (issue 8).</summary>
    [Cmdlet(VerbsData.Restore, "FluxQuarantine", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High, DefaultParameterSetName = IdSet)]
    [OutputType(typeof(FluxRemediation))]
    public sealed class RestoreFluxQuarantineCommand : FluxCmdlet
    {
        private const string IdSet = "Id";
        private const string RunSet = "Run";

        [Parameter(ParameterSetName = IdSet, Mandatory = true, ValueFromPipelineByPropertyName = true)]
        [Alias("QuarantineId")]
        public string[]? Id { get; set; }

        [Parameter(ParameterSetName = RunSet, Mandatory = true)]
        public string? RunId { get; set; }

        [Parameter]
        public string? QuarantinePath { get; set; }

        [Parameter]
        public SwitchParameter Force { get; set; }

        [Parameter]
        public SwitchParameter PassThru { get; set; }

        protected override void EndProcessing()
        {
            ThrowNotImplemented("issue 8");
        }
    }
}
