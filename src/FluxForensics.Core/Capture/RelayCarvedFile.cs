using System;
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
    /// </summary>
    internal sealed class RelayCarvedFile
    {
        private const int HeadSize = 4096;
        private readonly IncrementalHash _sha256 = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        private readonly IncrementalHash _md5 = IncrementalHash.CreateHash(HashAlgorithmName.MD5);
        private readonly string? _extractPath;
        private readonly int _maxCompressed;
        private byte[]? _head;
        private int _headLength;
        private MemoryStream? _compressed;
        private FileStream? _temp;
        private string? _tempPath;
        private bool _finished;

        public RelayCarvedFile(string protocol, bool gzip, string? extractPath, int maxCompressed)
        {
            Protocol = protocol;
            _extractPath = extractPath;
            _maxCompressed = maxCompressed;
            if (gzip)
            {
                _compressed = new MemoryStream();
            }
        }

        public string Protocol { get; }
        public string? Url { get; set; }
        public string? FileName { get; set; }
        public string? Account { get; set; }
        public string? ReportedClient { get; set; }
        public long TimeTicks { get; set; }
        public long Size { get; private set; }
        public string Sha256 { get; private set; } = string.Empty;
        public string Md5 { get; private set; } = string.Empty;
        public bool Complete { get; private set; }
        public long MissingBytes { get; set; }

        /// <summary>PE, MZ, ELF, or null when not an executable.</summary>
        public string? ExecutableType { get; private set; }

        /// <summary>The temporary file written in the extract folder (renamed by the analyser), or null.</summary>
        public string? TempPath => _tempPath;

        public string? Issue { get; private set; }

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

        private void AppendPlain(ReadOnlySpan<byte> data)
        {
            bool wasShort = _headLength < 4;
            int take = 0;
            if (_headLength < HeadSize)
            {
                _head ??= new byte[HeadSize];
                take = Math.Min(HeadSize - _headLength, data.Length);
                data.Slice(0, take).CopyTo(new Span<byte>(_head, _headLength, take));
                _headLength += take;
            }

            var array = ArrayPool<byte>.Shared.Rent(data.Length);
            data.CopyTo(array);
            _sha256.AppendData(array, 0, data.Length);
            _md5.AppendData(array, 0, data.Length);

            if (wasShort && _headLength >= 4 && _extractPath is not null && LooksExecutable(_head!))
            {
                try
                {
                    Directory.CreateDirectory(_extractPath);
                    _tempPath = Path.Combine(_extractPath, "carving-" + Guid.NewGuid().ToString("N") + ".partial");
                    _temp = new FileStream(_tempPath, FileMode.CreateNew, FileAccess.Write, FileShare.None);
                    _temp.Write(_head!, 0, _headLength);
                    _temp.Write(array, take, data.Length - take);
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
                _temp.Write(array, 0, data.Length);
            }

            ArrayPool<byte>.Shared.Return(array);
            Size += data.Length;
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
            if (Sha256.Length == 0)
            {
                Sha256 = MimeMessage.Hex(_sha256.GetHashAndReset());
                Md5 = MimeMessage.Hex(_md5.GetHashAndReset());
                _sha256.Dispose();
                _md5.Dispose();
                ExecutableType = _head is null ? null : ExecutableKind(new ReadOnlySpan<byte>(_head, 0, _headLength));
                _head = null;
                if (ExecutableType is null && _tempPath is not null)
                {
                    TryDelete(_tempPath);
                    _tempPath = null;
                }
            }
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
