using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading;
using FluxForensics.Detection;
using FluxForensics.Incident;
using FluxForensics.Model;
using static FluxForensics.Tests.Reputation.ReputationTestSupport;

namespace FluxForensics.Tests.Reputation
{
    /// <summary>Hash lists, indicators found in findings, the cache file and the rules: the parts that need no network.</summary>
    public sealed class ReputationSourceTests : IDisposable
    {
        private const string Sha = "5f8a2b7c1d0e9f3a4b6c8d2e1f0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a";
        private const string Md5 = "0cc175b9c0f1b6a831c399e269772661";
        private const string Other = "aaaabbbbccccddddeeeeffff0000111122223333444455556666777788889999";
        private readonly TempDir _temp = new TempDir();

        public void Dispose() => _temp.Dispose();

        private static ReputationQuery Q(string sha, string? md5 = null) => new ReputationQuery(ReputationIndicatorKind.Sha256, sha, md5);

        private ReputationHashList Load(string name, string content, IFluxReporter? reporter = null) =>
            ReputationHashList.Load(_temp.File(name, content), reporter ?? NullReporter.Instance, CancellationToken.None);

        [Fact]
        public void PlainLinesAndSha256sumOutputAreRead()
        {
            var reporter = new CapturingReporter();
            var list = Load("plain.txt", "# known bad\n\n" + Sha.ToUpperInvariant() + "\n" + Other + " *cclub02.exe\nnot a hash\n", reporter);

            Assert.Equal(2, list.Count);
            var hit = list.Find(Q(Sha))!;
            Assert.Equal("plain.txt", hit.SourceName);
            Assert.Equal(Sha, hit.Sha256);
            Assert.Empty(hit.Names);
            Assert.Equal(new[] { "cclub02.exe" }, list.Find(Q(Other))!.Names);
            Assert.Null(list.Find(Q(new string('0', 64))));
            var issue = Assert.Single(reporter.Issues);
            Assert.Equal("plain.txt", issue.Source);
            Assert.Contains("1 line(s)", issue.Message);
            Assert.Contains("line 5", issue.Message);
        }

        [Fact]
        public void CsvAndTsvWithASha256ColumnAreRead()
        {
            var csv = Load("iocs.csv", "name,SHA256,family\nmobile7.exe," + Sha + ",Tofsee\nbroken,xyz,\n");
            var hit = csv.Find(Q(Sha))!;
            Assert.Equal(new[] { "mobile7.exe" }, hit.Names);
            Assert.Equal("Tofsee", hit.Label);
            Assert.Equal(1, csv.SkippedLines);

            var tsv = Load("iocs.tsv", "md5\tsha256\tfile_name\tsignature\n" + Md5 + "\t" + Sha + "\tclick.exe\tTofsee\n");
            var tsvHit = tsv.Find(Q(Sha))!;
            Assert.Equal("iocs.tsv", tsvHit.SourceName);
            Assert.Equal(new[] { "click.exe" }, tsvHit.Names);
            Assert.Equal(Md5, tsvHit.Md5);
            // An MD5 query, and a SHA-256 query that carries the file's MD5, both match by the MD5 column.
            Assert.NotNull(tsv.Find(new ReputationQuery(ReputationIndicatorKind.Md5, Md5)));
            var md5Only = Load("md5.csv", "md5_hash\n" + Md5 + "\n");
            Assert.NotNull(md5Only.Find(Q(Other, Md5)));
            Assert.Null(md5Only.Find(Q(Other)));
        }

        /// <summary>abuse.ch MalwareBazaar's CSV export: a comment banner, the header itself commented out, quoted fields padded with blanks.</summary>
        public static readonly string MalwareBazaarExport =
            "################################################################\n" +
            "# MalwareBazaar Recent Additions (CSV)                         #\n" +
            "# Last updated: 2026-12-07 22:00:13 UTC                        #\n" +
            "#                                                              #\n" +
            "# Terms Of Use: https://bazaar.abuse.ch/faq/#tos               #\n" +
            "# For questions please contact bazaar [at] abuse.ch            #\n" +
            "################################################################\n" +
            "#\n" +
            "# \"first_seen_utc\",\"sha256_hash\",\"md5_hash\",\"sha1_hash\",\"reporter\",\"file_name\",\"file_type_guess\",\"mime_type\",\"signature\",\"clamav\",\"vtpercent\",\"imphash\",\"ssdeep\",\"tlsh\"\n" +
            "\"2026-12-07 21:58:02\", \"" + Sha + "\", \"" + Md5 + "\", \"da39a3ee5e6b4b0d3255bfef95601890afd80709\", \"abuse_ch\", \"mobile7.exe\", \"exe\", \"application/x-dosexec\", \"Tofsee\", \"Win.Trojan.Tofsee-1\", \"50.88\", \"f34d5f2d4577ed6d9ceec516c1f5a744\", \"3072:abc,def\", \"T1ABC\"\n" +
            "\"2026-12-07 21:40:00\", \"" + Other + "\", \"n/a\", \"n/a\", \"abuse_ch\", \"a \"\"quoted\"\" name.exe\", \"exe\", \"application/x-dosexec\", \"n/a\", \"n/a\", \"n/a\", \"n/a\", \"n/a\", \"n/a\"\n" +
            "#\n# Number of entries: 2\n";

        [Fact]
        public void MalwareBazaarExportIsReadWithItsCommentedHeaderQuotedFieldsAndNA()
        {
            var list = Load("full_sha256.csv", MalwareBazaarExport);
            Assert.Equal(0, list.SkippedLines);

            var hit = list.Find(Q(Sha))!;
            Assert.Equal("Tofsee", hit.Label);
            Assert.Equal(new[] { "mobile7.exe" }, hit.Names);
            Assert.Equal(new DateTime(2026, 12, 7, 21, 58, 2, DateTimeKind.Utc), hit.FirstSeen);
            Assert.Equal(DateTimeKind.Utc, hit.FirstSeen!.Value.Kind);
            Assert.Equal(50.88, hit.ListedPercent);
            Assert.Equal(Md5, hit.Md5);

            var second = list.Find(Q(Other))!;
            Assert.Equal(new[] { "a \"quoted\" name.exe" }, second.Names);
            Assert.Null(second.Label);
            Assert.Null(second.Md5);
            Assert.Null(second.ListedPercent);

            var finding = ReputationLookup.Judge(hit);
            Assert.Equal(ReputationVerdict.Malicious, finding.Verdict);
            Assert.Equal("full_sha256.csv", finding.Source);
            Assert.Equal("Tofsee", finding.Label);
            Assert.Null(finding.Ratio);
            Assert.Null(finding.Malicious);
            Assert.Contains(finding.Reasons, r => r.Reason == "listed in the hash list full_sha256.csv" && r.Points == ReputationRules.ListedPoints);
            Assert.Contains(finding.Reasons, r => r.Reason == "the list gives 50.88 % detection");
            Assert.Equal("https://www.virustotal.com/gui/file/" + Sha, finding.Link);
        }

        [Fact]
        public void MalwareBazaarExportWithAPlainHeaderLineIsReadToo()
        {
            string text = MalwareBazaarExport.Replace("# \"first_seen_utc\"", "\"first_seen_utc\"");
            var list = Load("recent.csv", text);
            Assert.Equal("Tofsee", list.Find(Q(Sha))!.Label);
            Assert.Equal(0, list.SkippedLines);
        }

        [Theory]
        [InlineData("2026-12-07 21:58:02", "2026-12-07T21:58:02")]
        [InlineData("2026-12-07T21:58:02Z", "2026-12-07T21:58:02")]
        [InlineData("2026-12-07", "2026-12-07T00:00:00")]
        [InlineData("2026-02-30 10:00:00", null)]
        [InlineData("n/a", null)]
        [InlineData("yesterday", null)]
        public void FirstSeenIsReadAsUtc(string text, string? expected)
        {
            var parsed = ReputationHashList.ParseUtc(text.AsSpan());
            Assert.Equal(expected, parsed?.ToString("yyyy-MM-ddTHH:mm:ss", System.Globalization.CultureInfo.InvariantCulture));
            Assert.True(parsed is null || parsed.Value.Kind == DateTimeKind.Utc);
        }

        [Fact]
        public void HashKeysRoundTripToLowercaseHex()
        {
            Assert.True(HashKey.TryParse((" " + Sha.ToUpperInvariant() + " ").AsSpan(), 64, out var sha));
            Assert.Equal(Sha, sha.ToHex(64));
            Assert.True(HashKey.TryParse(Md5.AsSpan(), 32, out var md5));
            Assert.Equal(Md5, md5.ToHex(32));
            Assert.False(HashKey.TryParse(Md5.AsSpan(), 64, out _));
            Assert.False(HashKey.TryParse(("g" + Sha.Substring(1)).AsSpan(), 64, out _));
            Assert.NotEqual(sha, md5);
        }

        [Fact]
        public void QuotedFieldsSplitLikeCsv()
        {
            var cells = new List<string>();
            ReputationHashList.Split("a, \"b,c\" ,\"d\"\"e\",,\"unterminated".AsSpan(), ',', cells);
            Assert.Equal(new[] { "a", "b,c", "d\"e", string.Empty, "unterminated" }, cells);
        }

        [Fact]
        public void HashesAreFoundInLiveFindingsByPropertyName()
        {
            var download = new FluxDownload { Sha256 = Sha.ToUpperInvariant(), Md5 = Md5.ToUpperInvariant() };
            var trap = new UsbLnkTrap { PayloadSha256 = Other, Sha256 = Sha };
            var domain = new FluxDomain { Domain = "BayerMun.BIZ." };
            var incident = new FluxIncident
            {
                MalwareFiles = new[] { new FluxMalwareFile { Sha256 = "1111111111111111111111111111111111111111111111111111111111111111" } },
                Correlations = new[] { new FluxCorrelation { Indicator = "flux.example", IndicatorType = IndicatorType.Domain } },
            };
            var indicators = new ReputationIndicators();
            Assert.Equal(1, indicators.AddObject(download));
            Assert.Equal(1, indicators.AddObject(trap));   // its Sha256 is the download's file
            Assert.Equal(1, indicators.AddObject(domain));
            Assert.Equal(2, indicators.AddObject(incident));
            indicators.AddObject(new Dictionary<string, object> { ["md5"] = "33333333333333333333333333333333" });
            indicators.AddObject(new FluxListener());   // no hash: nothing

            var q = indicators.Queries;
            Assert.Equal(new[] { Sha, Other, "bayermun.biz", "1111111111111111111111111111111111111111111111111111111111111111", "flux.example", "33333333333333333333333333333333" },
                q.Select(x => x.Value));
            Assert.Equal(Md5, q[0].Md5);   // the download's MD5 rides with its SHA-256
            Assert.Equal(ReputationIndicatorKind.Domain, q[2].Kind);
            Assert.Equal(ReputationIndicatorKind.Md5, q[5].Kind);
        }

        [Fact]
        public void AnMd5KnownAsTheAliasOfASha256IsNotLookedUpTwice()
        {
            var indicators = new ReputationIndicators();
            indicators.AddObject(new Dictionary<string, object> { ["Md5"] = Md5 });
            indicators.AddObject(new FluxDownload { Sha256 = Sha, Md5 = Md5 });
            Assert.Equal(new[] { Sha }, indicators.Queries.Select(q => q.Value));
        }

        [Theory]
        [InlineData("BAYERMUN.biz.", "bayermun.biz")]
        [InlineData("bücher.example", "xn--bcher-kva.example")]
        [InlineData("localhost", null)]
        [InlineData("a..b", null)]
        [InlineData("http://x.example/", null)]
        [InlineData("", null)]
        public void DomainsAreNormalised(string typed, string? expected)
        {
            Assert.Equal(expected, IndicatorText.Domain(typed));
        }

        [Fact]
        public void FilesAreHashedToLowercaseSha256AndMd5()
        {
            string path = _temp.File("a.bin", "abc");
            var (sha, md5) = ReputationIndicators.HashFile(path, CancellationToken.None);
            Assert.Equal("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", sha);
            Assert.Equal("900150983cd24fb0d6963f7d28e17f72", md5);
            var indicators = new ReputationIndicators();
            var query = indicators.AddFile(path, CancellationToken.None);
            Assert.Equal(sha, query.Value);
            Assert.Equal(md5, query.Md5);
        }

        [Fact]
        public void TheCacheFileNamesEnumsAndIsoUtcAndABrokenFileIsAMiss()
        {
            var cache = new ReputationCache(Path.Combine(_temp.Path, "cache"), TimeSpan.FromDays(1));
            var query = Q(Sha);
            var now = new DateTime(2026, 12, 7, 22, 0, 0, DateTimeKind.Utc);
            cache.Put(new ReputationAnswer(query, ReputationSourceKind.VirusTotal, "VirusTotal")
            {
                Known = true, Malicious = 29, Total = 57, Label = "trojan.x", Names = new[] { "a.exe" },
                FirstSeen = new DateTime(2010, 11, 23, 0, 0, 0, DateTimeKind.Utc),
            }, now);

            string text = File.ReadAllText(cache.PathOf(query));
            Assert.Contains("\"CachedAt\": \"2026-12-07T22:00:00Z\"", text);
            Assert.Contains("\"FirstSeen\": \"2010-11-23T00:00:00Z\"", text);
            Assert.Contains("\"IndicatorKind\": \"Sha256\"", text);
            Assert.Equal("file-" + Sha + ".json", Path.GetFileName(cache.PathOf(query)));

            var hit = cache.TryGet(query, now.AddHours(1), out var problem)!;
            Assert.Null(problem);
            Assert.Equal(ReputationSourceKind.Cache, hit.SourceKind);
            Assert.Equal(29, hit.Malicious);
            Assert.Null(cache.TryGet(query, now.AddDays(2), out problem));
            Assert.Null(problem);

            File.WriteAllText(cache.PathOf(query), "{ not json");
            Assert.Null(cache.TryGet(query, now, out problem));
            Assert.Contains("not valid JSON", problem);
        }

        [Theory]
        [InlineData(29, 57, 0, ReputationVerdict.Malicious, Severity.Critical)]
        [InlineData(3, 70, 0, ReputationVerdict.Malicious, Severity.High)]
        [InlineData(2, 70, 0, ReputationVerdict.Suspicious, Severity.Medium)]
        [InlineData(0, 70, 1, ReputationVerdict.Suspicious, Severity.Low)]
        [InlineData(0, 70, 0, ReputationVerdict.Harmless, Severity.Info)]
        [InlineData(0, 0, 0, ReputationVerdict.Unknown, Severity.Info)]
        public void TheVerdictFollowsTheEngines(int malicious, int total, int suspicious, ReputationVerdict verdict, Severity severity)
        {
            var answer = new ReputationAnswer(Q(Sha), ReputationSourceKind.VirusTotal, "VirusTotal")
            {
                Known = true, Malicious = malicious, Suspicious = suspicious, Total = total,
            };
            var finding = ReputationLookup.Judge(answer);
            Assert.Equal(verdict, finding.Verdict);
            Assert.Equal(severity, finding.Severity);
            Assert.Equal($"{malicious}/{total}", finding.Ratio);
        }
    }
}
