using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using FluxForensics.Model;

namespace FluxForensics.Formats
{
    /// <summary>The two layouts of a hive's transaction log: the dirty-vector log of Windows XP to 8 and the HvLE log
    /// entries of Windows 8.1 and later.</summary>
    public enum RegistryLogFormat
    {
        Unknown = 0,

        /// <summary>Base block (file type 1 or 2), a <c>DIRT</c> bitmap of 512-byte pages, then the dirty pages.</summary>
        DirtyVector = 1,

        /// <summary>Base block (file type 6), then <c>HvLE</c> log entries, each with its own sequence number and hashes.</summary>
        LogEntries = 2,
    }

    /// <summary>One page a log holds for the primary file: where it goes (relative to the hive bins data) and where its
    /// bytes are in the log.</summary>
    public readonly struct RegistryLogPage
    {
        public RegistryLogPage(uint hiveOffset, int logOffset, int size)
        {
            HiveOffset = hiveOffset;
            LogOffset = logOffset;
            Size = size;
        }

        public uint HiveOffset { get; }
        public int LogOffset { get; }
        public int Size { get; }
    }

    /// <summary>An HvLE log entry whose size, hashes and page references were checked.</summary>
    public sealed class RegistryLogEntry
    {
        internal RegistryLogEntry(long offset, uint size, uint flags, uint sequence, uint hiveBinsDataSize, IReadOnlyList<RegistryLogPage> pages)
        {
            Offset = offset;
            Size = size;
            Flags = flags;
            SequenceNumber = sequence;
            HiveBinsDataSize = hiveBinsDataSize;
            Pages = pages;
        }

        public long Offset { get; }
        public uint Size { get; }
        public uint Flags { get; }
        public uint SequenceNumber { get; }
        public uint HiveBinsDataSize { get; }
        public IReadOnlyList<RegistryLogPage> Pages { get; }
    }

    /// <summary>
    /// A transaction log file (.LOG, .LOG1, .LOG2) read from bytes. Nothing in it is trusted: the base block must carry
    /// a valid XOR-32 checksum and equal sequence numbers, each HvLE entry must carry valid Marvin32 hashes, the expected
    /// sequence number and page references that fit both the entry and the hive bins data size it states, and every
    /// dirty page must be present in the file. What fails becomes a <see cref="ParseIssue"/>; the entries before it stand.
    /// </summary>
    public sealed class RegistryTransactionLog
    {
        internal const int LogBaseBlockSize = 512;
        internal const int HeaderSize = 40;
        internal const ulong MarvinSeed = 0x82EF4D887A4E55C5;

        private readonly List<ParseIssue> _issues = new List<ParseIssue>();
        private readonly List<RegistryLogEntry> _entries = new List<RegistryLogEntry>();
        private readonly List<RegistryLogPage> _pages = new List<RegistryLogPage>();

        private RegistryTransactionLog(ReadOnlyMemory<byte> data, string source)
        {
            Data = data;
            Source = source;
        }

        public string Source { get; }
        internal ReadOnlyMemory<byte> Data { get; }

        public RegistryLogFormat Format { get; private set; }

        /// <summary>True when the base block is a valid, clean log base block; only then is the log considered.</summary>
        public bool IsValid { get; private set; }
        public uint FileType { get; private set; }
        public uint PrimarySequenceNumber { get; private set; }
        public uint SecondarySequenceNumber { get; private set; }
        public ulong LastWrittenFileTime { get; private set; }
        public uint MinorVersion { get; private set; }
        public uint RootCellOffset { get; private set; }
        public uint HiveBinsDataSize { get; private set; }
        public uint Flags { get; private set; }

        /// <summary>HvLE entries forming the chain from the base block's sequence number, in order.</summary>
        public IReadOnlyList<RegistryLogEntry> Entries => _entries;

        /// <summary>Dirty pages of a dirty-vector log, in bitmap order.</summary>
        public IReadOnlyList<RegistryLogPage> DirtyPages => _pages;

        public IReadOnlyList<ParseIssue> Issues => _issues;

        /// <summary>Reads a log from its bytes. Never throws for bad content; see <see cref="Issues"/>.</summary>
        public static RegistryTransactionLog Parse(ReadOnlyMemory<byte> data, string source)
        {
            var log = new RegistryTransactionLog(data, source ?? string.Empty);
            log.Read();
            return log;
        }

        private void Report(long offset, string record, string message) => _issues.Add(new ParseIssue(Source, offset, message, record));

        private void Read()
        {
            ReadOnlySpan<byte> d = Data.Span;
            if (d.Length == 0)
            {
                // Windows leaves the unused log of a pair empty; that is no damage.
                return;
            }

            if (d.Length < LogBaseBlockSize || d[0] != (byte)'r' || d[1] != (byte)'e' || d[2] != (byte)'g' || d[3] != (byte)'f')
            {
                Report(0, "log base block", d.Length < LogBaseBlockSize ? "log is shorter than its base block" : "no regf signature");
                return;
            }

            PrimarySequenceNumber = RegistryHive.U32(d, 4);
            SecondarySequenceNumber = RegistryHive.U32(d, 8);
            LastWrittenFileTime = BinaryPrimitives.ReadUInt64LittleEndian(d.Slice(12));
            MinorVersion = RegistryHive.U32(d, 24);
            FileType = RegistryHive.U32(d, 28);
            RootCellOffset = RegistryHive.U32(d, 36);
            HiveBinsDataSize = RegistryHive.U32(d, 40);
            Flags = RegistryHive.U32(d, 144);
            if (!RegistryHiveRecovery.BaseBlockChecksumValid(d))
            {
                Report(508, "log base block", "log base block checksum does not match; the log is not applied");
                return;
            }

            if (PrimarySequenceNumber != SecondarySequenceNumber)
            {
                Report(4, "log base block", $"log base block sequence numbers differ ({PrimarySequenceNumber} != {SecondarySequenceNumber}): the log itself was not finished; not applied");
                return;
            }

            if (FileType == 6)
            {
                Format = RegistryLogFormat.LogEntries;
                IsValid = true;
                ReadEntries(d);
            }
            else if (FileType == 1 || FileType == 2)
            {
                Format = RegistryLogFormat.DirtyVector;
                IsValid = true;
                ReadDirtyVector(d);
            }
            else
            {
                Report(28, "log base block", $"file type {FileType} is not a transaction log");
            }
        }

        private void ReadEntries(ReadOnlySpan<byte> d)
        {
            uint expected = PrimarySequenceNumber;
            long pos = LogBaseBlockSize;
            while (pos + HeaderSize <= d.Length)
            {
                int p = (int)pos;
                if (d[p] != (byte)'H' || d[p + 1] != (byte)'v' || d[p + 2] != (byte)'L' || d[p + 3] != (byte)'E')
                {
                    // The end of the entries: zeros or what an earlier, longer log left behind.
                    return;
                }

                uint size = RegistryHive.U32(d, p + 4);
                uint flags = RegistryHive.U32(d, p + 8);
                uint sequence = RegistryHive.U32(d, p + 12);
                uint binsSize = RegistryHive.U32(d, p + 16);
                uint count = RegistryHive.U32(d, p + 20);
                if (sequence != expected)
                {
                    // An entry of an earlier round, already applied to the primary file; the current chain ends here.
                    return;
                }

                string where = $"log entry {sequence}";
                if (size < LogBaseBlockSize || size % LogBaseBlockSize != 0 || size > d.Length - pos)
                {
                    Report(pos + 4, where, $"entry size {size} is invalid or runs past the end of the log; recovery stops before it");
                    return;
                }

                ReadOnlySpan<byte> entry = d.Slice(p, (int)size);
                if (Marvin32(entry.Slice(0, 32), MarvinSeed) != BinaryPrimitives.ReadUInt64LittleEndian(entry.Slice(32)) ||
                    Marvin32(entry.Slice(HeaderSize), MarvinSeed) != BinaryPrimitives.ReadUInt64LittleEndian(entry.Slice(24)))
                {
                    Report(pos + 24, where, "entry hash (Marvin32) does not match its bytes; recovery stops before it");
                    return;
                }

                if (binsSize < 4096 || binsSize % 4096 != 0)
                {
                    Report(pos + 16, where, $"hive bins data size {binsSize} is invalid; recovery stops before it");
                    return;
                }

                long referencesEnd = HeaderSize + (long)count * 8;
                if (count == 0 || referencesEnd > size)
                {
                    Report(pos + 20, where, $"dirty page count {count} does not fit the entry; recovery stops before it");
                    return;
                }

                var pages = new List<RegistryLogPage>((int)count);
                long dataOffset = pos + referencesEnd;
                for (int i = 0; i < count; i++)
                {
                    uint pageOffset = RegistryHive.U32(entry, HeaderSize + i * 8);
                    uint pageSize = RegistryHive.U32(entry, HeaderSize + i * 8 + 4);
                    if (pageSize == 0 || pageSize % 512 != 0 || pageOffset % 512 != 0 || (long)pageOffset + pageSize > binsSize ||
                        dataOffset + pageSize > pos + size)
                    {
                        Report(pos + HeaderSize + i * 8, where, $"dirty page {i} (offset 0x{pageOffset:X}, {pageSize} bytes) lies outside the hive bins or the entry; recovery stops before this entry");
                        return;
                    }

                    pages.Add(new RegistryLogPage(pageOffset, (int)dataOffset, (int)pageSize));
                    dataOffset += pageSize;
                }

                _entries.Add(new RegistryLogEntry(pos, size, flags, sequence, binsSize, pages));
                pos += size;
                expected = unchecked(expected + 1);
            }
        }

        private void ReadDirtyVector(ReadOnlySpan<byte> d)
        {
            if (HiveBinsDataSize < 4096 || HiveBinsDataSize % 4096 != 0)
            {
                Report(40, "log base block", $"hive bins data size {HiveBinsDataSize} is invalid; the log is not applied");
                IsValid = false;
                return;
            }

            long bitmapLength = HiveBinsDataSize / 4096;
            long vectorEnd = LogBaseBlockSize + 4 + bitmapLength;
            if (d.Length < LogBaseBlockSize + 4 || d[512] != (byte)'D' || d[513] != (byte)'I' || d[514] != (byte)'R' || d[515] != (byte)'T')
            {
                Report(LogBaseBlockSize, "dirty vector", "no DIRT signature after the base block; the log is not applied");
                IsValid = false;
                return;
            }

            if (vectorEnd > d.Length)
            {
                Report(LogBaseBlockSize, "dirty vector", $"a bitmap of {bitmapLength} bytes runs past the end of the log; the log is not applied");
                IsValid = false;
                return;
            }

            ReadOnlySpan<byte> bitmap = d.Slice(LogBaseBlockSize + 4, (int)bitmapLength);
            long pageData = (vectorEnd + 511) / 512 * 512;
            int index = 0;
            for (long bit = 0; bit < bitmapLength * 8; bit++)
            {
                if ((bitmap[(int)(bit / 8)] & (1 << (int)(bit % 8))) == 0)
                {
                    continue;
                }

                long logOffset = pageData + (long)index * 512;
                if (logOffset + 512 > d.Length)
                {
                    Report(logOffset, "dirty page", $"dirty page {index} (hive offset 0x{bit * 512:X}) is missing from the log; the log is not applied");
                    _pages.Clear();
                    IsValid = false;
                    return;
                }

                _pages.Add(new RegistryLogPage((uint)(bit * 512), (int)logOffset, 512));
                index++;
            }
        }

        /// <summary>Marvin32 (the hash Windows puts in HvLE entries), 64 bits, over <paramref name="data"/> with <paramref name="seed"/>.</summary>
        public static ulong Marvin32(ReadOnlySpan<byte> data, ulong seed)
        {
            uint lo = (uint)seed;
            uint hi = (uint)(seed >> 32);
            int pos = 0;
            while (data.Length - pos >= 4)
            {
                Mix(ref lo, ref hi, BinaryPrimitives.ReadUInt32LittleEndian(data.Slice(pos)));
                pos += 4;
            }

            uint final = 0x80;
            switch (data.Length - pos)
            {
                case 3:
                    final = (final << 8) | data[pos + 2];
                    final = (final << 8) | data[pos + 1];
                    final = (final << 8) | data[pos];
                    break;
                case 2:
                    final = (final << 8) | data[pos + 1];
                    final = (final << 8) | data[pos];
                    break;
                case 1:
                    final = (final << 8) | data[pos];
                    break;
            }

            Mix(ref lo, ref hi, final);
            Mix(ref lo, ref hi, 0);
            return ((ulong)hi << 32) | lo;
        }

        private static void Mix(ref uint lo, ref uint hi, uint value)
        {
            unchecked
            {
                lo += value;
                hi ^= lo;
                lo = Rotl(lo, 20) + hi;
                hi = Rotl(hi, 9) ^ lo;
                lo = Rotl(lo, 27) + hi;
                hi = Rotl(hi, 19);
            }
        }

        private static uint Rotl(uint x, int n) => (x << n) | (x >> (32 - n));
    }

}
