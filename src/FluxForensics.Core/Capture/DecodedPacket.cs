using System;

namespace FluxForensics.Capture
{
    public enum TransportProtocol : byte
    {
        Other = 0,
        Tcp = 6,
        Udp = 17,
    }

    [Flags]
    public enum TcpFlags : byte
    {
        None = 0,
        Fin = 0x01,
        Syn = 0x02,
        Rst = 0x04,
        Psh = 0x08,
        Ack = 0x10,
        Urg = 0x20,
    }

    /// <summary>
    /// One packet decoded down to the transport layer. A ref struct over the reader's buffer: valid only during the
    /// call that receives it; analysers copy what they keep. No allocation per packet.
    /// </summary>
    public readonly ref struct DecodedPacket
    {
        public DecodedPacket(
            long timestampTicks, NetAddress source, NetAddress destination, ushort sourcePort, ushort destinationPort,
            TransportProtocol protocol, TcpFlags tcpFlags, uint sequence, uint acknowledgment, ReadOnlySpan<byte> payload,
            int wireLength, bool payloadTruncated)
        {
            TimestampTicks = timestampTicks;
            Source = source;
            Destination = destination;
            SourcePort = sourcePort;
            DestinationPort = destinationPort;
            Protocol = protocol;
            TcpFlags = tcpFlags;
            Sequence = sequence;
            Acknowledgment = acknowledgment;
            Payload = payload;
            WireLength = wireLength;
            PayloadTruncated = payloadTruncated;
        }

        /// <summary>UTC ticks (<see cref="DateTime.Ticks"/>, DateTimeKind.Utc).</summary>
        public long TimestampTicks { get; }
        public NetAddress Source { get; }
        public NetAddress Destination { get; }
        public ushort SourcePort { get; }
        public ushort DestinationPort { get; }
        public TransportProtocol Protocol { get; }
        public TcpFlags TcpFlags { get; }
        public uint Sequence { get; }
        public uint Acknowledgment { get; }

        /// <summary>The transport payload as captured (may be shorter than on the wire, see <see cref="PayloadTruncated"/>).</summary>
        public ReadOnlySpan<byte> Payload { get; }

        /// <summary>Length of the frame on the wire.</summary>
        public int WireLength { get; }

        /// <summary>True when the snap length cut the payload short.</summary>
        public bool PayloadTruncated { get; }

        public DateTime Timestamp => new DateTime(TimestampTicks, DateTimeKind.Utc);
    }
}
