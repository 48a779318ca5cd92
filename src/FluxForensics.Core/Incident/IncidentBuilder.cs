using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using FluxForensics.Detection;
using FluxForensics.Model;

namespace FluxForensics.Incident
{
    /// <summary>What to build the incident with besides the findings.</summary>
    public sealed class IncidentOptions
    {
        /// <summary>Addresses that belong to computers (computer name → addresses), so a relay seen in a capture joins the
        /// computer whose host findings show the malware.</summary>
        public IDictionary<string, string[]> ComputerAddresses { get; } = new Dictionary<string, string[]>(StringComparer.OrdinalIgnoreCase);

        public string? Title { get; set; }

        /// <summary>Reports progress as findings are joined.</summary>
        public IFluxReporter? Reporter { get; set; }
    }

    /// <summary>
    /// Joins findings from every source and computer into one <see cref="FluxIncident"/>: the same file, name, address
    /// or account seen in more than one piece of evidence becomes a scored <see cref="FluxCorrelation"/>; the times the
    /// findings carry become the timeline; addresses and computers get their roles. Add findings in any order; the
    /// incident does not depend on it beyond the indexes of <see cref="FluxIncident.Findings"/>.
    /// </summary>
    public sealed partial class IncidentBuilder
    {
        private static readonly HashSet<string> HostKinds = new HashSet<string>(StringComparer.Ordinal)
        {
            nameof(FluxListener), nameof(SuspiciousAutorun), nameof(UsbLnkTrap), nameof(FluxQuarantineItem),
        };

        private readonly IncidentOptions _options;
        private readonly List<FluxFinding> _findings = new List<FluxFinding>();
        private readonly List<FluxQuarantineItem> _quarantine = new List<FluxQuarantineItem>();
        private readonly List<FluxReputation> _reputations = new List<FluxReputation>();
        private readonly List<Sighting> _sightings = new List<Sighting>();
        private readonly List<FluxTimelineEvent> _timeline = new List<FluxTimelineEvent>();

        public IncidentBuilder(IncidentOptions? options = null) => _options = options ?? new IncidentOptions();

        public int Count => _findings.Count + _quarantine.Count;

        /// <summary>Adds a finding; an incident given as evidence adds the findings it was built from.</summary>
        public void Add(FluxFinding finding)
        {
            switch (finding ?? throw new ArgumentNullException(nameof(finding)))
            {
                case FluxIncident incident:
                    foreach (var inner in incident.Findings)
                    {
                        Add(inner);
                    }

                    return;
                case FluxCorrelation _:
                    // Made by an earlier join; the findings behind it are what is joined again.
                    return;
                case FluxReputation reputation:
                    _reputations.Add(reputation);
                    break;
            }

            int index = _findings.Count;
            _findings.Add(finding);
            IndicatorSightings.Read(finding, index, _sightings);
            TimelineEvents.Read(finding, index, _timeline);
        }

        /// <summary>Adds an item of the quarantine store: its hash joins the files it was.</summary>
        public void Add(FluxQuarantineItem item)
        {
            _quarantine.Add(item ?? throw new ArgumentNullException(nameof(item)));
            int index = -_quarantine.Count;
            IndicatorSightings.Read(item, index, _sightings);
            TimelineEvents.Read(item, index, _timeline);
        }

        public FluxIncident Build(CancellationToken cancellation = default)
        {
            var findings = _findings.ToArray();
            AddComputerAddresses(findings);
            var reputations = ReputationIndex();
            var groups = GroupSightings(cancellation);
            var correlations = Correlate(groups, findings, reputations, cancellation);
            var timeline = _timeline.ToArray();
            Array.Sort(timeline, TimelineEvents.Compare);

            var incident = new FluxIncident
            {
                Source = "Incident",
                Findings = findings,
                Reputations = _reputations.ToArray(),
                Correlations = correlations,
                Timeline = timeline,
                FindingCount = findings.Length + _quarantine.Count,
            };

            Summarize(incident, findings, groups, reputations);
            incident.Hosts = Hosts(findings, groups);
            incident.Title = _options.Title ?? DefaultTitle(incident);
            var worstFinding = findings.Where(f => !(f is FluxReputation)).OrderByDescending(f => f.RiskScore).FirstOrDefault();
            incident.SetScore(IncidentRules.ScoreIncident(correlations.FirstOrDefault(), worstFinding, correlations.Length, incident.FindingCount));
            return incident;
        }

        /// <summary>A computer's known addresses become sightings of its listener (the relay process itself) or else of its most
        /// severe host finding.</summary>
        private void AddComputerAddresses(FluxFinding[] findings)
        {
            foreach (var pair in _options.ComputerAddresses)
            {
                int best = -1;
                for (int i = 0; i < findings.Length; i++)
                {
                    if (HostKinds.Contains(findings[i].Kind) && string.Equals(findings[i].ComputerName, pair.Key, StringComparison.OrdinalIgnoreCase) &&
                        (best < 0 || Rank(findings[i]) > Rank(findings[best])))
                    {
                        best = i;
                    }
                }

                if (best < 0)
                {
                    _options.Reporter?.Warning($"No listener, autorun or USB finding was given for computer '{pair.Key}'; its addresses ({string.Join(", ", pair.Value)}) join nothing.");
                    continue;
                }

                foreach (string text in pair.Value)
                {
                    if (IndicatorSightings.Address(text) is { } address)
                    {
                        _sightings.Add(new Sighting(IndicatorType.Address, address, $"address of {findings[best].ComputerName}", $"computer {findings[best].ComputerName}", best,
                            address, null, hostRole: HostRole.InfectedHost));
                    }
                    else
                    {
                        _options.Reporter?.Warning($"'{text}' given as an address of '{pair.Key}' is not an IP address; ignored.");
                    }
                }
            }
        }

        private static int Rank(FluxFinding f) => (f is FluxListener ? 1000 : 0) + f.RiskScore;

        private Dictionary<string, FluxReputation> ReputationIndex()
        {
            // A hash list and VirusTotal may both answer: the worst verdict wins, then an answer that counted engines
            // (it has a ratio to report), then the most recent.
            var index = new Dictionary<string, FluxReputation>(StringComparer.OrdinalIgnoreCase);
            foreach (var r in _reputations.OrderBy(r => r.Verdict).ThenBy(r => r.Ratio is null ? 0 : 1).ThenBy(r => r.LastAnalysis ?? r.ObservedAt))
            {
                foreach (string? key in new[] { r.Sha256, r.Md5, r.Domain })
                {
                    if (!string.IsNullOrEmpty(key))
                    {
                        index[key!.ToLowerInvariant()] = r;
                    }
                }
            }

            return index;
        }

        private sealed class IndicatorGroup
        {
            public IndicatorGroup(IndicatorType type, string value)
            {
                Type = type;
                Value = value;
            }

            public IndicatorType Type { get; }
            public string Value { get; }
            public List<int> Sightings { get; } = new List<int>(2);
            public HashSet<string> Contexts { get; } = new HashSet<string>(StringComparer.Ordinal);
        }

        private Dictionary<(IndicatorType, string), IndicatorGroup> GroupSightings(CancellationToken cancellation)
        {
            var groups = new Dictionary<(IndicatorType, string), IndicatorGroup>();
            for (int i = 0; i < _sightings.Count; i++)
            {
                if ((i & 0xFFFF) == 0)
                {
                    cancellation.ThrowIfCancellationRequested();
                    _options.Reporter?.Progress("Joining findings", $"{i:N0} of {_sightings.Count:N0} indicators", _sightings.Count == 0 ? 1 : (double)i / _sightings.Count);
                }

                var s = _sightings[i];
                var key = (s.Type, s.Value);
                if (!groups.TryGetValue(key, out var group))
                {
                    group = new IndicatorGroup(s.Type, s.Value);
                    groups.Add(key, group);
                }

                group.Sightings.Add(i);
                group.Contexts.Add(s.Context);
            }

            return groups;
        }

        private FluxCorrelation[] Correlate(Dictionary<(IndicatorType, string), IndicatorGroup> groups, FluxFinding[] findings,
            Dictionary<string, FluxReputation> reputations, CancellationToken cancellation)
        {
            var correlations = new List<FluxCorrelation>();
            foreach (var group in groups.Values)
            {
                if (group.Contexts.Count < 2)
                {
                    continue;
                }

                cancellation.ThrowIfCancellationRequested();
                var evidence = new List<CorrelationEvidence>(group.Sightings.Count);
                var seen = new HashSet<(int, string)>();
                var roles = new List<string>();
                var kinds = new List<string>();
                var computers = new List<string>();
                var hostComputers = new SortedSet<string>(StringComparer.OrdinalIgnoreCase);
                var names = new List<string>();
                var relays = new HashSet<string>(StringComparer.Ordinal);
                var servers = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
                bool accepted = false;
                var worst = Severity.Info;
                DateTime? first = null, last = null;
                foreach (int i in group.Sightings)
                {
                    var s = _sightings[i];
                    if (!seen.Add((s.FindingIndex, s.Role)))
                    {
                        continue;
                    }

                    var (kind, computer, severity, score) = Describe(s.FindingIndex, findings);
                    evidence.Add(new CorrelationEvidence
                    {
                        Kind = kind,
                        ComputerName = computer,
                        Location = s.Location,
                        Time = s.Time,
                        Role = s.Role,
                        Severity = severity,
                        RiskScore = score,
                        FindingIndex = s.FindingIndex,
                    });
                    AddOnce(roles, s.Role);
                    AddOnce(kinds, kind);
                    AddOnce(computers, computer);
                    if (HostKinds.Contains(kind) || s.Role.StartsWith("address of ", StringComparison.Ordinal))
                    {
                        hostComputers.Add(computer);
                    }

                    if (s.Name is not null)
                    {
                        AddOnce(names, s.Name);
                    }

                    if (severity > worst)
                    {
                        worst = severity;
                    }

                    if (s.Time is { } t)
                    {
                        first = first is null || t < first ? t : first;
                        last = last is null || t > last ? t : last;
                    }

                    if (s.FindingIndex >= 0)
                    {
                        switch (findings[s.FindingIndex])
                        {
                            case RelaySession r when s.Role == "bot":
                                relays.Add(r.Relay);
                                break;
                            case FluxDownload d when s.Role == "bot" && d.Relay is not null:
                                relays.Add(d.Relay);
                                break;
                            case RelaySession r when s.Type == IndicatorType.Account:
                                servers.Add(r.Server);
                                accepted |= r.Accepted == true;
                                break;
                            case ExposedCredential c when s.Type == IndicatorType.Account:
                                servers.Add(c.Server);
                                accepted |= c.Accepted == true;
                                break;
                            case FluxDownload d when s.Type == IndicatorType.Account:
                                servers.Add(d.Server);
                                break;
                        }
                    }
                }

                if (evidence.Count < 2)
                {
                    continue;
                }

                reputations.TryGetValue(group.Value, out var reputation);
                var correlation = new FluxCorrelation
                {
                    Source = "Incident",
                    Indicator = group.Value,
                    IndicatorType = group.Type,
                    Evidence = evidence.OrderBy(e => e.Time ?? DateTime.MaxValue).ThenBy(e => e.FindingIndex).ToArray(),
                    EvidenceKinds = kinds.ToArray(),
                    ComputerNames = computers.ToArray(),
                    Names = names.ToArray(),
                    Reputation = reputation,
                    FirstSeen = first,
                    LastSeen = last,
                };
                correlation.SetScore(IncidentRules.Score(new CorrelationFacts
                {
                    Type = group.Type,
                    Indicator = group.Value,
                    Roles = roles,
                    EvidenceCount = evidence.Count,
                    HostComputers = hostComputers,
                    RelayCount = relays.Count,
                    ServerCount = servers.Count,
                    AnyAccepted = accepted,
                    MaxEvidenceSeverity = worst,
                    Reputation = reputation,
                }));
                correlations.Add(correlation);
            }

            return correlations
                .OrderByDescending(c => c.RiskScore)
                .ThenBy(c => c.IndicatorType)
                .ThenBy(c => c.Indicator, StringComparer.Ordinal)
                .ToArray();
        }

        private (string Kind, string Computer, Severity Severity, int Score) Describe(int index, FluxFinding[] findings)
        {
            if (index >= 0)
            {
                var f = findings[index];
                return (f.Kind, f.ComputerName, f.Severity, f.RiskScore);
            }

            var q = _quarantine[-1 - index];
            return (nameof(FluxQuarantineItem), q.ComputerName, Severity.Info, 0);
        }

        private static void AddOnce(List<string> list, string value)
        {
            if (!list.Contains(value))
            {
                list.Add(value);
            }
        }

        private static string DefaultTitle(FluxIncident incident)
        {
            var parts = new List<string>();
            if (incident.MalwareFiles.Length > 0)
            {
                parts.Add(string.Join(" / ", incident.MalwareFiles[0].Names.Take(3)));
            }

            if (incident.Relays.Length > 0)
            {
                parts.Add($"relay {string.Join(", ", incident.Relays.Take(3))}");
            }

            if (incident.ComputerNames.Length > 0)
            {
                parts.Add($"on {string.Join(", ", incident.ComputerNames.Take(3))}{(incident.ComputerNames.Length > 3 ? ", …" : string.Empty)}");
            }

            return parts.Count == 0 ? "FluxForensics incident" : string.Join("; ", parts);
        }
    }
}
