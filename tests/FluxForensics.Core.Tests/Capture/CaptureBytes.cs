using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.IO;
using System.IO.Compression;
using System.Linq;
using System.Net;

namespace FluxForensics.Tests.Capture
{
    /// <summary>Builds packets and capture files byte by byte, independently of the writers under test.</summary>
    internal static class CaptureBytes
    {
        public static readonly DateTime T0 = new DateTime(2026, 11, 28, 9, 30, 0, DateTimeKind.Utc);

        public static byte[] IPv4(string source, string destination, byte protocol, byte[] transport, ushort fragment = 0, byte[]? options = null, int? totalLengthOverride = null)
        {
            int optionsLength = options?.Length ?? 0;
            int headerLength = 20 + optionsLength;
            var ip = new byte[headerLength + transport.Length];
            ip[0] = (byte)(0x40 | (headerLength / 4));
            BinaryPrimitives.WriteUInt16BigEndian(ip.AsSpan(2), (ushort)(totalLengthOverride ?? ip.Length));
            BinaryPrimitives.WriteUInt16BigEndian(ip.AsSpan(4), 0x1234);
            BinaryPrimitives.WriteUInt16BigEndian(ip.AsSpan(6), fragment);
            ip[8] = 64;
            ip[9] = protocol;
            IPAddress.Parse(source).GetAddressBytes().CopyTo(ip, 12);
            IPAddress.Parse(destination).GetAddressBytes().CopyTo(ip, 16);
            options?.CopyTo(ip, 20);
            BinaryPrimitives.WriteUInt16BigEndian(ip.AsSpan(10), Checksum(ip.AsSpan(0, headerLength)));
            transport.CopyTo(ip, headerLength);
            return ip;
        }

        /// <summary>IPv6 with optional extension headers given as (next-header code, bytes) in order.</summary>
        public static byte[] IPv6(string source, string destination, byte protocol, byte[] transport, params (byte Code, byte[] Bytes)[] extensions)
        {
            var payload = new List<byte>();
            for (int i = 0; i < extensions.Length; i++)
            {
                var ext = (byte[])extensions[i].Bytes.Clone();
                ext[0] = i + 1 < extensions.Length ? extensions[i + 1].Code : protocol;
                payload.AddRange(ext);
            }

            payload.AddRange(transport);
            var ip = new byte[40 + payload.Count];
            ip[0] = 0x60;
            BinaryPrimitives.WriteUInt16BigEndian(ip.AsSpan(4), (ushort)payload.Count);
            ip[6] = extensions.Length > 0 ? extensions[0].Code : protocol;
            ip[7] = 64;
            IPAddress.Parse(source).GetAddressBytes().CopyTo(ip, 8);
            IPAddress.Parse(destination).GetAddressBytes().CopyTo(ip, 24);
            payload.CopyTo(ip, 40);
            return ip;
        }

        public static byte[] Udp(ushort sourcePort, ushort destinationPort, byte[] payload)
        {
            var udp = new byte[8 + payload.Length];
            BinaryPrimitives.WriteUInt16BigEndian(udp, sourcePort);
            BinaryPrimitives.WriteUInt16BigEndian(udp.AsSpan(2), destinationPort);
            BinaryPrimitives.WriteUInt16BigEndian(udp.AsSpan(4), (ushort)udp.Length);
            payload.CopyTo(udp, 8);
            return udp;
        }

        public static byte[] Tcp(ushort sourcePort, ushort destinationPort, uint seq, uint ack, byte flags, byte[] payload, int optionBytes = 0)
        {
            int headerLength = 20 + optionBytes;
            var tcp = new byte[headerLength + payload.Length];
            BinaryPrimitives.WriteUInt16BigEndian(tcp, sourcePort);
            BinaryPrimitives.WriteUInt16BigEndian(tcp.AsSpan(2), destinationPort);
            BinaryPrimitives.WriteUInt32BigEndian(tcp.AsSpan(4), seq);
            BinaryPrimitives.WriteUInt32BigEndian(tcp.AsSpan(8), ack);
            tcp[12] = (byte)((headerLength / 4) << 4);
            tcp[13] = flags;
            BinaryPrimitives.WriteUInt16BigEndian(tcp.AsSpan(14), 65535);
            for (int i = 20; i < headerLength; i++)
            {
                tcp[i] = 1; // NOP options
            }

            payload.CopyTo(tcp, headerLength);
            return tcp;
        }

        public static byte[] UdpV4(string source, string destination, ushort sourcePort, ushort destinationPort, byte[] payload) =>
            IPv4(source, destination, 17, Udp(sourcePort, destinationPort, payload));

        /// <summary>Ethernet II, with 802.1Q/802.1ad tags given outermost first as (TPID, VLAN id).</summary>
        public static byte[] Ethernet(byte[] ip, ushort etherType = 0x0800, params (ushort Tpid, ushort Vlan)[] tags)
        {
            var frame = new List<byte>
            {
                0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x00, 0x66, 0x77, 0x88, 0x99, 0xAA,
            };
            foreach (var (tpid, vlan) in tags)
            {
                frame.Add((byte)(tpid >> 8));
                frame.Add((byte)tpid);
                frame.Add((byte)(vlan >> 8));
                frame.Add((byte)vlan);
            }

            frame.Add((byte)(etherType >> 8));
            frame.Add((byte)etherType);
            frame.AddRange(ip);
            return frame.ToArray();
        }

        public static byte[] Sll(byte[] ip, ushort protocol = 0x0800)
        {
            var frame = new byte[16 + ip.Length];
            BinaryPrimitives.WriteUInt16BigEndian(frame, 0); // to us
            BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(2), 1); // ARPHRD_ETHER
            BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(4), 6);
            BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(14), protocol);
            ip.CopyTo(frame, 16);
            return frame;
        }

        public static byte[] Sll2(byte[] ip, ushort protocol = 0x0800)
        {
            var frame = new byte[20 + ip.Length];
            BinaryPrimitives.WriteUInt16BigEndian(frame, protocol);
            BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(4), 2); // interface index
            BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(8), 1); // ARPHRD_ETHER
            frame[10] = 4; // outgoing
            frame[11] = 6;
            ip.CopyTo(frame, 20);
            return frame;
        }

        public static byte[] Null(byte[] ip, uint family, bool bigEndian)
        {
            var frame = new byte[4 + ip.Length];
            if (bigEndian)
            {
                BinaryPrimitives.WriteUInt32BigEndian(frame, family);
            }
            else
            {
                BinaryPrimitives.WriteUInt32LittleEndian(frame, family);
            }

            ip.CopyTo(frame, 4);
            return frame;
        }

        public static byte[] Payload(int length, byte seed = 1) => Enumerable.Range(0, length).Select(i => (byte)(seed + i)).ToArray();

        public static long Ticks(int secondsAfterT0, int microseconds = 0) => T0.Ticks + secondsAfterT0 * TimeSpan.TicksPerSecond + microseconds * 10L;

        // ---- classic pcap ----

        public sealed class PcapRecord
        {
            public PcapRecord(long ticks, byte[] frame, int? caplen = null, int? origlen = null, int nanoExtra = 0)
            {
                Ticks = ticks;
                Frame = frame;
                Caplen = caplen;
                Origlen = origlen;
                NanoExtra = nanoExtra;
            }

            public long Ticks { get; }
            public byte[] Frame { get; }
            public int? Caplen { get; }
            public int? Origlen { get; }
            public int NanoExtra { get; }
        }

        public static byte[] Pcap(bool bigEndian, bool nanosecond, uint linkType, IEnumerable<PcapRecord> records, uint snapLength = 65535)
        {
            var ms = new MemoryStream();
            var w = new EndianWriter(ms, bigEndian);
            w.U32(nanosecond ? 0xA1B23C4D : 0xA1B2C3D4);
            w.U16(2);
            w.U16(4);
            w.U32(0);
            w.U32(0);
            w.U32(snapLength);
            w.U32(linkType);
            foreach (var r in records)
            {
                long since = r.Ticks - 621355968000000000L;
                w.U32((uint)(since / TimeSpan.TicksPerSecond));
                long frac = since % TimeSpan.TicksPerSecond;
                w.U32((uint)(nanosecond ? frac * 100 + r.NanoExtra : frac / 10));
                int caplen = r.Caplen ?? r.Frame.Length;
                w.U32((uint)caplen);
                w.U32((uint)(r.Origlen ?? r.Frame.Length));
                ms.Write(r.Frame, 0, Math.Min(caplen, r.Frame.Length));
            }

            return ms.ToArray();
        }

        // ---- pcapng ----

        public sealed class PcapNgBuilder
        {
            private readonly MemoryStream _ms = new MemoryStream();
            private readonly bool _bigEndian;
            private readonly List<(ulong Units, bool Pow2)> _interfaces = new List<(ulong, bool)>();

            public PcapNgBuilder(bool bigEndian)
            {
                _bigEndian = bigEndian;
                Section();
            }

            public long Position => _ms.Position;

            public void Section()
            {
                _interfaces.Clear();
                var body = new MemoryStream();
                var w = new EndianWriter(body, _bigEndian);
                w.U32(0x1A2B3C4D);
                w.U16(1);
                w.U16(0);
                w.U64(ulong.MaxValue);
                Block(0x0A0D0D0A, body.ToArray());
            }

            /// <summary>Adds an interface; tsresol as in the file format (0x80 bit = power of two); null = default microseconds.</summary>
            public int Interface(ushort linkType, byte? tsresol = null, uint snapLength = 65535, long? tsOffsetSeconds = null)
            {
                var body = new MemoryStream();
                var w = new EndianWriter(body, _bigEndian);
                w.U16(linkType);
                w.U16(0);
                w.U32(snapLength);
                if (tsresol is byte r)
                {
                    w.U16(9);
                    w.U16(1);
                    body.WriteByte(r);
                    body.Write(new byte[3], 0, 3);
                }

                if (tsOffsetSeconds is long off)
                {
                    w.U16(14);
                    w.U16(8);
                    w.U64((ulong)off);
                }

                if (tsresol is not null || tsOffsetSeconds is not null)
                {
                    w.U32(0);
                }

                Block(1, body.ToArray());
                ulong units = 1_000_000;
                bool pow2 = false;
                if (tsresol is byte res)
                {
                    pow2 = (res & 0x80) != 0;
                    units = pow2 ? 1UL << (res & 0x7F) : (ulong)Math.Pow(10, res);
                }

                _interfaces.Add((units, pow2));
                return _interfaces.Count - 1;
            }

            public long Enhanced(int interfaceId, long ticks, byte[] frame, int? caplen = null, int? origlen = null)
            {
                long at = _ms.Position;
                var (units, _) = _interfaces[interfaceId];
                long since = ticks - 621355968000000000L;
                ulong ts = (ulong)(since / TimeSpan.TicksPerSecond) * units + (ulong)((decimal)(since % TimeSpan.TicksPerSecond) * units / TimeSpan.TicksPerSecond);
                int captured = caplen ?? frame.Length;
                var body = new MemoryStream();
                var w = new EndianWriter(body, _bigEndian);
                w.U32((uint)interfaceId);
                w.U32((uint)(ts >> 32));
                w.U32((uint)ts);
                w.U32((uint)captured);
                w.U32((uint)(origlen ?? frame.Length));
                body.Write(frame, 0, Math.Min(captured, frame.Length));
                Block(6, Pad(body.ToArray()));
                return at;
            }

            public long Simple(byte[] frame)
            {
                long at = _ms.Position;
                var body = new MemoryStream();
                var w = new EndianWriter(body, _bigEndian);
                w.U32((uint)frame.Length);
                body.Write(frame, 0, frame.Length);
                Block(3, Pad(body.ToArray()));
                return at;
            }

            public long Block(uint type, byte[] body)
            {
                long at = _ms.Position;
                var w = new EndianWriter(_ms, _bigEndian);
                uint length = (uint)(12 + body.Length);
                w.U32(type);
                w.U32(length);
                _ms.Write(body, 0, body.Length);
                w.U32(length);
                return at;
            }

            /// <summary>Raw bytes, e.g. a block with a corrupt length.</summary>
            public long Raw(byte[] bytes)
            {
                long at = _ms.Position;
                _ms.Write(bytes, 0, bytes.Length);
                return at;
            }

            public void U32(uint value) => new EndianWriter(_ms, _bigEndian).U32(value);

            public byte[] ToArray() => _ms.ToArray();

            private static byte[] Pad(byte[] b) => b.Length % 4 == 0 ? b : b.Concat(new byte[4 - (b.Length % 4)]).ToArray();
        }

        public static byte[] Gzip(byte[] data)
        {
            var ms = new MemoryStream();
            using (var gz = new GZipStream(ms, CompressionLevel.Fastest, leaveOpen: true))
            {
                gz.Write(data, 0, data.Length);
            }

            return ms.ToArray();
        }

        private static ushort Checksum(ReadOnlySpan<byte> header)
        {
            uint sum = 0;
            for (int i = 0; i + 1 < header.Length; i += 2)
            {
                sum += BinaryPrimitives.ReadUInt16BigEndian(header.Slice(i));
            }

            while (sum > 0xFFFF)
            {
                sum = (sum & 0xFFFF) + (sum >> 16);
            }

            return (ushort)~sum;
        }

        private sealed class EndianWriter
        {
            private readonly Stream _s;
            private readonly bool _be;

            public EndianWriter(Stream s, bool bigEndian)
            {
                _s = s;
                _be = bigEndian;
            }

            public void U16(ushort v)
            {
                Span<byte> b = stackalloc byte[2];
                if (_be) BinaryPrimitives.WriteUInt16BigEndian(b, v); else BinaryPrimitives.WriteUInt16LittleEndian(b, v);
                _s.Write(b.ToArray(), 0, 2);
            }

            public void U32(uint v)
            {
                Span<byte> b = stackalloc byte[4];
                if (_be) BinaryPrimitives.WriteUInt32BigEndian(b, v); else BinaryPrimitives.WriteUInt32LittleEndian(b, v);
                _s.Write(b.ToArray(), 0, 4);
            }

            public void U64(ulong v)
            {
                Span<byte> b = stackalloc byte[8];
                if (_be) BinaryPrimitives.WriteUInt64BigEndian(b, v); else BinaryPrimitives.WriteUInt64LittleEndian(b, v);
                _s.Write(b.ToArray(), 0, 8);
            }
        }
    }

    /// <summary>A decoded packet copied out of the handler (the ref struct is valid only during the call).</summary>
    internal sealed record SeenPacket(
        DateTime Timestamp, string Source, string Destination, ushort SourcePort, ushort DestinationPort,
        FluxForensics.Capture.TransportProtocol Protocol, FluxForensics.Capture.TcpFlags Flags, uint Sequence, uint Acknowledgment,
        byte[] Payload, int WireLength, bool PayloadTruncated, bool IsFragment);

    /// <summary>Reads files through CaptureReader and keeps everything for assertions.</summary>
    internal sealed class ReadRun
    {
        public List<SeenPacket> Packets { get; } = new List<SeenPacket>();
        public List<FluxForensics.Model.ParseIssue> Issues { get; } = new List<FluxForensics.Model.ParseIssue>();
        public FluxForensics.RecordingReporter Reporter { get; } = new FluxForensics.RecordingReporter();
        public FluxForensics.Capture.CaptureReadResult Result { get; private set; } = null!;

        public static ReadRun Of(params string[] paths) => Of(default, paths);

        public static ReadRun Of(System.Threading.CancellationToken token, params string[] paths)
        {
            var run = new ReadRun();
            run.Result = FluxForensics.Capture.CaptureReader.Read(paths, run.Handle, run.Issues.Add, run.Reporter, token);
            return run;
        }

        private void Handle(in FluxForensics.Capture.DecodedPacket p)
        {
            Packets.Add(new SeenPacket(p.Timestamp, p.Source.ToString(), p.Destination.ToString(), p.SourcePort, p.DestinationPort, p.Protocol,
                p.TcpFlags, p.Sequence, p.Acknowledgment, p.Payload.ToArray(), p.WireLength, p.PayloadTruncated, p.IsFragment));
        }
    }

    /// <summary>A temporary directory removed after the test.</summary>
    internal sealed class TempDir : IDisposable
    {
        public TempDir()
        {
            Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "ff-capture-" + Guid.NewGuid().ToString("N"));
            Directory.CreateDirectory(Path);
        }

        public string Path { get; }

        public string File(string name, byte[] bytes)
        {
            string p = System.IO.Path.Combine(Path, name);
            System.IO.File.WriteAllBytes(p, bytes);
            return p;
        }

        public string Name(string name) => System.IO.Path.Combine(Path, name);

        public void Dispose()
        {
            try
            {
                Directory.Delete(Path, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }
}
