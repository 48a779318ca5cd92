using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Text;
using System.Text.Json.Nodes;
using FluxForensics.Export;
using FluxForensics.Model;
using FluxForensics.Tests.Listener;

namespace FluxForensics.Tests.Export
{
    public sealed class IndicatorSetTests
    {
        private static IndicatorSet Set(Action<IndicatorExportOptions>? configure = null)
        {
            var options = new IndicatorExportOptions { Now = new DateTime(2026, 12, 7, 22, 34, 42, 123, DateTimeKind.Utc) };
            configure?.Invoke(options);
            return IndicatorSet.From(ExportTestIncident.Build(), options);
        }

        private static string[] Values(IndicatorSet set, IndicatorType type) => set.OfType(type).Select(i => i.Value).ToArray();

        [Fact]
        public void Exports_only_the_names_the_analysis_called_flux()
        {
            var set = Set();
            var domains = Values(set, IndicatorType.Domain);
            Assert.Contains("bayermun.biz", domains);
            Assert.Contains("gorodkoff.com", domains);
            Assert.Contains("vpn.partner.example.org", domains);
            Assert.DoesNotContain("static.cdn-campus.example", domains);
            Assert.Equal(domains.Length, domains.Distinct().Count());
            var bayermun = set.OfType(IndicatorType.Domain).Single(d => d.Value == "bayermun.biz");
            Assert.Equal("FluxDomain", bayermun.Role);
            Assert.Contains("double-flux", bayermun.Context);
            Assert.Equal(95, bayermun.RiskScore);
            Assert.Equal(ExportTestIncident.Start.AddMinutes(1), bayermun.FirstSeen);
        }

        [Fact]
        public void Excluded_domains_and_their_subdomains_stay_out()
        {
            var set = Set(o => o.ExcludeDomains = new List<string> { "partner.example.org", "*.gorodkoff.com" });
            var domains = Values(set, IndicatorType.Domain);
            Assert.DoesNotContain("vpn.partner.example.org", domains);
            Assert.DoesNotContain("gorodkoff.com", domains);
            Assert.Contains("bayermun.biz", domains);
        }

        [Fact]
        public void Malware_hashes_come_from_the_malicious_files_only()
        {
            var set = Set();
            Assert.Equal(new[] { ExportTestIncident.MalwareSha256 }, Values(set, IndicatorType.Sha256));
            Assert.Equal(new[] { ExportTestIncident.MalwareMd5 }, Values(set, IndicatorType.Md5));
            var sha = set.OfType(IndicatorType.Sha256).Single();
            Assert.Equal(92, sha.RiskScore);
            Assert.Contains("mobile7.exe", sha.Context);
            Assert.StartsWith("https://www.virustotal.com/", sha.Link);
            Assert.Equal("trojan.fluxrelay/mobile7", set.FamilyName);
        }

        [Fact]
        public void Malware_hosts_are_exported_but_the_relay_agents_and_resolvers_are_not_by_default()
        {
            var set = Set();
            var addresses = Values(set, IndicatorType.Address);
            Assert.Contains("91.213.8.20", addresses);
            Assert.Contains("2001:db8:bad::1", addresses);
            Assert.DoesNotContain(ExportTestIncident.Relay, addresses);
            Assert.DoesNotContain("58.1.2.3", addresses);
            Assert.DoesNotContain(ExportTestIncident.Resolver, addresses);
            Assert.DoesNotContain("65.55.200.155", addresses);
        }

        [Fact]
        public void Flux_agents_only_when_asked_and_never_the_relay_or_the_known_resolver()
        {
            var set = Set(o => o.IncludeFluxAgents = true);
            var agents = set.OfType(IndicatorType.Address).Where(i => i.Role == "FluxAgent").Select(i => i.Value).ToArray();
            Assert.Contains("58.1.2.3", agents);
            Assert.Contains("2001:db8::5", agents);
            Assert.Contains("89.7.8.9", agents);
            Assert.DoesNotContain(ExportTestIncident.Relay, agents);
            Assert.DoesNotContain(ExportTestIncident.Resolver, agents);
            // The CDN's addresses are no flux agents: the name is not exported.
            Assert.DoesNotContain("198.18.1.1", agents);
        }

        [Fact]
        public void The_analysed_host_only_when_asked()
        {
            var set = Set(o => o.IncludeAnalyzedHost = true);
            var host = set.OfType(IndicatorType.Address).Where(i => i.Role == "AnalyzedHost").Select(i => i.Value).ToArray();
            Assert.Contains(ExportTestIncident.Relay, host);
            Assert.Contains("fe80::1", host);
            Assert.DoesNotContain(ExportTestIncident.Resolver, host);
            Assert.Contains("http://" + ExportTestIncident.Relay + "/local", Values(set, IndicatorType.Url));
        }

        [Fact]
        public void A_known_dns_server_given_by_the_analyst_is_never_exported()
        {
            var set = Set(o =>
            {
                o.IncludeFluxAgents = true;
                o.KnownDnsServers = new List<string> { "58.1.2.3" };
            });
            Assert.DoesNotContain("58.1.2.3", Values(set, IndicatorType.Address));
        }

        [Fact]
        public void Urls_of_relayed_mail_and_downloads_without_passwords()
        {
            var set = Set();
            var urls = Values(set, IndicatorType.Url);
            Assert.Contains("http://secure-login.paypa1-account.example/signin?ref=7", urls);
            Assert.Contains(ExportTestIncident.QuotedUrl, urls);
            Assert.Contains("ftp://ftpuser@91.213.8.20/mobile7.exe", urls);
            Assert.DoesNotContain(urls, u => u.Contains(ExportTestIncident.FtpSecret));
            // The relay's own address in a URL is the analysed host.
            Assert.DoesNotContain("http://" + ExportTestIncident.Relay + "/local", urls);
            // The host's own update is no malware download.
            Assert.DoesNotContain(urls, u => u.Contains("windowsupdate"));
        }

        [Theory]
        [InlineData("ftp://u:p@h/x", "ftp://u@h/x")]
        [InlineData("http://h/a@b:c", "http://h/a@b:c")]
        [InlineData("http://user@h/", "http://user@h/")]
        [InlineData("http://a:b@c:d@h:81/", "http://a@h:81/")]
        [InlineData("not a url", null)]
        [InlineData("http://", null)]
        public void Url_passwords_are_removed(string url, string? expected) => Assert.Equal(expected, IndicatorSet.CleanUrl(url));
    }

    public sealed class StixBundleTests
    {
        private static readonly DateTime Now = new DateTime(2026, 12, 7, 22, 34, 42, 123, DateTimeKind.Utc);

        private static string Bundle(TlpLevel tlp = TlpLevel.Amber, DateTime? now = null, bool agents = true)
        {
            var options = new IndicatorExportOptions { Now = now ?? Now, Tlp = tlp, IncludeFluxAgents = agents, Producer = "Campus CERT" };
            var set = IndicatorSet.From(ExportTestIncident.Build(), options);
            var sw = new StringWriter();
            StixBundleWriter.Write(set, options, sw);
            return sw.ToString();
        }

        private static JsonArray Objects(string bundle) => JsonNode.Parse(bundle)!["objects"]!.AsArray();

        [SkippableFact]
        public void Bundle_and_every_object_validate_against_the_official_STIX_schemas()
        {
            Skip.If(StixSchemas.WhyMissing is not null, StixSchemas.WhyMissing);
            var schemas = StixSchemas.Shared;
            Assert.True(schemas.Count > 50, $"only {schemas.Count} schema files were loaded");
            var bundle = JsonNode.Parse(Bundle());
            // The bundle schema checks each object too (its items are a oneOf over the object schemas); each object is
            // also checked against its own type's schema, so a failure names the object.
            Assert.Empty(schemas.Errors(schemas.Bundle, bundle));
            var types = new HashSet<string>();
            foreach (var o in bundle!["objects"]!.AsArray())
            {
                string type = o!["type"]!.GetValue<string>();
                types.Add(type);
                var errors = schemas.Errors(schemas.ForType(type), o);
                Assert.True(errors.Count == 0, $"{o["id"]} is not valid {type}:\n" + string.Join("\n", errors));
            }

            Assert.Equal(new[] { "identity", "indicator", "malware", "marking-definition", "relationship" }, types.OrderBy(t => t));
        }

        [SkippableTheory]
        [InlineData(TlpLevel.Clear)]
        [InlineData(TlpLevel.Green)]
        [InlineData(TlpLevel.Amber)]
        [InlineData(TlpLevel.AmberStrict)]
        [InlineData(TlpLevel.Red)]
        public void Every_TLP_level_validates(TlpLevel tlp)
        {
            // Only the marking changes between levels: the marking definition and the objects that refer to it.
            Skip.If(StixSchemas.WhyMissing is not null, StixSchemas.WhyMissing);
            var schemas = StixSchemas.Shared;
            var objects = Objects(Bundle(tlp));
            foreach (var type in new[] { "marking-definition", "identity", "malware", "indicator", "relationship" })
            {
                var o = objects.First(x => x!["type"]!.GetValue<string>() == type);
                var errors = schemas.Errors(schemas.ForType(type), o);
                Assert.True(errors.Count == 0, $"{o!["id"]} is not valid {type}:\n" + string.Join("\n", errors));
            }
        }

        [SkippableFact]
        public void The_schemas_do_reject_a_broken_bundle()
        {
            // The validation above means something only if the same validator refuses what the schemas forbid.
            Skip.If(StixSchemas.WhyMissing is not null, StixSchemas.WhyMissing);
            var schemas = StixSchemas.Shared;
            var bundle = JsonNode.Parse(Bundle())!;
            var indicator = bundle["objects"]!.AsArray().First(o => o!["type"]!.GetValue<string>() == "indicator")!.AsObject();
            indicator.Remove("pattern");
            Assert.NotEmpty(schemas.Errors(schemas.ForType("indicator"), indicator));
            Assert.NotEmpty(schemas.Errors(schemas.Bundle, bundle));

            var malware = JsonNode.Parse(Bundle())!["objects"]!.AsArray().First(o => o!["type"]!.GetValue<string>() == "malware")!.AsObject();
            malware["created"] = "2026-12-07T22:34:42Z"; // no milliseconds
            Assert.NotEmpty(schemas.Errors(schemas.ForType("malware"), malware));
            var marking = JsonNode.Parse(Bundle())!["objects"]!.AsArray().First(o => o!["type"]!.GetValue<string>() == "marking-definition")!.AsObject();
            marking["id"] = "marking-definition--not-a-uuid";
            Assert.NotEmpty(schemas.Errors(schemas.ForType("marking-definition"), marking));
        }

        [Theory]
        [InlineData(TlpLevel.Clear, "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487", "TLP:CLEAR", "clear")]
        [InlineData(TlpLevel.Green, "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb", "TLP:GREEN", "green")]
        [InlineData(TlpLevel.Amber, "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421", "TLP:AMBER", "amber")]
        [InlineData(TlpLevel.AmberStrict, "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003", "TLP:AMBER+STRICT", "amber+strict")]
        [InlineData(TlpLevel.Red, "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1", "TLP:RED", "red")]
        public void Carries_the_published_TLP_2_marking_on_every_object(TlpLevel tlp, string id, string name, string value)
        {
            var objects = Objects(Bundle(tlp));
            var marking = objects.Single(o => o!["type"]!.GetValue<string>() == "marking-definition")!;
            Assert.Equal(id, marking["id"]!.GetValue<string>());
            Assert.Equal(name, marking["name"]!.GetValue<string>());
            Assert.Equal("2022-10-01T00:00:00.000Z", marking["created"]!.GetValue<string>());
            var extension = marking["extensions"]!["extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"]!;
            Assert.Equal("property-extension", extension["extension_type"]!.GetValue<string>());
            Assert.Equal(value, extension["tlp_2_0"]!.GetValue<string>());
            foreach (var o in objects.Where(o => o!["type"]!.GetValue<string>() != "marking-definition"))
            {
                Assert.Equal(new[] { id }, o!["object_marking_refs"]!.AsArray().Select(r => r!.GetValue<string>()));
            }
        }

        [Fact]
        public void Patterns_timestamps_confidence_and_relationships()
        {
            var objects = Objects(Bundle());
            var indicators = objects.Where(o => o!["type"]!.GetValue<string>() == "indicator").ToList();
            var patterns = indicators.Select(i => i!["pattern"]!.GetValue<string>()).ToList();
            Assert.Contains($"[file:hashes.'SHA-256' = '{ExportTestIncident.MalwareSha256}']", patterns);
            Assert.Contains($"[file:hashes.MD5 = '{ExportTestIncident.MalwareMd5}']", patterns);
            Assert.Contains("[domain-name:value = 'bayermun.biz']", patterns);
            Assert.Contains("[ipv4-addr:value = '91.213.8.20']", patterns);
            Assert.Contains("[ipv6-addr:value = '2001:db8:bad::1']", patterns);
            Assert.Contains("[ipv6-addr:value = '2001:db8::5']", patterns);
            // Quotes and backslashes escaped as the STIX pattern grammar's string literal wants them.
            Assert.Contains("[url:value = 'http://evil.example/it\\'s\\\\here?x=\"1\"']", patterns);

            var sha = indicators.Single(i => i!["pattern"]!.GetValue<string>().Contains("SHA-256"))!;
            Assert.Equal("2012-05-14T08:10:00.000Z", sha["valid_from"]!.GetValue<string>());
            Assert.Equal("2012-05-14T08:10:00.000Z", sha["created"]!.GetValue<string>());
            Assert.Equal("2026-12-07T22:34:42.123Z", sha["modified"]!.GetValue<string>());
            Assert.Equal(92, sha["confidence"]!.GetValue<int>());
            Assert.Equal("https://www.virustotal.com/gui/file/" + ExportTestIncident.MalwareSha256, sha["external_references"]![0]!["url"]!.GetValue<string>());

            var malware = objects.Single(o => o!["type"]!.GetValue<string>() == "malware")!;
            Assert.True(malware["is_family"]!.GetValue<bool>());
            Assert.Equal("trojan.fluxrelay/mobile7", malware["name"]!.GetValue<string>());
            var identity = objects.Single(o => o!["type"]!.GetValue<string>() == "identity")!;
            Assert.Equal("Campus CERT", identity["name"]!.GetValue<string>());

            var relationships = objects.Where(o => o!["type"]!.GetValue<string>() == "relationship").ToList();
            Assert.Equal(indicators.Count, relationships.Count);
            Assert.All(relationships, r =>
            {
                Assert.Equal("indicates", r!["relationship_type"]!.GetValue<string>());
                Assert.Equal(malware["id"]!.GetValue<string>(), r["target_ref"]!.GetValue<string>());
            });
            Assert.Equal(indicators.Select(i => i!["id"]!.GetValue<string>()).OrderBy(x => x), relationships.Select(r => r!["source_ref"]!.GetValue<string>()).OrderBy(x => x));
            Assert.All(objects.Where(o => o!["type"]!.GetValue<string>() is "indicator" or "malware" or "relationship"),
                o => Assert.Equal(identity["id"]!.GetValue<string>(), o!["created_by_ref"]!.GetValue<string>()));
        }

        [Fact]
        public void A_second_export_keeps_every_id_and_only_moves_modified()
        {
            var first = Objects(Bundle(now: Now));
            var second = Objects(Bundle(now: Now.AddDays(3)));
            Assert.Equal(first.Select(o => o!["id"]!.GetValue<string>()), second.Select(o => o!["id"]!.GetValue<string>()));
            Assert.Equal(first.Count, first.Select(o => o!["id"]!.GetValue<string>()).Distinct().Count());
            var later = second.Where(o => o!["type"]!.GetValue<string>() == "indicator").ToList();
            Assert.All(later, o => Assert.Equal("2026-12-10T22:34:42.123Z", o!["modified"]!.GetValue<string>()));
            Assert.Equal(
                first.Where(o => o!["type"]!.GetValue<string>() == "indicator").Select(o => o!["created"]!.GetValue<string>()),
                later.Select(o => o!["created"]!.GetValue<string>()));
            // Same input and time: the same file, bundle id included.
            Assert.Equal(Bundle(now: Now), Bundle(now: Now));
        }

        [Fact]
        public void Ids_are_RFC_4122_version_5_in_the_documented_namespace()
        {
            // RFC 4122 appendix C namespaces with well-known results (Python's uuid.uuid5 gives the same).
            var dns = new Guid("6ba7b810-9dad-11d1-80b4-00c04fd430c8");
            var url = new Guid("6ba7b811-9dad-11d1-80b4-00c04fd430c8");
            Assert.Equal(new Guid("886313e1-3b8a-5372-9b90-0c9aee199e5d"), StixBundleWriter.NameBasedUuid(dns, "python.org"));
            Assert.Equal(StixBundleWriter.ProjectNamespace, StixBundleWriter.NameBasedUuid(url, "https://github.com/fluxforensics/FluxForensics/stix"));
            // STIX 2.1 spec's SCO id example: domain-name "example.com" in the STIX namespace.
            Assert.Equal(new Guid("bedb4899-d24b-5401-bc86-8f6b4cc18ec7"), StixBundleWriter.NameBasedUuid(StixBundleWriter.StixObservableNamespace, "{\"value\":\"example.com\"}"));

            string id = StixBundleWriter.IndicatorId(IndicatorType.Domain, "bayermun.biz");
            Assert.Equal("indicator--" + StixBundleWriter.NameBasedUuid(StixBundleWriter.ProjectNamespace, "indicator|Domain|bayermun.biz").ToString("D"), id);
            Assert.Contains(Objects(Bundle()), o => o!["id"]!.GetValue<string>() == id);
        }

        [Fact]
        public void Json_strings_are_escaped()
        {
            var sw = new StringWriter();
            var w = new JsonWriter(sw);
            w.BeginObject();
            w.Property("a", "q\"b\\c\nd\te\u0001f\u2028");
            w.EndObject();
            Assert.Equal("q\"b\\c\nd\te\u0001f\u2028", JsonNode.Parse(sw.ToString())!["a"]!.GetValue<string>());
            Assert.Contains("\\u0001", sw.ToString());
        }
    }

    public sealed class IndicatorFileTests : IDisposable
    {
        private static readonly DateTime Now = new DateTime(2026, 12, 7, 22, 34, 42, DateTimeKind.Utc);
        private readonly string _dir = ExportTestIncident.NewFolder();

        public void Dispose() => Directory.Delete(_dir, true);

        private IReadOnlyList<string> Export(IndicatorFormat format, string name, bool agents = true, bool overwrite = false)
        {
            var options = new IndicatorExportOptions { Now = Now, IncludeFluxAgents = agents };
            var set = IndicatorSet.From(ExportTestIncident.Build(), options);
            return IndicatorExport.Write(set, format, Path.Combine(_dir, name), options, overwrite, NullReporter.Instance);
        }

        private static string ZeekBasicExample => Path.Combine(Corpus.Root, "standards", "zeek__zeek", "doc", "frameworks", "intel", "basic.txt");

        [SkippableFact]
        public void Zeek_intel_file_reads_as_Zeek_reads_its_example()
        {
            Skip.If(!File.Exists(ZeekBasicExample), $"Zeek's intel example is absent ({ZeekBasicExample})");
            string path = Export(IndicatorFormat.ZeekIntel, "iocs.intel").Single();
            byte[] bytes = File.ReadAllBytes(path);
            byte[] example = File.ReadAllBytes(ZeekBasicExample);

            // The same conventions as Zeek's basic.txt: no byte order mark, LF line ends, a #fields header whose first
            // columns are byte for byte the example's, one tab between fields.
            Assert.False(bytes.Length >= 3 && bytes[0] == 0xEF && bytes[1] == 0xBB && bytes[2] == 0xBF);
            Assert.DoesNotContain((byte)'\r', bytes);
            Assert.DoesNotContain((byte)'\r', example);
            string exampleHeader = Encoding.UTF8.GetString(example).Split('\n')[0];
            string text = Encoding.UTF8.GetString(bytes);
            string header = text.Split('\n')[0];
            Assert.StartsWith(exampleHeader + "\t", header);
            Assert.Equal("#fields\tindicator\tindicator_type\tmeta.source\tmeta.desc", header);

            var reddit = ZeekIntelFile.Parse(Encoding.UTF8.GetString(example));
            Assert.Equal("www.reddit.com", reddit.Rows.Single()["indicator"]);

            var intel = ZeekIntelFile.Parse(text);
            Assert.Equal(new[] { "indicator", "indicator_type", "meta.source", "meta.desc" }, intel.Fields);
            Assert.NotEmpty(intel.Rows);
            Assert.All(intel.Rows, r =>
            {
                Assert.Contains(r["indicator_type"], new[] { "Intel::DOMAIN", "Intel::ADDR", "Intel::URL", "Intel::FILE_HASH" });
                Assert.Equal("FluxForensics", r["meta.source"]);
                Assert.NotNull(r["indicator"]);
                Assert.False(r["indicator"]!.StartsWith("\"", StringComparison.Ordinal));
            });
            var byIndicator = intel.Rows.ToDictionary(r => r["indicator"]!, r => r["indicator_type"]);
            Assert.Equal("Intel::DOMAIN", byIndicator["bayermun.biz"]);
            Assert.Equal("Intel::ADDR", byIndicator["91.213.8.20"]);
            Assert.Equal("Intel::ADDR", byIndicator["2001:db8:bad::1"]);
            Assert.Equal("Intel::FILE_HASH", byIndicator[ExportTestIncident.MalwareSha256]);
            Assert.Equal("Intel::FILE_HASH", byIndicator[ExportTestIncident.MalwareMd5]);
            // Intel::URL is "a complete URL without the prefix http://" (base/frameworks/intel/main.zeek).
            Assert.Equal("Intel::URL", byIndicator["secure-login.paypa1-account.example/signin?ref=7"]);
            Assert.Equal("Intel::URL", byIndicator["evil.example/it's\\here?x=\"1\""]);
            Assert.Equal("Intel::URL", byIndicator["ftp://ftpuser@91.213.8.20/mobile7.exe"]);
            Assert.DoesNotContain("static.cdn-campus.example", byIndicator.Keys);
        }

        [Fact]
        public void Zeek_fields_never_carry_a_tab_or_line_break_and_empty_is_a_hyphen()
        {
            Assert.Equal("-", ZeekIntelWriter.Field(null));
            Assert.Equal("-", ZeekIntelWriter.Field("  "));
            Assert.Equal("a b c", ZeekIntelWriter.Field("a\tb\nc"));
        }

        [Fact]
        public void Csv_has_the_columns_enum_names_and_UTC_times()
        {
            string path = Export(IndicatorFormat.Csv, "iocs.csv").Single();
            string text = File.ReadAllText(path);
            Assert.Contains("\r\n", text);
            var rows = CsvFile.Parse(text);
            Assert.Equal(new[] { "Type", "Value", "Context", "FirstSeen", "LastSeen", "Severity", "Source" }, rows[0]);
            var data = rows.Skip(1).ToList();
            Assert.All(data, r =>
            {
                Assert.Equal(7, r.Length);
                Assert.True(Enum.TryParse<IndicatorType>(r[0], out _), r[0]);
                Assert.True(Enum.TryParse<Severity>(r[5], out _), r[5]);
                foreach (var time in new[] { r[3], r[4] }.Where(t => t.Length > 0))
                {
                    Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$", time);
                }
            });
            var sha = data.Single(r => r[0] == "Sha256");
            Assert.Equal(ExportTestIncident.MalwareSha256, sha[1]);
            Assert.Equal("2012-05-14T08:10:00Z", sha[3]);
            Assert.Equal("Critical", sha[5]);
            Assert.Equal(ExportTestIncident.Source, sha[6]);
            // A value with quotes and a comma survives RFC 4180 quoting.
            Assert.Contains(data, r => r[0] == "Url" && r[1] == ExportTestIncident.QuotedUrl);
            Assert.Contains(data, r => r[0] == "Domain" && r[2].Contains(","));
        }

        [Fact]
        public void Accounts_csv_lists_accounts_without_secrets_and_defuses_formulas()
        {
            string path = Export(IndicatorFormat.Accounts, "accounts.csv").Single();
            var rows = CsvFile.Parse(File.ReadAllText(path));
            Assert.Equal(new[] { "Account", "Protocol", "Server", "ServerPort", "Accepted", "FirstSeen", "Sessions" }, rows[0]);
            Assert.Equal(new[] { "lucky12@starmail.example", "Smtp", "175.1.1.25", "25", "True", "2012-05-14T08:30:00Z", "3" }, rows[1]);
            Assert.Equal("'=HYPERLINK(\"http://x\",\"a,b\")", rows[2][0]);
            Assert.Equal("", rows[2][4]);
        }

        [Fact]
        public void Text_writes_one_list_per_kind()
        {
            var files = Export(IndicatorFormat.Text, "iocs.txt");
            Assert.Equal(new[] { "iocs.domains.txt", "iocs.addresses.txt", "iocs.sha256.txt", "iocs.md5.txt", "iocs.urls.txt" }, files.Select(Path.GetFileName));
            Assert.False(File.Exists(Path.Combine(_dir, "iocs.txt")));
            var lines = files.ToDictionary(f => Path.GetFileName(f)!, f => File.ReadAllText(f).Split('\n', StringSplitOptions.RemoveEmptyEntries));
            Assert.Equal(new[] { "bayermun.biz", "gorodkoff.com", "vpn.partner.example.org" }, lines["iocs.domains.txt"]);
            Assert.Equal(new[] { ExportTestIncident.MalwareSha256 }, lines["iocs.sha256.txt"]);
            Assert.Equal(new[] { ExportTestIncident.MalwareMd5 }, lines["iocs.md5.txt"]);
            Assert.Contains("91.213.8.20", lines["iocs.addresses.txt"]);
            Assert.Contains("58.1.2.3", lines["iocs.addresses.txt"]);
            Assert.DoesNotContain(ExportTestIncident.Relay, lines["iocs.addresses.txt"]);
            Assert.Contains(ExportTestIncident.QuotedUrl, lines["iocs.urls.txt"]);
        }

        [SkippableFact]
        public void Rpz_zone_loads_in_named_checkzone()
        {
            string? checkzone = NamedCheckzone.Path;
            Skip.If(checkzone is null, "named-checkzone is not installed (Debian bind9-utils)");
            string path = Export(IndicatorFormat.Rpz, "flux.rpz").Single();
            var (code, output) = NamedCheckzone.Run(checkzone!, "-k", "fail", "-n", "fail", "rpz.local", path);
            Assert.True(code == 0, output);
            Assert.Contains("OK", output);

            // named-checkzone's own canonical dump of what it loaded.
            var (dumpCode, dump) = NamedCheckzone.Run(checkzone!, "-D", "-o", "-", "rpz.local", path);
            Assert.True(dumpCode == 0, dump);
            var records = dump.Split('\n').Select(l => l.Split(new[] { ' ', '\t' }, StringSplitOptions.RemoveEmptyEntries)).Where(f => f.Length >= 4).ToList();
            string[] Cname(string owner) => records.Where(f => f[0] == owner && f[2] == "IN" && f[3] == "CNAME").Select(f => f[4]).ToArray();
            foreach (var domain in new[] { "bayermun.biz", "gorodkoff.com", "vpn.partner.example.org" })
            {
                Assert.Equal(new[] { "." }, Cname(domain + ".rpz.local."));
                Assert.Equal(new[] { "." }, Cname("*." + domain + ".rpz.local."));
            }

            Assert.Empty(Cname("static.cdn-campus.example.rpz.local."));
            Assert.Single(records, f => f[0] == "rpz.local." && f[3] == "SOA");
            Assert.Single(records, f => f[0] == "rpz.local." && f[3] == "NS");
            Assert.Equal(3 * 2, records.Count(f => f[3] == "CNAME"));
        }

        [SkippableFact]
        public void Rpz_owner_names_from_the_wire_cannot_break_the_zone()
        {
            string? checkzone = NamedCheckzone.Path;
            Skip.If(checkzone is null, "named-checkzone is not installed (Debian bind9-utils)");
            Assert.Equal("a\\059b\\040c.example", RpzZoneWriter.Owner("a;b(c.example"));
            Assert.Null(RpzZoneWriter.Owner("a..example"));
            Assert.Null(RpzZoneWriter.Owner(new string('x', 64) + ".example"));

            var incident = ExportTestIncident.Build();
            incident.FluxDomains = new[] { new FluxRankedDomain { Domain = "x;y (z).example" }, new FluxRankedDomain { Domain = string.Join(".", Enumerable.Repeat(new string('a', 60), 4)) } };
            var options = new IndicatorExportOptions { Now = Now };
            var set = IndicatorSet.From(incident, options);
            var reporter = new RecordingReporter();
            string path = IndicatorExport.Write(set, IndicatorFormat.Rpz, Path.Combine(_dir, "odd.rpz"), options, false, reporter).Single();
            var (code, output) = NamedCheckzone.Run(checkzone!, "rpz.local", path);
            Assert.True(code == 0, output + File.ReadAllText(path));
            Assert.Single(reporter.Warnings);
        }

        [Fact]
        public void An_existing_file_is_kept_unless_overwrite_is_asked()
        {
            string path = Path.Combine(_dir, "iocs.json");
            File.WriteAllText(path, "keep me");
            Assert.Throws<IOException>(() => Export(IndicatorFormat.Stix, "iocs.json"));
            Assert.Equal("keep me", File.ReadAllText(path));
            Assert.Single(Directory.GetFiles(_dir));

            // Text: one existing list stops the whole set.
            File.WriteAllText(Path.Combine(_dir, "set.urls.txt"), "keep");
            Assert.Throws<IOException>(() => Export(IndicatorFormat.Text, "set.txt"));
            Assert.Equal(2, Directory.GetFiles(_dir).Length);

            Export(IndicatorFormat.Stix, "iocs.json", overwrite: true);
            Assert.StartsWith("{", File.ReadAllText(path));
            Export(IndicatorFormat.Text, "set.txt", overwrite: true);
            Assert.Equal(6, Directory.GetFiles(_dir).Length);
        }

        [Fact]
        public void No_secret_is_written_in_any_format()
        {
            foreach (IndicatorFormat format in Enum.GetValues(typeof(IndicatorFormat)))
            {
                foreach (var file in Export(format, "all." + format.ToString().ToLowerInvariant()))
                {
                    string text = File.ReadAllText(file);
                    Assert.DoesNotContain(ExportTestIncident.Secret, text);
                    Assert.DoesNotContain(ExportTestIncident.FtpSecret, text);
                    Assert.DoesNotContain(Redaction.Mask, text);
                }
            }
        }
    }

    /// <summary>Reads a Zeek intel file by the rules Zeek's documentation gives: #fields header, one tab between fields, "-" is null, no quoting.</summary>
    internal sealed class ZeekIntelFile
    {
        public string[] Fields { get; private set; } = Array.Empty<string>();
        public List<Dictionary<string, string?>> Rows { get; } = new List<Dictionary<string, string?>>();

        public static ZeekIntelFile Parse(string text)
        {
            var file = new ZeekIntelFile();
            foreach (var line in text.Split('\n'))
            {
                if (line.Length == 0)
                {
                    continue;
                }

                if (line.StartsWith("#", StringComparison.Ordinal))
                {
                    var parts = line.Split('\t');
                    if (parts[0] == "#fields")
                    {
                        file.Fields = parts.Skip(1).ToArray();
                    }

                    continue;
                }

                Assert.True(file.Fields.Length > 0, "a data line before the #fields line");
                var values = line.Split('\t');
                Assert.True(values.Length == file.Fields.Length, $"{values.Length} fields where #fields names {file.Fields.Length}: {line}");
                Assert.All(values, v => Assert.NotEqual(string.Empty, v));
                file.Rows.Add(file.Fields.Zip(values, (f, v) => (f, v)).ToDictionary(x => x.f, x => x.v == "-" ? null : x.v));
            }

            return file;
        }
    }

    /// <summary>An RFC 4180 reader: fields in quotes may hold commas, doubled quotes and line breaks; records end with CRLF.</summary>
    internal static class CsvFile
    {
        public static List<string[]> Parse(string text)
        {
            var rows = new List<string[]>();
            var row = new List<string>();
            var field = new StringBuilder();
            int i = 0;
            bool quoted = false;
            while (i < text.Length)
            {
                char c = text[i];
                if (quoted)
                {
                    if (c == '"' && i + 1 < text.Length && text[i + 1] == '"')
                    {
                        field.Append('"');
                        i += 2;
                        continue;
                    }

                    if (c == '"')
                    {
                        quoted = false;
                    }
                    else
                    {
                        field.Append(c);
                    }

                    i++;
                    continue;
                }

                if (c == '"' && field.Length == 0)
                {
                    quoted = true;
                }
                else if (c == ',')
                {
                    row.Add(field.ToString());
                    field.Clear();
                }
                else if (c == '\r' && i + 1 < text.Length && text[i + 1] == '\n')
                {
                    row.Add(field.ToString());
                    field.Clear();
                    rows.Add(row.ToArray());
                    row.Clear();
                    i++;
                }
                else
                {
                    Assert.False(c == '\n' || c == '"', $"stray {(c == '\n' ? "LF" : "quote")} at {i}");
                    field.Append(c);
                }

                i++;
            }

            Assert.True(row.Count == 0 && field.Length == 0, "the last record has no CRLF");
            return rows;
        }
    }

    internal static class NamedCheckzone
    {
        public static string? Path => new[] { "/usr/bin/named-checkzone", "/usr/sbin/named-checkzone" }.FirstOrDefault(File.Exists);

        public static (int ExitCode, string Output) Run(string file, params string[] arguments)
        {
            var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            foreach (var a in arguments)
            {
                psi.ArgumentList.Add(a);
            }

            using var p = Process.Start(psi)!;
            var stderr = p.StandardError.ReadToEndAsync();
            string stdout = p.StandardOutput.ReadToEnd();
            Assert.True(p.WaitForExit(60_000), "named-checkzone did not finish");
            return (p.ExitCode, stdout + stderr.Result);
        }
    }
}
