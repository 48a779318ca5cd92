using System;
using System.Runtime.CompilerServices;
using System.Buffers;
using System.IO;
using System.IO.Compression;
using System.Security.Cryptography;
using FluxForensics.Formats;

namespace FluxForensics.Capture
{
    /// <summary>
    /// A file carried in a stream (HTTP body, FTP data connection): hashed as it streams, its first bytes kept for the
    /// file type, and, when an extract folder is given and it starts like an executable, written to a temporary file
    /// there. A gzip body is held (up to the cap) and inflated at the end.
    /// <para>
    /// Most bodies are small (a relay carries hundreds of thousands of them): a file that fits in its first
    /// <see cref="HeadSize"/> bytes is hashed once at the end from the pooled head buffer; only a longer one gets
    /// incremental hashes. The hashes are kept as bytes and written as hex when asked for. HTTP bodies that do not
    /// start like an executable are not hashed at all (no finding reports them, and a relay carries hundreds of
    /// thousands of them); FTP files always are, as an analyst compares them with the server's listing.
    /// </para>
    /// </summary>
    internal sealed class RelayCarvedFile
    {
        private const int HeadSize = CarvedHashCache.MaxFileSize;
        private IncrementalHash? _sha256;
        private IncrementalHash? _md5;
        private byte[]? _sha256Bytes;
        private byte[]? _md5Bytes;
        private string? _sha256Text;
        private string? _md5Text;
        private bool _hashesDone;
        private readonly string? _extractPath;
        private readonly int _maxCompressed;
        private byte[]? _head;
        private int _headLength;
        private MemoryStream? _compressed;
        private FileStream? _temp;
        private string? _tempPath;
        private bool _finished;
        private bool _http;

        /// <summary>An HTTP body whose first bytes are not an executable's: only its size is counted.</summary>
        private bool _notExecutable;

        private readonly CarvedHashCache? _hashCache;

        public RelayCarvedFile(string protocol, bool gzip, string? extractPath, int maxCompressed, CarvedHashCache? hashCache = null)
        {
            _extractPath = extractPath;
            _maxCompressed = maxCompressed;
            _hashCache = hashCache;
            Reset(protocol, gzip);
        }

        /// <summary>
        /// Starts over as a new file: the analyser reuses a finished body that nothing kept (not an executable, past the
        /// few kept for tests), so a keep-alive connection does not allocate one object per response.
        /// </summary>
        internal void Reset(string protocol, bool gzip)
        {
            ReturnHead();
            _sha256?.Dispose();
            _md5?.Dispose();
            _temp?.Dispose();
            _sha256 = _md5 = null;
            _sha256Bytes = _md5Bytes = null;
            _sha256Text = _md5Text = null;
            _hashesDone = false;
            _headLength = 0;
            _compressed = gzip ? new MemoryStream() : null;
            _temp = null;
            _tempPath = null;
            _finished = false;
            _notExecutable = false;
            Protocol = protocol;
            _http = string.Equals(protocol, "Http", StringComparison.Ordinal);
            Url = FileName = Account = ReportedClient = null;
            TimeTicks = 0;
            Size = 0;
            Complete = false;
            MissingBytes = 0;
            ExecutableType = null;
            Issue = null;
        }

        public string Protocol { get; private set; } = string.Empty;
        public string? Url { get; set; }
        public string? FileName { get; set; }
        public string? Account { get; set; }
        public string? ReportedClient { get; set; }
        public long TimeTicks { get; set; }
        public long Size { get; private set; }
        /// <summary>SHA-256 in hex; empty until the file is finished, and for an HTTP body that is not an executable.</summary>
        public string Sha256 => _sha256Bytes is null ? string.Empty : _sha256Text ??= FluxForensics.Hex.Lower(_sha256Bytes);

        /// <summary>MD5 in hex; empty until the file is finished, and for an HTTP body that is not an executable.</summary>
        public string Md5 => _md5Bytes is null ? string.Empty : _md5Text ??= FluxForensics.Hex.Lower(_md5Bytes);
        public bool Complete { get; private set; }
        public long MissingBytes { get; set; }

        /// <summary>PE, MZ, ELF, or null when not an executable.</summary>
        public string? ExecutableType { get; private set; }

        /// <summary>The temporary file written in the extract folder (renamed by the analyser), or null.</summary>
        public string? TempPath => _tempPath;

        public string? Issue { get; private set; }

        [MethodImpl(Jit.Hot)]
        public void Append(ReadOnlySpan<byte> data)
        {
            if (_finished || data.IsEmpty)
            {
                return;
            }

            if (_compressed is not null)
            {
                if (_compressed.Length + data.Length > _maxCompressed)
                {
                    Issue = $"gzip body larger than {_maxCompressed} bytes; not inflated";
                    _compressed = null;
                    _finished = true;
                    return;
                }

                var rented = ArrayPool<byte>.Shared.Rent(data.Length);
                data.CopyTo(rented);
                _compressed.Write(rented, 0, data.Length);
                ArrayPool<byte>.Shared.Return(rented);
                return;
            }

            AppendPlain(data);
        }

        [MethodImpl(Jit.Hot)]
        private void AppendPlain(ReadOnlySpan<byte> data)
        {
            if (_notExecutable)
            {
                Size += data.Length;
                return;
            }

            bool wasShort = _headLength < 4;
            int take = 0;
            if (_headLength < HeadSize && _sha256 is null)
            {
                take = Math.Min(HeadSize - _headLength, data.Length);
                if (!GrowHead(_headLength + take))
                {
                    // Past the budget for files held whole: this one hashes as it streams from here on.
                    take = Math.Max(0, (_head?.Length ?? 0) - _headLength);
                    take = Math.Min(take, data.Length);
                    _headFull = true;
                }

                data.Slice(0, take).CopyTo(new Span<byte>(_head, _headLength, take));
                _headLength += take;
            }

            Size += data.Length;
            if (_headLength >= 4 && _http && !LooksExecutable(new ReadOnlySpan<byte>(_head!, 0, _headLength)))
            {
                // An HTTP body that does not start like an executable is neither hashed nor kept: from here on only its
                // size is counted (a relay carries hundreds of thousands of pages and images).
                _notExecutable = true;
                ReturnHead();
                _headLength = 0;
                return;
            }

            var rest = data.Slice(take);
            if (_sha256 is null && !rest.IsEmpty && ShouldHash)
            {
                // Longer than the head: from here on the hashes run as the bytes stream, starting with the head.
                _sha256 = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
                _md5 = IncrementalHash.CreateHash(HashAlgorithmName.MD5);
                _sha256.AppendData(_head!, 0, _headLength);
                _md5.AppendData(_head!, 0, _headLength);
                AppendHashes(rest);
            }
            else if (_sha256 is not null)
            {
                AppendHashes(data);
            }

            if (wasShort && _headLength >= 4 && _extractPath is not null && LooksExecutable(_head!))
            {
                try
                {
                    Directory.CreateDirectory(_extractPath);
                    _tempPath = Path.Combine(_extractPath, "carving-" + Guid.NewGuid().ToString("N") + ".partial");
                    _temp = new FileStream(_tempPath, FileMode.CreateNew, FileAccess.Write, FileShare.None);
                    _temp.Write(_head!, 0, _headLength);
                    WriteTemp(rest);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    Issue = $"could not write to {_extractPath}: {e.Message}";
                    _temp = null;
                    _tempPath = null;
                }
            }
            else if (_temp is not null)
            {
                WriteTemp(data);
            }
        }

        private void AppendHashes(ReadOnlySpan<byte> data)
        {
#if NET
            _sha256!.AppendData(data);
            _md5!.AppendData(data);
#else
            var array = ArrayPool<byte>.Shared.Rent(data.Length);
            data.CopyTo(array);
            _sha256!.AppendData(array, 0, data.Length);
            _md5!.AppendData(array, 0, data.Length);
            ArrayPool<byte>.Shared.Return(array);
#endif
        }

        private void WriteTemp(ReadOnlySpan<byte> data)
        {
#if NET
            _temp!.Write(data);
#else
            var array = ArrayPool<byte>.Shared.Rent(data.Length);
            data.CopyTo(array);
            _temp!.Write(array, 0, data.Length);
            ArrayPool<byte>.Shared.Return(array);
#endif
        }

        public void Finish(bool complete)
        {
            if (_finished && _compressed is null)
            {
                Complete = false;
                CloseTemp();
                FinishHashes();
                return;
            }

            _finished = true;
            if (_compressed is not null)
            {
                var compressed = _compressed;
                _compressed = null;
                compressed.Position = 0;
                try
                {
                    using var gzip = new GZipStream(compressed, CompressionMode.Decompress);
                    var buffer = ArrayPool<byte>.Shared.Rent(81920);
                    long total = 0;
                    int n;
                    while ((n = gzip.Read(buffer, 0, buffer.Length)) > 0)
                    {
                        total += n;
                        if (total > (long)_maxCompressed * 16)
                        {
                            Issue = "gzip body inflates past the cap; truncated";
                            complete = false;
                            break;
                        }

                        AppendPlain(new ReadOnlySpan<byte>(buffer, 0, n));
                    }

                    ArrayPool<byte>.Shared.Return(buffer);
                }
                catch (InvalidDataException e)
                {
                    Issue = $"gzip body does not inflate: {e.Message}";
                    complete = false;
                }
            }

            Complete = complete && MissingBytes == 0;
            CloseTemp();
            FinishHashes();
        }

        private void FinishHashes()
        {
            if (!_hashesDone)
            {
                _hashesDone = true;
                if (_sha256 is not null)
                {
                    _sha256Bytes = _sha256.GetHashAndReset();
                    _md5Bytes = _md5!.GetHashAndReset();
                    _sha256.Dispose();
                    _md5.Dispose();
                    _sha256 = _md5 = null;
                }
                else if (ShouldHash)
                {
                    // The whole file is in the head: one-shot hashes.
                    var content = _head is null ? ReadOnlySpan<byte>.Empty : new ReadOnlySpan<byte>(_head, 0, _headLength);
                    if (_hashCache is null || !_hashCache.TryGet(content, out _sha256Bytes!, out _md5Bytes!))
                    {
                        _sha256Bytes = OneShot(HashAlgorithmName.SHA256, _head, _headLength);
                        _md5Bytes = OneShot(HashAlgorithmName.MD5, _head, _headLength);
                        _hashCache?.Add(content, _sha256Bytes, _md5Bytes);
                    }
                }

                ExecutableType = _head is null ? null : ExecutableKind(new ReadOnlySpan<byte>(_head, 0, _headLength));
                ReturnHead();
                if (ExecutableType is null && _tempPath is not null)
                {
                    TryDelete(_tempPath);
                    _tempPath = null;
                }
            }
        }

        /// <summary>
        /// Makes room for <paramref name="length"/> bytes in the head, doubling from <see cref="CarvedHashCache.SmallHead"/>;
        /// beyond that size it asks the analysis-wide budget. False when the budget refused (the head keeps what it has).
        /// </summary>
        private bool GrowHead(int length)
        {
            if (_headFull)
            {
                return false;
            }

            if (_head is not null && _head.Length >= length)
            {
                return true;
            }

            int size = Math.Min(HeadSize, Math.Max(length, Math.Max(CarvedHashCache.SmallHead, (_head?.Length ?? 0) * 2)));
            long extra = Math.Max(0, size - CarvedHashCache.SmallHead) - _heldBytes;
            if (extra > 0)
            {
                if (_hashCache is null || !_hashCache.TryHold(extra))
                {
                    if (_head is null)
                    {
                        _head = ArrayPool<byte>.Shared.Rent(CarvedHashCache.SmallHead);
                    }

                    return _head.Length >= length;
                }

                _heldBytes += extra;
            }

            var bigger = ArrayPool<byte>.Shared.Rent(size);
            if (_head is not null)
            {
                Buffer.BlockCopy(_head, 0, bigger, 0, _headLength);
                ArrayPool<byte>.Shared.Return(_head);
            }

            _head = bigger;
            return true;
        }

        private void ReturnHead()
        {
            if (_head is not null)
            {
                ArrayPool<byte>.Shared.Return(_head);
                _head = null;
            }

            if (_heldBytes > 0)
            {
                _hashCache?.Release(_heldBytes);
                _heldBytes = 0;
            }

            _headFull = false;
        }

        private long _heldBytes;
        private bool _headFull;

        /// <summary>FTP files always; anything else only when it starts like an executable.</summary>
        private bool ShouldHash =>
            !_http || (_head is not null && LooksExecutable(new ReadOnlySpan<byte>(_head, 0, _headLength)));

        private static byte[] OneShot(HashAlgorithmName algorithm, byte[]? data, int length)
        {
#if NET
            var span = data is null ? ReadOnlySpan<byte>.Empty : new ReadOnlySpan<byte>(data, 0, length);
            return algorithm == HashAlgorithmName.SHA256 ? SHA256.HashData(span) : MD5.HashData(span);
#else
            using HashAlgorithm hash = algorithm == HashAlgorithmName.SHA256 ? SHA256.Create() : MD5.Create();
            return hash.ComputeHash(data ?? Array.Empty<byte>(), 0, length);
#endif
        }

        private void CloseTemp()
        {
            _temp?.Dispose();
            _temp = null;
        }

        internal static bool LooksExecutable(ReadOnlySpan<byte> head) =>
            (head.Length >= 2 && head[0] == 'M' && head[1] == 'Z') ||
            (head.Length >= 4 && head[0] == 0x7F && head[1] == 'E' && head[2] == 'L' && head[3] == 'F');

        /// <summary>PE when the MZ header points at a PE signature, MZ for a DOS executable, ELF; null otherwise.</summary>
        internal static string? ExecutableKind(ReadOnlySpan<byte> head)
        {
            if (head.Length >= 4 && head[0] == 0x7F && head[1] == 'E' && head[2] == 'L' && head[3] == 'F')
            {
                return "ELF";
            }

            if (head.Length < 2 || head[0] != 'M' || head[1] != 'Z')
            {
                return null;
            }

            if (head.Length >= 0x40)
            {
                int peOffset = (int)System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(head.Slice(0x3C));
                if (peOffset > 0 && peOffset <= head.Length - 4 && head[peOffset] == 'P' && head[peOffset + 1] == 'E' && head[peOffset + 2] == 0 && head[peOffset + 3] == 0)
                {
                    return "PE";
                }

                // NE (16-bit Windows), LE/LX (VxD, OS/2): still programs, reported as MZ.
            }

            // Too short to be a DOS program (header is 64 bytes): an "MZ" text file is not an executable.
            return head.Length >= 0x40 ? "MZ" : null;
        }

        internal static void TryDelete(string path)
        {
            try
            {
                File.Delete(path);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Left behind in the extract folder; harmless (.partial never runs).
            }
        }
    }
}
