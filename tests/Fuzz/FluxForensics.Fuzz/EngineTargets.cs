using System;
using System.Collections;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Text;
using System.Threading;
using FluxForensics.Capture;
using FluxForensics.Formats;
using FluxForensics.Model;

namespace FluxForensics.Fuzz
{
    /// <summary>
    /// A whole capture file through the engine with one worker and with three: the run must not crash or hang, and the
    /// two must give the same findings, property by property and in the same order (the engine's promise that the
    /// spread of packets over workers does not change the result). A difference is a crash.
    /// </summary>
    public sealed class CaptureWorkersTarget : IFuzzTarget
    {
        public string Name => "capture-workers";

        public IEnumerable<string> SeedFiles(FuzzPaths paths) => paths.CorpusFiles("*.pcap", "*.pcapng", "*.cap", "*.gz");

        public void Run(byte[] input)
        {
            var one = Analyse(input, 1);
            var three = Analyse(input, 3);
            if (one.Count != three.Count)
            {
                throw new InvalidOperationException($"1 worker gave {one.Count} findings, 3 workers {three.Count}");
            }

            for (int i = 0; i < one.Count; i++)
            {
                if (one[i] != three[i])
                {
                    throw new InvalidOperationException($"finding {i} differs:\n1: {one[i]}\n3: {three[i]}");
                }
            }
        }

        private static List<string> Analyse(byte[] input, int workers)
        {
            var findings = new List<FluxFinding>();
            var options = new CaptureAnalysisOptions { Workers = workers };
            new CaptureRun(options, NullReporter.Instance, "fuzz", findings.Add).Run(
                (onPacket, onIssue, reporter, token, position) => Read(input, onPacket, onIssue, position),
                CancellationToken.None);
            return FindingText.Canonical(findings);
        }

        private static CaptureReadResult Read(byte[] input, PacketHandler onPacket, Action<ParseIssue> onIssue, CapturePosition position)
        {
            var result = new CaptureReadResult(new[] { "fuzz" });
            using var reader = new CaptureFileReader(new MemoryStream(input, writable: false), "fuzz", onIssue, 64 * 1024);
            while (reader.ReadNext())
            {
                result.PacketCount++;
                var status = PacketDecoder.Decode(reader.LinkType, reader.TimestampTicks, reader.Frame, reader.OriginalLength, out var packet);
                if (status is DecodeStatus.Decoded or DecodeStatus.DecodedTruncated)
                {
                    position.File = "fuzz";
                    position.Offset = reader.RecordOffset;
                    onPacket(in packet);
                }
            }

            result.Completed = true;
            return result;
        }
    }

    /// <summary>A mail message through the MIME parser, keeping its parts and not, with every part's hashes read.</summary>
    public sealed class MimeTarget : IFuzzTarget, IGeneratedSeeds
    {
        public string Name => "mime";

        public IEnumerable<string> SeedFiles(FuzzPaths paths) => Enumerable.Empty<string>();

        public IEnumerable<byte[]> GeneratedSeeds(FuzzPaths paths)
        {
            yield return Encoding.ASCII.GetBytes(
                "From: a@example.com\r\nSubject: invoice\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n" +
                "--b1\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nsee http://phish.example/=\r\nx\r\n" +
                "--b1\r\nContent-Type: application/zip; name=\"a.zip\"\r\nContent-Transfer-Encoding: base64\r\n\r\nUEsDBBQAAAAIAA==\r\n" +
                "--b1\r\nContent-Type: multipart/alternative; boundary=b2\r\n\r\n--b2\r\nContent-Type: text/html\r\nContent-Transfer-Encoding: base64\r\n\r\nPGEgaHJlZj0iaHR0cDovL3guZXhhbXBsZS8iPg==\r\n--b2--\r\n" +
                "--b1--\r\n");
            yield return Encoding.ASCII.GetBytes("Subject: plain\r\n\r\nhttp://a.example/b?c=d\r\n");
        }

        public void Run(byte[] input)
        {
            foreach (bool keep in new[] { true, false })
            {
                var message = MimeMessage.Parse(input, keep);
                foreach (var part in message.Parts)
                {
                    _ = part.Md5;
                    _ = part.Sha256;
                    _ = part.Size;
                }

                _ = message.Urls.Count;
                _ = message.Issues.Count;
            }
        }
    }

    /// <summary>Findings as text, every public property in name order (a run's own timing left out): for comparing runs.</summary>
    public static class FindingText
    {
        public static List<string> Canonical(IEnumerable<FluxFinding> findings)
        {
            var lines = new List<string>();
            foreach (var finding in findings)
            {
                var sb = new StringBuilder(finding.GetType().Name);
                foreach (var property in finding.GetType().GetProperties(BindingFlags.Public | BindingFlags.Instance).OrderBy(p => p.Name, StringComparer.Ordinal))
                {
                    if (property.Name is nameof(CaptureSummary.Elapsed) or nameof(CaptureSummary.PacketsPerSecond) or nameof(FluxFinding.ObservedAt) ||
                        property.GetIndexParameters().Length > 0)
                    {
                        continue;
                    }

                    sb.Append('|').Append(property.Name).Append('=').Append(Text(property.GetValue(finding)));
                }

                lines.Add(sb.ToString());
            }

            return lines;
        }

        private static string Text(object? value) => value switch
        {
            null => "null",
            string s => s,
            DateTime d => d.ToString("o", CultureInfo.InvariantCulture),
            IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
            IEnumerable e => "[" + string.Join(",", e.Cast<object?>().Select(Text)) + "]",
            _ => value.ToString() ?? string.Empty,
        };
    }
}
