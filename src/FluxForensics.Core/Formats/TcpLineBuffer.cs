using System;
using System.Runtime.CompilerServices;
using System.Buffers;

namespace FluxForensics.Formats
{
    /// <summary>
    /// Cuts a reassembled stream into lines. Lines that fall inside one delivered chunk are returned as slices of it
    /// (no copy); only a line split across chunks is copied, into a pooled buffer capped at <see cref="MaxLine"/>.
    /// A longer line is reported once and skipped up to its end, so an endless header line costs memory of one cap.
    /// </summary>
    internal sealed class TcpLineBuffer
    {
        private byte[]? _buffer;
        private int _length;
        private bool _discarding;

        public TcpLineBuffer(int maxLine)
        {
            MaxLine = maxLine;
        }

        public int MaxLine { get; }

        public bool HasPartial => _length > 0 || _discarding;

        /// <summary>
        /// Takes the next complete line (without CR LF) from <paramref name="data"/>, advancing it. False when no
        /// complete line is available yet (the tail was kept). <paramref name="overflowed"/> is true once when a line
        /// passed the cap; that line is dropped.
        /// </summary>
        [MethodImpl(Jit.Hot)]
        public bool TryTakeLine(ref ReadOnlySpan<byte> data, out ReadOnlySpan<byte> line, out bool overflowed)
        {
            overflowed = false;
            line = default;
            while (true)
            {
                int nl = data.IndexOf((byte)'\n');
                if (_discarding)
                {
                    if (nl < 0)
                    {
                        data = default;
                        return false;
                    }

                    data = data.Slice(nl + 1);
                    _discarding = false;
                    continue;
                }

                if (nl < 0)
                {
                    if (_length + data.Length > MaxLine)
                    {
                        Release();
                        _discarding = true;
                        overflowed = true;
                        data = default;
                        return false;
                    }

                    if (!data.IsEmpty)
                    {
                        Append(data);
                    }

                    data = default;
                    return false;
                }

                if (_length == 0)
                {
                    line = data.Slice(0, nl);
                    data = data.Slice(nl + 1);
                }
                else
                {
                    if (_length + nl > MaxLine)
                    {
                        Release();
                        overflowed = true;
                        data = data.Slice(nl + 1);
                        return false;
                    }

                    Append(data.Slice(0, nl));
                    data = data.Slice(nl + 1);
                    line = new ReadOnlySpan<byte>(_buffer, 0, _length);
                    _length = 0;
                }

                if (line.Length > MaxLine)
                {
                    overflowed = true;
                    line = default;
                    return false;
                }

                if (!line.IsEmpty && line[line.Length - 1] == (byte)'\r')
                {
                    line = line.Slice(0, line.Length - 1);
                }

                return true;
            }
        }

        /// <summary>The unterminated tail kept so far (for a stream that ends without a final newline).</summary>
        public ReadOnlySpan<byte> Partial => _buffer is null ? default : new ReadOnlySpan<byte>(_buffer, 0, _length);

        public void Clear()
        {
            _length = 0;
            _discarding = false;
        }

        public void Release()
        {
            if (_buffer is not null)
            {
                ArrayPool<byte>.Shared.Return(_buffer);
                _buffer = null;
            }

            _length = 0;
        }

        private void Append(ReadOnlySpan<byte> bytes)
        {
            int need = _length + bytes.Length;
            if (_buffer is null || _buffer.Length < need)
            {
                var bigger = ArrayPool<byte>.Shared.Rent(Math.Max(need, 256));
                if (_buffer is not null)
                {
                    Buffer.BlockCopy(_buffer, 0, bigger, 0, _length);
                    ArrayPool<byte>.Shared.Return(_buffer);
                }

                _buffer = bigger;
            }

            bytes.CopyTo(new Span<byte>(_buffer, _length, bytes.Length));
            _length = need;
        }
    }
}
