using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using FluxForensics.Model;

namespace FluxForensics.Formats
{
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
                        image = ApplyPage(image, d, page, cap, log.Source);
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

        /// <summary>Copies one dirty page into the image at its hive offset, growing the image; a page beyond any size the
        /// hive can have grown to is skipped with an issue.</summary>
        private byte[] ApplyPage(byte[] image, ReadOnlySpan<byte> logData, RegistryLogPage page, long cap, string source)
        {
            long at = 4096 + (long)page.HiveOffset;
            if (at + page.Size > cap)
            {
                _issues.Add(new ParseIssue(source, page.LogOffset, $"dirty page for hive offset 0x{page.HiveOffset:X} lies beyond any size the hive can have grown to; skipped", "dirty page"));
                return image;
            }

            image = Grow(image, at + page.Size);
            logData.Slice(page.LogOffset, page.Size).CopyTo(image.AsSpan((int)at));
            PagesApplied++;
            return image;
        }

        private void ApplyOld(ReadOnlySpan<byte> primary, bool baseValid, RegistryTransactionLog log)
        {
            byte[] image = Data;
            long cap = Cap(primary.Length, log.DirtyPages);
            ReadOnlySpan<byte> d = log.Data.Span;
            foreach (RegistryLogPage page in log.DirtyPages)
            {
                image = ApplyPage(image, d, page, cap, log.Source);
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
