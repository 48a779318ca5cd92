using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Net;
using System.Text;
using FluxForensics.Capture;
using FluxForensics.Detection;
using FluxForensics.Formats;
using FluxForensics.Model;

namespace FluxForensics.Tests.Dns
{
    /// <summary>Builds DNS messages byte by byte, so each test shows exactly what is on the wire.</summary>
    internal static class DnsBytes
    {
        public static byte[] Name(string name)
        {
            var bytes = new List<byte>();
            foreach (var label in name.Split('.', StringSplitOptions.RemoveEmptyEntries))
            {
                bytes.Add((byte)label.Length);
                bytes.AddRange(Encoding.ASCII.GetBytes(label));
            }

            bytes.Add(0);
            return bytes.ToArray();
        }

        public static byte[] Header(ushort id, ushort flags, int qd, int an, int ns, int ar) => new[]
        {
            (byte)(id >> 8), (byte)id, (byte)(flags >> 8), (byte)flags, (byte)(qd >> 8), (byte)qd, (byte)(an >> 8), (byte)an,
            (byte)(ns >> 8), (byte)ns, (byte)(ar >> 8), (byte)ar,
        };

        public static byte[] Record(byte[] owner, ushort type, uint ttl, byte[] data) =>
            owner.Concat(new[] { (byte)(type >> 8), (byte)type, (byte)0, (byte)1, (byte)(ttl >> 24), (byte)(ttl >> 16), (byte)(ttl >> 8), (byte)ttl, (byte)(data.Length >> 8), (byte)data.Length })
                .Concat(data).ToArray();

        public static readonly byte[] PointerToQuestion = { 0xC0, 12 };

        /// <summary>A response for <paramref name="name"/> (A/IN) with the given addresses, each owner a pointer to the question.</summary>
        public static byte[] Response(string name, uint ttl, params string[] addresses)
        {
            var m = new List<byte>(Header(0x1234, 0x8180, 1, addresses.Length, 0, 0));
            m.AddRange(Name(name));
            m.AddRange(new byte[] { 0, 1, 0, 1 });
            foreach (var a in addresses)
            {
                var ip = IPAddress.Parse(a);
                m.AddRange(Record(PointerToQuestion, (ushort)(ip.GetAddressBytes().Length == 4 ? 1 : 28), ttl, ip.GetAddressBytes()));
            }

            return m.ToArray();
        }

        public static NetAddress Ip(string s) => NetAddress.FromIPAddress(IPAddress.Parse(s));
    }

    public class DnsMessageReaderTests
    {
        [Fact]
        public void ReadsHeaderQuestionAndCompressedAnswers()
        {
            var message = DnsBytes.Response("WWW.MyDear.name", 300, "1.2.3.4", "5.6.7.8", "2001:db8::1");
            Assert.True(DnsMessageReader.TryCreate(message, out var reader));
            Assert.True(reader.Header.IsResponse);
            Assert.Equal(3, reader.Header.AnswerCount);
            Assert.True(reader.TryReadQuestion(out var q));
            Assert.Equal("www.mydear.name", DnsMessageReader.ReadName(message, q.NameOffset, out _));
            var seen = new List<string>();
            while (reader.TryReadRecord(out var r))
            {
                Assert.Equal("www.mydear.name", DnsMessageReader.ReadName(message, r.NameOffset, out _));
                Assert.Equal(300u, r.Ttl);
                Assert.True(reader.TryReadAddress(r, out var address));
                seen.Add(NetAddress.FromBytes(address).ToString());
            }

            Assert.False(reader.Error.IsError);
            Assert.Equal(new[] { "1.2.3.4", "5.6.7.8", "2001:db8::1" }, seen);
        }

        [Fact]
        public void PointerChainsThroughEarlierNamesAreFollowed()
        {
            // question "mydear.name" at 12; an NS answer whose data is "ns1" + pointer to the question.
            var m = new List<byte>(DnsBytes.Header(1, 0x8180, 1, 1, 0, 0));
            m.AddRange(DnsBytes.Name("mydear.name"));
            m.AddRange(new byte[] { 0, 2, 0, 1 });
            m.AddRange(DnsBytes.Record(DnsBytes.PointerToQuestion, 2, 600, new byte[] { 3, (byte)'n', (byte)'s', (byte)'1', 0xC0, 12 }));
            var message = m.ToArray();
            Assert.True(DnsMessageReader.TryCreate(message, out var reader));
            Assert.True(reader.TryReadRecord(out var ns));
            Assert.Equal("ns1.mydear.name", DnsMessageReader.ReadName(message, DnsMessageReader.NameInData(ns), out _));
        }

        [Fact]
        public void CompressionPointerLoopIsReportedNotFollowed()
        {
            // A name at 12 that is a pointer to itself, and one at 14 that points forward to 16 which points back to 14.
            var message = DnsBytes.Header(1, 0x8180, 1, 0, 0, 0).Concat(new byte[] { 0xC0, 12, 0xC0, 16, 1, (byte)'a', 0xC0, 14 }).ToArray();
            Assert.Null(DnsMessageReader.ReadName(message, 12, out var error));
            Assert.Contains("loop", error.Message);
            Assert.Null(DnsMessageReader.ReadName(message, 16, out error));
            Assert.Contains("loop", error.Message);
            Assert.Equal(14, error.Offset); // the pointer at 14 points forward to 16, where the walk came from
        }

        [Fact]
        public void LabelPastTheEndOfTheMessageIsReported()
        {
            var message = DnsBytes.Header(1, 0x0100, 1, 0, 0, 0).Concat(new byte[] { 10, (byte)'a', (byte)'b' }).ToArray();
            Assert.Null(DnsMessageReader.ReadName(message, 12, out var error));
            Assert.Contains("past the end", error.Message);
            Assert.True(DnsMessageReader.TryCreate(message, out var reader));
            Assert.False(reader.TryReadQuestion(out _));
            Assert.True(reader.Error.IsError);
        }

        [Fact]
        public void TruncatedRecordStopsTheReaderButKeepsEarlierRecords()
        {
            var full = DnsBytes.Response("a.example", 60, "1.1.1.1", "2.2.2.2");
            var cut = full.AsSpan(0, full.Length - 2).ToArray();
            Assert.True(DnsMessageReader.TryCreate(cut, out var reader));
            Assert.True(reader.TryReadRecord(out var first));
            Assert.True(reader.TryReadAddress(first, out _));
            Assert.False(reader.TryReadRecord(out _));
            Assert.Contains("RDATA length", reader.Error.Message);
            Assert.False(DnsMessageReader.TryCreate(new byte[5], out _));
        }

        [Fact]
        public void HostileBytesNeverThrow()
        {
            var random = new Random(7);
            var buffer = new byte[300];
            for (int i = 0; i < 20000; i++)
            {
                random.NextBytes(buffer);
                var message = buffer.AsSpan(0, random.Next(buffer.Length));
                if (!DnsMessageReader.TryCreate(message, out var reader))
                {
                    continue;
                }

                while (reader.TryReadRecord(out var r))
                {
                    DnsMessageReader.ReadName(message, r.NameOffset, out _);
                    int n = DnsMessageReader.NameInData(r);
                    if (n >= 0)
                    {
                        DnsMessageReader.ReadName(message, n, out _);
                    }
                }
            }
        }
    }

    public class FluxRulesTests
    {
        [Fact]
        public void ManyAddressesOverManyNetworksWithLowTtlIsFastFlux()
        {
            var v = FluxRules.JudgeDomain(new FluxEvidence { Domain = "bayermun.biz", AddressCount = 30, NetworkCount = 25, MinTtl = 0, AnswerChangeCount = 5 });
            Assert.Equal(Math.Round(1.32 * 30 + 18.54 * 25 - 142.38, 2), v.FluxScore);
            Assert.True(v.IsFastFlux);
            Assert.False(v.IsDoubleFlux);
            Assert.Contains(v.Card.Reasons, r => r.Reason.Contains("Holz et al., NDSS 2008") && r.Reason.Contains("standing in"));
            Assert.Contains(v.Card.Reasons, r => r.Reason.Contains("Perdisci et al., ACSAC 2009"));
        }

        [Fact]
        public void CdnWithManyAddressesAndLowTtlInOneNetworkIsNotFlux()
        {
            var v = FluxRules.JudgeDomain(new FluxEvidence { Domain = "static.cdn.example", AddressCount = 8, NetworkCount = 1, MinTtl = 20, AnswerChangeCount = 40 });
            Assert.False(v.IsFlux);
            Assert.False(v.PassesPrefilter);
            Assert.Contains(v.Card.Reasons, r => r.Reason.Contains("diversity") && r.Points == 0);
        }

        [Fact]
        public void LongTtlFailsThePerdisciPrefilterEvenWithAHighHolzScore()
        {
            var v = FluxRules.JudgeDomain(new FluxEvidence { AddressCount = 40, NetworkCount = 30, MinTtl = 86400 });
            Assert.True(v.FluxScore > 0);
            Assert.False(v.IsFastFlux);
            Assert.Contains(v.Card.Reasons, r => r.Reason.Contains("10800"));
        }

        [Fact]
        public void AsnCountReplacesTheNetworkCountWhenGiven()
        {
            var v = FluxRules.JudgeDomain(new FluxEvidence { AddressCount = 30, NetworkCount = 25, AsnCount = 2, MinTtl = 60 });
            Assert.Equal(Math.Round(1.32 * 30 + 18.54 * 2 - 142.38, 2), v.FluxScore);
            Assert.False(v.IsFastFlux);
        }

        [Fact]
        public void RotatingNameServersOrADnsAnsweringHostShareMakeDoubleFlux()
        {
            var ns = FluxRules.JudgeDomain(new FluxEvidence { AddressCount = 1, NetworkCount = 1, MinTtl = 60, NameServerCount = 2, NameServerAddressCount = 12, NameServerNetworkCount = 12, NameServerMinTtl = 60 });
            Assert.True(ns.IsDoubleFlux);
            Assert.Contains(ns.Card.Reasons, r => r.Reason.Contains("Honeynet"));

            var agent = FluxRules.JudgeDomain(new FluxEvidence { AddressCount = 1, NetworkCount = 1, MinTtl = 60, NamesOnDnsAnsweringHost = 40, DnsAnsweringHost = "140.127.1.77" });
            Assert.True(agent.IsDoubleFlux);

            // Stable name servers (one address each, long TTL) are not double flux.
            var stable = FluxRules.JudgeDomain(new FluxEvidence { AddressCount = 1, NetworkCount = 1, MinTtl = 3600, NameServerCount = 4, NameServerAddressCount = 4, NameServerNetworkCount = 4, NameServerMinTtl = 172800 });
            Assert.False(stable.IsFlux);
        }

        [Fact]
        public void KnownResolverLowersTheProxyRisk()
        {
            var evidence = new DnsProxyEvidence { Address = "140.127.1.77", ClientCount = 150, OutsideClientCount = 150, DomainCount = 600, FluxDomainCount = 600 };
            int unknown = FluxRules.JudgeProxy(evidence).Total;
            evidence.IsKnownResolver = true;
            int known = FluxRules.JudgeProxy(evidence).Total;
            Assert.True(unknown >= 80);
            Assert.True(known < unknown);
            var inside = FluxRules.JudgeProxy(new DnsProxyEvidence { ClientCount = 1, DomainCount = 5 }).Total;
            Assert.True(inside < 30);
        }
    }

    public class DnsAnalyzerTests
    {
        private static readonly NetAddress Relay = DnsBytes.Ip("140.127.1.77");

        private static void Feed(DnsAnalyzer analyzer, long ticks, NetAddress src, NetAddress dst, ushort sport, ushort dport, byte[] payload,
            TransportProtocol protocol = TransportProtocol.Udp, uint seq = 0, TcpFlags flags = TcpFlags.None)
        {
            var packet = new DecodedPacket(ticks, src, dst, sport, dport, protocol, flags, seq, 0, payload, payload.Length + 42, false);
            analyzer.OnPacket(packet);
        }

        [Fact]
        public void RelayAnsweringRotatingNamesForBotsIsAProxyWithFluxDomains()
        {
            var context = new CaptureAnalysisContext(new CaptureAnalysisOptions(), NullReporter.Instance, "test");
            var analyzer = new DnsAnalyzer(context);
            var random = new Random(1);
            long t = new DateTime(2012, 5, 14, 9, 0, 0, DateTimeKind.Utc).Ticks;
            for (int round = 0; round < 6; round++)
            {
                for (int bot = 0; bot < 5; bot++)
                {
                    var addresses = Enumerable.Range(0, 5).Select(_ => $"{random.Next(1, 223)}.{random.Next(256)}.{random.Next(256)}.{random.Next(1, 255)}").ToArray();
                    Feed(analyzer, t += 10000, Relay, DnsBytes.Ip($"61.{bot}.2.3"), 53, 4000, DnsBytes.Response("gorodkoff.com", 60, addresses));
                    Feed(analyzer, t += 10000, Relay, DnsBytes.Ip($"61.{bot}.2.3"), 53, 4000, DnsBytes.Response("cdn.example", 20, "203.69.138.10", "203.69.138.11", "203.69.138.12"));
                }
            }

            var findings = analyzer.Complete().ToList();
            var proxy = Assert.Single(findings.OfType<DnsProxy>());
            Assert.Equal("140.127.1.77", proxy.Address);
            Assert.Equal(5, proxy.ClientCount);
            Assert.Equal(2, proxy.DomainCount);
            Assert.Equal(1, proxy.FluxDomainCount);
            var flux = Assert.Single(findings.OfType<FluxDomain>());
            Assert.Equal("gorodkoff.com", flux.Domain);
            Assert.True(flux.IsFastFlux);
            Assert.Equal(flux.AddressCount, flux.Addresses.Length);
            Assert.Equal(60, flux.MinTtl);
            Assert.True(flux.AnswerChangeCount >= 20);
            Assert.Contains(Relay, analyzer.DnsAnswerers);
        }

        [Fact]
        public void DnsOverTcpIsReassembledAcrossSegments()
        {
            var context = new CaptureAnalysisContext(new CaptureAnalysisOptions(), NullReporter.Instance, "test");
            var analyzer = new DnsAnalyzer(context);
            var message = DnsBytes.Response("demyator.biz", 30, "9.9.9.9");
            var framed = new byte[] { (byte)(message.Length >> 8), (byte)message.Length }.Concat(message).ToArray();
            var client = DnsBytes.Ip("8.8.4.4");
            Feed(analyzer, 1000, Relay, client, 53, 5000, framed.Take(5).ToArray(), TransportProtocol.Tcp, 100, TcpFlags.Ack);
            Feed(analyzer, 2000, Relay, client, 53, 5000, framed.Skip(5).ToArray(), TransportProtocol.Tcp, 105, TcpFlags.Ack | TcpFlags.Psh);
            Assert.Equal(1, analyzer.MessageCount);
            analyzer.Complete().ToList();
            Assert.Contains(Relay, analyzer.DnsAnswerers);
        }

        [Fact]
        public void PointerLoopInAnAnswerIsAParseIssueAndTheRestIsRead()
        {
            var context = new CaptureAnalysisContext(new CaptureAnalysisOptions(), NullReporter.Instance, "test");
            var analyzer = new DnsAnalyzer(context);
            var good = DnsBytes.Response("mydear.name", 10, "1.2.3.4");
            var loop = DnsBytes.Header(1, 0x8180, 1, 0, 0, 0).Concat(new byte[] { 0xC0, 12, 0, 1, 0, 1 }).ToArray();
            Feed(analyzer, 1000, Relay, DnsBytes.Ip("8.8.4.4"), 53, 5000, loop);
            Feed(analyzer, 2000, Relay, DnsBytes.Ip("8.8.4.4"), 53, 5000, good);
            Assert.Equal(1, context.IssueCount);
            Assert.Contains("loop", context.Issues[0].Message);
            Assert.Equal(2, analyzer.MessageCount);
        }
    }

    public class ZeekDns53Tests
    {
        private static string Corpus(params string[] parts)
        {
            string dir = AppContext.BaseDirectory;
            while (dir is not null && !Directory.Exists(Path.Combine(dir, "tests")))
            {
                dir = Path.GetDirectoryName(dir)!;
            }

            return Path.Combine(new[] { dir!, "..", "shared", "corpus", "captures", "zeek__zeek", "testing", "btest" }.Concat(parts).ToArray());
        }

        [SkippableFact]
        public void AnswersAndTtlsAgreeWithZeeksDnsLog()
        {
            string pcap = Corpus("Traces", "dns53.pcap");
            string log = Corpus("Baseline", "scripts.base.protocols.dns.flip", "dns.log");
            Skip.IfNot(File.Exists(pcap) && File.Exists(log), "the Zeek corpus is not at ../shared/corpus");

            var fields = File.ReadAllLines(log).First(l => l.StartsWith("#fields", StringComparison.Ordinal)).Split('\t').Skip(1).ToList();
            var row = File.ReadAllLines(log).First(l => !l.StartsWith("#", StringComparison.Ordinal)).Split('\t');
            string query = row[fields.IndexOf("query")];
            var answers = row[fields.IndexOf("answers")].Split(',');
            var ttls = row[fields.IndexOf("TTLs")].Split(',').Select(s => (int)double.Parse(s, System.Globalization.CultureInfo.InvariantCulture)).ToArray();

            var context = new CaptureAnalysisContext(new CaptureAnalysisOptions(), NullReporter.Instance, pcap);
            var analyzer = new DnsAnalyzer(context);
            var read = CaptureReader.Read(new[] { pcap }, (in DecodedPacket p) => analyzer.OnPacket(p), context.AddIssue, null, default);
            Assert.Equal(1, read.PacketCount);
            Assert.Equal(0, context.IssueCount);
            analyzer.Complete().ToList();

            var entries = analyzer.Names;
            var entry = entries.Single(e => e.Name == query);
            Assert.Equal(answers, entry.Addresses.ToArray().Select(a => a.ToString()).ToArray());
            Assert.Equal((uint)ttls.Min(), entry.MinTtl);
            Assert.Equal((uint)ttls.Max(), entry.MaxTtl);

            // The authority section names its servers; the additional section gives their addresses.
            Assert.Equal(7, entry.NameServerCount);
            Assert.Contains(entries, e => e.Name == "ns1.best.com" && e.AddressCount == 1);
        }
    }
}

namespace FluxForensics.Tests.Dns
{
    public class CaptureAnalysisTests
    {
        private static string WriteCapture(string path, int responses)
        {
            using var writer = PcapNgWriter.Create(path);
            int iface = writer.AddInterface(PacketDecoder.LinkTypeEthernet);
            long t = new DateTime(2012, 5, 14, 9, 0, 0, DateTimeKind.Utc).Ticks;
            for (int i = 0; i < responses; i++)
            {
                var dns = DnsBytes.Response("bayermun.biz", 0, $"{1 + i % 200}.{i % 250}.1.1");
                writer.WritePacket(iface, t += TimeSpan.TicksPerSecond, DnsFrame(dns, "140.127.1.77", $"61.{i % 200}.2.3"));
            }

            return path;
        }

        /// <summary>A DNS message from UDP port 53 of <paramref name="from"/>, as an Ethernet frame.</summary>
        private static byte[] DnsFrame(byte[] dns, string from, string to)
        {
            var udp = new PacketDotNet.UdpPacket(53, 4000) { PayloadData = dns };
            var ip = new PacketDotNet.IPv4Packet(IPAddress.Parse(from), IPAddress.Parse(to)) { PayloadPacket = udp };
            udp.UpdateCalculatedValues();
            ip.UpdateCalculatedValues();
            var eth = new PacketDotNet.EthernetPacket(System.Net.NetworkInformation.PhysicalAddress.Parse("00-00-00-00-00-01"),
                System.Net.NetworkInformation.PhysicalAddress.Parse("00-00-00-00-00-02"), PacketDotNet.EthernetType.IPv4) { PayloadPacket = ip };
            return eth.Bytes;
        }

        [Fact]
        public void FindingsComeWithTheSummaryLast()
        {
            string file = WriteCapture(Path.Combine(Path.GetTempPath(), $"flux-dns-{Guid.NewGuid():n}.pcapng"), 50);
            try
            {
                var findings = new CaptureAnalysis(new CaptureAnalysisOptions(), null).AnalyzeFiles(new[] { file }, default);
                var summary = Assert.IsType<CaptureSummary>(findings[findings.Count - 1]);
                Assert.True(summary.Completed);
                Assert.Equal(50, summary.PacketCount);
                Assert.Equal(50, summary.DnsMessageCount);
                Assert.Equal(50, summary.FlowCount);
                Assert.Contains(findings, f => f is FluxDomain d && d.Domain == "bayermun.biz" && d.IsFastFlux);
                Assert.Contains(findings, f => f is DnsProxy p && p.Address == "140.127.1.77");
            }
            finally
            {
                File.Delete(file);
            }
        }

        [Fact]
        public void ADnsParseIssueNamesTheFileAndTheRecordOfItsPacket()
        {
            string file = Path.Combine(Path.GetTempPath(), $"flux-dns-{Guid.NewGuid():n}.pcapng");
            try
            {
                using (var writer = PcapNgWriter.Create(file))
                {
                    int iface = writer.AddInterface(PacketDecoder.LinkTypeEthernet);
                    long t = new DateTime(2012, 5, 14, 9, 0, 0, DateTimeKind.Utc).Ticks;
                    for (int i = 0; i < 5; i++)
                    {
                        var dns = DnsBytes.Response("bayermun.biz", 300, "1.2.3.4");
                        if (i == 3)
                        {
                            // The answer's owner name points at itself: a compression-pointer loop.
                            int answer = dns.Length - 16;
                            dns[answer] = (byte)(0xC0 | (answer >> 8));
                            dns[answer + 1] = (byte)answer;
                        }

                        writer.WritePacket(iface, t += TimeSpan.TicksPerSecond, DnsFrame(dns, "140.127.1.77", "61.2.2.3"));
                    }
                }

                long expected;
                using (var reader = new CaptureFileReader(file))
                {
                    for (int i = 0; i < 4; i++)
                    {
                        Assert.True(reader.ReadNext());
                    }

                    expected = reader.RecordOffset;
                }

                var findings = new CaptureAnalysis(new CaptureAnalysisOptions(), null).AnalyzeFiles(new[] { file }, default);
                var summary = Assert.IsType<CaptureSummary>(findings[findings.Count - 1]);
                var issue = Assert.Single(summary.ParseIssues, i => i.Record == "DNS message");
                Assert.Equal(file, issue.Source);
                Assert.Equal(expected, issue.Offset);
                Assert.True(expected > 0);
                Assert.Equal(5, summary.DnsMessageCount);
            }
            finally
            {
                File.Delete(file);
            }
        }

        [Fact]
        public void CancelledAnalysisStillReturnsASummary()
        {
            string file = WriteCapture(Path.Combine(Path.GetTempPath(), $"flux-dns-{Guid.NewGuid():n}.pcapng"), 20);
            try
            {
                using var cts = new System.Threading.CancellationTokenSource();
                cts.Cancel();
                var analysis = new CaptureAnalysis(new CaptureAnalysisOptions(), null);
                var findings = analysis.AnalyzeFiles(new[] { file }, cts.Token);
                var summary = Assert.IsType<CaptureSummary>(findings[findings.Count - 1]);
                Assert.False(summary.Completed);
                Assert.Same(summary, analysis.Findings[analysis.Findings.Count - 1]);
            }
            finally
            {
                File.Delete(file);
            }
        }
    }
}
