using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Net;
using FluxForensics.Capture;
using FluxForensics.Fixtures.Capture;
using FluxForensics.Fixtures.Relay;
using FluxForensics.Model;
using FluxForensics.Tests.Relay;

namespace FluxForensics.Tests.Capture
{
    /// <summary>
    /// The engine spreads packets over workers by address pair and merges what they find back in capture order: the
    /// findings (every property, and their order) must not depend on how many workers there were.
    /// </summary>
    public class EngineWorkerCountTests
    {
        private static readonly int[] WorkerCounts = { 1, 2, 3, 4 };

        private static List<string> Analyse(string path, int workers, CaptureAnalysisOptions? options = null)
        {
            var o = options ?? new CaptureAnalysisOptions();
            o.Workers = workers;
            var findings = new List<FluxFinding>();
            new CaptureAnalysis(o, NullReporter.Instance).AnalyzeFiles(new[] { path }, findings.Add, default);
            return FluxForensics.Fuzz.FindingText.Canonical(findings);
        }

        private static void AssertSameForEveryWorkerCount(string path, CaptureAnalysisOptions? options = null, int minimumFindings = 2)
        {
            var one = Analyse(path, 1, options);
            Assert.True(one.Count >= minimumFindings, $"{path}: {one.Count} findings");
            foreach (int n in WorkerCounts.Skip(1))
            {
                var other = Analyse(path, n, options);
                for (int i = 0; i < Math.Min(one.Count, other.Count); i++)
                {
                    Assert.True(one[i] == other[i], $"{Path.GetFileName(path)}, {n} workers, finding {i}:\n  1: {one[i]}\n  {n}: {other[i]}");
                }

                Assert.Equal(one.Count, other.Count);
            }
        }

        [Fact]
        public void TheIncidentCaptureGivesTheSameFindingsForAnyNumberOfWorkers()
        {
            string dir = Path.Combine(Path.GetTempPath(), "ff-workers-" + Guid.NewGuid().ToString("N"));
            Directory.CreateDirectory(dir);
            try
            {
                string capture = Path.Combine(dir, "incident.pcap");
                Assert.Equal(0, new IncidentCaptureCommand().Run(new[] { capture }));
                AssertSameForEveryWorkerCount(capture, minimumFindings: 100);
            }
            finally
            {
                Directory.Delete(dir, recursive: true);
            }
        }

        [Fact]
        public void ManyRelayedConversationsGiveTheSameFindingsForAnyNumberOfWorkers()
        {
            string dir = Path.Combine(Path.GetTempPath(), "ff-workers-" + Guid.NewGuid().ToString("N"));
            Directory.CreateDirectory(dir);
            try
            {
                string capture = Path.Combine(dir, "relayed.pcap");
                Assert.Equal(0, new BenchRelayCaptureCommand().Run(new[] { capture, "6000" }));
                AssertSameForEveryWorkerCount(capture, minimumFindings: 6000);
            }
            finally
            {
                Directory.Delete(dir, recursive: true);
            }
        }

        /// <summary>
        /// Flows that go quiet without closing are closed by the engine's time sweeps; every worker sweeps at the same
        /// point of the capture, so what the sweeps close (and the order it reaches the correlators) does not depend on
        /// the spread either. Half the conversations stop mid-stream and are picked up again after the flow timeout.
        /// </summary>
        [Fact]
        public void FlowsClosedBySweepsGiveTheSameFindingsForAnyNumberOfWorkers()
        {
            string dir = Path.Combine(Path.GetTempPath(), "ff-workers-" + Guid.NewGuid().ToString("N"));
            Directory.CreateDirectory(dir);
            try
            {
                string capture = Path.Combine(dir, "idle.pcap");
                var frames = new List<(DateTime Time, byte[] Frame)>();
                FrameSink sink = (t, f) => frames.Add((t, f));
                var random = new Random(7);
                var start = new DateTime(2012, 5, 14, 9, 0, 0, DateTimeKind.Utc);
                for (int i = 0; i < 400; i++)
                {
                    var bot = IPAddress.Parse($"58.1.{i / 200}.{i % 200 + 1}");
                    var server = IPAddress.Parse($"89.2.{i % 7}.{i % 50 + 1}");
                    var at = start.AddSeconds(i * 7);
                    var r = new RelayedConversation(sink, bot, (ushort)(2000 + i), IPAddress.Parse("140.127.1.77"), 80, (ushort)(30000 + i), server, 25, at, random);
                    r.S("220 mx.example ESMTP\r\n").C("EHLO bot\r\n").S("250-mx\r\n250 AUTH LOGIN\r\n")
                     .C("AUTH LOGIN\r\n").S("334 VXNlcm5hbWU6\r\n").C("dXNlckBtYWlsLmV4YW1wbGU=\r\n").S("334 UGFzc3dvcmQ6\r\n").C("c2VjcmV0\r\n").S("235 ok\r\n")
                     .C("MAIL FROM:<a@b.example>\r\n").S("250 ok\r\n").C($"RCPT TO:<u{i}@c.example>\r\n").S("250 ok\r\n");
                    if (i % 2 == 0)
                    {
                        // Never closed: the sweep after the flow timeout closes both legs.
                        continue;
                    }

                    r.C("DATA\r\n").S("354 go\r\n").C($"Subject: hi\r\n\r\nsee http://phish.example/{i}\r\n.\r\n").S("250 ok\r\n").C("QUIT\r\n").S("221 bye\r\n");
                    r.Close();
                }

                using (var writer = PcapWriter.Create(capture, 1))
                {
                    foreach (var (time, frame) in frames.OrderBy(f => f.Time))
                    {
                        writer.WritePacket(time.Ticks, frame);
                    }
                }

                AssertSameForEveryWorkerCount(capture, new CaptureAnalysisOptions { FlowTimeout = TimeSpan.FromSeconds(60) }, minimumFindings: 400);
            }
            finally
            {
                Directory.Delete(dir, recursive: true);
            }
        }

        [SkippableTheory]
        [InlineData("Traces/smtp.pcap")]
        [InlineData("Traces/ftp/retr.pcap")]
        [InlineData("Traces/http/connect-with-smtp.pcap")]
        [InlineData("Traces/http/basic-auth-with-colon.pcap")]
        [InlineData("Traces/ftp/ipv4.pcap")]
        [InlineData("Traces/dns53.pcap")]
        public void CorpusCapturesGiveTheSameFindingsForAnyNumberOfWorkers(string relative)
        {
            string path = Corpus.Zeek(relative);
            Skip.IfNot(File.Exists(path), $"{relative} is not in the corpus at ../shared/corpus");
            AssertSameForEveryWorkerCount(path, minimumFindings: 1);
        }
    
        /// <summary>
        /// Found by the capture-workers fuzzer: a connection from a third host to the port an FTP PORT command announced
        /// took the announcement with one worker (every flow on one table) but not with several (another address pair,
        /// another worker), so the real data connection's executable was reported or not depending on the spread. Only
        /// a connection between the control connection's two hosts answers an announcement now.
        /// </summary>
        [Fact]
        public void AConnectionFromAThirdHostDoesNotTakeAnFtpDataAnnouncement()
        {
            string dir = AppContext.BaseDirectory;
            while (!Directory.Exists(Path.Combine(dir, "tests", "Fuzz", "regressions")))
            {
                dir = Path.GetDirectoryName(dir) ?? throw new DirectoryNotFoundException("tests/Fuzz/regressions not found above the test binaries");
            }

            string capture = Path.Combine(dir, "tests", "Fuzz", "regressions", "capture-workers", "ftp-data-expectation-third-host-1.pcap");
            foreach (int workers in WorkerCounts)
            {
                var findings = new List<FluxFinding>();
                new CaptureAnalysis(new CaptureAnalysisOptions { Workers = workers }, NullReporter.Instance).AnalyzeFiles(new[] { capture }, findings.Add, default);
                var download = Assert.Single(findings.OfType<FluxDownload>());
                Assert.Equal("notepad.exe", download.FileName);
                Assert.Equal("192.168.100.230", download.Server);
            }

            AssertSameForEveryWorkerCount(capture, minimumFindings: 3);
        }
    }
}
