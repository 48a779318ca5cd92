using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Net;
using System.Text.RegularExpressions;
using FluxForensics.Model;

namespace FluxForensics.Incident
{
    /// <summary>One indicator named by one finding: what it was there (its role) and where and when.</summary>
    internal readonly struct Sighting
    {
        public Sighting(IndicatorType type, string value, string role, string context, int findingIndex, string? location = null,
            DateTime? time = null, string? name = null, HostRole? hostRole = null)
        {
            Type = type;
            Value = value;
            Role = role;
            Context = context;
            FindingIndex = findingIndex;
            Location = location;
            Time = time;
            Name = name;
            HostRole = hostRole;
        }

        public IndicatorType Type { get; }

        /// <summary>Normalised: lowercase hashes, names and accounts; addresses in their canonical text.</summary>
        public string Value { get; }

        /// <summary>"listener image", "Run value target", "relay", "bot" …</summary>
        public string Role { get; }

        /// <summary>
        /// Two sightings in the same context are one piece of evidence for joining: a correlation needs two contexts.
        /// So a login reported as a relay session and as an exposed credential is one sighting of the account, and a
        /// flux agent named by many flux domains of one capture is not a correlation, while the same address as a
        /// relay in a capture and as the address of a computer is.
        /// </summary>
        public string Context { get; }
        public int FindingIndex { get; }
        public string? Location { get; }
        public DateTime? Time { get; }

        /// <summary>A file name a hash was seen under.</summary>
        public string? Name { get; }

        /// <summary>The role the address played, for the incident's host table.</summary>
        public HostRole? HostRole { get; }
    }

    /// <summary>
    /// Reads the indicators each kind of finding names: the SHA-256 (and MD5) of every file, domain names, addresses
    /// and accounts. A source step: it reports what the findings say and judges nothing.
    /// </summary>
    internal static class IndicatorSightings
    {
        private static readonly Regex UrlPattern = new Regex(@"\b(?:https?|ftp)://[^\s""'<>]+", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant | RegexOptions.Compiled);

        /// <summary>Last labels that are file extensions, not top-level domains a command line would name.</summary>
        private static readonly HashSet<string> NotTopLevel = new HashSet<string>(StringComparer.OrdinalIgnoreCase)
        {
            "exe", "dll", "sys", "bat", "cmd", "ps1", "psm1", "vbs", "vbe", "js", "jse", "wsf", "hta", "lnk", "scr", "cpl",
            "msi", "txt", "log", "ini", "dat", "tmp", "xml", "json", "conf", "cfg", "sh", "py", "pl", "so", "bin", "jar",
        };

        public static void Read(FluxFinding finding, int index, List<Sighting> into)
        {
            string where = finding.ComputerName;
            switch (finding)
            {
                case FluxListener l:
                    AddFile(into, l.Sha256, null, "listener image", $"listener {where} {l.Path}", index, l.Path, l.ProcessStartTime, l.Path);
                    if (Address(l.LocalAddress) is { } local && !IsUnspecified(local))
                    {
                        into.Add(new Sighting(IndicatorType.Address, local, $"address {where} listens on", $"computer {where}", index,
                            $"{local}:{l.LocalPort}", l.ProcessStartTime, hostRole: HostRole.InfectedHost));
                    }

                    AddNamesIn(into, l.CommandLine, "name in a command line", $"listener {where}", index, l.Path, l.ProcessStartTime);
                    break;
                case SuspiciousAutorun a:
                    string entry = a.EntryType.Length == 0 ? "autorun" : a.EntryType;
                    AddFile(into, a.Sha256, null, $"{Words(entry)} target", $"autorun {where} {a.Location}\\{a.Name}", index,
                        $"{a.Location}\\{a.Name}", a.LastWriteTime, a.ImagePath);
                    AddNamesIn(into, a.Command, "name in a command line", $"autorun {where} {a.Location}\\{a.Name}", index, a.Location, a.LastWriteTime);
                    break;
                case UsbLnkTrap u:
                    AddFile(into, u.PayloadSha256 ?? u.Sha256, null, "USB payload", $"usb {where} {u.PayloadPath}", index,
                        u.PayloadPath ?? u.Path, null, u.PayloadPath ?? u.Path);
                    AddNamesIn(into, u.Arguments, "name in a shortcut", $"usb {where} {u.ShortcutPath}", index, u.ShortcutPath, null);
                    break;
                case FluxDownload d:
                {
                    string source = d.Source;
                    string name = d.FileName ?? FileNameOfUrl(d.Url) ?? "download";
                    string? client = Address(d.Client);
                    AddFile(into, d.Sha256, d.Md5, d.Relay is null ? "carved download" : "relayed download",
                        $"download {source} {client}", index, d.Url ?? $"{d.Server}:{d.ServerPort}", d.Time, name);
                    if (Address(d.Server) is { } server)
                    {
                        into.Add(new Sighting(IndicatorType.Address, server, "malware host", WebContext(source, server, d.Url ?? d.FileName), index,
                            $"{server}:{d.ServerPort}", d.Time, name, HostRole.MalwareHost));
                    }

                    if (Address(d.Relay) is { } relay)
                    {
                        into.Add(new Sighting(IndicatorType.Address, relay, "relay", $"relay {source}", index, relay, d.Time, hostRole: HostRole.Relay));
                    }

                    if (client is not null)
                    {
                        // Only a relay's client is a bot; a host fetching an executable itself is just the downloader.
                        into.Add(d.Relay is null
                            ? new Sighting(IndicatorType.Address, client, "downloader", $"downloader {source}", index, client, d.Time)
                            : new Sighting(IndicatorType.Address, client, "bot", $"bot via {d.Relay} {source}", index, client, d.Time, hostRole: HostRole.Bot));
                    }

                    if (HostOf(d.Url) is { } host)
                    {
                        into.Add(new Sighting(IndicatorType.Domain, host, "download host", HostContext(source, host), index, d.Url, d.Time));
                    }

                    AddAccount(into, d.Account, d.Protocol, d.Server, source, index, d.Time);
                    break;
                }

                case RelaySession r:
                {
                    string source = r.Source;
                    var serverRole = RoleOfServer(r.Protocol);
                    string serverWords = serverRole is { } known ? Words(known.ToString()) : "relayed web server";
                    bool web = serverRole is null;
                    if (Address(r.Relay) is { } relay)
                    {
                        into.Add(new Sighting(IndicatorType.Address, relay, "relay", $"relay {source}", index, relay, r.Start, hostRole: HostRole.Relay));
                    }

                    if (Address(r.Client) is { } client)
                    {
                        into.Add(new Sighting(IndicatorType.Address, client, "bot", $"bot via {r.Relay} {source}", index, client, r.Start, hostRole: HostRole.Bot));
                    }

                    if (Address(r.Server) is { } server)
                    {
                        // A relayed web request and the download it carried are one piece of evidence of the server.
                        into.Add(new Sighting(IndicatorType.Address, server, serverWords, web ? WebContext(source, server, r.Urls.Length > 0 ? r.Urls[0] : null) : $"{serverWords} {source}", index,
                            $"{server}:{r.ServerPort}", r.Start, hostRole: serverRole));
                    }

                    if (Domain(r.ServerName) is { } serverName)
                    {
                        into.Add(new Sighting(IndicatorType.Domain, serverName, "relayed server name", HostContext(source, serverName), index, r.ServerName, r.Start));
                    }

                    foreach (string url in r.Urls)
                    {
                        into.Add(new Sighting(IndicatorType.Url, url, r.Protocol.Equals("Smtp", StringComparison.OrdinalIgnoreCase) ? "URL in relayed mail" : "relayed URL",
                            $"{r.Protocol} {source} {r.Server}", index, $"{r.Server}:{r.ServerPort}", r.Start));
                        if (HostOf(url) is { } host)
                        {
                            into.Add(new Sighting(IndicatorType.Domain, host, web ? "relayed server name" : "host of a URL in relayed mail",
                                web ? HostContext(source, host) : $"{r.Protocol} {source} {r.Server}", index, url, r.Start));
                        }
                    }

                    AddAccount(into, r.Account, r.Protocol, r.Server, source, index, r.Start);
                    break;
                }

                case ExposedCredential c:
                    AddAccount(into, c.Account, c.Protocol, c.Server, c.Source, index, c.Time);
                    break;
                case FluxDomain fd:
                    if (Domain(fd.Domain) is { } domain)
                    {
                        into.Add(new Sighting(IndicatorType.Domain, domain, fd.IsFastFlux ? "flux domain" : "answered name", $"dns {fd.Source}", index, fd.Domain, fd.FirstSeen));
                    }

                    if (fd.IsFastFlux)
                    {
                        foreach (string a in fd.Addresses)
                        {
                            if (Address(a) is { } agent)
                            {
                                into.Add(new Sighting(IndicatorType.Address, agent, "flux agent", $"flux agent {fd.Source}", index, fd.Domain, fd.FirstSeen, hostRole: HostRole.FluxAgent));
                            }
                        }
                    }

                    break;
                case DnsProxy p:
                    if (Address(p.Address) is { } proxy && p.RiskScore >= Scoring.MinimumScoreOf(Severity.Medium))
                    {
                        into.Add(new Sighting(IndicatorType.Address, proxy, "DNS proxy", $"relay {p.Source}", index, proxy, p.FirstSeen, hostRole: HostRole.Relay));
                    }

                    break;
            }
        }

        /// <summary>Sightings of a quarantined file (not a finding: its evidence has no finding index).</summary>
        public static void Read(FluxQuarantineItem item, int index, List<Sighting> into) =>
            AddFile(into, item.Sha256, null, "quarantined file", $"quarantine {item.ComputerName} {item.OriginalPath}", index,
                item.OriginalPath, item.QuarantinedAt, item.OriginalPath);

        /// <summary>A web server as one request saw it: the relay session and the download it carried share it.</summary>
        private static string WebContext(string source, string server, string? url) => $"web {source} {server} {url}";

        /// <summary>A host name as one capture's HTTP saw it (Host header, download URL).</summary>
        private static string HostContext(string source, string host) => $"http host {source} {host}";

        private static void AddFile(List<Sighting> into, string? sha256, string? md5, string role, string context, int index, string? location, DateTime? time, string? path)
        {
            string? name = PathText.Leaf(path);
            if (Hex.Normalize(sha256, 64) is { } sha)
            {
                into.Add(new Sighting(IndicatorType.Sha256, sha, role, context, index, location, time, name));
            }

            if (Hex.Normalize(md5, 32) is { } md)
            {
                into.Add(new Sighting(IndicatorType.Md5, md, role, context, index, location, time, name));
            }
        }

        private static void AddAccount(List<Sighting> into, string? account, string protocol, string server, string source, int index, DateTime time)
        {
            if (account is null || account.Trim().Length == 0)
            {
                return;
            }

            string key = account.Trim().ToLowerInvariant();
            into.Add(new Sighting(IndicatorType.Account, key, $"{protocol} login", $"{protocol} {Address(server) ?? server} {source}", index,
                $"{protocol} {server}", time, account.Trim()));
        }

        private static void AddNamesIn(List<Sighting> into, string? text, string role, string context, int index, string? location, DateTime? time)
        {
            if (string.IsNullOrEmpty(text))
            {
                return;
            }

            foreach (Match m in UrlPattern.Matches(text!))
            {
                into.Add(new Sighting(IndicatorType.Url, m.Value, role, context, index, location, time));
                if (HostOf(m.Value) is { } host)
                {
                    into.Add(new Sighting(IndicatorType.Domain, host, role, context, index, location, time));
                }
            }
        }

        /// <summary>What a relayed server is by its protocol; a web server is a malware host only once it served an executable.</summary>
        private static HostRole? RoleOfServer(string protocol) => protocol.ToUpperInvariant() switch
        {
            "SMTP" => HostRole.MailServer,
            "FTP" => HostRole.FtpServer,
            _ => null,
        };

        /// <summary>"RegistryValue" → "registry value", "MailServer" → "mail server".</summary>
        internal static string Words(string pascal)
        {
            var text = new System.Text.StringBuilder(pascal.Length + 4);
            for (int i = 0; i < pascal.Length; i++)
            {
                if (i > 0 && char.IsUpper(pascal[i]) && !char.IsUpper(pascal[i - 1]))
                {
                    text.Append(' ');
                }

                text.Append(char.ToLowerInvariant(pascal[i]));
            }

            return text.ToString();
        }

        /// <summary>The canonical text of an address (<see cref="IndicatorText.Address"/>), or null when the text is not one.</summary>
        internal static string? Address(string? text) => IndicatorText.Address(text);

        private static bool IsUnspecified(string address) =>
            address == "0.0.0.0" || address == "::" || address.StartsWith("127.", StringComparison.Ordinal) || address == "::1";

        /// <summary>
        /// A domain name in the form joined on (<see cref="IndicatorText.Domain"/>), or null for an address, a single label or
        /// a file name that only looks like a domain (a command line's mobile7.exe).
        /// </summary>
        internal static string? Domain(string? name)
        {
            string? d = IndicatorText.Domain(name);
            if (d is null || IPAddress.TryParse(d, out _))
            {
                return null;
            }

            return NotTopLevel.Contains(d.Substring(d.LastIndexOf('.') + 1)) ? null : d;
        }

        internal static string? HostOf(string? url)
        {
            if (url is null || !Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Host.Length == 0)
            {
                return null;
            }

            return Domain(uri.Host);
        }

        private static string? FileNameOfUrl(string? url)
        {
            if (url is null || !Uri.TryCreate(url, UriKind.Absolute, out var uri))
            {
                return null;
            }

            string leaf = uri.Segments.LastOrDefault()?.Trim('/') ?? string.Empty;
            return leaf.Length == 0 ? null : Uri.UnescapeDataString(leaf);
        }

    }
}
