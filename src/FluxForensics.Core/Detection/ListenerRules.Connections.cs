using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Net;
using System.Net.Sockets;
using FluxForensics.Model;

namespace FluxForensics.Detection
{
    /// <summary>What a process's sockets say about its connections: outbound fan-out by port and network, connections that just ended.</summary>
    public static partial class ListenerRules
    {
        /// <summary>Outbound TCP connections of one process: established or opening, excluding those accepted on its own listening ports.</summary>
        public static ConnectionSummary Summarize(IReadOnlyList<SocketEntry> processSockets)
        {
            var listeningPorts = new HashSet<int>(processSockets.Where(s => s.Protocol == SocketProtocol.Tcp && s.State == TcpState.Listen).Select(s => s.LocalPort));
            var ports = new SortedSet<int>();
            var addresses = new HashSet<string>(StringComparer.Ordinal);
            var networks = new HashSet<string>(StringComparer.Ordinal);
            var port80Networks = new HashSet<string>(StringComparer.Ordinal);
            var perPort = new Dictionary<int, (int Connections, HashSet<string> Addresses, HashSet<string> Networks)>();
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
                if (!perPort.TryGetValue(s.RemotePort, out var one))
                {
                    one = (0, new HashSet<string>(StringComparer.Ordinal), new HashSet<string>(StringComparer.Ordinal));
                }

                one.Addresses.Add(s.RemoteAddress.ToString());
                one.Networks.Add(network);
                perPort[s.RemotePort] = (one.Connections + 1, one.Addresses, one.Networks);
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
                ByPort = perPort
                    .Select(p => new FluxFanOut
                    {
                        RemotePort = p.Key,
                        Service = ListenerServices.For(SocketProtocol.Tcp, p.Key)?.Name,
                        ConnectionCount = p.Value.Connections,
                        ServerCount = p.Value.Addresses.Count,
                        NetworkCount = p.Value.Networks.Count,
                    })
                    .OrderByDescending(f => f.ServerCount)
                    .ThenByDescending(f => f.ConnectionCount)
                    .ThenBy(f => f.RemotePort)
                    .ToArray(),
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

        /// <summary>The TIME_WAIT and CLOSE_WAIT sockets on <paramref name="listener"/>'s port that belong to it: same local
        /// address (or the listener takes any), owner unknown or the listener's own process.</summary>
        internal static ClosedConnections? CountClosed(SocketEntry listener, List<SocketEntry> onPort)
        {
            bool any = listener.LocalAddress.Equals(IPAddress.Any) || listener.LocalAddress.Equals(IPAddress.IPv6Any);
            int timeWait = 0, closeWait = 0;
            var clients = new HashSet<string>(StringComparer.Ordinal);
            foreach (var s in onPort)
            {
                if (s.ProcessId is int pid && pid != 0 && pid != listener.ProcessId)
                {
                    continue;
                }

                if (!any && !SameAddress(s.LocalAddress, listener.LocalAddress))
                {
                    continue;
                }

                if (!any && s.IsIPv6 != listener.IsIPv6 && !s.LocalAddress.IsIPv4MappedToIPv6)
                {
                    continue;
                }

                if (s.State == TcpState.TimeWait)
                {
                    timeWait++;
                }
                else
                {
                    closeWait++;
                }

                clients.Add(Unmapped(s.RemoteAddress).ToString());
            }

            return timeWait + closeWait == 0 ? null : new ClosedConnections { TimeWait = timeWait, CloseWait = closeWait, Clients = clients.Count };
        }

        private static IPAddress Unmapped(IPAddress a) => a.AddressFamily == AddressFamily.InterNetworkV6 && a.IsIPv4MappedToIPv6 ? a.MapToIPv4() : a;

        private static bool SameAddress(IPAddress a, IPAddress b) => Unmapped(a).Equals(Unmapped(b));
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

        /// <summary>Per remote port: connections, servers and networks, most servers first.</summary>
        public FluxFanOut[] ByPort { get; internal set; } = Array.Empty<FluxFanOut>();
    }

    /// <summary>Sockets left on a listener's local port by connections that have ended (TIME_WAIT, CLOSE_WAIT).</summary>
    public sealed class ClosedConnections
    {
        public int TimeWait { get; internal set; }
        public int CloseWait { get; internal set; }
        public int Clients { get; internal set; }
        public int Total => TimeWait + CloseWait;
    }
}
