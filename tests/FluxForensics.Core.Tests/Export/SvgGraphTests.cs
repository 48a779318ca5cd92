using System;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Xml;
using System.Xml.Linq;
using FluxForensics.Capture;

namespace FluxForensics.Tests.Export
{
    public class SvgGraphTests
    {
        private static readonly XNamespace Svg = "http://www.w3.org/2000/svg";

        private static XDocument Parse(string svg)
        {
            var settings = new XmlReaderSettings { DtdProcessing = DtdProcessing.Prohibit, XmlResolver = null };
            using var reader = XmlReader.Create(new StringReader(svg), settings);
            return XDocument.Load(reader);
        }

        private static FluxGraph Sample(int mailServers = 10)
        {
            var g = new FluxGraph { MaxNodesPerRole = 4 };
            for (int i = 0; i < mailServers; i++)
            {
                g.AddRelaySession("Smtp", $"203.0.113.{i % 3}", "140.127.1.77", $"198.51.100.{i}", 25);
            }

            g.AddRelaySession("Ftp", "203.0.113.1", "140.127.1.77", "192.0.2.21", 21);
            g.AddDownload("203.0.113.2", "140.127.1.77", "192.0.2.44", "mobile7.exe");
            g.AddFluxDomain("flux.example", new[] { "203.0.113.1", "203.0.113.2" });
            g.AddDnsProxy("140.127.1.77", 40);
            return g;
        }

        /// <summary>The node whose first line (its title's first line) is <paramref name="name"/>.</summary>
        private static XElement Node(XDocument doc, string name) =>
            doc.Descendants(Svg + "g").Single(g => ((string?)g.Attribute("class"))?.StartsWith("fg-node ", StringComparison.Ordinal) == true
                && g.Element(Svg + "title")!.Value.Split('\n')[0] == name);

        private static double X(XElement node) => double.Parse((string)node.Element(Svg + "rect")!.Attribute("x")!, CultureInfo.InvariantCulture);

        [Fact]
        public void IsWellFormedSvgLayeredByRole()
        {
            var doc = Parse(Sample().ToSvg("Relay 140.127.1.77"));
            Assert.Equal(Svg + "svg", doc.Root!.Name);
            Assert.NotNull(doc.Root.Attribute("viewBox"));
            // Flux names beside the bots, then the relay, then where it went.
            double flux = X(Node(doc, "flux.example")), bot = X(Node(doc, "203.0.113.1")), relay = X(Node(doc, "140.127.1.77"));
            double mail = X(Node(doc, "198.51.100.0")), ftp = X(Node(doc, "192.0.2.21")), malware = X(Node(doc, "192.0.2.44"));
            Assert.True(flux < bot && bot < relay && relay < mail, $"{flux} {bot} {relay} {mail}");
            Assert.Equal(mail, ftp);
            Assert.Equal(mail, malware);
            Assert.Contains("DNS proxy for 40 clients", Node(doc, "140.127.1.77").Value);
        }

        [Fact]
        public void CrowdedRolesFoldAndEdgesKeepTheirCounts()
        {
            var doc = Parse(Sample(mailServers: 900).ToSvg());
            var labels = doc.Descendants(Svg + "text").Where(t => (string?)t.Attribute("class") == "fg-edge-label").Select(t => t.Value).ToList();
            Assert.Contains(doc.Descendants(Svg + "tspan"), t => t.Value == "+897 more mail servers");
            int smtp = labels.Where(l => l.EndsWith(" SMTP", StringComparison.Ordinal)).Sum(l => int.Parse(l.Split(' ')[0], CultureInfo.InvariantCulture));
            Assert.Equal(1800, smtp);   // 900 bot->relay + 900 relay->server, folded but all counted
            Assert.Equal(4, doc.Descendants(Svg + "g").Count(g => (string?)g.Attribute("class") == "fg-node fg-MailServer"));
            Assert.Equal(labels.Count, doc.Descendants(Svg + "path").Count(p => (string?)p.Attribute("class") == "fg-edge"));
        }

        [Fact]
        public void ACrowdedPictureDropsTheSingleCountLabelsButKeepsTheLines()
        {
            var g = new FluxGraph();
            for (int d = 0; d < 10; d++)
            {
                g.AddFluxDomain($"flux{d}.example", Enumerable.Range(1, 6).Select(i => $"203.0.113.{i}"));
            }

            var doc = Parse(g.ToSvg());
            var paths = doc.Descendants(Svg + "path").Where(p => (string?)p.Attribute("class") == "fg-edge").ToList();
            Assert.True(paths.Count > 40, paths.Count.ToString(CultureInfo.InvariantCulture));
            Assert.All(paths, p => Assert.EndsWith(": 1 A", p.Element(Svg + "title")!.Value, StringComparison.Ordinal));
            Assert.DoesNotContain(doc.Descendants(Svg + "text"), t => (string?)t.Attribute("class") == "fg-edge-label" && t.Value == "1 A");
        }

        [Fact]
        public void EscapesLabelsAndDropsCharactersXmlCannotCarry()
        {
            var g = Sample();
            const string evil = "<script>&\"'\0\u0007\uDC00x.exe";
            g.AddDownload("203.0.113.2", "140.127.1.77", "a<b>&c\"d", evil);
            var svg = g.ToSvg(evil);
            var doc = Parse(svg);
            Assert.DoesNotContain(doc.Descendants(), e => e.Name.LocalName == "script");
            Assert.Contains(doc.Descendants(Svg + "title"), t => t.Value.StartsWith("a<b>&c\"d", StringComparison.Ordinal));
            Assert.Contains("<script>&amp;", svg.Replace("&lt;script&gt;", "<script>"));
            Assert.True(svg.IndexOf('\0') < 0);
        }

        [Fact]
        public void LongLabelsAreCutWithTheFullTextInTheTooltip()
        {
            var g = new FluxGraph();
            string name = "a-very-long-flux-name-that-goes-on-and-on.example.com";
            g.AddFluxDomain(name, new[] { "203.0.113.1" });
            var doc = Parse(g.ToSvg());
            var node = Node(doc, name);
            var shown = node.Descendants(Svg + "tspan").First().Value;
            Assert.True(shown.Length <= 32);
            Assert.EndsWith("\u2026", shown);
        }

        [Fact]
        public void AnEmptyGraphIsStillAValidPicture()
        {
            var doc = Parse(new FluxGraph().ToSvg());
            Assert.Contains("No relay", doc.Root!.Value);
        }

        [Fact]
        public void OutputIsDeterministic()
        {
            Assert.Equal(Sample().ToSvg(), Sample().ToSvg());
        }
    }
}
