using System;
using System.Buffers.Binary;
using System.IO;
using System.Text;

namespace FluxForensics.Capture
{
    /// <summary>
    /// Writes pcapng: one section header, interface descriptions (any link type, any decimal timestamp resolution),
    /// enhanced packet blocks. Used for -SavePath of live capture and by the test and benchmark generators.
    /// Buffered; no allocation per packet.
    /// </summary>
    public sealed class PcapNgWriter : IDisposable
    {
        private const int BufferBytes = 256 * 1024;
        private readonly Stream _stream;
        private readonly bool _leaveOpen;
        private readonly bool _bigEndian;
        private readonly byte[] _buffer = new byte[BufferBytes];
        private readonly System.Collections.Generic.List<ulong> _unitsPerSecond = new System.Collections.Generic.List<ulong>();
        private int _used;
        private bool _disposed;

        /// <summary>Starts a section on <paramref name="stream"/>; <paramref name="bigEndian"/> writes big-endian blocks (for tests of readers).</summary>
        public PcapNgWriter(Stream stream, bool leaveOpen = false, string? application = "FluxForensics", bool bigEndian = false)
        {
            _stream = stream ?? throw new ArgumentNullException(nameof(stream));
            _leaveOpen = leaveOpen;
            _bigEndian = bigEndian;

            // SHB: type, length, byte-order magic, version 1.0, section length -1 (unknown), options, length
            int optionsLength = application is null ? 0 : OptionLength(Encoding.UTF8.GetByteCount(application)) + 4;
            int length = 28 + optionsLength;
            var block = Reserve(length);
            U32(block, 0, 0x0A0D0D0A);
            U32(block, 4, (uint)length);
            U32(block, 8, 0x1A2B3C4D);
            U16(block, 12, 1);
            U16(block, 14, 0);
            U64(block, 16, ulong.MaxValue);
            int o = 24;
            if (application is not null)
            {
                o = WriteStringOption(block, o, 4, application); // shb_userappl
                U32(block, o, 0); // opt_endofopt
                o += 4;
            }

            U32(block, o, (uint)length);
            Commit(length);
        }

        /// <summary>Creates (or overwrites) <paramref name="path"/>.</summary>
        public static PcapNgWriter Create(string path) => new PcapNgWriter(new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.Read, 1));

        /// <summary>Number of interfaces declared.</summary>
        public int InterfaceCount => _unitsPerSecond.Count;

        /// <summary>
        /// Declares an interface and returns its id. <paramref name="timestampDecimals"/> is the if_tsresol power of ten
        /// (6 = microseconds, 9 = nanoseconds, 7 = .NET ticks).
        /// </summary>
        public int AddInterface(int linkType, int snapLength = 262144, string? name = null, int timestampDecimals = 6)
        {
            if (timestampDecimals < 0 || timestampDecimals > 9)
            {
                throw new ArgumentOutOfRangeException(nameof(timestampDecimals), "0 to 9 decimals.");
            }

            int optionsLength = 0;
            if (name is not null)
            {
                optionsLength += OptionLength(Encoding.UTF8.GetByteCount(name));
            }

            if (timestampDecimals != 6)
            {
                optionsLength += 8;
            }

            if (optionsLength > 0)
            {
                optionsLength += 4;
            }

            int length = 20 + optionsLength;
            var block = Reserve(length);
            U32(block, 0, 1);
            U32(block, 4, (uint)length);
            U16(block, 8, (ushort)linkType);
            U16(block, 10, 0);
            U32(block, 12, (uint)snapLength);
            int o = 16;
            if (name is not null)
            {
                o = WriteStringOption(block, o, 2, name); // if_name
            }

            if (timestampDecimals != 6)
            {
                U16(block, o, 9); // if_tsresol
                U16(block, o + 2, 1);
                U32(block, o + 4, 0);
                block[o + 4] = (byte)timestampDecimals;
                o += 8;
            }

            if (optionsLength > 0)
            {
                U32(block, o, 0);
                o += 4;
            }

            U32(block, o, (uint)length);
            Commit(length);
            ulong units = 1;
            for (int i = 0; i < timestampDecimals; i++)
            {
                units *= 10;
            }

            _unitsPerSecond.Add(units);
            return _unitsPerSecond.Count - 1;
        }

        /// <summary>Writes one enhanced packet block; <paramref name="originalLength"/> -1 means the frame was captured whole.</summary>
        public void WritePacket(int interfaceId, long timestampTicks, ReadOnlySpan<byte> frame, int originalLength = -1)
        {
            if ((uint)interfaceId >= (uint)_unitsPerSecond.Count)
            {
                throw new ArgumentOutOfRangeException(nameof(interfaceId), "Declare the interface first.");
            }

            ulong units = _unitsPerSecond[interfaceId];
            long sinceEpoch = Math.Max(0, timestampTicks - CaptureFileReader.UnixEpochTicks);
            ulong ts = units >= 10_000_000
                ? (ulong)sinceEpoch * (units / 10_000_000)
                : (ulong)sinceEpoch / (10_000_000 / units);
            int padded = (frame.Length + 3) & ~3;
            int length = 32 + padded;
            var block = Reserve(length);
            U32(block, 0, 6);
            U32(block, 4, (uint)length);
            U32(block, 8, (uint)interfaceId);
            U32(block, 12, (uint)(ts >> 32));
            U32(block, 16, (uint)ts);
            U32(block, 20, (uint)frame.Length);
            U32(block, 24, (uint)(originalLength < 0 ? frame.Length : Math.Max(originalLength, frame.Length)));
            frame.CopyTo(block.Slice(28));
            block.Slice(28 + frame.Length, padded - frame.Length).Clear();
            U32(block, 28 + padded, (uint)length);
            Commit(length);
        }

        /// <summary>Writes a block of any type with the given body (padded to 4 bytes), e.g. a custom block a reader must skip.</summary>
        public void WriteRawBlock(uint type, ReadOnlySpan<byte> body)
        {
            int padded = (body.Length + 3) & ~3;
            int length = 12 + padded;
            var block = Reserve(length);
            U32(block, 0, type);
            U32(block, 4, (uint)length);
            body.CopyTo(block.Slice(8));
            block.Slice(8 + body.Length, padded - body.Length).Clear();
            U32(block, 8 + padded, (uint)length);
            Commit(length);
        }

        public void Flush()
        {
            if (_used > 0)
            {
                _stream.Write(_buffer, 0, _used);
                _used = 0;
            }

            _stream.Flush();
        }

        public void Dispose()
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            Flush();
            if (!_leaveOpen)
            {
                _stream.Dispose();
            }
        }

        private byte[]? _large;

        private Span<byte> Reserve(int length)
        {
            if (_used + length > _buffer.Length)
            {
                _stream.Write(_buffer, 0, _used);
                _used = 0;
            }

            if (length > _buffer.Length)
            {
                if (_large is null || _large.Length < length)
                {
                    _large = new byte[length];
                }

                return _large.AsSpan(0, length);
            }

            return _buffer.AsSpan(_used, length);
        }

        private void Commit(int length)
        {
            if (length > _buffer.Length)
            {
                _stream.Write(_large!, 0, length);
            }
            else
            {
                _used += length;
            }
        }

        private static int OptionLength(int valueLength) => 4 + ((valueLength + 3) & ~3);

        private int WriteStringOption(Span<byte> block, int o, ushort code, string value)
        {
            int n = Encoding.UTF8.GetByteCount(value);
            U16(block, o, code);
            U16(block, o + 2, (ushort)n);
            var bytes = Encoding.UTF8.GetBytes(value);
            bytes.CopyTo(block.Slice(o + 4));
            int padded = (n + 3) & ~3;
            block.Slice(o + 4 + n, padded - n).Clear();
            return o + 4 + padded;
        }

        private void U16(Span<byte> b, int o, ushort v)
        {
            if (_bigEndian)
            {
                BinaryPrimitives.WriteUInt16BigEndian(b.Slice(o), v);
            }
            else
            {
                BinaryPrimitives.WriteUInt16LittleEndian(b.Slice(o), v);
            }
        }

        private void U32(Span<byte> b, int o, uint v)
        {
            if (_bigEndian)
            {
                BinaryPrimitives.WriteUInt32BigEndian(b.Slice(o), v);
            }
            else
            {
                BinaryPrimitives.WriteUInt32LittleEndian(b.Slice(o), v);
            }
        }

        private void U64(Span<byte> b, int o, ulong v)
        {
            if (_bigEndian)
            {
                BinaryPrimitives.WriteUInt64BigEndian(b.Slice(o), v);
            }
            else
            {
                BinaryPrimitives.WriteUInt64LittleEndian(b.Slice(o), v);
            }
        }
    }
}
