using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Threading;
using FluxForensics.Model;

namespace FluxForensics.Capture
{
    /// <summary>Receives one decoded packet; the packet (and its payload) is valid only during the call.</summary>
    public delegate void PacketHandler(in DecodedPacket packet);

    /// <summary>What CaptureReader.Read did.</summary>
    public sealed class CaptureReadResult
    {
        internal CaptureReadResult(IReadOnlyList<string> files)
        {
            Files = files;
        }

        /// <summary>Packets (records) read from the files, decodable or not.</summary>
        public long PacketCount { get; internal set; }

        /// <summary>Packets handed to the handler (IPv4/IPv6, first fragments included, later fragments not).</summary>
        public long DecodedPacketCount { get; internal set; }

        /// <summary>Bytes of the capture files read (compressed bytes for gzip files).</summary>
        public long ByteCount { get; internal set; }

        /// <summary>Sum of the packets' lengths on the wire.</summary>
        public long PacketBytes { get; internal set; }

        /// <summary>Earliest packet timestamp (UTC); null when no packet was read.</summary>
        public DateTime? First { get; internal set; }

        /// <summary>Latest packet timestamp (UTC); null when no packet was read.</summary>
        public DateTime? Last { get; internal set; }

        /// <summary>False when cancelled before the end.</summary>
        public bool Completed { get; internal set; }

        public TimeSpan Elapsed { get; internal set; }

        /// <summary>The files in the order their reading began (by first timestamp); for live capture, the save path if any.</summary>
        public IReadOnlyList<string> Files { get; }

        /// <summary>Parse issues reported (also those summarised rather than reported one by one).</summary>
        public long IssueCount { get; internal set; }

        /// <summary>Live capture only: the interface captured on (null for files).</summary>
        public string? InterfaceName { get; internal set; }

        /// <summary>Live capture only: frames dropped because the analysis fell behind the bounded queue.</summary>
        public long DroppedPacketCount { get; internal set; }

        public double PacketsPerSecond => Elapsed.TotalSeconds > 0 ? PacketCount / Elapsed.TotalSeconds : 0;
    }

    /// <summary>Where the packet being analysed lies: its file and the offset of its record, for parse issues found later in the pipeline.</summary>
    public sealed class CapturePosition
    {
        public string? File { get; internal set; }

        /// <summary>Offset of the packet's record in <see cref="File"/>, or -1.</summary>
        public long Offset { get; internal set; } = -1;
    }

    /// <summary>
    /// Reads capture files as one continuous capture in time order and hands every decodable packet to a handler.
    /// A rotated set is read file after file, ordered by first timestamp, never by name; files whose packets overlap in
    /// time are merged packet by packet. A file given twice (same path, or the same bytes) is read once; gaps and
    /// overlaps between the files are reported as parse issues (the rule is on <c>CaptureReader.RotatedSet.cs</c>).
    /// Single-threaded, no allocation per packet.
    /// </summary>
    public static partial class CaptureReader
    {
        /// <summary>Per file and kind, the issues reported one by one before the rest is summarised.</summary>
        public const int MaxDetailedIssuesPerKind = 20;

        private const string Activity = "Reading capture";

        /// <summary>
        /// Reads <paramref name="paths"/>; calls <paramref name="onPacket"/> for every decodable packet in time
        /// order, <paramref name="onIssue"/> for every parse issue (file and offset; <c>null</c>: to
        /// <paramref name="reporter"/>.Issue), reports progress by bytes read over total bytes, and a file that cannot
        /// be opened as a per-item error (<c>CaptureFileUnreadable</c>). Stops promptly on cancellation, with
        /// <see cref="CaptureReadResult.Completed"/> false.
        /// </summary>
        public static CaptureReadResult Read(
            IReadOnlyList<string> paths, PacketHandler onPacket, Action<ParseIssue>? onIssue, IFluxReporter? reporter, CancellationToken cancellationToken) =>
            Read(paths, onPacket, onIssue, reporter, cancellationToken, null);

        /// <summary>As above; <paramref name="position"/> is kept on the packet handed to <paramref name="onPacket"/>.</summary>
        public static CaptureReadResult Read(
            IReadOnlyList<string> paths, PacketHandler onPacket, Action<ParseIssue>? onIssue, IFluxReporter? reporter, CancellationToken cancellationToken,
            CapturePosition? position)
        {
            if (paths is null)
            {
                throw new ArgumentNullException(nameof(paths));
            }

            if (onPacket is null)
            {
                throw new ArgumentNullException(nameof(onPacket));
            }

            reporter ??= NullReporter.Instance;
            var issues = new IssueSink(onIssue ?? reporter.Issue);
            var watch = Stopwatch.StartNew();
            var order = new List<string>();
            var result = new CaptureReadResult(order);

            // Order the files by their first timestamp (a cheap peek at the first record of each).
            var pending = new List<FileCursor>();
            var given = new Dictionary<string, string>(PathComparer);
            long totalBytes = 0;
            for (int i = 0; i < paths.Count; i++)
            {
                string path = paths[i];
                string identity = Identity(path);
                if (given.TryGetValue(identity, out string? earlier))
                {
                    issues.Report(new ParseIssue(path, -1, $"the same file as '{earlier}' (path {identity}) was given twice; read once", SetRecord));
                    continue;
                }

                given.Add(identity, path);
                long length;
                long first;
                try
                {
                    length = new FileInfo(path).Length;
                    using var peek = new CaptureFileReader(path, onIssue: null, bufferBytes: 64 * 1024);
                    first = peek.ReadNext() ? peek.TimestampTicks : long.MinValue;
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException or ArgumentException or System.Security.SecurityException)
                {
                    reporter.Error(new FluxError("CaptureFileUnreadable", FluxErrorCategory.ReadError, path, $"Cannot read capture file '{path}': {e.Message}", e));
                    continue;
                }

                pending.Add(new FileCursor(path, identity, i, first, length));
            }

            // Files without packets go first so their issues come early; then by first timestamp, ties by full path (so
            // that the order of the arguments does not change the result), then by argument order.
            pending.Sort((a, b) =>
                a.FirstTicks != b.FirstTicks ? a.FirstTicks.CompareTo(b.FirstTicks) :
                string.CompareOrdinal(a.FullPath, b.FullPath) is int c && c != 0 ? c : a.Index.CompareTo(b.Index));
            DropIdenticalContent(pending, issues);
            foreach (var c in pending)
            {
                totalBytes += c.Length;
            }

            var active = new List<FileCursor>();
            long doneBytes = 0;
            long nextCheck = 0;
            long lastProgressMs = -1000;
            long firstTicks = long.MaxValue;
            long lastTicks = long.MinValue;
            long packets = 0;
            long decoded = 0;
            long wireBytes = 0;
            int nextPending = 0;
            bool cancelled = false;

            try
            {
                while (true)
                {
                    // Open the next file when nothing is active or its first packet is due.
                    if (nextPending < pending.Count)
                    {
                        var candidate = pending[nextPending];
                        if (active.Count == 0 || candidate.FirstTicks <= MinCurrent(active, null))
                        {
                            nextPending++;
                            if (Open(candidate, issues, reporter))
                            {
                                candidate.Opened = true;
                                order.Add(candidate.Path);
                                if (candidate.Reader!.ReadNext())
                                {
                                    active.Add(candidate);
                                }
                                else
                                {
                                    candidate.Complete = true;
                                    doneBytes += Close(candidate, issues);
                                }
                            }

                            continue;
                        }
                    }

                    if (active.Count == 0)
                    {
                        break;
                    }

                    // Emit from the earliest file while it stays no later than every other candidate.
                    var cursor = active[0];
                    for (int i = 1; i < active.Count; i++)
                    {
                        if (active[i].Reader!.TimestampTicks < cursor.Reader!.TimestampTicks)
                        {
                            cursor = active[i];
                        }
                    }

                    long bound = MinCurrent(active, cursor);
                    if (nextPending < pending.Count && pending[nextPending].FirstTicks < bound)
                    {
                        bound = pending[nextPending].FirstTicks;
                    }

                    var reader = cursor.Reader!;
                    bool more;
                    do
                    {
                        long ticks = reader.TimestampTicks;
                        cursor.Observe(ticks);
                        if (ticks < firstTicks)
                        {
                            firstTicks = ticks;
                        }

                        if (ticks > lastTicks)
                        {
                            lastTicks = ticks;
                        }

                        packets++;
                        wireBytes += reader.OriginalLength;
                        var status = PacketDecoder.Decode(reader.LinkType, ticks, reader.Frame, reader.OriginalLength, out var packet);
                        if (status <= DecodeStatus.DecodedTruncated)
                        {
                            decoded++;
                            if (status == DecodeStatus.DecodedTruncated)
                            {
                                cursor.Truncated(issues, reader.RecordOffset, reader.Frame.Length, reader.OriginalLength);
                            }

                            if (position is not null)
                            {
                                position.File = cursor.Path;
                                position.Offset = reader.RecordOffset;
                            }

                            onPacket(in packet);
                        }
                        else if (status >= DecodeStatus.HeaderTruncated)
                        {
                            cursor.Undecodable(issues, status, reader.RecordOffset, reader.Frame.Length, reader.OriginalLength);
                        }

                        if (packets >= nextCheck)
                        {
                            nextCheck = packets + 4096;
                            if (cancellationToken.IsCancellationRequested)
                            {
                                cancelled = true;
                                return result;
                            }

                            long now = watch.ElapsedMilliseconds;
                            if (now - lastProgressMs >= 200)
                            {
                                lastProgressMs = now;
                                ReportProgress(reporter, active, doneBytes, totalBytes, packets, cursor.Path);
                            }
                        }

                        more = reader.ReadNext();
                    }
                    while (more && reader.TimestampTicks <= bound);

                    if (!more)
                    {
                        active.Remove(cursor);
                        cursor.Complete = true;
                        doneBytes += Close(cursor, issues);
                    }
                }

                if (cancellationToken.IsCancellationRequested)
                {
                    cancelled = true;
                }

                // Judged once every file is read: the rule needs the longest silence inside any file of the set.
                var read = pending.FindAll(c => c.Opened);
                if (!cancelled && read.TrueForAll(c => c.Complete))
                {
                    JudgeBoundaries(read, issues);
                }

                return result;
            }
            finally
            {
                long readBytes = doneBytes;
                foreach (var c in active)
                {
                    readBytes += Math.Max(0, c.Reader!.FilePosition);
                    Close(c, issues);
                }

                result.PacketCount = packets;
                result.DecodedPacketCount = decoded;
                result.PacketBytes = wireBytes;
                result.ByteCount = readBytes;
                result.First = packets > 0 ? new DateTime(firstTicks, DateTimeKind.Utc) : null;
                result.Last = packets > 0 ? new DateTime(lastTicks, DateTimeKind.Utc) : null;
                result.Completed = !cancelled;
                result.IssueCount = issues.Count;
                result.Elapsed = watch.Elapsed;
                reporter.Progress(Activity, "Completed", 1.0);
            }
        }

        private static long MinCurrent(List<FileCursor> active, FileCursor? except)
        {
            long min = long.MaxValue;
            foreach (var c in active)
            {
                if (!ReferenceEquals(c, except) && c.Reader!.TimestampTicks < min)
                {
                    min = c.Reader.TimestampTicks;
                }
            }

            return min;
        }

        private static bool Open(FileCursor cursor, IssueSink issues, IFluxReporter reporter)
        {
            try
            {
                cursor.Reader = new CaptureFileReader(cursor.Path, issues.Report);
                return true;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException or ArgumentException or System.Security.SecurityException)
            {
                reporter.Error(new FluxError("CaptureFileUnreadable", FluxErrorCategory.ReadError, cursor.Path, $"Cannot read capture file '{cursor.Path}': {e.Message}", e));
                return false;
            }
        }

        /// <summary>Closes the file, summarising the issues that were only counted; returns its length for progress.</summary>
        private static long Close(FileCursor cursor, IssueSink issues)
        {
            if (cursor.Reader is null)
            {
                return 0;
            }

            cursor.Summarise(issues);
            long unreported = cursor.Reader.IssueCount - CaptureFileReader.MaxReportedIssues;
            if (unreported > 0)
            {
                issues.Counted(unreported - 1);
                issues.Report(new ParseIssue(cursor.Path, -1, $"{cursor.Reader.IssueCount:N0} damaged records in all; {unreported:N0} not reported one by one", "capture file"));
            }

            cursor.Reader.Dispose();
            cursor.Reader = null;
            return cursor.Length;
        }

        private static void ReportProgress(IFluxReporter reporter, List<FileCursor> active, long doneBytes, long totalBytes, long packets, string path)
        {
            long read = doneBytes;
            foreach (var c in active)
            {
                read += Math.Max(0, c.Reader!.FilePosition);
            }

            double fraction = totalBytes > 0 ? Math.Min(1.0, (double)read / totalBytes) : 0;
            reporter.Progress(Activity, $"{Path.GetFileName(path)}: {packets:N0} packets", fraction);
        }

        private sealed class IssueSink
        {
            private readonly Action<ParseIssue> _target;

            public IssueSink(Action<ParseIssue> target)
            {
                _target = target;
            }

            public long Count { get; private set; }

            public void Report(ParseIssue issue)
            {
                Count++;
                _target(issue);
            }

            public void Counted(long n) => Count += n;
        }

        private sealed class FileCursor
        {
            private long _truncated;
            private long _headerTruncated;
            private long _malformed;

            public FileCursor(string path, string fullPath, int index, long firstTicks, long length)
            {
                Path = path;
                FullPath = fullPath;
                Index = index;
                FirstTicks = firstTicks;
                Length = length;
            }

            public string Path { get; }
            public string FullPath { get; }
            public int Index { get; }
            public long FirstTicks { get; }
            public long Length { get; }
            public CaptureFileReader? Reader { get; set; }
            public bool Opened { get; set; }

            /// <summary>Full paths of identical copies dropped in favour of this file.</summary>
            public List<string>? Aliases { get; set; }

            public IEnumerable<string> Identities()
            {
                yield return FullPath;
                if (Aliases is not null)
                {
                    foreach (string alias in Aliases)
                    {
                        yield return alias;
                    }
                }
            }

            /// <summary>Read to its end (or stopped on a damaged record): its extent is known.</summary>
            public bool Complete { get; set; }

            /// <summary>Packets read from this file.</summary>
            public long Packets { get; private set; }

            /// <summary>Latest timestamp in this file.</summary>
            public long LastTicks { get; private set; } = long.MinValue;

            /// <summary>Longest time between consecutive packets of this file (in file order; a step back counts as none).</summary>
            public long LongestSilence { get; private set; }

            private long _previousTicks;

            public void Observe(long ticks)
            {
                if (Packets++ > 0 && ticks - _previousTicks > LongestSilence)
                {
                    LongestSilence = ticks - _previousTicks;
                }

                _previousTicks = ticks;
                if (ticks > LastTicks)
                {
                    LastTicks = ticks;
                }
            }

            public void Truncated(IssueSink issues, long offset, int captured, int wire)
            {
                if (++_truncated <= MaxDetailedIssuesPerKind)
                {
                    issues.Report(new ParseIssue(Path, offset, $"packet truncated by the snap length: {captured} of {wire} bytes captured; payload incomplete", "packet"));
                }
            }

            public void Undecodable(IssueSink issues, DecodeStatus status, long offset, int captured, int wire)
            {
                if (status == DecodeStatus.HeaderTruncated)
                {
                    if (++_headerTruncated <= MaxDetailedIssuesPerKind)
                    {
                        issues.Report(new ParseIssue(Path, offset, $"packet truncated by the snap length inside its headers: {captured} of {wire} bytes captured; not decoded", "packet"));
                    }
                }
                else if (status == DecodeStatus.Malformed)
                {
                    if (++_malformed <= MaxDetailedIssuesPerKind)
                    {
                        issues.Report(new ParseIssue(Path, offset, $"malformed link, IP or transport header ({captured} bytes captured); not decoded", "packet"));
                    }
                }
            }

            public void Summarise(IssueSink issues)
            {
                Summary(issues, _truncated, "packets truncated by the snap length");
                Summary(issues, _headerTruncated, "packets truncated inside their headers");
                Summary(issues, _malformed, "packets with malformed headers");
            }

            private void Summary(IssueSink issues, long count, string what)
            {
                if (count > MaxDetailedIssuesPerKind)
                {
                    long more = count - MaxDetailedIssuesPerKind;
                    issues.Counted(more - 1);
                    issues.Report(new ParseIssue(Path, -1, $"{count:N0} {what} in all; {more:N0} not reported one by one", "packet"));
                }
            }
        }
    }
}
