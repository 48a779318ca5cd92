using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Net;
using System.Net.Http;
using System.Net.Sockets;
using System.Text.Json;
using System.Threading;

namespace FluxForensics.Incident
{
    /// <summary>How a VirusTotal request ended.</summary>
    public enum VirusTotalOutcome
    {
        /// <summary>The file or domain object came back.</summary>
        Answered,

        /// <summary>NotFoundError: VirusTotal has never seen it.</summary>
        NotFound,

        /// <summary>401 (WrongCredentialsError and the like): no request can succeed.</summary>
        Unauthorized,

        /// <summary>QuotaExceededError even after backing off: the daily or monthly quota is spent.</summary>
        QuotaExhausted,

        /// <summary>No connection (refused, no route, name not resolved, timed out).</summary>
        Unreachable,

        /// <summary>Any other error answer for this one indicator.</summary>
        Failed,
    }

    public sealed class VirusTotalResult
    {
        internal VirusTotalResult(VirusTotalOutcome outcome, ReputationAnswer? answer, string? errorCode, string message)
        {
            Outcome = outcome;
            Answer = answer;
            ErrorCode = errorCode;
            Message = message;
        }

        public VirusTotalOutcome Outcome { get; }

        /// <summary>The answer for Answered and NotFound.</summary>
        public ReputationAnswer? Answer { get; }

        /// <summary>VirusTotal's error code (NotFoundError, QuotaExceededError …) when it sent one.</summary>
        public string? ErrorCode { get; }

        /// <summary>What happened, for the user; never contains the key.</summary>
        public string Message { get; }
    }

    /// <summary>
    /// VirusTotal API v3: <c>GET {ApiUri}/files/{hash}</c> and <c>GET {ApiUri}/domains/{name}</c> with the key in the
    /// <c>x-apikey</c> header. Requests are spread to at most <see cref="RequestsPerMinute"/> in any minute (the public
    /// API allows 4); a QuotaExceededError is retried after backing off. Synchronous on purpose: everything it does,
    /// waiting included, happens on the caller's thread, so the caller can report progress and honour Ctrl+C.
    /// <para>The key lives only in this object and in the request header; every text that leaves it is redacted.</para>
    /// </summary>
    public sealed class VirusTotalClient : IDisposable
    {
        public static readonly Uri DefaultApiUri = new Uri("https://www.virustotal.com/api/v3");

        /// <summary>Times a QuotaExceededError is retried before the quota is taken as spent.</summary>
        public const int MaxQuotaRetries = 3;

        /// <summary>The longest single back-off: the public API's quota window.</summary>
        public static readonly TimeSpan MaxBackOff = TimeSpan.FromSeconds(60);

        private const int MaxNames = 50;
        private static readonly TimeSpan Window = TimeSpan.FromMinutes(1);

        private readonly HttpClient _http;
        private readonly string _apiKey;
        private readonly string _baseUri;
        private readonly Queue<TimeSpan> _sent = new Queue<TimeSpan>();
        private readonly Stopwatch _clock = Stopwatch.StartNew();

        public VirusTotalClient(Uri apiUri, string apiKey, int requestsPerMinute, TimeSpan timeout, HttpMessageHandler? handler = null)
        {
            if (string.IsNullOrEmpty(apiKey))
            {
                throw new ArgumentException("An API key is required.", nameof(apiKey));
            }

            if (requestsPerMinute < 1)
            {
                throw new ArgumentOutOfRangeException(nameof(requestsPerMinute));
            }

            _apiKey = apiKey;
            _baseUri = apiUri.AbsoluteUri.TrimEnd('/');
            RequestsPerMinute = requestsPerMinute;
            Timeout = timeout;
            _http = new HttpClient(handler ?? new HttpClientHandler(), disposeHandler: true) { Timeout = System.Threading.Timeout.InfiniteTimeSpan };
            _http.DefaultRequestHeaders.UserAgent.ParseAdd("FluxForensics/" + typeof(VirusTotalClient).Assembly.GetName().Version?.ToString(3));
            _http.DefaultRequestHeaders.Accept.ParseAdd("application/json");
        }

        public int RequestsPerMinute { get; }

        public TimeSpan Timeout { get; }

        /// <summary>HTTP requests sent, retries included.</summary>
        public int RequestsSent { get; private set; }

        /// <summary>Called before the client waits (rate limit or back-off), with how long and why; on the caller's thread.</summary>
        public Action<TimeSpan, string>? Waiting { get; set; }

        /// <summary>Called with each request line (method and URL; the key travels in a header and is not part of it).</summary>
        public Action<string>? Requesting { get; set; }

        /// <summary>How the client waits; tests replace it to observe the waits without spending them.</summary>
        internal Action<TimeSpan, CancellationToken> Sleep { get; set; } = (delay, cancellation) =>
        {
            if (cancellation.WaitHandle.WaitOne(delay))
            {
                cancellation.ThrowIfCancellationRequested();
            }
        };

        /// <summary>Time as the rate limiter sees it; tests advance it together with <see cref="Sleep"/>.</summary>
        internal Func<TimeSpan>? Now { get; set; }

        /// <summary>The request URL of a query.</summary>
        public string UriOf(ReputationQuery query) =>
            _baseUri + (query.Kind == ReputationIndicatorKind.Domain ? "/domains/" : "/files/") + Uri.EscapeDataString(query.Value);

        /// <summary>Replaces the key wherever it appears in a text that came from elsewhere (an error message, a URL).</summary>
        public string Redact(string? text) =>
            string.IsNullOrEmpty(text) ? string.Empty : text!.Replace(_apiKey, "********");

        /// <summary>Looks one query up: one answer per call, however many 429 retries it took.</summary>
        public VirusTotalResult Lookup(ReputationQuery query, CancellationToken cancellation)
        {
            string uri = UriOf(query);
            int quotaRetries = 0;
            bool transientRetried = false;
            while (true)
            {
                WaitForSlot(cancellation);
                var (status, body, headers, failure) = Send(uri, cancellation);
                if (failure is not null)
                {
                    return new VirusTotalResult(VirusTotalOutcome.Unreachable, null, null, Redact(failure));
                }

                if (status == HttpStatusCode.OK)
                {
                    return Parse(query, body);
                }

                var (code, message) = ReadError(body);
                string text = $"VirusTotal answered {(int)status} {code ?? status.ToString()}{(message is null ? string.Empty : ": " + message)}";
                switch ((int)status)
                {
                    case 404:
                        return new VirusTotalResult(VirusTotalOutcome.NotFound,
                            new ReputationAnswer(query, ReputationSourceKind.VirusTotal, "VirusTotal") { Known = false }, code ?? "NotFoundError", text);
                    case 401:
                        return new VirusTotalResult(VirusTotalOutcome.Unauthorized, null, code, text);
                    case 429:
                        if (quotaRetries >= MaxQuotaRetries)
                        {
                            return new VirusTotalResult(VirusTotalOutcome.QuotaExhausted, null, code, text);
                        }

                        var backOff = BackOff(quotaRetries++, headers);
                        Pause(backOff, $"VirusTotal's quota is exceeded ({code ?? "429"}): retrying", cancellation);
                        continue;
                    case 500:
                    case 502:
                    case 503:
                    case 504:
                        if (!transientRetried)
                        {
                            transientRetried = true;
                            var pause = Interval;
                            Pause(pause, $"VirusTotal had a transient error ({code ?? ((int)status).ToString(System.Globalization.CultureInfo.InvariantCulture)}): retrying", cancellation);
                            continue;
                        }

                        return new VirusTotalResult(VirusTotalOutcome.Failed, null, code, text);
                    default:
                        return new VirusTotalResult(VirusTotalOutcome.Failed, null, code, text);
                }
            }
        }

        /// <summary>The spacing of requests that keeps to the per-minute limit.</summary>
        private TimeSpan Interval => TimeSpan.FromTicks(Window.Ticks / RequestsPerMinute);

        /// <summary>Retry-After when VirusTotal says it; otherwise the request interval, doubled per retry, at most a minute.</summary>
        private TimeSpan BackOff(int retry, System.Net.Http.Headers.HttpResponseHeaders? headers)
        {
            var backOff = TimeSpan.FromTicks(Interval.Ticks << Math.Min(retry + 1, 10));
            if (headers?.RetryAfter is { } retryAfter)
            {
                var told = retryAfter.Delta ?? (retryAfter.Date is { } date ? date - DateTimeOffset.UtcNow : (TimeSpan?)null);
                if (told is { } t && t > TimeSpan.Zero)
                {
                    backOff = t;
                }
            }

            return backOff > MaxBackOff ? MaxBackOff : backOff;
        }

        /// <summary>Waits until fewer than <see cref="RequestsPerMinute"/> requests were sent in the last minute.</summary>
        private void WaitForSlot(CancellationToken cancellation)
        {
            while (true)
            {
                var now = CurrentTime();
                while (_sent.Count > 0 && now - _sent.Peek() >= Window)
                {
                    _sent.Dequeue();
                }

                if (_sent.Count < RequestsPerMinute)
                {
                    _sent.Enqueue(now);
                    return;
                }

                var wait = _sent.Peek() + Window - now;
                Pause(wait, $"keeping to {RequestsPerMinute} VirusTotal requests a minute: next request", cancellation);
            }
        }

        private TimeSpan CurrentTime() => Now?.Invoke() ?? _clock.Elapsed;

        /// <summary>
        /// Waits in slices of at most a second, telling <see cref="Waiting"/> the time left before each, so a progress bar
        /// counts down through a rate-limit wait (and a throttled progress display misses no more than a second of it).
        /// </summary>
        private void Pause(TimeSpan delay, string why, CancellationToken cancellation)
        {
            var remaining = delay;
            while (remaining > TimeSpan.Zero)
            {
                cancellation.ThrowIfCancellationRequested();
                Waiting?.Invoke(remaining, $"{why} in {Math.Ceiling(remaining.TotalSeconds).ToString(System.Globalization.CultureInfo.InvariantCulture)} s");
                var slice = remaining < WaitSlice ? remaining : WaitSlice;
                Sleep(slice, cancellation);
                remaining -= slice;
            }
        }

        private static readonly TimeSpan WaitSlice = TimeSpan.FromSeconds(1);

        private (HttpStatusCode Status, string Body, System.Net.Http.Headers.HttpResponseHeaders? Headers, string? Failure) Send(string uri, CancellationToken cancellation)
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
            timeout.CancelAfter(Timeout);
            using var request = new HttpRequestMessage(HttpMethod.Get, uri);
            request.Headers.TryAddWithoutValidation("x-apikey", _apiKey);
            Requesting?.Invoke("GET " + uri);
            RequestsSent++;
            try
            {
                using var response = _http.SendAsync(request, HttpCompletionOption.ResponseContentRead, timeout.Token).ConfigureAwait(false).GetAwaiter().GetResult();
                string body = response.Content.ReadAsStringAsync().ConfigureAwait(false).GetAwaiter().GetResult();
                return (response.StatusCode, body, response.Headers, null);
            }
            catch (OperationCanceledException) when (!cancellation.IsCancellationRequested)
            {
                return (0, string.Empty, null, $"no answer from {_baseUri} within {Timeout.TotalSeconds:0} s");
            }
            catch (Exception e) when (e is HttpRequestException or IOException or SocketException or WebException)
            {
                return (0, string.Empty, null, $"{_baseUri} cannot be reached: {Innermost(e)}");
            }
        }

        private static string Innermost(Exception e)
        {
            while (e.InnerException is not null)
            {
                e = e.InnerException;
            }

            return e.Message;
        }

        /// <summary>VirusTotal's documented error shape: <c>{"error": {"code": "…", "message": "…"}}</c>.</summary>
        internal static (string? Code, string? Message) ReadError(string body)
        {
            if (string.IsNullOrWhiteSpace(body))
            {
                return (null, null);
            }

            try
            {
                using var document = JsonDocument.Parse(body);
                if (document.RootElement.ValueKind == JsonValueKind.Object &&
                    document.RootElement.TryGetProperty("error", out var error) && error.ValueKind == JsonValueKind.Object)
                {
                    return (String(error, "code"), String(error, "message"));
                }
            }
            catch (JsonException)
            {
                // Not VirusTotal's shape (a proxy's HTML page): the status code says enough.
            }

            return (null, null);
        }

        /// <summary>Reads a file or domain object: <c>data.attributes</c> with last_analysis_stats and the rest.</summary>
        internal VirusTotalResult Parse(ReputationQuery query, string body)
        {
            JsonDocument document;
            try
            {
                document = JsonDocument.Parse(body);
            }
            catch (JsonException e)
            {
                return new VirusTotalResult(VirusTotalOutcome.Failed, null, null, $"VirusTotal's answer for {query.Value} is not JSON: {e.Message}");
            }

            using (document)
            {
                var root = document.RootElement;
                if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("data", out var data) || data.ValueKind != JsonValueKind.Object ||
                    !data.TryGetProperty("attributes", out var attributes) || attributes.ValueKind != JsonValueKind.Object)
                {
                    return new VirusTotalResult(VirusTotalOutcome.Failed, null, null, $"VirusTotal's answer for {query.Value} has no data.attributes");
                }

                var answer = new ReputationAnswer(query, ReputationSourceKind.VirusTotal, "VirusTotal") { Known = true };
                if (query.IsFile)
                {
                    answer.Sha256 = Hex.Normalize(String(attributes, "sha256"), 64) ??
                                    Hex.Normalize(String(data, "id"), 64) ??
                                    (query.Kind == ReputationIndicatorKind.Sha256 ? query.Value : null);
                    answer.Md5 = Hex.Normalize(String(attributes, "md5"), 32) ??
                                 query.Md5 ?? (query.Kind == ReputationIndicatorKind.Md5 ? query.Value : null);
                }
                else
                {
                    answer.Domain = query.Value;
                }

                if (attributes.TryGetProperty("last_analysis_stats", out var stats) && stats.ValueKind == JsonValueKind.Object)
                {
                    int total = 0;
                    foreach (var category in stats.EnumerateObject())
                    {
                        if (category.Value.ValueKind == JsonValueKind.Number && category.Value.TryGetInt32(out int n) && n > 0)
                        {
                            total += n;
                        }
                    }

                    answer.Total = total;
                    answer.Malicious = Int(stats, "malicious") ?? 0;
                    answer.Suspicious = Int(stats, "suspicious") ?? 0;
                    answer.Harmless = Int(stats, "harmless") ?? 0;
                    answer.Undetected = Int(stats, "undetected") ?? 0;
                }

                if (attributes.TryGetProperty("popular_threat_classification", out var classification) && classification.ValueKind == JsonValueKind.Object)
                {
                    answer.Label = NonEmpty(String(classification, "suggested_threat_label"));
                }

                var names = new List<string>();
                if (NonEmpty(String(attributes, "meaningful_name")) is string meaningful)
                {
                    names.Add(meaningful);
                }

                if (attributes.TryGetProperty("names", out var nameArray) && nameArray.ValueKind == JsonValueKind.Array)
                {
                    foreach (var n in nameArray.EnumerateArray())
                    {
                        if (names.Count >= MaxNames)
                        {
                            break;
                        }

                        if (n.ValueKind == JsonValueKind.String && NonEmpty(n.GetString()) is string name && !names.Contains(name))
                        {
                            names.Add(name);
                        }
                    }
                }

                answer.Names = names.ToArray();
                answer.FirstSeen = UnixTime(attributes, "first_submission_date") ?? UnixTime(attributes, "first_seen_date");
                answer.LastAnalysis = UnixTime(attributes, "last_analysis_date");
                return new VirusTotalResult(VirusTotalOutcome.Answered, answer, null, "answered");
            }
        }

        private static string? NonEmpty(string? s) => string.IsNullOrWhiteSpace(s) ? null : s!.Trim();

        private static string? String(JsonElement element, string name) =>
            element.TryGetProperty(name, out var e) && e.ValueKind == JsonValueKind.String ? e.GetString() : null;

        private static int? Int(JsonElement element, string name) =>
            element.TryGetProperty(name, out var e) && e.ValueKind == JsonValueKind.Number && e.TryGetInt32(out int v) ? v : null;

        private static DateTime? UnixTime(JsonElement element, string name)
        {
            if (element.TryGetProperty(name, out var e) && e.ValueKind == JsonValueKind.Number && e.TryGetInt64(out long seconds) &&
                seconds > 0 && seconds < 253402300800)
            {
                return DateTimeOffset.FromUnixTimeSeconds(seconds).UtcDateTime;
            }

            return null;
        }

        public void Dispose() => _http.Dispose();
    }
}
