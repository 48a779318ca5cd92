using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using FluxForensics.Capture;
using FluxForensics.Fixtures.Relay;

namespace FluxForensics.Fixtures.Capture
{
    /// <summary>
    /// The realistic relay-heavy benchmark capture: the incident sample (every <see cref="IIncidentTraffic"/> part, as
    /// <c>incident-capture</c> writes it, with bigger relayed mail and EXE downloads so most bytes are relayed content)
    /// repeated until there are at least N packets. Each copy starts after the previous one ends, and gets fresh client
    /// ports, fresh TCP initial sequence numbers (the same shift for every segment of a direction, so each stream still
    /// reassembles without a hole) and fresh DNS transaction ids (query and answer alike). Checksums are recomputed.
    /// Classic pcap, written as it goes: memory holds one copy of the sample, whatever N is.
    /// </summary>
    public sealed class RelayMixCommand : IFixtureCommand
    {
        public string Name => "bench-relay-mix";
        public string Usage => "bench-relay-mix OUT.pcap [--packets N] [--seed S] [--exe-bytes B] [--mail-bytes B] (incident sample repeated to >= N packets, default 500000)";

        public int Run(string[] args)
        {
            if (args.Length < 1 || args[0].StartsWith("--", StringComparison.Ordinal))
            {
                throw new ArgumentException(Usage);
            }

            int i = Array.IndexOf(args, "--packets");
            long packets = i >= 0 && i + 1 < args.Length ? long.Parse(args[i + 1], CultureInfo.InvariantCulture) : 500_000;
            var options = new RelayMixOptions
            {
                Seed = IncidentCaptureCommand.IntOption(args, "--seed", RelayMixOptions.DefaultSeed),
                ExeExtraBytes = IncidentCaptureCommand.IntOption(args, "--exe-bytes", RelayMixOptions.DefaultExeExtraBytes),
                MailAttachmentBytes = IncidentCaptureCommand.IntOption(args, "--mail-bytes", RelayMixOptions.DefaultMailAttachmentBytes),
            };
            var watch = Stopwatch.StartNew();
            var mix = RelayMix.Write(Path.GetFullPath(args[0]), packets, options);
            var inv = CultureInfo.InvariantCulture;
            Console.WriteLine(
                $"{args[0]}: packets={mix.Packets} bytes={mix.FrameBytes} average_bytes={mix.AverageFrameBytes.ToString("F1", inv)} " +
                $"copies={mix.Copies} packets_per_copy={mix.PacketsPerCopy} file_bytes={mix.FileBytes} seconds={watch.Elapsed.TotalSeconds.ToString("F1", inv)}");
            return 0;
        }
    }

    /// <summary>How the relay mix is made (the defaults are the benchmark's).</summary>
    public sealed class RelayMixOptions
    {
        public const int DefaultSeed = 20120514;

        /// <summary>Added to each relayed EXE's 12–52 KB: real droppers of the kind were a few hundred KB.</summary>
        public const int DefaultExeExtraBytes = 400_000;

        /// <summary>Each accepted relayed mail's attachment (before base64).</summary>
        public const int DefaultMailAttachmentBytes = 48_000;

        public int Seed { get; set; } = DefaultSeed;
        public int ExeExtraBytes { get; set; } = DefaultExeExtraBytes;
        public int MailAttachmentBytes { get; set; } = DefaultMailAttachmentBytes;

        /// <summary>Copies written even when fewer would reach the asked packets (tests use 2).</summary>
        public int MinimumCopies { get; set; } = 1;
    }

    /// <summary>What <see cref="RelayMix.Write"/> wrote.</summary>
    public sealed class RelayMixResult
    {
        public long Packets { get; internal set; }
        public long FrameBytes { get; internal set; }
        public long FileBytes { get; internal set; }
        public int Copies { get; internal set; }
        public int PacketsPerCopy { get; internal set; }

        /// <summary>The first packet's time of copy 0; copy k starts <see cref="CopyPeriod"/> × k later.</summary>
        public DateTime FirstPacketTime { get; internal set; }

        /// <summary>How far each copy is shifted from the one before (longer than the sample lasts).</summary>
        public TimeSpan CopyPeriod { get; internal set; }

        public double AverageFrameBytes => Packets == 0 ? 0 : FrameBytes / (double)Packets;

        /// <summary>Which copy a time falls in.</summary>
        public int CopyOf(DateTime time) => (int)((time - FirstPacketTime).Ticks / CopyPeriod.Ticks);
    }

    /// <summary>Writes the relay mix (see <see cref="RelayMixCommand"/>).</summary>
    public static class RelayMix
    {
        private const ushort DnsPort = 53;

        public static RelayMixResult Write(string path, long minimumPackets, RelayMixOptions options)
        {
            var scenario = new IncidentScenario(options.Seed, 1)
            {
                ExeExtraBytes = Math.Max(0, options.ExeExtraBytes),
                MailAttachmentBytes = Math.Max(0, options.MailAttachmentBytes),
            };
            var frames = IncidentCaptureCommand.Frames(scenario, out _);
            if (frames.Count == 0)
            {
                throw new InvalidOperationException("The incident sample has no packets.");
            }

            var plan = Plan(frames, out var flows);
            var first = frames[0].TimestampUtc;
            var span = frames[frames.Count - 1].TimestampUtc - first;
            // Whole minutes, at least one minute of quiet between copies.
            var period = TimeSpan.FromMinutes(Math.Ceiling(span.TotalMinutes) + 1);
            int copies = (int)Math.Max(Math.Max(1, options.MinimumCopies), (minimumPackets + frames.Count - 1) / frames.Count);
            var random = new Random(options.Seed ^ 0x6D1C);
            var result = new RelayMixResult { Copies = copies, PacketsPerCopy = frames.Count, FirstPacketTime = first, CopyPeriod = period };
            var clientPort = new ushort[flows.Count];
            var seqShift = new uint[flows.Count * 2];
            var scratch = new byte[65536 + 64];
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
            using (var writer = PcapWriter.Create(path, PacketDecoder.LinkTypeEthernet))
            {
                for (int copy = 0; copy < copies; copy++)
                {
                    Refresh(flows, clientPort, seqShift, random);
                    ushort dnsIdMask = (ushort)random.Next(1, 65536);
                    long shift = period.Ticks * copy;
                    for (int n = 0; n < frames.Count; n++)
                    {
                        var frame = frames[n].EthernetFrame;
                        var packet = scratch.AsSpan(0, frame.Length);
                        frame.AsSpan().CopyTo(packet);
                        Rewrite(packet, plan[n], flows, clientPort, seqShift, dnsIdMask);
                        writer.WritePacket(frames[n].TimestampUtc.Ticks + shift, packet);
                        result.Packets++;
                        result.FrameBytes += frame.Length;
                    }
                }
            }

            result.FileBytes = new FileInfo(path).Length;
            return result;
        }

        /// <summary>One flow of the sample (TCP connection or UDP exchange): its client end, which gets a fresh port per copy.</summary>
        private sealed class Flow
        {
            public Flow(bool tcp, uint client, ushort port, uint server, ushort serverPort)
            {
                Tcp = tcp;
                Client = client;
                ClientPort = port;
                Server = server;
                ServerPort = serverPort;
            }

            public bool Tcp { get; }
            public uint Client { get; }
            public ushort ClientPort { get; }
            public uint Server { get; }
            public ushort ServerPort { get; }
        }

        /// <summary>Per frame: which flow (-1: not IPv4 TCP/UDP, left as it is) and whether it goes client → server.</summary>
        private readonly struct FramePlan
        {
            public FramePlan(int flow, bool fromClient)
            {
                Flow = flow;
                FromClient = fromClient;
            }

            public int Flow { get; }
            public bool FromClient { get; }
        }

        private static FramePlan[] Plan(List<CapturedFrame> frames, out List<Flow> flows)
        {
            flows = new List<Flow>();
            var index = new Dictionary<(bool, ulong, ulong), int>();
            var plan = new FramePlan[frames.Count];
            for (int n = 0; n < frames.Count; n++)
            {
                var f = frames[n].EthernetFrame;
                plan[n] = new FramePlan(-1, false);
                if (!Ip(f, out int l4, out int l4Length, out byte protocol) || (protocol != 6 && protocol != 17) || l4Length < (protocol == 6 ? 20 : 8))
                {
                    continue;
                }

                bool tcp = protocol == 6;
                uint src = BinaryPrimitives.ReadUInt32BigEndian(f.AsSpan(26));
                uint dst = BinaryPrimitives.ReadUInt32BigEndian(f.AsSpan(30));
                ushort sport = BinaryPrimitives.ReadUInt16BigEndian(f.AsSpan(l4));
                ushort dport = BinaryPrimitives.ReadUInt16BigEndian(f.AsSpan(l4 + 2));
                ulong a = (ulong)src << 16 | sport;
                ulong b = (ulong)dst << 16 | dport;
                if (index.TryGetValue((tcp, a, b), out int known))
                {
                    plan[n] = new FramePlan(known, true);
                    continue;
                }

                if (index.TryGetValue((tcp, b, a), out known))
                {
                    plan[n] = new FramePlan(known, false);
                    continue;
                }

                // Who is the client: the SYN's sender; for UDP (and TCP picked up without a SYN) the end that is not
                // DNS's port, else the higher port.
                bool sourceIsClient;
                if (tcp && (f[l4 + 13] & 0x12) == 0x02)
                {
                    sourceIsClient = true;
                }
                else if (tcp && (f[l4 + 13] & 0x12) == 0x12)
                {
                    sourceIsClient = false;
                }
                else
                {
                    sourceIsClient = dport == DnsPort || (sport != DnsPort && sport > dport);
                }

                var flow = sourceIsClient ? new Flow(tcp, src, sport, dst, dport) : new Flow(tcp, dst, dport, src, sport);
                flows.Add(flow);
                index[(tcp, (ulong)flow.Client << 16 | flow.ClientPort, (ulong)flow.Server << 16 | flow.ServerPort)] = flows.Count - 1;
                plan[n] = new FramePlan(flows.Count - 1, sourceIsClient);
            }

            return plan;
        }

        /// <summary>Fresh client ports (no two flows of one client address share one within a copy) and sequence shifts.</summary>
        private static void Refresh(List<Flow> flows, ushort[] clientPort, uint[] seqShift, Random random)
        {
            var used = new HashSet<(bool, uint, ushort)>();
            for (int i = 0; i < flows.Count; i++)
            {
                ushort port;
                do
                {
                    port = (ushort)random.Next(1025, 65000);
                }
                while (!used.Add((flows[i].Tcp, flows[i].Client, port)));

                clientPort[i] = port;
                seqShift[2 * i] = (uint)random.Next(1, int.MaxValue) * 2u + 1u;
                seqShift[2 * i + 1] = (uint)random.Next(1, int.MaxValue) * 2u + 1u;
            }
        }

        private static void Rewrite(Span<byte> f, FramePlan plan, List<Flow> flows, ushort[] clientPort, uint[] seqShift, ushort dnsIdMask)
        {
            if (plan.Flow < 0 || !Ip(f, out int l4, out int l4Length, out byte protocol))
            {
                return;
            }

            var flow = flows[plan.Flow];
            var l4Span = f.Slice(l4, l4Length);
            BinaryPrimitives.WriteUInt16BigEndian(l4Span.Slice(plan.FromClient ? 0 : 2), clientPort[plan.Flow]);
            uint src = BinaryPrimitives.ReadUInt32BigEndian(f.Slice(26));
            uint dst = BinaryPrimitives.ReadUInt32BigEndian(f.Slice(30));
            if (protocol == 6)
            {
                int direction = plan.FromClient ? 0 : 1;
                uint seq = BinaryPrimitives.ReadUInt32BigEndian(l4Span.Slice(4));
                BinaryPrimitives.WriteUInt32BigEndian(l4Span.Slice(4), seq + seqShift[2 * plan.Flow + direction]);
                if ((l4Span[13] & 0x10) != 0)
                {
                    uint ack = BinaryPrimitives.ReadUInt32BigEndian(l4Span.Slice(8));
                    BinaryPrimitives.WriteUInt32BigEndian(l4Span.Slice(8), ack + seqShift[2 * plan.Flow + (1 - direction)]);
                }

                BinaryPrimitives.WriteUInt16BigEndian(l4Span.Slice(16), 0);
                BinaryPrimitives.WriteUInt16BigEndian(l4Span.Slice(16), RelayTcpConnection.Checksum(l4Span, Pseudo(src, dst, 6, l4Length)));
            }
            else
            {
                int payload = l4Length - 8;
                if (flow.ServerPort == DnsPort && payload >= 12)
                {
                    // The transaction id: the same mask for query and answer, so they still match.
                    var id = l4Span.Slice(8, 2);
                    BinaryPrimitives.WriteUInt16BigEndian(id, (ushort)(BinaryPrimitives.ReadUInt16BigEndian(id) ^ dnsIdMask));
                }

                bool hadChecksum = BinaryPrimitives.ReadUInt16BigEndian(l4Span.Slice(6)) != 0;
                BinaryPrimitives.WriteUInt16BigEndian(l4Span.Slice(6), 0);
                if (hadChecksum)
                {
                    ushort sum = RelayTcpConnection.Checksum(l4Span, Pseudo(src, dst, 17, l4Length));
                    BinaryPrimitives.WriteUInt16BigEndian(l4Span.Slice(6), sum == 0 ? (ushort)0xFFFF : sum);
                }
            }

            // Addresses and IP ids are kept; the header checksum is recomputed all the same (cheap, and always right).
            var ipHeader = f.Slice(14, l4 - 14);
            BinaryPrimitives.WriteUInt16BigEndian(ipHeader.Slice(10), 0);
            BinaryPrimitives.WriteUInt16BigEndian(ipHeader.Slice(10), RelayTcpConnection.Checksum(ipHeader, 0));
        }

        /// <summary>An Ethernet II IPv4 frame, unfragmented: where the transport header starts and how long it is.</summary>
        private static bool Ip(ReadOnlySpan<byte> f, out int l4, out int l4Length, out byte protocol)
        {
            l4 = l4Length = 0;
            protocol = 0;
            if (f.Length < 34 || BinaryPrimitives.ReadUInt16BigEndian(f.Slice(12)) != 0x0800 || (f[14] >> 4) != 4)
            {
                return false;
            }

            int ihl = (f[14] & 0x0F) * 4;
            int total = BinaryPrimitives.ReadUInt16BigEndian(f.Slice(16));
            bool fragment = (BinaryPrimitives.ReadUInt16BigEndian(f.Slice(20)) & 0x3FFF) != 0;
            if (ihl < 20 || total < ihl || 14 + total > f.Length || fragment)
            {
                return false;
            }

            l4 = 14 + ihl;
            l4Length = total - ihl;
            protocol = f[23];
            return true;
        }

        private static uint Pseudo(uint src, uint dst, byte protocol, int length) =>
            (src >> 16) + (src & 0xFFFF) + (dst >> 16) + (dst & 0xFFFF) + protocol + (uint)length;
    }
}
