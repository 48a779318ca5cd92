using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;

namespace FluxForensics.Export
{
    /// <summary>Writes an <see cref="IndicatorSet"/> to the file (or, for Text, the files) of a format.</summary>
    public static class IndicatorExport
    {
        private static readonly Encoding Utf8NoBom = new UTF8Encoding(false);

        /// <summary>
        /// The files a format writes for the path given. Text writes one file per kind beside it, named after it without
        /// its extension: iocs.txt → iocs.domains.txt, iocs.addresses.txt, iocs.sha256.txt, iocs.md5.txt, iocs.urls.txt.
        /// </summary>
        public static IReadOnlyList<string> TargetPaths(IndicatorFormat format, string path)
        {
            if (string.IsNullOrEmpty(path))
            {
                throw new ArgumentException("A path is needed.", nameof(path));
            }

            if (format != IndicatorFormat.Text)
            {
                return new[] { path };
            }

            string directory = Path.GetDirectoryName(path) ?? string.Empty;
            string stem = Path.GetFileNameWithoutExtension(path);
            if (stem.Length == 0)
            {
                stem = Path.GetFileName(path);
            }

            return IndicatorListWriter.Lists.Select(l => Path.Combine(directory, stem + "." + l.Suffix)).ToArray();
        }

        /// <summary>The target files that exist already.</summary>
        public static IReadOnlyList<string> Existing(IndicatorFormat format, string path) =>
            TargetPaths(format, path).Where(p => File.Exists(p) || Directory.Exists(p)).ToArray();

        /// <summary>
        /// Writes the format's files (UTF-8 without a byte order mark) and returns their paths. Without
        /// <paramref name="overwrite"/> nothing is written when any target exists (and a file that appears meanwhile is not
        /// replaced: it is opened create-new). Warnings (names left out of a zone) go to the reporter.
        /// </summary>
        public static IReadOnlyList<string> Write(IndicatorSet set, IndicatorFormat format, string path, IndicatorExportOptions options, bool overwrite, IFluxReporter reporter)
        {
            if (set is null)
            {
                throw new ArgumentNullException(nameof(set));
            }

            var targets = TargetPaths(format, path);
            if (!overwrite)
            {
                var existing = Existing(format, path);
                if (existing.Count > 0)
                {
                    throw new IOException("The file exists: " + string.Join(", ", existing) + ".");
                }
            }

            var bodies = new List<(string Target, Action<TextWriter> Body)>();
            if (format == IndicatorFormat.Text)
            {
                bodies.AddRange(targets.Zip(IndicatorListWriter.Lists, (t, l) => (t, (Action<TextWriter>)(w => IndicatorListWriter.Write(set, l.Type, w)))));
            }
            else
            {
                bodies.Add((targets[0], w => WriteFormat(set, format, options, reporter, w)));
            }

            // Every file is written under a temporary name first and renamed when all are complete, so a failure leaves
            // neither a half-written file nor half of a Text set behind.
            var written = new List<(string Temp, string Target)>();
            try
            {
                foreach (var (target, body) in bodies)
                {
                    string temp = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(target)) ?? ".", "." + Path.GetFileName(target) + ".tmp-" + Guid.NewGuid().ToString("n"));
                    WriteFile(temp, body);
                    written.Add((temp, target));
                }

                foreach (var (temp, target) in written)
                {
                    if (overwrite && File.Exists(target))
                    {
                        File.Delete(target);
                    }

                    // Fails when the target appeared meanwhile and overwriting was not asked for.
                    File.Move(temp, target);
                }
            }
            finally
            {
                foreach (var (temp, _) in written)
                {
                    if (File.Exists(temp))
                    {
                        File.Delete(temp);
                    }
                }
            }

            return targets;
        }

        private static void WriteFormat(IndicatorSet set, IndicatorFormat format, IndicatorExportOptions options, IFluxReporter reporter, TextWriter w)
        {
            switch (format)
            {
                case IndicatorFormat.Stix:
                    StixBundleWriter.Write(set, options, w);
                    break;
                case IndicatorFormat.ZeekIntel:
                    ZeekIntelWriter.Write(set, options, w);
                    break;
                case IndicatorFormat.Csv:
                    IndicatorCsvWriter.Write(set, w);
                    break;
                case IndicatorFormat.Rpz:
                    foreach (var name in RpzZoneWriter.Write(set, options, w))
                    {
                        reporter.Warning($"{name} is left out of the zone: with the origin {options.RpzOrigin} it is longer than a DNS name can be.");
                    }

                    break;
                case IndicatorFormat.Accounts:
                    ExposedAccountCsvWriter.Write(set, w);
                    break;
                default:
                    throw new ArgumentOutOfRangeException(nameof(format));
            }
        }

        private static void WriteFile(string path, Action<TextWriter> body)
        {
            using var stream = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None);
            using var writer = new StreamWriter(stream, Utf8NoBom) { NewLine = "\n" };
            body(writer);
        }
    }
}
