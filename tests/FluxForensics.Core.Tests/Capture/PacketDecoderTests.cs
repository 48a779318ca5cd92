using System;
using System.Linq;
using FluxForensics.Capture;
using static FluxForensics.Tests.Capture.CaptureBytes;

namespace FluxForensics.Tests.Capture
{
    public class PacketDecoderTests
    {
        private static readonly byte[] Dns = Payload(33, 7);

        private static (DecodeStatus Status, SeenPacket? Packet) Decode(int linkType, byte[] frame, int? wire = null, int? captured = null)
        {
            var span = frame.AsSpan(0, captured ?? frame.Length);
            var status = PacketDecoder.Decode(linkType, Ticks(0), span, wire ?? frame.Length, out var p);
            if (status > DecodeStatus.DecodedTruncated)
            {
                return (status, null);
            }

            return (status, new SeenPacket(p.Timestamp, p.Source.ToString(), p.Destination.ToString(), p.SourcePort, p.DestinationPort, p.Protocol,
                p.TcpFlags, p.Sequence, p.Acknowledgment, p.Payload.ToArray(), p.WireLength, p.PayloadTruncated, p.IsFragment));
        }

        private static void AssertDns(SeenPacket? p, string source = "192.0.2.1", string destination = "192.0.2.53")
        {
            Assert.NotNull(p);
            Assert.Equal(source, p!.Source);
            Assert.Equal(destination, p.Destination);
            Assert.Equal(TransportProtocol.Udp, p.Protocol);
            Assert.Equal((ushort)53, p.DestinationPort);
            Assert.Equal(Dns, p.Payload);
            Assert.False(p.PayloadTruncated);
        }

        private static byte[] V4 => UdpV4("192.0.2.1", "192.0.2.53", 33333, 53, Dns);

        private static byte[] V6 => IPv6("2001:db8::1", "2001:db8::53", 17, Udp(33333, 53, Dns));

        [Fact]
        public void EthernetIPv4Udp()
        {
            var (status, p) = Decode(1, Ethernet(V4));
            Assert.Equal(DecodeStatus.Decoded, status);
            AssertDns(p);
        }

        [Fact]
        public void EthernetPaddingIsNotPayload()
        {
            var small = UdpV4("192.0.2.1", "192.0.2.53", 33333, 53, new byte[] { 1, 2 });
            var frame = Ethernet(small).Concat(new byte[18]).ToArray(); // padded to the 60-byte minimum
            var (_, p) = Decode(1, frame);
            Assert.Equal(new byte[] { 1, 2 }, p!.Payload);
        }

        [Theory]
        [InlineData(0x8100)]
        [InlineData(0x88A8)]
        public void VlanTaggedFrames(int tpid)
        {
            var (_, single) = Decode(1, Ethernet(V4, 0x0800, ((ushort)0x8100, (ushort)100)));
            AssertDns(single);
            var (_, qinq) = Decode(1, Ethernet(V6, 0x86DD, ((ushort)tpid, (ushort)10), ((ushort)0x8100, (ushort)20)));
            AssertDns(qinq, "2001:db8::1", "2001:db8::53");
        }

        [Fact]
        public void TooManyVlanTagsAreMalformedNotALoop()
        {
            var tags = Enumerable.Range(0, 40).Select(i => ((ushort)0x8100, (ushort)i)).ToArray();
            Assert.Equal(DecodeStatus.Malformed, Decode(1, Ethernet(V4, 0x0800, tags)).Status);
        }

        [Fact]
        public void LinuxCookedSllAndSll2()
        {
            AssertDns(Decode(113, Sll(V4)).Packet);
            AssertDns(Decode(276, Sll2(V4)).Packet);
            AssertDns(Decode(276, Sll2(V6, 0x86DD)).Packet, "2001:db8::1", "2001:db8::53");
        }

        [Theory]
        [InlineData(101)]
        [InlineData(12)]
        [InlineData(14)]
        public void RawIpByVersion(int linkType)
        {
            AssertDns(Decode(linkType, V4).Packet);
            AssertDns(Decode(linkType, V6).Packet, "2001:db8::1", "2001:db8::53");
        }

        [Fact]
        public void RawIPv4AndIPv6LinkTypes()
        {
            AssertDns(Decode(228, V4).Packet);
            AssertDns(Decode(229, V6).Packet, "2001:db8::1", "2001:db8::53");
            Assert.Equal(DecodeStatus.Malformed, Decode(228, V6).Status);
        }

        [Theory]
        [InlineData(false, 2u)]
        [InlineData(true, 2u)]
        [InlineData(false, 24u)]
        [InlineData(false, 28u)]
        [InlineData(true, 30u)]
        [InlineData(false, 10u)]
        public void BsdNullLoopbackInEitherHostByteOrder(bool bigEndian, uint family)
        {
            byte[] ip = family == 2 ? V4 : V6;
            var (status, p) = Decode(0, Null(ip, family, bigEndian));
            Assert.Equal(DecodeStatus.Decoded, status);
            Assert.Equal(Dns, p!.Payload);
        }

        [Fact]
        public void OpenBsdLoopIsInNetworkOrder()
        {
            AssertDns(Decode(108, Null(V4, 2, bigEndian: true)).Packet);
            AssertDns(Decode(108, Null(V6, 24, bigEndian: true)).Packet, "2001:db8::1", "2001:db8::53");
        }

        [Fact]
        public void IPv4OptionsAreSkipped()
        {
            var ip = IPv4("192.0.2.1", "192.0.2.53", 17, Udp(33333, 53, Dns), options: new byte[] { 0x94, 0x04, 0, 0, 1, 1, 1, 0 });
            AssertDns(Decode(101, ip).Packet);
        }

        [Fact]
        public void TcpHeaderWithOptions()
        {
            var ip = IPv4("192.0.2.1", "192.0.2.80", 6, Tcp(40000, 80, 0xFFFFFFF0, 7, 0x02, Payload(10), optionBytes: 12));
            var (_, p) = Decode(101, ip);
            Assert.Equal(TransportProtocol.Tcp, p!.Protocol);
            Assert.Equal(TcpFlags.Syn, p.Flags);
            Assert.Equal(0xFFFFFFF0u, p.Sequence);
            Assert.Equal(7u, p.Acknowledgment);
            Assert.Equal(Payload(10), p.Payload);
        }

        [Fact]
        public void OnlyTheFirstIPv4FragmentIsDecoded()
        {
            var first = IPv4("192.0.2.1", "192.0.2.53", 17, Udp(33333, 53, Payload(100)).Take(48).ToArray(), fragment: 0x2000);
            var later = IPv4("192.0.2.1", "192.0.2.53", 17, Payload(60), fragment: 0x0005);
            var (status, p) = Decode(101, first);
            Assert.Equal(DecodeStatus.Decoded, status);
            Assert.True(p!.IsFragment);
            Assert.True(p.PayloadTruncated);
            Assert.Equal(40, p.Payload.Length);
            Assert.Equal(DecodeStatus.LaterFragment, Decode(101, later).Status);
        }

        [Fact]
        public void IPv6ExtensionHeadersAreWalked()
        {
            var hopByHop = new byte[8];
            var destination = new byte[16];
            destination[1] = 1; // (1 + 1) * 8 bytes
            var routing = new byte[24];
            routing[1] = 2;
            var ip = IPv6("2001:db8::1", "2001:db8::53", 17, Udp(33333, 53, Dns), (0, hopByHop), (60, destination), (43, routing));
            AssertDns(Decode(229, ip).Packet, "2001:db8::1", "2001:db8::53");
        }

        [Fact]
        public void IPv6FragmentsFirstDecodedLaterSkipped()
        {
            var firstFragment = new byte[8];
            firstFragment[3] = 1; // offset 0, more fragments
            var laterFragment = new byte[8];
            laterFragment[2] = 0x01; // offset 32
            var first = IPv6("2001:db8::1", "2001:db8::53", 17, Udp(33333, 53, Dns), (44, firstFragment));
            var later = IPv6("2001:db8::1", "2001:db8::53", 17, Payload(40), (44, laterFragment));
            var (status, p) = Decode(229, first);
            Assert.Equal(DecodeStatus.Decoded, status);
            Assert.True(p!.IsFragment);
            Assert.Equal(DecodeStatus.LaterFragment, Decode(229, later).Status);
        }

        [Fact]
        public void EndlessIPv6ExtensionChainIsBounded()
        {
            var chain = Enumerable.Range(0, 20).Select(_ => ((byte)60, new byte[8])).ToArray();
            var ip = IPv6("2001:db8::1", "2001:db8::53", 17, Udp(33333, 53, Dns), chain);
            Assert.Equal(DecodeStatus.Malformed, Decode(229, ip).Status);
        }

        [Fact]
        public void ExtensionHeaderLongerThanThePacketIsMalformed()
        {
            var hop = new byte[8];
            hop[1] = 200;
            var ip = IPv6("2001:db8::1", "2001:db8::53", 17, Udp(33333, 53, Dns), (0, hop));
            Assert.Equal(DecodeStatus.Malformed, Decode(229, ip).Status);
        }

        [Fact]
        public void SnapLengthCutsPayloadOrHeaders()
        {
            var frame = Ethernet(V4);
            var (status, p) = Decode(1, frame, captured: 50);
            Assert.Equal(DecodeStatus.DecodedTruncated, status);
            Assert.True(p!.PayloadTruncated);
            Assert.Equal(50 - 42, p.Payload.Length);
            Assert.Equal(frame.Length, p.WireLength);
            Assert.Equal(DecodeStatus.HeaderTruncated, Decode(1, frame, captured: 30).Status);
            Assert.Equal(DecodeStatus.HeaderTruncated, Decode(1, frame, captured: 38).Status);
            Assert.Equal(DecodeStatus.HeaderTruncated, Decode(1, frame, captured: 10).Status);
        }

        [Fact]
        public void ShortFramesThatWereNotCutAreMalformed()
        {
            Assert.Equal(DecodeStatus.Malformed, Decode(1, Ethernet(V4).Take(30).ToArray()).Status);
            Assert.Equal(DecodeStatus.Malformed, Decode(1, new byte[5]).Status);
        }

        [Fact]
        public void LyingHeaderFieldsAreMalformed()
        {
            var badIhl = (byte[])V4.Clone();
            badIhl[0] = 0x43;
            Assert.Equal(DecodeStatus.Malformed, Decode(101, badIhl).Status);
            var badTotal = IPv4("192.0.2.1", "192.0.2.53", 17, Udp(1, 53, Dns), totalLengthOverride: 12);
            Assert.Equal(DecodeStatus.Malformed, Decode(101, badTotal).Status);
            var tcp = Tcp(1, 80, 0, 0, 0x10, Payload(4));
            tcp[12] = 0x20; // data offset 2
            Assert.Equal(DecodeStatus.Malformed, Decode(101, IPv4("192.0.2.1", "192.0.2.53", 6, tcp)).Status);
            var longTcp = Tcp(1, 80, 0, 0, 0x10, Payload(4));
            longTcp[12] = 0xF0; // 60-byte header in a 24-byte segment
            Assert.Equal(DecodeStatus.Malformed, Decode(101, IPv4("192.0.2.1", "192.0.2.53", 6, longTcp)).Status);
        }

        [Fact]
        public void IpLengthClaimingMoreThanAnUncutFrameIsNotBlamedOnTheSnapLength()
        {
            var ip = IPv4("192.0.2.1", "192.0.2.53", 6, Tcp(1, 80, 0, 0, 0x18, Payload(20)), totalLengthOverride: 900);
            var (status, p) = Decode(101, ip);
            Assert.Equal(DecodeStatus.Decoded, status);
            Assert.True(p!.PayloadTruncated);
            var shortTcp = IPv4("192.0.2.1", "192.0.2.53", 6, Tcp(1, 80, 0, 0, 0x18, Payload(20)).Take(10).ToArray(), totalLengthOverride: 900);
            Assert.Equal(DecodeStatus.Malformed, Decode(101, shortTcp).Status);
            Assert.Equal(DecodeStatus.HeaderTruncated, Decode(101, shortTcp, wire: 1000).Status);
        }

        [Fact]
        public void UdpLengthBeyondThePacketMarksThePayloadTruncated()
        {
            var udp = Udp(1, 53, Dns);
            udp[4] = 0x10; // claims 4096+ bytes
            var (status, p) = Decode(101, IPv4("192.0.2.1", "192.0.2.53", 17, udp));
            Assert.Equal(DecodeStatus.Decoded, status);
            Assert.True(p!.PayloadTruncated);
            Assert.Equal(Dns, p.Payload);
        }

        [Fact]
        public void NonIpFramesAndOtherTransports()
        {
            var arp = Ethernet(new byte[28], 0x0806);
            Assert.Equal(DecodeStatus.NotIp, Decode(1, arp).Status);
            var icmp = IPv4("192.0.2.1", "192.0.2.53", 1, Payload(16));
            var (status, p) = Decode(101, icmp);
            Assert.Equal(DecodeStatus.Decoded, status);
            Assert.Equal(TransportProtocol.Other, p!.Protocol);
            Assert.Equal(Payload(16), p.Payload);
            Assert.Equal(DecodeStatus.UnsupportedLinkType, Decode(147, V4).Status);
        }

        [Fact]
        public void PppoeAndMplsAreUnwrapped()
        {
            var pppoe = new byte[] { 0x11, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x21 }.Concat(V4).ToArray();
            AssertDns(Decode(1, Ethernet(pppoe, 0x8864)).Packet);
            var mpls = new byte[] { 0x00, 0x01, 0x00, 0x40, 0x00, 0x02, 0x01, 0x40 }.Concat(V4).ToArray();
            AssertDns(Decode(1, Ethernet(mpls, 0x8847)).Packet);
        }

        [Fact]
        public void DecodingGarbageNeverThrows()
        {
            var random = new Random(1234);
            var buffer = new byte[200];
            foreach (int linkType in new[] { 0, 1, 9, 12, 14, 101, 108, 113, 228, 229, 276 })
            {
                for (int i = 0; i < 5000; i++)
                {
                    random.NextBytes(buffer);
                    int length = random.Next(0, buffer.Length);
                    PacketDecoder.Decode(linkType, 0, buffer.AsSpan(0, length), random.Next(0, 400), out _);
                }
            }
        }
    }
}
