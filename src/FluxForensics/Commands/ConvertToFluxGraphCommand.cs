using System.Management.Automation;

namespace FluxForensics.Commands
{
    /// <summary>Draws who talked to whom from capture findings, as Graphviz DOT or Mermaid (issue 4).</summary>
    [Cmdlet(VerbsData.ConvertTo, "FluxGraph")]
    [OutputType(typeof(string))]
    public sealed class ConvertToFluxGraphCommand : FluxCmdlet
    {
        [Parameter(Mandatory = true, ValueFromPipeline = true)]
        public PSObject? InputObject { get; set; }

        [Parameter]
        [ValidateSet("Dot", "Mermaid")]
        public string Format { get; set; } = "Dot";

        protected override void EndProcessing()
        {
            ThrowNotImplemented("issue 4");
        }
    }
}
