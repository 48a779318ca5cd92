using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using FluxForensics.Model;

namespace FluxForensics.Formats
{
    /// <summary>
    /// A registry hive file (regf) read from bytes. The reader trusts nothing in the file: every cell offset is
    /// bounds-checked against the hive bins, every list is capped, each walk keeps the cells it has visited so that a
    /// looping list ends, and whatever cannot be read becomes a <see cref="ParseIssue"/> in <see cref="Issues"/>. A
    /// damaged hive therefore gives a partial tree, never an exception or a hang.
    /// </summary>
    public sealed class RegistryHive
    {
        internal const int BaseBlockSize = 4096;
        internal const uint MaxListEntries = 1 << 20;
        internal const int MaxDepth = 512;
        internal const int BigDataSegmentSize = 16344;
        internal const int MaxValueData = 64 << 20;

        private readonly ReadOnlyMemory<byte> _data;
        private readonly List<ParseIssue> _issues = new List<ParseIssue>();
        private readonly HashSet<long> _reportedOffsets = new HashSet<long>();
        private int _binsEnd;

        private RegistryHive(ReadOnlyMemory<byte> data, string source)
        {
            _data = data;
            Source = source;
        }

        public string Source { get; }

        /// <summary>False when the file is not a regf hive at all (no signature, shorter than a base block).</summary>
        public bool IsValid { get; private set; }

        public uint PrimarySequenceNumber { get; private set; }
        public uint SecondarySequenceNumber { get; private set; }

        /// <summary>True when the sequence numbers differ: the hive was not cleanly written (its logs hold newer data).</summary>
        public bool IsDirty => PrimarySequenceNumber != SecondarySequenceNumber;

        public DateTime? LastWrittenTime { get; private set; }
        public ulong LastWrittenFileTime { get; private set; }
        public uint MajorVersion { get; private set; }
        public uint MinorVersion { get; private set; }
        public uint RootCellOffset { get; private set; }

        /// <summary>The hive bins data size the base block states.</summary>
        public uint HiveBinsDataSize { get; private set; }

        /// <summary>The size of the hive bins that are actually there, one after another, from the first.</summary>
        public uint EffectiveHiveBinsDataSize { get; private set; }

        public int HiveBinCount { get; private set; }

        /// <summary>The file name the base block records (last 64 bytes of the path Windows loaded it from).</summary>
        public string FileName { get; private set; } = string.Empty;

        public uint Checksum { get; private set; }
        public bool ChecksumValid { get; private set; }

        public RegistryKey? Root { get; private set; }

        public IReadOnlyList<ParseIssue> Issues => _issues;

        /// <summary>Called with each issue as the (lazy) walk finds it, so a caller can report damage met after loading.</summary>
        public Action<ParseIssue>? IssueFound { get; set; }

        public static RegistryHive Load(string path) => Parse(File.ReadAllBytes(path), path);

        /// <summary>The hive as the primary file alone has it, before its transaction logs were applied; null when no
        /// log was applied.</summary>
        public RegistryHive? Original { get; private set; }

        /// <summary>What applying the transaction logs did (or why nothing was applied); null when the hive was clean
        /// or logs were not asked for.</summary>
        public RegistryHiveRecovery? Recovery { get; private set; }

        /// <summary>Reads a hive file and, when it is dirty and <paramref name="applyLogs"/> is set, applies the
        /// transaction logs beside it (.LOG1, .LOG2, .LOG) to a copy in memory the way Windows does on loading it. The
        /// files are only read. Log damage is reported in <see cref="Issues"/>.</summary>
        public static RegistryHive Load(string path, bool applyLogs)
        {
            byte[] bytes = File.ReadAllBytes(path);
            RegistryHive original = Parse(bytes, path);
            if (!applyLogs || !RegistryHiveRecovery.IsDirty(bytes))
            {
                return original;
            }

            var logs = new List<RegistryTransactionLog>();
            foreach (string logPath in RegistryHiveRecovery.FindLogFiles(path, problem => original.Report(-1, "transaction log", problem)))
            {
                byte[] logBytes;
                try
                {
                    logBytes = File.ReadAllBytes(logPath);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    original.Report(-1, "transaction log", $"cannot read '{logPath}': {e.Message}");
                    continue;
                }

                logs.Add(RegistryTransactionLog.Parse(logBytes, logPath));
            }

            return WithLogs(original, bytes, path, logs);
        }

        /// <summary>Applies already-read transaction logs to a primary file's bytes; see <see cref="Load(string, bool)"/>.</summary>
        public static RegistryHive ParseWithLogs(ReadOnlyMemory<byte> primary, string source, IReadOnlyList<RegistryTransactionLog> logs) =>
            WithLogs(Parse(primary, source), primary, source, logs);

        private static RegistryHive WithLogs(RegistryHive original, ReadOnlyMemory<byte> primary, string source, IReadOnlyList<RegistryTransactionLog> logs)
        {
            RegistryHiveRecovery recovery = RegistryHiveRecovery.Recover(primary, source, logs);
            RegistryHive hive = original;
            if (recovery.Recovered)
            {
                hive = Parse(recovery.Data, source);
                hive.Original = original;
            }
            else
            {
                original.Report(-1, "transaction log", $"the hive is dirty and no transaction log was applied: {recovery.Summary}");
            }

            hive.Recovery = recovery;
            foreach (ParseIssue issue in recovery.Issues)
            {
                hive._issues.Add(issue);
            }

            return hive;
        }

        /// <summary>The logs a value came from: the file names of the applied logs when the primary file alone does not
        /// have this value with this type and data (it was written shortly before the disk was imaged); otherwise null.</summary>
        public string? LogSourceOf(RegistryKey key, RegistryValue value)
        {
            if (Original is null || Recovery is null)
            {
                return null;
            }

            RegistryKey? before = key.Parent is null ? Original.Root : Original.OpenKey(key.Path);
            RegistryValue? old = before?.Value(value.Name);
            if (old is not null && old.RawType == value.RawType && old.Data.AsSpan().SequenceEqual(value.Data))
            {
                return null;
            }

            return string.Join(", ", Recovery.AppliedLogs.Select(System.IO.Path.GetFileName));
        }

        /// <summary>Reads a hive from its bytes. Never throws for bad content; see <see cref="Issues"/>.</summary>
        public static RegistryHive Parse(ReadOnlyMemory<byte> data, string source)
        {
            var hive = new RegistryHive(data, source ?? string.Empty);
            hive.ReadBaseBlock();
            return hive;
        }

        internal ReadOnlySpan<byte> Span => _data.Span;

        /// <summary>Opens a key below the root by a backslash-separated path, case-insensitive. A path starting with the
        /// root key's own name is accepted too.</summary>
        public RegistryKey? OpenKey(string path)
        {
            if (Root is null)
            {
                return null;
            }

            RegistryKey? key = Root;
            string[] parts = path.Split(new[] { '\\' }, StringSplitOptions.RemoveEmptyEntries);
            for (int i = 0; i < parts.Length && key is not null; i++)
            {
                if (i == 0 && string.Equals(parts[0], Root.Name, StringComparison.OrdinalIgnoreCase) && Root.Subkey(parts[0]) is null)
                {
                    continue;
                }

                key = key.Subkey(parts[i]);
            }

            return key;
        }

        internal void Report(long offset, string what, string message)
        {
            // One damaged cell may be reached from many keys; say so once.
            if (offset < 0 || _reportedOffsets.Add(offset ^ ((long)what.GetHashCode() << 32)))
            {
                var issue = new ParseIssue(Source, offset, message, what);
                _issues.Add(issue);
                IssueFound?.Invoke(issue);
            }
        }

        private void ReadBaseBlock()
        {
            ReadOnlySpan<byte> d = Span;
            if (d.Length < BaseBlockSize || d[0] != (byte)'r' || d[1] != (byte)'e' || d[2] != (byte)'g' || d[3] != (byte)'f')
            {
                Report(0, "base block", d.Length < BaseBlockSize ? "file is shorter than a base block" : "no regf signature");
                return;
            }

            IsValid = true;
            PrimarySequenceNumber = U32(d, 4);
            SecondarySequenceNumber = U32(d, 8);
            LastWrittenFileTime = BinaryPrimitives.ReadUInt64LittleEndian(d.Slice(12));
            LastWrittenTime = FromFileTime(LastWrittenFileTime);
            MajorVersion = U32(d, 20);
            MinorVersion = U32(d, 24);
            RootCellOffset = U32(d, 36);
            HiveBinsDataSize = U32(d, 40);
            FileName = TextDecoding.Utf16(d.Slice(48, 64)).TrimEnd('\0');
            int nul = FileName.IndexOf('\0');
            if (nul >= 0)
            {
                FileName = FileName.Substring(0, nul);
            }

            Checksum = U32(d, 508);
            uint sum = 0;
            for (int i = 0; i < 508; i += 4)
            {
                sum ^= U32(d, i);
            }

            if (sum == 0xFFFFFFFF)
            {
                sum = 0xFFFFFFFE;
            }
            else if (sum == 0)
            {
                sum = 1;
            }

            ChecksumValid = sum == Checksum;
            if (!ChecksumValid)
            {
                Report(508, "base block", $"checksum 0x{Checksum:X8} does not match the computed 0x{sum:X8}; reading on");
            }

            if (IsDirty)
            {
                Report(4, "base block", $"sequence numbers differ ({PrimarySequenceNumber} != {SecondarySequenceNumber}): the hive is dirty and its transaction logs are not applied");
            }

            WalkBins();
            if (EffectiveHiveBinsDataSize < HiveBinsDataSize)
            {
                Report(40, "base block", $"hive bins data size is {HiveBinsDataSize} but the bins present cover {EffectiveHiveBinsDataSize}");
            }

            Root = KeyAt(RootCellOffset, null, "root key");
        }

        private void WalkBins()
        {
            ReadOnlySpan<byte> d = Span;
            long pos = BaseBlockSize;
            int count = 0;
            while (pos + 32 <= d.Length)
            {
                if (d[(int)pos] != (byte)'h' || d[(int)pos + 1] != (byte)'b' || d[(int)pos + 2] != (byte)'i' || d[(int)pos + 3] != (byte)'n')
                {
                    if (count == 0 || pos - BaseBlockSize < HiveBinsDataSize)
                    {
                        Report(pos, "hive bin", "no hbin signature where a hive bin should start; later cells are not read");
                    }

                    break;
                }

                uint size = U32(d, (int)pos + 8);
                if (size < 4096 || size % 4096 != 0 || pos + size > d.Length)
                {
                    Report(pos, "hive bin", $"hive bin size {size} is invalid or runs past the end of the file");
                    if (pos + size > d.Length && size >= 4096 && size % 4096 == 0)
                    {
                        count++;
                        pos = d.Length;
                    }

                    break;
                }

                count++;
                pos += size;
            }

            HiveBinCount = count;
            int walked = (int)Math.Min(pos, d.Length);
            EffectiveHiveBinsDataSize = (uint)Math.Max(0, walked - BaseBlockSize);

            // A damaged bin header in the middle must not hide the intact bins after it (regipy's corrupted SYSTEM hive):
            // cells may lie anywhere up to the stated bins size, as far as the file goes.
            _binsEnd = (int)Math.Max(walked, Math.Min(d.Length, BaseBlockSize + (long)HiveBinsDataSize));
        }

        /// <summary>The data of the allocated cell at a hive offset, without its size field; empty (with an issue) when
        /// the offset or size cannot be trusted.</summary>
        internal ReadOnlySpan<byte> Cell(uint offset, string what)
        {
            if (offset == 0xFFFFFFFF)
            {
                return ReadOnlySpan<byte>.Empty;
            }

            long start = BaseBlockSize + (long)offset;
            if (offset % 8 != 0 || start + 4 > _binsEnd)
            {
                Report(start, what, $"cell offset 0x{offset:X} is outside the hive bins");
                return ReadOnlySpan<byte>.Empty;
            }

            int size = BinaryPrimitives.ReadInt32LittleEndian(Span.Slice((int)start));
            if (size > 0)
            {
                Report(start, what, "cell is marked free; reading it anyway");
            }

            long length = size < 0 ? -(long)size : size;
            if (length < 8 || start + length > _binsEnd)
            {
                Report(start, what, $"cell size {length} is invalid or runs past the hive bins");
                return ReadOnlySpan<byte>.Empty;
            }

            return Span.Slice((int)start + 4, (int)length - 4);
        }

        internal static long FileOffset(uint cellOffset) => BaseBlockSize + (long)cellOffset;

        internal RegistryKey? KeyAt(uint offset, RegistryKey? parent, string what)
        {
            ReadOnlySpan<byte> c = Cell(offset, what);
            if (c.IsEmpty)
            {
                return null;
            }

            if (c.Length < 76 || c[0] != (byte)'n' || c[1] != (byte)'k')
            {
                Report(FileOffset(offset), what, "cell is not a key node (nk)");
                return null;
            }

            ushort flags = U16(c, 2);
            int nameLength = U16(c, 72);
            string name;
            if (76 + nameLength > c.Length)
            {
                Report(FileOffset(offset), "key name", $"key name length {nameLength} runs past its cell; name truncated");
                nameLength = c.Length - 76;
            }

            ReadOnlySpan<byte> rawName = c.Slice(76, nameLength);
            name = (flags & 0x20) != 0 ? TextDecoding.Latin1(rawName) : TextDecoding.Utf16(rawName);
            return new RegistryKey(this, offset, parent, name, flags,
                BinaryPrimitives.ReadUInt64LittleEndian(c.Slice(4)),
                U32(c, 20), U32(c, 28), U32(c, 36), U32(c, 40), U32(c, 44), U32(c, 48), U16(c, 74));
        }

        internal static DateTime? FromFileTime(ulong fileTime)
        {
            if (fileTime == 0 || fileTime > (ulong)DateTime.MaxValue.ToFileTimeUtc())
            {
                return null;
            }

            return DateTime.FromFileTimeUtc((long)fileTime);
        }

        internal static uint U32(ReadOnlySpan<byte> d, int offset) => BinaryPrimitives.ReadUInt32LittleEndian(d.Slice(offset));
        internal static ushort U16(ReadOnlySpan<byte> d, int offset) => BinaryPrimitives.ReadUInt16LittleEndian(d.Slice(offset));
    }

}
