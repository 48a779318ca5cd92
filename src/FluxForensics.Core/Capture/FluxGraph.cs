using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text;

namespace FluxForensics.Capture
{
    /// <summary>The part a host plays in the picture; one node style per role.</summary>
    public enum FluxGraphRole
    {
        Bot,
        Relay,
        FluxDomain,
        MailServer,
        FtpServer,
        MalwareHost,
        WebServer,
        Client,
    }

    /// <summary>
    /// The network picture of the incident (who talked to whom, with counts) built from findings, written as
    /// Graphviz DOT, Mermaid or SVG (drawn by <see cref="FluxForensics.Export.SvgGraphRenderer"/>, no Graphviz needed). Roles with more hosts than <see cref="MaxNodesPerRole"/> keep their busiest hosts and
    /// fold the rest into one "+N more" node, so 900 mail servers stay readable. Knows nothing of PowerShell: the
    /// cmdlet reads live or deserialized findings and calls the Add methods.
    /// </summary>
    public sealed class FluxGraph
    {
        private readonly Dictionary<string, Node> _nodes = new Dictionary<string, Node>(StringComparer.OrdinalIgnoreCase);
        private readonly Dictionary<(string From, string To, string Label), int> _edges = new Dictionary<(string, string, string), int>();

        public int MaxNodesPerRole { get; set; } = 12;

        public int NodeCount => _nodes.Count;

        public int EdgeCount => _edges.Count;

        private sealed class Node
        {
            public Node(string name, FluxGraphRole role)
            {
                Name = name;
                Role = role;
            }

            public string Name { get; }
            public FluxGraphRole Role { get; set; }
            public int Weight { get; set; }
            public SortedSet<string> Notes { get; } = new SortedSet<string>(StringComparer.Ordinal);
            public int Logins { get; set; }
            public int AcceptedLogins { get; set; }
            public HashSet<string> Accounts { get; } = new HashSet<string>(StringComparer.Ordinal);

            /// <summary>Notes plus one line for cleartext logins: how many, how many accepted, how many accounts.</summary>
            public IEnumerable<string> Lines =>
                Logins == 0 ? Notes : Notes.Concat(new[] { $"{Logins} cleartext login{(Logins == 1 ? string.Empty : "s")} ({AcceptedLogins} accepted, {Accounts.Count} account{(Accounts.Count == 1 ? string.Empty : "s")})" });
        }

        /// <summary>A relayed conversation: client → relay → server.</summary>
        public void AddRelaySession(string protocol, string client, string relay, string server, int serverPort)
        {
            var serverRole = protocol.Equals("Smtp", StringComparison.OrdinalIgnoreCase) ? FluxGraphRole.MailServer
                : protocol.Equals("Ftp", StringComparison.OrdinalIgnoreCase) ? FluxGraphRole.FtpServer
                : FluxGraphRole.WebServer;
            string label = protocol.ToUpperInvariant();
            Edge(NodeFor(client, FluxGraphRole.Bot), NodeFor(relay, FluxGraphRole.Relay), label);
            Edge(NodeFor(relay, FluxGraphRole.Relay), NodeFor(server, serverRole), label);
        }

        /// <summary>An executable transfer: from the malware host to the client, through the relay when there was one.</summary>
        public void AddDownload(string client, string? relay, string server, string? fileName)
        {
            // Fetched through the relay: a malware host. Fetched directly (the host's own update): just a web server.
            var host = NodeFor(server, string.IsNullOrEmpty(relay) ? FluxGraphRole.WebServer : FluxGraphRole.MalwareHost);
            if (!string.IsNullOrEmpty(fileName))
            {
                Note(host, fileName!);
            }

            if (string.IsNullOrEmpty(relay))
            {
                Edge(host, NodeFor(client, FluxGraphRole.Client), "EXE");
            }
            else
            {
                Edge(host, NodeFor(relay!, FluxGraphRole.Relay), "EXE");
                Edge(NodeFor(relay!, FluxGraphRole.Relay), NodeFor(client, FluxGraphRole.Bot), "EXE");
            }
        }

        /// <summary>A cleartext login: noted on the server it was sent to.</summary>
        public void AddCredential(string protocol, string server, string? account, bool? accepted)
        {
            var role = protocol.Equals("Smtp", StringComparison.OrdinalIgnoreCase) ? FluxGraphRole.MailServer
                : protocol.Equals("Ftp", StringComparison.OrdinalIgnoreCase) ? FluxGraphRole.FtpServer
                : FluxGraphRole.WebServer;
            var node = NodeFor(server, role);
            node.Weight++;
            node.Logins++;
            if (accepted == true)
            {
                node.AcceptedLogins++;
            }

            if (account is not null && node.Accounts.Count < 1000)
            {
                node.Accounts.Add(account);
            }
        }

        /// <summary>A fast-flux domain and the addresses it resolved to (the flux agents, often the bots).</summary>
        public void AddFluxDomain(string domain, IEnumerable<string> addresses)
        {
            var node = NodeFor(domain, FluxGraphRole.FluxDomain);
            foreach (var address in addresses)
            {
                Edge(node, NodeFor(address, FluxGraphRole.Bot), "A");
            }
        }

        /// <summary>A host answering DNS for others: the relay in the incident.</summary>
        public void AddDnsProxy(string address, int clientCount)
        {
            var node = NodeFor(address, FluxGraphRole.Relay);
            node.Role = FluxGraphRole.Relay;
            Note(node, $"DNS proxy for {clientCount} clients");
        }

        public string ToDot()
        {
            var (nodes, edges) = Fold();
            var sb = new StringBuilder();
            sb.AppendLine("digraph FluxRelay {");
            sb.AppendLine("  rankdir=LR;");
            sb.AppendLine("  node [fontname=\"Helvetica\", fontsize=10];");
            sb.AppendLine("  edge [fontname=\"Helvetica\", fontsize=9];");
            foreach (var group in nodes.GroupBy(n => n.Role).OrderBy(g => g.Key))
            {
                sb.Append("  subgraph cluster_").Append(group.Key).AppendLine(" {");
                sb.Append("    label=\"").Append(RoleTitle(group.Key)).AppendLine("\"; style=dashed;");
                foreach (var n in group)
                {
                    sb.Append("    ").Append(n.Id).Append(" [label=\"").Append(DotEscape(n.Label)).Append("\", ").Append(DotStyle(n.Role)).AppendLine("];");
                }

                sb.AppendLine("  }");
            }

            foreach (var e in edges)
            {
                sb.Append("  ").Append(e.From).Append(" -> ").Append(e.To).Append(" [label=\"").Append(DotEscape(e.Label)).AppendLine("\"];");
            }

            sb.AppendLine("}");
            return sb.ToString();
        }

        public string ToMermaid()
        {
            var (nodes, edges) = Fold();
            var sb = new StringBuilder();
            sb.AppendLine("flowchart LR");
            foreach (var group in nodes.GroupBy(n => n.Role).OrderBy(g => g.Key))
            {
                sb.Append("  subgraph ").Append(group.Key).Append("[\"").Append(RoleTitle(group.Key)).AppendLine("\"]");
                foreach (var n in group)
                {
                    sb.Append("    ").Append(n.Id).Append(MermaidShape(n.Role, MermaidEscape(n.Label))).AppendLine();
                }

                sb.AppendLine("  end");
            }

            foreach (var e in edges)
            {
                sb.Append("  ").Append(e.From).Append(" -->|\"").Append(MermaidEscape(e.Label)).Append("\"| ").Append(e.To).AppendLine();
            }

            sb.AppendLine("  classDef relay fill:#f88,stroke:#900,stroke-width:2px;");
            sb.AppendLine("  classDef malware fill:#fc9,stroke:#c60;");
            foreach (var n in nodes.Where(n => n.Role == FluxGraphRole.Relay))
            {
                sb.Append("  class ").Append(n.Id).AppendLine(" relay;");
            }

            foreach (var n in nodes.Where(n => n.Role == FluxGraphRole.MalwareHost))
            {
                sb.Append("  class ").Append(n.Id).AppendLine(" malware;");
            }

            return sb.ToString();
        }

        /// <summary>SVG drawn by the module itself, layered by role (flux names, bots, relay, servers and malware hosts).</summary>
        public string ToSvg(string? title = null) => ToSvg(title, null);

        /// <summary>SVG whose label texts first pass <paramref name="filter"/> (the report masks secrets with it).</summary>
        internal string ToSvg(string? title, Func<string, string>? filter)
        {
            var (nodes, edges) = Fold();
            return FluxForensics.Export.SvgGraphRenderer.Render(nodes, edges, title, filter);
        }

        /// <summary>
        /// Adds a typed finding the picture draws (RelaySession, FluxDownload, ExposedCredential, fast-flux FluxDomain,
        /// a DnsProxy scored Medium or above); answers false for anything else.
        /// </summary>
        public bool Add(Model.FluxFinding finding)
        {
            switch (finding)
            {
                case Model.RelaySession s:
                    AddRelaySession(Or(s.Protocol, "Tcp"), Or(s.Client, "?"), Or(s.Relay, "?"), Or(s.Server, "?"), s.ServerPort);
                    return true;
                case Model.FluxDownload d:
                    AddDownload(Or(d.Client, "?"), string.IsNullOrEmpty(d.Relay) ? null : d.Relay, Or(d.Server, "?"), string.IsNullOrEmpty(d.FileName) ? null : d.FileName);
                    return true;
                case Model.ExposedCredential c:
                    AddCredential(Or(c.Protocol, "Tcp"), Or(c.Server, "?"), string.IsNullOrEmpty(c.Account) ? null : c.Account, c.Accepted);
                    return true;
                case Model.FluxDomain f when f.IsFastFlux:
                    AddFluxDomain(Or(f.Domain, "?"), f.Addresses);
                    return true;
                case Model.DnsProxy p when p.RiskScore >= Model.Scoring.MinimumScoreOf(Model.Severity.Medium):
                    // A resolver answering its own few clients is ordinary; only a DNS proxy worth a Medium score is a relay.
                    AddDnsProxy(Or(p.Address, "?"), p.ClientCount);
                    return true;
                default:
                    return false;
            }
        }

        private static string Or(string? value, string fallback) => string.IsNullOrEmpty(value) ? fallback : value!;

        private Node NodeFor(string name, FluxGraphRole role)
        {
            if (!_nodes.TryGetValue(name, out var node))
            {
                node = new Node(name, role);
                _nodes.Add(name, node);
            }
            else if (Rank(role) > Rank(node.Role))
            {
                node.Role = role;
            }

            return node;
        }

        /// <summary>When a host plays several parts, the most telling one names it (a bot that also mails is a bot).</summary>
        private static int Rank(FluxGraphRole role) => role switch
        {
            FluxGraphRole.Relay => 9,
            FluxGraphRole.MalwareHost => 8,
            FluxGraphRole.FluxDomain => 7,
            FluxGraphRole.Bot => 6,
            FluxGraphRole.MailServer => 5,
            FluxGraphRole.FtpServer => 4,
            FluxGraphRole.WebServer => 3,
            _ => 1,
        };

        private static void Note(Node node, string note)
        {
            if (node.Notes.Count < 4)
            {
                node.Notes.Add(note);
            }
        }

        private void Edge(Node from, Node to, string label)
        {
            var key = (from.Name, to.Name, label);
            _edges.TryGetValue(key, out int count);
            _edges[key] = count + 1;
            from.Weight++;
            to.Weight++;
        }

        internal readonly struct OutNode
        {
            public OutNode(string id, string label, FluxGraphRole role)
            {
                Id = id;
                Label = label;
                Role = role;
            }

            public string Id { get; }
            public string Label { get; }
            public FluxGraphRole Role { get; }
        }

        internal readonly struct OutEdge
        {
            public OutEdge(string from, string to, string label)
            {
                From = from;
                To = to;
                Label = label;
            }

            public string From { get; }
            public string To { get; }
            public string Label { get; }
        }

        internal (List<OutNode> Nodes, List<OutEdge> Edges) Fold()
        {
            // Which node each host is drawn as: itself, or its role's "+N more" node.
            var drawnAs = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
            var nodes = new List<OutNode>();
            int next = 0;
            foreach (var group in _nodes.Values.GroupBy(n => n.Role).OrderBy(g => g.Key))
            {
                var ordered = group.OrderByDescending(n => n.Weight).ThenBy(n => n.Name, StringComparer.Ordinal).ToList();
                int keep = ordered.Count > MaxNodesPerRole ? Math.Max(1, MaxNodesPerRole - 1) : ordered.Count;
                for (int i = 0; i < ordered.Count; i++)
                {
                    var n = ordered[i];
                    if (i < keep)
                    {
                        string id = "n" + (++next).ToString(CultureInfo.InvariantCulture);
                        drawnAs[n.Name] = id;
                        var lines = n.Lines.ToList();
                        nodes.Add(new OutNode(id, lines.Count == 0 ? n.Name : n.Name + "\n" + string.Join("\n", lines), n.Role));
                    }
                }

                if (ordered.Count > keep)
                {
                    string id = "n" + (++next).ToString(CultureInfo.InvariantCulture);
                    int rest = ordered.Count - keep;
                    nodes.Add(new OutNode(id, $"+{rest} more {RoleTitle(group.Key).ToLowerInvariant()}", group.Key));
                    for (int i = keep; i < ordered.Count; i++)
                    {
                        drawnAs[ordered[i].Name] = id;
                    }
                }
            }

            var folded = new Dictionary<(string, string, string), int>();
            foreach (var pair in _edges)
            {
                var key = (drawnAs[pair.Key.From], drawnAs[pair.Key.To], pair.Key.Label);
                folded.TryGetValue(key, out int count);
                folded[key] = count + pair.Value;
            }

            var edges = folded
                .OrderBy(p => p.Key.Item1, StringComparer.Ordinal).ThenBy(p => p.Key.Item2, StringComparer.Ordinal).ThenBy(p => p.Key.Item3, StringComparer.Ordinal)
                .Select(p => new OutEdge(p.Key.Item1, p.Key.Item2, $"{p.Value} {p.Key.Item3}"))
                .ToList();
            return (nodes, edges);
        }

        internal static string RoleTitle(FluxGraphRole role) => role switch
        {
            FluxGraphRole.Bot => "Bots",
            FluxGraphRole.Relay => "Relay",
            FluxGraphRole.FluxDomain => "Flux domains",
            FluxGraphRole.MailServer => "Mail servers",
            FluxGraphRole.FtpServer => "FTP servers",
            FluxGraphRole.MalwareHost => "Malware hosts",
            FluxGraphRole.WebServer => "Web servers",
            _ => "Clients",
        };

        private static string DotStyle(FluxGraphRole role) => role switch
        {
            FluxGraphRole.Relay => "shape=doubleoctagon, style=filled, fillcolor=\"#ff8888\"",
            FluxGraphRole.Bot => "shape=ellipse",
            FluxGraphRole.FluxDomain => "shape=note, style=filled, fillcolor=\"#ffffcc\"",
            FluxGraphRole.MailServer => "shape=box",
            FluxGraphRole.FtpServer => "shape=box, style=rounded",
            FluxGraphRole.MalwareHost => "shape=box3d, style=filled, fillcolor=\"#ffcc99\"",
            FluxGraphRole.WebServer => "shape=box, style=dotted",
            _ => "shape=ellipse, style=dotted",
        };

        private static string MermaidShape(FluxGraphRole role, string label) => role switch
        {
            FluxGraphRole.Relay => "{{\"" + label + "\"}}",
            FluxGraphRole.Bot or FluxGraphRole.Client => "([\"" + label + "\"])",
            FluxGraphRole.FluxDomain => ">\"" + label + "\"]",
            FluxGraphRole.MalwareHost => "[[\"" + label + "\"]]",
            _ => "[\"" + label + "\"]",
        };

        private static string DotEscape(string text) => text.Replace("\\", "\\\\").Replace("\"", "\\\"").Replace("\n", "\\n");

        private static string MermaidEscape(string text) =>
            text.Replace("\"", "#quot;").Replace("\n", "<br/>").Replace("|", "#124;").Replace("<br/>", "<br/>");
    }
}
