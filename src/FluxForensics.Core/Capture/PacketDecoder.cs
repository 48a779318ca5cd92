using System;
using System.Runtime.CompilerServices;
using System.Buffers.Binary;

namespace FluxForensics.Capture
{
    /// <summary>What <see cref="PacketDecoder.Decode"/> made of a frame.</summary>
    public enum DecodeStatus
    {
        /// <summary>An IPv4/IPv6 packet, decoded to the transport layer (TCP, UDP, or <see cref="TransportProtocol.Other"/>).</summary>
        Decoded = 0,

        /// <summary>Decoded, but the snap length cut the packet short (<see cref="DecodedPacket.PayloadTruncated"/> is set).</summary>
        DecodedTruncated,

        /// <summary>Not an IP packet (ARP, LLDP, 802.3 LLC …): nothing to report.</summary>
        NotIp,

        /// <summary>An IPv4/IPv6 fragment after the first: nothing to report (the first fragment carries the ports).</summary>
        LaterFragment,

        /// <summary>The link type is not one the decoder knows.</summary>
        UnsupportedLinkType,

        /// <summary>The snap length cut the frame inside a link, IP or transport header.</summary>
        HeaderTruncated,

        /// <summary>A header contradicts itself (IPv4 header length &lt; 20, TCP data offset &lt; 5 …).</summary>
        Malformed,
    }

    /// <summary>
    /// Decodes a captured frame from its link layer down to TCP/UDP without allocating: Ethernet (802.1Q/802.1ad/QinQ,
    /// PPPoE, MPLS), Linux cooked SLL and SLL2, raw IP, BSD NULL/LOOP; IPv4 (options skipped, only the first fragment
    /// decoded) and IPv6 (extension headers, bounded). Nothing read from the frame is trusted as a length.
    /// </summary>
    public static class PacketDecoder
    {
        public const int LinkTypeNull = 0;
        public const int LinkTypeEthernet = 1;
        public const int LinkTypePpp = 9;
        public const int LinkTypeRawBsd12 = 12;
        public const int LinkTypeRawBsd14 = 14;
        public const int LinkTypeRaw = 101;
        public const int LinkTypeLoop = 108;
        public const int LinkTypeLinuxSll = 113;
        public const int LinkTypeIPv4 = 228;
        public const int LinkTypeIPv6 = 229;
        public const int LinkTypeLinuxSll2 = 276;

        private const int MaxVlanTags = 8;
        private const int MaxMplsLabels = 8;
        private const int MaxIPv6ExtensionHeaders = 8;

        public static bool IsSupportedLinkType(int linkType) => linkType switch
        {
            LinkTypeNull or LinkTypeEthernet or LinkTypePpp or LinkTypeRawBsd12 or LinkTypeRawBsd14 or LinkTypeRaw or LinkTypeLoop or
                LinkTypeLinuxSll or LinkTypeIPv4 or LinkTypeIPv6 or LinkTypeLinuxSll2 => true,
            _ => false,
        };

        /// <summary>
        /// Decodes <paramref name="frame"/> (captured bytes of a frame of link type <paramref name="linkType"/>,
        /// <paramref name="wireLength"/> bytes on the wire). <paramref name="packet"/> is set when the result is
        /// <see cref="DecodeStatus.Decoded"/> or <see cref="DecodeStatus.DecodedTruncated"/>.
        /// </summary>
        [MethodImpl(Jit.Hot)]
        public static DecodeStatus Decode(int linkType, long timestampTicks, ReadOnlySpan<byte> frame, int wireLength, out DecodedPacket packet)
        {
            var status = DecodeLink(linkType, timestampTicks, frame, wireLength, out packet);
            if (wireLength <= frame.Length)
            {
                // Nothing was cut by the snap length: a header that claims more than the frame holds is lying.
                if (status == DecodeStatus.DecodedTruncated)
                {
                    status = DecodeStatus.Decoded;
                }
                else if (status == DecodeStatus.HeaderTruncated)
                {
                    status = DecodeStatus.Malformed;
                }
            }

            return status;
        }

        [MethodImpl(Jit.Hot)]
        private static DecodeStatus DecodeLink(int linkType, long timestampTicks, ReadOnlySpan<byte> frame, int wireLength, out DecodedPacket packet)
        {
            packet = default;
            int offset;
            int etherType;
            switch (linkType)
            {
                case LinkTypeEthernet:
                    if (frame.Length < 14)
                    {
                        return HeaderCut(frame.Length, wireLength);
                    }

                    etherType = BinaryPrimitives.ReadUInt16BigEndian(frame.Slice(12));
                    offset = 14;
                    break;

                case LinkTypeLinuxSll:
                    if (frame.Length < 16)
                    {
                        return HeaderCut(frame.Length, wireLength);
                    }

                    etherType = BinaryPrimitives.ReadUInt16BigEndian(frame.Slice(14));
                    offset = 16;
                    break;

                case LinkTypeLinuxSll2:
                    if (frame.Length < 20)
                    {
                        return HeaderCut(frame.Length, wireLength);
                    }

                    etherType = BinaryPrimitives.ReadUInt16BigEndian(frame);
                    offset = 20;
                    break;

                case LinkTypeRaw:
                case LinkTypeRawBsd12:
                case LinkTypeRawBsd14:
                    return DecodeIpByVersion(timestampTicks, frame, 0, wireLength, out packet);

                case LinkTypeIPv4:
                    return DecodeIPv4(timestampTicks, frame, 0, wireLength, out packet);

                case LinkTypeIPv6:
                    return DecodeIPv6(timestampTicks, frame, 0, wireLength, out packet);

                case LinkTypeNull:
                case LinkTypeLoop:
                {
                    if (frame.Length < 4)
                    {
                        return HeaderCut(frame.Length, wireLength);
                    }

                    // NULL: the address family in the capturing host's byte order; LOOP: in network order.
                    uint family = linkType == LinkTypeLoop
                        ? BinaryPrimitives.ReadUInt32BigEndian(frame)
                        : BinaryPrimitives.ReadUInt32LittleEndian(frame);
                    if (family > 0xFFFF)
                    {
                        family = BinaryPrimitives.ReverseEndianness(family);
                    }

                    return family switch
                    {
                        2 => DecodeIPv4(timestampTicks, frame, 4, wireLength, out packet),
                        10 or 23 or 24 or 28 or 30 => DecodeIPv6(timestampTicks, frame, 4, wireLength, out packet),
                        _ => DecodeStatus.NotIp,
                    };
                }

                case LinkTypePpp:
                {
                    offset = 0;
                    if (frame.Length >= 2 && frame[0] == 0xFF && frame[1] == 0x03)
                    {
                        offset = 2; // HDLC-like address and control
                    }

                    return DecodePpp(timestampTicks, frame, offset, wireLength, out packet);
                }

                default:
                    return DecodeStatus.UnsupportedLinkType;
            }

            return DecodeEtherType(timestampTicks, frame, offset, etherType, wireLength, out packet);
        }

        [MethodImpl(Jit.Hot)]
        private static DecodeStatus DecodeEtherType(long ticks, ReadOnlySpan<byte> frame, int offset, int etherType, int wireLength, out DecodedPacket packet)
        {
            packet = default;
            for (int tags = 0; ; tags++)
            {
                switch (etherType)
                {
                    case 0x0800:
                        return DecodeIPv4(ticks, frame, offset, wireLength, out packet);
                    case 0x86DD:
                        return DecodeIPv6(ticks, frame, offset, wireLength, out packet);
                    case 0x8100: // 802.1Q
                    case 0x88A8: // 802.1ad
                    case 0x9100: // old QinQ
                    case 0x9200:
                        if (tags >= MaxVlanTags)
                        {
                            return DecodeStatus.Malformed;
                        }

                        if (frame.Length < offset + 4)
                        {
                            return HeaderCut(frame.Length, wireLength);
                        }

                        etherType = BinaryPrimitives.ReadUInt16BigEndian(frame.Slice(offset + 2));
                        offset += 4;
                        continue;
                    case 0x8864: // PPPoE session: 6-byte header, then a PPP protocol number
                        if (frame.Length < offset + 6)
                        {
                            return HeaderCut(frame.Length, wireLength);
                        }

                        return DecodePpp(ticks, frame, offset + 6, wireLength, out packet);
                    case 0x8847: // MPLS unicast
                    case 0x8848:
                        for (int label = 0; ; label++)
                        {
                            if (label >= MaxMplsLabels)
                            {
                                return DecodeStatus.Malformed;
                            }

                            if (frame.Length < offset + 4)
                            {
                                return HeaderCut(frame.Length, wireLength);
                            }

                            bool bottom = (frame[offset + 2] & 0x01) != 0;
                            offset += 4;
                            if (bottom)
                            {
                                return DecodeIpByVersion(ticks, frame, offset, wireLength, out packet);
                            }
                        }

                    default:
                        return DecodeStatus.NotIp;
                }
            }
        }

        private static DecodeStatus DecodePpp(long ticks, ReadOnlySpan<byte> frame, int offset, int wireLength, out DecodedPacket packet)
        {
            packet = default;
            if (frame.Length < offset + 2)
            {
                return HeaderCut(frame.Length, wireLength);
            }

            int protocol = BinaryPrimitives.ReadUInt16BigEndian(frame.Slice(offset));
            return protocol switch
            {
                0x0021 => DecodeIPv4(ticks, frame, offset + 2, wireLength, out packet),
                0x0057 => DecodeIPv6(ticks, frame, offset + 2, wireLength, out packet),
                _ => DecodeStatus.NotIp,
            };
        }

        [MethodImpl(Jit.Hot)]
        private static DecodeStatus DecodeIpByVersion(long ticks, ReadOnlySpan<byte> frame, int offset, int wireLength, out DecodedPacket packet)
        {
            packet = default;
            if (frame.Length <= offset)
            {
                return HeaderCut(frame.Length, wireLength);
            }

            return (frame[offset] >> 4) switch
            {
                4 => DecodeIPv4(ticks, frame, offset, wireLength, out packet),
                6 => DecodeIPv6(ticks, frame, offset, wireLength, out packet),
                _ => DecodeStatus.NotIp,
            };
        }

        [MethodImpl(Jit.Hot)]
        private static DecodeStatus DecodeIPv4(long ticks, ReadOnlySpan<byte> frame, int offset, int wireLength, out DecodedPacket packet)
        {
            packet = default;
            if (frame.Length < offset + 20)
            {
                return HeaderCut(frame.Length, wireLength);
            }

            var ip = frame.Slice(offset);
            if (ip[0] >> 4 != 4)
            {
                return DecodeStatus.Malformed;
            }

            int headerLength = (ip[0] & 0x0F) * 4;
            int totalLength = BinaryPrimitives.ReadUInt16BigEndian(ip.Slice(2));
            if (headerLength < 20)
            {
                return DecodeStatus.Malformed;
            }

            if (totalLength == 0)
            {
                totalLength = ip.Length; // TCP segmentation offload on the capturing host leaves it 0
            }
            else if (totalLength < headerLength)
            {
                return DecodeStatus.Malformed;
            }

            if (ip.Length < headerLength)
            {
                return HeaderCut(frame.Length, wireLength);
            }

            int fragment = BinaryPrimitives.ReadUInt16BigEndian(ip.Slice(6));
            if ((fragment & 0x1FFF) != 0)
            {
                return DecodeStatus.LaterFragment;
            }

            bool moreFragments = (fragment & 0x2000) != 0;
            bool cut = totalLength > ip.Length;
            int end = cut ? ip.Length : totalLength; // frame bytes past totalLength are link padding
            var source = NetAddress.FromIPv4(BinaryPrimitives.ReadUInt32BigEndian(ip.Slice(12)));
            var destination = NetAddress.FromIPv4(BinaryPrimitives.ReadUInt32BigEndian(ip.Slice(16)));
            return DecodeTransport(ticks, ip[9], ip.Slice(headerLength, end - headerLength), cut, moreFragments, source, destination, wireLength, out packet);
        }

        [MethodImpl(Jit.Hot)]
        private static DecodeStatus DecodeIPv6(long ticks, ReadOnlySpan<byte> frame, int offset, int wireLength, out DecodedPacket packet)
        {
            packet = default;
            if (frame.Length < offset + 40)
            {
                return HeaderCut(frame.Length, wireLength);
            }

            var ip = frame.Slice(offset);
            if (ip[0] >> 4 != 6)
            {
                return DecodeStatus.Malformed;
            }

            int payloadLength = BinaryPrimitives.ReadUInt16BigEndian(ip.Slice(4));
            int available = ip.Length - 40;
            bool cut;
            if (payloadLength == 0)
            {
                payloadLength = available; // jumbogram or offload: take what was captured
                cut = false;
            }
            else
            {
                cut = payloadLength > available;
            }

            var payload = ip.Slice(40, cut ? available : payloadLength);
            var source = NetAddress.FromBytes(ip.Slice(8, 16));
            var destination = NetAddress.FromBytes(ip.Slice(24, 16));
            int next = ip[6];
            bool moreFragments = false;
            for (int i = 0; ; i++)
            {
                switch (next)
                {
                    case 0: // hop-by-hop
                    case 43: // routing
                    case 60: // destination options
                    case 135: // mobility
                    case 139: // HIP
                    case 140: // shim6
                    {
                        if (i >= MaxIPv6ExtensionHeaders)
                        {
                            return DecodeStatus.Malformed;
                        }

                        if (payload.Length < 8)
                        {
                            return cut ? HeaderCut(frame.Length, wireLength) : DecodeStatus.Malformed;
                        }

                        int length = (payload[1] + 1) * 8;
                        if (payload.Length < length)
                        {
                            return cut ? HeaderCut(frame.Length, wireLength) : DecodeStatus.Malformed;
                        }

                        next = payload[0];
                        payload = payload.Slice(length);
                        continue;
                    }

                    case 51: // authentication header: length in 4-byte units, minus 2
                    {
                        if (i >= MaxIPv6ExtensionHeaders)
                        {
                            return DecodeStatus.Malformed;
                        }

                        if (payload.Length < 8)
                        {
                            return cut ? HeaderCut(frame.Length, wireLength) : DecodeStatus.Malformed;
                        }

                        int length = (payload[1] + 2) * 4;
                        if (payload.Length < length)
                        {
                            return cut ? HeaderCut(frame.Length, wireLength) : DecodeStatus.Malformed;
                        }

                        next = payload[0];
                        payload = payload.Slice(length);
                        continue;
                    }

                    case 44: // fragment
                    {
                        if (i >= MaxIPv6ExtensionHeaders)
                        {
                            return DecodeStatus.Malformed;
                        }

                        if (payload.Length < 8)
                        {
                            return cut ? HeaderCut(frame.Length, wireLength) : DecodeStatus.Malformed;
                        }

                        int fragment = BinaryPrimitives.ReadUInt16BigEndian(payload.Slice(2));
                        if ((fragment & 0xFFF8) != 0)
                        {
                            return DecodeStatus.LaterFragment;
                        }

                        moreFragments = (fragment & 1) != 0;
                        next = payload[0];
                        payload = payload.Slice(8);
                        continue;
                    }

                    default:
                        return DecodeTransport(ticks, (byte)next, payload, cut, moreFragments, source, destination, wireLength, out packet);
                }
            }
        }

        [MethodImpl(Jit.Hot)]
        private static DecodeStatus DecodeTransport(
            long ticks, byte protocol, ReadOnlySpan<byte> data, bool cut, bool moreFragments, NetAddress source, NetAddress destination,
            int wireLength, out DecodedPacket packet)
        {
            packet = default;
            switch (protocol)
            {
                case 6:
                {
                    if (data.Length < 20)
                    {
                        return cut ? DecodeStatus.HeaderTruncated : DecodeStatus.Malformed;
                    }

                    int dataOffset = (data[12] >> 4) * 4;
                    if (dataOffset < 20)
                    {
                        return DecodeStatus.Malformed;
                    }

                    if (data.Length < dataOffset)
                    {
                        return cut ? DecodeStatus.HeaderTruncated : DecodeStatus.Malformed;
                    }

                    packet = new DecodedPacket(
                        ticks, source, destination,
                        BinaryPrimitives.ReadUInt16BigEndian(data), BinaryPrimitives.ReadUInt16BigEndian(data.Slice(2)),
                        TransportProtocol.Tcp, (TcpFlags)(data[13] & 0x3F),
                        BinaryPrimitives.ReadUInt32BigEndian(data.Slice(4)), BinaryPrimitives.ReadUInt32BigEndian(data.Slice(8)),
                        data.Slice(dataOffset), wireLength, cut || moreFragments, moreFragments);
                    return cut ? DecodeStatus.DecodedTruncated : DecodeStatus.Decoded;
                }

                case 17:
                {
                    if (data.Length < 8)
                    {
                        return cut ? DecodeStatus.HeaderTruncated : DecodeStatus.Malformed;
                    }

                    int udpLength = BinaryPrimitives.ReadUInt16BigEndian(data.Slice(4));
                    bool payloadCut = cut;
                    int payloadLength = data.Length - 8;
                    if (udpLength >= 8)
                    {
                        if (udpLength - 8 <= payloadLength)
                        {
                            payloadLength = udpLength - 8;
                        }
                        else
                        {
                            payloadCut = true; // the UDP length claims more than the IP packet carries
                        }
                    }

                    packet = new DecodedPacket(
                        ticks, source, destination,
                        BinaryPrimitives.ReadUInt16BigEndian(data), BinaryPrimitives.ReadUInt16BigEndian(data.Slice(2)),
                        TransportProtocol.Udp, TcpFlags.None, 0, 0, data.Slice(8, payloadLength), wireLength, payloadCut, moreFragments);
                    return cut ? DecodeStatus.DecodedTruncated : DecodeStatus.Decoded;
                }

                default:
                    packet = new DecodedPacket(ticks, source, destination, 0, 0, TransportProtocol.Other, TcpFlags.None, 0, 0, data, wireLength, cut, moreFragments);
                    return cut ? DecodeStatus.DecodedTruncated : DecodeStatus.Decoded;
            }
        }

        /// <summary>A header did not fit: cut by the snap length when the wire had more, otherwise the frame itself is short.</summary>
        private static DecodeStatus HeaderCut(int captured, int wireLength) =>
            wireLength > captured ? DecodeStatus.HeaderTruncated : DecodeStatus.Malformed;
    }
}
