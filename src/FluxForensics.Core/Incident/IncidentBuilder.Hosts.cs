using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using FluxForensics.Detection;
using FluxForensics.Model;

namespace FluxForensics.Incident
{
    /// <summary>The incident's hosts: each computer and remote address, with the roles the findings give it.</summary>
    public sealed partial class IncidentBuilder
    {
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
    }
}
