using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Net;
using System.Text.Json;
using FluxForensics.Capture;
using FluxForensics.Detection;
using FluxForensics.Model;
using FluxForensics.Tests.Relay;

namespace FluxForensics.Tests.Geo
{
    /// <summary>One network of MaxMind's source JSON and what it says about it.</summary>
    internal sealed record GeoEntry(IPAddress Network, int Prefix, JsonElement Data)
    {
        public bool Contains(IPAddress address)
        {
            byte[] a = Network.GetAddressBytes(), b = address.GetAddressBytes();
            if (a.Length != b.Length) return false;
            for (int bit = 0; bit < Prefix; bit++)
            {
                int mask = 0x80 >> (bit % 8);
                if ((a[bit / 8] & mask) != (b[bit / 8] & mask)) return false;
            }

            return true;
        }

        public uint? Asn => Data.TryGetProperty("autonomous_system_number", out var v) ? v.GetUInt32() : null;
        public string? Organization => Data.TryGetProperty("autonomous_system_organization", out var v) ? v.GetString() : null;
        private JsonElement? Place => Data.TryGetProperty("country", out var c) ? c : Data.TryGetProperty("registered_country", out var r) ? r : null;
        public string? CountryCode => Place is { } p && p.TryGetProperty("iso_code", out var v) ? v.GetString() : null;
        public string? CountryName => Place is { } p && p.TryGetProperty("names", out var n) && n.TryGetProperty("en", out var v) ? v.GetString() : null;
    }

    /// <summary>MaxMind's own test databases and the JSON they were built from (../shared/corpus/geo).</summary>
    internal static class GeoCorpus
    {
        private static string Root => Path.Combine(Listener.Corpus.Root, "geo", "maxmind__MaxMind-DB");
        public static string AsnDatabase => Path.Combine(Root, "test-data", "GeoLite2-ASN-Test.mmdb");
        public static string CountryDatabase => Path.Combine(Root, "test-data", "GeoLite2-Country-Test.mmdb");

        public static void RequirePresent()
        {
            foreach (var f in new[] { AsnDatabase, CountryDatabase, Json("GeoLite2-ASN-Test"), Json("GeoLite2-Country-Test") })
            {
                Skip.If(!File.Exists(f), $"corpus file {f} is absent (the shared corpus is not next to this repository)");
            }
        }

        private static string Json(string name) => Path.Combine(Root, "source-data", name + ".json");

        public static List<GeoEntry> Entries(string name)
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(Json(name)));
            var list = new List<GeoEntry>();
            foreach (var item in doc.RootElement.EnumerateArray())
            {
                foreach (var property in item.EnumerateObject())
                {
                    var parts = property.Name.Split('/');
                    list.Add(new GeoEntry(IPAddress.Parse(parts[0]), int.Parse(parts[1]), property.Value.Clone()));
                }
            }

            return list;
        }

        /// <summary>Each network's first address, when no other network of the file also holds it (so the answer is unambiguous).</summary>
        public static IEnumerable<(IPAddress Probe, GeoEntry Entry)> Probes(List<GeoEntry> entries) =>
            entries.Where(e => !entries.Any(o => !ReferenceEquals(o, e) && o.Contains(e.Network))).Select(e => (e.Network, e));
    }

    public class GeoLookupTests
    {
        [SkippableFact]
        public void TheAsnTestDatabaseAnswersWhatItsSourceJsonSays()
        {
            GeoCorpus.RequirePresent();
            var entries = GeoCorpus.Entries("GeoLite2-ASN-Test");
            var probes = GeoCorpus.Probes(entries).ToList();
            using var geo = new GeoLookup(GeoCorpus.AsnDatabase, null);
            Assert.Equal("GeoLite2-ASN", geo.AsnDatabaseType);
            Assert.True(probes.Count > entries.Count / 2, $"{probes.Count} of {entries.Count} networks are unambiguous");
            Assert.Contains(probes, p => p.Probe.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6);
            foreach (var (probe, entry) in probes)
            {
                var info = geo.Lookup(probe.ToString());
                Assert.True(info is not null, $"{probe} ({entry.Network}/{entry.Prefix}) not found");
                Assert.Equal(entry.Asn, info!.Asn);
                Assert.Equal(entry.Organization, info.AsOrganization);
                Assert.Null(info.CountryCode);
            }
        }

        [SkippableFact]
        public void TheCountryTestDatabaseAnswersWhatItsSourceJsonSays()
        {
            GeoCorpus.RequirePresent();
            var entries = GeoCorpus.Entries("GeoLite2-Country-Test");
            var probes = GeoCorpus.Probes(entries).ToList();
            using var geo = new GeoLookup(null, GeoCorpus.CountryDatabase);
            Assert.True(probes.Count > entries.Count / 2, $"{probes.Count} of {entries.Count} networks are unambiguous");
            int withCountry = 0;
            foreach (var (probe, entry) in probes)
            {
                var info = geo.Lookup(probe);
                Assert.Equal(entry.CountryCode, info?.CountryCode);
                Assert.Equal(entry.CountryName, info?.CountryName);
                Assert.Null(info?.Asn);
                withCountry += entry.CountryCode is null ? 0 : 1;
            }

            Assert.True(withCountry > 100);
        }

        [SkippableFact]
        public void BothDatabasesTogetherAnswerOneAddressAndUnknownsAreNull()
        {
            GeoCorpus.RequirePresent();
            var asn = GeoCorpus.Entries("GeoLite2-ASN-Test");
            var country = GeoCorpus.Entries("GeoLite2-Country-Test");
            var (probe, c) = GeoCorpus.Probes(country).First(p => p.Entry.CountryCode is not null && GeoCorpus.Probes(asn).Any(a => a.Entry.Contains(p.Probe) && a.Entry.Organization is not null));
            var a = GeoCorpus.Probes(asn).First(x => x.Entry.Contains(probe)).Entry;
            using var geo = new GeoLookup(GeoCorpus.AsnDatabase, GeoCorpus.CountryDatabase);
            var info = geo.Lookup(probe.ToString())!;
            Assert.Equal(a.Asn, info.Asn);
            Assert.Equal(a.Organization, info.AsOrganization);
            Assert.Equal(c.CountryCode, info.CountryCode);
            Assert.Same(info, geo.Lookup(probe.ToString()));

            Assert.Null(geo.Lookup("127.0.0.1"));
            Assert.Null(geo.Lookup("mx.example"));
            Assert.Null(geo.Lookup(string.Empty));
        }

        [SkippableFact]
        public void AFluxNameCountsAutonomousSystemsFromTheDatabase()
        {
            GeoCorpus.RequirePresent();
            var probes = GeoCorpus.Probes(GeoCorpus.Entries("GeoLite2-ASN-Test"))
                .Where(p => p.Probe.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork && p.Entry.Asn is not null).Take(24).ToList();
            int expectedAsns = probes.Select(p => p.Entry.Asn).Distinct().Count();
            var context = new CaptureAnalysisContext(new CaptureAnalysisOptions { AsnDatabasePath = GeoCorpus.AsnDatabase }, NullReporter.Instance, "test");
            var analyzer = new DnsAnalyzer(context);
            long t = new DateTime(2012, 5, 14, 9, 0, 0, DateTimeKind.Utc).Ticks;
            var relay = Dns.DnsBytes.Ip("140.127.1.77");
            for (int round = 0; round < probes.Count / 4; round++)
            {
                var answer = Dns.DnsBytes.Response("gorodkoff.com", 60, probes.Skip(round * 4).Take(4).Select(p => p.Probe.ToString()).ToArray());
                var packet = new DecodedPacket(t += 10000, relay, Dns.DnsBytes.Ip($"61.{round}.2.3"), 53, 4000, TransportProtocol.Udp, TcpFlags.None, 0, 0, answer, answer.Length + 42, false);
                analyzer.OnPacket(packet);
            }

            var flux = Assert.Single(analyzer.Complete().OfType<FluxDomain>(), d => d.Domain == "gorodkoff.com");
            Assert.Equal(probes.Count, flux.AddressCount);
            Assert.Equal(expectedAsns, flux.AsnCount);
            Assert.Equal(FluxRules.HolzScore(flux.AddressCount, expectedAsns), flux.FluxScore);
            Assert.Contains(flux.Reasons, r => r.Reason.Contains($"nASN={expectedAsns} from the ASN database"));
        }

        [SkippableFact]
        public void RelayedMailAndDownloadsNameTheServersAsnAndCountry()
        {
            GeoCorpus.RequirePresent();
            var asn = GeoCorpus.Entries("GeoLite2-ASN-Test");
            var country = GeoCorpus.Entries("GeoLite2-Country-Test");
            var asnProbes = GeoCorpus.Probes(asn).ToList();
            // The mail server: an IPv4 address both databases know. The malware host: an address the country database puts in Ukraine.
            var (mx, mxCountry) = GeoCorpus.Probes(country).First(p => p.Probe.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork &&
                p.Entry.CountryCode is not null && asnProbes.Any(a => a.Entry.Contains(p.Probe) && a.Entry.Organization is not null));
            var mxAsn = asnProbes.First(a => a.Entry.Contains(mx)).Entry;
            var (host, hostCountry) = GeoCorpus.Probes(country).First(p => p.Entry.CountryCode == "UA");

            var run = new RelayRun(new CaptureAnalysisOptions { AsnDatabasePath = GeoCorpus.AsnDatabase, CountryDatabasePath = GeoCorpus.CountryDatabase });
            var t0 = new DateTime(2012, 5, 14, 9, 0, 0, DateTimeKind.Utc);
            RelayAnalyzerTests.RelayedSmtp(run, "203.0.113.5", 41000, mx.ToString(), 50000, t0);
            var exe = RelayAnalyzerTests.FakePe(30_000, 1);
            var response = System.Text.Encoding.ASCII.GetBytes($"HTTP/1.1 200 OK\r\nContent-Length: {exe.Length}\r\n\r\n").Concat(exe).ToArray();
            var outbound = run.Tcp("140.127.1.77", 51000, host.ToString(), 80, t0.AddSeconds(5)).Handshake();
            outbound.C("GET /mobile7.exe HTTP/1.1\r\nHost: dl.flux.example\r\n\r\n");
            outbound.Data(false, response);
            outbound.Close();
            run.Complete();

            var session = Assert.Single(run.Of<RelaySession>());
            Assert.Equal(mx.ToString(), session.Server);
            Assert.Equal(mxAsn.Asn, session.ServerAsn);
            Assert.Equal(mxAsn.Organization, session.ServerAsOrganization);
            Assert.Equal(mxCountry.CountryCode, session.ServerCountry);
            Assert.Equal(mxCountry.CountryName, session.ServerCountryName);

            var download = Assert.Single(run.Of<FluxDownload>());
            Assert.Equal("UA", download.ServerCountry);
            Assert.Equal(hostCountry.CountryName, download.ServerCountryName);
            Assert.Equal(asnProbes.FirstOrDefault(a => a.Entry.Contains(host)).Entry?.Asn, download.ServerAsn);
            Assert.Empty(run.Reporter.Errors);
        }

        [Fact]
        public void AnUnreadableDatabaseIsAnErrorAndTheAnalysisGoesOn()
        {
            string bogus = Path.Combine(Path.GetTempPath(), "ff-geo-" + Guid.NewGuid().ToString("N") + ".mmdb");
            File.WriteAllText(bogus, "not a MaxMind database");
            try
            {
                var run = new RelayRun(new CaptureAnalysisOptions { CountryDatabasePath = bogus });
                RelayAnalyzerTests.RelayedSmtp(run, "203.0.113.5", 41000, "198.51.100.25", 50000, new DateTime(2012, 5, 14, 9, 0, 0, DateTimeKind.Utc));
                run.Complete();
                var session = Assert.Single(run.Of<RelaySession>());
                Assert.Null(session.ServerCountry);
                Assert.Contains(run.Reporter.Errors, e => e.ErrorId == "GeoDatabaseUnreadable");
            }
            finally
            {
                File.Delete(bogus);
            }
        }
    }
}
