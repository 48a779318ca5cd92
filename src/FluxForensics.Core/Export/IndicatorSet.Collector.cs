using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Net;
using FluxForensics.Model;

namespace FluxForensics.Export
{
    public sealed partial class IndicatorSet
    {
        private sealed partial class Collector
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

            private static DateTime? Min(DateTime? a, DateTime? b) => a is null ? b : b is null ? a : (a < b ? a : b);

            private static DateTime? Max(DateTime? a, DateTime? b) => a is null ? b : b is null ? a : (a > b ? a : b);
        }
    }
}
