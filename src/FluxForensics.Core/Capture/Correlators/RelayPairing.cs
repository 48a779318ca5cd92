using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;

namespace FluxForensics.Capture
{
    /// <summary>An inbound conversation (client → relay) and the outbound one it caused (relay → server).</summary>
    internal sealed class RelayPair
    {
        private readonly bool _clientBytes;
        private readonly int _shared;
        private readonly double _delay;

        public RelayPair(RelayConversation inbound, RelayConversation outbound, bool clientBytes, int shared, double delaySeconds)
        {
            Inbound = inbound;
            Outbound = outbound;
            _clientBytes = clientBytes;
            _shared = shared;
            _delay = delaySeconds;
        }

        public RelayConversation Inbound { get; }
        public RelayConversation Outbound { get; }

        /// <summary>
        /// Why the two are one conversation, written when first asked: it keeps only the endpoints and numbers (not the
        /// conversations, which the analyser lets go).
        /// </summary>
        public Model.ILazyText Evidence() =>
            new PairEvidence(Inbound.Client, Inbound.ClientPort, Inbound.Server, Inbound.ServerPort,
                Outbound.Client, Outbound.ClientPort, Outbound.Server, Outbound.ServerPort, _clientBytes, _shared, _delay);

        private sealed class PairEvidence : Model.ILazyText
        {
            private readonly NetAddress _inClient, _inServer, _outClient, _outServer;
            private readonly ushort _inClientPort, _inServerPort, _outClientPort, _outServerPort;
            private readonly bool _clientBytes;
            private readonly int _shared;
            private readonly double _delay;

            public PairEvidence(NetAddress inClient, ushort inClientPort, NetAddress inServer, ushort inServerPort,
                NetAddress outClient, ushort outClientPort, NetAddress outServer, ushort outServerPort, bool clientBytes, int shared, double delay)
            {
                _inClient = inClient;
                _inClientPort = inClientPort;
                _inServer = inServer;
                _inServerPort = inServerPort;
                _outClient = outClient;
                _outClientPort = outClientPort;
                _outServer = outServer;
                _outServerPort = outServerPort;
                _clientBytes = clientBytes;
                _shared = shared;
                _delay = delay;
            }

            public string Text() =>
                "first " + _shared.ToString(CultureInfo.InvariantCulture) + " bytes " + (_clientBytes ? "client to server" : "server to client") +
                " identical on " + _inClient + ":" + _inClientPort.ToString(CultureInfo.InvariantCulture) + "->" + _inServer + ":" +
                _inServerPort.ToString(CultureInfo.InvariantCulture) + " and " + _outClient + ":" + _outClientPort.ToString(CultureInfo.InvariantCulture) +
                "->" + _outServer + ":" + _outServerPort.ToString(CultureInfo.InvariantCulture) + "; outbound opened " +
                _delay.ToString("0.000", CultureInfo.InvariantCulture) + " s after inbound";
        }
    }

    /// <summary>
    /// Pairs relayed conversations. A relay forwards bytes unchanged, so the inbound and outbound legs share the same
    /// first bytes in at least one direction (the bot's commands, or the server's greeting and replies); the outbound
    /// leg starts within <see cref="RelayCorrelator.PairingWindowTicks"/> of the inbound one. Each conversation is in at
    /// most one pair; among candidates the one that started closest after the inbound leg wins.
    /// </summary>
    internal static class RelayPairing
    {
        /// <summary>Fewer shared bytes than this is no evidence (a bare "QUIT" is common to everyone).</summary>
        internal const int MinSharedBytes = 16;
        private static readonly long Slack = TimeSpan.FromSeconds(1).Ticks;

        public static List<RelayPair> Pair(IReadOnlyList<RelayConversation> conversations, IReadOnlyList<NetAddress> relayHosts)
        {
            var hosts = relayHosts.Count > 0 ? new HashSet<NetAddress>(relayHosts) : null;
            var byClientBytes = new Dictionary<(NetAddress, ulong, int), List<RelayConversation>>();
            var byServerBytes = new Dictionary<(NetAddress, ulong, int), List<RelayConversation>>();

            // A relay is a host seen as a server and as a client: only conversations opened by such hosts can be the
            // outbound leg, so only they are indexed (most traffic never is, which keeps sweeps cheap).
            var servers = new HashSet<NetAddress>();
            foreach (var c in conversations)
            {
                if (!c.Paired && (hosts is null || hosts.Contains(c.Server)))
                {
                    servers.Add(c.Server);
                }
            }

            var sources = new HashSet<NetAddress>();
            foreach (var c in conversations)
            {
                if (c.Paired || !servers.Contains(c.Client))
                {
                    continue;
                }

                sources.Add(c.Client);
                if (c.FingerprintClientLength >= MinSharedBytes)
                {
                    Add(byClientBytes, (c.Client, c.FingerprintClient, c.FingerprintClientLength), c);
                }

                if (c.FingerprintServerLength >= MinSharedBytes)
                {
                    Add(byServerBytes, (c.Client, c.FingerprintServer, c.FingerprintServerLength), c);
                }
            }

            var pairs = new List<RelayPair>();
            if (sources.Count == 0)
            {
                return pairs;
            }

            foreach (var inbound in conversations.Where(c => sources.Contains(c.Server)).OrderBy(c => c.StartTicks))
            {
                if (inbound.Paired || !sources.Contains(inbound.Server) || (hosts is not null && !hosts.Contains(inbound.Server)))
                {
                    continue;
                }

                string direction = "client to server";
                int shared = inbound.FingerprintClientLength;
                var outbound = inbound.FingerprintClientLength >= MinSharedBytes
                    ? Closest(byClientBytes, (inbound.Server, inbound.FingerprintClient, inbound.FingerprintClientLength), inbound)
                    : null;
                if (outbound is null && inbound.FingerprintServerLength >= MinSharedBytes)
                {
                    outbound = Closest(byServerBytes, (inbound.Server, inbound.FingerprintServer, inbound.FingerprintServerLength), inbound);
                    direction = "server to client";
                    shared = inbound.FingerprintServerLength;
                }

                if (outbound is null)
                {
                    continue;
                }

                inbound.Paired = true;
                outbound.Paired = true;
                double delay = (outbound.StartTicks - inbound.StartTicks) / (double)TimeSpan.TicksPerSecond;
                pairs.Add(new RelayPair(inbound, outbound, direction == "client to server", shared, delay));
            }

            return pairs;
        }

        private static RelayConversation? Closest(Dictionary<(NetAddress, ulong, int), List<RelayConversation>> index, (NetAddress, ulong, int) key, RelayConversation inbound)
        {
            if (!index.TryGetValue(key, out var candidates))
            {
                return null;
            }

            RelayConversation? best = null;
            foreach (var c in candidates)
            {
                if (c == inbound || c.Paired || c.Server == inbound.Client)
                {
                    continue;
                }

                long delta = c.StartTicks - inbound.StartTicks;
                if (delta < -Slack || delta > RelayCorrelator.PairingWindowTicks)
                {
                    continue;
                }

                if (best is null || Math.Abs(delta) < Math.Abs(best.StartTicks - inbound.StartTicks))
                {
                    best = c;
                }
            }

            return best;
        }

        private static void Add(Dictionary<(NetAddress, ulong, int), List<RelayConversation>> index, (NetAddress, ulong, int) key, RelayConversation c)
        {
            if (!index.TryGetValue(key, out var list))
            {
                index[key] = list = new List<RelayConversation>(1);
            }

            list.Add(c);
        }
    }
}
