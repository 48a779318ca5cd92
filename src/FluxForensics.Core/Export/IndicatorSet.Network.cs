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
        /// <summary>Network indicators: flux domains, URLs, the relays' client agents and the analysed host itself.</summary>
        private sealed partial class Collector
        {
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
        }
    }
}
