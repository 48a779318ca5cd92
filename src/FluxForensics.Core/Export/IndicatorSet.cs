using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Net;
using FluxForensics.Model;

namespace FluxForensics.Export
{
    /// <summary>The files Export-FluxIndicator writes.</summary>
    public enum IndicatorFormat
    {
        Stix,
        ZeekIntel,
        Csv,
        Rpz,
        Text,
        Accounts,
    }

    /// <summary>Traffic Light Protocol 2.0 levels (FIRST), as the STIX marking definitions name them.</summary>
    public enum TlpLevel
    {
        Clear,
        Green,
        Amber,
        AmberStrict,
        Red,
    }

    /// <summary>What goes into an indicator export and how it is labelled.</summary>
    public sealed class IndicatorExportOptions
    {
        /// <summary>Who produced the indicators: the STIX identity's name and Zeek's meta.source.</summary>
        public string Producer { get; set; } = "FluxForensics";

        public TlpLevel Tlp { get; set; } = TlpLevel.Amber;

        /// <summary>Export the addresses flux names resolved to (compromised machines of other people, often on home networks).</summary>
        public bool IncludeFluxAgents { get; set; }

        /// <summary>Export the relay and the analysed computers' own addresses as indicators too.</summary>
        public bool IncludeAnalyzedHost { get; set; }

        /// <summary>Names (and their subdomains) never exported: the analyst's own and partner domains, CDNs.</summary>
        public IList<string> ExcludeDomains { get; set; } = new List<string>();

        /// <summary>The analyst's own resolvers: never exported, even when they answered flux names.</summary>
        public IList<string> KnownDnsServers { get; set; } = new List<string>();

        /// <summary>Further addresses of the analysed host (besides the relays and computers the incident knows).</summary>
        public IList<string> AnalyzedHostAddresses { get; set; } = new List<string>();

        /// <summary>The malware family's name; by default the reputation label, else named after the malware files.</summary>
        public string? FamilyName { get; set; }

        /// <summary>Origin of the RPZ zone; names are written relative to it.</summary>
        public string RpzOrigin { get; set; } = "rpz.local";

        /// <summary>The export's time (STIX modified, RPZ serial); the current time when null.</summary>
        public DateTime? Now { get; set; }

        internal DateTime ExportTime => (Now ?? DateTime.UtcNow).ToUniversalTime();
    }

    /// <summary>One indicator as it is exported: what to block or watch for, and why.</summary>
    public sealed class ExportedIndicator
    {
        internal ExportedIndicator(IndicatorType type, string value)
        {
            Type = type;
            Value = value;
        }

        public IndicatorType Type { get; }
        public string Value { get; }

        /// <summary>Why it is an indicator, in a few words ("fast-flux domain, flux score 412", "malware host serving mobile7.exe").</summary>
        public string Context { get; internal set; } = string.Empty;

        /// <summary>The part the thing played: FluxDomain, MalwareFile, MalwareHost, FluxAgent, PhishingUrl, DownloadUrl, AnalyzedHost.</summary>
        public string Role { get; internal set; } = string.Empty;

        public DateTime? FirstSeen { get; internal set; }
        public DateTime? LastSeen { get; internal set; }
        public int RiskScore { get; internal set; }
        public Severity Severity { get; internal set; }

        /// <summary>Where it was seen: the capture files, images or computers of the evidence.</summary>
        public string Source { get; internal set; } = string.Empty;

        /// <summary>VirusTotal (or other) page of the indicator, when a reputation source gave one.</summary>
        public string? Link { get; internal set; }

        /// <summary>The source that gave <see cref="Link"/> (VirusTotal, a hash list).</summary>
        public string? LinkSource { get; internal set; }

        /// <summary>The reputation label (malware family) a source gave, when one did.</summary>
        public string? Label { get; internal set; }

        public override string ToString() => $"{Type} {Value}";
    }

    /// <summary>
    /// The indicators of an incident worth sharing, judged once for every format: flux names the capture analysis itself
    /// called flux, malware hashes, upstream malware hosts, URLs of relayed phishing mail and, when asked, flux agents and
    /// the analysed host. Never: names the analysis did not call flux, the analyst's excluded names and known resolvers,
    /// harmless-rated files, the analysed host (unless asked), or any secret.
    /// </summary>
    public sealed class IndicatorSet
    {
        private IndicatorSet(IReadOnlyList<ExportedIndicator> indicators, FluxExposedAccount[] accounts, string familyName, DateTime? firstSeen, DateTime? lastSeen, string title)
        {
            Indicators = indicators;
            Accounts = accounts;
            FamilyName = familyName;
            FirstSeen = firstSeen;
            LastSeen = lastSeen;
            Title = title;
        }

        public IReadOnlyList<ExportedIndicator> Indicators { get; }

        /// <summary>Exposed accounts (no secret is ever written from these).</summary>
        public FluxExposedAccount[] Accounts { get; }

        public string FamilyName { get; }
        public DateTime? FirstSeen { get; }
        public DateTime? LastSeen { get; }
        public string Title { get; }

        public IEnumerable<ExportedIndicator> OfType(IndicatorType type) => Indicators.Where(i => i.Type == type);

        public static IndicatorSet From(FluxIncident incident, IndicatorExportOptions options)
        {
            if (incident is null)
            {
                throw new ArgumentNullException(nameof(incident));
            }

            if (options is null)
            {
                throw new ArgumentNullException(nameof(options));
            }

            return new Collector(incident, options).Collect();
        }

        /// <summary>Lowercase, no trailing dot, trimmed; null when nothing is left.</summary>
        internal static string? NormalizeName(string? name)
        {
            if (name is null)
            {
                return null;
            }

            string n = name.Trim().TrimEnd('.').ToLowerInvariant();
            return n.Length == 0 ? null : n;
        }

        /// <summary>
        /// A URL without the password of its user information (ftp://user:secret@host/ → ftp://user@host/), trimmed; null when
        /// it is no absolute URL. Downloads fetched with a login carry it in the URL, and passwords are never exported.
        /// </summary>
        internal static string? CleanUrl(string? url)
        {
            if (url is null)
            {
                return null;
            }

            string u = url.Trim();
            int scheme = u.IndexOf("://", StringComparison.Ordinal);
            if (scheme <= 0 || u.Length == scheme + 3 || u.Any(c => c <= ' ' || c == '\u007f'))
            {
                return null;
            }

            int authorityStart = scheme + 3;
            int authorityEnd = u.IndexOfAny(new[] { '/', '?', '#' }, authorityStart);
            if (authorityEnd < 0)
            {
                authorityEnd = u.Length;
            }

            int at = u.LastIndexOf('@', authorityEnd - 1, authorityEnd - authorityStart);
            if (at >= authorityStart)
            {
                int colon = u.IndexOf(':', authorityStart, at - authorityStart);
                if (colon >= 0)
                {
                    u = u.Substring(0, colon) + u.Substring(at);
                }
            }

            return u;
        }

        /// <summary>The host part of a URL (name or address), normalised; null when there is none.</summary>
        internal static string? UrlHost(string url)
        {
            int scheme = url.IndexOf("://", StringComparison.Ordinal);
            if (scheme < 0)
            {
                return null;
            }

            int start = scheme + 3;
            int end = url.IndexOfAny(new[] { '/', '?', '#' }, start);
            string authority = end < 0 ? url.Substring(start) : url.Substring(start, end - start);
            int at = authority.LastIndexOf('@');
            if (at >= 0)
            {
                authority = authority.Substring(at + 1);
            }

            if (authority.StartsWith("[", StringComparison.Ordinal))
            {
                int close = authority.IndexOf(']');
                return close > 0 ? IndicatorText.Address(authority.Substring(1, close - 1)) : null;
            }

            int port = authority.LastIndexOf(':');
            if (port >= 0)
            {
                authority = authority.Substring(0, port);
            }

            return IndicatorText.Address(authority) ?? NormalizeName(authority);
        }

        private sealed class Collector
        {
            private readonly FluxIncident _incident;
            private readonly IndicatorExportOptions _options;
            private readonly Dictionary<(IndicatorType, string), ExportedIndicator> _byKey = new Dictionary<(IndicatorType, string), ExportedIndicator>();
            private readonly List<ExportedIndicator> _ordered = new List<ExportedIndicator>();
            private readonly HashSet<string> _analyzedHost = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
            private readonly HashSet<string> _knownResolvers = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
            private readonly List<string> _excludedDomains;
            private readonly Dictionary<(IndicatorType, string), FluxCorrelation> _correlations = new Dictionary<(IndicatorType, string), FluxCorrelation>();
            private readonly List<(FluxMalwareFile File, int Evidence)> _familyCandidates = new List<(FluxMalwareFile, int)>();

            public Collector(FluxIncident incident, IndicatorExportOptions options)
            {
                _incident = incident;
                _options = options;
                _excludedDomains = options.ExcludeDomains.Select(NormalizeName).Where(n => n is not null).Select(n => n!.TrimStart('*', '.')).Where(n => n.Length > 0).ToList();
                foreach (var c in incident.Correlations)
                {
                    string? key = Normalize(c.IndicatorType, c.Indicator);
                    if (key is not null && !_correlations.ContainsKey((c.IndicatorType, key)))
                    {
                        _correlations.Add((c.IndicatorType, key), c);
                    }
                }
            }

            public IndicatorSet Collect()
            {
                LearnAnalyzedHostAndResolvers();
                AddMalwareFiles();
                string family = FamilyName();
                AddMalwareHosts();
                AddFluxDomains();
                AddUrls();
                if (_options.IncludeFluxAgents)
                {
                    AddFluxAgents();
                }

                if (_options.IncludeAnalyzedHost)
                {
                    AddAnalyzedHost();
                }

                var accounts = _incident.ExposedAccounts
                    .OrderBy(a => a.FirstSeen ?? DateTime.MaxValue).ThenBy(a => a.Server, StringComparer.Ordinal).ThenBy(a => a.Account, StringComparer.Ordinal)
                    .ToArray();
                return new IndicatorSet(_ordered, accounts, family, _incident.FirstSeen, _incident.LastSeen, _incident.Title);
            }

            private static string? Normalize(IndicatorType type, string? value) => type switch
            {
                IndicatorType.Sha256 or IndicatorType.Md5 => Hex.Normalize(value),
                IndicatorType.Domain => NormalizeName(value),
                IndicatorType.Address => IndicatorText.Address(value),
                IndicatorType.Url => CleanUrl(value),
                _ => value?.Trim(),
            };

            private void LearnAnalyzedHostAndResolvers()
            {
                foreach (var relay in _incident.Relays)
                {
                    AddAddress(_analyzedHost, relay);
                }

                foreach (var host in _incident.Hosts)
                {
                    if (host.IsComputer || host.Roles.Contains(HostRole.Relay) || host.Roles.Contains(HostRole.InfectedHost))
                    {
                        AddAddress(_analyzedHost, host.Name);
                        foreach (var a in host.Addresses)
                        {
                            AddAddress(_analyzedHost, a);
                        }
                    }
                }

                foreach (var finding in _incident.Findings)
                {
                    switch (finding)
                    {
                        case RelaySession s:
                            AddAddress(_analyzedHost, s.Relay);
                            break;
                        case FluxDownload d when d.Relay is not null:
                            AddAddress(_analyzedHost, d.Relay);
                            break;
                        case ExposedCredential c when c.Relay is not null:
                            AddAddress(_analyzedHost, c.Relay);
                            break;
                        case DnsProxy p when p.IsKnownResolver:
                            AddAddress(_knownResolvers, p.Address);
                            break;
                        case DnsProxy p when p.IsRelay:
                            AddAddress(_analyzedHost, p.Address);
                            break;
                    }
                }

                foreach (var a in _options.AnalyzedHostAddresses)
                {
                    AddAddress(_analyzedHost, a);
                }

                foreach (var a in _options.KnownDnsServers)
                {
                    AddAddress(_knownResolvers, a);
                }
            }

            private static void AddAddress(HashSet<string> set, string? text)
            {
                string? a = IndicatorText.Address(text);
                if (a is not null)
                {
                    set.Add(a);
                }
            }

            private bool IsExcludedDomain(string name) =>
                _excludedDomains.Any(x => name == x || name.EndsWith("." + x, StringComparison.Ordinal));

            /// <summary>An address that is never an indicator: a known resolver always, the analysed host unless asked for.</summary>
            private bool IsProtectedAddress(string address, bool allowAnalyzedHost = false) =>
                _knownResolvers.Contains(address) || (!allowAnalyzedHost && _analyzedHost.Contains(address));

            private string FamilyName()
            {
                if (!string.IsNullOrWhiteSpace(_options.FamilyName))
                {
                    return _options.FamilyName!.Trim();
                }

                // The label most reputation answers agree on, counting each hash once.
                var labels = _incident.MalwareFiles.Select(f => f.Reputation).Concat(_incident.Reputations)
                    .Where(r => r is not null && r.Verdict != ReputationVerdict.Harmless && !string.IsNullOrWhiteSpace(r.Label))
                    .GroupBy(r => r!.Indicator, StringComparer.OrdinalIgnoreCase).Select(g => g.First()!.Label!.Trim())
                    .GroupBy(l => l, StringComparer.OrdinalIgnoreCase).OrderByDescending(g => g.Count()).ThenBy(g => g.Key, StringComparer.Ordinal)
                    .Select(g => g.Key).FirstOrDefault();
                if (labels is not null)
                {
                    return labels;
                }

                // Else after the exported malware file with the most evidence, the first seen of those (mobile7.exe →
                // "mobile7 fast-flux relay").
                string? first = _familyCandidates.OrderByDescending(c => c.Evidence).ThenBy(c => c.File.FirstSeen ?? DateTime.MaxValue).SelectMany(c => c.File.Names)
                    .Select(n => System.IO.Path.GetFileNameWithoutExtension(n.Replace('\\', '/').Split('/').Last()))
                    .FirstOrDefault(n => !string.IsNullOrWhiteSpace(n));
                return first is null ? "fast-flux relay" : first + " fast-flux relay";
            }

            private ExportedIndicator? Add(IndicatorType type, string? rawValue, string role, string context)
            {
                string? value = Normalize(type, rawValue);
                if (value is null)
                {
                    return null;
                }

                if (_byKey.TryGetValue((type, value), out var existing))
                {
                    return existing;
                }

                var indicator = new ExportedIndicator(type, value) { Role = role, Context = context };
                if (_correlations.TryGetValue((type, value), out var c))
                {
                    indicator.FirstSeen = c.FirstSeen;
                    indicator.LastSeen = c.LastSeen;
                    indicator.RiskScore = c.RiskScore;
                    indicator.Severity = c.Severity;
                    indicator.Source = SourceOf(c.Evidence.Select(e => e.FindingIndex));
                    if (c.Reputation is { } rep)
                    {
                        indicator.Link = rep.Link;
                        indicator.LinkSource = rep.Source;
                        indicator.Label = rep.Label;
                    }
                }

                _byKey.Add((type, value), indicator);
                _ordered.Add(indicator);
                return indicator;
            }

            private string SourceOf(IEnumerable<int> findingIndexes)
            {
                var sources = findingIndexes.Where(i => i >= 0 && i < _incident.Findings.Length)
                    .Select(i => _incident.Findings[i]).Select(f => f.Source == "Live" ? f.ComputerName : f.Source)
                    .Where(s => !string.IsNullOrEmpty(s)).Distinct(StringComparer.Ordinal).ToList();
                return string.Join("; ", sources);
            }

            private static string SourceOf(FluxFinding f) => f.Source == "Live" ? f.ComputerName : f.Source;

            private static void Widen(ExportedIndicator indicator, DateTime? first, DateTime? last, int score, string? source)
            {
                if (first is { } f && (indicator.FirstSeen is null || f < indicator.FirstSeen))
                {
                    indicator.FirstSeen = f;
                }

                var l = last ?? first;
                if (l is { } ll && (indicator.LastSeen is null || ll > indicator.LastSeen))
                {
                    indicator.LastSeen = ll;
                }

                if (score > indicator.RiskScore)
                {
                    indicator.RiskScore = score;
                    indicator.Severity = Scoring.SeverityOf(score);
                }

                if (!string.IsNullOrEmpty(source) && !indicator.Source.Split(new[] { "; " }, StringSplitOptions.None).Contains(source))
                {
                    indicator.Source = indicator.Source.Length == 0 ? source! : indicator.Source + "; " + source;
                }
            }

            private void AddMalwareFiles()
            {
                foreach (var file in _incident.MalwareFiles.OrderBy(f => f.FirstSeen ?? DateTime.MaxValue).ThenBy(f => f.Sha256, StringComparer.Ordinal))
                {
                    string? sha = Hex.Normalize(file.Sha256, 64);
                    if (sha is null)
                    {
                        continue;
                    }

                    var reputation = file.Reputation ?? (_correlations.TryGetValue((IndicatorType.Sha256, sha), out var cr) ? cr.Reputation : null);
                    if (reputation is { Verdict: ReputationVerdict.Harmless })
                    {
                        continue;
                    }

                    // The incident lists every executable the network carried. Shared as malware are those whose evidence
                    // scores High or worse (a relayed download, a flux listener's image, an autorun or USB payload) or that a
                    // reputation source calls malicious: an executable the host fetched for itself (its own software update,
                    // Medium for being an executable over HTTP) with nothing else pointing at it is no indicator.
                    int score = FileScore(sha);
                    bool malicious = reputation is { Verdict: ReputationVerdict.Malicious or ReputationVerdict.Suspicious };
                    if (score < Scoring.MinimumScoreOf(Severity.High) && !malicious)
                    {
                        continue;
                    }

                    _familyCandidates.Add((file, FindingsNaming(sha).Count() + (_correlations.TryGetValue((IndicatorType.Sha256, sha), out var fc) ? fc.Evidence.Length : 0)));

                    string names = file.Names.Length == 0 ? "unnamed file" : string.Join(", ", file.Names.Take(5));
                    string context = $"malware file {names}" + (reputation?.Ratio is { } ratio ? $", {reputation.Source} {ratio}" : string.Empty);
                    // The MD5 comes with the file, or from a carved download of the same bytes.
                    string? md5 = Hex.Normalize(file.Md5, 32) ?? FindingsNaming(sha).OfType<FluxDownload>().Select(d => Hex.Normalize(d.Md5, 32)).FirstOrDefault(m => m is not null);
                    foreach (var (type, value) in new[] { (IndicatorType.Sha256, (string?)sha), (IndicatorType.Md5, md5) })
                    {
                        if (value is null)
                        {
                            continue;
                        }

                        var indicator = Add(type, value, "MalwareFile", context);
                        if (indicator is null)
                        {
                            continue;
                        }

                        if (indicator.Link is null && reputation?.Link is not null)
                        {
                            indicator.Link = reputation.Link;
                            indicator.LinkSource = reputation.Source;
                        }

                        indicator.Label ??= reputation?.Label;
                        Widen(indicator, file.FirstSeen, null, Math.Max(score, malicious ? Scoring.MinimumScoreOf(Severity.High) : 0), null);
                        foreach (var f in FindingsNaming(sha))
                        {
                            Widen(indicator, TimeOf(f), null, f.RiskScore, SourceOf(f));
                        }
                    }
                }
            }

            private IEnumerable<FluxFinding> FindingsNaming(string sha256) => _incident.Findings.Where(f => f switch
            {
                FluxDownload d => string.Equals(d.Sha256, sha256, StringComparison.OrdinalIgnoreCase),
                UsbLnkTrap t => string.Equals(t.Sha256, sha256, StringComparison.OrdinalIgnoreCase) || string.Equals(t.PayloadSha256, sha256, StringComparison.OrdinalIgnoreCase),
                FileFinding ff => string.Equals(ff.Sha256, sha256, StringComparison.OrdinalIgnoreCase),
                _ => false,
            });

            private int FileScore(string sha256)
            {
                int score = 0;
                if (_correlations.TryGetValue((IndicatorType.Sha256, sha256), out var c))
                {
                    score = c.RiskScore;
                }

                foreach (var f in FindingsNaming(sha256))
                {
                    score = Math.Max(score, f.RiskScore);
                }

                return score;
            }

            private static DateTime? TimeOf(FluxFinding f) => f switch
            {
                FluxDownload d => d.Time,
                RelaySession s => s.Start,
                ExposedCredential c => c.Time,
                FluxDomain d => d.FirstSeen,
                _ => null,
            };

            private void AddMalwareHosts()
            {
                var downloads = _incident.Findings.OfType<FluxDownload>().ToList();
                foreach (var host in _incident.MalwareHosts)
                {
                    string? address = IndicatorText.Address(host);
                    var served = downloads.Where(d => HostMatches(d, host, address)).ToList();
                    // Every server an executable came from is a malware host to the incident, the analysed host's own
                    // software update included; shared are those that served relayed downloads, a High or worse
                    // download, or one of the exported malware files.
                    if (served.Count > 0 && !served.Any(d => d.Relay is not null || d.RiskScore >= Scoring.MinimumScoreOf(Severity.High) ||
                        (Hex.Normalize(d.Sha256) is { } h && _byKey.ContainsKey((IndicatorType.Sha256, h)))))
                    {
                        continue;
                    }

                    string names = string.Join(", ", served.Select(d => d.FileName).Where(n => !string.IsNullOrEmpty(n)).Distinct(StringComparer.OrdinalIgnoreCase).Take(5));
                    string context = names.Length == 0 ? "upstream malware host" : $"upstream malware host serving {names}";
                    ExportedIndicator? indicator;
                    if (address is not null)
                    {
                        if (IsProtectedAddress(address))
                        {
                            continue;
                        }

                        indicator = Add(IndicatorType.Address, address, "MalwareHost", context);
                    }
                    else
                    {
                        string? name = NormalizeName(host);
                        if (name is null || IsExcludedDomain(name))
                        {
                            continue;
                        }

                        indicator = Add(IndicatorType.Domain, name, "MalwareHost", context);
                    }

                    if (indicator is null)
                    {
                        continue;
                    }

                    foreach (var d in served)
                    {
                        Widen(indicator, d.Time, null, d.RiskScore, SourceOf(d));
                    }

                    foreach (var h in _incident.Hosts.Where(h => string.Equals(IndicatorText.Address(h.Name) ?? NormalizeName(h.Name), indicator.Value, StringComparison.OrdinalIgnoreCase)))
                    {
                        Widen(indicator, h.FirstSeen, h.LastSeen, h.MaxRiskScore, null);
                    }
                }
            }

            private static bool HostMatches(FluxDownload d, string host, string? address)
            {
                if (address is not null)
                {
                    return string.Equals(IndicatorText.Address(d.Server), address, StringComparison.OrdinalIgnoreCase);
                }

                string? name = NormalizeName(host);
                return name is not null && d.Url is not null && string.Equals(UrlHost(d.Url), name, StringComparison.OrdinalIgnoreCase);
            }

            /// <summary>
            /// The names the capture analysis itself judged fast-flux. A name in the incident's ranking whose FluxDomain finding
            /// says it is not flux (a CDN, a stable name) stays out, and so does every name the analyst excluded.
            /// </summary>
            private void AddFluxDomains()
            {
                var verdicts = new Dictionary<string, bool>(StringComparer.Ordinal);
                var findings = new Dictionary<string, List<FluxDomain>>(StringComparer.Ordinal);
                foreach (var d in _incident.Findings.OfType<FluxDomain>())
                {
                    string? name = NormalizeName(d.Domain);
                    if (name is null)
                    {
                        continue;
                    }

                    verdicts[name] = (verdicts.TryGetValue(name, out bool v) && v) || d.IsFastFlux;
                    if (!findings.TryGetValue(name, out var list))
                    {
                        findings[name] = list = new List<FluxDomain>();
                    }

                    list.Add(d);
                }

                var ranked = _incident.FluxDomains.Select(r => (Name: NormalizeName(r.Domain), Ranked: (FluxRankedDomain?)r)).ToList();
                // Flux findings the ranking lacks (an incident built before the ranking knew them) still count, after it.
                var rankedNames = new HashSet<string>(ranked.Where(r => r.Name is not null).Select(r => r.Name!), StringComparer.Ordinal);
                ranked.AddRange(findings.Where(kv => verdicts[kv.Key] && !rankedNames.Contains(kv.Key))
                    .OrderByDescending(kv => kv.Value.Max(d => d.FluxScore)).ThenBy(kv => kv.Key, StringComparer.Ordinal)
                    .Select(kv => (Name: (string?)kv.Key, Ranked: (FluxRankedDomain?)null)));

                foreach (var (name, rank) in ranked)
                {
                    if (name is null || IsExcludedDomain(name) || (verdicts.TryGetValue(name, out bool isFlux) && !isFlux))
                    {
                        continue;
                    }

                    findings.TryGetValue(name, out var own);
                    own ??= new List<FluxDomain>();
                    double score = rank?.FluxScore ?? own.Select(d => d.FluxScore).DefaultIfEmpty().Max();
                    bool isDouble = (rank?.IsDoubleFlux ?? false) || own.Any(d => d.IsDoubleFlux);
                    string context = (isDouble ? "double-flux domain" : "fast-flux domain") + ", flux score " + score.ToString("0", CultureInfo.InvariantCulture);
                    long queries = rank?.QueryCount ?? 0;
                    if (queries > 0)
                    {
                        context += ", " + queries.ToString(CultureInfo.InvariantCulture) + " queries";
                    }

                    var indicator = Add(IndicatorType.Domain, name, "FluxDomain", context);
                    if (indicator is null)
                    {
                        continue;
                    }

                    if (rank is not null)
                    {
                        Widen(indicator, rank.FirstSeen, rank.LastSeen, rank.RiskScore, null);
                    }

                    foreach (var d in own)
                    {
                        Widen(indicator, d.FirstSeen, d.LastSeen, d.RiskScore, SourceOf(d));
                    }
                }
            }

            private void AddUrls()
            {
                // URLs carried in relayed mail: the phishing pages the botnet advertises.
                foreach (var s in _incident.Findings.OfType<RelaySession>()
                    .Where(s => string.Equals(s.Protocol, "Smtp", StringComparison.OrdinalIgnoreCase) && s.Urls.Length > 0)
                    .OrderBy(s => s.Start))
                {
                    foreach (var url in s.Urls)
                    {
                        AddUrl(url, "PhishingUrl", "URL in relayed mail", s.Start, s.End, s.RiskScore, SourceOf(s));
                    }
                }

                // Where the exported malware files were fetched from.
                var exportedHashes = new HashSet<string>(OfType(IndicatorType.Sha256).Select(i => i.Value), StringComparer.Ordinal);
                foreach (var d in _incident.Findings.OfType<FluxDownload>().Where(d => d.Url is not null && d.Sha256 is not null).OrderBy(d => d.Time))
                {
                    if (exportedHashes.Contains(Hex.Normalize(d.Sha256)!))
                    {
                        AddUrl(d.Url, "DownloadUrl", "download of malware file " + (d.FileName ?? d.Sha256), d.Time, null, d.RiskScore, SourceOf(d));
                    }
                }

                // URLs the malware itself carries (in an autorun command, a USB shortcut, a listener's command line) and that
                // were seen more than once; a URL merely browsed through the relay is no indicator.
                foreach (var c in _incident.Correlations.Where(c => c.IndicatorType == IndicatorType.Url && c.RiskScore >= Scoring.MinimumScoreOf(Severity.Medium) &&
                    c.EvidenceKinds.Any(k => k is nameof(SuspiciousAutorun) or nameof(UsbLnkTrap) or nameof(FluxListener))))
                {
                    AddUrl(c.Indicator, "Url", "URL seen in " + string.Join(", ", c.EvidenceKinds), c.FirstSeen, c.LastSeen, c.RiskScore, null);
                }
            }

            private IEnumerable<ExportedIndicator> OfType(IndicatorType type) => _ordered.Where(i => i.Type == type);

            private void AddUrl(string? raw, string role, string context, DateTime? first, DateTime? last, int score, string? source)
            {
                string? url = CleanUrl(raw);
                if (url is null)
                {
                    return;
                }

                string? host = UrlHost(url);
                if (host is null)
                {
                    return;
                }

                bool isAddress = IndicatorText.Address(host) is not null;
                if ((isAddress && IsProtectedAddress(host, _options.IncludeAnalyzedHost)) || (!isAddress && IsExcludedDomain(host)))
                {
                    return;
                }

                var indicator = Add(IndicatorType.Url, url, role, context);
                if (indicator is not null)
                {
                    Widen(indicator, first, last, score, source);
                }
            }

            /// <summary>The addresses the exported flux names resolved to: other people's compromised machines.</summary>
            private void AddFluxAgents()
            {
                var exportedDomains = new HashSet<string>(OfType(IndicatorType.Domain).Where(i => i.Role == "FluxDomain").Select(i => i.Value), StringComparer.Ordinal);
                var agents = new Dictionary<string, (List<string> Names, DateTime? First, DateTime? Last, int Score, string Source)>(StringComparer.Ordinal);
                foreach (var d in _incident.Findings.OfType<FluxDomain>())
                {
                    string? name = NormalizeName(d.Domain);
                    if (name is null || !exportedDomains.Contains(name))
                    {
                        continue;
                    }

                    foreach (var raw in d.Addresses)
                    {
                        string? a = IndicatorText.Address(raw);
                        if (a is null)
                        {
                            continue;
                        }

                        agents.TryGetValue(a, out var entry);
                        entry.Names ??= new List<string>();
                        if (!entry.Names.Contains(name))
                        {
                            entry.Names.Add(name);
                        }

                        entry.First = Min(entry.First, d.FirstSeen);
                        entry.Last = Max(entry.Last, d.LastSeen);
                        entry.Score = Math.Max(entry.Score, d.RiskScore);
                        entry.Source ??= SourceOf(d);
                        agents[a] = entry;
                    }
                }

                foreach (var h in _incident.Hosts.Where(h => !h.IsComputer && h.Roles.Contains(HostRole.FluxAgent)))
                {
                    string? a = IndicatorText.Address(h.Name);
                    if (a is null)
                    {
                        continue;
                    }

                    agents.TryGetValue(a, out var entry);
                    entry.Names ??= new List<string>();
                    entry.First = Min(entry.First, h.FirstSeen);
                    entry.Last = Max(entry.Last, h.LastSeen);
                    entry.Score = Math.Max(entry.Score, h.MaxRiskScore);
                    agents[a] = entry;
                }

                foreach (var kv in agents.OrderBy(kv => kv.Key, StringComparer.Ordinal))
                {
                    if (IsProtectedAddress(kv.Key))
                    {
                        continue;
                    }

                    var (names, first, last, score, source) = kv.Value;
                    string context = names.Count == 0 ? "fast-flux agent" :
                        "fast-flux agent answering for " + string.Join(", ", names.Take(3)) + (names.Count > 3 ? $" and {names.Count - 3} more" : string.Empty);
                    var indicator = Add(IndicatorType.Address, kv.Key, "FluxAgent", context);
                    if (indicator is not null)
                    {
                        Widen(indicator, first, last, score, source);
                    }
                }
            }

            private void AddAnalyzedHost()
            {
                foreach (var a in _analyzedHost.OrderBy(a => a, StringComparer.Ordinal))
                {
                    if (_knownResolvers.Contains(a))
                    {
                        continue;
                    }

                    var indicator = Add(IndicatorType.Address, a, "AnalyzedHost", "the analysed host (relay)");
                    if (indicator is null)
                    {
                        continue;
                    }

                    foreach (var h in _incident.Hosts.Where(h => string.Equals(IndicatorText.Address(h.Name), a, StringComparison.Ordinal) || h.Addresses.Any(x => IndicatorText.Address(x) == a)))
                    {
                        Widen(indicator, h.FirstSeen, h.LastSeen, h.MaxRiskScore, null);
                    }

                    if (indicator.FirstSeen is null)
                    {
                        Widen(indicator, _incident.FirstSeen, _incident.LastSeen, _incident.RiskScore, null);
                    }
                }
            }

            private static DateTime? Min(DateTime? a, DateTime? b) => a is null ? b : b is null ? a : (a < b ? a : b);

            private static DateTime? Max(DateTime? a, DateTime? b) => a is null ? b : b is null ? a : (a > b ? a : b);
        }
    }
}
