using System;
using System.Linq;
using System.Threading;
using FluxForensics.Capture;
using static FluxForensics.Tests.Capture.CaptureBytes;

namespace FluxForensics.Tests.Capture
{
    public class CaptureFileReaderTests
    {
        private static byte[] DnsQuery(int id) => Payload(30, (byte)id);

        [Theory]
        [InlineData(false, false)]
        [InlineData(true, false)]
        [InlineData(false, true)]
        [InlineData(true, true)]
        public void ClassicPcapIsReadInEitherByteOrderWithMicroOrNanoseconds(bool bigEndian, bool nanosecond)
        {
            using var dir = new TempDir();
            var records = new[]
            {
                new PcapRecord(Ticks(0, 123456), Ethernet(UdpV4("192.0.2.10", "198.51.100.53", 40000, 53, DnsQuery(1))), nanoExtra: 99),
                new PcapRecord(Ticks(1, 5), Ethernet(IPv4("198.51.100.53", "192.0.2.10", 6, Tcp(80, 40001, 1000, 2000, 0x18, Payload(5))))),
            };
            string path = dir.File("a.pcap", Pcap(bigEndian, nanosecond, 1, records));

            var run = ReadRun.Of(path);

            Assert.Empty(run.Issues);
            Assert.True(run.Result.Completed);
            Assert.Equal(2, run.Result.PacketCount);
            Assert.Equal(2, run.Result.DecodedPacketCount);
            var udp = run.Packets[0];
            Assert.Equal(T0.AddTicks(1234560), udp.Timestamp);
            Assert.Equal("192.0.2.10", udp.Source);
            Assert.Equal("198.51.100.53", udp.Destination);
            Assert.Equal((40000, 53), (udp.SourcePort, udp.DestinationPort));
            Assert.Equal(TransportProtocol.Udp, udp.Protocol);
            Assert.Equal(DnsQuery(1), udp.Payload);
            Assert.False(udp.PayloadTruncated);
            var tcp = run.Packets[1];
            Assert.Equal(TransportProtocol.Tcp, tcp.Protocol);
            Assert.Equal(TcpFlags.Psh | TcpFlags.Ack, tcp.Flags);
            Assert.Equal((1000u, 2000u), (tcp.Sequence, tcp.Acknowledgment));
            Assert.Equal(Payload(5), tcp.Payload);
            Assert.Equal(T0.AddSeconds(1).AddTicks(50), tcp.Timestamp);
            Assert.Equal(T0.AddTicks(1234560), run.Result.First);
            Assert.Equal(T0.AddSeconds(1).AddTicks(50), run.Result.Last);
        }

        [Theory]
        [InlineData(false)]
        [InlineData(true)]
        public void PcapNgWithSeveralInterfacesLinkTypesAndResolutionsIsReadInEitherByteOrder(bool bigEndian)
        {
            using var dir = new TempDir();
            var b = new PcapNgBuilder(bigEndian);
            int eth = b.Interface(1);
            int raw = b.Interface(101, tsresol: 9);
            int sll2 = b.Interface(276, tsresol: 0x80 | 20, tsOffsetSeconds: 3600);
            b.Block(0x00000BAD, new byte[] { 1, 2, 3, 4, 5, 6, 7, 8 }); // custom block: skipped
            b.Block(4, new byte[] { 0, 0, 0, 0 }); // name resolution: skipped
            b.Enhanced(eth, Ticks(0, 1), Ethernet(UdpV4("10.0.0.1", "10.0.0.2", 1000, 53, Payload(12))));
            b.Enhanced(raw, Ticks(1, 2), UdpV4("10.0.0.3", "10.0.0.4", 1001, 53, Payload(13)));
            b.Enhanced(sll2, Ticks(2) - 3600 * TimeSpan.TicksPerSecond, Sll2(UdpV4("10.0.0.5", "10.0.0.6", 1002, 53, Payload(14))));
            b.Block(5, new byte[] { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 }); // interface statistics: skipped
            string path = dir.File("multi.pcapng", b.ToArray());

            var run = ReadRun.Of(path);

            Assert.Empty(run.Issues);
            Assert.Equal(new[] { "10.0.0.1", "10.0.0.3", "10.0.0.5" }, run.Packets.Select(p => p.Source));
            Assert.Equal(new[] { 12, 13, 14 }, run.Packets.Select(p => p.Payload.Length));
            Assert.Equal(T0.AddTicks(10), run.Packets[0].Timestamp);
            Assert.Equal(T0.AddSeconds(1).AddTicks(20), run.Packets[1].Timestamp);
            Assert.Equal(T0.AddSeconds(2), run.Packets[2].Timestamp); // 2^-20 resolution with a one-hour if_tsoffset
        }

        [Fact]
        public void SecondSectionInTheOtherByteOrderResetsTheInterfaces()
        {
            using var dir = new TempDir();
            var first = new PcapNgBuilder(bigEndian: false);
            first.Interface(1);
            first.Enhanced(0, Ticks(0), Ethernet(UdpV4("10.0.0.1", "10.0.0.2", 1, 2, Payload(3))));
            var second = new PcapNgBuilder(bigEndian: true);
            second.Interface(101);
            second.Enhanced(0, Ticks(1), UdpV4("10.0.0.7", "10.0.0.8", 3, 4, Payload(4)));
            second.Simple(UdpV4("10.0.0.9", "10.0.0.8", 5, 6, Payload(5)));
            string path = dir.File("sections.pcapng", first.ToArray().Concat(second.ToArray()).ToArray());

            var run = ReadRun.Of(path);

            Assert.Empty(run.Issues);
            Assert.Equal(new[] { "10.0.0.1", "10.0.0.7", "10.0.0.9" }, run.Packets.Select(p => p.Source));
            Assert.Equal(run.Packets[1].Timestamp, run.Packets[2].Timestamp); // a simple packet keeps the last timestamp
        }

        [Theory]
        [InlineData("pcap")]
        [InlineData("pcapng")]
        public void GzipCompressedCapturesAreReadThroughDecompression(string format)
        {
            using var dir = new TempDir();
            var frames = Enumerable.Range(0, 500).Select(i => Ethernet(UdpV4("10.1.0.1", "10.1.0.2", (ushort)(2000 + i), 53, Payload(40, (byte)i)))).ToArray();
            byte[] capture;
            if (format == "pcap")
            {
                capture = Pcap(false, false, 1, frames.Select((f, i) => new PcapRecord(Ticks(i), f)));
            }
            else
            {
                var b = new PcapNgBuilder(false);
                b.Interface(1);
                for (int i = 0; i < frames.Length; i++)
                {
                    b.Enhanced(0, Ticks(i), frames[i]);
                }

                capture = b.ToArray();
            }

            string path = dir.File("c." + format + ".gz", Gzip(capture));

            var run = ReadRun.Of(path);

            Assert.Empty(run.Issues);
            Assert.Equal(500, run.Result.DecodedPacketCount);
            Assert.Equal(Enumerable.Range(0, 500).Select(i => (ushort)(2000 + i)), run.Packets.Select(p => p.SourcePort));
            Assert.Equal(new System.IO.FileInfo(path).Length, run.Result.ByteCount);
        }

        /// <summary>
        /// The summary's flows: each TCP connection once (two on the same 5-tuple after the first closed count twice; a
        /// stray ACK of a connection never seen counts none) and each UDP 5-tuple once, whichever way it is seen.
        /// </summary>
        [Fact]
        public void FlowCountIsTcpConnectionsFollowedPlusUdpFiveTuples()
        {
            using var dir = new TempDir();
            const byte Syn = 0x02, Ack = 0x10, Psh = 0x08, Fin = 0x01;
            var frames = new System.Collections.Generic.List<byte[]>();
            void Connection(ushort port, uint isn)
            {
                frames.Add(Ethernet(IPv4("10.0.0.5", "192.0.2.80", 6, Tcp(port, 80, isn, 0, Syn, Array.Empty<byte>()))));
                frames.Add(Ethernet(IPv4("192.0.2.80", "10.0.0.5", 6, Tcp(80, port, 9000, isn + 1, Syn | Ack, Array.Empty<byte>()))));
                frames.Add(Ethernet(IPv4("10.0.0.5", "192.0.2.80", 6, Tcp(port, 80, isn + 1, 9001, Ack | Psh, System.Text.Encoding.ASCII.GetBytes("GET / HTTP/1.1\r\n\r\n")))));
                frames.Add(Ethernet(IPv4("10.0.0.5", "192.0.2.80", 6, Tcp(port, 80, isn + 19, 9001, Fin | Ack, Array.Empty<byte>()))));
                frames.Add(Ethernet(IPv4("192.0.2.80", "10.0.0.5", 6, Tcp(80, port, 9001, isn + 20, Fin | Ack, Array.Empty<byte>()))));
            }

            Connection(40001, 100);
            Connection(40002, 5000);
            Connection(40001, 900_000); // the same 5-tuple again, after the first closed
            frames.Add(Ethernet(IPv4("10.0.0.9", "192.0.2.81", 6, Tcp(40003, 443, 1, 1, Ack, Array.Empty<byte>()))));
            frames.Add(Ethernet(UdpV4("10.0.0.5", "10.0.0.254", 5353, 53, Payload(12))));
            frames.Add(Ethernet(UdpV4("10.0.0.254", "10.0.0.5", 53, 5353, Payload(12))));
            frames.Add(Ethernet(UdpV4("10.0.0.6", "10.0.0.254", 5353, 53, Payload(12))));
            string file = dir.File("flows.pcap", Pcap(false, false, 1, frames.Select((f, i) => new PcapRecord(Ticks(i), f))));

            var findings = new CaptureAnalysis(new CaptureAnalysisOptions(), null).AnalyzeFiles(new[] { file }, default);

            var summary = Assert.IsType<FluxForensics.Model.CaptureSummary>(findings[findings.Count - 1]);
            Assert.Equal(frames.Count, summary.PacketCount);
            Assert.Equal(3 + 2, summary.FlowCount);
        }

        [Fact]
        public void EmptyFileIsAnIssueAtOffsetZero()
        {
            using var dir = new TempDir();
            string empty = dir.File("empty.pcap", Array.Empty<byte>());
            string good = dir.File("good.pcap", Pcap(false, false, 1, new[] { new PcapRecord(Ticks(0), Ethernet(UdpV4("10.0.0.1", "10.0.0.2", 1, 53, Payload(4)))) }));

            var run = ReadRun.Of(empty, good);

            var issue = Assert.Single(run.Issues);
            Assert.Equal(empty, issue.Source);
            Assert.Equal(0, issue.Offset);
            Assert.Contains("empty", issue.Message);
            Assert.Single(run.Packets);
        }

        [Fact]
        public void WrongMagicIsAnIssueAndTheOtherFilesAreStillRead()
        {
            using var dir = new TempDir();
            string bad = dir.File("notes.pcap", System.Text.Encoding.ASCII.GetBytes("this is not a capture, just some text long enough"));
            string good = dir.File("good.pcap", Pcap(true, false, 1, new[] { new PcapRecord(Ticks(0), Ethernet(UdpV4("10.0.0.1", "10.0.0.2", 1, 53, Payload(4)))) }));

            var run = ReadRun.Of(bad, good);

            var issue = Assert.Single(run.Issues);
            Assert.Equal((bad, 0L), (issue.Source, issue.Offset));
            Assert.Contains("magic", issue.Message);
            Assert.Single(run.Packets);
        }

        [Theory]
        [InlineData(new byte[] { 0x28, 0xB5, 0x2F, 0xFD, 0, 0, 0, 0 }, "zstd")]
        [InlineData(new byte[] { 0x42, 0x5A, 0x68, 0x39, 0, 0, 0, 0 }, "bzip2")]
        [InlineData(new byte[] { 0x50, 0x4B, 0x03, 0x04, 0, 0, 0, 0 }, "not a pcap")]
        public void OtherCompressionsAreNamedInTheIssue(byte[] head, string expected)
        {
            using var dir = new TempDir();
            string path = dir.File("x.pcapng.z", head);

            var run = ReadRun.Of(path);

            var issue = Assert.Single(run.Issues);
            Assert.Equal(0, issue.Offset);
            Assert.Contains(expected, issue.Message);
        }

        [Fact]
        public void MissingFileIsAPerItemErrorNotAnException()
        {
            using var dir = new TempDir();
            string good = dir.File("good.pcap", Pcap(false, false, 1, new[] { new PcapRecord(Ticks(0), Ethernet(UdpV4("10.0.0.1", "10.0.0.2", 1, 53, Payload(4)))) }));

            var run = ReadRun.Of(dir.Name("missing.pcap"), good);

            var error = Assert.Single(run.Reporter.Errors);
            Assert.Equal("CaptureFileUnreadable", error.ErrorId);
            Assert.Equal(FluxErrorCategory.ReadError, error.Category);
            Assert.Single(run.Packets);
        }

        [Theory]
        [InlineData(false, 10)] // cut inside the record header
        [InlineData(false, 40)] // cut inside the packet data
        [InlineData(true, 40)]
        public void TruncatedLastRecordIsAnIssueAtItsOffsetAndTheRestIsRead(bool bigEndian, int keep)
        {
            using var dir = new TempDir();
            var records = Enumerable.Range(0, 3).Select(i => new PcapRecord(Ticks(i), Ethernet(UdpV4("10.0.0.1", "10.0.0.2", (ushort)i, 53, Payload(60))))).ToArray();
            var whole = Pcap(bigEndian, false, 1, records);
            int lastRecord = whole.Length - (16 + records[2].Frame.Length);
            string path = dir.File("cut.pcap", whole.Take(lastRecord + keep).ToArray());

            var run = ReadRun.Of(path);

            Assert.Equal(2, run.Packets.Count);
            var issue = Assert.Single(run.Issues);
            Assert.Equal(lastRecord, issue.Offset);
            Assert.Contains("truncated last record", issue.Message);
            Assert.True(run.Result.Completed);
        }

        [Fact]
        public void TruncatedLastPcapNgBlockIsAnIssue()
        {
            using var dir = new TempDir();
            var b = new PcapNgBuilder(false);
            b.Interface(1);
            b.Enhanced(0, Ticks(0), Ethernet(UdpV4("10.0.0.1", "10.0.0.2", 1, 53, Payload(60))));
            long last = b.Enhanced(0, Ticks(1), Ethernet(UdpV4("10.0.0.1", "10.0.0.2", 2, 53, Payload(60))));
            var bytes = b.ToArray();
            string path = dir.File("cut.pcapng", bytes.Take(bytes.Length - 7).ToArray());

            var run = ReadRun.Of(path);

            Assert.Single(run.Packets);
            var issue = Assert.Single(run.Issues);
            Assert.Equal(last, issue.Offset);
        }

        [Fact]
        public void SnapLengthTruncatedPacketsAreDecodedWithPayloadTruncatedAndReported()
        {
            using var dir = new TempDir();
            var full = Ethernet(UdpV4("10.0.0.1", "10.0.0.2", 5353, 53, Payload(200)));
            var tcp = Ethernet(IPv4("10.0.0.1", "10.0.0.2", 6, Tcp(1, 2, 3, 4, 0x10, Payload(300))));
            var records = new[]
            {
                new PcapRecord(Ticks(0), full, caplen: 96),
                new PcapRecord(Ticks(1), tcp, caplen: 40), // cut inside the TCP header: counted, not decoded
                new PcapRecord(Ticks(2), full),
            };
            var bytes = Pcap(false, false, 1, records, snapLength: 96);
            string path = dir.File("snap.pcap", bytes);

            var run = ReadRun.Of(path);

            Assert.Equal(3, run.Result.PacketCount);
            Assert.Equal(2, run.Result.DecodedPacketCount);
            var cut = run.Packets[0];
            Assert.True(cut.PayloadTruncated);
            Assert.Equal(96 - 14 - 20 - 8, cut.Payload.Length);
            Assert.Equal(full.Length, cut.WireLength);
            Assert.False(run.Packets[1].PayloadTruncated);
            Assert.Equal(2, run.Issues.Count);
            Assert.Equal(24, run.Issues[0].Offset);
            Assert.Contains("snap length", run.Issues[0].Message);
            Assert.Equal(24 + 16 + 96, run.Issues[1].Offset);
            Assert.Contains("headers", run.Issues[1].Message);
        }

        [Fact]
        public void ManyTruncatedPacketsAreReportedUpToACapThenSummarised()
        {
            using var dir = new TempDir();
            var full = Ethernet(UdpV4("10.0.0.1", "10.0.0.2", 5353, 53, Payload(200)));
            string path = dir.File("snap.pcap", Pcap(false, false, 1, Enumerable.Range(0, 1000).Select(i => new PcapRecord(Ticks(i), full, caplen: 64)), snapLength: 64));

            var run = ReadRun.Of(path);

            Assert.Equal(1000, run.Packets.Count);
            Assert.Equal(CaptureReader.MaxDetailedIssuesPerKind + 1, run.Issues.Count);
            Assert.Contains("1,000 packets truncated", run.Issues.Last().Message);
            Assert.Equal(1000, run.Result.IssueCount);
        }

        [Fact]
        public void UnknownLinkTypeIsReportedOnceAndItsPacketsAreCountedNotDecoded()
        {
            using var dir = new TempDir();
            var b = new PcapNgBuilder(false);
            b.Interface(147); // USER0
            b.Interface(1);
            b.Enhanced(0, Ticks(0), Payload(50));
            b.Enhanced(1, Ticks(1), Ethernet(UdpV4("10.0.0.1", "10.0.0.2", 1, 53, Payload(4))));
            b.Enhanced(0, Ticks(2), Payload(50));
            string ng = dir.File("user0.pcapng", b.ToArray());
            string classic = dir.File("user0.pcap", Pcap(false, false, 147, new[] { new PcapRecord(Ticks(5), Payload(20)) }));

            var run = ReadRun.Of(ng, classic);

            Assert.Equal(4, run.Result.PacketCount);
            Assert.Single(run.Packets);
            Assert.Equal(2, run.Issues.Count);
            Assert.All(run.Issues, i => Assert.Contains("unknown link type 147", i.Message));
            Assert.Equal(ng, run.Issues[0].Source);
            Assert.Equal(28, run.Issues[0].Offset); // the interface description block after the section header
            Assert.Equal((classic, 20L), (run.Issues[1].Source, run.Issues[1].Offset));
        }

        [Theory]
        [InlineData(false, 7u)] // not a multiple of 4
        [InlineData(true, 0x7FFFFFF0u)] // far beyond any block
        [InlineData(false, 8u)] // shorter than a block can be
        public void CorruptPcapNgBlockLengthIsReportedAndReadingResynchronises(bool bigEndian, uint badLength)
        {
            using var dir = new TempDir();
            var b = new PcapNgBuilder(bigEndian);
            b.Interface(1);
            b.Enhanced(0, Ticks(0), Ethernet(UdpV4("10.0.0.1", "10.0.0.2", 1, 53, Payload(20))));
            long corrupt = b.Position;
            b.U32(6);
            b.U32(badLength);
            b.Raw(Payload(36, 0x80)); // garbage where the block would be
            b.Enhanced(0, Ticks(2), Ethernet(UdpV4("10.0.0.1", "10.0.0.2", 3, 53, Payload(20))));
            string path = dir.File("corrupt.pcapng", b.ToArray());

            var run = ReadRun.Of(path);

            Assert.Equal(new ushort[] { 1, 3 }, run.Packets.Select(p => p.SourcePort));
            Assert.Equal(2, run.Issues.Count);
            Assert.Equal(corrupt, run.Issues[0].Offset);
            Assert.Contains("corrupt block length", run.Issues[0].Message);
            Assert.Contains("resynchronised", run.Issues[1].Message);
        }

        [Fact]
        public void ResynchronisesOnASectionInTheOtherByteOrder()
        {
            using var dir = new TempDir();
            var first = new PcapNgBuilder(bigEndian: false);
            first.Interface(1);
            first.Enhanced(0, Ticks(0), Ethernet(UdpV4("10.0.0.1", "10.0.0.2", 1, 53, Payload(8))));
            long corrupt = first.Position;
            first.U32(6);
            first.U32(0xFFFFFFF0);
            first.Raw(Payload(24, 0x90));
            var second = new PcapNgBuilder(bigEndian: true);
            second.Interface(101);
            second.Enhanced(0, Ticks(1), UdpV4("10.0.0.3", "10.0.0.2", 2, 53, Payload(8)));
            string path = dir.File("two-orders.pcapng", first.ToArray().Concat(second.ToArray()).ToArray());

            var run = ReadRun.Of(path);

            Assert.Equal(new ushort[] { 1, 2 }, run.Packets.Select(p => p.SourcePort));
            Assert.Equal(corrupt, run.Issues[0].Offset);
            Assert.Contains($"resynchronised at offset {first.Position}", run.Issues[1].Message);
        }

        [Fact]
        public void PcapNgBlockWithMismatchedTrailingLengthIsReportedAndSkipped()
        {
            using var dir = new TempDir();
            var b = new PcapNgBuilder(false);
            b.Interface(1);
            var bytesBefore = b.ToArray().Length;
            long bad = b.Enhanced(0, Ticks(0), Ethernet(UdpV4("10.0.0.1", "10.0.0.2", 1, 53, Payload(20))));
            b.Enhanced(0, Ticks(1), Ethernet(UdpV4("10.0.0.1", "10.0.0.2", 2, 53, Payload(20))));
            var bytes = b.ToArray();
            int firstLength = BitConverter.ToInt32(bytes, (int)bad + 4);
            bytes[bad + firstLength - 4] ^= 0x40; // damage the trailing length of the first packet block
            string path = dir.File("trailer.pcapng", bytes);

            var run = ReadRun.Of(path);

            Assert.Equal(new ushort[] { 2 }, run.Packets.Select(p => p.SourcePort));
            Assert.Equal(bad, run.Issues[0].Offset);
            Assert.Contains("trailing length", run.Issues[0].Message);
            Assert.Equal(bytesBefore, bad);
        }

        [Fact]
        public void CorruptClassicRecordLengthIsReportedAndReadingResynchronises()
        {
            using var dir = new TempDir();
            var good = Enumerable.Range(0, 4).Select(i => new PcapRecord(Ticks(i), Ethernet(UdpV4("10.0.0.1", "10.0.0.2", (ushort)i, 53, Payload(30))))).ToArray();
            var bytes = Pcap(false, false, 1, good);
            int recordSize = 16 + good[0].Frame.Length;
            int second = 24 + recordSize;
            BitConverter.GetBytes(0x10000000).CopyTo(bytes, second + 8); // caplen of record 1: 256 MiB

            string path = dir.File("corrupt.pcap", bytes);
            var run = ReadRun.Of(path);

            Assert.Equal(new ushort[] { 0, 2, 3 }, run.Packets.Select(p => p.SourcePort));
            Assert.Equal(second, run.Issues[0].Offset);
            Assert.Contains("captured length", run.Issues[0].Message);
            Assert.Contains("resynchronised at offset " + (second + recordSize), run.Issues[1].Message);
        }

        [Fact]
        public void GarbageAfterACorruptBlockStopsCleanlyWithAnIssue()
        {
            using var dir = new TempDir();
            var b = new PcapNgBuilder(false);
            b.Interface(1);
            b.Enhanced(0, Ticks(0), Ethernet(UdpV4("10.0.0.1", "10.0.0.2", 1, 53, Payload(20))));
            b.U32(6);
            b.U32(3);
            b.Raw(Enumerable.Repeat((byte)0xEE, 100_000).ToArray());
            string path = dir.File("garbage.pcapng", b.ToArray());

            var run = ReadRun.Of(path);

            Assert.Single(run.Packets);
            Assert.Equal(2, run.Issues.Count);
            Assert.Contains("rest of the file is not read", run.Issues[1].Message);
        }

        [Fact]
        public void AFileOfDamagedBlocksReportsACappedNumberThenASummary()
        {
            using var dir = new TempDir();
            var b = new PcapNgBuilder(false);
            b.Interface(1);
            for (int i = 0; i < 500; i++)
            {
                b.Enhanced(0, Ticks(i), Ethernet(UdpV4("10.0.0.1", "10.0.0.2", 1, 53, Payload(4))), caplen: 5000); // claims more than the block holds
            }

            b.Enhanced(0, Ticks(600), Ethernet(UdpV4("10.0.0.1", "10.0.0.2", 9, 53, Payload(4))));
            string path = dir.File("damaged.pcapng", b.ToArray());

            var run = ReadRun.Of(path);

            Assert.Equal(new ushort[] { 9 }, run.Packets.Select(p => p.SourcePort));
            Assert.Equal(CaptureFileReader.MaxReportedIssues + 1, run.Issues.Count);
            Assert.Contains("500 damaged records", run.Issues.Last().Message);
            Assert.Equal(500, run.Result.IssueCount);
        }

        [Fact]
        public void RotatedFilesAreReadInTimeOrderWhateverTheArgumentOrder()
        {
            using var dir = new TempDir();
            string Make(string name, int start) => dir.File(name, Pcap(false, false, 1,
                Enumerable.Range(start, 3).Select(i => new PcapRecord(Ticks(i), Ethernet(UdpV4("10.0.0.1", "10.0.0.2", (ushort)i, 53, Payload(4)))))));
            string a = Make("a.pcap", 0);
            string b = Make("b.pcap", 10);
            string c = Make("c.pcap", 20);

            var run = ReadRun.Of(c, a, b);

            Assert.Equal(new ushort[] { 0, 1, 2, 10, 11, 12, 20, 21, 22 }, run.Packets.Select(p => p.SourcePort));
            Assert.Equal(new[] { a, b, c }, run.Result.Files);
        }

        [Fact]
        public void OverlappingFilesAreMergedPacketByPacket()
        {
            using var dir = new TempDir();
            string Make(string name, params int[] seconds) => dir.File(name, Pcap(false, false, 1,
                seconds.Select(i => new PcapRecord(Ticks(i), Ethernet(UdpV4("10.0.0.1", "10.0.0.2", (ushort)i, 53, Payload(4)))))));
            string even = Make("even.pcap", 0, 2, 4, 6);
            string odd = Make("odd.pcap", 1, 3, 5, 7);
            var ng = new PcapNgBuilder(false);
            ng.Interface(101);
            ng.Enhanced(0, Ticks(3, 500), UdpV4("10.0.0.9", "10.0.0.2", 33, 53, Payload(4)));
            string third = dir.File("third.pcapng", ng.ToArray());

            var run = ReadRun.Of(odd, third, even);

            Assert.Equal(new ushort[] { 0, 1, 2, 3, 33, 4, 5, 6, 7 }, run.Packets.Select(p => p.SourcePort));
            Assert.Equal(9, run.Result.PacketCount);
        }

        [Fact]
        public void CancellationStopsPromptlyAndSaysNotCompleted()
        {
            using var dir = new TempDir();
            string path = dir.File("big.pcap", Pcap(false, false, 1,
                Enumerable.Range(0, 50_000).Select(i => new PcapRecord(Ticks(i), Ethernet(UdpV4("10.0.0.1", "10.0.0.2", 1, 53, Payload(4)))))));
            using var cts = new CancellationTokenSource();
            long seen = 0;

            var result = CaptureReader.Read(new[] { path }, (in DecodedPacket p) =>
            {
                if (++seen == 1000)
                {
                    cts.Cancel();
                }
            }, null, NullReporter.Instance, cts.Token);

            Assert.False(result.Completed);
            Assert.InRange(seen, 1000, 1000 + 4096);
            Assert.Equal(seen, result.PacketCount);
        }

        [Fact]
        public void ProgressIsReportedByBytesAndEndsComplete()
        {
            using var dir = new TempDir();
            string path = dir.File("p.pcap", Pcap(false, false, 1,
                Enumerable.Range(0, 20_000).Select(i => new PcapRecord(Ticks(i), Ethernet(UdpV4("10.0.0.1", "10.0.0.2", 1, 53, Payload(4)))))));
            var reporter = new ProgressRecorder();

            var result = CaptureReader.Read(new[] { path }, (in DecodedPacket p) => { }, null, reporter, default);

            Assert.True(result.Completed);
            Assert.NotEmpty(reporter.Fractions);
            Assert.Equal(1.0, reporter.Fractions.Last());
            Assert.All(reporter.Fractions, f => Assert.InRange(f, 0.0, 1.0));
        }

        private sealed class ProgressRecorder : IFluxReporter
        {
            public System.Collections.Generic.List<double> Fractions { get; } = new System.Collections.Generic.List<double>();
            public void Progress(string activity, string status, double fraction) => Fractions.Add(fraction);
            public void Warning(string message) { }
            public void Verbose(string message) { }
            public void Issue(FluxForensics.Model.ParseIssue issue) { }
            public void Error(FluxError error) { }
        }
    }
}

namespace FluxForensics.Tests.Capture
{
    /// <summary>Damaged files never throw, never hang, and the damage is reported.</summary>
    public class CaptureFileMutationTests
    {
        private static byte[] ValidPcapNg(bool bigEndian)
        {
            var b = new PcapNgBuilder(bigEndian);
            b.Interface(1);
            b.Interface(276, tsresol: 9);
            b.Interface(0);
            for (int i = 0; i < 40; i++)
            {
                var ip = i % 2 == 0
                    ? UdpV4("10.0.0.1", "10.0.0.2", (ushort)i, 53, Payload(20 + i))
                    : IPv6("2001:db8::1", "2001:db8::2", 6, Tcp((ushort)i, 80, 1, 2, 0x18, Payload(i)));
                ushort etherType = i % 2 == 0 ? (ushort)0x0800 : (ushort)0x86DD;
                switch (i % 3)
                {
                    case 0: b.Enhanced(0, Ticks(i), Ethernet(ip, etherType, ((ushort)0x8100, (ushort)7))); break;
                    case 1: b.Enhanced(1, Ticks(i), Sll2(ip, etherType)); break;
                    default: b.Enhanced(2, Ticks(i), Null(ip, i % 2 == 0 ? 2u : 24u, bigEndian: false)); break;
                }
            }

            return b.ToArray();
        }

        private static byte[] ValidPcap(bool bigEndian) => Pcap(bigEndian, true, 1,
            Enumerable.Range(0, 40).Select(i => new PcapRecord(Ticks(i), Ethernet(UdpV4("10.0.0.1", "10.0.0.2", (ushort)i, 53, Payload(10 + i))))));

        [Theory]
        [InlineData("pcapng-le")]
        [InlineData("pcapng-be")]
        [InlineData("pcap-le")]
        [InlineData("pcap-be")]
        [InlineData("pcapng-gz")]
        public void RandomlyDamagedFilesAreReadWithoutExceptions(string kind)
        {
            var valid = kind switch
            {
                "pcapng-le" => ValidPcapNg(false),
                "pcapng-be" => ValidPcapNg(true),
                "pcap-le" => ValidPcap(false),
                "pcap-be" => ValidPcap(true),
                _ => ValidPcapNg(false),
            };
            var random = new Random(kind.GetHashCode() & 0x7FFF ^ 4242);
            using var dir = new TempDir();
            string path = dir.Name("m");
            int damagedAndReported = 0;
            for (int iteration = 0; iteration < 150; iteration++)
            {
                var bytes = (byte[])valid.Clone();
                int edits = 1 + random.Next(6);
                for (int e = 0; e < edits; e++)
                {
                    if (bytes.Length < 4)
                    {
                        break;
                    }

                    int at = random.Next(bytes.Length - 2);
                    switch (random.Next(4))
                    {
                        case 0: bytes[at] = (byte)random.Next(256); break;
                        case 1: bytes[at] ^= 0x80; break;
                        case 2: bytes[at & ~3] = 0xFF; bytes[(at & ~3) + 1] = 0xFF; break;
                        default: Array.Resize(ref bytes, Math.Max(0, at)); break;
                    }
                }

                if (kind.EndsWith("gz"))
                {
                    var gz = Gzip(valid);
                    int cut = random.Next(gz.Length);
                    bytes = gz.Take(cut).ToArray();
                    if (iteration % 2 == 0 && cut > 20)
                    {
                        bytes[random.Next(10, cut)] ^= 0x55;
                    }
                }

                System.IO.File.WriteAllBytes(path, bytes);
                var run = ReadRun.Of(path);

                Assert.True(run.Result.Completed);
                Assert.InRange(run.Result.PacketCount, 0, 40 + 40);
                Assert.All(run.Issues, i => Assert.Equal(path, i.Source));
                Assert.All(run.Issues, i => Assert.InRange(i.Offset, -1, valid.Length + 1));
                if (run.Result.PacketCount < 40 && run.Issues.Count > 0)
                {
                    damagedAndReported++;
                }
            }

            Assert.True(damagedAndReported > 0);
        }
    }
}
