using System;
using System.IO;
using System.Linq;
using System.Text;
using System.Text.RegularExpressions;
using System.Xml;
using System.Xml.Linq;
using FluxForensics.Export;
using FluxForensics.Model;

namespace FluxForensics.Tests.Export
{
    public class ReportWriterTests
    {
        private static readonly ReportOptions Pinned = new ReportOptions { GeneratedAt = new DateTime(2026, 12, 7, 0, 0, 0, DateTimeKind.Utc) };

        /// <summary>The report is written XHTML-compatible, so a strict XML parser proves every value was escaped.</summary>
        private static XDocument Parse(string html)
        {
            var settings = new XmlReaderSettings { DtdProcessing = DtdProcessing.Ignore, XmlResolver = null };
            using var reader = XmlReader.Create(new StringReader(html), settings);
            return XDocument.Load(reader);
        }

        private static XElement? ById(XDocument doc, string id) =>
            doc.Descendants().FirstOrDefault(e => (string?)e.Attribute("id") == id);

        [Fact]
        public void HasEverySectionAndTheKeyValues()
        {
            var html = ReportWriter.Render(ReportSamples.Incident(), Pinned);
            var doc = Parse(html);
            foreach (var id in new[] { "summary", "network-picture", "hosts", "host-evidence", "network-evidence", "correlations", "timeline", "indicators", "recommendations" })
            {
                Assert.True(ById(doc, id) is { Name.LocalName: "section" }, $"section {id}");
            }

            string text = doc.Root!.Value;
            Assert.Contains("Waledac relay on pc17", text);
            Assert.Contains("140.127.1.77", text);
            Assert.Contains("CrashReportSaver", text);
            Assert.Contains("C:\\WINDOWS\\system32\\cmd.exe /c start .\\RECYCLER\\x.exe & start explorer \"Photos\"", text);   // the shortcut's command line
            Assert.Contains("29/57", text);                                   // reputation ratio of the carved EXE
            Assert.Contains(new string('c', 64), text);
            Assert.Contains("2009-05-12T08:05:00Z", text);                    // ISO 8601 UTC
            // Flux names ranked by queries, double flux marked.
            var names = ById(doc, "flux-names-table")!.Descendants("tr").Skip(1).Select(r => r.Elements("td").ElementAt(1).Value).ToList();
            Assert.Equal(new[] { "flux0.example", "flux1.example", "flux2.example" }, names.Take(3));
            Assert.Contains("double", ById(doc, "flux-names-table")!.Descendants("tr").ElementAt(1).Value);
            Assert.Contains("30 mail servers and 3 FTP servers", ById(doc, "relays")!.ElementsAfterSelf().First().Value.Replace("\u00a0", " "));
        }

        [Fact]
        public void RecommendsTheExactCleanupCommandsAndTheAccountsToReset()
        {
            var doc = Parse(ReportWriter.Render(ReportSamples.Incident(), Pinned));
            var commands = ById(doc, "recommendations")!.Descendants("pre").Select(p => p.Value).ToList();
            Assert.Contains("Invoke-Command -ComputerName pc17 { Get-FluxListener -MinimumRiskScore 75 | Remove-FluxInfection }", commands);
            Assert.Contains("Invoke-Command -ComputerName pc17 { Get-SuspiciousAutorun -MinimumRiskScore 70 | Remove-FluxInfection }", commands);
            Assert.Contains("Invoke-Command -ComputerName pc17 { Find-UsbLnkTrap -Path E:\\ | Remove-FluxInfection }", commands);
            var accounts = ById(doc, "accounts-table")!.Descendants("tr").Skip(1).ToList();
            Assert.Equal(3, accounts.Count);
            Assert.All(accounts, r => Assert.Equal("webmaster", r.Elements("td").First().Value));
        }

        [Fact]
        public void CleanupCommandsLeaveLowScoredEntriesForReview()
        {
            var incident = ReportSamples.Incident();
            var low = new SuspiciousAutorun { ComputerName = "pc17", Name = "OneDriveSetup", Location = "HKCU\\Software\\Microsoft\\Windows\\CurrentVersion\\Run", Command = "OneDriveSetup.exe" };
            low.SetScore(new ScoreCard().Add("unsigned", 15));
            incident.Findings = incident.Findings.Concat(new FluxFinding[] { low }).ToArray();
            var doc = Parse(ReportWriter.Render(incident, Pinned));
            var items = ById(doc, "rec-hosts")!.Descendants("li").Select(li => li.Value).ToList();
            Assert.Contains(items, i => i.Contains("1 autorun (CrashReportSaver); 1 lower-scored entry left for review")
                && i.Contains("Get-SuspiciousAutorun -MinimumRiskScore 70 | Remove-FluxInfection"));
            Assert.Contains("It answered DNS for the bots, relayed FTP, relayed SMTP, passed executables to the bots", ById(doc, "rec-relay")!.Value);
        }

        [Fact]
        public void CommandArgumentsAreQuotedForPowerShellWhenNeeded()
        {
            var incident = ReportSamples.Incident();
            var trap = incident.Findings.OfType<UsbLnkTrap>().Single();
            trap.DriveRoot = "/media/o'brien stick";
            trap.ComputerName = "lab pc";
            var doc = Parse(ReportWriter.Render(incident, Pinned));
            var commands = ById(doc, "recommendations")!.Descendants("pre").Select(p => p.Value).ToList();
            Assert.Contains("Invoke-Command -ComputerName 'lab pc' { Find-UsbLnkTrap -Path '/media/o''brien stick' | Remove-FluxInfection }", commands);
        }

        [Fact]
        public void EscapesEveryValue()
        {
            var incident = ReportSamples.Incident();
            const string evil = "<script>alert(1)</script>\"'&<img src=http://198.51.100.9/x.png>\0\u0001\uD800";
            var listener = incident.Findings.OfType<FluxListener>().Single();
            listener.ProcessName = evil;
            listener.CommandLine = evil;
            incident.Findings.OfType<SuspiciousAutorun>().Single().Name = "</td></tr></table><iframe src=//198.51.100.9>";
            incident.Findings.OfType<RelaySession>().First().Server = evil;
            incident.Title = evil;
            var html = ReportWriter.Render(incident, Pinned);

            var doc = Parse(html);   // well-formed: nothing broke out of its element
            Assert.DoesNotContain(doc.Descendants(), e => e.Name.LocalName is "script" or "img" or "iframe" or "object" or "embed" or "link" or "base");
            Assert.Contains("<script>alert(1)</script>\"'&<img src=http://198.51.100.9/x.png>", doc.Root!.Value);
            Assert.True(html.IndexOf('\0') < 0);
            Assert.DoesNotContain("<script", html, StringComparison.OrdinalIgnoreCase);
        }

        [Fact]
        public void NothingLoadsFromTheNetwork()
        {
            var html = ReportWriter.Render(ReportSamples.Incident(), Pinned);
            var doc = Parse(html);
            var csp = doc.Descendants("meta").Single(m => (string?)m.Attribute("http-equiv") == "Content-Security-Policy");
            Assert.StartsWith("default-src 'none'", (string?)csp.Attribute("content"));
            // Links only within the page; no element loads anything; CSS url() only to the SVG's own markers.
            Assert.All(doc.Descendants().Attributes("href"), a => Assert.StartsWith("#", a.Value));
            Assert.Empty(doc.Descendants().Attributes("src"));
            Assert.DoesNotContain(doc.Descendants().Attributes(), a => a.Name.LocalName == "href" && a.Name.NamespaceName.Length > 0);
            Assert.All(Regex.Matches(html, @"url\(([^)]*)\)").Cast<Match>(), m => Assert.StartsWith("#", m.Groups[1].Value));
            Assert.DoesNotContain("@import", html);
        }

        [Fact]
        public void SecretsNeverAppearEvenWhenTheFindingsCarryThem()
        {
            var incident = ReportSamples.Incident();
            // A password that also shows up elsewhere: in a URL, an account equal to it, a command line.
            incident.Findings.OfType<FluxDownload>().Single().Url = $"ftp://webmaster:{ReportSamples.Password}@192.0.2.44/mobile7.exe";
            var cred = incident.Findings.OfType<ExposedCredential>().First();
            cred.Secret = "infected";
            cred.Account = "infected";
            incident.Findings.OfType<FluxListener>().Single().CommandLine = "svchost.exe -p " + ReportSamples.Password;
            var html = ReportWriter.Render(incident, Pinned);
            Assert.DoesNotContain(ReportSamples.Password, html);
            Assert.DoesNotContain(ReportMarkup.Escape(ReportSamples.Password), html);
            Assert.DoesNotContain(">infected<", html);
            Assert.Contains(Redaction.Mask, html);
        }

        [Fact]
        public void AShortPasswordIsMaskedOnlyWhereItIsTheWholeValue()
        {
            var filter = new ReportWriter.SecretFilter(new[] { "25", Redaction.Mask, null, "longer-secret" });
            Assert.Equal(2, filter.Count);
            Assert.Equal("198.51.100.25", filter.Apply("198.51.100.25"));
            Assert.Equal(Redaction.Mask, filter.Apply("25"));
            Assert.Equal("x " + Redaction.Mask + " y", filter.Apply("x longer-secret y"));
        }

        [Fact]
        public void LongTablesCollapseAndALargeIncidentStaysSmall()
        {
            var incident = ReportSamples.Incident(fluxNames: 600, mailServers: 900, bots: 200);
            var html = ReportWriter.Render(incident, Pinned);
            int bytes = Encoding.UTF8.GetByteCount(html);
            Assert.True(bytes < 5 * 1024 * 1024, $"{bytes} bytes");
            var doc = Parse(html);
            var mail = ById(doc, "mail-servers-table")!;
            Assert.Equal(25, mail.Descendants("tbody").Single().Elements("tr").Count());
            var more = ById(doc, "mail-servers-table-more")!;
            Assert.Equal("details", more.Name.LocalName);
            Assert.Null(more.Attribute("open"));
            Assert.Equal("875 more rows (900 in all)", more.Element("summary")!.Value);
            Assert.Equal(875, more.Descendants("tbody").Single().Elements("tr").Count());
            Assert.Equal("575 more rows (600 in all)", ById(doc, "flux-names-table-more")!.Element("summary")!.Value);
            // The picture folds: 12 nodes per role at most, the rest in "+N more".
            Assert.Contains("+889 more mail servers", html);
            Assert.Contains("+589 more flux domains", html);
        }

        [Fact]
        public void TablesAreCappedWithASayingLine()
        {
            var html = ReportWriter.Render(ReportSamples.Incident(mailServers: 300), new ReportOptions { MaxRows = 100, VisibleRows = 10 });
            var doc = Parse(html);
            Assert.Equal(90, ById(doc, "mail-servers-table-more")!.Descendants("tbody").Single().Elements("tr").Count());
            Assert.Contains("200 more rows are not written here", html);
        }

        [Fact]
        public void FindingsWithoutAJoinedIncidentStillFillTheSections()
        {
            var full = ReportSamples.Incident();
            var bare = new FluxIncident { Findings = full.Findings, FindingCount = full.Findings.Length };
            var doc = Parse(ReportWriter.Render(bare, Pinned));
            Assert.Equal(8, ById(doc, "flux-names-table")!.Descendants("tbody").Single().Elements("tr").Count());
            Assert.Contains("29/57", ById(doc, "downloads-table")!.Value);
            Assert.Equal(3, ById(doc, "accounts-table")!.Descendants("tbody").Single().Elements("tr").Count());
            Assert.Contains("30 mail servers", doc.Root!.Value);
        }

        [Fact]
        public void AnEmptyIncidentIsAValidReport()
        {
            var doc = Parse(ReportWriter.Render(new FluxIncident(), Pinned));
            Assert.Contains("None in the findings given.", doc.Root!.Value);
            Assert.Contains("Nothing to recommend", doc.Root!.Value);
        }

        [Fact]
        public void OutputIsDeterministic()
        {
            Assert.Equal(ReportWriter.Render(ReportSamples.Incident(), Pinned), ReportWriter.Render(ReportSamples.Incident(), Pinned));
        }
    }
}
