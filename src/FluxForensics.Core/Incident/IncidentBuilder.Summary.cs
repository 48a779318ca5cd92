using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using FluxForensics.Detection;
using FluxForensics.Model;

namespace FluxForensics.Incident
{
    /// <summary>The incident's summary counts and its malware files.</summary>
    public sealed partial class IncidentBuilder
    {
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
    }
}
