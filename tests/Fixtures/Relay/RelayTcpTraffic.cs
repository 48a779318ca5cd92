using System;
using System.Buffers.Binary;
using System.Net;
using System.Text;

namespace FluxForensics.Fixtures.Relay
{
    /// <summary>Receives a generated frame (Ethernet, IPv4, TCP) and its time.</summary>
    internal delegate void FrameSink(DateTime time, byte[] frame);

    /// <summary>
    /// One TCP connection written as real frames: handshake, data in MSS-sized segments each acknowledged, FIN/ACK
    /// close. Checksums are correct, so tcpdump and Wireshark read the result as they would a live capture.
    /// </summary>
    internal sealed class RelayTcpConnection
    {
        private const int Mss = 1460;
        private readonly FrameSink _sink;
        private readonly uint _client;
        private readonly uint _server;
        private readonly ushort _clientPort;
        private readonly ushort _serverPort;
        private uint _clientSeq;
        private uint _serverSeq;
        private ushort _ipId;

        public RelayTcpConnection(FrameSink sink, IPAddress client, ushort clientPort, IPAddress server, ushort serverPort, DateTime start, Random random)
        {
            _sink = sink;
            _client = ToUInt(client);
            _server = ToUInt(server);
            _clientPort = clientPort;
            _serverPort = serverPort;
            Time = start;
            _clientSeq = (uint)random.Next();
            _serverSeq = (uint)random.Next();
            _ipId = (ushort)random.Next(65536);
        }

        public DateTime Time { get; set; }

        /// <summary>Time between a packet and the next.</summary>
        public TimeSpan Step { get; set; } = TimeSpan.FromMilliseconds(2);

        /// <summary>Whether each data segment gets its own ACK from the other side.</summary>
        public bool AckEachSegment { get; set; } = true;

        public RelayTcpConnection Open()
        {
            Emit(true, 0x02, _clientSeq, 0, default);
            _clientSeq++;
            Emit(false, 0x12, _serverSeq, _clientSeq, default);
            _serverSeq++;
            Emit(true, 0x10, _clientSeq, _serverSeq, default);
            return this;
        }

        public RelayTcpConnection C(string text) => Send(true, Encoding.ASCII.GetBytes(text));

        public RelayTcpConnection S(string text) => Send(false, Encoding.ASCII.GetBytes(text));

        public RelayTcpConnection Send(bool fromClient, byte[] data)
        {
            for (int i = 0; i < data.Length; i += Mss)
            {
                var piece = new ReadOnlySpan<byte>(data, i, Math.Min(Mss, data.Length - i));
                if (fromClient)
                {
                    Emit(true, 0x18, _clientSeq, _serverSeq, piece);
                    _clientSeq += (uint)piece.Length;
                    if (AckEachSegment) Emit(false, 0x10, _serverSeq, _clientSeq, default);
                }
                else
                {
                    Emit(false, 0x18, _serverSeq, _clientSeq, piece);
                    _serverSeq += (uint)piece.Length;
                    if (AckEachSegment) Emit(true, 0x10, _clientSeq, _serverSeq, default);
                }
            }

            return this;
        }

        public void Close()
        {
            Emit(true, 0x11, _clientSeq, _serverSeq, default);
            _clientSeq++;
            Emit(false, 0x11, _serverSeq, _clientSeq, default);
            _serverSeq++;
            Emit(true, 0x10, _clientSeq, _serverSeq, default);
        }

        private void Emit(bool fromClient, byte flags, uint seq, uint ack, ReadOnlySpan<byte> payload)
        {
            _sink(Time, Frame(fromClient ? _client : _server, fromClient ? _server : _client,
                fromClient ? _clientPort : _serverPort, fromClient ? _serverPort : _clientPort, seq, ack, flags, payload, _ipId++));
            Time += Step;
        }

        internal static uint ToUInt(IPAddress address) => BinaryPrimitives.ReadUInt32BigEndian(address.GetAddressBytes());

        internal static byte[] Frame(uint src, uint dst, ushort srcPort, ushort dstPort, uint seq, uint ack, byte flags, ReadOnlySpan<byte> payload, ushort ipId)
        {
            var frame = new byte[14 + 20 + 20 + payload.Length];
            var f = frame.AsSpan();
            // Ethernet: locally administered MACs derived from the addresses.
            f[0] = 0x02; BinaryPrimitives.WriteUInt32BigEndian(f.Slice(1), dst); f[5] = 0x01;
            f[6] = 0x02; BinaryPrimitives.WriteUInt32BigEndian(f.Slice(7), src); f[11] = 0x01;
            BinaryPrimitives.WriteUInt16BigEndian(f.Slice(12), 0x0800);
            var ip = f.Slice(14, 20);
            ip[0] = 0x45;
            BinaryPrimitives.WriteUInt16BigEndian(ip.Slice(2), (ushort)(40 + payload.Length));
            BinaryPrimitives.WriteUInt16BigEndian(ip.Slice(4), ipId);
            ip[6] = 0x40;
            ip[8] = 64;
            ip[9] = 6;
            BinaryPrimitives.WriteUInt32BigEndian(ip.Slice(12), src);
            BinaryPrimitives.WriteUInt32BigEndian(ip.Slice(16), dst);
            BinaryPrimitives.WriteUInt16BigEndian(ip.Slice(10), Checksum(ip, 0));
            var tcp = f.Slice(34);
            BinaryPrimitives.WriteUInt16BigEndian(tcp, srcPort);
            BinaryPrimitives.WriteUInt16BigEndian(tcp.Slice(2), dstPort);
            BinaryPrimitives.WriteUInt32BigEndian(tcp.Slice(4), seq);
            BinaryPrimitives.WriteUInt32BigEndian(tcp.Slice(8), (flags & 0x10) != 0 ? ack : 0);
            tcp[12] = 0x50;
            tcp[13] = flags;
            BinaryPrimitives.WriteUInt16BigEndian(tcp.Slice(14), 64240);
            payload.CopyTo(tcp.Slice(20));
            uint pseudo = (src >> 16) + (src & 0xFFFF) + (dst >> 16) + (dst & 0xFFFF) + 6u + (uint)tcp.Length;
            BinaryPrimitives.WriteUInt16BigEndian(tcp.Slice(16), Checksum(tcp, pseudo));
            return frame;
        }

        internal static ushort Checksum(ReadOnlySpan<byte> data, uint sum)
        {
            int i = 0;
            for (; i + 1 < data.Length; i += 2)
            {
                sum += (uint)(data[i] << 8 | data[i + 1]);
            }

            if (i < data.Length)
            {
                sum += (uint)(data[i] << 8);
            }

            while ((sum >> 16) != 0)
            {
                sum = (sum & 0xFFFF) + (sum >> 16);
            }

            return (ushort)~sum;
        }
    }

    /// <summary>
    /// A conversation carried through a relay: the inbound leg (client → relay) and the outbound leg (relay → server)
    /// it causes, the relay forwarding bytes each way a moment after it receives them.
    /// </summary>
    internal sealed class RelayedConversation
    {
        private static readonly TimeSpan Hop = TimeSpan.FromMilliseconds(1);

        public RelayedConversation(FrameSink sink, IPAddress client, ushort clientPort, IPAddress relay, ushort relayPort, ushort relayOutPort,
            IPAddress server, ushort serverPort, DateTime start, Random random)
        {
            Inbound = new RelayTcpConnection(sink, client, clientPort, relay, relayPort, start, random).Open();
            Outbound = new RelayTcpConnection(sink, relay, relayOutPort, server, serverPort, Inbound.Time + Hop, random).Open();
        }

        public RelayTcpConnection Inbound { get; }
        public RelayTcpConnection Outbound { get; }

        /// <summary>Client bytes: to the relay, then (same bytes, or rewritten ones) on to the server.</summary>
        public RelayedConversation C(string text, string? forwarded = null)
        {
            Sync(Inbound, Outbound);
            Inbound.C(text);
            Outbound.Time = Max(Outbound.Time, Inbound.Time + Hop);
            Outbound.C(forwarded ?? text);
            return this;
        }

        /// <summary>Server bytes: to the relay, then the same bytes back to the client.</summary>
        public RelayedConversation S(byte[] data)
        {
            Sync(Outbound, Inbound);
            Outbound.Send(false, data);
            Inbound.Time = Max(Inbound.Time, Outbound.Time + Hop);
            Inbound.Send(false, data);
            return this;
        }

        public RelayedConversation S(string text) => S(Encoding.ASCII.GetBytes(text));

        public void Close()
        {
            Sync(Outbound, Inbound);
            Outbound.Close();
            Inbound.Time = Max(Inbound.Time, Outbound.Time + Hop);
            Inbound.Close();
        }

        public DateTime End => Max(Inbound.Time, Outbound.Time);

        private static void Sync(RelayTcpConnection first, RelayTcpConnection second) => first.Time = Max(first.Time, second.Time);

        private static DateTime Max(DateTime a, DateTime b) => a > b ? a : b;
    }
}
