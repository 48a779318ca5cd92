using System;
using System.IO;
using FluxForensics.Model;

namespace FluxForensics.Tests.Export
{
    /// <summary>
    /// A small incident built through the model's internal setters: one relay (the analysed host), flux names and a CDN name
    /// the analysis did not call flux, a relayed phishing mail, a relayed malware download fetched with an FTP login, the
    /// host's own (benign) update download, and exposed accounts whose secrets were captured with -IncludeSecret.
    /// </summary>
    internal static class ExportTestIncident
    {
        public const string Relay = "140.127.1.77";
        public const string Resolver = "140.127.1.1";
        public const string Secret = "hunter2-Spring!";
        public const string FtpSecret = "S3cretFtpPass";
        public const string MalwareSha256 = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
        public const string MalwareMd5 = "098f6bcd4621d373cade4e832627b4f6";
        public const string UpdateSha256 = "2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae";
        public const string QuotedUrl = "http://evil.example/it's\\here?x=\"1\"";
        public const string Source = "/cases/incident.pcapng";

        public static readonly DateTime Start = new DateTime(2012, 5, 14, 8, 0, 0, DateTimeKind.Utc);

        public static FluxIncident Build()
        {
            var bayermun = Finding(new FluxDomain
            {
                Domain = "bayermun.biz",
                Addresses = new[] { "58.1.2.3", "2001:db8::5", Relay, Resolver, "61.4.5.6" },
                AddressCount = 5,
                NetworkCount = 5,
                FluxScore = 412.7,
                IsFastFlux = true,
                IsDoubleFlux = true,
                FirstSeen = Start.AddMinutes(1),
                LastSeen = Start.AddHours(5),
            }, 95);
            var gorodkoff = Finding(new FluxDomain
            {
                Domain = "Gorodkoff.COM.",
                Addresses = new[] { "89.7.8.9" },
                AddressCount = 1,
                FluxScore = 120,
                IsFastFlux = true,
                FirstSeen = Start.AddMinutes(2),
                LastSeen = Start.AddHours(4),
            }, 85);
            var partner = Finding(new FluxDomain { Domain = "vpn.partner.example.org", FluxScore = 60, IsFastFlux = true, FirstSeen = Start }, 70);
            var cdn = Finding(new FluxDomain { Domain = "static.cdn-campus.example", Addresses = new[] { "198.18.1.1" }, FluxScore = -40, IsFastFlux = false, FirstSeen = Start }, 5);
            var mail = Finding(new RelaySession
            {
                Protocol = "Smtp",
                Client = "58.10.11.12",
                Relay = Relay,
                Server = "175.1.1.25",
                ServerPort = 25,
                Account = "lucky12@starmail.example",
                Secret = Secret,
                Urls = new[] { "http://secure-login.paypa1-account.example/signin?ref=7", QuotedUrl, "http://" + Relay + "/local" },
                Start = Start.AddMinutes(30),
                End = Start.AddMinutes(31),
            }, 80);
            var download = Finding(new FluxDownload
            {
                Client = "58.10.11.12",
                Relay = Relay,
                Server = "91.213.8.20",
                ServerPort = 21,
                Protocol = "Ftp",
                Url = "ftp://ftpuser:" + FtpSecret + "@91.213.8.20/mobile7.exe",
                FileName = "mobile7.exe",
                Sha256 = MalwareSha256,
                Md5 = MalwareMd5,
                Size = 40960,
                Time = Start.AddMinutes(10),
            }, 90);
            var update = Finding(new FluxDownload
            {
                Client = Relay,
                Server = "65.55.200.155",
                Protocol = "Http",
                Url = "http://download.windowsupdate.com/msdownload/authrootseq.exe",
                FileName = "authrootseq.exe",
                Sha256 = UpdateSha256,
                Time = Start.AddMinutes(5),
            }, 5);
            var credential = Finding(new ExposedCredential
            {
                Protocol = "Smtp",
                Client = "58.10.11.12",
                Server = "175.1.1.25",
                Account = "lucky12@starmail.example",
                Secret = Secret,
                Relay = Relay,
                Accepted = true,
                Time = Start.AddMinutes(30),
            }, 70);
            var proxy = Finding(new DnsProxy { Address = Relay, IsRelay = true, ClientCount = 40 }, 90);
            var resolver = Finding(new DnsProxy { Address = Resolver, IsKnownResolver = true, ClientCount = 3 }, 5);

            var reputation = new FluxReputation
            {
                Sha256 = MalwareSha256,
                Verdict = ReputationVerdict.Malicious,
                Malicious = 29,
                Total = 57,
                Ratio = "29/57",
                Label = "trojan.fluxrelay/mobile7",
                Link = "https://www.virustotal.com/gui/file/" + MalwareSha256,
                Source = "VirusTotal",
            };

            var findings = new FluxFinding[] { bayermun, gorodkoff, partner, cdn, mail, download, update, credential, proxy, resolver };
            var incident = new FluxIncident
            {
                Title = "Fast-flux relay on 140.127.1.77",
                FirstSeen = Start,
                LastSeen = Start.AddHours(5),
                ComputerNames = new[] { "INFECTED-PC" },
                Relays = new[] { Relay },
                FluxDomains = new[]
                {
                    new FluxRankedDomain { Domain = "bayermun.biz", QueryCount = 1200, FluxScore = 412.7, IsDoubleFlux = true, RiskScore = 95, FirstSeen = Start.AddMinutes(1), LastSeen = Start.AddHours(5) },
                    new FluxRankedDomain { Domain = "gorodkoff.com", QueryCount = 300, FluxScore = 120, RiskScore = 85, FirstSeen = Start.AddMinutes(2) },
                    new FluxRankedDomain { Domain = "vpn.partner.example.org", QueryCount = 20, FluxScore = 60, RiskScore = 70 },
                    // Ranked by mistake: its own finding says it is not flux, and that judgement wins.
                    new FluxRankedDomain { Domain = "static.cdn-campus.example", QueryCount = 9000, FluxScore = -40, RiskScore = 5 },
                },
                MalwareHosts = new[] { "91.213.8.20", "2001:DB8:BAD::1", "65.55.200.155" },
                MalwareFiles = new[]
                {
                    new FluxMalwareFile { Sha256 = MalwareSha256.ToUpperInvariant(), Names = new[] { "mobile7.exe" }, FirstSeen = Start.AddMinutes(10), Reputation = reputation },
                    new FluxMalwareFile { Sha256 = UpdateSha256, Names = new[] { "authrootseq.exe" }, FirstSeen = Start.AddMinutes(5) },
                },
                ExposedAccounts = new[]
                {
                    new FluxExposedAccount { Account = "lucky12@starmail.example", Protocol = "Smtp", Server = "175.1.1.25", ServerPort = 25, Accepted = true, FirstSeen = Start.AddMinutes(30), Sessions = 3, Secret = Secret },
                    new FluxExposedAccount { Account = "=HYPERLINK(\"http://x\",\"a,b\")", Protocol = "Ftp", Server = "91.213.8.20", ServerPort = 21, Accepted = null, Sessions = 1, Secret = FtpSecret },
                },
                Hosts = new[]
                {
                    new FluxIncidentHost { Name = "INFECTED-PC", IsComputer = true, Addresses = new[] { Relay, "fe80::1" }, Roles = new[] { HostRole.InfectedHost, HostRole.Relay } },
                    new FluxIncidentHost { Name = "91.213.8.20", Roles = new[] { HostRole.MalwareHost }, MaxRiskScore = 90, FirstSeen = Start.AddMinutes(10), LastSeen = Start.AddMinutes(10) },
                },
                Reputations = new[] { reputation },
                Findings = findings,
                FindingCount = findings.Length,
                Correlations = new[]
                {
                    new FluxCorrelation { Indicator = MalwareSha256, IndicatorType = IndicatorType.Sha256, RiskScore = 92, Severity = Severity.Critical, FirstSeen = Start.AddMinutes(10), LastSeen = Start.AddHours(2), Reputation = reputation, Evidence = new[] { new CorrelationEvidence { Kind = "FluxDownload", FindingIndex = 5 } } },
                },
                RiskScore = 95,
                Severity = Severity.Critical,
            };
            return incident;
        }

        private static T Finding<T>(T finding, int score) where T : FluxFinding
        {
            finding.RiskScore = score;
            finding.Severity = Scoring.SeverityOf(score);
            finding.Source = Source;
            finding.ComputerName = "ANALYST";
            return finding;
        }

        /// <summary>A fresh temporary folder, removed by the caller.</summary>
        public static string NewFolder()
        {
            string dir = Path.Combine(Path.GetTempPath(), "flux-export-" + Guid.NewGuid().ToString("n"));
            Directory.CreateDirectory(dir);
            return dir;
        }
    }
}
