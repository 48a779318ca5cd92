using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text;
using FluxForensics.Capture;

namespace FluxForensics.Export
{
    /// <summary>
    /// Draws the folded <see cref="FluxGraph"/> as SVG with a fixed layered layout, the way the case report's diagram
    /// reads: flux names on the left, beside the bots they resolve to, then the relay, then the mail and FTP servers and
    /// the malware hosts. The layout is computed here (no Graphviz), so it works the same on Windows. Labels are cut to
    /// a fixed width (monospace text, so the width is known without measuring fonts) and keep their full text in a
    /// title tooltip. The output is well-formed XML: a standalone .svg file and an inline figure in the HTML report.
    /// </summary>
    public static class SvgGraphRenderer
    {
        private const int Margin = 16;
        private const int NodeWidth = 224;
        private const int MaxChars = 32;
        private const int LineHeight = 14;
        private const int NodePadding = 6;
        private const int NodeGap = 8;
        private const int GroupHeader = 20;
        private const int GroupPadding = 8;
        private const int GroupGap = 18;
        private const int ColumnGap = 150;
        private const int TitleHeight = 26;
        private const int CrowdedEdges = 40;

        private sealed class Box
        {
            public Box(FluxGraph.OutNode node, string[] lines)
            {
                Node = node;
                Lines = lines;
                Height = NodePadding * 2 + LineHeight * lines.Length;
            }

            public FluxGraph.OutNode Node { get; }
            public string[] Lines { get; }
            public int Column { get; set; }
            public double X { get; set; }
            public double Y { get; set; }
            public double Height { get; }
            public double CenterY => Y + Height / 2;
        }

        private sealed class Group
        {
            public Group(FluxGraphRole role, List<Box> boxes)
            {
                Role = role;
                Boxes = boxes;
            }

            public FluxGraphRole Role { get; }
            public List<Box> Boxes { get; }
            public double X { get; set; }
            public double Y { get; set; }
            public double Height => GroupHeader + GroupPadding + Boxes.Sum(b => b.Height) + NodeGap * Math.Max(0, Boxes.Count - 1) + GroupPadding;
        }

        internal static string Render(List<FluxGraph.OutNode> nodes, List<FluxGraph.OutEdge> edges, string? title, Func<string, string>? filter = null)
        {
            if (filter is not null)
            {
                nodes = nodes.Select(n => new FluxGraph.OutNode(n.Id, filter(n.Label), n.Role)).ToList();
            }

            // Layers left to right; a layer with no host is skipped so the picture stays compact.
            var groups = nodes.GroupBy(n => n.Role)
                .Select(g => new Group(g.Key, g.Select(n => new Box(n, n.Label.Split('\n'))).ToList()))
                .OrderBy(g => Layer(g.Role)).ThenBy(g => Order(g.Role))
                .ToList();
            var layers = groups.Select(g => Layer(g.Role)).Distinct().OrderBy(l => l).ToList();

            double top = Margin + (string.IsNullOrEmpty(title) ? 0 : TitleHeight);
            var columnHeights = new double[layers.Count];
            foreach (var g in groups)
            {
                int column = layers.IndexOf(Layer(g.Role));
                columnHeights[column] += (columnHeights[column] > 0 ? GroupGap : 0) + g.Height;
            }

            double tallest = columnHeights.Length == 0 ? 40 : columnHeights.Max();
            var filled = new double[layers.Count];
            var byId = new Dictionary<string, Box>(StringComparer.Ordinal);
            foreach (var g in groups)
            {
                int column = layers.IndexOf(Layer(g.Role));
                g.X = Margin + column * (NodeWidth + 2 * GroupPadding + ColumnGap);

                // Each column is centred against the tallest one, as the relay sits between its bots and its servers.
                double columnTop = top + (tallest - columnHeights[column]) / 2;
                g.Y = columnTop + filled[column] + (filled[column] > 0 ? GroupGap : 0);
                filled[column] = g.Y + g.Height - columnTop;
                double y = g.Y + GroupHeader + GroupPadding;
                foreach (var b in g.Boxes)
                {
                    b.Column = column;
                    b.X = g.X + GroupPadding;
                    b.Y = y;
                    y += b.Height + NodeGap;
                    byId[b.Node.Id] = b;
                }
            }

            double width = Margin * 2 + Math.Max(1, layers.Count) * (NodeWidth + 2 * GroupPadding) + Math.Max(0, layers.Count - 1) * ColumnGap;
            double height = top + tallest + Margin;
            if (layers.Count > 0 && edges.Any(e => byId.TryGetValue(e.From, out var f) && byId.TryGetValue(e.To, out var t) && f.Column == t.Column && f.Column == layers.Count - 1))
            {
                width += 70; // room for loops drawn to the right of the last column
            }

            var sb = new StringBuilder(4096 + nodes.Count * 600 + edges.Count * 400);
            sb.Append("<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"flux-graph\" role=\"img\" width=\"").Append(N(width))
              .Append("\" height=\"").Append(N(height)).Append("\" viewBox=\"0 0 ").Append(N(width)).Append(' ').Append(N(height))
              .Append("\" font-family=\"DejaVu Sans Mono, Consolas, Menlo, monospace\" font-size=\"11\">\n");
            sb.Append("<title>");
            ReportMarkup.Append(sb, string.IsNullOrEmpty(title) ? "Network picture of the incident" : title);
            sb.Append("</title>\n<defs>\n");
            foreach (var kind in EdgeKinds)
            {
                sb.Append("<marker id=\"fg-arrow-").Append(kind.Name).Append("\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" markerWidth=\"8\" markerHeight=\"8\" markerUnits=\"userSpaceOnUse\" orient=\"auto\">")
                  .Append("<path d=\"M0,0 L10,5 L0,10 z\" fill=\"").Append(kind.Color).Append("\"/></marker>\n");
            }

            sb.Append("</defs>\n<rect x=\"0\" y=\"0\" width=\"").Append(N(width)).Append("\" height=\"").Append(N(height)).Append("\" fill=\"#ffffff\"/>\n");
            if (!string.IsNullOrEmpty(title))
            {
                sb.Append("<text x=\"").Append(Margin).Append("\" y=\"").Append(Margin + 14).Append("\" font-size=\"14\" font-weight=\"bold\" fill=\"#222222\">");
                ReportMarkup.Append(sb, title).Append("</text>\n");
            }

            if (nodes.Count == 0)
            {
                sb.Append("<text x=\"").Append(Margin).Append("\" y=\"").Append(N(top + 20)).Append("\" fill=\"#666666\">No relay, download, credential, flux name or DNS proxy to draw.</text>\n");
            }

            foreach (var g in groups)
            {
                sb.Append("<g class=\"fg-group fg-").Append(g.Role).Append("\">\n");
                sb.Append("<rect x=\"").Append(N(g.X)).Append("\" y=\"").Append(N(g.Y)).Append("\" width=\"").Append(NodeWidth + 2 * GroupPadding)
                  .Append("\" height=\"").Append(N(g.Height)).Append("\" rx=\"6\" fill=\"#fafafa\" stroke=\"#999999\" stroke-dasharray=\"4 3\"/>\n");
                sb.Append("<text x=\"").Append(N(g.X + GroupPadding)).Append("\" y=\"").Append(N(g.Y + 14)).Append("\" font-weight=\"bold\" fill=\"#444444\">");
                ReportMarkup.Append(sb, FluxGraph.RoleTitle(g.Role)).Append("</text>\n</g>\n");
            }

            // Edges under the nodes, so a line never hides a label.
            // Where fans out or in, labels sit at the spread-out end, away from the crowded one.
            var degree = new Dictionary<string, int>(StringComparer.Ordinal);
            foreach (var e in edges)
            {
                degree.TryGetValue(e.From, out int f);
                degree[e.From] = f + 1;
                degree.TryGetValue(e.To, out int t);
                degree[e.To] = t + 1;
            }

            sb.Append("<g class=\"fg-edges\" fill=\"none\">\n");
            foreach (var e in edges)
            {
                if (!byId.TryGetValue(e.From, out var from) || !byId.TryGetValue(e.To, out var to))
                {
                    continue;
                }

                var kind = KindOf(e.Label);
                double count = LeadingNumber(e.Label);
                double stroke = 1 + Math.Min(4, Math.Log10(Math.Max(1, count)) * 1.5);
                double x0, y0, x3, y3, c1, c2;
                if (from.Column < to.Column)
                {
                    x0 = from.X + NodeWidth; y0 = from.CenterY - 3; x3 = to.X; y3 = to.CenterY - 3;
                    c1 = c2 = (x0 + x3) / 2;
                }
                else if (from.Column > to.Column)
                {
                    // Backwards edges (an EXE handed back to a bot) run a little lower than the forward ones.
                    x0 = from.X; y0 = from.CenterY + 3; x3 = to.X + NodeWidth; y3 = to.CenterY + 3;
                    c1 = c2 = (x0 + x3) / 2;
                }
                else
                {
                    x0 = from.X + NodeWidth; y0 = from.CenterY; x3 = to.X + NodeWidth; y3 = to.CenterY;
                    c1 = c2 = x0 + 60;
                }

                sb.Append("<path class=\"fg-edge\" d=\"M").Append(N(x0)).Append(',').Append(N(y0))
                  .Append(" C").Append(N(c1)).Append(',').Append(N(y0)).Append(' ').Append(N(c2)).Append(',').Append(N(y3)).Append(' ').Append(N(x3)).Append(',').Append(N(y3))
                  .Append("\" stroke=\"").Append(kind.Color).Append("\" stroke-width=\"").Append(N(stroke)).Append("\" stroke-opacity=\"0.75\" marker-end=\"url(#fg-arrow-").Append(kind.Name).Append(")\">");
                sb.Append("<title>");
                ReportMarkup.Append(sb, FirstLine(from.Node.Label) + " \u2192 " + FirstLine(to.Node.Label) + ": " + e.Label).Append("</title></path>\n");

                // A crowded picture keeps its lines but drops the "1 …" labels; the line's tooltip still says it.
                if (edges.Count > CrowdedEdges && count <= 1)
                {
                    continue;
                }

                int fromDegree = degree[e.From], toDegree = degree[e.To];
                double at = fromDegree > toDegree ? 0.72 : fromDegree < toDegree ? 0.28 : 0.5;
                double lx = Bezier(at, x0, c1, c2, x3), ly = Bezier(at, y0, y0, y3, y3);
                sb.Append("<text class=\"fg-edge-label\" x=\"").Append(N(lx)).Append("\" y=\"").Append(N(ly + 3)).Append("\" text-anchor=\"middle\" font-size=\"10\" fill=\"")
                  .Append(kind.Color).Append("\" stroke=\"#ffffff\" stroke-width=\"3\" paint-order=\"stroke\">");
                ReportMarkup.Append(sb, e.Label).Append("</text>\n");
            }

            sb.Append("</g>\n<g class=\"fg-nodes\">\n");
            foreach (var g in groups)
            {
                var style = RoleStyle(g.Role);
                foreach (var b in g.Boxes)
                {
                    sb.Append("<g class=\"fg-node fg-").Append(g.Role).Append("\"><title>");
                    ReportMarkup.Append(sb, b.Node.Label).Append("</title>");
                    sb.Append("<rect x=\"").Append(N(b.X)).Append("\" y=\"").Append(N(b.Y)).Append("\" width=\"").Append(NodeWidth).Append("\" height=\"").Append(N(b.Height))
                      .Append("\" rx=\"").Append(style.Radius).Append("\" fill=\"").Append(style.Fill).Append("\" stroke=\"").Append(style.Stroke)
                      .Append("\" stroke-width=\"").Append(style.StrokeWidth).Append("\"/>");
                    sb.Append("<text x=\"").Append(N(b.X + 8)).Append("\" y=\"").Append(N(b.Y + NodePadding + 11)).Append("\" fill=\"#111111\">");
                    for (int i = 0; i < b.Lines.Length; i++)
                    {
                        sb.Append("<tspan x=\"").Append(N(b.X + 8)).Append('"');
                        if (i > 0)
                        {
                            sb.Append(" dy=\"").Append(LineHeight).Append("\" fill=\"#555555\" font-size=\"10\"");
                        }
                        else
                        {
                            sb.Append(" font-weight=\"bold\"");
                        }

                        sb.Append('>');
                        ReportMarkup.Append(sb, ReportMarkup.Shorten(b.Lines[i], MaxChars)).Append("</tspan>");
                    }

                    sb.Append("</text></g>\n");
                }
            }

            sb.Append("</g>\n</svg>\n");
            return sb.ToString();
        }

        /// <summary>Left to right: flux names beside the bots they resolve to, then the relay, then where the relay went.</summary>
        private static int Layer(FluxGraphRole role) => role switch
        {
            FluxGraphRole.FluxDomain => 0,
            FluxGraphRole.Bot or FluxGraphRole.Client => 1,
            FluxGraphRole.Relay => 2,
            _ => 3,
        };

        private static int Order(FluxGraphRole role) => role switch
        {
            FluxGraphRole.MalwareHost => 0,
            FluxGraphRole.MailServer => 1,
            FluxGraphRole.FtpServer => 2,
            FluxGraphRole.WebServer => 3,
            FluxGraphRole.Bot => 0,
            _ => 1,
        };

        private readonly struct NodeStyle
        {
            public NodeStyle(string fill, string stroke, double strokeWidth, int radius)
            {
                Fill = fill;
                Stroke = stroke;
                StrokeWidth = strokeWidth;
                Radius = radius;
            }

            public string Fill { get; }
            public string Stroke { get; }
            public double StrokeWidth { get; }
            public int Radius { get; }
        }

        private static NodeStyle RoleStyle(FluxGraphRole role) => role switch
        {
            FluxGraphRole.Relay => new NodeStyle("#ff8888", "#990000", 2, 10),
            FluxGraphRole.MalwareHost => new NodeStyle("#ffcc99", "#cc6600", 1.5, 2),
            FluxGraphRole.FluxDomain => new NodeStyle("#ffffcc", "#999933", 1, 2),
            FluxGraphRole.Bot => new NodeStyle("#dde8ff", "#3355aa", 1, 12),
            FluxGraphRole.MailServer => new NodeStyle("#e6f4ea", "#2e7d32", 1, 3),
            FluxGraphRole.FtpServer => new NodeStyle("#e0f2f1", "#00695c", 1, 3),
            FluxGraphRole.WebServer => new NodeStyle("#f2f2f2", "#777777", 1, 3),
            _ => new NodeStyle("#ffffff", "#777777", 1, 12),
        };

        private readonly struct EdgeKind
        {
            public EdgeKind(string name, string color)
            {
                Name = name;
                Color = color;
            }

            public string Name { get; }
            public string Color { get; }
        }

        private static readonly EdgeKind[] EdgeKinds =
        {
            new EdgeKind("smtp", "#1f5fbf"),
            new EdgeKind("ftp", "#00796b"),
            new EdgeKind("http", "#6d6d6d"),
            new EdgeKind("exe", "#c62828"),
            new EdgeKind("dns", "#9e9d24"),
            new EdgeKind("other", "#555555"),
        };

        private static EdgeKind KindOf(string label)
        {
            int space = label.IndexOf(' ');
            string what = space < 0 ? label : label.Substring(space + 1);
            string name = what.ToUpperInvariant() switch
            {
                "SMTP" => "smtp",
                "FTP" => "ftp",
                "HTTP" => "http",
                "EXE" => "exe",
                "A" or "AAAA" => "dns",
                _ => "other",
            };
            return EdgeKinds.First(k => k.Name == name);
        }

        private static double LeadingNumber(string label)
        {
            int space = label.IndexOf(' ');
            return double.TryParse(space < 0 ? label : label.Substring(0, space), NumberStyles.Integer, CultureInfo.InvariantCulture, out double n) ? n : 1;
        }

        private static string FirstLine(string label)
        {
            int nl = label.IndexOf('\n');
            return nl < 0 ? label : label.Substring(0, nl);
        }

        private static double Bezier(double t, double p0, double p1, double p2, double p3)
        {
            double u = 1 - t;
            return u * u * u * p0 + 3 * u * u * t * p1 + 3 * u * t * t * p2 + t * t * t * p3;
        }

        private static string N(double value) => Math.Round(value, 1).ToString("0.#", CultureInfo.InvariantCulture);
    }
}
