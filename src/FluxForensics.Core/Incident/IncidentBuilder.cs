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
    public sealed class IncidentBuilder
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

        private void Summarize(FluxIncident incident, FluxFinding[] findings, Dictionary<(IndicatorType, string), IndicatorGroup> groups,
            Dictionary<string, FluxReputation> reputations)
        {
            var computers = new SortedSet<string>(StringComparer.OrdinalIgnoreCase);
            var relays = new SortedSet<string>(StringComparer.Ordinal);
            var bots = new HashSet<string>(StringComparer.Ordinal);
            var mail = new HashSet<string>(StringComparer.Ordinal);
            var ftp = new HashSet<string>(StringComparer.Ordinal);
            var malwareHosts = new SortedSet<string>(StringComparer.Ordinal);
            var domains = new List<FluxRankedDomain>();
            var accounts = new Dictionary<(string, string, string, int), FluxExposedAccount>();
            DateTime? first = null, last = null;

            void Span(DateTime? t)
            {
                if (t is { } v && v.Year > 1601)
                {
                    first = first is null || v < first ? v : first;
                    last = last is null || v > last ? v : last;
                }
            }

            foreach (var f in findings)
            {
                switch (f)
                {
                    case FluxListener l:
                        computers.Add(l.ComputerName);
                        break;
                    case SuspiciousAutorun a:
                        computers.Add(a.ComputerName);
                        break;
                    case UsbLnkTrap u:
                        computers.Add(u.ComputerName);
                        break;
                    case RelaySession r:
                        relays.Add(r.Relay);
                        bots.Add(r.Client);
                        if (r.Protocol.Equals("Smtp", StringComparison.OrdinalIgnoreCase))
                        {
                            mail.Add(r.Server);
                        }
                        else if (r.Protocol.Equals("Ftp", StringComparison.OrdinalIgnoreCase))
                        {
                            ftp.Add(r.Server);
                        }

                        break;
                    case FluxDownload d:
                        malwareHosts.Add(d.Server);
                        if (d.Relay is not null)
                        {
                            relays.Add(d.Relay);
                            bots.Add(d.Client);
                        }

                        break;
                    case DnsProxy p when p.RiskScore >= Scoring.MinimumScoreOf(Severity.Medium):
                        relays.Add(p.Address);
                        break;
                    case FluxDomain d when d.IsFastFlux:
                        domains.Add(new FluxRankedDomain
                        {
                            Domain = d.Domain,
                            QueryCount = d.QueryCount,
                            FluxScore = d.FluxScore,
                            IsDoubleFlux = d.IsDoubleFlux,
                            AddressCount = d.AddressCount,
                            RiskScore = d.RiskScore,
                            FirstSeen = d.FirstSeen,
                            LastSeen = d.LastSeen,
                        });
                        break;
                    case ExposedCredential c when c.Account is not null:
                        var key = (c.Account, c.Protocol, c.Server, c.ServerPort);
                        if (!accounts.TryGetValue(key, out var account))
                        {
                            account = new FluxExposedAccount { Account = c.Account, Protocol = c.Protocol, Server = c.Server, ServerPort = c.ServerPort, Secret = c.Secret };
                            accounts.Add(key, account);
                        }

                        account.Sessions++;
                        account.Accepted = account.Accepted == true || c.Accepted == true ? true : account.Accepted == false || c.Accepted == false ? false : (bool?)null;
                        account.FirstSeen = account.FirstSeen is null || c.Time < account.FirstSeen ? c.Time : account.FirstSeen;
                        if (account.Secret == Redaction.Mask && c.Secret is not null && c.Secret != Redaction.Mask)
                        {
                            account.Secret = c.Secret;
                        }

                        break;
                }
            }

            foreach (var e in _timeline)
            {
                Span(e.Time);
            }

            incident.FirstSeen = first;
            incident.LastSeen = last;
            incident.ComputerNames = computers.Concat(_quarantine.Select(q => q.ComputerName)).Distinct(StringComparer.OrdinalIgnoreCase).ToArray();
            incident.Relays = relays.ToArray();
            incident.BotCount = bots.Count;
            incident.MailServerCount = mail.Count;
            incident.FtpServerCount = ftp.Count;
            incident.MalwareHosts = malwareHosts.ToArray();
            incident.FluxDomains = domains.OrderByDescending(d => d.QueryCount).ThenByDescending(d => d.FluxScore).ThenBy(d => d.Domain, StringComparer.Ordinal).ToArray();
            incident.FluxDomainCount = incident.FluxDomains.Length;
            incident.ExposedAccounts = accounts.Values.OrderBy(a => a.Protocol, StringComparer.Ordinal).ThenBy(a => a.Account, StringComparer.OrdinalIgnoreCase)
                .ThenBy(a => a.Server, StringComparer.Ordinal).ToArray();
            incident.MalwareFiles = MalwareFiles(findings, groups, reputations);
        }

        /// <summary>
        /// Files that are the malware: every executable the network carried, every USB payload, and a listener image or
        /// autorun target when its finding is High or worse or its hash is one of those.
        /// </summary>
        private FluxMalwareFile[] MalwareFiles(FluxFinding[] findings, Dictionary<(IndicatorType, string), IndicatorGroup> groups, Dictionary<string, FluxReputation> reputations)
        {
            var files = new List<FluxMalwareFile>();
            foreach (var group in groups.Values)
            {
                if (group.Type != IndicatorType.Sha256)
                {
                    continue;
                }

                bool malware = false;
                foreach (int i in group.Sightings)
                {
                    var s = _sightings[i];
                    var f = s.FindingIndex >= 0 ? findings[s.FindingIndex] : null;
                    if (f is FluxDownload || f is UsbLnkTrap || (f is not null && f.Severity >= Severity.High) ||
                        (reputations.TryGetValue(group.Value, out var r) && r.Verdict == ReputationVerdict.Malicious))
                    {
                        malware = true;
                        break;
                    }
                }

                if (!malware)
                {
                    continue;
                }

                var names = new List<string>();
                var locations = new List<string>();
                var computers = new List<string>();
                var kinds = new List<string>();
                string? md5 = null;
                long? size = null;
                DateTime? first = null;
                foreach (int i in group.Sightings)
                {
                    var s = _sightings[i];
                    var (kind, computer, _, _) = Describe(s.FindingIndex, findings);
                    if (s.Name is not null)
                    {
                        AddOnce(names, s.Name);
                    }

                    if (s.Location is not null && locations.Count < 50)
                    {
                        AddOnce(locations, s.Location);
                    }

                    if (HostKinds.Contains(kind))
                    {
                        AddOnce(computers, computer);
                    }

                    AddOnce(kinds, kind);
                    if (s.FindingIndex >= 0)
                    {
                        switch (findings[s.FindingIndex])
                        {
                            case FluxDownload d:
                                md5 ??= d.Md5;
                                size ??= d.Size;
                                break;
                            case UsbLnkTrap u:
                                size ??= u.PayloadSize;
                                break;
                        }
                    }

                    if (s.Time is { } t && (first is null || t < first))
                    {
                        first = t;
                    }
                }

                reputations.TryGetValue(group.Value, out var reputation);
                if (reputation is null && md5 is not null)
                {
                    reputations.TryGetValue(md5, out reputation);
                }

                files.Add(new FluxMalwareFile
                {
                    Sha256 = group.Value,
                    Md5 = md5,
                    Names = names.ToArray(),
                    Size = size,
                    Locations = locations.ToArray(),
                    ComputerNames = computers.ToArray(),
                    EvidenceKinds = kinds.ToArray(),
                    FirstSeen = first,
                    Reputation = reputation,
                });
            }

            return files.OrderByDescending(f => f.EvidenceKinds.Length).ThenBy(f => f.FirstSeen ?? DateTime.MaxValue).ThenBy(f => f.Sha256, StringComparer.Ordinal).ToArray();
        }

        private sealed class HostRow
        {
            public HostRow(string name, bool isComputer)
            {
                Name = name;
                IsComputer = isComputer;
            }

            public string Name { get; }
            public bool IsComputer { get; }
            public SortedSet<HostRole> Roles { get; } = new SortedSet<HostRole>();
            public SortedSet<string> Addresses { get; } = new SortedSet<string>(StringComparer.Ordinal);
            public HashSet<int> Findings { get; } = new HashSet<int>();
            public int MaxScore { get; set; }
            public Severity MaxSeverity { get; set; }
            public DateTime? First { get; set; }
            public DateTime? Last { get; set; }
            public uint? Asn { get; set; }
            public string? AsOrganization { get; set; }
            public string? Country { get; set; }
            public string? CountryName { get; set; }

            /// <summary>What the capture analysis learnt of the server's network and country, when it had the databases.</summary>
            public void Locate(FluxFinding? finding)
            {
                switch (finding)
                {
                    case RelaySession r when r.ServerAsn is not null || r.ServerCountry is not null:
                        Asn ??= r.ServerAsn;
                        AsOrganization ??= r.ServerAsOrganization;
                        Country ??= r.ServerCountry;
                        CountryName ??= r.ServerCountryName;
                        break;
                    case FluxDownload d when d.ServerAsn is not null || d.ServerCountry is not null:
                        Asn ??= d.ServerAsn;
                        AsOrganization ??= d.ServerAsOrganization;
                        Country ??= d.ServerCountry;
                        CountryName ??= d.ServerCountryName;
                        break;
                }
            }

            public void Saw(int findingIndex, FluxFinding? finding, DateTime? time)
            {
                if (findingIndex >= 0 && Findings.Add(findingIndex) && finding is not null && finding.RiskScore > MaxScore)
                {
                    MaxScore = finding.RiskScore;
                    MaxSeverity = finding.Severity;
                }

                if (time is { } t)
                {
                    First = First is null || t < First ? t : First;
                    Last = Last is null || t > Last ? t : Last;
                }
            }
        }

        private FluxIncidentHost[] Hosts(FluxFinding[] findings, Dictionary<(IndicatorType, string), IndicatorGroup> groups)
        {
            var rows = new Dictionary<string, HostRow>(StringComparer.OrdinalIgnoreCase);
            var owner = new Dictionary<string, HostRow>(StringComparer.Ordinal);
            HostRow Row(string name, bool computer)
            {
                if (!rows.TryGetValue(name, out var row))
                {
                    row = new HostRow(name, computer);
                    rows.Add(name, row);
                }

                return row;
            }

            for (int i = 0; i < findings.Length; i++)
            {
                var f = findings[i];
                if (HostKinds.Contains(f.Kind))
                {
                    var row = Row(f.ComputerName, computer: true);
                    row.Saw(i, f, null);
                    if (f.Severity >= Severity.High)
                    {
                        row.Roles.Add(HostRole.InfectedHost);
                    }
                }
            }

            foreach (var q in _quarantine)
            {
                Row(q.ComputerName, computer: true).Roles.Add(HostRole.InfectedHost);
            }

            // Addresses owned by computers (given, or a listener bound to them) fold into the computer's row.
            foreach (var s in _sightings)
            {
                if (s.Type == IndicatorType.Address && s.HostRole == HostRole.InfectedHost && s.FindingIndex >= 0)
                {
                    var row = Row(findings[s.FindingIndex].ComputerName, computer: true);
                    row.Addresses.Add(s.Value);
                    owner[s.Value] = row;
                }
            }

            foreach (var s in _sightings)
            {
                if (s.Type != IndicatorType.Address || s.HostRole is not { } role || role == HostRole.InfectedHost)
                {
                    continue;
                }

                var row = owner.TryGetValue(s.Value, out var computerRow) ? computerRow : Row(s.Value, computer: false);
                row.Roles.Add(role);
                var finding = s.FindingIndex >= 0 ? findings[s.FindingIndex] : null;
                row.Saw(s.FindingIndex, finding, s.Time);
                if (role == HostRole.MailServer || role == HostRole.FtpServer || role == HostRole.MalwareHost)
                {
                    row.Locate(finding);
                }
            }

            return rows.Values
                .Where(r => r.IsComputer || r.Roles.Count > 0)
                .Select(r => new FluxIncidentHost
                {
                    Name = r.Name,
                    IsComputer = r.IsComputer,
                    Addresses = r.Addresses.ToArray(),
                    Roles = r.Roles.ToArray(),
                    MaxSeverity = r.MaxSeverity,
                    MaxRiskScore = r.MaxScore,
                    FindingCount = r.Findings.Count,
                    FirstSeen = r.First,
                    LastSeen = r.Last,
                    Asn = r.Asn,
                    AsOrganization = r.AsOrganization,
                    Country = r.Country,
                    CountryName = r.CountryName,
                })
                .OrderByDescending(h => h.IsComputer)
                .ThenByDescending(h => h.MaxRiskScore)
                .ThenBy(h => h.Roles.Length == 0 ? HostRole.FtpServer : h.Roles[0])
                .ThenBy(h => h.Name, StringComparer.Ordinal)
                .ToArray();
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
