using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using FluxForensics.Model;

namespace FluxForensics.Tests.Export
{
    /// <summary>
    /// Incidents shaped like the case: an infected campus host (pc17) running the relay, its listener, Run value and USB
    /// traps, the DNS proxy, flux names, relayed SMTP/FTP with cleartext logins (secrets kept, as -IncludeSecret does)
    /// and carved EXEs. Built through the internal setters, as the incident builder would.
    /// </summary>
    internal static class ReportSamples
    {
        public const string Password = "Tr0ub4dor&3-secret";
        public const string Relay = "140.127.1.77";
        public static readonly DateTime T0 = new DateTime(2009, 5, 12, 8, 0, 0, DateTimeKind.Utc);

        public static FluxIncident Incident(int fluxNames = 8, int mailServers = 30, int ftpServers = 3, int bots = 6)
        {
            var findings = new List<FluxFinding>();
            var listener = new FluxListener
            {
                ComputerName = "pc17", LocalAddress = "0.0.0.0", LocalPort = 80, ProcessId = 1844, ProcessName = "svchost.exe",
                CommandLine = "C:\\WINDOWS\\system32\\drivers\\svchost.exe -k netsvcs", Path = "C:\\WINDOWS\\system32\\drivers\\svchost.exe",
                Sha256 = new string('a', 64), SignatureStatus = "NotSigned", OutboundConnectionCount = 412,
            };
            listener.SetScore(new ScoreCard().Add("listens on TCP 80", 40).Add("image in drivers folder", 35));
            findings.Add(listener);

            var autorun = new SuspiciousAutorun
            {
                ComputerName = "pc17", Location = "HKLM\\Software\\Microsoft\\Windows\\CurrentVersion\\Run", Name = "CrashReportSaver",
                Command = "C:\\WINDOWS\\system32\\drivers\\svchost.exe", ImagePath = "C:\\WINDOWS\\system32\\drivers\\svchost.exe", Sha256 = new string('a', 64),
                LastWriteTime = T0.AddMinutes(-30),
            };
            autorun.SetScore(new ScoreCard().Add("Run value to a hidden image", 70));
            findings.Add(autorun);

            var trap = new UsbLnkTrap
            {
                ComputerName = "pc17", DriveRoot = "E:\\", ShortcutPath = "E:\\Photos.lnk", TargetPath = "C:\\WINDOWS\\system32\\cmd.exe",
                Arguments = "/c start .\\RECYCLER\\x.exe & start explorer \"Photos\"", HiddenFolderPath = "E:\\Photos", PayloadPath = "E:\\RECYCLER\\x.exe",
                PayloadSha256 = new string('b', 64),
            };
            trap.SetScore(new ScoreCard().Add("shortcut runs a hidden payload", 85));
            findings.Add(trap);

            var proxy = new DnsProxy
            {
                ComputerName = "analyst", Address = Relay, ClientCount = bots, OutsideClientCount = bots, DomainCount = fluxNames + 3,
                QueryCount = 4000, FluxDomainCount = fluxNames, SampleFluxDomains = new[] { "flux0.example" }, IsRelay = true, FirstSeen = T0, LastSeen = T0.AddHours(2),
            };
            proxy.SetScore(new ScoreCard().Add("answers DNS for outside clients", 70));
            findings.Add(proxy);

            var ranked = new List<FluxRankedDomain>();
            for (int i = 0; i < fluxNames; i++)
            {
                var d = new FluxDomain
                {
                    ComputerName = "analyst", Domain = $"flux{i}.example", Addresses = Enumerable.Range(1, 3).Select(k => $"203.0.113.{(i + k) % bots + 1}").ToArray(),
                    AddressCount = 3, FluxScore = 0.5 + (i % 50) / 100.0, IsFastFlux = true, IsDoubleFlux = i % 3 == 0, ResponseCount = 1000 - i,
                };
                d.SetScore(new ScoreCard().Add("many networks, short TTL", 75));
                findings.Add(d);
                ranked.Add(new FluxRankedDomain { Domain = d.Domain, QueryCount = 1000 - i, FluxScore = d.FluxScore, IsDoubleFlux = d.IsDoubleFlux, AddressCount = 3, RiskScore = 75 });
            }

            for (int i = 0; i < mailServers; i++)
            {
                var s = new RelaySession
                {
                    ComputerName = "analyst", Protocol = "Smtp", Client = $"203.0.113.{i % bots + 1}", Relay = Relay, Server = $"198.51.{i / 250}.{i % 250 + 1}", ServerPort = 25,
                    Account = $"user{i % 7}", Secret = Password, Accepted = i % 2 == 0, Urls = new[] { $"http://phish{i % 5}.example/login" },
                    Start = T0.AddSeconds(i), End = T0.AddSeconds(i + 3),
                };
                s.SetScore(new ScoreCard().Add("relayed SMTP", 60));
                findings.Add(s);
            }

            for (int i = 0; i < ftpServers; i++)
            {
                var s = new RelaySession
                {
                    ComputerName = "analyst", Protocol = "Ftp", Client = "203.0.113.1", Relay = Relay, Server = $"192.0.2.{20 + i}", ServerPort = 21,
                    Account = "webmaster", Secret = Password, Accepted = true, Start = T0.AddMinutes(10 + i), End = T0.AddMinutes(11 + i),
                };
                s.SetScore(new ScoreCard().Add("relayed FTP", 60));
                findings.Add(s);
                var c = new ExposedCredential
                {
                    ComputerName = "analyst", Protocol = "Ftp", Client = "203.0.113.1", Server = s.Server, ServerPort = 21, Account = "webmaster",
                    Secret = Password, Accepted = true, Relay = Relay, Time = s.Start,
                };
                c.SetScore(new ScoreCard().Add("cleartext login", 50));
                findings.Add(c);
            }

            var download = new FluxDownload
            {
                ComputerName = "analyst", Client = "203.0.113.2", Relay = Relay, Server = "192.0.2.44", ServerPort = 80, Url = "http://192.0.2.44/mobile7.exe",
                FileName = "mobile7.exe", Size = 61440, Sha256 = new string('c', 64), Md5 = new string('d', 32), Protocol = "Http", FileType = "PE", Time = T0.AddMinutes(5),
            };
            download.SetScore(new ScoreCard().Add("EXE fetched through the relay", 80));
            findings.Add(download);

            var reputation = new FluxReputation
            {
                ComputerName = "analyst", Sha256 = new string('c', 64), Verdict = ReputationVerdict.Malicious, Malicious = 29, Total = 57, Ratio = "29/57", Label = "trojan.waledac", Source = "VirusTotal",
            };
            findings.Add(reputation);

            var incident = new FluxIncident
            {
                ComputerName = "analyst", Title = "Waledac relay on pc17", FirstSeen = T0.AddMinutes(-30), LastSeen = T0.AddHours(2),
                ComputerNames = new[] { "pc17" }, FindingCount = findings.Count, Relays = new[] { Relay }, BotCount = bots, FluxDomainCount = fluxNames,
                FluxDomains = ranked.ToArray(), MailServerCount = mailServers, FtpServerCount = ftpServers, MalwareHosts = new[] { "192.0.2.44" },
                ExposedAccounts = Enumerable.Range(0, ftpServers).Select(i => new FluxExposedAccount
                {
                    Account = "webmaster", Protocol = "Ftp", Server = $"192.0.2.{20 + i}", ServerPort = 21, Accepted = true, Sessions = 1, Secret = Password, FirstSeen = T0,
                }).ToArray(),
                MalwareFiles = new[]
                {
                    new FluxMalwareFile { Sha256 = new string('c', 64), Md5 = new string('d', 32), Names = new[] { "mobile7.exe" }, Size = 61440, Reputation = reputation, FirstSeen = T0.AddMinutes(5) },
                },
                Correlations = new[]
                {
                    new FluxCorrelation
                    {
                        Indicator = new string('a', 64), IndicatorType = IndicatorType.Sha256, EvidenceKinds = new[] { "FluxListener", "SuspiciousAutorun" },
                        ComputerNames = new[] { "pc17" }, Names = new[] { "svchost.exe" }, RiskScore = 95, Severity = Severity.Critical,
                        Evidence = new[] { new CorrelationEvidence { Kind = "FluxListener", ComputerName = "pc17", Role = "listener image" }, new CorrelationEvidence { Kind = "SuspiciousAutorun", ComputerName = "pc17", Role = "Run value target" } },
                    },
                },
                Timeline = new[]
                {
                    new FluxTimelineEvent { Time = T0.AddMinutes(-30), ComputerName = "pc17", Kind = "SuspiciousAutorun", Event = "Run value CrashReportSaver written", Severity = Severity.High },
                    new FluxTimelineEvent { Time = T0.AddMinutes(5), ComputerName = "analyst", Kind = "FluxDownload", Event = "mobile7.exe fetched through the relay", Severity = Severity.Critical },
                },
                Hosts = new[]
                {
                    new FluxIncidentHost { Name = "pc17", IsComputer = true, Addresses = new[] { Relay }, Roles = new[] { HostRole.InfectedHost, HostRole.Relay }, MaxSeverity = Severity.Critical, MaxRiskScore = 95, FindingCount = 3 },
                    new FluxIncidentHost { Name = "192.0.2.44", Roles = new[] { HostRole.MalwareHost }, MaxSeverity = Severity.Critical, MaxRiskScore = 80, FindingCount = 1 },
                },
                Findings = findings.ToArray(),
            };
            incident.SetScore(new ScoreCard().Add("hash seen on disk and in a listener", 95));
            return incident;
        }
    }
}
