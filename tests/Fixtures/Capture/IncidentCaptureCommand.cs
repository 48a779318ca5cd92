using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using FluxForensics.Capture;

namespace FluxForensics.Fixtures.Capture
{
    /// <summary>
    /// Writes the incident sample capture: every <see cref="IIncidentTraffic"/> part of this assembly, in Order,
    /// frames sorted by time, as pcapng. Deterministic for a seed.
    /// </summary>
    public sealed class IncidentCaptureCommand : IFixtureCommand
    {
        public string Name => "incident-capture";
        public string Usage => "incident-capture OUT.pcapng [--scale N] [--seed S] [--malware FILE] (the incident sample: DNS flux, relay, background)";

        public int Run(string[] args)
        {
            if (args.Length < 1)
            {
                throw new ArgumentException(Usage);
            }

            int scale = IntOption(args, "--scale", 1);
            int seed = IntOption(args, "--seed", 20120514);
            var scenario = new IncidentScenario(seed, scale, SharedMalware.Read(args));
            var ordered = Frames(scenario, out var parts);
            string path = Path.GetFullPath(args[0]);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            using (var writer = PcapNgWriter.Create(path))
            {
                int iface = writer.AddInterface(PacketDecoder.LinkTypeEthernet, name: "eth0", timestampDecimals: 6);
                foreach (var frame in ordered)
                {
                    writer.WritePacket(iface, frame.TimestampUtc.Ticks, frame.EthernetFrame);
                }
            }

            Console.WriteLine($"{path}: {ordered.Count} packets from {parts.Count} part(s): {string.Join(", ", parts.Select(p => p.GetType().Name))}");
            return 0;
        }

        /// <summary>Every part's frames for a scenario, sorted by time (the sample's packets in the order they are written).</summary>
        internal static List<CapturedFrame> Frames(IncidentScenario scenario, out List<IIncidentTraffic> parts)
        {
            parts = typeof(IncidentCaptureCommand).Assembly.GetTypes()
                .Where(t => typeof(IIncidentTraffic).IsAssignableFrom(t) && t is { IsAbstract: false, IsInterface: false })
                .Select(t => (IIncidentTraffic)Activator.CreateInstance(t)!)
                .OrderBy(p => p.Order).ThenBy(p => p.GetType().FullName, StringComparer.Ordinal)
                .ToList();
            var frames = new List<CapturedFrame>();
            foreach (var part in parts)
            {
                part.Generate(scenario, frames);
            }

            // Stable sort: frames at the same instant keep the order their part wrote them in.
            return frames.Select((f, i) => (f, i)).OrderBy(x => x.f.TimestampUtc).ThenBy(x => x.i).Select(x => x.f).ToList();
        }

        internal static int IntOption(string[] args, string name, int fallback)
        {
            int i = Array.IndexOf(args, name);
            return i >= 0 && i + 1 < args.Length ? int.Parse(args[i + 1], CultureInfo.InvariantCulture) : fallback;
        }
    }

    /// <summary>
    /// The benchmark capture for Invoke-PcapFluxAnalysis: the DNS+TCP mix of the capture reader's benchmark
    /// (600 names, answers of 1–8 addresses), F client flows; written with template frames so it is fast to write.
    /// </summary>
    public sealed class BenchFluxCaptureCommand : IFixtureCommand
    {
        public string Name => "bench-capture";
        public string Usage => "bench-capture OUT.pcap|OUT.pcapng --packets N [--flows F] (DNS+TCP mix for the analysis benchmark)";

        public int Run(string[] args)
        {
            if (args.Length < 1)
            {
                throw new ArgumentException(Usage);
            }

            int i = Array.IndexOf(args, "--packets");
            long packets = i >= 0 && i + 1 < args.Length ? long.Parse(args[i + 1], CultureInfo.InvariantCulture) : 5_000_000;
            int flows = IncidentCaptureCommand.IntOption(args, "--flows", 10000);
            long bytes = BenchCapture.Write(Path.GetFullPath(args[0]), packets, flows);
            Console.WriteLine($"{args[0]}: {packets} packets, {flows} flows, {bytes} bytes");
            return 0;
        }
    }
}
