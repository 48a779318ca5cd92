using System.Management.Automation;
using FluxForensics.Model;

namespace FluxForensics.Commands
{
    /// <summary>Cleans up from findings, reversibly (issue 8).</summary>
    [Cmdlet(VerbsCommon.Remove, "FluxInfection", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High)]
    [OutputType(typeof(FluxRemediation))]
    public sealed class RemoveFluxInfectionCommand : FluxCmdlet
    {
        /// <summary>FluxListener, SuspiciousAutorun or UsbLnkTrap findings, live or re-imported with Import-Clixml.</summary>
        [Parameter(Mandatory = true, ValueFromPipeline = true)]
        public PSObject[]? InputObject { get; set; }

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
