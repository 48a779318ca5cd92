using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.Json;
using FluxForensics.Incident;
using FluxForensics.Model;
using Xunit;

namespace FluxForensics.Tests.Incident
{
    public class IncidentBuilderTests
    {
        private const string Malware = "2d116c81a0b5015cd228394b57048a666f551a56a81031656ea466bc856fac44";
        private const string Other = "70738b4c086dd9e69769ba7f3fc6add234a5b839cfafc718804f63cd58bf4790";
        private static readonly DateTime T0 = new DateTime(2012, 5, 14, 9, 0, 0, DateTimeKind.Utc);

        private static T Scored<T>(T finding, int points) where T : FluxFinding
        {
            finding.SetScore(new ScoreCard().Add("test", points));
            return finding;
        }

        private static FluxListener Listener(string computer, string sha, string path = "/home/alice/.cache/.mobile7") => Scored(new FluxListener
        {
            ComputerName = computer,
            Protocol = "Tcp",
            LocalAddress = "0.0.0.0",
            LocalPort = 80,
            ProcessId = 4242,
            ProcessName = "mobile7",
            Path = path,
            Sha256 = sha,
            ProcessStartTime = T0.AddMinutes(-30),
        }, 85);

        private static SuspiciousAutorun RunValue(string computer, string sha) => Scored(new SuspiciousAutorun
        {
            ComputerName = computer,
            Location = @"HKU\S-1-5-21-1\Software\Microsoft\Windows\CurrentVersion\Run",
            Name = "CrashReportSaver",
            Command = @"C:\Users\alice\AppData\Roaming\mobile7.exe",
            ImagePath = @"C:\Users\alice\AppData\Roaming\mobile7.exe",
            Path = @"C:\Users\alice\AppData\Roaming\mobile7.exe",
            Sha256 = sha,
            EntryType = "RegistryValue",
            EntryPath = @"HKU\S-1-5-21-1\Software\Microsoft\Windows\CurrentVersion\Run",
            LastWriteTime = T0.AddHours(-2),
        }, 65);

        private static UsbLnkTrap Trap(string computer, string sha) => Scored(new UsbLnkTrap
        {
            ComputerName = computer,
            DriveRoot = "E:\\",
            ShortcutPath = @"E:\photos.lnk",
            PayloadPath = @"E:\click.exe",
            PayloadSha256 = sha,
            Sha256 = sha,
            Path = @"E:\click.exe",
            Arguments = "/c \"start %cd%\\click.exe && %windir%\\explorer %cd%\\photos\"",
            PayloadLastWriteTime = T0.AddHours(-1),
            ShortcutLastWriteTime = T0.AddHours(-1).AddSeconds(1),
        }, 100);

        private static FluxDownload Download(string sha, string client = "89.110.251.188", string server = "91.213.8.20", string relay = "140.127.1.77",
            string file = "mobile7.exe", string? host = null, DateTime? at = null) => Scored(new FluxDownload
        {
            ComputerName = "analyst",
            Source = "incident.pcapng",
            Client = client,
            Relay = relay,
            Server = server,
            ServerPort = 80,
            Url = $"http://{host ?? server}/{file}",
            FileName = file,
            Size = 39970,
            Sha256 = sha,
            Md5 = "0123456789abcdef0123456789abcdef",
            Protocol = "Http",
            FileType = "PE",
            Account = "infected",
            Time = at ?? T0.AddMinutes(10),
        }, 75);

        private static RelaySession Smtp(string client, string server, string account, string relay = "140.127.1.77", string[]? urls = null, DateTime? at = null) => Scored(new RelaySession
        {
            ComputerName = "analyst",
            Source = "incident.pcapng",
            Protocol = "Smtp",
            Client = client,
            Relay = relay,
            Server = server,
            ServerPort = 25,
            Account = account,
            Secret = Redaction.Mask,
            Accepted = true,
            Urls = urls ?? Array.Empty<string>(),
            Start = at ?? T0.AddMinutes(5),
            End = (at ?? T0.AddMinutes(5)).AddSeconds(3),
        }, 95);

        private static ExposedCredential Login(string client, string server, string account, DateTime? at = null) => Scored(new ExposedCredential
        {
            ComputerName = "analyst",
            Source = "incident.pcapng",
            Protocol = "Smtp",
            Client = client,
            Server = server,
            ServerPort = 25,
            Relay = "140.127.1.77",
            Account = account,
            Secret = Redaction.Mask,
            Accepted = true,
            Mechanism = "LOGIN",
            Time = at ?? T0.AddMinutes(5),
        }, 75);

        private static FluxDomain Flux(string name, long queries, params string[] addresses) => Scored(new FluxDomain
        {
            ComputerName = "analyst",
            Source = "incident.pcapng",
            Domain = name,
            Addresses = addresses,
            AddressCount = addresses.Length,
            IsFastFlux = true,
            FluxScore = queries,
            QueryCount = queries,
            AnsweredBy = new[] { "140.127.1.77" },
            FirstSeen = T0.AddMinutes(1),
            LastSeen = T0.AddMinutes(100),
        }, 70);

        private static FluxIncident Build(IncidentOptions? options, params FluxFinding[] findings)
        {
            var builder = new IncidentBuilder(options);
            foreach (var f in findings)
            {
                builder.Add(f);
            }

            return builder.Build();
        }

        [Fact]
        public void TheSameFileAsListenerImageRunValueTargetUsbPayloadAndDownloadIsOneCriticalCorrelation()
        {
            var incident = Build(null, Listener("pc17", Malware), RunValue("pc17", Malware), Trap("pc17", Malware), Download(Malware));

            var c = Assert.Single(incident.Correlations, x => x.IndicatorType == IndicatorType.Sha256);
            Assert.Equal(Malware, c.Indicator);
            Assert.Equal(Severity.Critical, c.Severity);
            Assert.Equal(new[] { "FluxListener", "SuspiciousAutorun", "UsbLnkTrap", "FluxDownload" }.OrderBy(x => x), c.EvidenceKinds.OrderBy(x => x));
            Assert.Contains("click.exe", c.Names);
            Assert.Contains("mobile7.exe", c.Names);
            Assert.Contains(c.Evidence, e => e.Kind == "SuspiciousAutorun" && e.Role == "registry value target" && e.Location!.EndsWith(@"\Run\CrashReportSaver", StringComparison.Ordinal));
            Assert.Contains(c.Evidence, e => e.Kind == "FluxDownload" && e.Location == "http://91.213.8.20/mobile7.exe" && e.ComputerName == "analyst");
            Assert.All(c.Evidence, e => Assert.Equal(incident.Findings[e.FindingIndex].Kind, e.Kind));
            Assert.Equal(c.RiskScore, Math.Min(100, c.Reasons.Sum(r => r.Points)));
            Assert.Equal(c.RiskScore, incident.RiskScore);
            var file = Assert.Single(incident.MalwareFiles);
            Assert.Equal(Malware, file.Sha256);
            Assert.Equal("0123456789abcdef0123456789abcdef", file.Md5);
        }

        [Fact]
        public void TheSameHashOnThreeComputersSaysHowItSpread()
        {
            var incident = Build(null, Listener("pc17", Malware), RunValue("pc23", Malware), Trap("lab-04", Malware), Listener("pc99", Other));

            var c = Assert.Single(incident.Correlations);
            Assert.Equal(new[] { "lab-04", "pc17", "pc23" }, c.ComputerNames.OrderBy(x => x, StringComparer.Ordinal));
            Assert.Contains(c.Reasons, r => r.Reason.StartsWith("on 3 computers", StringComparison.Ordinal) && r.Points == Detection.IncidentRules.SpreadPoints);
            Assert.Equal(4, incident.Hosts.Count(h => h.IsComputer));
        }

        [Fact]
        public void AFluxDomainThatIsAlsoTheHostOfARelayedDownloadCorrelates()
        {
            var incident = Build(null, Flux("bayermun.biz", 40, "1.2.3.4"), Download(Malware, host: "BAYERMUN.biz."));
            var c = Assert.Single(incident.Correlations, x => x.IndicatorType == IndicatorType.Domain);
            Assert.Equal("bayermun.biz", c.Indicator);
            Assert.Equal(new[] { "FluxDomain", "FluxDownload" }, c.EvidenceKinds);
            Assert.Contains(c.Reasons, r => r.Reason == "also the download host");
        }

        [Fact]
        public void ARelayAddressJoinsTheComputerThatOwnsItAndFoldsIntoItsHostRow()
        {
            var options = new IncidentOptions();
            options.ComputerAddresses["pc17"] = new[] { "140.127.1.77" };
            var incident = Build(options, Listener("pc17", Malware), Smtp("190.227.233.168", "212.89.194.64", "angel20@kittymail.example"));

            var c = Assert.Single(incident.Correlations, x => x.IndicatorType == IndicatorType.Address);
            Assert.Equal("140.127.1.77", c.Indicator);
            Assert.Contains(c.Reasons, r => r.Points == Detection.IncidentRules.RelayOwnedByComputerPoints);
            var pc = Assert.Single(incident.Hosts, h => h.Name == "pc17");
            Assert.Equal(new[] { "140.127.1.77" }, pc.Addresses);
            Assert.Contains(HostRole.InfectedHost, pc.Roles);
            Assert.Contains(HostRole.Relay, pc.Roles);
            Assert.DoesNotContain(incident.Hosts, h => h.Name == "140.127.1.77");
            Assert.Contains(incident.Hosts, h => h.Name == "190.227.233.168" && h.Roles.SequenceEqual(new[] { HostRole.Bot }));
            Assert.Contains(incident.Hosts, h => h.Name == "212.89.194.64" && h.Roles.SequenceEqual(new[] { HostRole.MailServer }));
        }

        [Fact]
        public void ABotUsingTwoRelaysAndAnUpstreamHostWithTwoDownloadsCorrelate()
        {
            var incident = Build(null,
                Smtp("58.50.241.178", "190.163.159.80", "tiger31@dragonmail.example", relay: "140.127.1.77"),
                Smtp("58.50.241.178", "190.163.159.81", "tiger32@dragonmail.example", relay: "140.127.9.9"),
                Download(Malware, client: "1.1.1.1", file: "mobile7.exe"),
                Download(Other, client: "2.2.2.2", file: "CrashReportSaver.exe"));

            var bot = Assert.Single(incident.Correlations, x => x.Indicator == "58.50.241.178");
            Assert.Contains(bot.Reasons, r => r.Reason == "a bot using 2 relays");
            var upstream = Assert.Single(incident.Correlations, x => x.Indicator == "91.213.8.20");
            Assert.Contains(upstream.Reasons, r => r.Points == Detection.IncidentRules.MalwareHostPoints);
            Assert.Equal(new[] { "CrashReportSaver.exe", "mobile7.exe" }, upstream.Names.OrderBy(x => x, StringComparer.Ordinal));
            Assert.Equal(2, incident.Relays.Length);
        }

        [Fact]
        public void UpstreamAndMailHostsCarryTheNetworkAndCountryTheCaptureAnalysisFound()
        {
            var download = Download(Malware);
            download.ServerAsn = 50896;
            download.ServerAsOrganization = "Example Hosting UA";
            download.ServerCountry = "UA";
            download.ServerCountryName = "Ukraine";
            var incident = Build(null, download, Smtp("190.227.233.168", "212.89.194.64", "angel20@kittymail.example"));
            var upstream = Assert.Single(incident.Hosts, h => h.Name == "91.213.8.20");
            Assert.Equal((50896u, "Example Hosting UA", "UA", "Ukraine"), (upstream.Asn!.Value, upstream.AsOrganization, upstream.Country, upstream.CountryName));
            Assert.Null(Assert.Single(incident.Hosts, h => h.Name == "212.89.194.64").Country);
        }

        [Fact]
        public void OneContextIsNotACorrelation()
        {
            // A login reported as a relay session and as an exposed credential is one sighting of the account; a flux
            // agent named by two flux domains of one capture is one role in one place.
            var incident = Build(null,
                Smtp("190.227.233.168", "212.89.194.64", "angel20@kittymail.example"),
                Login("190.227.233.168", "212.89.194.64", "angel20@kittymail.example"),
                Flux("a-flux.biz", 10, "8.8.4.4"),
                Flux("b-flux.biz", 20, "8.8.4.4"));
            Assert.Empty(incident.Correlations);
        }

        [Fact]
        public void ARelayedWebRequestAndTheDownloadItCarriedAreOnePieceOfEvidence()
        {
            var session = Scored(new RelaySession
            {
                ComputerName = "analyst",
                Source = "incident.pcapng",
                Protocol = "Http",
                Client = "89.110.251.188",
                Relay = "140.127.1.77",
                Server = "91.213.8.20",
                ServerPort = 80,
                ServerName = "dl0.upd-cdn.example",
                Urls = new[] { "http://dl0.upd-cdn.example/mobile7.exe" },
                Start = T0.AddMinutes(10),
            }, 70);
            var incident = Build(null, session, Download(Malware, host: "dl0.upd-cdn.example"));
            Assert.DoesNotContain(incident.Correlations, c => c.IndicatorType == IndicatorType.Domain || c.IndicatorType == IndicatorType.Address);
            Assert.Contains(incident.Hosts, h => h.Name == "91.213.8.20" && h.Roles.SequenceEqual(new[] { HostRole.MalwareHost }));
        }

        [Fact]
        public void AnAccountOnTwoServersAndAUrlInTwoMailsCorrelate()
        {
            const string url = "http://apple-id.unlock-service.example/verify?u=1";
            var incident = Build(null,
                Smtp("190.227.233.168", "212.89.194.64", "angel20@kittymail.example", urls: new[] { url }),
                Smtp("61.165.243.124", "175.211.180.83", "Angel20@KittyMail.example", urls: new[] { url }));

            var account = Assert.Single(incident.Correlations, x => x.IndicatorType == IndicatorType.Account);
            Assert.Equal("angel20@kittymail.example", account.Indicator);
            Assert.Contains(account.Reasons, r => r.Reason == "used on 2 servers");
            var u = Assert.Single(incident.Correlations, x => x.IndicatorType == IndicatorType.Url);
            Assert.Equal(url, u.Indicator);
            Assert.Contains(incident.Correlations, x => x.IndicatorType == IndicatorType.Domain && x.Indicator == "apple-id.unlock-service.example");
        }

        [Fact]
        public void TheTimelineIsInTimeOrderWithOneLinePerMoment()
        {
            var incident = Build(null, Download(Malware, file: "cclub02.exe", client: "62.210.239.195"), RunValue("pc17", Malware),
                Flux("bayermun.biz", 40, "1.2.3.4"), Listener("pc17", Malware), Trap("pc17", Malware));

            var times = incident.Timeline.Select(e => e.Time).ToList();
            Assert.Equal(times.OrderBy(t => t), times);
            Assert.All(incident.Timeline, e => Assert.Equal(DateTimeKind.Utc, e.Time.Kind));
            var events = incident.Timeline.Select(e => e.Event).ToList();
            Assert.Equal("Run value CrashReportSaver written", events[0]);
            Assert.Contains("click.exe written to the stick", events);
            Assert.Contains("first DNS answer for bayermun.biz", events);
            Assert.Contains("cclub02.exe relayed to 62.210.239.195 from 91.213.8.20", events);
            Assert.True(events.IndexOf("click.exe written to the stick") < events.IndexOf("first DNS answer for bayermun.biz"));
            var run = incident.Timeline[0];
            Assert.Equal("pc17", run.ComputerName);
            Assert.Equal("SuspiciousAutorun", incident.Findings[run.FindingIndex].Kind);
        }

        [Fact]
        public void TheSummaryRanksFluxDomainsByQueriesAndListsExposedAccountsWithoutSecrets()
        {
            var incident = Build(null,
                Flux("few.biz", 3, "1.1.1.1"), Flux("many.ru", 300, "2.2.2.2"), Flux("some.info", 30, "3.3.3.3"),
                Smtp("190.227.233.168", "212.89.194.64", "angel20@kittymail.example"),
                Login("190.227.233.168", "212.89.194.64", "angel20@kittymail.example", T0.AddMinutes(7)),
                Login("61.165.243.124", "212.89.194.64", "angel20@kittymail.example", T0.AddMinutes(3)));

            Assert.Equal(new[] { "many.ru", "some.info", "few.biz" }, incident.FluxDomains.Select(d => d.Domain));
            Assert.Equal(3, incident.FluxDomainCount);
            var account = Assert.Single(incident.ExposedAccounts);
            Assert.Equal(2, account.Sessions);
            Assert.Equal(T0.AddMinutes(3), account.FirstSeen);
            Assert.Equal(Redaction.Mask, account.Secret);
            Assert.Equal(1, incident.MailServerCount);
            Assert.Equal(1, incident.BotCount);
        }

        [Fact]
        public void AReputationForTheHashIsAttachedAndScored()
        {
            var reputation = Scored(new FluxReputation
            {
                Sha256 = Malware,
                Verdict = ReputationVerdict.Malicious,
                Malicious = 29,
                Total = 57,
                Ratio = "29/57",
                Source = "VirusTotal",
            }, 80);
            var incident = Build(null, Listener("pc17", Malware), Download(Malware), reputation);
            var c = Assert.Single(incident.Correlations, x => x.IndicatorType == IndicatorType.Sha256);
            Assert.Same(reputation, c.Reputation);
            Assert.Contains(c.Reasons, r => r.Reason == "VirusTotal: Malicious (29/57)" && r.Points == Detection.IncidentRules.MaliciousPoints);
            Assert.Same(reputation, incident.MalwareFiles.Single().Reputation);
            Assert.Single(incident.Reputations);
        }

        [Fact]
        public void AnIncidentGivenAsEvidenceAddsItsFindings()
        {
            var first = Build(null, Listener("pc17", Malware), RunValue("pc17", Malware));
            var builder = new IncidentBuilder();
            builder.Add(first);
            builder.Add(Trap("pc23", Malware));
            var second = builder.Build();
            Assert.Equal(3, second.FindingCount);
            Assert.Equal(3, second.Correlations.Single().Evidence.Length);
        }

        [Fact]
        public void FindingsWrittenAsJsonLinesAndAsAJsonArrayComeBackTyped()
        {
            var findings = new FluxFinding[] { Listener("pc17", Malware), Trap("pc23", Malware), Download(Malware) };
            var options = new JsonSerializerOptions();
            options.Converters.Add(new System.Text.Json.Serialization.JsonStringEnumConverter());
            string dir = Path.Combine(Path.GetTempPath(), "ff-incident-" + Guid.NewGuid().ToString("n"));
            Directory.CreateDirectory(dir);
            try
            {
                string lines = Path.Combine(dir, "sweep.jsonl");
                File.WriteAllLines(lines, findings.Select(f => JsonSerializer.Serialize(f, f.GetType(), options)).Append("not json"));
                string array = Path.Combine(dir, "findings.json");
                File.WriteAllText(array, "[\n" + string.Join(",\n", findings.Select(f => JsonSerializer.Serialize(f, f.GetType(), new JsonSerializerOptions { WriteIndented = true }))) + "\n]");

                foreach (string file in new[] { lines, array })
                {
                    var records = FindingFile.ReadJson(file).ToList();
                    var back = records.Where(r => r.Bag is not null).Select(r => FindingRehydrator.Rehydrate(r.Bag!)).ToList();
                    Assert.All(back, b => Assert.Empty(b.Problems));
                    var listener = Assert.IsType<FluxListener>(back[0].Value);
                    Assert.Equal("pc17", listener.ComputerName);
                    Assert.Equal(Severity.Critical, listener.Severity);
                    Assert.Equal(T0.AddMinutes(-30), listener.ProcessStartTime);
                    Assert.Equal(DateTimeKind.Utc, listener.ProcessStartTime!.Value.Kind);
                    Assert.Equal("test", Assert.Single(listener.Reasons).Reason);
                    Assert.IsType<UsbLnkTrap>(back[1].Value);
                    Assert.Equal(Malware, Assert.IsType<FluxDownload>(back[2].Value).Sha256);
                }

                Assert.Contains(FindingFile.ReadJson(lines), r => r.Bag is null && r.Error!.StartsWith("line 4:", StringComparison.Ordinal));
            }
            finally
            {
                Directory.Delete(dir, recursive: true);
            }
        }

        [Fact]
        public void WindowsPowerShellDatesAndShallowReasonsAreReadBack()
        {
            string dir = Path.Combine(Path.GetTempPath(), "ff-incident-" + Guid.NewGuid().ToString("n"));
            Directory.CreateDirectory(dir);
            try
            {
                // Windows PowerShell 5.1's ConvertTo-Json: dates as \/Date(ms)\/, enums as numbers, reasons past the
                // default depth as their text.
                string file = Path.Combine(dir, "ps51.json");
                File.WriteAllText(file, "{\"Kind\":\"SuspiciousAutorun\",\"ComputerName\":\"PC17\",\"Severity\":3,\"RiskScore\":65," +
                    "\"LastWriteTime\":\"\\/Date(1336981200000)\\/\",\"Reasons\":[\"hidden image (+20)\",\"run value (-5)\"],\"Sha256\":\"" + Malware + "\"}");
                var back = FindingRehydrator.Rehydrate(FindingFile.ReadJson(file).Single().Bag!);
                var autorun = Assert.IsType<SuspiciousAutorun>(back.Value);
                Assert.Equal(Severity.High, autorun.Severity);
                Assert.Equal(new DateTime(2012, 5, 14, 7, 40, 0, DateTimeKind.Utc), autorun.LastWriteTime);
                Assert.Equal(new[] { ("hidden image", 20), ("run value", -5) }, autorun.Reasons.Select(r => (r.Reason, r.Points)));
            }
            finally
            {
                Directory.Delete(dir, recursive: true);
            }
        }

        [Fact]
        public void AQuarantinedFileJoinsTheFileItWasByItsHash()
        {
            var builder = new IncidentBuilder();
            builder.Add(Listener("pc17", Malware));
            builder.Add(new FluxQuarantineItem
            {
                ComputerName = "pc17",
                QuarantineId = "q1",
                OriginalPath = "/home/alice/.cache/.mobile7",
                Sha256 = Malware,
                Action = "QuarantineFile",
                QuarantinedAt = T0.AddDays(1),
            });
            var incident = builder.Build();

            var c = Assert.Single(incident.Correlations);
            Assert.Equal(new[] { "FluxListener", "FluxQuarantineItem" }, c.EvidenceKinds);
            var quarantined = Assert.Single(c.Evidence, e => e.Kind == "FluxQuarantineItem");
            Assert.Equal(-1, quarantined.FindingIndex);
            Assert.Contains(c.Reasons, r => r.Points == Detection.IncidentRules.QuarantinedPoints);
            var e = Assert.Single(incident.Timeline, t => t.Kind == "FluxQuarantineItem");
            Assert.Equal("/home/alice/.cache/.mobile7 quarantined (QuarantineFile)", e.Event);
            Assert.Equal(-1, e.FindingIndex);
            Assert.Equal(2, incident.FindingCount);
            Assert.Contains(HostRole.InfectedHost, Assert.Single(incident.Hosts).Roles);
        }

        [Fact]
        public void HashesAreLowercaseHex()
        {
            Assert.Equal("00ff10ab", Hex.Lower(new byte[] { 0x00, 0xFF, 0x10, 0xAB }));
            Assert.Equal("00FF10AB", Hex.Upper(new byte[] { 0x00, 0xFF, 0x10, 0xAB }));
            Assert.Equal(Malware, Hex.Normalize(Malware, 64));
            Assert.Null(Hex.Normalize(Malware + "0", 64));
            Assert.Equal(Malware, Hex.Normalize(" " + Malware.ToUpperInvariant() + " "));
        }
    }
}
