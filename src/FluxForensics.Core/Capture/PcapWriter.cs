using System;
using System.Buffers.Binary;
using System.IO;

namespace FluxForensics.Capture
{
    /// <summary>Writes a classic pcap file (one link type; micro- or nanosecond timestamps; either byte order). Buffered; no allocation per packet.</summary>
    public sealed class PcapWriter : IDisposable
    {
        private const int BufferBytes = 256 * 1024;
        private readonly Stream _stream;
        private readonly bool _leaveOpen;
        private readonly bool _bigEndian;
        private readonly bool _nanosecond;
        private readonly int _snapLength;
        private readonly byte[] _buffer = new byte[BufferBytes];
        private int _used;
        private bool _disposed;

        public PcapWriter(Stream stream, int linkType, int snapLength = 262144, bool nanosecond = false, bool bigEndian = false, bool leaveOpen = false)
        {
            _stream = stream ?? throw new ArgumentNullException(nameof(stream));
            _leaveOpen = leaveOpen;
            _bigEndian = bigEndian;
            _nanosecond = nanosecond;
            _snapLength = snapLength;
            LinkType = linkType;
            var header = _buffer.AsSpan(0, 24);
            U32(header, 0, nanosecond ? 0xA1B23C4Du : 0xA1B2C3D4u);
            U16(header, 4, 2);
            U16(header, 6, 4);
            U32(header, 8, 0);
            U32(header, 12, 0);
            U32(header, 16, (uint)snapLength);
            U32(header, 20, (uint)linkType);
            _used = 24;
        }

        public static PcapWriter Create(string path, int linkType, int snapLength = 262144, bool nanosecond = false) =>
            new PcapWriter(new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.Read, 1), linkType, snapLength, nanosecond);

        public int LinkType { get; }

        /// <summary>
        /// Writes one record. The frame is cut to the snap length (like a capture would); <paramref name="originalLength"/>
        /// -1 means the frame's own length.
        /// </summary>
        public void WritePacket(long timestampTicks, ReadOnlySpan<byte> frame, int originalLength = -1)
        {
            int wire = originalLength < 0 ? frame.Length : Math.Max(originalLength, frame.Length);
            if (_snapLength > 0 && frame.Length > _snapLength)
            {
                frame = frame.Slice(0, _snapLength);
            }

            long sinceEpoch = Math.Max(0, timestampTicks - CaptureFileReader.UnixEpochTicks);
            long seconds = sinceEpoch / TimeSpan.TicksPerSecond;
            long fracTicks = sinceEpoch % TimeSpan.TicksPerSecond;
            int length = 16 + frame.Length;
            if (_used + length > _buffer.Length)
            {
                FlushBuffer();
            }

            Span<byte> header = stackalloc byte[16];
            U32(header, 0, (uint)seconds);
            U32(header, 4, (uint)(_nanosecond ? fracTicks * 100 : fracTicks / 10));
            U32(header, 8, (uint)frame.Length);
            U32(header, 12, (uint)wire);
            if (length > _buffer.Length)
            {
                _stream.Write(header.ToArray(), 0, 16);
                _stream.Write(frame.ToArray(), 0, frame.Length);
                return;
            }

            header.CopyTo(_buffer.AsSpan(_used));
            frame.CopyTo(_buffer.AsSpan(_used + 16));
            _used += length;
        }

        public void Flush()
        {
            FlushBuffer();
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

        private void FlushBuffer()
        {
            if (_used > 0)
            {
                _stream.Write(_buffer, 0, _used);
                _used = 0;
            }
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
    }
}
