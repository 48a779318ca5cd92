using System;
using System.Collections;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Text;
using System.Threading;
using FluxForensics.Capture;
using FluxForensics.Fixtures.Capture;
using FluxForensics.Model;

namespace FluxForensics.Tests.Capture
{
    /// <summary>
    /// Rotated sets made by the real tools (tcpdump -C and -G, dumpcap ring buffers, editcap -c) from the incident
    /// sample capture are analysed as one capture: the same findings as the whole file, gaps and overlaps reported,
    /// copies read once, order by packet time whatever the names or the argument order.
    /// </summary>
    public sealed class RotatedCaptureTests : IClassFixture<RotatedCaptureTests.Sample>
    {
        private const string SetRecord = "capture set";
        private readonly Sample _sample;

        public RotatedCaptureTests(Sample sample) => _sample = sample;

        /// <summary>The incident sample written once, with its analysis as one file.</summary>
        public sealed class Sample : IDisposable
        {
            public Sample()
            {
                Folder = Path.Combine(Path.GetTempPath(), "flux-rotated-" + Guid.NewGuid().ToString("N"));
                Directory.CreateDirectory(Folder);
                Whole = Path.Combine(Folder, "incident.pcapng");
                Assert.Equal(0, new IncidentCaptureCommand().Run(new[] { Whole }));
                Baseline = Analysis.Of(Whole);
                using var reader = new CaptureFileReader(Whole);
                while (reader.ReadNext())
                {
                    Timestamps.Add(reader.TimestampTicks);
                }
            }

            public string Folder { get; }
            public string Whole { get; }
            public Analysis Baseline { get; }

            /// <summary>Timestamps of the whole file's packets, in file order.</summary>
            public List<long> Timestamps { get; } = new List<long>();

            public string NewFolder(string name)
            {
                string dir = Path.Combine(Folder, name + "-" + Guid.NewGuid().ToString("N").Substring(0, 8));
                Directory.CreateDirectory(dir);
                return dir;
            }

            public void Dispose() => Directory.Delete(Folder, true);
        }

        [SkippableFact]
        public void A_tcpdump_size_rotated_set_reads_like_the_whole_file_in_any_argument_order()
        {
            var set = TcpdumpSizeSet();
            Assert.True(set.Count >= 3, $"tcpdump -C 1 wrote {set.Count} files");

            var forward = Analysis.Of(set.ToArray());
            AssertSameFindings(_sample.Baseline, forward);
            Assert.Empty(forward.SetIssues);
            Assert.Equal(set, forward.Summary.Files);

            var reversed = Analysis.Of(Enumerable.Reverse(set).ToArray());
            AssertSameFindings(_sample.Baseline, reversed);
            Assert.Empty(reversed.SetIssues);
            Assert.Equal(set, reversed.Summary.Files);
        }

        [SkippableFact]
        public void A_file_deleted_from_the_middle_of_a_tcpdump_set_is_a_gap_naming_its_neighbours()
        {
            var set = TcpdumpSizeSet();
            Assert.True(set.Count >= 4, $"tcpdump -C 1 wrote {set.Count} files");
            long lost = PacketCount(set[2]);
            File.Delete(set[2]);
            var kept = set.Where(File.Exists).ToArray();

            var run = Analysis.Of(kept);
            Assert.Equal(_sample.Baseline.Summary.PacketCount - lost, run.Summary.PacketCount);
            var issue = Assert.Single(run.SetIssues);
            Assert.Contains("gap: file number 2 is missing", issue.Message);
            Assert.Contains($"'{set[1]}' (last packet {Time(LastTimestamp(set[1]))})", issue.Message);
            Assert.Contains($"'{set[3]}' (first packet {Time(FirstTimestamp(set[3]))})", issue.Message);
            Assert.Equal(set[3], issue.Source);
        }

        [SkippableFact]
        public void A_wrapped_tcpdump_ring_is_read_from_its_oldest_file_without_a_gap()
        {
            // -W 3: tcpdump reuses set.pcap0..2, so the newest data ends up in the lowest numbers.
            Skip.If(CaptureInteropTests.Tool("tcpdump") is null, "tcpdump is not installed");
            string dir = _sample.NewFolder("w");
            Tool("tcpdump", $"-r \"{_sample.Whole}\" -w \"{Path.Combine(dir, "set.pcap")}\" -C 1 -W 3{DropPrivileges}");
            var ring = new[] { "set.pcap2", "set.pcap0", "set.pcap1" }.Select(n => Path.Combine(dir, n)).ToArray();
            Assert.Equal(ring.OrderBy(f => f, StringComparer.Ordinal), Directory.GetFiles(dir).OrderBy(f => f, StringComparer.Ordinal));
            Assert.True(FirstTimestamp(ring[0]) < FirstTimestamp(ring[1]) && FirstTimestamp(ring[1]) < FirstTimestamp(ring[2]), "tcpdump should have wrapped");

            // What the ring kept is the tail of the capture: editcap cuts the same packets out of the whole file.
            long kept = ring.Sum(PacketCount);
            string tail = Path.Combine(_sample.NewFolder("tail"), "tail.pcapng");
            Tool("editcap", $"-r \"{_sample.Whole}\" \"{tail}\" {_sample.Timestamps.Count - kept + 1}-{_sample.Timestamps.Count}");
            var expected = Analysis.Of(tail);

            var run = Analysis.Of(ring.OrderBy(f => f, StringComparer.Ordinal).ToArray());
            AssertSameFindings(expected, run);
            Assert.Equal(ring, run.Summary.Files);
            Assert.Empty(run.SetIssues);
        }

        [SkippableFact]
        public void A_gzip_compressed_tcpdump_set_reads_like_the_whole_file_and_keeps_its_numbers()
        {
            // What tcpdump -z gzip leaves: every rotated file compressed to name.gz, the one being written not yet.
            var set = TcpdumpSizeSet();
            var compressed = new List<string>();
            for (int i = 0; i < set.Count; i++)
            {
                if (i == set.Count - 1)
                {
                    compressed.Add(set[i]);
                    continue;
                }

                using (var input = File.OpenRead(set[i]))
                using (var output = new System.IO.Compression.GZipStream(File.Create(set[i] + ".gz"), System.IO.Compression.CompressionLevel.Fastest))
                {
                    input.CopyTo(output);
                }

                File.Delete(set[i]);
                compressed.Add(set[i] + ".gz");
            }

            var run = Analysis.Of(compressed.ToArray());
            AssertSameFindings(_sample.Baseline, run);
            Assert.Empty(run.SetIssues);
            Assert.Equal(compressed, run.Summary.Files);

            File.Delete(compressed[1]);
            var gap = Assert.Single(Analysis.Of(compressed.Where(File.Exists).ToArray()).SetIssues);
            Assert.StartsWith($"gap: file number 1 is missing from the numbered set between '{compressed[0]}'", gap.Message);
        }

        [SkippableFact]
        public void A_tcpdump_time_rotated_set_reads_like_the_whole_file_and_a_missing_file_is_a_silence_gap()
        {
            // tcpdump -G rotates by the clock when a packet is written, not by packet time, even with -r: the test
            // feeds the capture through a pipe in four parts a second and a half apart, so tcpdump itself writes a -G set.
            Skip.If(CaptureInteropTests.Tool("tcpdump") is null, "tcpdump is not installed");
            string dir = _sample.NewFolder("g");
            string pcap = Path.Combine(dir, "..", Path.GetFileName(dir) + "-whole.pcap");
            Tool("tcpdump", $"-r \"{_sample.Whole}\" -w \"{pcap}\"");
            var offsets = RecordOffsets(pcap);
            var cuts = new[] { 24L, offsets[offsets.Count / 4], offsets[offsets.Count / 2], offsets[offsets.Count * 3 / 4], new FileInfo(pcap).Length };
            var bytes = File.ReadAllBytes(pcap);
            Tool("tcpdump", $"-r - -G 1 -w \"{Path.Combine(dir, "cap-%Y%m%d%H%M%S.pcap")}\"{DropPrivileges}", stdin =>
            {
                stdin.Write(bytes, 0, 24);
                for (int i = 0; i + 1 < cuts.Length; i++)
                {
                    if (i > 0)
                    {
                        Thread.Sleep(1500);
                    }

                    stdin.Write(bytes, (int)cuts[i], (int)(cuts[i + 1] - cuts[i]));
                    stdin.Flush();
                }
            });
            var set = Directory.GetFiles(dir).OrderBy(f => f, StringComparer.Ordinal).ToList();
            string files = string.Join(", ", set.Select(f => $"{Path.GetFileName(f)}: {PacketCount(f)} packets"));

            // On a loaded machine tcpdump may rotate before the first packet it reads, leaving a file with no packet.
            var full = set.Where(f => PacketCount(f) > 0).ToList();
            Assert.True(full.Count >= 3, $"tcpdump -G 1 wrote {full.Count} files with packets: {files}");

            var run = Analysis.Of(set.ToArray());
            AssertSameFindings(_sample.Baseline, run);
            Assert.True(run.SetIssues.Count == 0, files + ": " + string.Join("; ", run.SetIssues));

            // A -G set has no sequence numbers: the silence a missing file leaves is what shows. The file deleted is
            // the biggest between the first and the last (a loaded machine may add a rotation inside a part).
            int middle = Enumerable.Range(1, full.Count - 2).OrderByDescending(i => PacketCount(full[i])).First();
            long silence = FirstTimestamp(full[middle + 1]) - LastTimestamp(full[middle - 1]);
            long longestInner = full.Where(f => f != full[middle]).Max(LongestInnerSilence);
            Assert.True(silence > 2 * longestInner && silence > TimeSpan.TicksPerSecond, $"the deleted file should leave a silence: {silence} vs {longestInner}; {files}");
            File.Delete(full[middle]);
            var gap = Assert.Single(Analysis.Of(set.Where(File.Exists).ToArray()).SetIssues);
            Assert.Equal(
                $"gap: {Seconds(silence)} s without packets between '{full[middle - 1]}' (last packet {Time(LastTimestamp(full[middle - 1]))}) and " +
                $"'{full[middle + 1]}' (first packet {Time(FirstTimestamp(full[middle + 1]))}); the longest silence inside any file is {Seconds(longestInner)} s: packets may be missing",
                gap.Message);
        }

        [SkippableFact]
        public void A_dumpcap_ring_buffer_reads_like_the_whole_file_under_shuffled_names()
        {
            Skip.If(CaptureInteropTests.Tool("dumpcap") is null, "dumpcap is not installed");
            string dir = _sample.NewFolder("ring");

            // dumpcap captures from a pipe as from an interface (-i -), so its ring buffer needs no live traffic.
            Tool("dumpcap", $"-q -i - -b packets:5000 -w \"{Path.Combine(dir, "ring.pcapng")}\"", stdin =>
            {
                using var file = File.OpenRead(_sample.Whole);
                file.CopyTo(stdin);
            });
            var set = Directory.GetFiles(dir).OrderBy(f => f, StringComparer.Ordinal).ToList();
            Assert.True(set.Count >= 5, $"dumpcap wrote {set.Count} ring files");
            Assert.Matches(@"ring_00001_[0-9]{14}\.pcapng$", set[0]);

            var run = Analysis.Of(set.ToArray());
            AssertSameFindings(_sample.Baseline, run);
            Assert.Empty(run.SetIssues);
            Assert.Equal(set, run.Summary.Files);

            // Names that sort against time: the last file gets the first name.
            string shuffled = _sample.NewFolder("shuffled");
            var renamed = new List<string>();
            for (int i = 0; i < set.Count; i++)
            {
                string name = Path.Combine(shuffled, $"part-{(char)('z' - i)}.bin");
                File.Copy(set[i], name);
                renamed.Add(name);
            }

            var byName = renamed.OrderBy(f => f, StringComparer.Ordinal).ToArray();
            Assert.NotEqual(renamed, byName);
            var shuffledRun = Analysis.Of(byName);
            AssertSameFindings(_sample.Baseline, shuffledRun);
            Assert.Empty(shuffledRun.SetIssues);
            Assert.Equal(renamed, shuffledRun.Summary.Files);

            File.Delete(set[3]);
            var gap = Assert.Single(Analysis.Of(set.Where(File.Exists).ToArray()).SetIssues);
            Assert.StartsWith("gap: file number 4 is missing from the numbered set", gap.Message);
            Assert.Contains($"'{set[2]}'", gap.Message);
            Assert.Equal(set[4], gap.Source);
        }

        [SkippableFact]
        public void An_editcap_split_reads_like_the_whole_file_and_two_deleted_files_are_one_gap()
        {
            var set = EditcapSet("split", 4000);
            Assert.True(set.Count >= 6, $"editcap -c 4000 wrote {set.Count} files");
            Assert.Matches(@"split_00000_[0-9]{14}\.pcapng$", set[0]);

            var reversed = Analysis.Of(Enumerable.Reverse(set).ToArray());
            AssertSameFindings(_sample.Baseline, reversed);
            Assert.Empty(reversed.SetIssues);
            Assert.Equal(set, reversed.Summary.Files);

            File.Delete(set[2]);
            File.Delete(set[3]);
            var gap = Assert.Single(Analysis.Of(set.Where(File.Exists).ToArray()).SetIssues);
            Assert.StartsWith("gap: 2 files (numbers 2 to 3) are missing from the numbered set", gap.Message);
            Assert.Contains($"between '{set[1]}' (last packet {Time(LastTimestamp(set[1]))}) and '{set[4]}' (first packet {Time(FirstTimestamp(set[4]))})", gap.Message);
        }

        [SkippableFact]
        public void The_same_file_given_twice_or_an_identical_copy_is_read_once_with_an_issue()
        {
            var set = EditcapSet("dup", 8000);
            string copy = Path.Combine(_sample.NewFolder("copy"), "renamed-copy.pcapng");
            File.Copy(set[1], copy);
            string again = Path.Combine(Path.GetDirectoryName(set[0])!, ".", Path.GetFileName(set[0]));

            var paths = set.Concat(new[] { again, copy }).ToArray();
            var run = Analysis.Of(paths);
            AssertSameFindings(_sample.Baseline, run);
            Assert.Equal(set, run.Summary.Files);
            Assert.Equal(2, run.SetIssues.Count);
            Assert.Contains(run.SetIssues, i => i.Source == again && i.Message == $"the same file as '{set[0]}' (path {set[0]}) was given twice; read once");
            Assert.Contains(run.SetIssues, i => i.Source == copy && i.Message.StartsWith($"the same content as '{set[1]}'", StringComparison.Ordinal) && i.Message.EndsWith("a copy given twice; read once", StringComparison.Ordinal));

            // The copy given first is the one read.
            var copyFirst = Analysis.Of(new[] { copy }.Concat(set).ToArray());
            AssertSameFindings(_sample.Baseline, copyFirst);
            Assert.Contains(copy, copyFirst.Summary.Files);
            Assert.DoesNotContain(set[1], copyFirst.Summary.Files);

            // and it stands in for the numbered file it copies: no member of the set is missing.
            var only = Assert.Single(copyFirst.SetIssues);
            Assert.Equal(set[1], only.Source);
        }

        [SkippableFact]
        public void Overlapping_files_are_merged_in_time_order_with_an_overlap_issue()
        {
            // Two files that interleave: packets 1-10000 and 11001-12000 in one, 10001-11000 and the rest in the other
            // (each cut moved to where the time strictly rises, so that no two packets of one instant change order).
            Skip.If(CaptureInteropTests.Tool("editcap") is null, "editcap is not installed");
            string dir = _sample.NewFolder("overlap");
            var t = _sample.Timestamps;
            int Cut(int near)
            {
                int i = near;
                while (t[i - 1] >= t[i])
                {
                    i++;
                }

                return i; // packets 1..i before the cut, i+1.. after (editcap counts from 1)
            }

            int c1 = Cut(10000), c2 = Cut(11000), c3 = Cut(12000);
            string a = Path.Combine(dir, "a.pcapng");
            string b = Path.Combine(dir, "b.pcapng");
            Tool("editcap", $"-r \"{_sample.Whole}\" \"{a}\" 1-{c1} {c2 + 1}-{c3}");
            Tool("editcap", $"-r \"{_sample.Whole}\" \"{b}\" {c1 + 1}-{c2} {c3 + 1}-{t.Count}");

            var run = Analysis.Of(b, a);
            AssertSameFindings(_sample.Baseline, run);
            Assert.Equal(new[] { a, b }, run.Summary.Files);
            var overlap = Assert.Single(run.SetIssues);
            Assert.Equal(
                $"overlap: '{b}' starts at {Time(t[c1])}, before '{a}' ends at {Time(t[c3 - 1])}: {Seconds(t[c3 - 1] - t[c1])} s overlap; their packets were merged in time order",
                overlap.Message);
        }

        [SkippableFact]
        public void A_folder_lists_its_capture_files_by_magic_and_skips_the_rest()
        {
            var set = EditcapSet("folder", 8000);
            string dir = Path.GetDirectoryName(set[0])!;
            string gz = Path.Combine(dir, "compressed.bin");
            using (var input = File.OpenRead(set[0]))
            using (var output = new System.IO.Compression.GZipStream(File.Create(gz), System.IO.Compression.CompressionLevel.Fastest))
            {
                input.CopyTo(output);
            }

            File.WriteAllText(Path.Combine(dir, "README.pcap"), "notes about the capture, not a capture\n");
            File.WriteAllBytes(Path.Combine(dir, "empty.pcapng"), Array.Empty<byte>());
            var skipped = new List<string>();
            var found = CaptureReader.CaptureFilesIn(dir, skipped.Add);

            Assert.Equal(set.Append(gz).OrderBy(f => f, StringComparer.Ordinal), found);
            Assert.Equal(2, skipped.Count);
            Assert.Contains(skipped, s => s.StartsWith($"Skipped '{Path.Combine(dir, "README.pcap")}': not a pcap or pcapng file", StringComparison.Ordinal));
            Assert.Contains(skipped, s => s == $"Skipped '{Path.Combine(dir, "empty.pcapng")}': empty file: no capture header.");
        }

        // ---------------------------------------------------------------- tools

        private static string DropPrivileges => Environment.UserName == "root" ? " -Z root" : string.Empty;

        private List<string> TcpdumpSizeSet()
        {
            Skip.If(CaptureInteropTests.Tool("tcpdump") is null, "tcpdump is not installed");
            string dir = _sample.NewFolder("c");
            string name = Path.Combine(dir, "set.pcap");

            // As root tcpdump -C drops to the tcpdump user before opening the next file; -Z root keeps the writer able to write here.
            Tool("tcpdump", $"-r \"{_sample.Whole}\" -w \"{name}\" -C 1{DropPrivileges}");
            var set = new List<string> { name };
            for (int i = 1; File.Exists(name + i.ToString(CultureInfo.InvariantCulture)); i++)
            {
                set.Add(name + i.ToString(CultureInfo.InvariantCulture));
            }

            Assert.Equal(Directory.GetFiles(dir).Length, set.Count);
            return set;
        }

        private List<string> EditcapSet(string prefix, int packetsPerFile)
        {
            Skip.If(CaptureInteropTests.Tool("editcap") is null, "editcap is not installed");
            string dir = _sample.NewFolder(prefix);
            Tool("editcap", $"-c {packetsPerFile} \"{_sample.Whole}\" \"{Path.Combine(dir, prefix + ".pcapng")}\"");
            return Directory.GetFiles(dir).OrderBy(f => f, StringComparer.Ordinal).ToList();
        }

        private static void Tool(string name, string arguments, Action<Stream>? feed = null)
        {
            var psi = new ProcessStartInfo(CaptureInteropTests.Tool(name) ?? throw new InvalidOperationException(name + " is not installed"), arguments)
            {
                RedirectStandardInput = feed is not null,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            using var p = Process.Start(psi)!;
            var stdout = p.StandardOutput.ReadToEndAsync();
            var stderr = p.StandardError.ReadToEndAsync();
            if (feed is not null)
            {
                using (var stdin = p.StandardInput.BaseStream)
                {
                    feed(stdin);
                }
            }

            Assert.True(p.WaitForExit(120_000), $"{name} {arguments} did not finish");
            Assert.True(p.ExitCode == 0, $"{name} {arguments} exited {p.ExitCode}: {stderr.Result}{stdout.Result}");
        }

        // ---------------------------------------------------------------- reading the files independently

        /// <summary>Each packet's timestamp and record offset, in file order.</summary>
        private static List<(long Ticks, long Offset)> Records(string path)
        {
            var list = new List<(long, long)>();
            using var reader = new CaptureFileReader(path);
            while (reader.ReadNext())
            {
                list.Add((reader.TimestampTicks, reader.RecordOffset));
            }

            return list;
        }

        private static List<long> Timestamps(string path) => Records(path).Select(r => r.Ticks).ToList();

        private static List<long> RecordOffsets(string path) => Records(path).Select(r => r.Offset).ToList();

        private static long PacketCount(string path) => Timestamps(path).Count;

        private static long FirstTimestamp(string path) => Timestamps(path).First();

        private static long LastTimestamp(string path) => Timestamps(path).Max();

        private static long LongestInnerSilence(string path)
        {
            var t = Timestamps(path);
            return Enumerable.Range(1, Math.Max(0, t.Count - 1)).Select(i => t[i] - t[i - 1]).DefaultIfEmpty(0).Max();
        }

        private static string Time(long ticks) => new DateTime(ticks, DateTimeKind.Utc).ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture);

        private static string Seconds(long ticks) => (ticks / (double)TimeSpan.TicksPerSecond).ToString("0.######", CultureInfo.InvariantCulture);

        // ---------------------------------------------------------------- comparing analyses

        private static void AssertSameFindings(Analysis expected, Analysis actual)
        {
            Assert.True(expected.Findings.Count > 10, $"the sample should have findings: {expected.Findings.Count}");
            Assert.Equal(expected.Findings, actual.Findings);
            Assert.Equal(expected.Summary.PacketCount, actual.Summary.PacketCount);
            Assert.Equal(expected.Summary.FirstPacketTime, actual.Summary.FirstPacketTime);
            Assert.Equal(expected.Summary.LastPacketTime, actual.Summary.LastPacketTime);
            Assert.Equal(expected.Summary.FlowCount, actual.Summary.FlowCount);
            Assert.Equal(expected.Summary.DnsMessageCount, actual.Summary.DnsMessageCount);
            Assert.True(actual.Summary.Completed);
            Assert.Empty(actual.Errors);
        }

        /// <summary>One analysis: every finding but the summary as text (everything except where and when it was made), and the summary.</summary>
        public sealed class Analysis
        {
            private Analysis(List<string> findings, CaptureSummary summary, List<string> errors)
            {
                Findings = findings;
                Summary = summary;
                Errors = errors;
            }

            public List<string> Findings { get; }
            public CaptureSummary Summary { get; }
            public List<string> Errors { get; }
            public List<ParseIssue> SetIssues => Summary.ParseIssues.Where(i => i.Record == SetRecord).ToList();

            public static Analysis Of(params string[] paths)
            {
                var reporter = new Reporter();
                var all = new CaptureAnalysis(new CaptureAnalysisOptions { IncludeSecret = true }, reporter).AnalyzeFiles(paths, default);
                var summary = Assert.IsType<CaptureSummary>(all.Last());
                var findings = all.Where(f => f is not CaptureSummary).Select(f => Describe(f, 0)).ToList();
                return new Analysis(findings, summary, reporter.Errors);
            }

            // Source names the files; ComputerName and ObservedAt say where and when the analysis ran.
            private static readonly HashSet<string> NotCompared = new HashSet<string>(StringComparer.Ordinal) { "Source", "ComputerName", "ObservedAt" };

            private static string Describe(object? value, int depth)
            {
                switch (value)
                {
                    case null:
                        return "null";
                    case string s:
                        return "\"" + s + "\"";
                    case DateTime t:
                        return t.ToString("o", CultureInfo.InvariantCulture);
                    case IFormattable f when value.GetType().IsPrimitive || value is Enum || value is decimal || value is TimeSpan || value is DateTimeOffset:
                        return f.ToString(null, CultureInfo.InvariantCulture);
                    case bool b:
                        return b ? "true" : "false";
                    case IEnumerable e:
                        return "[" + string.Join(", ", e.Cast<object?>().Select(x => Describe(x, depth + 1))) + "]";
                }

                var type = value.GetType();
                var properties = type.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.GetIndexParameters().Length == 0).ToList();
                if (properties.Count == 0 || depth > 6 || type.IsValueType && type.Namespace == "FluxForensics.Capture")
                {
                    return Convert.ToString(value, CultureInfo.InvariantCulture) ?? string.Empty;
                }

                var text = new StringBuilder(type.Name).Append(" {");
                foreach (var p in properties.OrderBy(p => p.Name, StringComparer.Ordinal))
                {
                    if (!NotCompared.Contains(p.Name))
                    {
                        text.Append(' ').Append(p.Name).Append('=').Append(Describe(p.GetValue(value), depth + 1)).Append(';');
                    }
                }

                return text.Append(" }").ToString();
            }

            private sealed class Reporter : IFluxReporter
            {
                public List<string> Errors { get; } = new List<string>();
                public void Progress(string activity, string status, double fraction) { }
                public void Warning(string message) { }
                public void Verbose(string message) { }
                public void Issue(ParseIssue issue) { }
                public void Error(FluxError error) => Errors.Add(error.ErrorId + ": " + error.Message);
            }
        }
    }
}
