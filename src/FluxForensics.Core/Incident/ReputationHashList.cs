using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Text;
using System.Threading;
using FluxForensics.Model;

namespace FluxForensics.Incident
{
    /// <summary>
    /// A file of known-bad hashes: plain lines (a hash first, optionally followed by a name, as sha256sum writes them),
    /// or CSV/TSV with a header naming a SHA-256 (or MD5) column. abuse.ch MalwareBazaar's CSV export is read as is:
    /// its <c>#</c> comment lines, its header (also when it is itself commented out) and its quoted fields.
    /// </summary>
    public sealed class ReputationHashList
    {
        /// <summary>Header names (case-insensitive, after trimming quotes and blanks) read as each field.</summary>
        public static readonly string[] Sha256Columns = { "sha256", "sha256_hash", "sha-256", "sha256hash", "hash_sha256", "sha256sum" };
        public static readonly string[] Md5Columns = { "md5", "md5_hash", "md5hash", "hash_md5" };
        public static readonly string[] LabelColumns = { "signature", "malware", "malware_family", "family", "threat", "label" };
        public static readonly string[] NameColumns = { "file_name", "filename", "name" };
        public static readonly string[] FirstSeenColumns = { "first_seen_utc", "first_seen", "firstseen", "date_added" };
        public static readonly string[] PercentColumns = { "vtpercent" };

        private readonly Dictionary<string, Entry> _bySha256 = new Dictionary<string, Entry>(StringComparer.Ordinal);
        private readonly Dictionary<string, Entry> _byMd5 = new Dictionary<string, Entry>(StringComparer.Ordinal);

        private ReputationHashList(string path)
        {
            Path = path;
            Name = System.IO.Path.GetFileName(path);
        }

        public string Path { get; }

        /// <summary>The file name: the Source of the findings it answers.</summary>
        public string Name { get; }

        public int Count => _bySha256.Count + _byMd5.Count;

        /// <summary>Lines that carried no hash (reported once per file as a ParseIssue).</summary>
        public int SkippedLines { get; private set; }

        /// <summary>Reads a hash list. Lines without a hash are skipped and reported through <paramref name="reporter"/>.</summary>
        public static ReputationHashList Load(string path, IFluxReporter reporter, CancellationToken cancellation)
        {
            var list = new ReputationHashList(path);
            using var reader = new StreamReader(path, Encoding.UTF8, detectEncodingFromByteOrderMarks: true);
            list.Read(reader, reporter, cancellation);
            return list;
        }

        internal static ReputationHashList Parse(string name, string text, IFluxReporter reporter)
        {
            var list = new ReputationHashList(name);
            using var reader = new StringReader(text);
            list.Read(reader, reporter, CancellationToken.None);
            return list;
        }

        /// <summary>What the list says of a query: by SHA-256, else by the query's (or alias) MD5.</summary>
        public ReputationAnswer? Find(ReputationQuery query)
        {
            Entry? entry = null;
            if (query.Kind == ReputationIndicatorKind.Sha256)
            {
                _bySha256.TryGetValue(query.Value, out entry);
                if (entry is null && query.Md5 is not null)
                {
                    _byMd5.TryGetValue(query.Md5, out entry);
                }
            }
            else if (query.Kind == ReputationIndicatorKind.Md5)
            {
                _byMd5.TryGetValue(query.Value, out entry);
            }

            if (entry is null)
            {
                return null;
            }

            return new ReputationAnswer(query, ReputationSourceKind.HashList, Name)
            {
                Known = true,
                Sha256 = entry.Sha256 ?? (query.Kind == ReputationIndicatorKind.Sha256 ? query.Value : null),
                Md5 = entry.Md5 ?? query.Md5 ?? (query.Kind == ReputationIndicatorKind.Md5 ? query.Value : null),
                Label = entry.Label,
                Names = entry.Name is null ? Array.Empty<string>() : new[] { entry.Name },
                FirstSeen = entry.FirstSeen,
                ListedPercent = entry.Percent,
            };
        }

        private sealed class Entry
        {
            public string? Sha256;
            public string? Md5;
            public string? Label;
            public string? Name;
            public DateTime? FirstSeen;
            public double? Percent;
        }

        private sealed class Layout
        {
            public char Delimiter;
            public int Sha256 = -1;
            public int Md5 = -1;
            public int Label = -1;
            public int Name = -1;
            public int FirstSeen = -1;
            public int Percent = -1;
        }

        private void Read(TextReader reader, IFluxReporter reporter, CancellationToken cancellation)
        {
            Layout? layout = null;
            bool sawData = false;
            long lineNumber = 0;
            long firstSkipped = -1;
            var cells = new List<string>(16);
            string? line;
            while ((line = reader.ReadLine()) is not null)
            {
                lineNumber++;
                if ((lineNumber & 0xFFF) == 0)
                {
                    cancellation.ThrowIfCancellationRequested();
                }

                var span = line.AsSpan().Trim();
                if (span.IsEmpty)
                {
                    continue;
                }

                if (span[0] == '#')
                {
                    // MalwareBazaar comments its header out: '# "first_seen_utc","sha256_hash",…'. A commented line that
                    // reads as a header with a hash column is taken as the header, until data has started.
                    if (!sawData && TryHeader(span.Slice(1).Trim(), cells) is Layout commented)
                    {
                        layout = commented;
                    }

                    continue;
                }

                if (layout is null && !sawData && TryHeader(span, cells) is Layout header)
                {
                    layout = header;
                    continue;
                }

                sawData = true;
                var entry = layout is null ? ReadPlain(span) : ReadRow(span, layout, cells);
                if (entry is null)
                {
                    SkippedLines++;
                    if (firstSkipped < 0)
                    {
                        firstSkipped = lineNumber;
                    }

                    continue;
                }

                if (entry.Sha256 is not null)
                {
                    _bySha256[entry.Sha256] = entry;
                }

                if (entry.Md5 is not null)
                {
                    _byMd5[entry.Md5] = entry;
                }
            }

            if (SkippedLines > 0)
            {
                reporter.Issue(new ParseIssue(Name, -1,
                    $"{SkippedLines} line(s) carry no SHA-256 or MD5 and were skipped (first: line {firstSkipped})", "hash list line"));
            }
        }

        private static Layout? TryHeader(ReadOnlySpan<char> line, List<string> cells)
        {
            char delimiter = line.IndexOf('\t') >= 0 ? '\t' : line.IndexOf(',') >= 0 ? ',' : line.IndexOf(';') >= 0 ? ';' : '\0';
            if (delimiter == '\0')
            {
                // A one-column file with a header line ("sha256").
                delimiter = ',';
            }

            Split(line, delimiter, cells);
            var layout = new Layout { Delimiter = delimiter };
            for (int i = 0; i < cells.Count; i++)
            {
                string cell = cells[i].Trim().ToLowerInvariant();
                if (layout.Sha256 < 0 && Array.IndexOf(Sha256Columns, cell) >= 0) layout.Sha256 = i;
                else if (layout.Md5 < 0 && Array.IndexOf(Md5Columns, cell) >= 0) layout.Md5 = i;
                else if (layout.Label < 0 && Array.IndexOf(LabelColumns, cell) >= 0) layout.Label = i;
                else if (layout.Name < 0 && Array.IndexOf(NameColumns, cell) >= 0) layout.Name = i;
                else if (layout.FirstSeen < 0 && Array.IndexOf(FirstSeenColumns, cell) >= 0) layout.FirstSeen = i;
                else if (layout.Percent < 0 && Array.IndexOf(PercentColumns, cell) >= 0) layout.Percent = i;
            }

            return layout.Sha256 >= 0 || layout.Md5 >= 0 ? layout : null;
        }

        private static Entry? ReadRow(ReadOnlySpan<char> line, Layout layout, List<string> cells)
        {
            Split(line, layout.Delimiter, cells);
            var entry = new Entry
            {
                Sha256 = ReputationIndicators.NormalizeHash(Cell(cells, layout.Sha256), 64),
                Md5 = ReputationIndicators.NormalizeHash(Cell(cells, layout.Md5), 32),
            };
            if (entry.Sha256 is null && entry.Md5 is null)
            {
                return null;
            }

            entry.Label = Meaningful(Cell(cells, layout.Label));
            entry.Name = Meaningful(Cell(cells, layout.Name));
            if (Meaningful(Cell(cells, layout.FirstSeen)) is string seen &&
                DateTime.TryParse(seen, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var first))
            {
                entry.FirstSeen = first;
            }

            if (Meaningful(Cell(cells, layout.Percent)) is string percent &&
                double.TryParse(percent, NumberStyles.Float, CultureInfo.InvariantCulture, out var p))
            {
                entry.Percent = p;
            }

            return entry;
        }

        /// <summary>A plain line: the first hash-shaped token is the hash, the rest of the line (if any) its name.</summary>
        private static Entry? ReadPlain(ReadOnlySpan<char> line)
        {
            int end = 0;
            while (end < line.Length && !char.IsWhiteSpace(line[end]) && line[end] != ',' && line[end] != ';' && line[end] != '\t')
            {
                end++;
            }

            string token = line.Slice(0, end).ToString();
            var entry = new Entry
            {
                Sha256 = ReputationIndicators.NormalizeHash(token, 64),
                Md5 = ReputationIndicators.NormalizeHash(token, 32),
            };
            if (entry.Sha256 is null && entry.Md5 is null)
            {
                return null;
            }

            // sha256sum writes "hash  name" (or "hash *name" in binary mode).
            var rest = line.Slice(end).TrimStart(" \t,;".AsSpan()).TrimStart('*').Trim();
            entry.Name = rest.IsEmpty ? null : rest.ToString();
            return entry;
        }

        private static string? Cell(List<string> cells, int index) => index >= 0 && index < cells.Count ? cells[index] : null;

        /// <summary>MalwareBazaar writes "n/a" for empty fields.</summary>
        private static string? Meaningful(string? cell)
        {
            if (cell is null)
            {
                return null;
            }

            string trimmed = cell.Trim();
            return trimmed.Length == 0 || trimmed.Equals("n/a", StringComparison.OrdinalIgnoreCase) || trimmed == "-" ? null : trimmed;
        }

        /// <summary>
        /// Splits one CSV/TSV line: fields may be quoted (with "" for a quote inside) and padded with blanks outside the
        /// quotes, as MalwareBazaar's export is. An unterminated quote takes the rest of the line.
        /// </summary>
        internal static void Split(ReadOnlySpan<char> line, char delimiter, List<string> cells)
        {
            cells.Clear();
            var field = new StringBuilder();
            int i = 0;
            while (true)
            {
                field.Clear();
                while (i < line.Length && line[i] != delimiter && (line[i] == ' ' || line[i] == '\t'))
                {
                    i++;
                }

                if (i < line.Length && line[i] == '"')
                {
                    i++;
                    while (i < line.Length)
                    {
                        if (line[i] == '"')
                        {
                            if (i + 1 < line.Length && line[i + 1] == '"')
                            {
                                field.Append('"');
                                i += 2;
                                continue;
                            }

                            i++;
                            break;
                        }

                        field.Append(line[i++]);
                    }

                    while (i < line.Length && line[i] != delimiter)
                    {
                        i++;
                    }
                }
                else
                {
                    while (i < line.Length && line[i] != delimiter)
                    {
                        field.Append(line[i++]);
                    }
                }

                cells.Add(field.ToString());
                if (i >= line.Length)
                {
                    return;
                }

                i++; // the delimiter
            }
        }
    }
}
