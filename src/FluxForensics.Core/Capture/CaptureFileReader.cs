using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.IO;
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
    public sealed partial class CaptureFileReader : IDisposable
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

        // the current frame
        private int _frameStart;
        private int _frameLength;

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
                IsCompressed = true;
                _stream = RestartOnDecompressed(stream);
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

            ReadPcapFileHeader(_bigEndian ? be : le);
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
    }
}
