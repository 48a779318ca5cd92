using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;
using FluxForensics.Capture;
using FluxForensics.Model;

namespace FluxForensics.Export
{
    public static partial class ReportWriter
    {
        /// <summary>The report's sections, in the order they appear.</summary>
        private sealed partial class Builder
        {
            private void Summary()
            {
                Open("summary", "Summary");
                var i = _incident;
                _sb.Append("<div class=\"verdict sev-").Append(i.Severity).Append("\"><span class=\"badge sev-").Append(i.Severity).Append("\">")
                   .Append(i.Severity).Append("</span> risk score <strong>").Append(i.RiskScore).Append("</strong> / 100</div>\n");
                _sb.Append("<p class=\"what\">").Append(E(WhatHappened())).Append("</p>\n");
                _sb.Append("<dl class=\"facts\">\n");
                Fact("When", i.FirstSeen is null && i.LastSeen is null ? "not known" : $"{ReportMarkup.Time(i.FirstSeen)} \u2013 {ReportMarkup.Time(i.LastSeen)}");
                Fact("Computers examined", Join(Computers()));
                Fact("Relays", Join(Relays()));
                Fact("Bots (relay clients)", ReportMarkup.Number(BotCount()));
                Fact("Flux names", ReportMarkup.Number(RankedDomains().Count));
                Fact("Mail servers reached", ReportMarkup.Number(MailServerCount()));
                Fact("FTP servers reached", ReportMarkup.Number(FtpServerCount()));
                Fact("Malware files", ReportMarkup.Number(MalwareFiles().Count));
                Fact("Malware hosts", Join(MalwareHosts()));
                Fact("Exposed accounts", ReportMarkup.Number(Accounts().Count));
                Fact("Findings", ReportMarkup.Number(_findings.Length) + " (" + string.Join(", ", _findings.GroupBy(f => f.Kind).OrderByDescending(g => g.Count()).ThenBy(g => g.Key, StringComparer.Ordinal).Select(g => $"{g.Count()} {g.Key}")) + ")");
                _sb.Append("</dl>\n");
                if (i.Reasons.Length > 0)
                {
                    _sb.Append("<h3>Why this score</h3>\n<ul class=\"reasons\">\n");
                    foreach (var r in i.Reasons.Take(20))
                    {
                        _sb.Append("<li>").Append(E(r.ToString())).Append("</li>\n");
                    }

                    _sb.Append("</ul>\n");
                }

                Close();
            }

            private string WhatHappened()
            {
                var parts = new List<string>();
                var relays = Relays();
                int smtp = _sessions.Count(s => Eq(s.Protocol, "Smtp"));
                int ftp = _sessions.Count(s => Eq(s.Protocol, "Ftp"));
                if (relays.Count > 0)
                {
                    parts.Add($"{Plural(relays.Count, "relay")} ({Shorten(relays)}) carried {Plural(smtp, "SMTP session")} to {Plural(MailServerCount(), "mail server")} and {Plural(ftp, "FTP session")} to {Plural(FtpServerCount(), "FTP server")} for {Plural(BotCount(), "bot")}");
                }

                int names = RankedDomains().Count;
                if (names > 0)
                {
                    parts.Add($"{Plural(names, "fast-flux name")} resolved to the botnet's agents");
                }

                int files = MalwareFiles().Count;
                if (files > 0)
                {
                    parts.Add($"{Plural(files, "malware file")} came from {Plural(MalwareHosts().Count, "host")}");
                }

                int hostFindings = _listeners.Length + _autoruns.Length + _traps.Length;
                if (hostFindings > 0)
                {
                    parts.Add($"{Plural(Computers().Count, "computer")} showed {Plural(_listeners.Length, "suspicious listener")}, {Plural(_autoruns.Length, "autorun")} and {Plural(_traps.Length, "USB shortcut trap")}");
                }

                int accounts = Accounts().Count;
                if (accounts > 0)
                {
                    parts.Add($"{Plural(accounts, "account")} sent {(accounts == 1 ? "its" : "their")} password in clear");
                }

                return parts.Count == 0 ? "No host or network evidence of a flux botnet was given." : string.Join("; ", parts) + ".";
            }

            private void NetworkPicture()
            {
                Open("network-picture", "Network picture");
                var graph = new FluxGraph { MaxNodesPerRole = Math.Max(2, _options.MaxNodesPerRole) };
                foreach (var f in _findings)
                {
                    graph.Add(f);
                }

                _sb.Append("<p>Drawn from the relayed sessions, downloads, cleartext logins, fast-flux names and DNS proxies: bots \u2192 relay \u2192 mail/FTP servers, malware hosts feeding the relay, flux names beside the bots they resolve to. Roles with more than ")
                   .Append(graph.MaxNodesPerRole).Append(" hosts keep their busiest and fold the rest into \u201C+N more\u201D.</p>\n");
                _sb.Append("<figure class=\"graph\">\n");
                // The graph never takes a secret, but its labels (host and file names) pass the same filter as the rest.
                _sb.Append(graph.ToSvg(null, _secrets.Apply));
                _sb.Append("</figure>\n");
                Close();
            }

            private void Hosts()
            {
                Open("hosts", "Hosts and their roles");
                var hosts = _incident.Hosts ?? Array.Empty<FluxIncidentHost>();
                if (hosts.Length > 0)
                {
                    Table("hosts-table", new[] { "Host", "Kind", "Roles", "Addresses", "Severity", "Score", "Findings", "First seen", "Last seen" },
                        hosts.OrderByDescending(h => h.MaxRiskScore).ThenBy(h => h.Name, StringComparer.Ordinal).Select(h => new[]
                        {
                            Code(h.Name), E(h.IsComputer ? "computer" : "address"), E(string.Join(", ", h.Roles)), Code(string.Join(", ", h.Addresses)),
                            Sev(h.MaxSeverity), Num(h.MaxRiskScore), Num(h.FindingCount), E(ReportMarkup.Time(h.FirstSeen)), E(ReportMarkup.Time(h.LastSeen)),
                        }));
                }
                else
                {
                    // No joined hosts (findings given without the incident's join): list the computers the findings came from.
                    Table("hosts-table", new[] { "Host", "Kind", "Roles", "Severity", "Score", "Findings" },
                        _findings.GroupBy(f => f.ComputerName ?? string.Empty, StringComparer.OrdinalIgnoreCase).OrderByDescending(g => g.Max(f => f.RiskScore)).Select(g => new[]
                        {
                            Code(g.Key), E("computer"), E(string.Join(", ", g.Select(f => f.Kind).Distinct())), Sev(g.Max(f => f.Severity)), Num(g.Max(f => f.RiskScore)), Num(g.Count()),
                        }));
                }

                Close();
            }

            private void HostEvidence()
            {
                Open("host-evidence", "Host evidence");
                Sub("Listeners", "listeners");
                Table("listeners-table", new[] { "Computer", "Listening on", "Process", "Image", "SHA-256", "Signature", "Outbound", "Severity", "Score", "Reasons" },
                    _listeners.OrderByDescending(l => l.RiskScore).Select(l => new[]
                    {
                        Code(l.ComputerName), Code($"{l.Protocol} {l.LocalAddress}:{l.LocalPort.ToString(CultureInfo.InvariantCulture)}"),
                        Code($"{l.ProcessName} ({l.ProcessId.ToString(CultureInfo.InvariantCulture)})") + (string.IsNullOrEmpty(l.CommandLine) ? string.Empty : "<br/>" + Code(l.CommandLine)),
                        Code(l.Path), Hash(l.Sha256), E(l.SignatureStatus), Num(l.OutboundConnectionCount), Sev(l.Severity), Num(l.RiskScore), Reasons(l),
                    }));
                Sub("Autoruns", "autoruns");
                Table("autoruns-table", new[] { "Computer", "Location", "Name", "Command", "Image", "SHA-256", "Written", "Severity", "Score", "Reasons" },
                    _autoruns.OrderByDescending(a => a.RiskScore).Select(a => new[]
                    {
                        Code(a.ComputerName), Code(a.Location), Code(a.Name), Code(a.Command), Code(a.ImagePath ?? a.Path), Hash(a.Sha256),
                        E(ReportMarkup.Time(a.LastWriteTime)), Sev(a.Severity), Num(a.RiskScore), Reasons(a),
                    }));
                Sub("USB shortcut traps", "usb-traps");
                Table("usb-traps-table", new[] { "Computer", "Drive", "Shortcut", "Shortcut command line", "Hidden folder", "Payload", "Payload SHA-256", "Severity", "Score" },
                    _traps.OrderByDescending(t => t.RiskScore).Select(t => new[]
                    {
                        Code(t.ComputerName), Code(t.DriveRoot), Code(t.ShortcutPath), Code(ShortcutCommandLine(t)), Code(t.HiddenFolderPath),
                        Code(t.PayloadPath), Hash(t.PayloadSha256 ?? t.Sha256), Sev(t.Severity), Num(t.RiskScore),
                    }));
                Close();
            }

            private static string ShortcutCommandLine(UsbLnkTrap t)
            {
                string target = t.TargetPath ?? string.Empty;
                if (target.IndexOf(' ') >= 0)
                {
                    target = "\"" + target + "\"";
                }

                return string.IsNullOrEmpty(t.Arguments) ? target : target + " " + t.Arguments;
            }

            private void NetworkEvidence()
            {
                Open("network-evidence", "Network evidence");
                Sub("DNS proxy", "dns-proxy");
                Table("dns-proxy-table", new[] { "Address", "Clients", "Outside clients", "Names", "Queries", "Flux names", "Sample flux names", "Relay", "Severity", "Score", "First seen", "Last seen" },
                    _proxies.OrderByDescending(p => p.RiskScore).ThenByDescending(p => p.QueryCount).Select(p => new[]
                    {
                        Code(p.Address), Num(p.ClientCount), Num(p.OutsideClientCount), Num(p.DomainCount), Num(p.QueryCount), Num(p.FluxDomainCount),
                        Code(string.Join(", ", p.SampleFluxDomains.Take(5))), E(p.IsRelay ? "yes" : p.IsKnownResolver ? "known resolver" : "no"),
                        Sev(p.Severity), Num(p.RiskScore), E(ReportMarkup.Time(p.FirstSeen)), E(ReportMarkup.Time(p.LastSeen)),
                    }));

                Sub("Flux names by queries", "flux-names");
                var ranked = RankedDomains();
                int rank = 0;
                Table("flux-names-table", new[] { "#", "Name", "Queries", "Flux score", "Double flux", "Addresses", "Score", "First seen", "Last seen" },
                    ranked.Select(d => new[]
                    {
                        Num(++rank), Code(d.Domain), Num(d.QueryCount), E(ReportMarkup.Number(d.FluxScore, "0.00")),
                        d.IsDoubleFlux ? "<span class=\"mark\" title=\"double flux: the name servers flux too\">\u25CF double</span>" : string.Empty,
                        Num(d.AddressCount), Num(d.RiskScore), E(ReportMarkup.Time(d.FirstSeen)), E(ReportMarkup.Time(d.LastSeen)),
                    }));

                Sub("Relays per protocol", "relays");
                _sb.Append("<p class=\"counts\"><strong>").Append(ReportMarkup.Number(MailServerCount())).Append("</strong> mail servers and <strong>")
                   .Append(ReportMarkup.Number(FtpServerCount())).Append("</strong> FTP servers were reached through the relay.</p>\n");
                Table("relays-table", new[] { "Relay", "Protocol", "Sessions", "Bots", "Servers", "Accounts", "Accepted logins", "URLs in mail", "First", "Last" },
                    _sessions.GroupBy(s => (s.Relay, s.Protocol)).OrderBy(g => g.Key.Relay, StringComparer.Ordinal).ThenByDescending(g => g.Count()).Select(g => new[]
                    {
                        Code(g.Key.Relay), E(g.Key.Protocol), Num(g.Count()), Num(g.Select(s => s.Client).Distinct().Count()), Num(g.Select(s => s.Server + ":" + s.ServerPort.ToString(CultureInfo.InvariantCulture)).Distinct().Count()),
                        Num(g.Where(s => !string.IsNullOrEmpty(s.Account)).Select(s => s.Account).Distinct().Count()), Num(g.Count(s => s.Accepted == true)),
                        Num(g.SelectMany(s => s.Urls).Distinct().Count()), E(ReportMarkup.Time(g.Min(s => s.Start))), E(ReportMarkup.Time(g.Max(s => s.End))),
                    }));
                foreach (var protocol in new[] { "Smtp", "Ftp" })
                {
                    var servers = _sessions.Where(s => Eq(s.Protocol, protocol)).GroupBy(s => (s.Server, s.ServerPort)).ToList();
                    if (servers.Count == 0)
                    {
                        continue;
                    }

                    string name = protocol == "Smtp" ? "Mail servers" : "FTP servers";
                    Sub(name + " reached", protocol == "Smtp" ? "mail-servers" : "ftp-servers");
                    Table(protocol == "Smtp" ? "mail-servers-table" : "ftp-servers-table", new[] { "Server", "Name", "Sessions", "Bots", "Accounts", "Accepted logins" },
                        servers.OrderByDescending(g => g.Count()).ThenBy(g => g.Key.Server, StringComparer.Ordinal).Select(g => new[]
                        {
                            Code(g.Key.Server + ":" + g.Key.ServerPort.ToString(CultureInfo.InvariantCulture)), Code(g.Select(s => s.ServerName).FirstOrDefault(n => !string.IsNullOrEmpty(n))),
                            Num(g.Count()), Num(g.Select(s => s.Client).Distinct().Count()), Num(g.Where(s => !string.IsNullOrEmpty(s.Account)).Select(s => s.Account).Distinct().Count()),
                            Num(g.Count(s => s.Accepted == true)),
                        }));
                }

                Sub("Carved downloads", "downloads");
                Table("downloads-table", new[] { "Time", "Client", "Relay", "Server", "URL", "File", "Size", "SHA-256", "MD5", "Reputation" },
                    _downloads.OrderBy(d => d.Time).Select(d => new[]
                    {
                        E(ReportMarkup.Time(d.Time)), Code(d.Client), Code(d.Relay), Code(d.Server + ":" + d.ServerPort.ToString(CultureInfo.InvariantCulture)), Code(d.Url), Code(d.FileName),
                        Num(d.Size), Hash(d.Sha256), Hash(d.Md5), ReputationCell(ReputationOf(d.Sha256)),
                    }));
                Close();
            }

            private void Correlations()
            {
                Open("correlations", "Correlations");
                _sb.Append("<p>Indicators seen in more than one piece of evidence (a hash on a disk and in a capture, a name in DNS and in a shortcut), strongest first.</p>\n");
                Table("correlations-table", new[] { "Indicator", "Type", "Evidence", "Computers", "Names", "Reputation", "Severity", "Score", "First seen", "Last seen" },
                    (_incident.Correlations ?? Array.Empty<FluxCorrelation>()).OrderByDescending(c => c.RiskScore).Select(c => new[]
                    {
                        c.IndicatorType is IndicatorType.Sha256 or IndicatorType.Md5 ? Hash(c.Indicator) : Code(c.Indicator), E(c.IndicatorType.ToString()),
                        E(string.Join(", ", c.EvidenceKinds)) + " <span class=\"dim\">(" + Plural(c.Evidence.Length, "item") + ")</span>",
                        Code(string.Join(", ", c.ComputerNames)), Code(string.Join(", ", c.Names.Take(8))), ReputationCell(c.Reputation),
                        Sev(c.Severity), Num(c.RiskScore), E(ReportMarkup.Time(c.FirstSeen)), E(ReportMarkup.Time(c.LastSeen)),
                    }));
                Close();
            }

            private void Timeline()
            {
                Open("timeline", "Timeline");
                var events = (_incident.Timeline ?? Array.Empty<FluxTimelineEvent>()).OrderBy(e => e.Time).ToList();
                Table("timeline-table", new[] { "Time (UTC)", "Computer", "Kind", "Event", "Where", "Severity" },
                    events.Select(e => new[]
                    {
                        E(ReportMarkup.Time(e.Time)), Code(e.ComputerName), E(e.Kind), E(e.Event), Code(e.Location), Sev(e.Severity),
                    }));
                Close();
            }

            private void Indicators()
            {
                Open("indicators", "Indicators");
                _sb.Append("<p>What to block and share. <code>Export-FluxIndicator</code> writes them as STIX 2.1, Zeek intel, CSV, a DNS RPZ zone or plain lists.</p>\n");
                var rows = new List<string[]>();
                foreach (var f in MalwareFiles())
                {
                    string names = string.Join(", ", f.Names.Take(6));
                    rows.Add(new[] { E("SHA-256"), Hash(f.Sha256), Code(names), ReputationCell(f.Reputation) });
                    if (!string.IsNullOrEmpty(f.Md5))
                    {
                        rows.Add(new[] { E("MD5"), Hash(f.Md5), Code(names), string.Empty });
                    }
                }

                foreach (var d in RankedDomains())
                {
                    rows.Add(new[] { E("Domain"), Code(d.Domain), E($"flux score {ReportMarkup.Number(d.FluxScore, "0.00")}, {Plural(d.QueryCount, "query", "queries")}{(d.IsDoubleFlux ? ", double flux" : string.Empty)}"), string.Empty });
                }

                foreach (var h in MalwareHosts())
                {
                    rows.Add(new[] { E("Address"), Code(h), E("malware host (executables fetched through the relay)"), string.Empty });
                }

                foreach (var url in _sessions.SelectMany(s => s.Urls).Distinct(StringComparer.Ordinal).OrderBy(u => u, StringComparer.Ordinal))
                {
                    rows.Add(new[] { E("URL"), Code(url), E("carried in relayed mail"), string.Empty });
                }

                Table("indicators-table", new[] { "Type", "Value", "Context", "Reputation" }, rows);
                Close();
            }

            private void Recommendations()
            {
                Open("recommendations", "Recommendations");
                int n = 0;
                _sb.Append("<ol class=\"recommendations\">\n");

                var accounts = Accounts();
                if (accounts.Count > 0)
                {
                    n++;
                    _sb.Append("<li id=\"rec-accounts\"><strong>Reset the passwords of ").Append(Plural(accounts.Count, "exposed account"))
                       .Append(".</strong> They crossed the wire in clear through the relay; tell the admins of the mail and FTP servers below (accepted logins first). ")
                       .Append("The list for them: <code>$incident | Export-FluxIndicator -Format Accounts -Path accounts.csv</code>.\n");
                    Table("accounts-table", new[] { "Account", "Protocol", "Server", "Accepted", "Logins", "First seen" },
                        accounts.OrderByDescending(a => a.Accepted == true).ThenBy(a => a.Server, StringComparer.Ordinal).ThenBy(a => a.Account, StringComparer.Ordinal).Select(a => new[]
                        {
                            Code(a.Account), E(a.Protocol), Code(a.Server + ":" + a.ServerPort.ToString(CultureInfo.InvariantCulture)),
                            E(a.Accepted == true ? "yes" : a.Accepted == false ? "no" : "unknown"), Num(a.Sessions), E(ReportMarkup.Time(a.FirstSeen)),
                        }));
                    _sb.Append("</li>\n");
                }

                var cleanups = HostCleanups();
                if (cleanups.Count > 0)
                {
                    n++;
                    _sb.Append("<li id=\"rec-hosts\"><strong>Clean ").Append(Plural(cleanups.Select(c => c.Computer).Distinct(StringComparer.OrdinalIgnoreCase).Count(), "computer"))
                       .Append(".</strong> Each command finds the same evidence again on the computer and removes it (quarantined, reversible with <code>Restore-FluxQuarantine</code>); run it with <code>-WhatIf</code> first.\n<ul class=\"commands\">\n");
                    foreach (var c in cleanups)
                    {
                        _sb.Append("<li>").Append(E(c.Why)).Append("<pre class=\"command\"><code>").Append(E(c.Command)).Append("</code></pre></li>\n");
                    }

                    _sb.Append("</ul></li>\n");
                }

                var relays = Relays();
                if (relays.Count > 0)
                {
                    n++;
                    var did = new List<string>();
                    if (_proxies.Any(p => p.IsRelay || relays.Contains(p.Address, StringComparer.OrdinalIgnoreCase)))
                    {
                        did.Add("answered DNS for the bots");
                    }

                    foreach (var protocol in _sessions.Select(x => x.Protocol).Distinct(StringComparer.OrdinalIgnoreCase).OrderBy(x => x, StringComparer.Ordinal))
                    {
                        did.Add("relayed " + protocol.ToUpperInvariant());
                    }

                    if (_downloads.Any(d => !string.IsNullOrEmpty(d.Relay)))
                    {
                        did.Add("passed executables to the bots");
                    }

                    _sb.Append("<li id=\"rec-relay\"><strong>Take the relay").Append(relays.Count == 1 ? " " : "s ").Append(E(Shorten(relays)))
                       .Append(" off the network until cleaned.</strong> ")
                       .Append(did.Count == 0 ? string.Empty : E((relays.Count == 1 ? "It " : "They ") + string.Join(", ", did) + "; "))
                       .Append("block outbound SMTP (25) and FTP (21) from ").Append(relays.Count == 1 ? "it" : "them").Append(" at the border.</li>\n");
                }

                if (RankedDomains().Count > 0)
                {
                    n++;
                    _sb.Append("<li id=\"rec-dns\"><strong>Stop resolving the ").Append(Plural(RankedDomains().Count, "flux name"))
                       .Append(" on the campus resolvers.</strong> <code>$incident | Export-FluxIndicator -Format Rpz -Path flux.rpz</code> writes a response policy zone for BIND.</li>\n");
                }

                if (MalwareHosts().Count > 0 || MalwareFiles().Count > 0)
                {
                    n++;
                    _sb.Append("<li id=\"rec-block\"><strong>Block the ").Append(Plural(MalwareHosts().Count, "malware host")).Append(" and the ")
                       .Append(Plural(MalwareFiles().Count, "malware hash", "malware hashes")).Append("</strong> at the firewall, proxy and anti-virus; share them with other CERTs as STIX: ")
                       .Append("<code>$incident | Export-FluxIndicator -Format Stix -Path iocs.stix.json</code>.</li>\n");
                }

                if (BotCount() > 0)
                {
                    n++;
                    _sb.Append("<li id=\"rec-bots\"><strong>Report the ").Append(Plural(BotCount(), "bot")).Append("</strong> (relay clients) to the abuse contacts of their networks; the hosts table lists them.</li>\n");
                }

                if (_traps.Length > 0 || cleanups.Count > 0)
                {
                    n++;
                    _sb.Append("<li id=\"rec-usb\"><strong>Check every USB stick</strong> used on these computers before it is plugged in elsewhere: <code>Find-UsbLnkTrap</code> on a clean machine lists the shortcut traps and <code>| Remove-FluxInfection</code> restores the hidden files.</li>\n");
                }

                _sb.Append("</ol>\n");
                if (n == 0)
                {
                    _sb.Append("<p class=\"empty\">Nothing to recommend: the findings show no exposed account, infected computer, relay or indicator.</p>\n");
                }

                Close();
            }

            private sealed class Cleanup
            {
                public Cleanup(string computer, string why, string command)
                {
                    Computer = computer;
                    Why = why;
                    Command = command;
                }

                public string Computer { get; }
                public string Why { get; }
                public string Command { get; }
            }

            /// <summary>
            /// One Remove-FluxInfection command per computer and kind of evidence. The threshold is the lowest score among
            /// that computer's findings of the kind, so the command finds again exactly what the report shows.
            /// </summary>
            private List<Cleanup> HostCleanups()
            {
                var list = new List<Cleanup>();
                foreach (var g in _listeners.GroupBy(l => l.ComputerName, StringComparer.OrdinalIgnoreCase).OrderBy(g => g.Key, StringComparer.OrdinalIgnoreCase))
                {
                    var act = g.Where(Actionable).ToList();
                    if (act.Count > 0)
                    {
                        list.Add(new Cleanup(g.Key, $"{g.Key}: {Plural(act.Count, "suspicious listener")} ({Names(act.Select(l => l.ProcessName ?? l.Path))}){Left(g.Count() - act.Count)}",
                            OnComputer(g.Key, $"Get-FluxListener -MinimumRiskScore {Threshold(act)} | Remove-FluxInfection")));
                    }
                }

                foreach (var g in _autoruns.GroupBy(a => (a.ComputerName, a.Root)).OrderBy(g => g.Key.ComputerName, StringComparer.OrdinalIgnoreCase))
                {
                    var act = g.Where(Actionable).ToList();
                    if (act.Count > 0)
                    {
                        string root = string.IsNullOrEmpty(g.Key.Root) ? string.Empty : " -Root " + Quote(g.Key.Root!);
                        list.Add(new Cleanup(g.Key.ComputerName, $"{g.Key.ComputerName}: {Plural(act.Count, "autorun")} ({Names(act.Select(a => a.Name))}){Left(g.Count() - act.Count)}",
                            OnComputer(g.Key.ComputerName, $"Get-SuspiciousAutorun{root} -MinimumRiskScore {Threshold(act)} | Remove-FluxInfection")));
                    }
                }

                foreach (var g in _traps.GroupBy(t => (t.ComputerName, t.DriveRoot)).OrderBy(g => g.Key.ComputerName, StringComparer.OrdinalIgnoreCase).ThenBy(g => g.Key.DriveRoot, StringComparer.OrdinalIgnoreCase))
                {
                    string drive = string.IsNullOrEmpty(g.Key.DriveRoot) ? "E:\\" : g.Key.DriveRoot;
                    list.Add(new Cleanup(g.Key.ComputerName, $"{g.Key.ComputerName}: USB stick {drive} with {Plural(g.Count(), "shortcut trap")}",
                        OnComputer(g.Key.ComputerName, $"Find-UsbLnkTrap -Path {Quote(drive)} | Remove-FluxInfection")));
                }

                return list;
            }
        }
    }
}
