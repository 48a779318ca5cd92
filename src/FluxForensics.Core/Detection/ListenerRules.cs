using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Net;
using System.Net.Sockets;
using FluxForensics.Host;
using FluxForensics.Model;

namespace FluxForensics.Detection
{
    /// <summary>What the caller asks of <see cref="ListenerRules.Evaluate"/>.</summary>
    public sealed class ListenerRuleOptions
    {
        /// <summary>Process names (with or without .exe), service names or image paths that are expected to listen; * and ? match.</summary>
        public IReadOnlyList<string> ExpectedListeners { get; set; } = Array.Empty<string>();

        /// <summary>Also report processes with heavy outbound fan-out that listen on nothing.</summary>
        public bool IncludeOutbound { get; set; }

        public int MinimumRiskScore { get; set; }

        /// <summary>Windows path rules (case-insensitive names) instead of Unix ones; defaults to the running platform.</summary>
        public bool WindowsPaths { get; set; } = System.Runtime.InteropServices.RuntimeInformation.IsOSPlatform(System.Runtime.InteropServices.OSPlatform.Windows);
    }

    /// <summary>Per-process summary of outbound TCP connections (established or opening, not accepted ones).</summary>
    public sealed class ConnectionSummary
    {
        public int Outbound { get; internal set; }
        public int[] RemotePorts { get; internal set; } = Array.Empty<int>();
        public int DistinctRemoteAddresses { get; internal set; }
        public int DistinctRemoteNetworks { get; internal set; }
        public int Port80 { get; internal set; }
        public int Port80Networks { get; internal set; }
    }

    /// <summary>
    /// The rules of Get-FluxListener: pure functions from <see cref="ListenerFacts"/> to scored <see cref="FluxListener"/>
    /// findings. Every point has a reason; what could not be read is a reason with no points.
    /// </summary>
    public static class ListenerRules
    {
        public const int SuspiciousPortPoints = 25;
        public const int OtherSuspiciousPortPoints = 10;
        public const int HiddenPoints = 20;
        public const int NoVersionInfoPoints = 10;
        public const int NoCompanyOrDescriptionPoints = 5;
        public const int UnsignedPoints = 10;
        public const int InvalidSignaturePoints = 20;
        public const int NoEmbeddedSignaturePoints = 5;
        public const int UserWritablePoints = 15;
        public const int DeletedImagePoints = 25;
        public const int WideFanOutPoints = 25;
        public const int FanOutPoints = 10;
        public const int NameMismatchPoints = 15;

        /// <summary>Wide fan-out: at least this many outbound connections to port 80 …</summary>
        public const int WideFanOutConnections = 20;

        /// <summary>… spread over at least this many /16 (IPv6: /48) networks.</summary>
        public const int WideFanOutNetworks = 4;

        public const int FanOutConnections = 10;

        /// <summary>-IncludeOutbound reports non-listening processes with at least this many open outbound connections.</summary>
        public const int HeavyOutboundConnections = 20;

        /// <summary>The ports mobile7.exe held: TCP 80, 443 and 8080, UDP 53.</summary>
        public static bool IsSuspiciousPort(SocketProtocol protocol, int port) =>
            protocol == SocketProtocol.Tcp ? port == 80 || port == 443 || port == 8080 : port == 53;

        private static readonly string[] WebServers =
        {
            "nginx", "apache2", "httpd", "lighttpd", "caddy", "haproxy", "traefik", "envoy", "varnishd", "squid", "w3wp", "httpd.exe",
            "nginx.exe", "caddy.exe", "traefik.exe", "squid.exe", "Apache.exe",
        };

        private static readonly string[] DnsServers =
        {
            "named", "dnsmasq", "systemd-resolved", "systemd-resolve", "unbound", "pdns_server", "pdns_recursor", "coredns", "knotd",
            "dns.exe", "named.exe", "unbound.exe", "coredns.exe",
        };

        /// <summary>Windows services that legitimately own these ports inside a shared host.</summary>
        private static readonly string[] KnownServices = { "W3SVC", "WAS", "DNS", "SharedAccess", "iphlpsvc" };

        public static List<FluxListener> Evaluate(ListenerFacts facts, ListenerRuleOptions options)
        {
            var findings = new List<FluxListener>();
            var byProcess = facts.Snapshot.Sockets.Where(s => s.ProcessId is not null).GroupBy(s => s.ProcessId!.Value).ToDictionary(g => g.Key, g => g.ToList());

            foreach (var socket in facts.Snapshot.Sockets.Where(s => s.IsListening))
            {
                var own = socket.ProcessId is int pid && byProcess.TryGetValue(pid, out var list) ? list : new List<SocketEntry>();
                SocketOwner? owner = socket.ProcessId is int p && facts.Owners.TryGetValue(p, out var o) ? o : null;
                findings.Add(Judge(socket, own, owner, options));
            }

            if (options.IncludeOutbound)
            {
                foreach (var pair in byProcess)
                {
                    if (pair.Value.Any(s => s.IsListening))
                    {
                        continue;
                    }

                    var summary = Summarize(pair.Value);
                    if (summary.Outbound < HeavyOutboundConnections)
                    {
                        continue;
                    }

                    facts.Owners.TryGetValue(pair.Key, out var owner);
                    findings.Add(Judge(null, pair.Value, owner, options, pair.Key));
                }
            }

            return findings
                .Where(f => f.RiskScore >= options.MinimumRiskScore)
                .OrderByDescending(f => f.RiskScore)
                .ThenBy(f => f.ProcessId)
                .ThenBy(f => f.Protocol, StringComparer.Ordinal)
                .ThenBy(f => f.LocalPort)
                .ThenBy(f => f.LocalAddress, StringComparer.Ordinal)
                .ToList();
        }

        /// <summary>Scores one listening socket (or, with <paramref name="socket"/> null, one outbound-only process).</summary>
        internal static FluxListener Judge(SocketEntry? socket, IReadOnlyList<SocketEntry> processSockets, SocketOwner? owner, ListenerRuleOptions options, int? processId = null)
        {
            var process = owner?.Process;
            var image = owner?.Image;
            var summary = Summarize(processSockets);
            var finding = new FluxListener
            {
                Protocol = socket?.ProtocolName ?? "Tcp",
                LocalAddress = socket?.LocalAddress.ToString() ?? string.Empty,
                LocalPort = socket?.LocalPort ?? 0,
                IsListening = socket is not null,
                ProcessId = socket?.ProcessId ?? processId ?? 0,
                ProcessName = process?.Name,
                CommandLine = process?.CommandLine,
                User = process?.User,
                ParentProcessId = process?.ParentProcessId,
                ProcessStartTime = process?.StartTimeUtc,
                ServiceName = process is { ServiceNames.Count: > 0 } ? string.Join(",", process.ServiceNames) : null,
                ImageDeleted = process?.ImageDeleted ?? false,
                Path = process?.ImagePath,
                Sha256 = image?.Sha256,
                IsHidden = image?.IsHidden ?? false,
                CompanyName = image?.CompanyName,
                FileDescription = image?.FileDescription,
                OriginalFilename = image?.OriginalFilename,
                ProductName = image?.ProductName,
                FileVersion = image?.FileVersion,
                SignatureStatus = image?.SignatureStatus,
                SignatureDetail = image?.SignatureDetail,
                Signer = image?.SignerSubject,
                IsUserWritableLocation = image?.IsUserWritableLocation ?? false,
                HostedProgramPath = owner?.HostedProgram?.Path,
                OutboundConnectionCount = summary.Outbound,
                DistinctRemoteAddressCount = summary.DistinctRemoteAddresses,
                DistinctRemoteNetworkCount = summary.DistinctRemoteNetworks,
                RemotePorts = summary.RemotePorts,
                Port80ConnectionCount = summary.Port80,
            };

            var card = new ScoreCard();
            var unread = new List<string>();

            if (socket is not null)
            {
                JudgePorts(socket, processSockets, owner, options, card);
            }

            if (socket is not null && socket.ProcessId is null)
            {
                string who = socket.UserId is int uid ? $" (socket created by uid {uid.ToString(CultureInfo.InvariantCulture)})" : string.Empty;
                card.Add("owning process could not be determined" + who, 0);
                unread.Add("owning process not visible");
            }
            else if (owner is null)
            {
                card.Add("owning process was not examined", 0);
            }

            if (process is not null)
            {
                unread.AddRange(process.ReadErrors);
                foreach (var error in process.ReadErrors)
                {
                    card.Add("not read: " + error, 0);
                }

                if (process.ImageDeleted)
                {
                    card.Add("image was deleted after the process started", DeletedImagePoints);
                }
            }

            if (image is not null)
            {
                JudgeImage(process!, image, options, card, unread);
            }

            var hosted = owner?.HostedProgram;
            if (hosted is not null && process is not null)
            {
                string host = process.Name ?? "the runtime host";
                if (hosted.IsHidden && !(image?.IsHidden ?? false))
                {
                    card.Add($"program run by {host} is hidden ({hosted.HiddenReason}): {hosted.Path}", HiddenPoints);
                    finding.IsHidden = true;
                }

                if (hosted.IsUserWritableLocation && !(image?.IsUserWritableLocation ?? false))
                {
                    card.Add($"program run by {host} is in a user-writable or temporary location ({hosted.LocationReason})", UserWritablePoints);
                    finding.IsUserWritableLocation = true;
                }
            }

            JudgeFanOut(summary, card);
            if (socket is null && card.Reasons.All(r => r.Points == 0))
            {
                card.Add(string.Format(CultureInfo.InvariantCulture, "listens on nothing and holds {0} outbound connections to {1} networks (ports {2})",
                    summary.Outbound, summary.DistinctRemoteNetworks, string.Join(", ", summary.RemotePorts.Take(10))), 0);
            }

            finding.ReadErrors = unread.Distinct(StringComparer.Ordinal).ToArray();
            finding.SetScore(card);
            return finding;
        }

        private static void JudgePorts(SocketEntry socket, IReadOnlyList<SocketEntry> processSockets, SocketOwner? owner, ListenerRuleOptions options, ScoreCard card)
        {
            string label = $"{(socket.Protocol == SocketProtocol.Tcp ? "TCP" : "UDP")} {socket.LocalPort.ToString(CultureInfo.InvariantCulture)}";
            string? expected = MatchExpected(owner, options);
            if (!IsSuspiciousPort(socket.Protocol, socket.LocalPort))
            {
                // Every finding says what it is about, even when nothing about it is suspicious.
                card.Add($"listens on {label}, not a relay port (TCP 80, 443, 8080, UDP 53)", 0);
            }
            else
            {
                if (expected is not null)
                {
                    card.Add($"listens on {label} as an expected listener (matches -ExpectedListener '{expected}')", 0);
                }
                else if (KnownServerFor(socket, owner) is string known)
                {
                    card.Add($"listens on {label} as a known server for it ({known})", 0);
                }
                else
                {
                    card.Add($"listens on {label} without being a known server for it", SuspiciousPortPoints);
                }
            }

            if (expected is not null)
            {
                return;
            }

            // The same process holding the other relay ports adds to the picture (mobile7.exe held TCP 80 and UDP 53).
            var others = processSockets
                .Where(s => s.IsListening && IsSuspiciousPort(s.Protocol, s.LocalPort) && !(s.Protocol == socket.Protocol && s.LocalPort == socket.LocalPort))
                .Select(s => $"{(s.Protocol == SocketProtocol.Tcp ? "TCP" : "UDP")} {s.LocalPort.ToString(CultureInfo.InvariantCulture)}")
                .Distinct(StringComparer.Ordinal)
                .OrderBy(s => s, StringComparer.Ordinal)
                .ToList();
            if (others.Count > 0 && KnownServerFor(socket, owner) is null)
            {
                card.Add($"the same process also listens on {string.Join(", ", others)}", OtherSuspiciousPortPoints);
            }
        }

        private static void JudgeImage(ProcessFacts process, FileFacts image, ListenerRuleOptions options, ScoreCard card, List<string> unread)
        {
            if (image.ReadError is not null && !process.ImageDeleted)
            {
                card.Add("not read: image content (" + image.ReadError + ")", 0);
                unread.Add("image: " + image.ReadError);
            }

            foreach (var issue in image.Issues.Where(i => i.Message != image.ReadError).Take(3))
            {
                card.Add($"not read: part of the image ({issue.Record} at offset {issue.Offset.ToString(CultureInfo.InvariantCulture)}: {issue.Message})", 0);
                unread.Add($"{issue.Record}: {issue.Message}");
            }

            if (image.IsHidden)
            {
                card.Add($"image is hidden ({image.HiddenReason})", HiddenPoints);
            }

            if (image.IsUserWritableLocation)
            {
                card.Add($"image is in a user-writable or temporary location ({image.LocationReason})", UserWritablePoints);
            }

            if (image.IsPe)
            {
                if (!image.HasVersionInfo)
                {
                    card.Add("image has no version information (no company, no description)", NoVersionInfoPoints);
                }
                else if (image.CompanyName is null && image.FileDescription is null)
                {
                    card.Add("image has no company and no description in its version information", NoVersionInfoPoints);
                }
                else if (image.CompanyName is null || image.FileDescription is null)
                {
                    card.Add($"image has no {(image.CompanyName is null ? "company" : "description")} in its version information", NoCompanyOrDescriptionPoints);
                }

                if (image.OriginalFilename is string original && process.ImagePath is string path)
                {
                    string name = options.WindowsPaths ? path.Substring(path.LastIndexOfAny(new[] { '\\', '/' }) + 1) : System.IO.Path.GetFileName(path);
                    if (!SameProgramName(name, original))
                    {
                        card.Add($"image name '{name}' does not match its version info's OriginalFilename '{original}'", NameMismatchPoints);
                    }
                }

                switch (image.SignatureStatus)
                {
                    case SignatureStatuses.Unsigned:
                        card.Add("image is not signed (no embedded signature, no catalog)", UnsignedPoints);
                        break;
                    case SignatureStatuses.Invalid:
                        card.Add("image signature is invalid: " + image.SignatureDetail, InvalidSignaturePoints);
                        break;
                    case SignatureStatuses.MalformedSignature:
                        card.Add("image has a malformed signature directory", InvalidSignaturePoints);
                        break;
                    case SignatureStatuses.HashMismatch:
                        card.Add("image was changed after signing: " + image.SignatureDetail, SignatureRules.HashMismatchPoints);
                        break;
                    case SignatureStatuses.Untrusted:
                        card.Add("image signature's chain is not trusted: " + image.SignatureDetail, NoEmbeddedSignaturePoints);
                        break;
                    case SignatureStatuses.NotSigned:
                        card.Add("image carries no embedded Authenticode signature (catalog signatures cannot be checked on this platform)", NoEmbeddedSignaturePoints);
                        break;
                    case SignatureStatuses.Valid:
                        card.Add($"image signature verified without WinVerifyTrust (signer '{image.SignerSubject}')", 0);
                        break;
                }

                var claim = SignatureRules.FalseMicrosoftClaim(image.CompanyName, image.SignatureStatus, image.SignerSubject, image.ChainsToMicrosoftRoot,
                    process.ImagePath is string imagePath && AutorunRules.InSystemDirectory(imagePath));
                if (claim is { } c)
                {
                    card.Add("image " + c.Reason, c.Points);
                }
            }
        }

        private static void JudgeFanOut(ConnectionSummary summary, ScoreCard card)
        {
            if (summary.Port80 >= WideFanOutConnections && summary.Port80Networks >= WideFanOutNetworks)
            {
                card.Add(string.Format(CultureInfo.InvariantCulture, "wide outbound fan-out to port 80: {0} connections across {1} /16 networks", summary.Port80, summary.Port80Networks), WideFanOutPoints);
            }
            else if (summary.Port80 >= FanOutConnections)
            {
                card.Add(string.Format(CultureInfo.InvariantCulture, "outbound fan-out to port 80: {0} connections across {1} /16 networks", summary.Port80, summary.Port80Networks), FanOutPoints);
            }
        }

        private static bool SameProgramName(string name, string original)
        {
            static string Stem(string s)
            {
                s = s.Trim();
                if (s.EndsWith(".mui", StringComparison.OrdinalIgnoreCase))
                {
                    s = s.Substring(0, s.Length - 4);
                }

                int dot = s.LastIndexOf('.');
                return dot > 0 ? s.Substring(0, dot) : s;
            }

            return string.Equals(Stem(name), Stem(original), StringComparison.OrdinalIgnoreCase);
        }

        /// <summary>A built-in server for the port, trusted only when its image is not hidden, not deleted and not in a
        /// user-writable place (malware names itself nginx too).</summary>
        private static string? KnownServerFor(SocketEntry socket, SocketOwner? owner)
        {
            if (owner is null || !IsSuspiciousPort(socket.Protocol, socket.LocalPort))
            {
                return null;
            }

            var p = owner.Process;
            if (p.ProcessId == 4 && string.Equals(p.Name, "System", StringComparison.Ordinal) && socket.Protocol == SocketProtocol.Tcp)
            {
                return "System (HTTP.sys)";
            }

            var image = owner.Image;
            if (image is null || image.IsHidden || image.IsUserWritableLocation || p.ImageDeleted || p.Name is null)
            {
                return null;
            }

            var names = socket.Protocol == SocketProtocol.Tcp ? WebServers : DnsServers;
            if (names.Any(n => string.Equals(n, p.Name, StringComparison.OrdinalIgnoreCase)))
            {
                return $"{p.Name} in {System.IO.Path.GetDirectoryName(p.ImagePath ?? string.Empty)}";
            }

            var service = p.ServiceNames.FirstOrDefault(s => KnownServices.Contains(s, StringComparer.OrdinalIgnoreCase));
            return service is null ? null : $"service {service}";
        }

        private static string? MatchExpected(SocketOwner? owner, ListenerRuleOptions options)
        {
            if (owner is null || options.ExpectedListeners.Count == 0)
            {
                return null;
            }

            var p = owner.Process;
            foreach (var pattern in options.ExpectedListeners)
            {
                if (string.IsNullOrWhiteSpace(pattern))
                {
                    continue;
                }

                bool isPath = pattern.IndexOf('/') >= 0 || pattern.IndexOf('\\') >= 0;
                if (isPath)
                {
                    if (p.ImagePath is not null && Glob(pattern, p.ImagePath, options.WindowsPaths))
                    {
                        return pattern;
                    }

                    if (owner.HostedProgram is not null && Glob(pattern, owner.HostedProgram.Path, options.WindowsPaths))
                    {
                        return pattern;
                    }

                    continue;
                }

                if (p.Name is not null && (Glob(pattern, p.Name, true) || Glob(pattern + ".exe", p.Name, true)))
                {
                    return pattern;
                }

                if (p.ServiceNames.Any(s => Glob(pattern, s, true)))
                {
                    return pattern;
                }
            }

            return null;
        }

        /// <summary>* and ? wildcards, whole string.</summary>
        internal static bool Glob(string pattern, string text, bool ignoreCase)
        {
            int p = 0, t = 0, star = -1, mark = 0;
            while (t < text.Length)
            {
                if (p < pattern.Length && (pattern[p] == '?' || CharEquals(pattern[p], text[t], ignoreCase)))
                {
                    p++;
                    t++;
                }
                else if (p < pattern.Length && pattern[p] == '*')
                {
                    star = p++;
                    mark = t;
                }
                else if (star >= 0)
                {
                    p = star + 1;
                    t = ++mark;
                }
                else
                {
                    return false;
                }
            }

            while (p < pattern.Length && pattern[p] == '*')
            {
                p++;
            }

            return p == pattern.Length;
        }

        private static bool CharEquals(char a, char b, bool ignoreCase) =>
            a == b || (ignoreCase && char.ToUpperInvariant(a) == char.ToUpperInvariant(b));

        /// <summary>Outbound TCP connections of one process: established or opening, excluding those accepted on its own listening ports.</summary>
        public static ConnectionSummary Summarize(IReadOnlyList<SocketEntry> processSockets)
        {
            var listeningPorts = new HashSet<int>(processSockets.Where(s => s.Protocol == SocketProtocol.Tcp && s.State == TcpState.Listen).Select(s => s.LocalPort));
            var ports = new SortedSet<int>();
            var addresses = new HashSet<string>(StringComparer.Ordinal);
            var networks = new HashSet<string>(StringComparer.Ordinal);
            var port80Networks = new HashSet<string>(StringComparer.Ordinal);
            int outbound = 0, port80 = 0;
            foreach (var s in processSockets)
            {
                if (!s.IsOpenConnection || listeningPorts.Contains(s.LocalPort))
                {
                    continue;
                }

                outbound++;
                ports.Add(s.RemotePort);
                addresses.Add(s.RemoteAddress.ToString());
                string network = NetworkOf(s.RemoteAddress);
                networks.Add(network);
                if (s.RemotePort == 80)
                {
                    port80++;
                    port80Networks.Add(network);
                }
            }

            return new ConnectionSummary
            {
                Outbound = outbound,
                RemotePorts = ports.ToArray(),
                DistinctRemoteAddresses = addresses.Count,
                DistinctRemoteNetworks = networks.Count,
                Port80 = port80,
                Port80Networks = port80Networks.Count,
            };
        }

        /// <summary>The /16 of an IPv4 address (also IPv4-mapped IPv6), the /48 of other IPv6 addresses.</summary>
        public static string NetworkOf(IPAddress address)
        {
            if (address.AddressFamily == AddressFamily.InterNetworkV6 && address.IsIPv4MappedToIPv6)
            {
                address = address.MapToIPv4();
            }

            byte[] b = address.GetAddressBytes();
            return address.AddressFamily == AddressFamily.InterNetwork
                ? string.Format(CultureInfo.InvariantCulture, "{0}.{1}.0.0/16", b[0], b[1])
                : string.Format(CultureInfo.InvariantCulture, "{0:x2}{1:x2}:{2:x2}{3:x2}:{4:x2}{5:x2}::/48", b[0], b[1], b[2], b[3], b[4], b[5]);
        }
    }
}
