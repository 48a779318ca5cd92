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
    /// <summary>
    /// Writes a <see cref="FluxIncident"/> as one self-contained HTML file: inline CSS and an inline SVG picture, no
    /// script, no font or image from the network, and a Content-Security-Policy that forbids any load, so opening the
    /// report (or mailing it to another CERT) never calls anyone. Every value is HTML-escaped; secrets never appear,
    /// even when the findings were made with -IncludeSecret (see <see cref="SecretFilter"/>). Long tables show their
    /// first rows and keep the rest in a closed details element; tables are capped so a huge incident stays a small file.
    /// </summary>
    public static partial class ReportWriter
    {
        /// <summary>The policy of the report: nothing but its own inline style and data: images.</summary>
        public const string ContentSecurityPolicy = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'";

        public static void Write(string path, FluxIncident incident, ReportOptions options)
        {
            string html = Render(incident, options);
            File.WriteAllText(path, html, new UTF8Encoding(false));
        }

        public static string Render(FluxIncident incident, ReportOptions options)
        {
            if (incident is null)
            {
                throw new ArgumentNullException(nameof(incident));
            }

            return new Builder(incident, options ?? new ReportOptions()).Build();
        }

        /// <summary>
        /// The passwords carried by the findings (only when -IncludeSecret was used upstream; otherwise they are the
        /// mask). Any value about to be written that contains one has it replaced by the mask: a password pasted into a
        /// URL, an account equal to its password (infected:infected) or a command line never leaks into the report.
        /// </summary>
        internal sealed class SecretFilter
        {
            private readonly string[] _secrets;

            public SecretFilter(IEnumerable<string?> secrets)
            {
                _secrets = secrets
                    .Where(s => !string.IsNullOrEmpty(s) && s != Redaction.Mask && s!.Trim().Length > 0)
                    .Select(s => s!)
                    .Distinct(StringComparer.Ordinal)
                    .OrderByDescending(s => s.Length)
                    .ToArray();
            }

            internal const int MinimumSubstringSecret = 4;

            public int Count => _secrets.Length;

            public string Apply(string text)
            {
                if (_secrets.Length == 0 || text.Length == 0)
                {
                    return text;
                }

                foreach (var secret in _secrets)
                {
                    // A very short password (a digit, "ab") inside other text would mask half the report; it is
                    // masked where it is the whole value.
                    if (secret.Length < MinimumSubstringSecret)
                    {
                        if (string.Equals(text, secret, StringComparison.Ordinal))
                        {
                            return Redaction.Mask;
                        }
                    }
                    else if (text.IndexOf(secret, StringComparison.Ordinal) >= 0)
                    {
                        text = text.Replace(secret, Redaction.Mask);
                    }
                }

                return text;
            }
        }

        private sealed partial class Builder
        {
            private readonly FluxIncident _incident;
            private readonly ReportOptions _options;
            private readonly StringBuilder _sb = new StringBuilder(64 * 1024);
            private readonly SecretFilter _secrets;
            private readonly FluxFinding[] _findings;
            private readonly FluxListener[] _listeners;
            private readonly SuspiciousAutorun[] _autoruns;
            private readonly UsbLnkTrap[] _traps;
            private readonly DnsProxy[] _proxies;
            private readonly FluxDomain[] _domains;
            private readonly RelaySession[] _sessions;
            private readonly FluxDownload[] _downloads;
            private readonly ExposedCredential[] _credentials;
            private int _tableCount;

            public Builder(FluxIncident incident, ReportOptions options)
            {
                _incident = incident;
                _options = options;
                _findings = incident.Findings ?? Array.Empty<FluxFinding>();
                _listeners = _findings.OfType<FluxListener>().ToArray();
                _autoruns = _findings.OfType<SuspiciousAutorun>().ToArray();
                _traps = _findings.OfType<UsbLnkTrap>().ToArray();
                _proxies = _findings.OfType<DnsProxy>().ToArray();
                _domains = _findings.OfType<FluxDomain>().ToArray();
                _sessions = _findings.OfType<RelaySession>().ToArray();
                _downloads = _findings.OfType<FluxDownload>().ToArray();
                _credentials = _findings.OfType<ExposedCredential>().ToArray();
                _secrets = new SecretFilter(
                    _sessions.Select(s => s.Secret)
                        .Concat(_credentials.Select(c => c.Secret))
                        .Concat((incident.ExposedAccounts ?? Array.Empty<FluxExposedAccount>()).Select(a => a.Secret)));
            }

            private string Title => !string.IsNullOrEmpty(_options.Title) ? _options.Title!
                : !string.IsNullOrEmpty(_incident.Title) ? _incident.Title
                : "FluxForensics incident report";

            public string Build()
            {
                _sb.Append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\" />\n");
                _sb.Append("<meta http-equiv=\"Content-Security-Policy\" content=\"").Append(ContentSecurityPolicy).Append("\" />\n");
                _sb.Append("<meta name=\"referrer\" content=\"no-referrer\" />\n");
                _sb.Append("<meta http-equiv=\"x-dns-prefetch-control\" content=\"off\" />\n");
                _sb.Append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\" />\n");
                _sb.Append("<meta name=\"generator\" content=\"FluxForensics Export-FluxReport\" />\n");
                _sb.Append("<title>").Append(E(Title)).Append("</title>\n<style>\n").Append(Css).Append("</style>\n</head>\n<body>\n");
                _sb.Append("<header>\n<h1>").Append(E(Title)).Append("</h1>\n<p class=\"meta\">Generated ")
                   .Append(E(ReportMarkup.Time(_options.GeneratedAt ?? DateTime.UtcNow))).Append(" by FluxForensics from ")
                   .Append(ReportMarkup.Number(_findings.Length)).Append(" finding").Append(_findings.Length == 1 ? string.Empty : "s").Append(".</p>\n");
                _sb.Append("<nav class=\"toc\"><a href=\"#summary\">Summary</a> <a href=\"#network-picture\">Network picture</a> <a href=\"#hosts\">Hosts</a> ")
                   .Append("<a href=\"#host-evidence\">Host evidence</a> <a href=\"#network-evidence\">Network evidence</a> <a href=\"#correlations\">Correlations</a> ")
                   .Append("<a href=\"#timeline\">Timeline</a> <a href=\"#indicators\">Indicators</a> <a href=\"#recommendations\">Recommendations</a></nav>\n</header>\n<main>\n");
                Summary();
                NetworkPicture();
                Hosts();
                HostEvidence();
                NetworkEvidence();
                Correlations();
                Timeline();
                Indicators();
                Recommendations();
                _sb.Append("</main>\n<footer><p>Written by FluxForensics Export-FluxReport. Times are UTC (ISO 8601). Passwords are never written to this report. ")
                   .Append("Closed sections (\u25B8) hold the rest of long tables: open them before printing to include every row.</p></footer>\n</body>\n</html>\n");
                return _sb.ToString();
            }

            // ---------------------------------------------------------------- sections

            /// <summary>Only findings scored Medium or above are removed by a recommended command; the rest are for review.</summary>
            private static bool Actionable(FluxFinding f) => f.RiskScore >= Scoring.MinimumScoreOf(Severity.Medium);

            /// <summary>The lowest score among the findings to remove, so the command finds again exactly those.</summary>
            private static string Threshold(IEnumerable<FluxFinding> findings) => findings.Min(f => f.RiskScore).ToString(CultureInfo.InvariantCulture);

            private static string Names(IEnumerable<string?> names) => string.Join(", ", names.Where(x => !string.IsNullOrEmpty(x)).Distinct().Take(4));

            private static string Left(int lower) => lower <= 0 ? string.Empty : $"; {Plural(lower, "lower-scored entry", "lower-scored entries")} left for review";

            private static string OnComputer(string computer, string command) =>
                LocalComputer.IsThis(computer) ? command : $"Invoke-Command -ComputerName {Quote(computer)} {{ {command} }}";

            /// <summary>A PowerShell argument: bare when it is plainly safe, otherwise single-quoted with quotes doubled.</summary>
            internal static string Quote(string value)
            {
                bool bare = value.Length > 0;
                foreach (char c in value)
                {
                    if (!(char.IsLetterOrDigit(c) && c < 128) && c != '.' && c != '-' && c != '_' && c != ':' && c != '\\' && c != '/')
                    {
                        bare = false;
                        break;
                    }
                }

                return bare ? value : "'" + value.Replace("'", "''").Replace("\u2018", "\u2018\u2018").Replace("\u2019", "\u2019\u2019") + "'";
            }

            // ---------------------------------------------------------------- facts derived from the incident or the findings

            private List<string>? _computers;

            private List<string> Computers() => _computers ??= (_incident.ComputerNames is { Length: > 0 } names ? names :
                _listeners.Select(l => l.ComputerName).Concat(_autoruns.Select(a => a.ComputerName)).Concat(_traps.Select(t => t.ComputerName)))
                .Where(n => !string.IsNullOrEmpty(n)).Distinct(StringComparer.OrdinalIgnoreCase).OrderBy(n => n, StringComparer.OrdinalIgnoreCase).ToList();

            private List<string>? _relays;

            private List<string> Relays() => _relays ??= (_incident.Relays is { Length: > 0 } relays ? relays :
                _sessions.Select(s => s.Relay).Concat(_proxies.Where(p => p.IsRelay).Select(p => p.Address)))
                .Where(n => !string.IsNullOrEmpty(n)).Distinct(StringComparer.OrdinalIgnoreCase).ToList();

            private int BotCount() => _incident.BotCount > 0 ? _incident.BotCount : _sessions.Select(s => s.Client).Distinct(StringComparer.OrdinalIgnoreCase).Count();

            private int MailServerCount() => _incident.MailServerCount > 0 ? _incident.MailServerCount
                : _sessions.Where(s => Eq(s.Protocol, "Smtp")).Select(s => s.Server).Distinct(StringComparer.OrdinalIgnoreCase).Count();

            private int FtpServerCount() => _incident.FtpServerCount > 0 ? _incident.FtpServerCount
                : _sessions.Where(s => Eq(s.Protocol, "Ftp")).Select(s => s.Server).Distinct(StringComparer.OrdinalIgnoreCase).Count();

            private List<string>? _malwareHosts;

            private List<string> MalwareHosts() => _malwareHosts ??= (_incident.MalwareHosts is { Length: > 0 } hosts ? hosts :
                _downloads.Where(d => !string.IsNullOrEmpty(d.Relay)).Select(d => d.Server))
                .Where(n => !string.IsNullOrEmpty(n)).Distinct(StringComparer.OrdinalIgnoreCase).OrderBy(n => n, StringComparer.Ordinal).ToList();

            private List<FluxRankedDomain>? _ranked;

            private List<FluxRankedDomain> RankedDomains()
            {
                if (_ranked is not null)
                {
                    return _ranked;
                }

                if (_incident.FluxDomains is { Length: > 0 } ranked)
                {
                    return _ranked = ranked.ToList();
                }

                // No joined ranking: rank the fast-flux findings by the answers seen for them.
                return _ranked = _domains.Where(d => d.IsFastFlux).GroupBy(d => d.Domain, StringComparer.OrdinalIgnoreCase)
                    .Select(g => g.OrderByDescending(d => d.RiskScore).First())
                    .Select(d => new FluxRankedDomain
                    {
                        Domain = d.Domain, QueryCount = d.ResponseCount, FluxScore = d.FluxScore, IsDoubleFlux = d.IsDoubleFlux,
                        AddressCount = d.AddressCount, RiskScore = d.RiskScore, FirstSeen = d.FirstSeen, LastSeen = d.LastSeen,
                    })
                    .OrderByDescending(d => d.QueryCount).ThenByDescending(d => d.FluxScore).ThenBy(d => d.Domain, StringComparer.Ordinal).ToList();
            }

            private List<FluxMalwareFile>? _files;

            private List<FluxMalwareFile> MalwareFiles()
            {
                if (_files is not null)
                {
                    return _files;
                }

                if (_incident.MalwareFiles is { Length: > 0 } files)
                {
                    return _files = files.ToList();
                }

                return _files = _downloads.Where(d => !string.IsNullOrEmpty(d.Sha256) && !string.IsNullOrEmpty(d.Relay)).GroupBy(d => d.Sha256!, StringComparer.OrdinalIgnoreCase)
                    .Select(g => new FluxMalwareFile
                    {
                        Sha256 = g.Key, Md5 = g.Select(d => d.Md5).FirstOrDefault(m => !string.IsNullOrEmpty(m)),
                        Names = g.Select(d => d.FileName).Where(x => !string.IsNullOrEmpty(x)).Distinct().Select(x => x!).ToArray(),
                        Size = g.First().Size, FirstSeen = g.Min(d => d.Time), Reputation = ReputationOf(g.Key),
                    })
                    .OrderBy(f => f.FirstSeen).ToList();
            }

            private List<FluxExposedAccount>? _accounts;

            private List<FluxExposedAccount> Accounts()
            {
                if (_accounts is not null)
                {
                    return _accounts;
                }

                if (_incident.ExposedAccounts is { Length: > 0 } accounts)
                {
                    return _accounts = accounts.ToList();
                }

                return _accounts = _credentials.Where(c => !string.IsNullOrEmpty(c.Account))
                    .GroupBy(c => (c.Account, c.Protocol, c.Server, c.ServerPort))
                    .Select(g => new FluxExposedAccount
                    {
                        Account = g.Key.Account!, Protocol = g.Key.Protocol, Server = g.Key.Server, ServerPort = g.Key.ServerPort,
                        Accepted = g.Any(c => c.Accepted == true) ? true : g.Any(c => c.Accepted == false) ? false : null,
                        FirstSeen = g.Min(c => c.Time), Sessions = g.Count(),
                    }).ToList();
            }

            private FluxReputation? ReputationOf(string? sha256)
            {
                if (string.IsNullOrEmpty(sha256))
                {
                    return null;
                }

                return (_incident.MalwareFiles ?? Array.Empty<FluxMalwareFile>()).FirstOrDefault(f => Eq(f.Sha256, sha256!))?.Reputation
                    ?? (_incident.Reputations ?? Array.Empty<FluxReputation>()).Concat(_findings.OfType<FluxReputation>()).FirstOrDefault(r => r.Sha256 is not null && Eq(r.Sha256, sha256!));
            }

            // ---------------------------------------------------------------- HTML pieces

            private void Open(string id, string title)
            {
                _sb.Append("<section id=\"").Append(id).Append("\">\n<h2>").Append(E(title)).Append("</h2>\n");
            }

            private void Close() => _sb.Append("</section>\n");

            private void Sub(string title, string id) => _sb.Append("<h3 id=\"").Append(id).Append("\">").Append(E(title)).Append("</h3>\n");

            private void Fact(string name, string value) => _sb.Append("<dt>").Append(E(name)).Append("</dt><dd>").Append(E(value.Length == 0 ? "none" : value)).Append("</dd>\n");

            /// <summary>
            /// A table: the first <see cref="ReportOptions.VisibleRows"/> rows open, the rest in a closed details element
            /// (the browser lays it out only when opened), at most <see cref="ReportOptions.MaxRows"/> rows in all.
            /// </summary>
            private void Table(string id, string[] headers, IEnumerable<string[]> rows)
            {
                _tableCount++;
                int visible = Math.Max(1, _options.VisibleRows);
                int max = Math.Max(visible, _options.MaxRows);
                var head = new StringBuilder("<thead><tr>");
                foreach (var h in headers)
                {
                    head.Append("<th scope=\"col\">").Append(E(h)).Append("</th>");
                }

                head.Append("</tr></thead>\n");
                int count = 0, total = 0;
                bool inDetails = false;
                foreach (var row in rows)
                {
                    total++;
                    if (count >= max)
                    {
                        continue;
                    }

                    if (count == 0)
                    {
                        _sb.Append("<div class=\"table-wrap\"><table id=\"").Append(id).Append("\">\n").Append(head).Append("<tbody>\n");
                    }
                    else if (count == visible)
                    {
                        _sb.Append("</tbody></table></div>\n<details class=\"more\" id=\"").Append(id).Append("-more\"><summary>@@MORE@@</summary>\n<div class=\"table-wrap\"><table>\n").Append(head).Append("<tbody>\n");
                        inDetails = true;
                    }

                    _sb.Append("<tr>");
                    foreach (var cell in row)
                    {
                        _sb.Append("<td>").Append(cell).Append("</td>");
                    }

                    _sb.Append("</tr>\n");
                    count++;
                }

                if (total == 0)
                {
                    _sb.Append("<p class=\"empty\" id=\"").Append(id).Append("\">None in the findings given.</p>\n");
                    return;
                }

                _sb.Append("</tbody></table></div>\n");
                if (inDetails)
                {
                    _sb.Append("</details>\n");
                    string summary = $"{ReportMarkup.Number(count - visible)} more rows ({ReportMarkup.Number(total)} in all)";
                    int at = LastIndexOf(_sb, "@@MORE@@");
                    _sb.Remove(at, "@@MORE@@".Length).Insert(at, E(summary));
                }

                if (total > count)
                {
                    _sb.Append("<p class=\"truncated\">").Append(ReportMarkup.Number(total - count)).Append(" more rows are not written here, to keep the report small; the incident object has them all.</p>\n");
                }
            }

            private static int LastIndexOf(StringBuilder sb, string marker)
            {
                for (int i = sb.Length - marker.Length; i >= 0; i--)
                {
                    int j = 0;
                    while (j < marker.Length && sb[i + j] == marker[j])
                    {
                        j++;
                    }

                    if (j == marker.Length)
                    {
                        return i;
                    }
                }

                throw new InvalidOperationException("marker not found");
            }

            /// <summary>Escaped text with secrets masked: the one way evidence reaches the page.</summary>
            private string E(string? text) => string.IsNullOrEmpty(text) ? string.Empty : ReportMarkup.Escape(_secrets.Apply(text!));

            private string Code(string? text) => string.IsNullOrEmpty(text) ? string.Empty : "<code>" + E(text) + "</code>";

            private string Hash(string? text) => string.IsNullOrEmpty(text) ? string.Empty : "<code class=\"hash\">" + E(text!.ToLowerInvariant()) + "</code>";

            private static string Num(long value) => "<span class=\"num\">" + ReportMarkup.Number(value) + "</span>";

            private static string Sev(Severity severity) => "<span class=\"badge sev-" + severity + "\">" + severity + "</span>";

            private string Reasons(FluxFinding f) =>
                f.Reasons.Length == 0 ? string.Empty : "<span class=\"reasons\">" + string.Join("; ", f.Reasons.Take(6).Select(r => E(r.ToString()))) + "</span>";

            private string ReputationCell(FluxReputation? r)
            {
                if (r is null)
                {
                    return string.Empty;
                }

                string what = r.Ratio ?? r.Verdict.ToString();
                return "<span class=\"rep rep-" + r.Verdict + "\">" + E(what) + "</span>" + (string.IsNullOrEmpty(r.Label) ? string.Empty : " " + E(r.Label)) +
                       " <span class=\"dim\">(" + E(r.Source) + ")</span>";
            }

            private static string Join(List<string> values) => values.Count == 0 ? string.Empty : Shorten(values);

            private static string Shorten(List<string> values) =>
                values.Count <= 6 ? string.Join(", ", values) : string.Join(", ", values.Take(5)) + $" and {values.Count - 5} more";

            private static string Plural(long n, string one, string? many = null) =>
                ReportMarkup.Number(n) + " " + (n == 1 ? one : many ?? one + "s");

            private static bool Eq(string? a, string b) => string.Equals(a, b, StringComparison.OrdinalIgnoreCase);
        }

        /// <summary>
        /// Screen and print styles. No fixed heights anywhere, so nothing is clipped when printed; sections start on
        /// a new page, rows do not split, table headers repeat on each page.
        /// </summary>
        private const string Css = @"
:root { --fg: #1b1b1b; --dim: #666; --line: #d0d0d0; --head: #f0f2f5; }
* { box-sizing: border-box; }
body { font-family: system-ui, -apple-system, ""Segoe UI"", Roboto, ""DejaVu Sans"", Arial, sans-serif; color: var(--fg); margin: 0 auto; max-width: 1400px; padding: 1rem 1.5rem 2rem; font-size: 14px; line-height: 1.4; background: #fff; }
header h1 { margin: 0 0 .2rem; font-size: 1.7rem; }
.meta, .dim { color: var(--dim); }
nav.toc a { margin-right: .8rem; color: #1f4fa0; text-decoration: none; }
h2 { border-bottom: 2px solid #333; padding-bottom: .2rem; margin-top: 2rem; }
h3 { margin: 1.2rem 0 .4rem; }
section { margin-bottom: 1.5rem; }
.verdict { font-size: 1.15rem; margin: .5rem 0; }
p.what { font-size: 1.05rem; max-width: 70em; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: .2rem 1rem; margin: .8rem 0; }
dl.facts dt { font-weight: 600; }
dl.facts dd { margin: 0; }
.table-wrap { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; margin: .3rem 0 .6rem; font-size: 12.5px; }
th, td { border: 1px solid var(--line); padding: .25rem .4rem; text-align: left; vertical-align: top; }
th { background: var(--head); }
tbody tr:nth-child(even) { background: #fafbfc; }
code { font-family: ""DejaVu Sans Mono"", Consolas, Menlo, monospace; font-size: 12px; overflow-wrap: anywhere; }
code.hash { word-break: break-all; }
.num { font-variant-numeric: tabular-nums; }
.badge { display: inline-block; padding: 0 .45em; border-radius: .6em; font-size: 11.5px; font-weight: 600; color: #fff; background: #888; }
.badge.sev-Critical { background: #8b0000; } .badge.sev-High { background: #d9480f; } .badge.sev-Medium { background: #e0a800; color: #222; }
.badge.sev-Low { background: #2f7d32; } .badge.sev-Info { background: #6c757d; }
.mark { color: #8b0000; font-weight: 600; }
.rep-Malicious { color: #8b0000; font-weight: 600; } .rep-Suspicious { color: #d9480f; } .rep-Harmless { color: #2f7d32; }
.reasons { color: #444; font-size: 11.5px; }
details.more > summary { cursor: pointer; color: #1f4fa0; margin: .2rem 0 .6rem; }
p.empty, p.truncated { color: var(--dim); font-style: italic; }
figure.graph { margin: .5rem 0; overflow-x: auto; border: 1px solid var(--line); }
figure.graph svg { display: block; max-width: 100%; height: auto; }
pre.command { background: #f4f4f4; border-left: 3px solid #1f4fa0; padding: .35rem .6rem; margin: .25rem 0 .6rem; white-space: pre-wrap; overflow-wrap: anywhere; }
ol.recommendations > li { margin-bottom: .8rem; }
footer { margin-top: 2rem; color: var(--dim); font-size: 12px; border-top: 1px solid var(--line); }
@page { size: A4 landscape; margin: 12mm; }
@media print {
  body { max-width: none; padding: 0; font-size: 11px; }
  nav.toc { display: none; }
  section { break-before: page; }
  section#summary, section#network-picture { break-before: auto; }
  h2, h3 { break-after: avoid; }
  tr, pre, li, figure { break-inside: avoid; }
  thead { display: table-header-group; }
  .table-wrap, figure.graph { overflow: visible; }
  tbody tr:nth-child(even) { background: none; }
  .badge { border: 1px solid #000; -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  figure.graph svg { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
}
";
    }
}
