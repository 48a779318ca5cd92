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
        public string Usage => "analyze-capture FILE… (CaptureAnalysis with every analyser; prints seconds, packets/s, memory, findings by kind)";

        public int Run(string[] args)
        {
            if (args.Length == 0)
            {
                throw new ArgumentException(Usage);
            }

            var watch = Stopwatch.StartNew();
            var findings = new CaptureAnalysis(new CaptureAnalysisOptions(), null).AnalyzeFiles(args, default);
            watch.Stop();
            var summary = (CaptureSummary)findings[findings.Count - 1];
            var inv = CultureInfo.InvariantCulture;
            Console.WriteLine(
                $"packets={summary.PacketCount} seconds={watch.Elapsed.TotalSeconds.ToString("F3", inv)} " +
                $"packets_per_second={(summary.PacketCount / watch.Elapsed.TotalSeconds).ToString("F0", inv)} " +
                $"cpu_seconds={Process.GetCurrentProcess().TotalProcessorTime.TotalSeconds.ToString("F2", inv)} " +
                $"gc_pause_seconds={GC.GetTotalPauseDuration().TotalSeconds.ToString("F2", inv)} " +
                $"allocated_bytes_per_packet={(GC.GetTotalAllocatedBytes() / (double)Math.Max(1, summary.PacketCount)).ToString("F0", inv)} " +
                $"peak_working_set_mb={(Process.GetCurrentProcess().PeakWorkingSet64 / 1e6).ToString("F0", inv)} issues={summary.ParseIssueCount} " +
                string.Join(" ", findings.GroupBy(f => f.GetType().Name).Select(g => $"{g.Key}={g.Count()}")));
            return 0;
        }
    }
}
