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

    /// <summary>
    /// Applies a dirty hive's transaction logs the way the Windows kernel does when it loads the hive, to a copy in
    /// memory: the evidence file is never written. New-format logs: the log that starts the sequence first, then the
    /// other if it continues it; only entries from the primary's secondary sequence number on. Old-format logs: the
    /// first valid log written no earlier than the primary. A primary with a bad base block gets the log's base block.
    /// </summary>
    public sealed class RegistryHiveRecovery
    {
        private readonly List<ParseIssue> _issues = new List<ParseIssue>();
        private readonly List<string> _applied = new List<string>();

        private RegistryHiveRecovery(byte[] data) => Data = data;

        /// <summary>The recovered hive (a new array), or the primary's bytes when nothing was applied.</summary>
        public byte[] Data { get; private set; }

        /// <summary>True when at least one log entry or dirty page was applied.</summary>
        public bool Recovered { get; private set; }

        /// <summary>The logs applied, in order (their <see cref="RegistryTransactionLog.Source"/>).</summary>
        public IReadOnlyList<string> AppliedLogs => _applied;
        public RegistryLogFormat Format { get; private set; }
        public int EntriesApplied { get; private set; }
        public int PagesApplied { get; private set; }

        /// <summary>The sequence number the recovered base block carries (both fields).</summary>
        public uint SequenceNumber { get; private set; }

        /// <summary>Why nothing was applied, or a summary of what was.</summary>
        public string Summary { get; private set; } = string.Empty;

        /// <summary>Issues of the logs that were considered, and of the recovery itself.</summary>
        public IReadOnlyList<ParseIssue> Issues => _issues;

        internal static bool BaseBlockChecksumValid(ReadOnlySpan<byte> d)
        {
            if (d.Length < 512)
            {
                return false;
            }

            uint sum = 0;
            for (int i = 0; i < 508; i += 4)
            {
                sum ^= RegistryHive.U32(d, i);
            }

            sum = sum == 0 ? 1 : sum == 0xFFFFFFFF ? 0xFFFFFFFE : sum;
            return sum == RegistryHive.U32(d, 508);
        }

        private static void WriteChecksum(Span<byte> d)
        {
            uint sum = 0;
            for (int i = 0; i < 508; i += 4)
            {
                sum ^= BinaryPrimitives.ReadUInt32LittleEndian(d.Slice(i));
            }

            sum = sum == 0 ? 1 : sum == 0xFFFFFFFF ? 0xFFFFFFFE : sum;
            BinaryPrimitives.WriteUInt32LittleEndian(d.Slice(508), sum);
        }

        /// <summary>Whether a primary file needs its logs: a bad base-block checksum or differing sequence numbers.</summary>
        public static bool IsDirty(ReadOnlySpan<byte> primary) =>
            primary.Length >= 4096 && primary[0] == (byte)'r' && primary[1] == (byte)'e' && primary[2] == (byte)'g' && primary[3] == (byte)'f' &&
            (!BaseBlockChecksumValid(primary) || RegistryHive.U32(primary, 4) != RegistryHive.U32(primary, 8));

        /// <summary>Recovers <paramref name="primary"/> with whichever of <paramref name="logs"/> Windows would apply.</summary>
        public static RegistryHiveRecovery Recover(ReadOnlyMemory<byte> primary, string source, IReadOnlyList<RegistryTransactionLog> logs)
        {
            ReadOnlySpan<byte> p = primary.Span;
            var result = new RegistryHiveRecovery(primary.ToArray());
            foreach (RegistryTransactionLog log in logs)
            {
                result._issues.AddRange(log.Issues);
            }

            if (!IsDirty(p))
            {
                result.Summary = "the hive is not dirty";
                return result;
            }

            bool baseValid = BaseBlockChecksumValid(p);
            uint secondary = RegistryHive.U32(p, 8);
            var newLogs = logs.Where(l => l.IsValid && l.Format == RegistryLogFormat.LogEntries).ToList();
            var oldLogs = logs.Where(l => l.IsValid && l.Format == RegistryLogFormat.DirtyVector).ToList();
            var plan = new List<RegistryTransactionLog>();
            if (newLogs.Count > 0)
            {
                result.Format = RegistryLogFormat.LogEntries;
                RegistryTransactionLog first = newLogs[0];
                RegistryTransactionLog? second = newLogs.Count > 1 ? newLogs[1] : null;
                if (second is not null && !StartsBefore(first.PrimarySequenceNumber, second.PrimarySequenceNumber))
                {
                    (first, second) = (second, first);
                }

                if (!baseValid)
                {
                    // Without a trustworthy base block the kernel takes the newer log's base block and that log alone.
                    plan.Add(second ?? first);
                }
                else if (!StartsBefore(first.PrimarySequenceNumber, secondary) || first.PrimarySequenceNumber == secondary)
                {
                    plan.Add(first);
                    if (second is not null)
                    {
                        plan.Add(second);
                    }
                }
                else if (second is not null && (!StartsBefore(second.PrimarySequenceNumber, secondary) || second.PrimarySequenceNumber == secondary))
                {
                    plan.Add(second);
                }
                else
                {
                    result.Summary = "no transaction log reaches the hive's sequence number";
                    return result;
                }

                result.ApplyNew(p, baseValid, plan);
            }
            else if (oldLogs.Count > 0)
            {
                result.Format = RegistryLogFormat.DirtyVector;
                ulong primaryTime = baseValid ? BinaryPrimitives.ReadUInt64LittleEndian(p.Slice(12)) : FirstBinTimestamp(p);
                RegistryTransactionLog? chosen = oldLogs.FirstOrDefault(l => l.LastWrittenFileTime >= primaryTime && l.DirtyPages.Count > 0);
                if (chosen is null)
                {
                    result.Summary = "no transaction log was written at or after the hive's last write";
                    return result;
                }

                result.ApplyOld(p, baseValid, chosen);
            }
            else
            {
                result.Summary = logs.Count == 0 ? "no transaction log was found beside the hive" : "no transaction log beside the hive is valid";
                return result;
            }

            if (!result.Recovered && result.Summary.Length == 0)
            {
                result.Summary = "the logs hold nothing newer than the hive";
            }

            return result;
        }

        /// <summary>True when sequence number <paramref name="a"/> comes before <paramref name="b"/>, allowing for wrap-around.</summary>
        private static bool StartsBefore(uint a, uint b) => a != b && unchecked(b - a) <= 0x7FFFFFFF;

        private static ulong FirstBinTimestamp(ReadOnlySpan<byte> p) =>
            p.Length >= 4096 + 32 && p[4096] == (byte)'h' && p[4097] == (byte)'b' && p[4098] == (byte)'i' && p[4099] == (byte)'n'
                ? BinaryPrimitives.ReadUInt64LittleEndian(p.Slice(4096 + 20))
                : 0;

        /// <summary>The largest image the pages may build: the primary plus every page the logs hold. A hive only grows
        /// by bins that are themselves dirty pages, so this bounds memory by the input without refusing a real log.</summary>
        private static long Cap(long primaryLength, IEnumerable<RegistryLogPage> pages) =>
            primaryLength + pages.Sum(pg => (long)pg.Size) + 4096;

        private byte[] Grow(byte[] image, long needed)
        {
            if (needed <= image.Length)
            {
                return image;
            }

            var bigger = new byte[needed];
            image.CopyTo(bigger, 0);
            return bigger;
        }

        private void ApplyNew(ReadOnlySpan<byte> primary, bool baseValid, List<RegistryTransactionLog> plan)
        {
            byte[] image = Data;
            long cap = Cap(primary.Length, plan.SelectMany(l => l.Entries).SelectMany(e => e.Pages));
            uint? last = null;
            uint binsSize = RegistryHive.U32(primary, 40);
            uint flags = RegistryHive.U32(primary, 144);
            RegistryTransactionLog? baseSource = null;
            foreach (RegistryTransactionLog log in plan)
            {
                if (last is uint l && log.PrimarySequenceNumber != unchecked(l + 1))
                {
                    // The second log only continues the first when it starts where the first ended.
                    break;
                }

                if (log.Entries.Count == 0)
                {
                    continue;
                }

                ReadOnlySpan<byte> d = log.Data.Span;
                foreach (RegistryLogEntry entry in log.Entries)
                {
                    foreach (RegistryLogPage page in entry.Pages)
                    {
                        long at = 4096 + (long)page.HiveOffset;
                        if (at + page.Size > cap)
                        {
                            _issues.Add(new ParseIssue(log.Source, page.LogOffset, $"dirty page for hive offset 0x{page.HiveOffset:X} lies beyond any size the hive can have grown to; skipped", "dirty page"));
                            continue;
                        }

                        image = Grow(image, at + page.Size);
                        d.Slice(page.LogOffset, page.Size).CopyTo(image.AsSpan((int)at));
                        PagesApplied++;
                    }

                    EntriesApplied++;
                    last = entry.SequenceNumber;
                    binsSize = entry.HiveBinsDataSize;
                    flags = (flags & ~1u) | (entry.Flags & 1u);
                }

                baseSource = log;
                _applied.Add(log.Source);
            }

            if (baseSource is null || last is null)
            {
                return;
            }

            Finish(image, primary, baseValid, baseSource, last.Value, binsSize, flags, copyFieldsFromLog: true);
            Summary = $"applied {EntriesApplied} log entries ({PagesApplied} dirty pages) from {string.Join(", ", _applied.Select(Path.GetFileName))}; sequence number now {SequenceNumber}";
        }

        private void ApplyOld(ReadOnlySpan<byte> primary, bool baseValid, RegistryTransactionLog log)
        {
            byte[] image = Data;
            long cap = Cap(primary.Length, log.DirtyPages);
            ReadOnlySpan<byte> d = log.Data.Span;
            foreach (RegistryLogPage page in log.DirtyPages)
            {
                long at = 4096 + (long)page.HiveOffset;
                if (at + page.Size > cap)
                {
                    _issues.Add(new ParseIssue(log.Source, page.LogOffset, $"dirty page for hive offset 0x{page.HiveOffset:X} lies beyond any size the hive can have grown to; skipped", "dirty page"));
                    continue;
                }

                image = Grow(image, at + page.Size);
                d.Slice(page.LogOffset, page.Size).CopyTo(image.AsSpan((int)at));
                PagesApplied++;
            }

            // A dirty hive bin must still be a hive bin at its own offset, or the log does not belong to this hive.
            for (long bin = 4096; bin + 32 <= image.Length && bin - 4096 < log.HiveBinsDataSize;)
            {
                ReadOnlySpan<byte> h = image.AsSpan((int)bin);
                uint size = RegistryHive.U32(h, 8);
                if (h[0] != (byte)'h' || h[1] != (byte)'b' || h[2] != (byte)'i' || h[3] != (byte)'n' || RegistryHive.U32(h, 4) != bin - 4096 || size < 4096 || size % 4096 != 0)
                {
                    if (log.DirtyPages.Any(pg => 4096 + (long)pg.HiveOffset <= bin && bin < 4096 + (long)pg.HiveOffset + pg.Size))
                    {
                        _issues.Add(new ParseIssue(log.Source, -1, $"after applying the log, the hive bin at hive offset 0x{bin - 4096:X} is invalid; the log is not applied", "dirty page"));
                        PagesApplied = 0;
                        return;
                    }

                    break;
                }

                bin += size;
            }

            _applied.Add(log.Source);
            EntriesApplied = 1;
            uint sequence = baseValid ? RegistryHive.U32(primary, 4) : log.PrimarySequenceNumber;
            Finish(image, primary, baseValid, log, sequence, log.HiveBinsDataSize, log.Flags, copyFieldsFromLog: true);
            Summary = $"applied {PagesApplied} dirty pages from {Path.GetFileName(log.Source)}; sequence number now {SequenceNumber}";
        }

        private void Finish(byte[] image, ReadOnlySpan<byte> primary, bool baseValid, RegistryTransactionLog log, uint sequence, uint binsSize, uint flags, bool copyFieldsFromLog)
        {
            Span<byte> b = image.AsSpan(0, 4096);
            if (!baseValid)
            {
                b.Clear();
                log.Data.Span.Slice(0, RegistryTransactionLog.LogBaseBlockSize).CopyTo(b);
            }

            if (copyFieldsFromLog)
            {
                // The log's base block was written from memory: it holds the hive's state as of the log.
                BinaryPrimitives.WriteUInt64LittleEndian(b.Slice(12), log.LastWrittenFileTime);
                BinaryPrimitives.WriteUInt32LittleEndian(b.Slice(24), log.MinorVersion);
                BinaryPrimitives.WriteUInt32LittleEndian(b.Slice(36), log.RootCellOffset);
            }

            BinaryPrimitives.WriteUInt32LittleEndian(b.Slice(4), sequence);
            BinaryPrimitives.WriteUInt32LittleEndian(b.Slice(8), sequence);
            BinaryPrimitives.WriteUInt32LittleEndian(b.Slice(28), 0);
            BinaryPrimitives.WriteUInt32LittleEndian(b.Slice(40), binsSize);
            BinaryPrimitives.WriteUInt32LittleEndian(b.Slice(144), flags);
            WriteChecksum(b);
            Data = image;
            SequenceNumber = sequence;
            Recovered = PagesApplied > 0;
        }

        /// <summary>The transaction logs Windows keeps beside a hive file (<c>X.LOG</c>, <c>X.LOG1</c>, <c>X.LOG2</c>), found
        /// case-insensitively (a volume mounted on Linux keeps the case Windows wrote).</summary>
        public static IReadOnlyList<string> FindLogFiles(string hivePath) => FindLogFiles(hivePath, null);

        /// <summary>As <see cref="FindLogFiles(string)"/>; a folder that cannot be listed is said to <paramref name="unreadable"/>
        /// (a log missed that way would leave the hive looking as if nothing had been written to it lately).</summary>
        public static IReadOnlyList<string> FindLogFiles(string hivePath, Action<string>? unreadable)
        {
            string? dir = Path.GetDirectoryName(Path.GetFullPath(hivePath));
            string name = Path.GetFileName(hivePath);
            var found = new List<string>();
            if (dir is null || !Directory.Exists(dir))
            {
                return found;
            }

            foreach (string suffix in new[] { ".LOG1", ".LOG2", ".LOG" })
            {
                string exact = Path.Combine(dir, name + suffix);
                if (File.Exists(exact))
                {
                    found.Add(exact);
                    continue;
                }

                try
                {
                    string? match = Directory.EnumerateFiles(dir).FirstOrDefault(f => string.Equals(Path.GetFileName(f), name + suffix, StringComparison.OrdinalIgnoreCase));
                    if (match is not null)
                    {
                        found.Add(match);
                    }
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    unreadable?.Invoke($"cannot list '{dir}' for the {suffix} log: {e.Message}");
                }
            }

            return found;
        }
    }
}
