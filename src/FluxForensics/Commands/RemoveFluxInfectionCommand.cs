using System;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using FluxForensics.Model;
using FluxForensics.Remediation;

namespace FluxForensics.Commands
{
    /// <summary>Cleans up from findings, reversibly: stop → remove persistence → quarantine images → clean drives → verify.</summary>
    [Cmdlet(VerbsCommon.Remove, "FluxInfection", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High, HelpUri = HelpRoot + "Remove-FluxInfection.md")]
    [OutputType(typeof(FluxRemediation))]
    public sealed class RemoveFluxInfectionCommand : FluxCmdlet
    {
        private static readonly string[] Kinds = { "FluxListener", "SuspiciousAutorun", "UsbLnkTrap" };
        private readonly List<RemediationInput> _inputs = new List<RemediationInput>();

        /// <summary>FluxListener, SuspiciousAutorun or UsbLnkTrap findings, live or re-imported with Import-Clixml.</summary>
        [Parameter(Mandatory = true, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
        [Alias("Finding")]
        public PSObject[]? InputObject { get; set; }

        [Parameter]
        public string? QuarantinePath { get; set; }

        [Parameter]
        public SwitchParameter Force { get; set; }

        [Parameter]
        public SwitchParameter PassThru { get; set; }

        protected override void ProcessRecord()
        {
            foreach (var o in InputObject ?? Array.Empty<PSObject>())
            {
                if (o is null)
                {
                    continue;
                }

                string? kind = KindOf(o);
                if (kind is null)
                {
                    WriteError(new ErrorRecord(new ArgumentException("Not a FluxListener, SuspiciousAutorun or UsbLnkTrap finding."), "UnsupportedFinding", ErrorCategory.InvalidArgument, o)
                    {
                        ErrorDetails = new ErrorDetails($"Remove-FluxInfection acts on FluxListener, SuspiciousAutorun and UsbLnkTrap findings; got {o.TypeNames.FirstOrDefault()}."),
                    });
                    continue;
                }

                var input = RemediationInput.FromProperties(kind, name => Unwrap(o.Properties[name]?.Value));
                if (!LocalComputer.IsThis(input.ComputerName))
                {
                    WriteError(new ErrorRecord(new InvalidOperationException("The finding was made on another computer."), "FindingFromAnotherComputer", ErrorCategory.InvalidOperation, o)
                    {
                        ErrorDetails = new ErrorDetails(
                            $"This {kind} was found on '{input.ComputerName}', not on this computer ({LocalComputer.Name}); it is not acted on here. " +
                            $"Run the removal on that computer inside Invoke-Command, e.g. Invoke-Command -ComputerName {input.ComputerName} {{ Import-Module FluxForensics; Get-FluxListener | Remove-FluxInfection }}."),
                    });
                    continue;
                }

                _inputs.Add(input);
            }
        }

        protected override void EndProcessing()
        {
            try
            {
                var service = RemediationCmdletSupport.Service(this, QuarantinePath, Force.IsPresent);
                var results = RemediationCmdletSupport.Run(this, () => service.Remove(_inputs, CancellationToken));
                if (PassThru)
                {
                    WriteObject(results, enumerateCollection: true);
                }
            }
            finally
            {
                base.EndProcessing();
            }
        }

        private static string? KindOf(PSObject o)
        {
            foreach (var typeName in o.TypeNames)
            {
                string name = typeName.StartsWith("Deserialized.", StringComparison.Ordinal) ? typeName.Substring("Deserialized.".Length) : typeName;
                foreach (var kind in Kinds)
                {
                    if (name == "FluxForensics.Model." + kind)
                    {
                        return kind;
                    }
                }
            }

            // ConvertFrom-Json and Import-Csv objects keep the Kind property.
            return o.Properties["Kind"]?.Value is object k && Kinds.Contains(Convert.ToString(Unwrap(k), System.Globalization.CultureInfo.InvariantCulture)) ? Convert.ToString(Unwrap(k), System.Globalization.CultureInfo.InvariantCulture) : null;
        }

        private static object? Unwrap(object? value) => value is PSObject p ? p.BaseObject : value;
    }
}
