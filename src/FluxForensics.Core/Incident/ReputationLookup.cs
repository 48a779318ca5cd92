using System;
using System.Collections.Generic;
using System.Linq;
using System.Net.Http;
using System.Threading;
using FluxForensics.Detection;
using FluxForensics.Model;

namespace FluxForensics.Incident
{
    /// <summary>What Get-FluxReputation was told; the key is kept out of every text this object produces.</summary>
    public sealed class ReputationOptions
    {
        /// <summary>VirusTotal's key; null: VirusTotal is not asked.</summary>
        public string? ApiKey { get; set; }

        public Uri ApiUri { get; set; } = VirusTotalClient.DefaultApiUri;

        public int RequestsPerMinute { get; set; } = 4;

        public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(30);

        /// <summary>Hash lists, already loaded.</summary>
        public IReadOnlyList<ReputationHashList> HashLists { get; set; } = Array.Empty<ReputationHashList>();

        /// <summary>Null: no cache.</summary>
        public string? CachePath { get; set; } = ReputationCache.DefaultPath;

        public TimeSpan MaxAge { get; set; } = TimeSpan.FromDays(1);

        /// <summary>Answer from the cache and the hash lists only.</summary>
        public bool Offline { get; set; }

        public override string ToString() => $"ApiUri={ApiUri}, ApiKey={(ApiKey is null ? "none" : "********")}, Offline={Offline}";
    }

    /// <summary>VirusTotal refused the key: nothing else it is asked can succeed.</summary>
    public sealed class ReputationAuthenticationException : Exception
    {
        public ReputationAuthenticationException(string message, string errorCode)
            : base(message)
        {
            ErrorCode = errorCode;
        }

        /// <summary>VirusTotal's error code (WrongCredentialsError) or the HTTP status.</summary>
        public string ErrorCode { get; }
    }

    /// <summary>
    /// Asks the reputation sources about each distinct indicator and emits <see cref="FluxReputation"/> findings: one
    /// per hash list that lists it, one for VirusTotal (or its cached answer), and one Unknown saying why when no source
    /// answered. Hash lists and the cache are consulted for every indicator first, so their answers come out even when
    /// VirusTotal cannot be reached. Each distinct indicator costs at most one VirusTotal answer per run.
    /// </summary>
    public sealed class ReputationLookup
    {
        private readonly ReputationOptions _options;
        private readonly IFluxReporter _reporter;
        private readonly Func<DateTime> _utcNow;

        public ReputationLookup(ReputationOptions options, IFluxReporter reporter, Func<DateTime>? utcNow = null)
        {
            _options = options;
            _reporter = reporter;
            _utcNow = utcNow ?? (() => DateTime.UtcNow);
        }

        /// <summary>The activity progress records of a lookup carry.</summary>
        public const string ProgressActivity = "Looking up reputation";

        /// <summary>Whether a lookup with these options has only the cache to answer from (no key, no hash list, not
        /// offline by choice): the caller may want to say so.</summary>
        public static bool OnlyTheCacheCanAnswer(ReputationOptions options) =>
            !options.Offline && string.IsNullOrEmpty(options.ApiKey) && options.HashLists.Count == 0;

        /// <summary>Requests sent to VirusTotal by the last run (retries included).</summary>
        public int RequestsSent { get; private set; }

        /// <summary>
        /// Looks the queries up, yielding findings as they are known. Throws <see cref="ReputationAuthenticationException"/>
        /// when VirusTotal refuses the key and <see cref="OperationCanceledException"/> when cancelled.
        /// </summary>
        public IEnumerable<FluxReputation> Lookup(IReadOnlyList<ReputationQuery> queries, CancellationToken cancellation)
        {
            var cache = _options.CachePath is null ? null : new ReputationCache(_options.CachePath, _options.MaxAge);
            bool askVirusTotal = !_options.Offline && !string.IsNullOrEmpty(_options.ApiKey);
            var answered = new bool[queries.Count];
            var pending = new List<int>();
            var cacheProblems = 0;

            // Pass 1: what is known without the network.
            for (int i = 0; i < queries.Count; i++)
            {
                cancellation.ThrowIfCancellationRequested();
                var query = queries[i];
                foreach (var list in _options.HashLists)
                {
                    if (list.Find(query) is ReputationAnswer listed)
                    {
                        answered[i] = true;
                        yield return Judge(listed);
                    }
                }

                ReputationAnswer? cached = null;
                if (cache is not null)
                {
                    cached = cache.TryGet(query, _utcNow(), out string? problem);
                    if (problem is not null && cacheProblems++ == 0)
                    {
                        _reporter.Warning($"The reputation cache could not be used for {query.Value}: {problem}. It is asked again.");
                    }
                }

                if (cached is not null)
                {
                    answered[i] = true;
                    _reporter.Verbose($"{query.Value}: answered from the cache ({cache!.PathOf(query)}).");
                    yield return Judge(cached);
                }
                else if (askVirusTotal)
                {
                    pending.Add(i);
                }
            }

            // Pass 2: VirusTotal, within its rate limit.
            var unanswered = new Dictionary<int, string>();
            if (pending.Count > 0)
            {
                using var client = new VirusTotalClient(_options.ApiUri, _options.ApiKey!, _options.RequestsPerMinute, _options.RequestTimeout);
                int done = 0;
                string? stopped = null;
                client.Waiting = (delay, why) => _reporter.Progress(ProgressActivity, $"{done} of {pending.Count} looked up; {why}", (double)done / pending.Count);
                client.Requesting = line => _reporter.Verbose(line);
                try
                {
                    foreach (int i in pending)
                    {
                        cancellation.ThrowIfCancellationRequested();
                        var query = queries[i];
                        if (stopped is not null)
                        {
                            unanswered[i] = stopped;
                            continue;
                        }

                        _reporter.Progress(ProgressActivity, $"VirusTotal: {done} of {pending.Count} looked up", (double)done / pending.Count);
                        var result = client.Lookup(query, cancellation);
                        done++;
                        switch (result.Outcome)
                        {
                            case VirusTotalOutcome.Answered:
                            case VirusTotalOutcome.NotFound:
                                answered[i] = true;
                                TryCache(cache, result.Answer!);
                                yield return Judge(result.Answer!);
                                break;
                            case VirusTotalOutcome.Unauthorized:
                                throw new ReputationAuthenticationException(
                                    $"VirusTotal refused the API key ({result.ErrorCode ?? "401"}); nothing was looked up at {_options.ApiUri}.", result.ErrorCode ?? "401");
                            case VirusTotalOutcome.Unreachable:
                                stopped = "VirusTotal could not be reached";
                                unanswered[i] = stopped;
                                _reporter.Warning($"VirusTotal could not be reached ({result.Message}). The hash-list and cached answers are shown; {pending.Count - done + 1} indicator(s) were not looked up.");
                                break;
                            case VirusTotalOutcome.QuotaExhausted:
                                stopped = "VirusTotal's quota is spent";
                                unanswered[i] = stopped;
                                _reporter.Warning($"VirusTotal's quota stays exceeded after {VirusTotalClient.MaxQuotaRetries} retries ({result.ErrorCode ?? "429"}): the daily or monthly quota is likely spent. {pending.Count - done + 1} indicator(s) were not looked up; the cache keeps what was answered.");
                                break;
                            default:
                                unanswered[i] = "VirusTotal answered with an error";
                                _reporter.Error(new FluxError("VirusTotalError", FluxErrorCategory.ResourceUnavailable, query.Value, $"{query.Value}: {result.Message}"));
                                break;
                        }
                    }
                }
                finally
                {
                    RequestsSent = client.RequestsSent;
                }
            }

            // Whatever no source answered still gets its line, saying why.
            for (int i = 0; i < queries.Count; i++)
            {
                if (answered[i])
                {
                    continue;
                }

                string why = unanswered.TryGetValue(i, out var reason) ? reason :
                    _options.Offline ? "offline, and neither the cache nor a hash list has it" :
                    string.IsNullOrEmpty(_options.ApiKey) ? "no VirusTotal key, and neither the cache nor a hash list has it" :
                    "not looked up";
                yield return Judge(new ReputationAnswer(queries[i], ReputationSourceKind.None, "None") { Unanswered = why });
            }

            _reporter.Progress(ProgressActivity, "Done", 1);
        }

        private void TryCache(ReputationCache? cache, ReputationAnswer answer)
        {
            if (cache is null)
            {
                return;
            }

            try
            {
                cache.Put(answer, _utcNow());
            }
            catch (Exception e) when (e is System.IO.IOException or UnauthorizedAccessException)
            {
                _reporter.Warning($"The answer for {answer.Query.Value} could not be cached in {cache.Directory}: {e.Message}");
            }
        }

        /// <summary>Turns a source's answer into the finding, through the rules.</summary>
        public static FluxReputation Judge(ReputationAnswer answer)
        {
            var query = answer.Query;
            var verdict = ReputationRules.VerdictOf(answer);
            var finding = new FluxReputation
            {
                Sha256 = query.IsFile ? answer.Sha256 ?? (query.Kind == ReputationIndicatorKind.Sha256 ? query.Value : null) : null,
                Md5 = query.IsFile ? answer.Md5 ?? query.Md5 ?? (query.Kind == ReputationIndicatorKind.Md5 ? query.Value : null) : null,
                Domain = query.IsFile ? null : query.Value,
                Verdict = verdict,
                Malicious = answer.Malicious,
                Total = answer.Total,
                Ratio = answer.Malicious is { } m && answer.Total is { } t ? $"{m}/{t}" : null,
                Label = answer.Label,
                Names = answer.Names,
                FirstSeen = answer.FirstSeen,
                LastAnalysis = answer.LastAnalysis,
                Source = answer.SourceName,
                Link = LinkOf(query, answer),
            };
            finding.SetScore(ReputationRules.Score(answer, verdict));
            return finding;
        }

        /// <summary>The VirusTotal page, whatever the source: where a responder goes next.</summary>
        public static string LinkOf(ReputationQuery query, ReputationAnswer? answer = null) =>
            query.IsFile
                ? "https://www.virustotal.com/gui/file/" + (answer?.Sha256 ?? query.Value)
                : "https://www.virustotal.com/gui/domain/" + query.Value;
    }
}
