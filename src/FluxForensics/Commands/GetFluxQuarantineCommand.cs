using System;
using System.Linq;
using System.Management.Automation;
using FluxForensics.Model;
using FluxForensics.Remediation;

namespace FluxForensics.Commands
{
    /// <summary>Lists what the quarantine store holds (read only: interrupted runs show their items as InDoubt).</summary>
    [Cmdlet(VerbsCommon.Get, "FluxQuarantine", HelpUri = HelpRoot + "Get-FluxQuarantine.md")]
    [OutputType(typeof(FluxQuarantineItem))]
    public sealed class GetFluxQuarantineCommand : FluxCmdlet
    {
        [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
        [Alias("QuarantineId")]
        [SupportsWildcards]
        [ArgumentCompleter(typeof(QuarantineCompleter))]
        public string[]? Id { get; set; }

        [Parameter]
        [ArgumentCompleter(typeof(QuarantineCompleter))]
        public string? RunId { get; set; }

        [Parameter]
        public string? QuarantinePath { get; set; }

        /// <summary>Also list stopped processes and items that were never carried out (NotDone, Failed).</summary>
        [Parameter]
        public SwitchParameter All { get; set; }

        protected override void ProcessRecord()
        {
            using var store = RemediationCmdletSupport.OpenStore(this, QuarantinePath, create: false);
            if (store is null)
            {
                WriteVerbose($"There is no quarantine store at {QuarantinePath ?? QuarantineStore.DefaultPath}.");
                return;
            }

            var patterns = Id?.Select(i => new WildcardPattern(i, WildcardOptions.IgnoreCase)).ToList();
            foreach (var run in store.Runs())
            {
                if (RunId is not null && !string.Equals(run.RunId, RunId, StringComparison.OrdinalIgnoreCase))
                {
                    continue;
                }

                foreach (var issue in run.Issues)
                {
                    Reporter.Issue(issue);
                }

                foreach (var item in run.Items)
                {
                    if (!All && (item.Kind == ItemKinds.Process || item.State is ItemStates.NotDone or ItemStates.Failed))
                    {
                        continue;
                    }

                    if (patterns is not null && !patterns.Any(p => p.IsMatch(item.Id)))
                    {
                        continue;
                    }

                    WriteObject(RemediationEngine.Describe(item));
                }
            }
        }
    }
}
