using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Net;
using System.Text;
using FluxForensics.Capture;
using FluxForensics.Fixtures.Capture;
using FluxForensics.Model;

namespace FluxForensics.Fixtures.Relay
{
    /// <summary>Writes only the relay parts of the incident (Relay*Traffic) as a pcap: for tests and demos of issue 4 alone.</summary>
    public sealed class RelayCaptureCommand : IFixtureCommand
    {
        public string Name => "relay-capture";
        public string Usage => "relay-capture OUT.pcap [SCALE] (the relay parts of the incident sample only)";

        public int Run(string[] args)
        {
            if (args.Length < 1)
            {
                throw new ArgumentException(Usage);
            }

            var scenario = new IncidentScenario(20120514, args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 1);
            var frames = new List<CapturedFrame>();
            foreach (var part in typeof(RelayCaptureCommand).Assembly.GetTypes()
                         .Where(t => typeof(IIncidentTraffic).IsAssignableFrom(t) && !t.IsAbstract && !t.IsInterface && t.Name.StartsWith("Relay", StringComparison.Ordinal))
                         .Select(t => (IIncidentTraffic)Activator.CreateInstance(t)!).OrderBy(p => p.Order))
            {
                part.Generate(scenario, frames);
            }

            using (var writer = PcapWriter.Create(args[0], 1))
            {
                foreach (var frame in frames.Select((f, i) => (f, i)).OrderBy(x => x.f.TimestampUtc).ThenBy(x => x.i))
                {
                    writer.WritePacket(frame.f.TimestampUtc.Ticks, frame.f.EthernetFrame);
                }
            }

            Console.WriteLine($"{args[0]}: {frames.Count} frames");
            return 0;
        }
    }

    /// <summary>
    /// The TCP-heavy benchmark capture: many short relayed SMTP and HTTP conversations (both legs), or with
    /// <c>--short</c> that many minimal connections (handshake, one line each way, close) spread over hours.
    /// Written straight to disk in time order, so millions of connections need little memory to generate.
    /// </summary>
    public sealed class BenchRelayCaptureCommand : IFixtureCommand
    {
        public string Name => "bench-relay-capture";
        public string Usage => "bench-relay-capture OUT.pcap CONVERSATIONS [--short] (relayed SMTP/HTTP sessions, or minimal connections)";

        public int Run(string[] args)
        {
            if (args.Length < 2)
            {
                throw new ArgumentException(Usage);
            }

            string path = args[0];
            int count = int.Parse(args[1], CultureInfo.InvariantCulture);
            bool shortOnes = args.Contains("--short");
            var watch = Stopwatch.StartNew();
            var random = new Random(4);
            var relay = IPAddress.Parse("140.127.1.77");
            var start = new DateTime(2012, 5, 14, 9, 0, 0, DateTimeKind.Utc);
            long packets = 0;
            using var writer = PcapWriter.Create(path, 1);
            // Conversations do not overlap in time here, so writing them one after another keeps time order.
            FrameSink sink = (t, f) => { writer.WritePacket(t.Ticks, f); packets++; };
            var exe = RelayCast.FakePe(random, 6000);
            var response = Encoding.ASCII.GetBytes($"HTTP/1.1 200 OK\r\nContent-Length: {exe.Length}\r\n\r\n").Concat(exe).ToArray();
            var time = start;
            for (int i = 0; i < count; i++)
            {
                var bot = IPAddress.Parse($"58.{(i >> 16) & 0xFF}.{(i >> 8) & 0xFF}.{i & 0xFF}");
                var server = IPAddress.Parse($"89.{(i >> 14) & 0x3F}.{(i >> 6) & 0xFF}.{(i & 0x3F) + 1}");
                ushort port = (ushort)(1025 + i % 60000);
                if (shortOnes)
                {
                    var c = new RelayTcpConnection(sink, bot, port, server, 25, time, random) { Step = TimeSpan.FromMilliseconds(1), AckEachSegment = false }.Open();
                    c.S("220 mx ESMTP\r\n").C("EHLO pc\r\n").S("250 mx\r\n").C("QUIT\r\n");
                    c.Close();
                    time = c.Time.AddMilliseconds(5);
                    continue;
                }

                var r = new RelayedConversation(sink, bot, port, relay, 80, (ushort)(1025 + (i * 7) % 60000), server, i % 4 == 3 ? (ushort)80 : (ushort)25, time, random);
                r.Inbound.AckEachSegment = r.Outbound.AckEachSegment = false;
                if (i % 4 == 3)
                {
                    r.C("GET /m.exe HTTP/1.1\r\nHost: relay\r\n\r\n", $"GET /m.exe HTTP/1.1\r\nHost: up\r\nAuthorization: Basic aW5mZWN0ZWQ6aW5mZWN0ZWQ=\r\nX-My-Real-IP: {bot}\r\n\r\n");
                    r.S(response);
                }
                else
                {
                    r.S("220 mx.example ESMTP\r\n").C("EHLO bot\r\n").S("250-mx\r\n250 AUTH LOGIN\r\n")
                     .C("AUTH LOGIN\r\n").S("334 VXNlcm5hbWU6\r\n").C("dXNlckBtYWlsLmV4YW1wbGU=\r\n").S("334 UGFzc3dvcmQ6\r\n").C("c2VjcmV0\r\n").S("235 ok\r\n")
                     .C("MAIL FROM:<a@b.example>\r\n").S("250 ok\r\n").C($"RCPT TO:<u{i}@c.example>\r\n").S("250 ok\r\n")
                     .C("DATA\r\n").S("354 go\r\n").C($"Subject: hi\r\n\r\nsee http://phish.example/{i}\r\n.\r\n").S("250 ok\r\n").C("QUIT\r\n").S("221 bye\r\n");
                }

                r.Close();
                time = r.End.AddMilliseconds(5);
            }

            writer.Dispose();
            Console.WriteLine($"{path}: {count:N0} {(shortOnes ? "short connections" : "relayed conversations")}, {packets:N0} packets, {new FileInfo(path).Length / 1e6:N1} MB in {watch.Elapsed.TotalSeconds:N1} s");
            return 0;
        }
    }

    /// <summary>
    /// Reads a capture with CaptureReader and the relay analyser alone (or with <c>--read-only</c>, nothing but the
    /// reader: the baseline), single-threaded; prints packets/s, peak memory, flows and findings.
    /// </summary>
    public sealed class RelayAnalyzeCommand : IFixtureCommand
    {
        public string Name => "relay-analyze";
        public string Usage => "relay-analyze FILE [--read-only] [--workers=N] (the capture engine without the cmdlet; prints packets/s, peak memory, findings)";

        public int Run(string[] args)
        {
            if (args.Length < 1)
            {
                throw new ArgumentException(Usage);
            }

            bool readOnly = args.Contains("--read-only");
            using var profile = args.Contains("--alloc-profile") ? new AllocationSampler() : null;
            var workers = args.FirstOrDefault(a => a.StartsWith("--workers=", StringComparison.Ordinal));
            var options = new CaptureAnalysisOptions { Workers = workers is null ? 1 : int.Parse(workers.Substring(10), CultureInfo.InvariantCulture) };
            long seen = 0;
            var watch = Stopwatch.StartNew();
            var findings = new List<FluxFinding>();
            CaptureSummary? summary = null;
            long packets;
            if (readOnly)
            {
                packets = CaptureReader.Read(new[] { args[0] }, (in DecodedPacket p) => { seen += p.Payload.Length; }, _ => { }, null, default).PacketCount;
            }
            else
            {
                summary = new CaptureAnalysis(options, NullReporter.Instance).AnalyzeFiles(new[] { args[0] }, findings.Add, default);
                packets = summary.PacketCount;
            }

            double readSeconds = watch.Elapsed.TotalSeconds;
            watch.Stop();
            double seconds = watch.Elapsed.TotalSeconds;
            var inv = CultureInfo.InvariantCulture;
            Console.WriteLine(
                $"packets={packets} seconds={seconds.ToString("F3", inv)} read_and_reassemble_seconds={readSeconds.ToString("F3", inv)} cpu_seconds={Process.GetCurrentProcess().TotalProcessorTime.TotalSeconds.ToString("F1", inv)} gc_pause_seconds={GC.GetTotalPauseDuration().TotalSeconds.ToString("F1", inv)} packets_per_second={(packets / seconds).ToString("F0", inv)} " +
                $"flows={summary?.FlowCount ?? 0} workers={options.Workers} " +
                $"relay_sessions={findings.OfType<RelaySession>().Count()} downloads={findings.OfType<FluxDownload>().Count()} " +
                $"credentials={findings.OfType<ExposedCredential>().Count()} issues={summary?.ParseIssueCount ?? 0} " +
                $"peak_working_set_mb={(Process.GetCurrentProcess().PeakWorkingSet64 / 1e6).ToString("F0", inv)} " +
                $"managed_heap_mb={(GC.GetTotalMemory(false) / 1e6).ToString("F0", inv)} allocated_bytes_per_packet={(GC.GetTotalAllocatedBytes() / (double)Math.Max(1, packets)).ToString("F0", inv)} gen0={GC.CollectionCount(0)} gen2={GC.CollectionCount(2)}");
            if (profile is not null)
            {
                foreach (var pair in profile.ByType.OrderByDescending(p => p.Value).Take(25))
                {
                    Console.WriteLine($"  {pair.Value * 100.0 / Math.Max(1, profile.Total),5:F1}%  {pair.Key}");
                }
            }

            return 0;
        }
    }

    /// <summary>Draws the relay picture of a capture (relay analysis alone) with FluxGraph: DOT, or Mermaid with --mermaid.</summary>
    public sealed class RelayGraphCommand : IFixtureCommand
    {
        public string Name => "relay-graph";
        public string Usage => "relay-graph FILE [--mermaid] [--max=N] (relay findings of a capture as Graphviz DOT or Mermaid)";

        public int Run(string[] args)
        {
            if (args.Length < 1)
            {
                throw new ArgumentException(Usage);
            }

            var findings = new CaptureAnalysis(new CaptureAnalysisOptions(), NullReporter.Instance).AnalyzeFiles(new[] { args[0] }, default);
            var graph = new FluxGraph();
            var max = args.FirstOrDefault(a => a.StartsWith("--max=", StringComparison.Ordinal));
            if (max is not null)
            {
                graph.MaxNodesPerRole = int.Parse(max.Substring(6), CultureInfo.InvariantCulture);
            }

            foreach (var finding in findings)
            {
                switch (finding)
                {
                    case RelaySession s: graph.AddRelaySession(s.Protocol, s.Client, s.Relay, s.Server, s.ServerPort); break;
                    case FluxDownload d: graph.AddDownload(d.Client, d.Relay, d.Server, d.FileName); break;
                    case ExposedCredential c: graph.AddCredential(c.Protocol, c.Server, c.Account, c.Accepted); break;
                }
            }

            Console.Write(args.Contains("--mermaid") ? graph.ToMermaid() : graph.ToDot());
            return 0;
        }
    }

    /// <summary>Listens to one keyword of the runtime's event source and hands over the events whose name starts as given.</summary>
    internal abstract class RuntimeEventListener : System.Diagnostics.Tracing.EventListener
    {
        // Set before the base constructor can call OnEventSourceCreated: read through virtual properties.
        protected abstract long Keywords { get; }
        protected abstract string EventPrefix { get; }

        protected override void OnEventSourceCreated(System.Diagnostics.Tracing.EventSource source)
        {
            if (source.Name == "Microsoft-Windows-DotNETRuntime")
            {
                EnableEvents(source, System.Diagnostics.Tracing.EventLevel.Verbose, (System.Diagnostics.Tracing.EventKeywords)Keywords);
            }
        }

        protected override void OnEventWritten(System.Diagnostics.Tracing.EventWrittenEventArgs e)
        {
            if (e.EventName is not null && e.EventName.StartsWith(EventPrefix, StringComparison.Ordinal) && e.Payload is not null)
            {
                OnRuntimeEvent(e);
            }
        }

        protected abstract void OnRuntimeEvent(System.Diagnostics.Tracing.EventWrittenEventArgs e);
    }

    /// <summary>Samples allocations (the runtime's AllocationTick, about one per 100 KB) by type: a poor man's allocation profiler.</summary>
    internal sealed class AllocationSampler : RuntimeEventListener
    {
        public Dictionary<string, long> ByType { get; } = new Dictionary<string, long>();
        public long Total { get; private set; }

        protected override long Keywords => 0x1;
        protected override string EventPrefix => "GCAllocationTick";

        protected override void OnRuntimeEvent(System.Diagnostics.Tracing.EventWrittenEventArgs e)
        {
            int i = e.PayloadNames!.IndexOf("TypeName");
            string name = i >= 0 ? e.Payload![i]?.ToString() ?? "?" : "?";
            lock (ByType)
            {
                ByType.TryGetValue(name, out long n);
                ByType[name] = n + 1;
                Total++;
            }
        }
    }
}
