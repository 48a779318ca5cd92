using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using FluxForensics.Capture;
using FluxForensics.Formats;

namespace FluxForensics.Fuzz
{
    /// <summary>A whole capture file (pcap, pcapng, gzip) through the reader, the decoder and every capture analyser.</summary>
    public sealed class CaptureFileTarget : IFuzzTarget
    {
        public string Name => "capture";

        public IEnumerable<string> SeedFiles(FuzzPaths paths) => paths.CorpusFiles("*.pcap", "*.pcapng", "*.cap", "*.gz");

        public void Run(byte[] input)
        {
            var engine = new CaptureEngine(new CaptureAnalysisOptions(), NullReporter.Instance, "fuzz");
            using var reader = new CaptureFileReader(new MemoryStream(input, writable: false), "fuzz", engine.Context.AddIssue, 64 * 1024);
            while (reader.ReadNext())
            {
                var status = PacketDecoder.Decode(reader.LinkType, reader.TimestampTicks, reader.Frame, reader.OriginalLength, out var packet);
                if (status is DecodeStatus.Decoded or DecodeStatus.DecodedTruncated)
                {
                    engine.OnPacket(packet);
                }
            }

            foreach (var finding in engine.Complete()) _ = finding.RiskScore;
        }
    }

    /// <summary>One frame through the link → IP → TCP/UDP decoder; the first byte picks the link type.</summary>
    public sealed class PacketTarget : IFuzzTarget, IGeneratedSeeds
    {
        private static readonly int[] LinkTypes = { 1, 113, 276, 101, 228, 229, 0, 108, 12, 14 };

        public string Name => "packet";

        public IEnumerable<string> SeedFiles(FuzzPaths paths) => Enumerable.Empty<string>();

        public IEnumerable<byte[]> GeneratedSeeds(FuzzPaths paths)
        {
            // Frames taken from the corpus captures, each prefixed with the index of its link type.
            foreach (var file in paths.CorpusFiles("*.pcap", "*.pcapng").Take(12))
            {
                using var reader = new CaptureFileReader(file);
                int taken = 0;
                while (taken < 4 && reader.ReadNext())
                {
                    int index = Array.IndexOf(LinkTypes, reader.LinkType);
                    if (index < 0) continue;
                    taken++;
                    yield return new[] { (byte)index }.Concat(reader.Frame.ToArray()).ToArray();
                }
            }
        }

        public void Run(byte[] input)
        {
            if (input.Length == 0) return;
            int linkType = LinkTypes[input[0] % LinkTypes.Length];
            var frame = new ReadOnlySpan<byte>(input, 1, input.Length - 1);
            PacketDecoder.Decode(linkType, 0, frame, frame.Length + (input[0] >> 4), out _);
        }
    }

    /// <summary>A PE image: headers, sections, version resource, security directory.</summary>
    public sealed class PortableExecutableTarget : IFuzzTarget
    {
        public string Name => "pe";

        public IEnumerable<string> SeedFiles(FuzzPaths paths) =>
            paths.CorpusFiles("*.exe", "*.dll", "*.sys", "*.bin").Where(f => { using var s = File.OpenRead(f); return s.ReadByte() == 'M' && s.ReadByte() == 'Z'; });

        public void Run(byte[] input)
        {
            PeFile.TryParse(input, out var version, out var signature, out var issues);
            _ = version?.Get("CompanyName");
            _ = signature;
            _ = issues.Count;
        }
    }
}
