using System;
using System.IO;
using System.IO.Compression;

namespace FluxForensics.Capture
{
    /// <summary>
    /// gzip-compressed captures (tcpdump -z gzip, rotated sets compressed after the fact): the magic is sniffed from the
    /// first bytes already buffered, which are then replayed in front of the file into the decompressor.
    /// </summary>
    public sealed partial class CaptureFileReader
    {
        /// <summary>
        /// Called with the gzip magic buffered: returns the decompressed stream and empties the buffer, so that reading
        /// restarts on the decompressed data (offsets in issues are then offsets in the decompressed data).
        /// </summary>
        private Stream RestartOnDecompressed(Stream file)
        {
            var head = new byte[_end];
            Array.Copy(_buffer, head, _end);
            _start = _end = 0;
            _bufferBase = 0;
            _eof = false;
            return new GZipStream(new PrefixedStream(head, file), CompressionMode.Decompress, leaveOpen: true);
        }

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
