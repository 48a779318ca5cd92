using System;
using System.Diagnostics;
using System.Globalization;
using System.Linq;
using FluxForensics.Capture;
using FluxForensics.Model;

namespace FluxForensics.Fixtures.Capture
{
    /// <summary>
    /// The whole capture analysis (every analyser, as Invoke-PcapFluxAnalysis runs it) without PowerShell around it:
    /// for profiling where the cmdlet's time goes. Prints seconds, packets/s, peak memory, allocation and findings.
    /// </summary>
    public sealed class AnalyzeCaptureCommand : IFixtureCommand
    {
        public string Name => "analyze-capture";
        public string Usage => "analyze-capture FILE… [--repeat=N] [--warmup=SMALLFILE] [--workers=N] (CaptureAnalysis with every analyser; prints seconds, packets/s, memory, findings by kind; N runs in one process)";

        private static long _exceptions;

        public int Run(string[] args)
        {
            if (args.Length == 0)
            {
                throw new ArgumentException(Usage);
            }

            AppDomain.CurrentDomain.FirstChanceException += (_, e) =>
            {
                if (++_exceptions <= 3)
                {
                    Console.Error.WriteLine($"first-chance exception: {e.Exception.GetType().Name}: {e.Exception.Message}\n{e.Exception.StackTrace}");
                }
            };
            var workers = args.FirstOrDefault(a => a.StartsWith("--workers=", StringComparison.Ordinal));
            _workers = workers is null ? 1 : int.Parse(workers.Substring(10), CultureInfo.InvariantCulture);
            var repeat = args.FirstOrDefault(a => a.StartsWith("--repeat=", StringComparison.Ordinal));
            int runs = repeat is null ? 1 : int.Parse(repeat.Substring(9), CultureInfo.InvariantCulture);
            var files = args.Where(a => !a.StartsWith("--", StringComparison.Ordinal)).ToArray();
            using var jitLog = Environment.GetEnvironmentVariable("FLUX_JIT_LOG") is { Length: > 0 } ? new JitLog() : null;
            var warmup = args.FirstOrDefault(a => a.StartsWith("--warmup=", StringComparison.Ordinal));
            if (warmup is not null)
            {
                // A smaller capture first: what the JIT and the runtime need once per process is paid there.
                Report(new[] { warmup.Substring(9) });
            }

            for (int run = 1; run <= runs; run++)
            {
                Report(files);
            }

            return 0;
        }

        private static int _workers = 1;

        private static void Report(string[] files)
        {
            var watch = Stopwatch.StartNew();
            var findings = new CaptureAnalysis(new CaptureAnalysisOptions { Workers = _workers }, null).AnalyzeFiles(files, default);
            watch.Stop();
            var summary = (CaptureSummary)findings[findings.Count - 1];
            var inv = CultureInfo.InvariantCulture;
            Console.WriteLine(
                $"packets={summary.PacketCount} flows={summary.FlowCount} seconds={watch.Elapsed.TotalSeconds.ToString("F3", inv)} " +
                $"packets_per_second={(summary.PacketCount / watch.Elapsed.TotalSeconds).ToString("F0", inv)} " +
                $"cpu_seconds={Process.GetCurrentProcess().TotalProcessorTime.TotalSeconds.ToString("F2", inv)} " +
                $"gc_pause_seconds={GC.GetTotalPauseDuration().TotalSeconds.ToString("F2", inv)} " +
                $"allocated_bytes_per_packet={(GC.GetTotalAllocatedBytes() / (double)Math.Max(1, summary.PacketCount)).ToString("F0", inv)} " +
                $"peak_working_set_mb={(Process.GetCurrentProcess().PeakWorkingSet64 / 1e6).ToString("F0", inv)} issues={summary.ParseIssueCount} exceptions={_exceptions} " +
                string.Join(" ", findings.GroupBy(f => f.GetType().Name).Select(g => $"{g.Key}={g.Count()}")));
        }
    
    }

    /// <summary>Prints each method the JIT compiles (milliseconds since start, tier flags, name): to see the warm-up.</summary>
    internal sealed class JitLog : Relay.RuntimeEventListener
    {
        private readonly Stopwatch _watch = Stopwatch.StartNew();

        protected override long Keywords => 0x10;
        protected override string EventPrefix => "MethodLoadVerbose";

        protected override void OnRuntimeEvent(System.Diagnostics.Tracing.EventWrittenEventArgs e)
        {
            int i = e.PayloadNames!.IndexOf("MethodFlags");
            int ns = e.PayloadNames.IndexOf("MethodNamespace");
            int n = e.PayloadNames.IndexOf("MethodName");
            Console.Error.WriteLine($"{_watch.ElapsedMilliseconds} {e.Payload![i]} {e.Payload[ns]}::{e.Payload[n]}");
        }
    }
}
