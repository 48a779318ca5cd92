using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using FluxForensics.Capture;
using FluxForensics.Fixtures.Capture;
using FluxForensics.Model;

namespace FluxForensics.Tests.Capture
{
    /// <summary>
    /// The relay-mix benchmark capture (bench-relay-mix): big packets on average, every copy of the incident sample
    /// analysed as the sample is (the same relay findings per copy), and every packet as a real stack would send it —
    /// checksums right, each TCP stream without a hole, fresh ports, sequence numbers and DNS ids per copy.
    /// The file is read here byte by byte, independently of the engine, and then by the engine.
    /// </summary>
    public sealed class RelayMixTests : IClassFixture<RelayMixTests.Mix>
    {
        private readonly Mix _mix;

        public RelayMixTests(Mix mix) => _mix = mix;

        public sealed class Mix : IDisposable
        {
            public Mix()
            {
                Folder = Path.Combine(Path.GetTempPath(), "flux-relay-mix-" + Guid.NewGuid().ToString("N"));
                Directory.CreateDirectory(Folder);
                CapturePath = Path.Combine(Folder, "mix.pcap");
                // A small mix, but at least two copies: the least that shows copies are independent (fresh ports and
                // sequence numbers) and that findings scale with them.
                Result = RelayMix.Write(CapturePath, 20_000, new RelayMixOptions { MinimumCopies = 2 });
                Packets = PcapRecords(CapturePath).ToList();
            }

            public string Folder { get; }
            public string CapturePath { get; }
            public RelayMixResult Result { get; }
            public List<(long Ticks, byte[] Frame)> Packets { get; }

            public void Dispose() => Directory.Delete(Folder, true);
        }

        [Fact]
        public void The_mix_has_at_least_the_asked_packets_in_whole_copies_and_averages_500_bytes_or_more()
        {
            var r = _mix.Result;
            Assert.True(r.Copies >= 2, $"copies={r.Copies}");
            Assert.True(r.Packets >= 20_000);
            Assert.Equal((long)r.Copies * r.PacketsPerCopy, r.Packets);
            Assert.Equal(r.Packets, _mix.Packets.Count);
            long bytes = _mix.Packets.Sum(p => (long)p.Frame.Length);
            Assert.Equal(r.FrameBytes, bytes);
            Assert.True(bytes / (double)_mix.Packets.Count >= 500, $"average {bytes / (double)_mix.Packets.Count:F1} bytes");

            // In time order, and each copy entirely after the one before.
            for (int i = 1; i < _mix.Packets.Count; i++)
            {
                Assert.True(_mix.Packets[i].Ticks >= _mix.Packets[i - 1].Ticks, $"packet {i} goes back in time");
            }

            for (int copy = 0; copy < r.Copies; copy++)
            {
                var times = _mix.Packets.Skip(copy * r.PacketsPerCopy).Take(r.PacketsPerCopy).Select(p => new DateTime(p.Ticks, DateTimeKind.Utc)).ToList();
                Assert.All(times, t => Assert.Equal(copy, r.CopyOf(t)));
            }
        }

        [Fact]
        public void Every_checksum_is_right()
        {
            int tcp = 0, udp = 0;
            foreach (var (_, f) in _mix.Packets)
            {
                Assert.Equal(0x0800, BinaryPrimitives.ReadUInt16BigEndian(f.AsSpan(12)));
                int ihl = (f[14] & 0x0F) * 4;
                int total = BinaryPrimitives.ReadUInt16BigEndian(f.AsSpan(16));
                Assert.Equal(0, Fold(f.AsSpan(14, ihl), 0));
                var l4 = f.AsSpan(14 + ihl, total - ihl);
                uint pseudo = Sum(f.AsSpan(26, 8)) + f[23] + (uint)l4.Length;
                if (f[23] == 6)
                {
                    tcp++;
                    Assert.Equal(0, Fold(l4, pseudo));
                }
                else if (f[23] == 17)
                {
                    udp++;
                    Assert.True(BinaryPrimitives.ReadUInt16BigEndian(l4.Slice(6)) == 0 || Fold(l4, pseudo) == 0, "UDP checksum");
                }
            }

            Assert.True(tcp > 0 && udp > 0);
        }

        [Fact]
        public void Every_TCP_stream_is_whole_and_copies_get_fresh_ports_sequence_numbers_and_DNS_ids()
        {
            var next = new Dictionary<(uint, ushort, uint, ushort), uint>();
            var synsByCopy = new Dictionary<int, List<(uint Address, ushort Port, uint Isn)>>();
            var dnsIdsByCopy = new Dictionary<int, List<ushort>>();
            int index = 0, checkedSegments = 0;
            foreach (var (_, f) in _mix.Packets)
            {
                int copy = index++ / _mix.Result.PacketsPerCopy;
                int ihl = (f[14] & 0x0F) * 4;
                int total = BinaryPrimitives.ReadUInt16BigEndian(f.AsSpan(16));
                var l4 = f.AsSpan(14 + ihl, total - ihl);
                uint src = BinaryPrimitives.ReadUInt32BigEndian(f.AsSpan(26));
                uint dst = BinaryPrimitives.ReadUInt32BigEndian(f.AsSpan(30));
                ushort sport = BinaryPrimitives.ReadUInt16BigEndian(l4);
                ushort dport = BinaryPrimitives.ReadUInt16BigEndian(l4.Slice(2));
                if (f[23] == 17)
                {
                    if (dport == 53)
                    {
                        Get(dnsIdsByCopy, copy).Add(BinaryPrimitives.ReadUInt16BigEndian(l4.Slice(8)));
                    }

                    continue;
                }

                uint seq = BinaryPrimitives.ReadUInt32BigEndian(l4.Slice(4));
                byte flags = l4[13];
                int payload = l4.Length - (l4[12] >> 4) * 4;
                var key = (src, sport, dst, dport);
                if ((flags & 0x02) != 0)
                {
                    next[key] = seq + 1;
                    if ((flags & 0x10) == 0)
                    {
                        Get(synsByCopy, copy).Add((src, sport, seq));
                    }

                    continue;
                }

                Assert.True(next.TryGetValue(key, out uint expected), "a segment before its SYN");
                if ((flags & 0x10) != 0)
                {
                    // Acknowledges exactly what the other side has sent so far (the generator acknowledges every segment).
                    Assert.Equal(next[(dst, dport, src, sport)], BinaryPrimitives.ReadUInt32BigEndian(l4.Slice(8)));
                }

                if (payload > 0 || (flags & 0x01) != 0)
                {
                    // No hole, no overlap: each segment starts where the last one of its direction ended.
                    Assert.Equal(expected, seq);
                    next[key] = seq + (uint)payload + ((flags & 0x01) != 0 ? 1u : 0u);
                    checkedSegments++;
                }
            }

            Assert.True(checkedSegments > 1000);
            var first = synsByCopy[0];
            for (int copy = 1; copy < _mix.Result.Copies; copy++)
            {
                var syns = synsByCopy[copy];
                Assert.Equal(first.Count, syns.Count);
                // The same clients in the same order, on other ports and with other initial sequence numbers.
                Assert.Equal(first.Select(s => s.Address), syns.Select(s => s.Address));
                Assert.True(first.Zip(syns, (a, b) => a.Port != b.Port).Count(x => x) > first.Count * 9 / 10, "client ports are not fresh");
                Assert.True(first.Zip(syns, (a, b) => a.Isn != b.Isn).All(x => x), "initial sequence numbers are not fresh");
                Assert.Equal(dnsIdsByCopy[0].Count, dnsIdsByCopy[copy].Count);
                Assert.True(dnsIdsByCopy[0].Zip(dnsIdsByCopy[copy], (a, b) => a != b).All(x => x), "DNS ids are not fresh");
            }
        }

        [Fact]
        public void The_engine_finds_each_copys_relays_without_a_gap()
        {
            var findings = new CaptureAnalysis(new CaptureAnalysisOptions(), null).AnalyzeFiles(new[] { _mix.CapturePath }, default);
            var summary = Assert.IsType<CaptureSummary>(findings[findings.Count - 1]);
            Assert.Equal(_mix.Result.Packets, summary.PacketCount);
            Assert.DoesNotContain(summary.ParseIssues, i => i.Message.IndexOf("missing", StringComparison.OrdinalIgnoreCase) >= 0);

            var r = _mix.Result;
            var sessions = findings.OfType<RelaySession>().GroupBy(s => r.CopyOf(s.Start)).ToDictionary(g => g.Key, g => g.Count());
            var downloads = findings.OfType<FluxDownload>().GroupBy(d => r.CopyOf(d.Time)).ToDictionary(g => g.Key, g => g.Count());
            Assert.Equal(Enumerable.Range(0, r.Copies), sessions.Keys.OrderBy(k => k));
            Assert.Equal(Enumerable.Range(0, r.Copies), downloads.Keys.OrderBy(k => k));
            Assert.True(sessions[0] > 0 && downloads[0] > 0);
            // Every copy is the sample again: the same number of relayed sessions and downloads in each.
            Assert.All(sessions.Values, n => Assert.Equal(sessions[0], n));
            Assert.All(downloads.Values, n => Assert.Equal(downloads[0], n));
            Assert.Equal(r.Copies * sessions[0], findings.OfType<RelaySession>().Count());
        }

        private static List<T> Get<T>(Dictionary<int, List<T>> d, int key)
        {
            if (!d.TryGetValue(key, out var list))
            {
                d[key] = list = new List<T>();
            }

            return list;
        }

        private static uint Sum(ReadOnlySpan<byte> data)
        {
            uint sum = 0;
            int i = 0;
            for (; i + 1 < data.Length; i += 2)
            {
                sum += (uint)(data[i] << 8 | data[i + 1]);
            }

            if (i < data.Length)
            {
                sum += (uint)(data[i] << 8);
            }

            return sum;
        }

        /// <summary>The one's complement of the folded sum: 0 when the data carries a right checksum.</summary>
        private static int Fold(ReadOnlySpan<byte> data, uint start)
        {
            ulong sum = (ulong)start + Sum(data);
            while ((sum >> 16) != 0)
            {
                sum = (sum & 0xFFFF) + (sum >> 16);
            }

            return (ushort)~sum;
        }

        /// <summary>Classic pcap, little-endian, microseconds, Ethernet: what the generator writes; read without the engine.</summary>
        private static IEnumerable<(long Ticks, byte[] Frame)> PcapRecords(string path)
        {
            using var stream = new BufferedStream(File.OpenRead(path), 1 << 20);
            var header = new byte[24];
            Assert.Equal(24, stream.Read(header, 0, 24));
            Assert.Equal(0xA1B2C3D4u, BinaryPrimitives.ReadUInt32LittleEndian(header));
            Assert.Equal(1u, BinaryPrimitives.ReadUInt32LittleEndian(header.AsSpan(20)));
            var record = new byte[16];
            long epoch = new DateTime(1970, 1, 1, 0, 0, 0, DateTimeKind.Utc).Ticks;
            while (ReadFully(stream, record, 16))
            {
                long seconds = BinaryPrimitives.ReadUInt32LittleEndian(record);
                long micros = BinaryPrimitives.ReadUInt32LittleEndian(record.AsSpan(4));
                int captured = (int)BinaryPrimitives.ReadUInt32LittleEndian(record.AsSpan(8));
                Assert.Equal(captured, (int)BinaryPrimitives.ReadUInt32LittleEndian(record.AsSpan(12)));
                var frame = new byte[captured];
                Assert.True(ReadFully(stream, frame, captured), "truncated record");
                yield return (epoch + seconds * TimeSpan.TicksPerSecond + micros * 10, frame);
            }
        }

        private static bool ReadFully(Stream stream, byte[] buffer, int count)
        {
            int read = 0;
            while (read < count)
            {
                int n = stream.Read(buffer, read, count - read);
                if (n == 0)
                {
                    return false;
                }

                read += n;
            }

            return true;
        }
    }
}
