using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using FluxForensics.Model;
using FluxForensics.Remediation;

namespace FluxForensics.Commands
{
    /// <summary>Puts quarantined items back exactly: files with their bytes, mode, owner, attributes and timestamps, lines, links, registry values.</summary>
    [Cmdlet(VerbsData.Restore, "FluxQuarantine", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High, DefaultParameterSetName = IdSet, HelpUri = HelpRoot + "Restore-FluxQuarantine.md")]
    [OutputType(typeof(FluxRemediation))]
    public sealed class RestoreFluxQuarantineCommand : FluxCmdlet
    {
        private const string IdSet = "Id";
        private const string RunSet = "Run";
        private readonly List<string> _ids = new List<string>();

        /// <summary>
        /// Null and empty are allowed so the whole -PassThru stream of Remove-FluxInfection binds: its Verify and
        /// process records carry no QuarantineId and are passed over (with a verbose line), not a binding error.
        /// </summary>
        [Parameter(ParameterSetName = IdSet, Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
        [Alias("QuarantineId")]
        [AllowNull]
        [AllowEmptyString]
        [AllowEmptyCollection]
        [ArgumentCompleter(typeof(QuarantineCompleter))]
        public string[]? Id { get; set; }

        [Parameter(ParameterSetName = RunSet, Mandatory = true)]
        [ArgumentCompleter(typeof(QuarantineCompleter))]
        public string? RunId { get; set; }

        [Parameter]
        public string? QuarantinePath { get; set; }

        [Parameter]
        public SwitchParameter Force { get; set; }

        [Parameter]
        public SwitchParameter PassThru { get; set; }

        protected override void ProcessRecord()
        {
            var ids = (Id ?? System.Array.Empty<string>()).Where(i => !string.IsNullOrEmpty(i)).ToList();
            if (ids.Count == 0)
            {
                WriteVerbose("A record without a QuarantineId was passed over: nothing of it is in the quarantine (a Verify or stopped-process record of Remove-FluxInfection -PassThru).");
                return;
            }

            _ids.AddRange(ids);
        }

        protected override void EndProcessing()
        {
            try
            {
                var service = RemediationCmdletSupport.Service(this, QuarantinePath, Force.IsPresent);
                var results = RemediationCmdletSupport.Run(this, () => ParameterSetName == RunSet
                    ? service.RestoreRun(RunId!, CancellationToken)
                    : service.Restore(_ids, CancellationToken));
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
    }
}
