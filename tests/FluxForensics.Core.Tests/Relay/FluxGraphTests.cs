using System.Linq;
using System.Text.RegularExpressions;
using FluxForensics.Capture;

namespace FluxForensics.Tests.Relay
{
    public class FluxGraphTests
    {
        private static FluxGraph Sample()
        {
            var g = new FluxGraph { MaxNodesPerRole = 4 };
            for (int i = 0; i < 10; i++)
            {
                g.AddRelaySession("Smtp", $"203.0.113.{i % 3}", "140.127.1.77", $"198.51.100.{i}", 25);
            }

            g.AddRelaySession("Ftp", "203.0.113.1", "140.127.1.77", "192.0.2.21", 21);
            g.AddDownload("203.0.113.2", "140.127.1.77", "192.0.2.44", "mobile7.exe");
            g.AddDownload("140.127.1.77", null, "65.55.200.155", "update.exe");
            g.AddFluxDomain("flux.example", new[] { "203.0.113.1", "203.0.113.2" });
            g.AddDnsProxy("140.127.1.77", 40);
            return g;
        }

        [Fact]
        public void EdgesCarryCountsAndCrowdedRolesFold()
        {
            var dot = Sample().ToDot();
            Assert.Contains("+7 more mail servers", dot);
            var smtp = Regex.Matches(dot, "label=\"(\\d+) SMTP\"").Select(m => int.Parse(m.Groups[1].Value)).Sum();
            Assert.Equal(20, smtp);                       // 10 bot->relay, 10 relay->server
            Assert.Contains("DNS proxy for 40 clients", dot);
            Assert.Contains("doubleoctagon", dot);        // the relay stands out
            Assert.Single(Regex.Matches(dot, "label=\"140\\.127\\.1\\.77")); // one node, several roles
        }

        [Fact]
        public void MermaidHasOneSubgraphPerRoleAndEscapesLabels()
        {
            var g = Sample();
            g.AddCredential("Ftp", "192.0.2.21", "bob\"|x", true);
            var mermaid = g.ToMermaid();
            Assert.StartsWith("flowchart LR", mermaid);
            Assert.Contains("subgraph Relay[\"Relay\"]", mermaid);
            Assert.Contains("1 cleartext login (1 accepted, 1 account)", mermaid);
            g.AddDownload("10.0.0.1", null, "a\"b|c", "x.exe");
            mermaid = g.ToMermaid();
            Assert.Contains("a#quot;b#124;c", mermaid);
            Assert.DoesNotContain("a\"b", mermaid);
        }

        [Fact]
        public void OutputIsDeterministic()
        {
            Assert.Equal(Sample().ToDot(), Sample().ToDot());
            Assert.Equal(Sample().ToMermaid(), Sample().ToMermaid());
        }
    }
}
