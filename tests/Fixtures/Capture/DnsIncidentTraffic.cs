using System;
using System.Collections.Generic;
using System.Linq;
using System.Net;
using System.Net.NetworkInformation;
using System.Text;
using PacketDotNet;
using PacketDotNet.Utils;

namespace FluxForensics.Fixtures.Capture
{
    /// <summary>
    /// The DNS half of the incident: the relay (140.127.1.77) answers about 600 flux domains for outside bots with
    /// answers rotating over unrelated networks at a low TTL; double-flux names point at the relay and their name
    /// servers flux too. Benign background: the host's own lookups to its resolver, a CDN name with 8 addresses
    /// and TTL 20 inside one /24, and stable names.
    /// </summary>
    public sealed class DnsIncidentTraffic : IIncidentTraffic
    {
        public const int FluxDomainCount = 600;
        public const int DoubleFluxDomainCount = 40;
        public const string CdnName = "static.cdn-campus.example";
        public static readonly string[] StableNames = { "www.nsysu.edu.tw", "mail.campus.example", "update.microsoft.com", "www.google.com" };
        public static readonly string[] KnownFluxNames = { "bayermun.biz", "gorodkoff.com", "demyator.biz", "mydear.name", "www.mydear.name" };

        private static readonly string[] Syllables = { "ba", "ye", "mun", "go", "rod", "kof", "de", "mya", "tor", "my", "dear", "zo", "vik", "lan", "tre", "pol", "shi", "ka", "nor", "bel" };
        private static readonly string[] Tlds = { "biz", "com", "name", "info", "net", "ru" };

        public int Order => 20;

        public void Generate(IncidentScenario scenario, IList<CapturedFrame> frames)
        {
            var r = scenario.Random;
            var relay = scenario.Relay;
            var names = FluxNames(r);
            var bots = Enumerable.Range(0, 150 * scenario.Scale).Select(_ => PublicAddress(r)).Distinct().ToList();
            // The flux agents: infected machines all over the address space.
            var agents = Enumerable.Range(0, 400).Select(_ => PublicAddress(r)).Distinct().ToList();
            var time = scenario.Start.AddSeconds(1);
            ushort id = 1;

            // Fast flux: every name asked several times by different bots; each answer is 5 agents, TTL 0..300.
            for (int round = 0; round < 6 * scenario.Scale; round++)
            {
                for (int n = 0; n < names.Count; n++)
                {
                    var bot = bots[r.Next(bots.Count)];
                    var answer = Enumerable.Range(0, 5).Select(_ => agents[r.Next(agents.Count)]).Distinct().ToList();
                    bool doubleFlux = n < DoubleFluxDomainCount;
                    if (doubleFlux)
                    {
                        answer[0] = relay; // the double-flux names resolve to the infected host itself
                    }

                    uint ttl = (uint)r.Next(0, 300);
                    var ns = doubleFlux
                        ? new List<(string, IPAddress)> { ("ns1." + Zone(names[n]), agents[r.Next(agents.Count)]), ("ns2." + Zone(names[n]), agents[r.Next(agents.Count)]) }
                        : new List<(string, IPAddress)>();
                    ushort port = (ushort)(1024 + r.Next(60000));
                    time = time.AddMilliseconds(20 + r.Next(200));
                    frames.Add(Udp(time, bot, port, relay, 53, Query(id, names[n])));
                    frames.Add(Udp(time.AddMilliseconds(1 + r.Next(5)), relay, 53, bot, port, Response(id, names[n], answer, ttl, ns, 600)));
                    id++;
                }
            }

            // Benign: the host asks its resolver for stable names and the CDN; the resolver answers from one /24.
            var cdn = Enumerable.Range(10, 8).Select(i => IPAddress.Parse("203.69.138." + i)).ToList();
            var stable = StableNames.Select(_ => PublicAddress(r)).ToList();
            var resolver = scenario.Resolver;
            var benign = scenario.Start;
            for (int i = 0; i < 120; i++)
            {
                benign = benign.AddSeconds(2 + r.Next(20));
                ushort port = (ushort)(1024 + r.Next(60000));
                if (i % 2 == 0)
                {
                    var answer = cdn.OrderBy(_ => r.Next()).Take(4).ToList();
                    frames.Add(Udp(benign, relay, port, resolver, 53, Query(id, CdnName)));
                    frames.Add(Udp(benign.AddMilliseconds(3), resolver, 53, relay, port, Response(id, CdnName, answer, 20, new List<(string, IPAddress)>(), 86400)));
                }
                else
                {
                    int k = r.Next(StableNames.Length);
                    frames.Add(Udp(benign, relay, port, resolver, 53, Query(id, StableNames[k])));
                    frames.Add(Udp(benign.AddMilliseconds(3), resolver, 53, relay, port, Response(id, StableNames[k], new List<IPAddress> { stable[k] }, 3600, new List<(string, IPAddress)>(), 86400)));
                }

                id++;
            }
        }

        private static string Zone(string name) => name.StartsWith("www.", StringComparison.Ordinal) ? name.Substring(4) : name;

        public static List<string> FluxNames(Random r)
        {
            var names = new List<string>(KnownFluxNames);
            var seen = new HashSet<string>(names);
            while (names.Count < FluxDomainCount)
            {
                string label = string.Concat(Enumerable.Range(0, 2 + r.Next(3)).Select(_ => Syllables[r.Next(Syllables.Length)]));
                string name = label + "." + Tlds[r.Next(Tlds.Length)];
                if (seen.Add(name))
                {
                    names.Add(name);
                }
            }

            return names;
        }

        internal static IPAddress PublicAddress(Random r)
        {
            while (true)
            {
                int a = r.Next(1, 224);
                if (a == 10 || a == 127 || a == 172 || a == 192 || a == 100 || a == 169 || a == 140)
                {
                    continue;
                }

                return new IPAddress(new[] { (byte)a, (byte)r.Next(256), (byte)r.Next(256), (byte)r.Next(1, 255) });
            }
        }

        internal static byte[] Query(ushort id, string name)
        {
            var m = new List<byte>();
            Header(m, id, 0x0100, 1, 0, 0, 0);
            m.AddRange(EncodeName(name));
            m.AddRange(new byte[] { 0, 1, 0, 1 });
            return m.ToArray();
        }

        /// <summary>A response with compression: answers point back at the question; NS in authority, glue in additional.</summary>
        internal static byte[] Response(ushort id, string name, IReadOnlyList<IPAddress> answer, uint ttl, IReadOnlyList<(string Name, IPAddress Address)> ns, uint nsTtl)
        {
            var m = new List<byte>();
            Header(m, id, 0x8180, 1, answer.Count, ns.Count, ns.Count);
            m.AddRange(EncodeName(name));
            m.AddRange(new byte[] { 0, 1, 0, 1 });
            foreach (var a in answer)
            {
                m.AddRange(new byte[] { 0xC0, 12 });
                Record(m, (ushort)(a.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? 28 : 1), ttl, a.GetAddressBytes());
            }

            var nsOffsets = new List<int>();
            foreach (var (nsName, _) in ns)
            {
                m.AddRange(new byte[] { 0xC0, 12 });
                var data = EncodeName(nsName);
                nsOffsets.Add(m.Count + 10);
                Record(m, 2, nsTtl, data);
            }

            for (int i = 0; i < ns.Count; i++)
            {
                m.Add((byte)(0xC0 | (nsOffsets[i] >> 8)));
                m.Add((byte)nsOffsets[i]);
                Record(m, 1, ttl, ns[i].Address.GetAddressBytes());
            }

            return m.ToArray();
        }

        private static void Header(List<byte> m, ushort id, ushort flags, int qd, int an, int ns, int ar)
        {
            foreach (int v in new[] { id, flags, qd, an, ns, ar })
            {
                m.Add((byte)(v >> 8));
                m.Add((byte)v);
            }
        }

        private static void Record(List<byte> m, ushort type, uint ttl, byte[] data)
        {
            m.AddRange(new[] { (byte)(type >> 8), (byte)type, (byte)0, (byte)1, (byte)(ttl >> 24), (byte)(ttl >> 16), (byte)(ttl >> 8), (byte)ttl, (byte)(data.Length >> 8), (byte)data.Length });
            m.AddRange(data);
        }

        internal static byte[] EncodeName(string name)
        {
            var bytes = new List<byte>();
            foreach (var label in name.Split('.', StringSplitOptions.RemoveEmptyEntries))
            {
                bytes.Add((byte)label.Length);
                bytes.AddRange(Encoding.ASCII.GetBytes(label));
            }

            bytes.Add(0);
            return bytes.ToArray();
        }

        internal static CapturedFrame Udp(DateTime time, IPAddress source, ushort sourcePort, IPAddress destination, ushort destinationPort, byte[] payload)
        {
            var udp = new UdpPacket(sourcePort, destinationPort) { PayloadData = payload };
            var ip = new IPv4Packet(source, destination) { PayloadPacket = udp, TimeToLive = 64 };
            udp.UpdateCalculatedValues();
            udp.UpdateUdpChecksum();
            ip.UpdateCalculatedValues();
            ip.UpdateIPChecksum();
            var eth = new EthernetPacket(PhysicalAddress.Parse("00-16-3E-01-4D-01"), PhysicalAddress.Parse("00-16-3E-01-4D-4D"), EthernetType.IPv4) { PayloadPacket = ip };
            return new CapturedFrame(time, eth.Bytes);
        }
    }
}
