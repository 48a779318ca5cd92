using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Net;
using System.Net.Sockets;
using System.Threading;
using FluxForensics.Fixtures.Reputation;
using FluxForensics.Incident;
using FluxForensics.Model;
using static FluxForensics.Tests.Reputation.ReputationTestSupport;

namespace FluxForensics.Tests.Reputation
{
    /// <summary>
    /// Get-FluxReputation's VirusTotal step against <see cref="VirusTotalStub"/>, a real HTTP server on 127.0.0.1 that
    /// answers with VirusTotal API v3's documented shapes. The real service cannot be reached from the test machines
    /// (no internet), and a test must not spend anyone's quota: the stub is the only VirusTotal these tests see.
    /// </summary>
    public sealed class VirusTotalLookupTests : IDisposable
    {
        private const string Key = "vt-test-key-7d1f0c55a9e24b3c8f6e0a1b2c3d4e5f";
        private const string UnknownSha = "9999999999999999999999999999999999999999999999999999999999999999";
        private readonly TempDir _temp = new TempDir();

        public void Dispose() => _temp.Dispose();

        private ReputationOptions Options(VirusTotalStub? stub, string? key = Key, int perMinute = 600) => new ReputationOptions
        {
            ApiKey = key,
            ApiUri = stub?.ApiUri ?? VirusTotalClient.DefaultApiUri,
            RequestsPerMinute = perMinute,
            CachePath = Path.Combine(_temp.Path, "cache"),
            RequestTimeout = TimeSpan.FromSeconds(10),
        };

        private static List<FluxReputation> Run(ReputationOptions options, IFluxReporter reporter, params ReputationQuery[] queries) =>
            new ReputationLookup(options, reporter).Lookup(queries, CancellationToken.None).ToList();

        private static ReputationQuery Sha(string sha) => new ReputationQuery(ReputationIndicatorKind.Sha256, sha);

        [Fact]
        public void AFileObjectBecomesAMaliciousFindingWithRatioLabelNamesDatesAndLink()
        {
            using var stub = new VirusTotalStub(Key);
            var reporter = new CapturingReporter();
            var results = Run(Options(stub), reporter, Sha(VirusTotalStub.Mobile7.Sha256));

            var r = Assert.Single(results);
            Assert.Equal(VirusTotalStub.Mobile7.Sha256, r.Sha256);
            Assert.Equal(VirusTotalStub.Mobile7.Md5, r.Md5);
            Assert.Null(r.Domain);
            Assert.Equal(ReputationVerdict.Malicious, r.Verdict);
            Assert.Equal(29, r.Malicious);
            Assert.Equal(57, r.Total);
            Assert.Equal("29/57", r.Ratio);
            Assert.Equal("trojan.tofsee/relay", r.Label);
            Assert.Equal(new[] { "mobile7.exe", "click.exe", "cclub02.exe" }, r.Names);
            Assert.Equal(new DateTime(2010, 11, 23, 0, 0, 0, DateTimeKind.Utc), r.FirstSeen);
            Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(VirusTotalStub.Mobile7.LastAnalysis).UtcDateTime, r.LastAnalysis);
            Assert.Equal(DateTimeKind.Utc, r.FirstSeen!.Value.Kind);
            Assert.Equal("VirusTotal", r.Source);
            Assert.Equal("https://www.virustotal.com/gui/file/" + VirusTotalStub.Mobile7.Sha256, r.Link);
            Assert.Equal(Severity.Critical, r.Severity);
            Assert.Contains(r.Reasons, x => x.Reason == "29/57 engines call it malicious" && x.Points == Detection.ReputationRules.ManyEnginesPoints);
            Assert.Contains(r.Reasons, x => x.Reason == "labelled trojan.tofsee/relay");
            Assert.Equal(new[] { $"GET /api/v3/files/{VirusTotalStub.Mobile7.Sha256} 200" }, stub.Requests);
            Assert.Empty(reporter.Warnings);
            Assert.Empty(reporter.Errors);
            Assert.Contains(stub.RawRequests.Single().Split('\n'), l => l.Equals("x-apikey: " + Key, StringComparison.OrdinalIgnoreCase));
        }

        [Fact]
        public void ADomainObjectIsReadFromDomainsAndACleanFileIsHarmless()
        {
            using var stub = new VirusTotalStub(Key);
            var results = Run(Options(stub), new CapturingReporter(),
                new ReputationQuery(ReputationIndicatorKind.Domain, "bayermun.biz"), Sha(VirusTotalStub.CleanTool.Sha256));

            var domain = results.Single(r => r.Domain is not null);
            Assert.Equal("bayermun.biz", domain.Domain);
            Assert.Null(domain.Sha256);
            Assert.Equal("bayermun.biz", domain.Indicator);
            Assert.Equal("8/94", domain.Ratio);
            Assert.Equal(ReputationVerdict.Malicious, domain.Verdict);
            Assert.Equal("https://www.virustotal.com/gui/domain/bayermun.biz", domain.Link);
            Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(VirusTotalStub.Bayermun.LastAnalysis).UtcDateTime, domain.LastAnalysis);

            var clean = results.Single(r => r.Sha256 == VirusTotalStub.CleanTool.Sha256);
            Assert.Equal(ReputationVerdict.Harmless, clean.Verdict);
            Assert.Equal("0/72", clean.Ratio);
            Assert.Equal(0, clean.RiskScore);
            Assert.Null(clean.Label);
            Assert.Contains("GET /api/v3/domains/bayermun.biz 200", stub.Requests);
        }

        [Fact]
        public void NotFoundErrorIsUnknownNotAnError()
        {
            using var stub = new VirusTotalStub(Key);
            var reporter = new CapturingReporter();
            var r = Assert.Single(Run(Options(stub), reporter, Sha(UnknownSha)));

            Assert.Equal(ReputationVerdict.Unknown, r.Verdict);
            Assert.Equal("VirusTotal", r.Source);
            Assert.Null(r.Ratio);
            Assert.Equal(UnknownSha, r.Sha256);
            Assert.Contains(r.Reasons, x => x.Reason == "VirusTotal has never seen this file");
            Assert.Empty(reporter.Errors);
            Assert.Empty(reporter.Warnings);
            Assert.Equal(new[] { $"GET /api/v3/files/{UnknownSha} 404" }, stub.Requests);
        }

        [Fact]
        public void QuotaExceededIsRetriedAfterBackingOffAndEachHashIsAnsweredOnce()
        {
            // The first two requests get QuotaExceededError; the lookup backs off and retries the same hash, then goes on.
            using var stub = new VirusTotalStub(Key, quotaExceededFirst: 2);
            var reporter = new CapturingReporter();
            var indicators = new ReputationIndicators();
            indicators.AddSha256(VirusTotalStub.Mobile7.Sha256);
            indicators.AddSha256(VirusTotalStub.CleanTool.Sha256);
            indicators.AddSha256(VirusTotalStub.Mobile7.Sha256.ToUpperInvariant());   // the same file again
            indicators.AddSha256(UnknownSha);
            var lookup = new ReputationLookup(Options(stub, perMinute: 120), reporter);
            var started = DateTime.UtcNow;
            var results = lookup.Lookup(indicators.Queries, CancellationToken.None).ToList();
            var elapsed = DateTime.UtcNow - started;

            Assert.Equal(3, results.Count);
            Assert.Equal(new[]
            {
                $"GET /api/v3/files/{VirusTotalStub.Mobile7.Sha256} 429",
                $"GET /api/v3/files/{VirusTotalStub.Mobile7.Sha256} 429",
                $"GET /api/v3/files/{VirusTotalStub.Mobile7.Sha256} 200",
                $"GET /api/v3/files/{VirusTotalStub.CleanTool.Sha256} 200",
                $"GET /api/v3/files/{UnknownSha} 404",
            }, stub.Requests);
            Assert.Equal(5, lookup.RequestsSent);
            // Back-off: the 0.5 s interval of 120 a minute, doubled per retry (1 s, then 2 s).
            Assert.True(elapsed >= TimeSpan.FromSeconds(2.9), $"backed off only {elapsed}");
            Assert.Contains(reporter.Progress, p => p.Contains("quota is exceeded (QuotaExceededError): retrying"));
            Assert.Empty(reporter.Errors);
            Assert.Equal("29/57", results.Single(r => r.Sha256 == VirusTotalStub.Mobile7.Sha256).Ratio);
        }

        [Fact]
        public void AQuotaThatStaysExceededStopsAskingWithOneWarning()
        {
            using var stub = new VirusTotalStub(Key, quotaExceededFirst: 1000);
            var reporter = new CapturingReporter();
            var results = Run(Options(stub, perMinute: 6000), reporter, Sha(VirusTotalStub.Mobile7.Sha256), Sha(VirusTotalStub.CleanTool.Sha256));

            Assert.Equal(1 + VirusTotalClient.MaxQuotaRetries, stub.Requests.Count);
            Assert.All(stub.Requests, r => Assert.EndsWith(VirusTotalStub.Mobile7.Sha256 + " 429", r));
            Assert.Single(reporter.Warnings);
            Assert.Contains("quota", reporter.Warnings[0]);
            Assert.Equal(2, results.Count);
            Assert.All(results, r => Assert.Equal(ReputationVerdict.Unknown, r.Verdict));
            Assert.All(results, r => Assert.Equal("None", r.Source));
            Assert.All(results, r => Assert.Contains(r.Reasons, x => x.Reason.Contains("quota is spent")));
        }

        [Fact]
        public void TheRateLimitKeepsToRequestsPerMinute()
        {
            using var stub = new VirusTotalStub(Key);
            var client = new VirusTotalClient(stub.ApiUri, Key, 4, TimeSpan.FromSeconds(10));
            var now = TimeSpan.Zero;
            var waits = new List<TimeSpan>();
            client.Now = () => now;
            client.Sleep = (delay, _) => { waits.Add(delay); now += delay; };
            var sentAt = new List<TimeSpan>();
            client.Requesting = _ => sentAt.Add(now);
            var countdown = new List<string>();
            client.Waiting = (_, why) => countdown.Add(why);

            for (int i = 0; i < 9; i++)
            {
                var result = client.Lookup(Sha(i.ToString("x64")), CancellationToken.None);
                Assert.Equal(VirusTotalOutcome.NotFound, result.Outcome);
                now += TimeSpan.FromSeconds(1);   // each answer takes a second
            }

            Assert.Equal(9, stub.Requests.Count);
            // Never more than 4 in any minute: the 5th waits until the 1st is a minute old, and so on.
            for (int i = 4; i < sentAt.Count; i++)
            {
                Assert.True(sentAt[i] - sentAt[i - 4] >= TimeSpan.FromMinutes(1), $"request {i} at {sentAt[i]}, request {i - 4} at {sentAt[i - 4]}");
            }

            Assert.Equal(new[] { TimeSpan.Zero, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(3) }, sentAt.Take(4));
            Assert.Equal(TimeSpan.FromSeconds(60), sentAt[4]);
            // Two waits (before the 5th and the 9th request), each counted down in slices of at most a second.
            Assert.All(waits, w => Assert.True(w <= TimeSpan.FromSeconds(1)));
            Assert.Equal(sentAt[4] - TimeSpan.FromSeconds(4) + (sentAt[8] - sentAt[7] - TimeSpan.FromSeconds(1)), TimeSpan.FromTicks(waits.Sum(w => w.Ticks)));
            Assert.Contains(countdown, c => c.EndsWith("next request in 56 s", StringComparison.Ordinal));
            Assert.Contains(countdown, c => c.EndsWith("next request in 1 s", StringComparison.Ordinal));
            client.Dispose();
        }

        [Fact]
        public void WrongCredentialsStopTheRunWithAnErrorThatNamesTheProblemButNotTheKey()
        {
            const string wrongKey = "wrong-key-0000-1111-2222-333344445555";
            using var stub = new VirusTotalStub(Key);
            var reporter = new CapturingReporter();
            var lookup = new ReputationLookup(Options(stub, key: wrongKey), reporter);
            var queries = new[] { Sha(VirusTotalStub.Mobile7.Sha256), Sha(VirusTotalStub.CleanTool.Sha256) };

            var e = Assert.Throws<ReputationAuthenticationException>(() => lookup.Lookup(queries, CancellationToken.None).ToList());

            Assert.Contains("VirusTotal refused the API key (WrongCredentialsError)", e.Message);
            Assert.DoesNotContain(wrongKey, e.ToString());
            Assert.DoesNotContain(wrongKey, string.Join("\n", reporter.AllText()));
            Assert.Single(stub.Requests);
            Assert.Equal($"GET /api/v3/files/{VirusTotalStub.Mobile7.Sha256} 401", stub.Requests[0]);
        }

        [Fact]
        public void AnUnreachableServiceGivesOneWarningAndTheHashListAndCacheAnswersStillComeOut()
        {
            // A port nothing listens on: the connection is refused.
            var probe = new TcpListener(IPAddress.Loopback, 0);
            probe.Start();
            int closedPort = ((IPEndPoint)probe.LocalEndpoint).Port;
            probe.Stop();

            string list = _temp.File("known-bad.txt", VirusTotalStub.Mobile7.Sha256 + "  mobile7.exe\n");
            var options = Options(null);
            options.ApiUri = new Uri($"http://127.0.0.1:{closedPort}/api/v3");
            options.HashLists = new[] { ReputationHashList.Load(list, NullReporter.Instance, CancellationToken.None) };

            // One answer already cached from an earlier run.
            new ReputationCache(options.CachePath!, options.MaxAge).Put(
                new ReputationAnswer(Sha(VirusTotalStub.CleanTool.Sha256), ReputationSourceKind.VirusTotal, "VirusTotal")
                { Known = true, Malicious = 0, Total = 72, Undetected = 70 }, DateTime.UtcNow.AddHours(-1));

            var reporter = new CapturingReporter();
            var lookup = new ReputationLookup(options, reporter);
            var results = lookup.Lookup(new[] { Sha(VirusTotalStub.Mobile7.Sha256), Sha(VirusTotalStub.CleanTool.Sha256), Sha(UnknownSha) }, CancellationToken.None).ToList();

            var warning = Assert.Single(reporter.Warnings);
            Assert.Contains("VirusTotal could not be reached", warning);
            Assert.Empty(reporter.Errors);
            Assert.Equal(1, lookup.RequestsSent);   // it gives up after the first refusal, not once per hash

            var listed = results.Single(r => r.Source == "known-bad.txt");
            Assert.Equal(VirusTotalStub.Mobile7.Sha256, listed.Sha256);
            Assert.Equal(ReputationVerdict.Malicious, listed.Verdict);
            var cached = results.Single(r => r.Source == "Cache");
            Assert.Equal("0/72", cached.Ratio);
            Assert.Equal(ReputationVerdict.Harmless, cached.Verdict);
            // The listed hash has its answer; only the one no source knows gets an Unknown line saying why.
            var unknown = Assert.Single(results, r => r.Source == "None");
            Assert.Equal(UnknownSha, unknown.Sha256);
            Assert.Equal(ReputationVerdict.Unknown, unknown.Verdict);
            Assert.Contains(unknown.Reasons, x => x.Reason.Contains("VirusTotal could not be reached"));
            Assert.Equal(3, results.Count);
        }

        [Fact]
        public void ASecondLookupWithinMaxAgeSendsNoRequestAndAnOlderAnswerIsAskedAgain()
        {
            using var stub = new VirusTotalStub(Key);
            var options = Options(stub);
            var now = new DateTime(2026, 12, 7, 12, 0, 0, DateTimeKind.Utc);
            var queries = new[] { Sha(VirusTotalStub.Mobile7.Sha256), Sha(UnknownSha), new ReputationQuery(ReputationIndicatorKind.Domain, "bayermun.biz") };

            var first = new ReputationLookup(options, new CapturingReporter(), () => now).Lookup(queries, CancellationToken.None).ToList();
            Assert.Equal(3, stub.Requests.Count);
            Assert.All(first, r => Assert.Equal("VirusTotal", r.Source));

            var reporter = new CapturingReporter();
            var second = new ReputationLookup(options, reporter, () => now.AddHours(23)).Lookup(queries, CancellationToken.None).ToList();
            Assert.Equal(3, stub.Requests.Count);   // no request: the cache answered
            Assert.All(second, r => Assert.Equal("Cache", r.Source));
            var cached = second.Single(r => r.Sha256 == VirusTotalStub.Mobile7.Sha256);
            Assert.Equal("29/57", cached.Ratio);
            Assert.Equal("trojan.tofsee/relay", cached.Label);
            Assert.Equal(first.Single(r => r.Sha256 == VirusTotalStub.Mobile7.Sha256).Names, cached.Names);
            Assert.Equal(first.Single(r => r.Sha256 == VirusTotalStub.Mobile7.Sha256).FirstSeen, cached.FirstSeen);
            Assert.Equal(ReputationVerdict.Malicious, cached.Verdict);
            Assert.Contains(cached.Reasons, x => x.Reason == "VirusTotal's answer from the cache, 2026-12-07T12:00:00Z");
            Assert.Equal(ReputationVerdict.Unknown, second.Single(r => r.Sha256 == UnknownSha).Verdict);   // "never seen" is kept too
            Assert.Equal("8/94", second.Single(r => r.Domain == "bayermun.biz").Ratio);

            options.MaxAge = TimeSpan.FromHours(1);
            var third = new ReputationLookup(options, new CapturingReporter(), () => now.AddHours(2)).Lookup(queries, CancellationToken.None).ToList();
            Assert.Equal(6, stub.Requests.Count);   // older than -MaxAge: asked again
            Assert.All(third, r => Assert.Equal("VirusTotal", r.Source));
        }

        [Fact]
        public void OfflineAnswersFromTheCacheAndHashListsOnlyAndSendsNothing()
        {
            using var stub = new VirusTotalStub(Key);
            var options = Options(stub);
            Run(options, new CapturingReporter(), Sha(VirusTotalStub.CleanTool.Sha256));
            Assert.Single(stub.Requests);

            string list = _temp.File("bazaar.csv", "\"sha256_hash\",\"signature\"\n\"" + VirusTotalStub.Mobile7.Sha256 + "\",\"Tofsee\"\n");
            options.Offline = true;
            options.HashLists = new[] { ReputationHashList.Load(list, NullReporter.Instance, CancellationToken.None) };
            var reporter = new CapturingReporter();
            var results = Run(options, reporter, Sha(VirusTotalStub.CleanTool.Sha256), Sha(VirusTotalStub.Mobile7.Sha256), Sha(UnknownSha));

            Assert.Single(stub.Requests);
            Assert.Equal("Cache", results.Single(r => r.Sha256 == VirusTotalStub.CleanTool.Sha256).Source);
            var listed = results.Single(r => r.Sha256 == VirusTotalStub.Mobile7.Sha256);
            Assert.Equal("bazaar.csv", listed.Source);
            Assert.Equal("Tofsee", listed.Label);
            var none = results.Single(r => r.Sha256 == UnknownSha);
            Assert.Equal("None", none.Source);
            Assert.Contains(none.Reasons, x => x.Reason.Contains("offline"));
            Assert.Empty(reporter.Warnings);
        }

        [Fact]
        public void TheKeyNeverAppearsInOutputReportsOrTheCache()
        {
            using var stub = new VirusTotalStub(Key, quotaExceededFirst: 1);
            var reporter = new CapturingReporter();
            var options = Options(stub);
            var results = Run(options, reporter,
                Sha(VirusTotalStub.Mobile7.Sha256), Sha(UnknownSha), new ReputationQuery(ReputationIndicatorKind.Domain, "bayermun.biz"),
                new ReputationQuery(ReputationIndicatorKind.Domain, "unknown.example"));

            Assert.Equal(4, results.Count);
            Assert.NotEmpty(reporter.Verbose);   // the request lines are there, without the key
            Assert.Contains(reporter.Verbose, v => v.StartsWith("GET http://127.0.0.1:", StringComparison.Ordinal));
            foreach (var text in results.SelectMany(Strings).Concat(reporter.AllText()))
            {
                Assert.DoesNotContain(Key, text);
            }

            var cacheFiles = Directory.GetFiles(options.CachePath!);
            Assert.Equal(4, cacheFiles.Length);
            foreach (var file in cacheFiles)
            {
                Assert.DoesNotContain(Key, File.ReadAllText(file));
                Assert.DoesNotContain(Key.Substring(8, 16), File.ReadAllText(file));
            }

            Assert.DoesNotContain(Key, options.ToString());
        }

        [Fact]
        public void AnErrorTextFromTheServiceIsRedacted()
        {
            using var stub = new VirusTotalStub(Key);
            using var client = new VirusTotalClient(stub.ApiUri, Key, 60, TimeSpan.FromSeconds(5));
            Assert.Equal("a proxy said ******** is bad", client.Redact("a proxy said " + Key + " is bad"));
        }

        [Fact]
        public void MalformedAnswersAreAnErrorForThatIndicatorOnly()
        {
            using var stub = new VirusTotalStub(Key);
            using var client = new VirusTotalClient(stub.ApiUri, Key, 60, TimeSpan.FromSeconds(5));
            var query = Sha(UnknownSha);
            Assert.Equal(VirusTotalOutcome.Failed, client.Parse(query, "<html>proxy error</html>").Outcome);
            Assert.Equal(VirusTotalOutcome.Failed, client.Parse(query, "{\"data\": 5}").Outcome);
            Assert.Equal(VirusTotalOutcome.Failed, client.Parse(query, "[]").Outcome);
            var empty = client.Parse(query, "{\"data\": {\"attributes\": {\"last_analysis_stats\": {\"malicious\": \"x\"}, \"names\": [1, null, \"a.exe\"], \"last_analysis_date\": -5}}}");
            Assert.Equal(VirusTotalOutcome.Answered, empty.Outcome);
            Assert.Equal(new[] { "a.exe" }, empty.Answer!.Names);
            Assert.Null(empty.Answer.LastAnalysis);
            Assert.Equal(0, empty.Answer.Total);
            Assert.Equal(("NotFoundError", "File \"x\" not found"), VirusTotalClient.ReadError(VirusTotalStub.Error("NotFoundError", "File \"x\" not found")));
            Assert.Equal((null, null), VirusTotalClient.ReadError("{\"error\": \"flat\"}"));
        }

        [Fact]
        public void AnMd5OnlyFindingIsLookedUpByMd5AndResolvedToItsSha256()
        {
            using var stub = new VirusTotalStub(Key);
            var r = Assert.Single(Run(Options(stub), new CapturingReporter(), new ReputationQuery(ReputationIndicatorKind.Md5, VirusTotalStub.Mobile7.Md5)));
            Assert.Equal(VirusTotalStub.Mobile7.Sha256, r.Sha256);
            Assert.Equal(VirusTotalStub.Mobile7.Md5, r.Md5);
            Assert.Equal("https://www.virustotal.com/gui/file/" + VirusTotalStub.Mobile7.Sha256, r.Link);
            Assert.Equal(new[] { $"GET /api/v3/files/{VirusTotalStub.Mobile7.Md5} 200" }, stub.Requests);
        }

        [Fact]
        public void CancellationStopsAWaitForTheRateLimit()
        {
            using var stub = new VirusTotalStub(Key);
            using var cancel = new CancellationTokenSource();
            var reporter = new CapturingReporter();
            var lookup = new ReputationLookup(Options(stub, perMinute: 1), reporter);
            var queries = new[] { Sha(VirusTotalStub.Mobile7.Sha256), Sha(VirusTotalStub.CleanTool.Sha256) };
            var seen = new List<FluxReputation>();
            var started = DateTime.UtcNow;
            Assert.ThrowsAny<OperationCanceledException>(() =>
            {
                foreach (var r in lookup.Lookup(queries, cancel.Token))
                {
                    seen.Add(r);
                    cancel.CancelAfter(TimeSpan.FromMilliseconds(300));   // the second request must wait a minute
                }
            });
            Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(20));
            Assert.Single(seen);
            Assert.Single(stub.Requests);
        }
    }
}
