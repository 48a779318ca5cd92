using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Text.RegularExpressions;
using FluxForensics.Model;

namespace FluxForensics.Capture
{
    /// <summary>
    /// Rotated capture sets (tcpdump -C / -G, dumpcap and editcap ring files, a folder of rotated files): which files
    /// are the same file given twice, which members of a numbered set are missing, and where the files overlap or
    /// leave a silence that looks like lost packets.
    /// </summary>
    /// <remarks>
    /// <para>The gap rule, meant to be one an incident responder can check by hand from the numbers in the issue:</para>
    /// <list type="number">
    /// <item>A numbered set skips a member: between two files of the same set (read in time order) the sequence number
    /// rises by more than one. Numbered sets are dumpcap/editcap names (<c>prefix_00001_20261208011500.pcapng</c>, the
    /// first number) and tcpdump -C names (<c>name</c>, <c>name1</c>, <c>name2</c> …, or <c>name00</c>, <c>name01</c>
    /// with -W), where <c>name</c> ends in a capture extension (.pcap, .pcapng, .cap, .dmp) or is itself one of the
    /// files; a trailing .gz/.bz2/.xz/.zst/.lz4 is ignored. A number that goes down is a ring wrapping round, not a
    /// gap. Digits in strftime names (tcpdump -G) are not sequence numbers: a -G file exists only for intervals that
    /// saw a packet, so its names skip on a quiet network.</item>
    /// <item>A silence: the time from the latest packet of the files before to the first packet of the next file is
    /// more than twice the longest silence between consecutive packets inside any one file of the set, and more than
    /// one second. The capture's own quiet periods show how long a silence can be without loss; twice that, at a file
    /// boundary, is worth a look. The second floor keeps sub-second jitter of busy links quiet (tcpdump -G and dumpcap
    /// durations rotate in whole seconds, so a lost time-rotated file leaves at least that). The longest of a handful
    /// of silences says nothing about normal spacing: with fewer than <see cref="MinimumSpacingSamples"/> silences
    /// inside the files (all files together), only numbered-set gaps are reported.</item>
    /// </list>
    /// <para>An overlap is a next file whose first packet is earlier than the latest packet of the files before it; its
    /// packets are merged with theirs in time order. Every judgement depends only on the files' contents and names, so
    /// the same set gives the same issues in any order and under any name shuffle that keeps numbered names.</para>
    /// </remarks>
    public static partial class CaptureReader
    {
        /// <summary>A silence between files shorter than this is never reported as a gap.</summary>
        public static readonly TimeSpan MinimumGap = TimeSpan.FromSeconds(1);

        /// <summary>A silence between files is a gap when longer than this many times the longest silence inside a file.</summary>
        public const int GapFactor = 2;

        /// <summary>Silences between consecutive packets inside the files needed before their longest one measures normal spacing.</summary>
        public const int MinimumSpacingSamples = 100;

        private const string SetRecord = "capture set";

        private static readonly StringComparer PathComparer =
            Path.DirectorySeparatorChar == '\\' ? StringComparer.OrdinalIgnoreCase : StringComparer.Ordinal;

        // dumpcap -b and editcap -c/-i: prefix_NNNNN_YYYYMMDDhhmmss[.ext]
        private static readonly Regex RingName = new Regex(@"^(?<stem>.*)_(?<n>[0-9]{5,9})_[0-9]{14}(?<ext>\..*)?$", RegexOptions.CultureInvariant);

        // tcpdump -C: the -w name, then the count appended (zero-padded with -W)
        private static readonly Regex CountName = new Regex(@"^(?<stem>.*[^0-9])(?<n>[0-9]{1,9})$", RegexOptions.CultureInvariant);

        private static readonly string[] CaptureExtensions = { ".pcap", ".pcapng", ".cap", ".dmp" };
        private static readonly string[] CompressionSuffixes = { ".gz", ".bz2", ".xz", ".zst", ".lz4" };

        /// <summary>
        /// The capture files directly in <paramref name="folder"/>, recognised by their magic number (pcap, pcapng,
        /// either gzip-compressed), not by extension, in ordinal name order (reading orders them by time anyway).
        /// Every other file is passed to <paramref name="skipped"/> with the reason.
        /// </summary>
        public static IReadOnlyList<string> CaptureFilesIn(string folder, Action<string>? skipped)
        {
            if (folder is null)
            {
                throw new ArgumentNullException(nameof(folder));
            }

            var names = new List<string>(Directory.GetFiles(folder));
            names.Sort(StringComparer.Ordinal);
            var captures = new List<string>();
            foreach (string file in names)
            {
                string? why = WhyNotCapture(file);
                if (why is null)
                {
                    captures.Add(file);
                }
                else
                {
                    skipped?.Invoke($"Skipped '{file}': {why}.");
                }
            }

            return captures;
        }

        /// <summary>Null when <paramref name="file"/> starts like a capture file; otherwise why not.</summary>
        private static string? WhyNotCapture(string file)
        {
            try
            {
                ParseIssue? first = null;
                using var reader = new CaptureFileReader(file, i => first ??= i, bufferBytes: 4096);
                return reader.Format != CaptureFileFormat.Unknown ? null : first?.Message ?? "not a capture file";
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException or ArgumentException or System.Security.SecurityException)
            {
                return "cannot be read: " + e.Message;
            }
        }

        /// <summary>The full path that identifies a file given twice; the argument itself when it has none.</summary>
        private static string Identity(string path)
        {
            try
            {
                return Path.GetFullPath(path);
            }
            catch (Exception e) when (e is ArgumentException or NotSupportedException or PathTooLongException or System.Security.SecurityException)
            {
                return path;
            }
        }

        /// <summary>
        /// Drops from <paramref name="pending"/> (sorted by first timestamp) every file with the same bytes as an earlier
        /// argument. Only files of equal length and equal first timestamp are compared, so distinct rotated files cost
        /// nothing.
        /// </summary>
        private static void DropIdenticalContent(List<FileCursor> pending, IssueSink issues)
        {
            for (int i = 0; i < pending.Count; i++)
            {
                for (int j = i + 1; j < pending.Count && pending[j].FirstTicks == pending[i].FirstTicks; j++)
                {
                    var a = pending[i];
                    var b = pending[j];
                    if (a.Length != b.Length || !SameBytes(a.Path, b.Path))
                    {
                        continue;
                    }

                    var (kept, dropped) = a.Index < b.Index ? (a, b) : (b, a);
                    issues.Report(new ParseIssue(dropped.Path, -1,
                        $"the same content as '{kept.Path}' ({kept.Length:N0} bytes, identical): a copy given twice; read once", SetRecord));
                    // The copy read stands in for the one dropped, so a numbered set it belongs to keeps its member.
                    (kept.Aliases ??= new List<string>()).Add(dropped.FullPath);
                    if (dropped.Aliases is not null)
                    {
                        kept.Aliases.AddRange(dropped.Aliases);
                    }

                    pending[i] = kept;
                    pending.RemoveAt(j);
                    j--;
                }
            }
        }

        private static bool SameBytes(string a, string b)
        {
            try
            {
                using var x = new FileStream(a, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1, FileOptions.SequentialScan);
                using var y = new FileStream(b, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1, FileOptions.SequentialScan);
                var bx = new byte[64 * 1024];
                var by = new byte[64 * 1024];
                while (true)
                {
                    int nx = ReadFull(x, bx);
                    int ny = ReadFull(y, by);
                    if (nx != ny || !bx.AsSpan(0, nx).SequenceEqual(by.AsSpan(0, ny)))
                    {
                        return false;
                    }

                    if (nx == 0)
                    {
                        return true;
                    }
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                return false; // not provably the same: both are read, and an unreadable one is reported then
            }
        }

        private static int ReadFull(Stream s, byte[] buffer)
        {
            int n = 0;
            while (n < buffer.Length)
            {
                int r = s.Read(buffer, n, buffer.Length - n);
                if (r <= 0)
                {
                    break;
                }

                n += r;
            }

            return n;
        }

        /// <summary>
        /// The numbered set a file belongs to (directory, name stem, extension) and its number; false when none.
        /// <paramref name="names"/> holds the full paths of every file read (and of the identical copies dropped),
        /// <paramref name="sequels"/> the keys of the stems that some file extends with a count.
        /// </summary>
        private static bool TrySequence(string path, HashSet<string> names, HashSet<string> sequels, out string set, out long number)
        {
            set = string.Empty;
            number = 0;
            string name = Path.GetFileName(path);
            string directory = Path.GetDirectoryName(path) ?? string.Empty;
            var ring = RingName.Match(name);
            if (ring.Success)
            {
                set = directory + "|ring|" + ring.Groups["stem"].Value + "|" + ring.Groups["ext"].Value;
                number = long.Parse(ring.Groups["n"].Value, CultureInfo.InvariantCulture);
                return true;
            }

            SplitCount(name, out string stem, out string? digits, out string suffix);
            if (digits is not null && (HasCaptureExtension(stem) || names.Contains(Path.Combine(directory, stem + suffix))))
            {
                number = long.Parse(digits, CultureInfo.InvariantCulture);
            }
            else if (sequels.Contains(CountKey(directory, digits is null ? stem : stem + digits, suffix)))
            {
                stem = digits is null ? stem : stem + digits;
                number = 0; // tcpdump -C's first file carries no number
            }
            else
            {
                return false;
            }

            set = CountKey(directory, stem, suffix);
            return true;
        }

        /// <summary>Splits a tcpdump -C name into the -w name, the count appended to it (null when none) and a compression suffix.</summary>
        private static void SplitCount(string name, out string stem, out string? digits, out string suffix)
        {
            suffix = string.Empty;
            foreach (string c in CompressionSuffixes)
            {
                if (name.Length > c.Length && name.EndsWith(c, StringComparison.OrdinalIgnoreCase))
                {
                    suffix = name.Substring(name.Length - c.Length).ToLowerInvariant();
                    name = name.Substring(0, name.Length - c.Length);
                    break;
                }
            }

            var count = CountName.Match(name);
            stem = count.Success ? count.Groups["stem"].Value : name;
            digits = count.Success ? count.Groups["n"].Value : null;
        }

        private static string CountKey(string directory, string stem, string suffix) => directory + "|count|" + stem + "|" + suffix;

        /// <summary>The stems some file extends with a count: a file named exactly so is the set's unnumbered first file.</summary>
        private static HashSet<string> Sequels(HashSet<string> names)
        {
            var sequels = new HashSet<string>(PathComparer);
            foreach (string path in names)
            {
                SplitCount(Path.GetFileName(path), out string stem, out string? digits, out string suffix);
                if (digits is not null)
                {
                    sequels.Add(CountKey(Path.GetDirectoryName(path) ?? string.Empty, stem, suffix));
                }
            }

            return sequels;
        }

        private static bool HasCaptureExtension(string name)
        {
            foreach (string e in CaptureExtensions)
            {
                if (name.EndsWith(e, StringComparison.OrdinalIgnoreCase))
                {
                    return true;
                }
            }

            return false;
        }

        /// <summary>
        /// Reports the gaps and overlaps between the files of <paramref name="read"/> (in read order, each read to its
        /// end) by the rule in this class's remarks.
        /// </summary>
        private static void JudgeBoundaries(List<FileCursor> read, IssueSink issues)
        {
            if (read.Count < 2)
            {
                return;
            }

            long longestSilence = -1;
            long samples = 0;
            foreach (var f in read)
            {
                if (f.Packets >= 2)
                {
                    samples += f.Packets - 1;
                    longestSilence = Math.Max(longestSilence, f.LongestSilence);
                }
            }

            // Numbered sets first: a skipped number names the missing members.
            var names = new HashSet<string>(PathComparer);
            foreach (var f in read)
            {
                names.UnionWith(f.Identities());
            }

            var sequels = Sequels(names);
            var lastOfSet = new Dictionary<string, (FileCursor File, long Number)>(StringComparer.Ordinal);
            var reported = new HashSet<FileCursor>();
            foreach (var f in read)
            {
                foreach (string identity in f.Identities())
                {
                    if (!TrySequence(identity, names, sequels, out string set, out long number))
                    {
                        continue;
                    }

                    if (lastOfSet.TryGetValue(set, out var previous) && number > previous.Number + 1 && f.Packets > 0 && previous.File.Packets > 0)
                    {
                        long missing = number - previous.Number - 1;
                        string which = missing == 1 ? $"file number {previous.Number + 1} is" : $"{missing} files (numbers {previous.Number + 1} to {number - 1}) are";
                        string silence = f.FirstTicks > previous.File.LastTicks ? $"; {Seconds(f.FirstTicks - previous.File.LastTicks)} s without packets" : string.Empty;
                        issues.Report(new ParseIssue(f.Path, -1,
                            $"gap: {which} missing from the numbered set between '{previous.File.Path}' (last packet {Time(previous.File.LastTicks)}) and '{f.Path}' (first packet {Time(f.FirstTicks)}){silence}",
                            SetRecord));
                        reported.Add(f);
                    }

                    lastOfSet[set] = (f, number);
                }
            }

            // Then overlaps and silences against the latest packet of all the files before.
            long threshold = samples < MinimumSpacingSamples ? long.MaxValue : Math.Max(MinimumGap.Ticks, GapFactor * longestSilence);
            FileCursor? before = null;
            foreach (var f in read)
            {
                if (f.Packets == 0)
                {
                    continue;
                }

                if (before is not null)
                {
                    if (f.FirstTicks < before.LastTicks)
                    {
                        issues.Report(new ParseIssue(f.Path, -1,
                            $"overlap: '{f.Path}' starts at {Time(f.FirstTicks)}, before '{before.Path}' ends at {Time(before.LastTicks)}: {Seconds(before.LastTicks - f.FirstTicks)} s overlap; their packets were merged in time order",
                            SetRecord));
                    }
                    else if (f.FirstTicks - before.LastTicks > threshold && !reported.Contains(f))
                    {
                        issues.Report(new ParseIssue(f.Path, -1,
                            $"gap: {Seconds(f.FirstTicks - before.LastTicks)} s without packets between '{before.Path}' (last packet {Time(before.LastTicks)}) and '{f.Path}' (first packet {Time(f.FirstTicks)}); " +
                            $"the longest silence inside any file is {Seconds(longestSilence)} s: packets may be missing",
                            SetRecord));
                    }
                }

                if (before is null || f.LastTicks > before.LastTicks)
                {
                    before = f;
                }
            }
        }

        private static string Time(long ticks) => new DateTime(ticks, DateTimeKind.Utc).ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture);

        private static string Seconds(long ticks) => (ticks / (double)TimeSpan.TicksPerSecond).ToString("0.######", CultureInfo.InvariantCulture);
    }
}
