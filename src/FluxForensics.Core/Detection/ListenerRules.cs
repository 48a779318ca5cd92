using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Net;
using System.Net.Sockets;
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

    /// <summary>
    /// The rules of Get-FluxListener: pure functions from <see cref="ListenerFacts"/> to scored <see cref="FluxListener"/>
    /// findings. Every point has a reason; what could not be read is a reason with no points.
    /// </summary>
    public static partial class ListenerRules
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

        /// <summary>A system port (below 1024) that no known service uses.</summary>
        public const int SystemPortPoints = 10;

        /// <summary>Many short connections just ended on a listener that is not a known server for its port.</summary>
        public const int ChurnPoints = 10;

        /// <summary>At least this many TIME_WAIT/CLOSE_WAIT sockets on a listener's port count as churn.</summary>
        public const int ChurnConnections = 20;

        /// <summary>Fan-out to ports other than 80 counts servers (distinct addresses), as a mail relay is judged by how many
        /// mail servers it reaches: wide from this many servers in <see cref="WideFanOutNetworks"/> networks …</summary>
        public const int WideFanOutServers = 20;

        /// <summary>… plain fan-out from this many servers.</summary>
        public const int FanOutServers = 10;

        /// <summary>Wide fan-out: at least this many outbound connections to port 80 …</summary>
        public const int WideFanOutConnections = 20;

        /// <summary>… spread over at least this many /16 (IPv6: /48) networks.</summary>
        public const int WideFanOutNetworks = 4;

        public const int FanOutConnections = 10;

        /// <summary>-IncludeOutbound reports non-listening processes with at least this many open outbound connections.</summary>
        public const int HeavyOutboundConnections = 20;

        /// <summary>A port a relay could be listening on: the well-known port of a service (mobile7.exe held TCP 80, 443 and
        /// 8080 and UDP 53; its relatives hold 25, 1080 …) or any other system port. There is no fixed list of relay ports.</summary>
        public static bool IsSuspiciousPort(SocketProtocol protocol, int port) =>
            ListenerServices.For(protocol, port) is not null || ListenerServices.IsSystemPort(port);

        /// <summary>The processes whose facts the rules need: every listener's owner; with <paramref name="includeOutbound"/> also
        /// processes holding at least <see cref="HeavyOutboundConnections"/> open outbound connections. Ascending ids.</summary>
        public static IReadOnlyCollection<int> OwnersToExamine(SocketSnapshot snapshot, bool includeOutbound)
        {
            var selected = new SortedSet<int>();
            var openConnections = new Dictionary<int, int>();
            foreach (var s in snapshot.Sockets)
            {
                if (s.ProcessId is not int pid)
                {
                    continue;
                }

                if (s.IsListening)
                {
                    selected.Add(pid);
                }
                else if (s.IsOpenConnection)
                {
                    openConnections[pid] = openConnections.TryGetValue(pid, out int n) ? n + 1 : 1;
                }
            }

            if (includeOutbound)
            {
                foreach (var pair in openConnections.Where(p => p.Value >= HeavyOutboundConnections))
                {
                    selected.Add(pair.Key);
                }
            }

            return selected;
        }

        public static List<FluxListener> Evaluate(ListenerFacts facts, ListenerRuleOptions options)
        {
            var findings = new List<FluxListener>();
            var byProcess = facts.Snapshot.Sockets.Where(s => s.ProcessId is not null).GroupBy(s => s.ProcessId!.Value).ToDictionary(g => g.Key, g => g.ToList());

            // Connections that ended leave TIME_WAIT sockets with no owner (PID 0, "unknown" in TCPView): index them by
            // local port so that each listener gets those of its own port.
            var closing = facts.Snapshot.Sockets
                .Where(s => s.Protocol == SocketProtocol.Tcp && (s.State == TcpState.TimeWait || s.State == TcpState.CloseWait) && s.RemotePort != 0)
                .GroupBy(s => s.LocalPort)
                .ToDictionary(g => g.Key, g => g.ToList());

            foreach (var socket in facts.Snapshot.Sockets.Where(s => s.IsListening))
            {
                var own = socket.ProcessId is int pid && byProcess.TryGetValue(pid, out var list) ? list : new List<SocketEntry>();
                SocketOwner? owner = socket.ProcessId is int p && facts.Owners.TryGetValue(p, out var o) ? o : null;
                var closed = socket.Protocol == SocketProtocol.Tcp && closing.TryGetValue(socket.LocalPort, out var onPort) ? CountClosed(socket, onPort) : null;
                findings.Add(Judge(socket, own, owner, options, closed: closed));
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
        internal static FluxListener Judge(SocketEntry? socket, IReadOnlyList<SocketEntry> processSockets, SocketOwner? owner, ListenerRuleOptions options, int? processId = null, ClosedConnections? closed = null)
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
                FanOut = summary.ByPort,
                TimeWaitCount = closed?.TimeWait ?? 0,
                CloseWaitCount = closed?.CloseWait ?? 0,
                ClosedConnectionClientCount = closed?.Clients ?? 0,
                LocalPortService = socket is null ? null : ListenerServices.For(socket.Protocol, socket.LocalPort)?.Name,
            };

            var card = new ScoreCard();
            var unread = new List<string>();

            if (socket is not null)
            {
                JudgePorts(socket, processSockets, owner, options, card);
                if (closed is { Total: > 0 })
                {
                    JudgeChurn(socket, closed, owner, options, card);
                }
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

            JudgeFanOut(summary, owner, card);
            if (socket is null && card.Reasons.All(r => r.Points == 0))
            {
                card.Add(string.Format(CultureInfo.InvariantCulture, "listens on nothing and holds {0} outbound connections to {1} networks (ports {2})",
                    summary.Outbound, summary.DistinctRemoteNetworks, string.Join(", ", summary.RemotePorts.Take(10))), 0);
            }

            finding.ReadErrors = unread.Distinct(StringComparer.Ordinal).ToArray();
            finding.SetScore(card);
            return finding;
        }

        private static string Label(SocketEntry s) =>
            $"{(s.Protocol == SocketProtocol.Tcp ? "TCP" : "UDP")} {s.LocalPort.ToString(CultureInfo.InvariantCulture)}";

        private static void JudgePorts(SocketEntry socket, IReadOnlyList<SocketEntry> processSockets, SocketOwner? owner, ListenerRuleOptions options, ScoreCard card)
        {
            string label = Label(socket);
            string? expected = MatchExpected(owner, options);
            var service = ListenerServices.For(socket.Protocol, socket.LocalPort);
            if (!IsSuspiciousPort(socket.Protocol, socket.LocalPort))
            {
                // Every finding says what it is about, even when nothing about it is suspicious.
                card.Add($"listens on {label}, not the well-known port of a service", 0);
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
                    // Any listening port can be a relay's: the question is whether this image is what normally serves it.
                    card.Add($"listens on {label} without being a known server for it", 0);
                    if (service is not null)
                    {
                        card.Add($"{label} is the well-known port of {service.Name}, a service the image does not provide",
                            service.Relayable ? SuspiciousPortPoints : SuspiciousPortPoints - SystemPortPoints);
                    }
                    else
                    {
                        card.Add($"{label} is a system port (below 1024) of no service the image provides", SystemPortPoints);
                    }
                }
            }

            if (expected is not null)
            {
                return;
            }

            // The same process holding other relay ports adds to the picture (mobile7.exe held TCP 80 and UDP 53).
            var others = processSockets
                .Where(s => s.IsListening && IsSuspiciousPort(s.Protocol, s.LocalPort) && !(s.Protocol == socket.Protocol && s.LocalPort == socket.LocalPort)
                    && KnownServerFor(s, owner) is null)
                .Select(Label)
                .Distinct(StringComparer.Ordinal)
                .OrderBy(s => s, StringComparer.Ordinal)
                .ToList();
            if (others.Count > 0 && KnownServerFor(socket, owner) is null)
            {
                card.Add($"the same process also listens on {string.Join(", ", others)}", OtherSuspiciousPortPoints);
            }
        }

        private static void JudgeChurn(SocketEntry socket, ClosedConnections closed, SocketOwner? owner, ListenerRuleOptions options, ScoreCard card)
        {
            string text = string.Format(CultureInfo.InvariantCulture,
                "{0} short-lived connections to {1} just ended ({2} in TIME_WAIT, {3} in CLOSE_WAIT, from {4} clients); their sockets show no owner (PID 0) and are attributed to the process listening on the port",
                closed.Total, Label(socket), closed.TimeWait, closed.CloseWait, closed.Clients);
            bool expected = MatchExpected(owner, options) is not null || KnownServerFor(socket, owner) is not null;
            card.Add(text, closed.Total >= ChurnConnections && !expected && IsSuspiciousPort(socket.Protocol, socket.LocalPort) ? ChurnPoints : 0);
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
                    string name = options.WindowsPaths ? PathText.Leaf(path) ?? string.Empty : System.IO.Path.GetFileName(path);
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

        private static void JudgeFanOut(ConnectionSummary summary, SocketOwner? owner, ScoreCard card)
        {
            // Port 80 keeps its connection-count rule (the incident's relay held 50 connections to a handful of servers).
            if (summary.Port80 >= WideFanOutConnections && summary.Port80Networks >= WideFanOutNetworks)
            {
                card.Add(string.Format(CultureInfo.InvariantCulture, "wide outbound fan-out to port 80: {0} connections across {1} /16 networks", summary.Port80, summary.Port80Networks), FanOutPointsFor(80, owner, WideFanOutPoints));
            }
            else if (summary.Port80 >= FanOutConnections)
            {
                card.Add(string.Format(CultureInfo.InvariantCulture, "outbound fan-out to port 80: {0} connections across {1} /16 networks", summary.Port80, summary.Port80Networks), FanOutPointsFor(80, owner, FanOutPoints));
            }

            // Every other port is judged by how many servers it reaches: a spam relay talks to hundreds of mail servers.
            foreach (var port in summary.ByPort)
            {
                if (port.RemotePort == 80 || port.ServerCount < FanOutServers)
                {
                    continue;
                }

                var service = ListenerServices.For(SocketProtocol.Tcp, port.RemotePort);
                string what = service is null
                    ? string.Format(CultureInfo.InvariantCulture, "fan-out to port {0}: {1} servers", port.RemotePort, port.ServerCount)
                    : string.Format(CultureInfo.InvariantCulture, "{0} fan-out: {1} {2}", service.Name, port.ServerCount, service.Servers);
                string text = string.Format(CultureInfo.InvariantCulture, "{0} in {1} /16s", what, port.NetworkCount);
                bool wide = port.ServerCount >= WideFanOutServers && port.NetworkCount >= WideFanOutNetworks;
                int points = FanOutPointsFor(port.RemotePort, owner, wide ? WideFanOutPoints : FanOutPoints);
                card.Add(points == 0 && service is not null ? $"{text} (expected of a {service.Name} server)" : text, points);
            }
        }

        /// <summary>No points when the process is itself a server of that service (a mail server delivers to many mail servers).</summary>
        private static int FanOutPointsFor(int remotePort, SocketOwner? owner, int points)
        {
            var service = ListenerServices.For(SocketProtocol.Tcp, remotePort);
            if (service is null || owner is null || remotePort == 80)
            {
                return points;
            }

            return TrustedServer(owner) is not null && ListenerServices.Provides(service, owner.Process.Name, owner.Process.ServiceNames) ? 0 : points;
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
    }
}
