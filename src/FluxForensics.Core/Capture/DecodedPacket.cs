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
            : this(timestampTicks, source, destination, sourcePort, destinationPort, protocol, tcpFlags, sequence, acknowledgment, payload,
                wireLength, payloadTruncated, isFragment: false)
        {
        }

        public DecodedPacket(
            long timestampTicks, NetAddress source, NetAddress destination, ushort sourcePort, ushort destinationPort,
            TransportProtocol protocol, TcpFlags tcpFlags, uint sequence, uint acknowledgment, ReadOnlySpan<byte> payload,
            int wireLength, bool payloadTruncated, bool isFragment)
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
            IsFragment = isFragment;
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

        /// <summary>True when the payload is shorter than the packet claims: the snap length cut it, or it is the first fragment of a fragmented datagram (<see cref="IsFragment"/>).</summary>
        public bool PayloadTruncated { get; }

        /// <summary>True for the first fragment of a fragmented IPv4/IPv6 datagram (later fragments are not decoded): the payload is only its beginning.</summary>
        public bool IsFragment { get; }

        public DateTime Timestamp => new DateTime(TimestampTicks, DateTimeKind.Utc);
    }
}
