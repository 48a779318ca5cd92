using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.IO;
using System.IO.Compression;
using FluxForensics.Model;

namespace FluxForensics.Capture
{
    public enum CaptureFileFormat
    {
        Unknown = 0,
        Pcap,
        PcapNg,
    }

    /// <summary>
    /// Reads the frames of one capture file (classic pcap in either byte order with micro- or nanosecond
    /// timestamps, pcapng with any number of sections and interfaces, either of them gzip-compressed) without a
    /// native library. Frames are exposed one at a time over a large reusable buffer: <see cref="Frame"/> is valid
    /// until the next <see cref="ReadNext"/>. No allocation per frame. Lengths read from the file are never
    /// trusted: a bad record becomes a <see cref="ParseIssue"/> (file, offset, what) and the reader resynchronises
    /// on the next plausible record or stops cleanly.
    /// </summary>
    public sealed class CaptureFileReader : IDisposable
    {
        /// <summary>Largest record or block the reader buffers (Wireshark uses the same bound for pcapng blocks).</summary>
        public const int MaxRecordBytes = 16 * 1024 * 1024;

        /// <summary>How far the reader scans for the next plausible record after a corrupt one before giving up.</summary>
        public const int MaxResyncScanBytes = 64 * 1024 * 1024;

        private const int DefaultBufferBytes = 1 << 20;
        private const uint PcapMagicMicro = 0xA1B2C3D4;
        private const uint PcapMagicNano = 0xA1B23C4D;
        private const uint PcapMagicModified = 0xA1B2CD34;
        private const uint SectionHeaderType = 0x0A0D0D0A;
        private const uint ByteOrderMagic = 0x1A2B3C4D;
        private const int MaxInterfaces = 65536;
        internal const long UnixEpochTicks = 621355968000000000L;
        private const long MaxTicks = 3155378975999999999L; // DateTime.MaxValue.Ticks

        private readonly Stream _file;
        private readonly Stream _stream;
        private readonly Action<ParseIssue>? _onIssue;
        private byte[] _buffer;
        private int _start;
        private int _end;
        private long _bufferBase; // stream offset of _buffer[0]
        private bool _eof;
        private bool _stopped;
        private bool _bigEndian;

        // classic pcap
        private bool _nanosecond;
        private int _pcapRecordHeader = 16;
        private int _pcapMaxCaplen;
        private int _pcapLinkType;

        // pcapng: interfaces of the current section
        private readonly List<InterfaceInfo> _interfaces = new List<InterfaceInfo>();
        private long _blockCount;

        // the current frame
        private int _frameStart;
        private int _frameLength;

        private readonly struct InterfaceInfo
        {
            public InterfaceInfo(int linkType, int snapLength, ulong unitsPerSecond, long offsetSeconds)
            {
                LinkType = linkType;
                SnapLength = snapLength;
                UnitsPerSecond = unitsPerSecond;
                OffsetSeconds = offsetSeconds;
            }

            public int LinkType { get; }
            public int SnapLength { get; }
            public ulong UnitsPerSecond { get; }
            public long OffsetSeconds { get; }
        }

        /// <summary>Opens <paramref name="path"/>; problems with the header are reported through <paramref name="onIssue"/>, and the reader then yields no frames.</summary>
        public CaptureFileReader(string path, Action<ParseIssue>? onIssue = null, int bufferBytes = DefaultBufferBytes)
            : this(new FileStream(path ?? throw new ArgumentNullException(nameof(path)), FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1, FileOptions.SequentialScan), path, onIssue, bufferBytes)
        {
        }

        /// <summary>Reads from <paramref name="stream"/> (owned: disposed with the reader); <paramref name="name"/> names it in issues.</summary>
        public CaptureFileReader(Stream stream, string name, Action<ParseIssue>? onIssue = null, int bufferBytes = DefaultBufferBytes)
        {
            _file = stream ?? throw new ArgumentNullException(nameof(stream));
            Path = name ?? string.Empty;
            _onIssue = onIssue;
            _buffer = new byte[Math.Max(4096, bufferBytes)];
            try
            {
                FileLength = stream.CanSeek ? stream.Length : -1;
            }
            catch (NotSupportedException)
            {
                FileLength = -1;
            }

            _stream = stream;
            if (Ensure(2) && _buffer[0] == 0x1F && _buffer[1] == 0x8B)
            {
                // gzip: restart on the decompressed stream; offsets in issues are then offsets in the decompressed data.
                IsCompressed = true;
                var head = new byte[_end];
                Array.Copy(_buffer, head, _end);
                _stream = new GZipStream(new PrefixedStream(head, stream), CompressionMode.Decompress, leaveOpen: true);
                _start = _end = 0;
                _bufferBase = 0;
                _eof = false;
            }

            ReadFileHeader();
        }

        /// <summary>The path (or name) issues carry.</summary>
        public string Path { get; }

        public CaptureFileFormat Format { get; private set; }

        /// <summary>True when the file is gzip-compressed (issue offsets are then offsets in the decompressed data).</summary>
        public bool IsCompressed { get; }

        /// <summary>Length of the file on disk, -1 when unknown.</summary>
        public long FileLength { get; }

        /// <summary>Bytes of the file consumed so far (compressed bytes for a gzip file), for progress.</summary>
        public long FilePosition
        {
            get
            {
                try
                {
                    return _file.CanSeek ? _file.Position : -1;
                }
                catch (ObjectDisposedException)
                {
                    return FileLength;
                }
            }
        }

        /// <summary>Link type of the file header (classic pcap) or of the first interface (pcapng); -1 when none.</summary>
        public int FileLinkType => Format == CaptureFileFormat.Pcap ? _pcapLinkType : _interfaces.Count > 0 ? _interfaces[0].LinkType : -1;

        /// <summary>Records (packets) read so far.</summary>
        public long RecordCount { get; private set; }

        /// <summary>Issues this reader found (including those past <see cref="MaxReportedIssues"/>, only counted).</summary>
        public long IssueCount { get; private set; }

        /// <summary>Issues reported one by one per file; the rest are counted in <see cref="IssueCount"/>.</summary>
        public const int MaxReportedIssues = 100;

        /// <summary>True when the reader stopped early because of an unrecoverable problem (reported as an issue).</summary>
        public bool StoppedOnError { get; private set; }

        // ---- the current frame ----

        /// <summary>UTC ticks of the current frame.</summary>
        public long TimestampTicks { get; private set; }

        /// <summary>Link type (LINKTYPE_* value) of the current frame.</summary>
        public int LinkType { get; private set; }

        /// <summary>pcapng interface of the current frame (0 for classic pcap).</summary>
        public int InterfaceId { get; private set; }

        /// <summary>Length of the current frame on the wire (at least the captured length).</summary>
        public int OriginalLength { get; private set; }

        /// <summary>Offset of the current record (pcap record header or pcapng block) in the (decompressed) file.</summary>
        public long RecordOffset { get; private set; }

        /// <summary>The captured bytes of the current frame; valid until the next <see cref="ReadNext"/>.</summary>
        public ReadOnlySpan<byte> Frame => new ReadOnlySpan<byte>(_buffer, _frameStart, _frameLength);

        /// <summary>Moves to the next frame; false at the end of the file or when the reader had to stop.</summary>
        public bool ReadNext()
        {
            if (_stopped)
            {
                return false;
            }

            bool ok = Format == CaptureFileFormat.Pcap ? ReadPcapRecord() : Format == CaptureFileFormat.PcapNg && ReadPcapNgPacket();
            if (ok)
            {
                RecordCount++;
            }
            else
            {
                _stopped = true;
            }

            return ok;
        }

        public void Dispose()
        {
            if (!ReferenceEquals(_stream, _file))
            {
                _stream.Dispose();
            }

            _file.Dispose();
            _stopped = true;
        }

        // ---------------------------------------------------------------- header

        private void ReadFileHeader()
        {
            if (!Ensure(4))
            {
                Report(0, _end == 0 ? "empty file: no capture header" : "file too short for a capture header", "capture file");
                Stop(error: true);
                return;
            }

            uint le = BinaryPrimitives.ReadUInt32LittleEndian(_buffer.AsSpan(_start));
            uint be = BinaryPrimitives.ReadUInt32BigEndian(_buffer.AsSpan(_start));
            if (le == SectionHeaderType)
            {
                Format = CaptureFileFormat.PcapNg;
                return; // the section header is read as the first block
            }

            if (le is PcapMagicMicro or PcapMagicNano or PcapMagicModified)
            {
                _bigEndian = false;
            }
            else if (be is PcapMagicMicro or PcapMagicNano or PcapMagicModified)
            {
                _bigEndian = true;
            }
            else
            {
                string what = be switch
                {
                    0x28B52FFD => "a zstd-compressed file: decompress it first (zstd -d), only gzip is read directly",
                    0x04224D18 => "an lz4-compressed file: decompress it first (lz4 -d), only gzip is read directly",
                    _ when (be >> 8) == 0x425A68 => "a bzip2-compressed file: decompress it first (bunzip2), only gzip is read directly",
                    _ when be == 0xFD377A58 => "an xz-compressed file: decompress it first (xz -d), only gzip is read directly",
                    _ => "not a pcap or pcapng file",
                };
                Report(0, $"{what} (magic 0x{be:X8})", "capture file");
                Stop(error: true);
                return;
            }

            uint magic = _bigEndian ? be : le;
            if (!Ensure(24))
            {
                Report(0, "truncated pcap file header", "pcap header");
                Stop(error: true);
                return;
            }

            Format = CaptureFileFormat.Pcap;
            _nanosecond = magic == PcapMagicNano;
            _pcapRecordHeader = magic == PcapMagicModified ? 24 : 16;
            int snap = (int)Math.Min(U32(_start + 16), (uint)MaxRecordBytes);
            _pcapMaxCaplen = Math.Max(snap, 262144);
            _pcapLinkType = (int)(U32(_start + 20) & 0xFFFF);
            _start += 24;
            if (!PacketDecoder.IsSupportedLinkType(_pcapLinkType))
            {
                Report(20, $"unknown link type {_pcapLinkType}: its packets are counted but not decoded", "pcap header");
            }
        }

        // ---------------------------------------------------------------- classic pcap

        private bool ReadPcapRecord()
        {
            while (true)
            {
                int h = _pcapRecordHeader;
                if (!Ensure(h))
                {
                    if (_end > _start)
                    {
                        Report(Offset(_start), $"truncated last record: {_end - _start} of {h} header bytes present", "pcap record");
                    }

                    return false;
                }

                int p = _start;
                uint caplen = U32(p + 8);
                uint origlen = U32(p + 12);
                if (caplen > (uint)_pcapMaxCaplen)
                {
                    Report(Offset(p), $"corrupt record: captured length {caplen} exceeds the limit {_pcapMaxCaplen}", "pcap record");
                    if (!ResyncPcap())
                    {
                        return false;
                    }

                    continue;
                }

                int total = h + (int)caplen;
                if (!Ensure(total))
                {
                    Report(Offset(p), $"truncated last record: {_end - _start - h} of {caplen} packet bytes present", "pcap record");
                    return false;
                }

                p = _start;
                uint sec = U32(p);
                uint frac = U32(p + 4);
                long ticks = UnixEpochTicks + (long)sec * TimeSpan.TicksPerSecond + (_nanosecond ? frac / 100 : (long)frac * 10);
                TimestampTicks = ticks > MaxTicks ? MaxTicks : ticks;
                LinkType = _pcapLinkType;
                InterfaceId = 0;
                OriginalLength = (int)Math.Min(Math.Max(origlen, caplen), int.MaxValue);
                RecordOffset = Offset(p);
                _frameStart = p + h;
                _frameLength = (int)caplen;
                _start += total;
                return true;
            }
        }

        private bool PlausiblePcapHeader(int p, out int total)
        {
            total = 0;
            uint frac = U32(p + 4);
            uint caplen = U32(p + 8);
            uint origlen = U32(p + 12);
            if (caplen > (uint)_pcapMaxCaplen || origlen < caplen || origlen > MaxRecordBytes || frac >= (_nanosecond ? 1_000_000_000u : 1_000_000u))
            {
                return false;
            }

            // The seconds must lie near the last good record: within a day.
            long sec = U32(p);
            long lastSec = (TimestampTicks - UnixEpochTicks) / TimeSpan.TicksPerSecond;
            if (RecordCount > 0 && Math.Abs(sec - lastSec) > 86400)
            {
                return false;
            }

            total = _pcapRecordHeader + (int)caplen;
            return true;
        }

        /// <summary>After a corrupt record header: scan forward for two consecutive plausible records (or one that ends the file).</summary>
        private bool ResyncPcap()
        {
            long from = Offset(_start);
            int h = _pcapRecordHeader;
            _start++;
            long scanned = 0;
            while (scanned < MaxResyncScanBytes)
            {
                if (!Ensure(h))
                {
                    break;
                }

                if (PlausiblePcapHeader(_start, out int total))
                {
                    bool ensured = Ensure(total + h);
                    if (ensured && PlausiblePcapHeader(_start + total, out _))
                    {
                        Report(from, $"resynchronised at offset {Offset(_start)} after skipping {Offset(_start) - from} bytes", "pcap record");
                        return true;
                    }

                    if (!ensured && _eof && _end - _start == total)
                    {
                        Report(from, $"resynchronised at offset {Offset(_start)} (the last record) after skipping {Offset(_start) - from} bytes", "pcap record");
                        return true;
                    }
                }

                _start++;
                scanned++;
            }

            Report(from, "could not find the next record after a corrupt one; the rest of the file is not read", "pcap record");
            Stop(error: true);
            return false;
        }

        // ---------------------------------------------------------------- pcapng

        private bool ReadPcapNgPacket()
        {
            while (true)
            {
                if (!Ensure(12))
                {
                    if (_end > _start)
                    {
                        Report(Offset(_start), $"truncated last block: {_end - _start} bytes present", "pcapng block");
                    }

                    return false;
                }

                int p = _start;
                uint type = U32(p);
                if (type == SectionHeaderType)
                {
                    uint bomLe = BinaryPrimitives.ReadUInt32LittleEndian(_buffer.AsSpan(p + 8));
                    if (bomLe == ByteOrderMagic)
                    {
                        _bigEndian = false;
                    }
                    else if (BinaryPrimitives.ReadUInt32BigEndian(_buffer.AsSpan(p + 8)) == ByteOrderMagic)
                    {
                        _bigEndian = true;
                    }
                    else
                    {
                        Report(Offset(p), "section header with an unknown byte-order magic", "pcapng block");
                        if (!ResyncPcapNg())
                        {
                            return false;
                        }

                        continue;
                    }
                }
                else if (_blockCount == 0)
                {
                    Report(Offset(p), "the file does not start with a section header block", "pcapng block");
                    Stop(error: true);
                    return false;
                }

                uint length = U32(p + 4);
                if (length < 12 || (length & 3) != 0 || length > MaxRecordBytes)
                {
                    Report(Offset(p), $"corrupt block length {length} (block type 0x{type:X8})", "pcapng block");
                    if (!ResyncPcapNg())
                    {
                        return false;
                    }

                    continue;
                }

                if (!Ensure((int)length))
                {
                    Report(Offset(_start), $"truncated last block: {_end - _start} of {length} bytes present (block type 0x{type:X8})", "pcapng block");
                    return false;
                }

                p = _start;
                if (U32(p + (int)length - 4) != length)
                {
                    Report(Offset(p), $"corrupt block: leading length {length} and trailing length {U32(p + (int)length - 4)} differ (block type 0x{type:X8})", "pcapng block");
                    if (!ResyncPcapNg())
                    {
                        return false;
                    }

                    continue;
                }

                _blockCount++;
                _start += (int)length;
                if (HandleBlock(type, p, (int)length))
                {
                    return true;
                }
            }
        }

        /// <summary>Interprets one well-framed block at <paramref name="p"/>; true when it produced a frame.</summary>
        private bool HandleBlock(uint type, int p, int length)
        {
            int body = p + 8;
            int bodyLength = length - 12;
            switch (type)
            {
                case SectionHeaderType:
                    _interfaces.Clear();
                    return false;

                case 1: // interface description
                    ReadInterface(p, body, bodyLength);
                    return false;

                case 6: // enhanced packet
                case 2: // obsolete packet block
                {
                    if (bodyLength < 20)
                    {
                        Report(Offset(p), $"packet block too short ({length} bytes)", "pcapng block");
                        return false;
                    }

                    int interfaceId = type == 6 ? (int)Math.Min(U32(body), int.MaxValue) : U16(body);
                    uint caplen = U32(body + 12);
                    uint origlen = U32(body + 16);
                    if (caplen > (uint)(bodyLength - 20))
                    {
                        Report(Offset(p), $"captured length {caplen} exceeds the block ({bodyLength - 20} bytes of data)", "pcapng block");
                        return false;
                    }

                    if (interfaceId >= _interfaces.Count)
                    {
                        Report(Offset(p), $"packet for undeclared interface {interfaceId}", "pcapng block");
                        return false;
                    }

                    var iface = _interfaces[interfaceId];
                    ulong ts = ((ulong)U32(body + 4) << 32) | U32(body + 8);
                    SetFrame(iface, interfaceId, ts, p, body + 20, (int)caplen, origlen);
                    return true;
                }

                case 3: // simple packet
                {
                    if (bodyLength < 4)
                    {
                        Report(Offset(p), $"simple packet block too short ({length} bytes)", "pcapng block");
                        return false;
                    }

                    if (_interfaces.Count == 0)
                    {
                        Report(Offset(p), "simple packet block before any interface description", "pcapng block");
                        return false;
                    }

                    var iface = _interfaces[0];
                    uint origlen = U32(body);
                    long caplen = Math.Min(origlen, (uint)(bodyLength - 4));
                    if (iface.SnapLength > 0)
                    {
                        caplen = Math.Min(caplen, iface.SnapLength);
                    }

                    // A simple packet has no timestamp: it takes the previous one.
                    InterfaceId = 0;
                    LinkType = iface.LinkType;
                    OriginalLength = (int)Math.Min(Math.Max(origlen, (uint)caplen), int.MaxValue);
                    RecordOffset = Offset(p);
                    _frameStart = body + 4;
                    _frameLength = (int)caplen;
                    return true;
                }

                default:
                    return false; // name resolution, statistics, custom and unknown blocks are skipped
            }
        }

        private void SetFrame(in InterfaceInfo iface, int interfaceId, ulong ts, int blockStart, int data, int caplen, uint origlen)
        {
            TimestampTicks = ToTicks(ts, iface.UnitsPerSecond, iface.OffsetSeconds);
            LinkType = iface.LinkType;
            InterfaceId = interfaceId;
            OriginalLength = (int)Math.Min(Math.Max(origlen, (uint)caplen), int.MaxValue);
            RecordOffset = Offset(blockStart);
            _frameStart = data;
            _frameLength = caplen;
        }

        internal static long ToTicks(ulong ts, ulong unitsPerSecond, long offsetSeconds)
        {
            long ticks;
            if (unitsPerSecond == 1_000_000)
            {
                ticks = ts > (ulong)(MaxTicks / 10) ? MaxTicks : (long)ts * 10;
            }
            else if (unitsPerSecond == 10_000_000)
            {
                ticks = ts > (ulong)MaxTicks ? MaxTicks : (long)ts;
            }
            else if (unitsPerSecond == 1_000_000_000)
            {
                ticks = (long)(ts / 100);
            }
            else
            {
                ulong seconds = ts / unitsPerSecond;
                ulong frac = ts % unitsPerSecond;
                if (seconds > (ulong)(MaxTicks / TimeSpan.TicksPerSecond))
                {
                    return MaxTicks;
                }

                ulong fracTicks = unitsPerSecond <= (1UL << 40)
                    ? frac * (ulong)TimeSpan.TicksPerSecond / unitsPerSecond
                    : (ulong)(frac / (double)unitsPerSecond * TimeSpan.TicksPerSecond);
                ticks = (long)seconds * TimeSpan.TicksPerSecond + (long)fracTicks;
            }

            ticks += UnixEpochTicks;
            if (offsetSeconds != 0)
            {
                ticks += offsetSeconds * TimeSpan.TicksPerSecond;
            }

            return ticks < 0 ? 0 : ticks > MaxTicks ? MaxTicks : ticks;
        }

        private void ReadInterface(int p, int body, int bodyLength)
        {
            if (bodyLength < 8)
            {
                Report(Offset(p), "interface description block too short", "pcapng block");
                return;
            }

            if (_interfaces.Count >= MaxInterfaces)
            {
                Report(Offset(p), $"more than {MaxInterfaces} interfaces in one section; the rest are ignored", "pcapng block");
                return;
            }

            int linkType = U16(body);
            int snap = (int)Math.Min(U32(body + 4), int.MaxValue);
            ulong units = 1_000_000;
            long offsetSeconds = 0;

            // options: code (2), length (2), value padded to 4; opt_endofopt ends them.
            int o = body + 8;
            int end = body + bodyLength;
            while (o + 4 <= end)
            {
                int code = U16(o);
                int len = U16(o + 2);
                int value = o + 4;
                if (code == 0)
                {
                    break;
                }

                if (value + len > end)
                {
                    Report(Offset(p) + (o - p), $"interface option {code} runs past its block", "pcapng option");
                    break;
                }

                if (code == 9 && len >= 1)
                {
                    byte r = _buffer[value];
                    int exponent = r & 0x7F;
                    bool power2 = (r & 0x80) != 0;
                    if ((power2 && exponent > 63) || (!power2 && exponent > 19))
                    {
                        Report(Offset(p) + (o - p), $"unsupported timestamp resolution 0x{r:X2}; microseconds assumed", "pcapng option");
                    }
                    else
                    {
                        units = power2 ? 1UL << exponent : Pow10(exponent);
                        if (units == 0)
                        {
                            units = 1;
                        }
                    }
                }
                else if (code == 14 && len >= 8)
                {
                    offsetSeconds = (long)U64(value);
                }

                o = value + ((len + 3) & ~3);
            }

            _interfaces.Add(new InterfaceInfo(linkType, snap, units, offsetSeconds));
            if (!PacketDecoder.IsSupportedLinkType(linkType))
            {
                Report(Offset(p), $"interface {_interfaces.Count - 1}: unknown link type {linkType}: its packets are counted but not decoded", "pcapng block");
            }
        }

        private static ulong Pow10(int exponent)
        {
            ulong v = 1;
            for (int i = 0; i < exponent; i++)
            {
                v *= 10;
            }

            return v;
        }

        /// <summary>After a corrupt block: scan 4-byte steps for a known block type whose leading and trailing lengths agree.</summary>
        private bool ResyncPcapNg()
        {
            long from = Offset(_start);
            _start += 4;
            long scanned = 0;
            while (scanned < MaxResyncScanBytes)
            {
                if (!Ensure(12))
                {
                    break;
                }

                uint type = U32(_start);
                bool bigEndian = _bigEndian;
                if (type == SectionHeaderType)
                {
                    // A new section may be in the other byte order: its own byte-order magic says.
                    if (BinaryPrimitives.ReadUInt32LittleEndian(_buffer.AsSpan(_start + 8)) == ByteOrderMagic)
                    {
                        bigEndian = false;
                    }
                    else if (BinaryPrimitives.ReadUInt32BigEndian(_buffer.AsSpan(_start + 8)) == ByteOrderMagic)
                    {
                        bigEndian = true;
                    }
                    else
                    {
                        type = 0;
                    }
                }

                uint length = Read32(_start + 4, bigEndian);
                if ((type is >= 1 and <= 10 or SectionHeaderType) && length >= 12 && (length & 3) == 0 && length <= MaxRecordBytes &&
                    (type != SectionHeaderType || length >= 28))
                {
                    if (Ensure((int)length) && Read32(_start + (int)length - 4, bigEndian) == length)
                    {
                        Report(from, $"resynchronised at offset {Offset(_start)} after skipping {Offset(_start) - from} bytes", "pcapng block");
                        return true;
                    }
                }

                _start += 4;
                scanned += 4;
            }

            Report(from, "could not find the next block after a corrupt one; the rest of the file is not read", "pcapng block");
            Stop(error: true);
            return false;
        }

        // ---------------------------------------------------------------- buffer

        /// <summary>Makes at least <paramref name="count"/> bytes available from <c>_start</c>; false at end of data.</summary>
        private bool Ensure(int count)
        {
            if (_end - _start >= count)
            {
                return true;
            }

            return Fill(count);
        }

        private bool Fill(int count)
        {
            if (_eof)
            {
                return false;
            }

            if (_start + count > _buffer.Length)
            {
                int available = _end - _start;

                // Grow only for data that is really there (a length read from the file allocates nothing by itself);
                // doubling when at least half the buffer would move keeps resynchronising scans linear.
                if (count > _buffer.Length / 2 && available >= _buffer.Length / 2)
                {
                    Grow(available);
                }
                else if (available > 0)
                {
                    Buffer.BlockCopy(_buffer, _start, _buffer, 0, available);
                }

                _bufferBase += _start;
                _start = 0;
                _end = available;
            }

            while (_end - _start < count)
            {
                if (_end == _buffer.Length)
                {
                    Grow(_end - _start); // the buffer is full of real data and the record needs more
                }

                int n;
                try
                {
                    n = _stream.Read(_buffer, _end, _buffer.Length - _end);
                }
                catch (InvalidDataException e)
                {
                    Report(Offset(_end), $"compressed data is corrupt: {e.Message}", "gzip stream");
                    StoppedOnError = true;
                    n = 0;
                }

                if (n <= 0)
                {
                    _eof = true;
                    return false;
                }

                _end += n;
            }

            return true;
        }

        /// <summary>Doubles the buffer, keeping the <paramref name="available"/> bytes from <c>_start</c> at its beginning.</summary>
        private void Grow(int available)
        {
            var bigger = new byte[_buffer.Length * 2];
            Buffer.BlockCopy(_buffer, _start, bigger, 0, available);
            _buffer = bigger;
            _bufferBase += _start;
            _start = 0;
            _end = available;
        }

        private long Offset(int index) => _bufferBase + index;

        private void Stop(bool error)
        {
            _stopped = true;
            StoppedOnError |= error;
        }

        private void Report(long offset, string message, string record)
        {
            // A hostile file can make every block bad: past a cap the issues are only counted.
            if (++IssueCount <= MaxReportedIssues)
            {
                _onIssue?.Invoke(new ParseIssue(Path, offset, message, record));
            }
        }

        private uint Read32(int i, bool bigEndian) => bigEndian
            ? BinaryPrimitives.ReadUInt32BigEndian(new ReadOnlySpan<byte>(_buffer, i, 4))
            : BinaryPrimitives.ReadUInt32LittleEndian(new ReadOnlySpan<byte>(_buffer, i, 4));

        private uint U32(int i) => _bigEndian
            ? BinaryPrimitives.ReadUInt32BigEndian(new ReadOnlySpan<byte>(_buffer, i, 4))
            : BinaryPrimitives.ReadUInt32LittleEndian(new ReadOnlySpan<byte>(_buffer, i, 4));

        private ushort U16(int i) => _bigEndian
            ? BinaryPrimitives.ReadUInt16BigEndian(new ReadOnlySpan<byte>(_buffer, i, 2))
            : BinaryPrimitives.ReadUInt16LittleEndian(new ReadOnlySpan<byte>(_buffer, i, 2));

        private ulong U64(int i) => _bigEndian
            ? BinaryPrimitives.ReadUInt64BigEndian(new ReadOnlySpan<byte>(_buffer, i, 8))
            : BinaryPrimitives.ReadUInt64LittleEndian(new ReadOnlySpan<byte>(_buffer, i, 8));

        /// <summary>Replays the bytes read to sniff the gzip magic, then the rest of the underlying stream.</summary>
        private sealed class PrefixedStream : Stream
        {
            private readonly byte[] _prefix;
            private readonly Stream _inner;
            private int _prefixPosition;

            public PrefixedStream(byte[] prefix, Stream inner)
            {
                _prefix = prefix;
                _inner = inner;
            }

            public override bool CanRead => true;
            public override bool CanSeek => false;
            public override bool CanWrite => false;
            public override long Length => throw new NotSupportedException();
            public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

            public override int Read(byte[] buffer, int offset, int count)
            {
                if (_prefixPosition < _prefix.Length)
                {
                    int n = Math.Min(count, _prefix.Length - _prefixPosition);
                    Buffer.BlockCopy(_prefix, _prefixPosition, buffer, offset, n);
                    _prefixPosition += n;
                    return n;
                }

                return _inner.Read(buffer, offset, count);
            }

            public override void Flush() { }
            public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
            public override void SetLength(long value) => throw new NotSupportedException();
            public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        }
    }
}
