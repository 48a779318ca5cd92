using System;
using System.Collections;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Management.Automation;
using FluxForensics.Capture;

namespace FluxForensics.Commands
{
    /// <summary>Draws who talked to whom from capture findings, as Graphviz DOT, Mermaid or SVG drawn by the module itself.</summary>
    [Cmdlet(VerbsData.ConvertTo, "FluxGraph")]
    [OutputType(typeof(string))]
    public sealed class ConvertToFluxGraphCommand : FluxCmdlet
    {
        private readonly FluxGraph _graph = new FluxGraph();
        private int _used;

        [Parameter(Mandatory = true, ValueFromPipeline = true)]
        public PSObject? InputObject { get; set; }

        [Parameter]
        [ValidateSet("Dot", "Mermaid", "Svg")]
        public string Format { get; set; } = "Dot";

        /// <summary>Hosts drawn per role before the rest are folded into one "+N more" node.</summary>
        [Parameter]
        [ValidateRange(2, 1000)]
        public int MaxNodesPerRole { get; set; } = 12;

        protected override void ProcessRecord()
        {
            if (InputObject is null)
            {
                return;
            }

            // Live objects and deserialized ones (Import-Clixml, Invoke-Command) are read the same way: by property.
            string? kind = Text(InputObject, "Kind") ?? InputObject.TypeNames.Select(t => t.Split('.').Last()).FirstOrDefault();
            switch (kind)
            {
                case "RelaySession":
                    _graph.AddRelaySession(Text(InputObject, "Protocol") ?? "Tcp", Text(InputObject, "Client") ?? "?", Text(InputObject, "Relay") ?? "?",
                        Text(InputObject, "Server") ?? "?", Int(InputObject, "ServerPort"));
                    _used++;
                    break;
                case "FluxDownload":
                    _graph.AddDownload(Text(InputObject, "Client") ?? "?", Text(InputObject, "Relay"), Text(InputObject, "Server") ?? "?", Text(InputObject, "FileName"));
                    _used++;
                    break;
                case "ExposedCredential":
                    _graph.AddCredential(Text(InputObject, "Protocol") ?? "Tcp", Text(InputObject, "Server") ?? "?", Text(InputObject, "Account"), Bool(InputObject, "Accepted"));
                    _used++;
                    break;
                case "FluxDomain":
                    if (Bool(InputObject, "IsFastFlux") != false)
                    {
                        _graph.AddFluxDomain(Text(InputObject, "Domain") ?? "?", Texts(InputObject, "Addresses"));
                        _used++;
                    }

                    break;
                case "DnsProxy":
                    // A resolver answering its own few clients is ordinary; only a DNS proxy worth a Medium score is drawn as a relay.
                    if (Int(InputObject, "RiskScore") >= Model.Scoring.MinimumScoreOf(Model.Severity.Medium))
                    {
                        _graph.AddDnsProxy(Text(InputObject, "Address") ?? "?", Int(InputObject, "ClientCount"));
                        _used++;
                    }

                    break;
                default:
                    WriteVerbose($"Not drawn: {kind ?? InputObject.BaseObject?.GetType().Name ?? "null"}");
                    break;
            }
        }

        protected override void EndProcessing()
        {
            if (_used == 0)
            {
                WriteWarning("No RelaySession, FluxDownload, ExposedCredential, FluxDomain or DnsProxy finding was piped in; the graph is empty.");
            }

            _graph.MaxNodesPerRole = MaxNodesPerRole;
            WriteObject(
                string.Equals(Format, "Mermaid", StringComparison.OrdinalIgnoreCase) ? _graph.ToMermaid()
                : string.Equals(Format, "Svg", StringComparison.OrdinalIgnoreCase) ? _graph.ToSvg()
                : _graph.ToDot());
            base.EndProcessing();
        }

        private static object? Value(PSObject o, string name)
        {
            var value = o.Properties[name]?.Value;
            return value is PSObject p ? p.BaseObject : value;
        }

        private static string? Text(PSObject o, string name)
        {
            var value = Value(o, name);
            string? text = value is null ? null : Convert.ToString(value, CultureInfo.InvariantCulture);
            return string.IsNullOrEmpty(text) ? null : text;
        }

        private static int Int(PSObject o, string name) =>
            Value(o, name) is { } v && int.TryParse(Convert.ToString(v, CultureInfo.InvariantCulture), NumberStyles.Integer, CultureInfo.InvariantCulture, out int i) ? i : 0;

        private static bool? Bool(PSObject o, string name) =>
            Value(o, name) is { } v && bool.TryParse(Convert.ToString(v, CultureInfo.InvariantCulture), out bool b) ? b : null;

        private static IEnumerable<string> Texts(PSObject o, string name)
        {
            var value = Value(o, name);
            if (value is string s)
            {
                return new[] { s };
            }

            if (value is IEnumerable e)
            {
                return e.Cast<object?>().Select(x => x is PSObject p ? p.BaseObject : x).Where(x => x is not null)
                    .Select(x => Convert.ToString(x, CultureInfo.InvariantCulture)!).ToList();
            }

            return Array.Empty<string>();
        }
    }
}
