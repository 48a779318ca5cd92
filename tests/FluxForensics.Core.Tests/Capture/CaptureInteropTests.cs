using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using FluxForensics.Capture;
using static FluxForensics.Tests.Capture.CaptureBytes;

namespace FluxForensics.Tests.Capture
{
    /// <summary>The writers, the corpus and libpcap's own reader (tcpdump) agree with the managed reader.</summary>
    public class CaptureInteropTests
    {
        internal static string? Tool(string name) =>
            new[] { "/usr/bin/", "/usr/sbin/", "/usr/local/bin/", "/usr/local/sbin/" }.Select(d => d + name).FirstOrDefault(File.Exists);

        /// <summary>Packet count as tcpdump reads it (stdout lines), or null if tcpdump failed.</summary>
        internal static int CountWithTcpdump(string path)
        {
            var psi = new ProcessStartInfo(Tool("tcpdump")!, $"-nn -r \"{path}\"")
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            using var p = Process.Start(psi)!;
            var err = p.StandardError.ReadToEndAsync();
            int lines = 0;
            while (p.StandardOutput.ReadLine() is not null)
            {
                lines++;
            }

            p.WaitForExit();
            _ = err.Result;
            return lines;
        }

        internal static string CorpusCaptures =>
            Path.GetFullPath(Path.Combine(RepoRoot(), "..", "shared", "corpus", "captures"));

        private static string RepoRoot()
        {
            var dir = new DirectoryInfo(AppContext.BaseDirectory);
            while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "FluxForensics.sln")))
            {
                dir = dir.Parent;
            }

            return dir?.FullName ?? throw new InvalidOperationException("repository root not found above " + AppContext.BaseDirectory);
        }

        private static List<byte[]> MixedFrames(int count)
        {
            var frames = new List<byte[]>();
            for (int i = 0; i < count; i++)
            {
                frames.Add((i % 3) switch
                {
                    0 => Ethernet(UdpV4("10.0.0." + (1 + (i % 200)), "10.0.0.254", (ushort)(1024 + i), 53, Payload(30 + (i % 50), (byte)i))),
                    1 => Ethernet(IPv4("10.0.1.1", "192.0.2.80", 6, Tcp((ushort)(2000 + i), 80, (uint)i * 1000, 1, 0x18, Payload(i % 300)))),
                    _ => Ethernet(IPv6("2001:db8::" + (i % 50 + 1).ToString("x"), "2001:db8::53", 17, Udp(5353, 53, Payload(20))), 0x86DD),
                });
            }

            return frames;
        }

        [Theory]
        [InlineData(false, false)]
        [InlineData(true, true)]
        public void PcapWriterRoundTrips(bool nanosecond, bool bigEndian)
        {
            using var dir = new TempDir();
            string path = dir.Name("w.pcap");
            var frames = MixedFrames(300);
            using (var w = new PcapWriter(File.Create(path), 1, snapLength: 128, nanosecond: nanosecond, bigEndian: bigEndian))
            {
                for (int i = 0; i < frames.Count; i++)
                {
                    w.WritePacket(Ticks(i, i), frames[i]);
                }
            }

            var run = ReadRun.Of(path);

            Assert.Equal(300, run.Result.PacketCount);
            Assert.Equal(300, run.Packets.Count);
            Assert.Equal(Enumerable.Range(0, 300).Select(i => T0.AddSeconds(i).AddTicks(i * 10)), run.Packets.Select(p => p.Timestamp));
            Assert.Equal(frames.Select(f => f.Length), run.Packets.Select(p => p.WireLength));
            Assert.Equal(frames.Select(f => f.Length > 128), run.Packets.Select(p => p.PayloadTruncated));
        }

        [Fact]
        public void PcapNgWriterRoundTripsWithSeveralInterfaces()
        {
            using var dir = new TempDir();
            string path = dir.Name("w.pcapng");
            using (var w = PcapNgWriter.Create(path))
            {
                int eth = w.AddInterface(1, name: "eth0");
                int raw = w.AddInterface(101, timestampDecimals: 9);
                int sll2 = w.AddInterface(276, timestampDecimals: 7);
                w.WriteRawBlock(0x00000BAD, new byte[] { 1, 2, 3 });
                w.WritePacket(eth, Ticks(0, 1), Ethernet(UdpV4("10.0.0.1", "10.0.0.2", 1, 53, Payload(5))));
                w.WritePacket(raw, Ticks(1) + 3, UdpV4("10.0.0.1", "10.0.0.2", 2, 53, Payload(6)));
                w.WritePacket(sll2, Ticks(2) + 1, Sll2(UdpV4("10.0.0.1", "10.0.0.2", 3, 53, Payload(7))));
                w.WritePacket(eth, Ticks(3), Ethernet(UdpV4("10.0.0.1", "10.0.0.2", 4, 53, Payload(8))).Take(46).ToArray(), originalLength: 50);
            }

            var run = ReadRun.Of(path);

            Assert.DoesNotContain(run.Issues, i => !i.Message.Contains("snap length"));
            Assert.Equal(new ushort[] { 1, 2, 3, 4 }, run.Packets.Select(p => p.SourcePort));
            Assert.Equal(new[] { T0.AddTicks(10), T0.AddSeconds(1).AddTicks(3), T0.AddSeconds(2).AddTicks(1), T0.AddSeconds(3) }, run.Packets.Select(p => p.Timestamp));
            Assert.True(run.Packets[3].PayloadTruncated);
            Assert.Equal(50, run.Packets[3].WireLength);
        }

        [SkippableTheory]
        [InlineData("pcap")]
        [InlineData("pcapng")]
        public void TcpdumpReadsWhatTheWritersWriteAndCountsAgree(string format)
        {
            Skip.If(Tool("tcpdump") is null, "tcpdump is not installed (apt-get install tcpdump)");
            using var dir = new TempDir();
            string path = dir.Name("interop." + format);
            var frames = MixedFrames(1000);
            if (format == "pcap")
            {
                using var w = PcapWriter.Create(path, 1);
                for (int i = 0; i < frames.Count; i++)
                {
                    w.WritePacket(Ticks(i), frames[i]);
                }
            }
            else
            {
                using var w = PcapNgWriter.Create(path);
                int eth = w.AddInterface(1, timestampDecimals: 9);
                for (int i = 0; i < frames.Count; i++)
                {
                    w.WritePacket(eth, Ticks(i), frames[i]);
                }
            }

            var run = ReadRun.Of(path);

            Assert.Empty(run.Issues);
            Assert.Equal(1000, CountWithTcpdump(path));
            Assert.Equal(1000, run.Result.PacketCount);
        }

        [SkippableFact]
        public void EveryCorpusCaptureIsReadWithoutExceptionAndCountsAgreeWithTcpdump()
        {
            Skip.IfNot(Directory.Exists(CorpusCaptures), $"corpus not found at {CorpusCaptures}");
            var files = Directory.EnumerateFiles(CorpusCaptures, "*", SearchOption.AllDirectories)
                .Where(f => f.EndsWith(".pcap", StringComparison.OrdinalIgnoreCase) || f.EndsWith(".pcapng", StringComparison.OrdinalIgnoreCase) ||
                            f.EndsWith(".gz", StringComparison.OrdinalIgnoreCase))
                .OrderBy(f => f, StringComparer.Ordinal)
                .ToList();
            Assert.NotEmpty(files);
            bool haveTcpdump = Tool("tcpdump") is not null;
            foreach (var file in files)
            {
                var run = ReadRun.Of(file);
                Assert.True(run.Result.Completed, file);
                Assert.Empty(run.Reporter.Errors);
                Assert.True(run.Result.PacketCount > 0, file);
                Assert.True(run.Result.DecodedPacketCount > 0, file);
                if (haveTcpdump)
                {
                    Assert.True(CountWithTcpdump(file) == run.Result.PacketCount, $"{file}: tcpdump {CountWithTcpdump(file)} packets, reader {run.Result.PacketCount}");
                }
            }
        }

        [SkippableFact]
        public void ZeekDns53PacketsDecodeToTheQueryAndAnswer()
        {
            string path = Path.Combine(CorpusCaptures, "zeek__zeek", "testing", "btest", "Traces", "dns53.pcap");
            Skip.IfNot(File.Exists(path), $"corpus file not found: {path}");

            var run = ReadRun.Of(path);

            Assert.Empty(run.Issues);
            Assert.All(run.Packets, p => Assert.Equal(TransportProtocol.Udp, p.Protocol));
            Assert.Contains(run.Packets, p => p.SourcePort == 53 || p.DestinationPort == 53);
        }

        [SkippableTheory]
        [InlineData("pcapng", "")]
        [InlineData("pcapng", "gzip")]
        [InlineData("pcap", "nsec")]
        public void CorpusConvertedByEditcapDecodesExactlyLikeTheOriginal(string format, string variant)
        {
            Skip.If(Tool("editcap") is null, "editcap is not installed (apt-get install tshark)");
            Skip.IfNot(Directory.Exists(CorpusCaptures), $"corpus not found at {CorpusCaptures}");
            using var dir = new TempDir();
            var originals = Directory.EnumerateFiles(CorpusCaptures, "*.pcap", SearchOption.AllDirectories).OrderBy(f => f, StringComparer.Ordinal).ToList();
            foreach (var original in originals)
            {
                string converted = dir.Name(Path.GetFileName(original) + "." + format);
                string args = variant == "nsec" ? $"-F nsecpcap \"{original}\" \"{converted}\"" : $"-F pcapng \"{original}\" \"{converted}\"";
                using (var p = Process.Start(new ProcessStartInfo(Tool("editcap")!, args) { UseShellExecute = false, RedirectStandardError = true })!)
                {
                    p.StandardError.ReadToEnd();
                    p.WaitForExit();
                    Assert.Equal(0, p.ExitCode);
                }

                if (variant == "gzip")
                {
                    var gz = converted + ".gz";
                    File.WriteAllBytes(gz, Gzip(File.ReadAllBytes(converted)));
                    converted = gz;
                }

                var a = ReadRun.Of(original);
                var b = ReadRun.Of(converted);
                Assert.Empty(b.Issues);
                Assert.Equal(a.Result.PacketCount, b.Result.PacketCount);
                Assert.Equal(a.Packets.Count, b.Packets.Count);
                for (int i = 0; i < a.Packets.Count; i++)
                {
                    Assert.Equal(a.Packets[i] with { Payload = Array.Empty<byte>() }, b.Packets[i] with { Payload = Array.Empty<byte>() });
                    Assert.Equal(a.Packets[i].Payload, b.Packets[i].Payload);
                }
            }
        }

        [Theory]
        [InlineData(true)]
        [InlineData(false)]
        public void ALengthReadFromTheFileAllocatesNothingByItself(bool pcapng)
        {
            // A 2 KB file whose record claims 16 MB: the reader must not allocate for bytes that are not there.
            byte[] bytes;
            if (pcapng)
            {
                var b = new PcapNgBuilder(false);
                b.Interface(1);
                b.U32(6);
                b.U32(16 * 1024 * 1024 - 64);
                b.Raw(new byte[2000]);
                bytes = b.ToArray();
            }
            else
            {
                bytes = Pcap(false, false, 1, new[] { new PcapRecord(Ticks(0), new byte[2000], caplen: 16 * 1024 * 1024 - 64) }, snapLength: 16 * 1024 * 1024);
            }

            CaptureReader.Read(Array.Empty<string>(), (in DecodedPacket p) => { }, null, null, default); // warm up
            using var stream = new MemoryStream(bytes);
            long before = GC.GetAllocatedBytesForCurrentThread();
            using (var reader = new CaptureFileReader(stream, "lying", _ => { }, 64 * 1024))
            {
                while (reader.ReadNext())
                {
                }
            }

            long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            Assert.True(allocated < 1024 * 1024, $"allocated {allocated:N0} bytes");
        }

        [Fact]
        public void ReadingAllocatesNothingPerPacket()
        {
            using var dir = new TempDir();
            string small = dir.Name("small.pcap");
            string large = dir.Name("large.pcap");
            var frames = MixedFrames(64);
            foreach (var (path, count) in new[] { (small, 2_000), (large, 40_000) })
            {
                using var w = PcapWriter.Create(path, 1);
                for (int i = 0; i < count; i++)
                {
                    w.WritePacket(Ticks(i), frames[i % frames.Count]);
                }
            }

            long sum = 0;
            PacketHandler handler = (in DecodedPacket p) => sum += p.Payload.Length + p.SourcePort;
            CaptureReader.Read(new[] { small }, handler, null, NullReporter.Instance, default); // warm up

            long Measure(string path)
            {
                long before = GC.GetAllocatedBytesForCurrentThread();
                CaptureReader.Read(new[] { path }, handler, null, NullReporter.Instance, default);
                return GC.GetAllocatedBytesForCurrentThread() - before;
            }

            long smallBytes = Measure(small);
            long largeBytes = Measure(large);

            // 38,000 more packets must cost (almost) nothing more than the fixed buffers.
            Assert.True(largeBytes - smallBytes < 16 * 1024, $"small {smallBytes} B, large {largeBytes} B");
            Assert.True(sum > 0);
        }
    }
}
