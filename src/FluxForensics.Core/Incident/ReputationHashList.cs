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

        // Hashes are kept as binary keys, labels interned: MalwareBazaar's full export has about a million rows.
        private readonly Dictionary<HashKey, Entry> _bySha256 = new Dictionary<HashKey, Entry>();
        private readonly Dictionary<HashKey, Entry> _byMd5 = new Dictionary<HashKey, Entry>();
        private readonly Dictionary<string, string> _labels = new Dictionary<string, string>(StringComparer.Ordinal);

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
                if (HashKey.TryParse(query.Value.AsSpan(), 64, out var sha))
                {
                    _bySha256.TryGetValue(sha, out entry);
                }

                if (entry is null && query.Md5 is not null && HashKey.TryParse(query.Md5.AsSpan(), 32, out var alias))
                {
                    _byMd5.TryGetValue(alias, out entry);
                }
            }
            else if (query.Kind == ReputationIndicatorKind.Md5 && HashKey.TryParse(query.Value.AsSpan(), 32, out var md5))
            {
                _byMd5.TryGetValue(md5, out entry);
            }

            if (entry is null)
            {
                return null;
            }

            return new ReputationAnswer(query, ReputationSourceKind.HashList, Name)
            {
                Known = true,
                Sha256 = entry.HasSha256 ? entry.Sha256.ToHex(64) : query.Kind == ReputationIndicatorKind.Sha256 ? query.Value : null,
                Md5 = entry.HasMd5 ? entry.Md5.ToHex(32) : query.Md5 ?? (query.Kind == ReputationIndicatorKind.Md5 ? query.Value : null),
                Label = entry.Label,
                Names = entry.Name is null ? Array.Empty<string>() : new[] { entry.Name },
                FirstSeen = entry.FirstSeen,
                ListedPercent = entry.Percent,
            };
        }

        private sealed class Entry
        {
            public HashKey Sha256;
            public HashKey Md5;
            public bool HasSha256;
            public bool HasMd5;
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
            var cells = new List<Cell>(16);
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
                if (entry?.Label is string label)
                {
                    if (_labels.TryGetValue(label, out var shared))
                    {
                        entry.Label = shared;
                    }
                    else
                    {
                        _labels[label] = label;
                    }
                }
                if (entry is null)
                {
                    SkippedLines++;
                    if (firstSkipped < 0)
                    {
                        firstSkipped = lineNumber;
                    }

                    continue;
                }

                if (entry.HasSha256)
                {
                    _bySha256[entry.Sha256] = entry;
                }

                if (entry.HasMd5)
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

        private static Layout? TryHeader(ReadOnlySpan<char> line, List<Cell> cells)
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
                string cell = cells[i].Text(line).Trim().ToLowerInvariant();
                if (layout.Sha256 < 0 && Array.IndexOf(Sha256Columns, cell) >= 0) layout.Sha256 = i;
                else if (layout.Md5 < 0 && Array.IndexOf(Md5Columns, cell) >= 0) layout.Md5 = i;
                else if (layout.Label < 0 && Array.IndexOf(LabelColumns, cell) >= 0) layout.Label = i;
                else if (layout.Name < 0 && Array.IndexOf(NameColumns, cell) >= 0) layout.Name = i;
                else if (layout.FirstSeen < 0 && Array.IndexOf(FirstSeenColumns, cell) >= 0) layout.FirstSeen = i;
                else if (layout.Percent < 0 && Array.IndexOf(PercentColumns, cell) >= 0) layout.Percent = i;
            }

            return layout.Sha256 >= 0 || layout.Md5 >= 0 ? layout : null;
        }

        private static Entry? ReadRow(ReadOnlySpan<char> line, Layout layout, List<Cell> cells)
        {
            Split(line, layout.Delimiter, cells);
            var entry = new Entry();
            entry.HasSha256 = layout.Sha256 >= 0 && layout.Sha256 < cells.Count && HashKey.TryParse(cells[layout.Sha256].Span(line), 64, out entry.Sha256);
            entry.HasMd5 = layout.Md5 >= 0 && layout.Md5 < cells.Count && HashKey.TryParse(cells[layout.Md5].Span(line), 32, out entry.Md5);
            if (!entry.HasSha256 && !entry.HasMd5)
            {
                return null;
            }

            entry.Label = Meaningful(line, cells, layout.Label);
            entry.Name = Meaningful(line, cells, layout.Name);
            if (layout.FirstSeen >= 0 && layout.FirstSeen < cells.Count)
            {
                entry.FirstSeen = ParseUtc(cells[layout.FirstSeen].Span(line).Trim());
            }

            if (Meaningful(line, cells, layout.Percent) is string percent &&
                double.TryParse(percent, NumberStyles.Float, CultureInfo.InvariantCulture, out var p))
            {
                entry.Percent = p;
            }

            return entry;
        }

        /// <summary>"yyyy-MM-dd HH:mm:ss" (MalwareBazaar) read without allocating; anything else through DateTime.TryParse. UTC.</summary>
        internal static DateTime? ParseUtc(ReadOnlySpan<char> text)
        {
            if (text.IsEmpty || text.Equals("n/a".AsSpan(), StringComparison.OrdinalIgnoreCase))
            {
                return null;
            }

            if ((text.Length == 19 || (text.Length == 20 && (text[19] == 'Z' || text[19] == 'z'))) &&
                text[4] == '-' && text[7] == '-' && (text[10] == ' ' || text[10] == 'T') && text[13] == ':' && text[16] == ':' &&
                Digits(text, 0, 4, out int year) && Digits(text, 5, 2, out int month) && Digits(text, 8, 2, out int day) &&
                Digits(text, 11, 2, out int hour) && Digits(text, 14, 2, out int minute) && Digits(text, 17, 2, out int second) &&
                year >= 1 && month is >= 1 and <= 12 && day >= 1 && day <= DateTime.DaysInMonth(year, month) && hour < 24 && minute < 60 && second < 60)
            {
                return new DateTime(year, month, day, hour, minute, second, DateTimeKind.Utc);
            }

            return DateTime.TryParse(text.ToString(), CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var parsed)
                ? parsed
                : null;
        }

        private static bool Digits(ReadOnlySpan<char> text, int start, int count, out int value)
        {
            value = 0;
            for (int i = start; i < start + count; i++)
            {
                int d = text[i] - '0';
                if ((uint)d > 9)
                {
                    return false;
                }

                value = value * 10 + d;
            }

            return true;
        }

        /// <summary>A plain line: the first hash-shaped token is the hash, the rest of the line (if any) its name.</summary>
        private static Entry? ReadPlain(ReadOnlySpan<char> line)
        {
            int end = 0;
            while (end < line.Length && !char.IsWhiteSpace(line[end]) && line[end] != ',' && line[end] != ';' && line[end] != '\t')
            {
                end++;
            }

            var token = line.Slice(0, end);
            var entry = new Entry();
            entry.HasSha256 = HashKey.TryParse(token, 64, out entry.Sha256);
            entry.HasMd5 = !entry.HasSha256 && HashKey.TryParse(token, 32, out entry.Md5);
            if (!entry.HasSha256 && !entry.HasMd5)
            {
                return null;
            }

            // sha256sum writes "hash  name" (or "hash *name" in binary mode).
            var rest = line.Slice(end).TrimStart(" \t,;".AsSpan()).TrimStart('*').Trim();
            entry.Name = rest.IsEmpty ? null : rest.ToString();
            return entry;
        }

        /// <summary>MalwareBazaar writes "n/a" for empty fields.</summary>
        private static string? Meaningful(ReadOnlySpan<char> line, List<Cell> cells, int index)
        {
            if (index < 0 || index >= cells.Count)
            {
                return null;
            }

            var span = cells[index].Span(line).Trim();
            if (span.IsEmpty || span.Equals("n/a".AsSpan(), StringComparison.OrdinalIgnoreCase) || (span.Length == 1 && span[0] == '-'))
            {
                return null;
            }

            return cells[index].Text(line).Trim();
        }

        /// <summary>Where a field's text lies in its line; quoted text with "" inside needs unescaping.</summary>
        internal readonly struct Cell
        {
            public Cell(int start, int length, bool escaped)
            {
                Start = start;
                Length = length;
                Escaped = escaped;
            }

            public int Start { get; }
            public int Length { get; }
            public bool Escaped { get; }

            public ReadOnlySpan<char> Span(ReadOnlySpan<char> line) => line.Slice(Start, Length);

            public string Text(ReadOnlySpan<char> line)
            {
                string raw = Span(line).ToString();
                return Escaped ? raw.Replace("\"\"", "\"") : raw;
            }
        }

        /// <summary>Splits a line into strings (headers, tests).</summary>
        internal static void Split(ReadOnlySpan<char> line, char delimiter, List<string> cells)
        {
            var ranges = new List<Cell>(16);
            Split(line, delimiter, ranges);
            cells.Clear();
            foreach (var c in ranges)
            {
                cells.Add(c.Text(line));
            }
        }

        /// <summary>
        /// Splits one CSV/TSV line into field ranges, allocating nothing: fields may be quoted (with "" for a quote
        /// inside) and padded with blanks outside the quotes, as MalwareBazaar's export is. An unterminated quote takes
        /// the rest of the line.
        /// </summary>
        internal static void Split(ReadOnlySpan<char> line, char delimiter, List<Cell> cells)
        {
            cells.Clear();
            int i = 0;
            while (true)
            {
                while (i < line.Length && line[i] != delimiter && (line[i] == ' ' || line[i] == '\t'))
                {
                    i++;
                }

                if (i < line.Length && line[i] == '"')
                {
                    int start = ++i;
                    bool escaped = false;
                    int end = line.Length;
                    while (i < line.Length)
                    {
                        if (line[i] == '"')
                        {
                            if (i + 1 < line.Length && line[i + 1] == '"')
                            {
                                escaped = true;
                                i += 2;
                                continue;
                            }

                            end = i++;
                            break;
                        }

                        i++;
                    }

                    cells.Add(new Cell(start, Math.Min(end, line.Length) - start, escaped));
                    while (i < line.Length && line[i] != delimiter)
                    {
                        i++;
                    }
                }
                else
                {
                    int start = i;
                    while (i < line.Length && line[i] != delimiter)
                    {
                        i++;
                    }

                    cells.Add(new Cell(start, i - start, false));
                }

                if (i >= line.Length)
                {
                    return;
                }

                i++; // the delimiter
            }
        }
    }

    /// <summary>A SHA-256 (or MD5, zero-padded) as 32 bytes in four words: a dictionary key that costs no string.</summary>
    internal readonly struct HashKey : IEquatable<HashKey>
    {
        private readonly ulong _a;
        private readonly ulong _b;
        private readonly ulong _c;
        private readonly ulong _d;

        private HashKey(ulong a, ulong b, ulong c, ulong d)
        {
            _a = a;
            _b = b;
            _c = c;
            _d = d;
        }

        /// <summary>Exactly <paramref name="digits"/> hex digits (64 or 32), blanks around ignored, any case.</summary>
        public static bool TryParse(ReadOnlySpan<char> text, int digits, out HashKey key)
        {
            key = default;
            text = text.Trim();
            if (text.Length != digits || digits > 64 || digits % 16 != 0)
            {
                return false;
            }

            Span<ulong> words = stackalloc ulong[4];
            for (int i = 0; i < digits; i++)
            {
                int c = text[i];
                int v = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
                if (v < 0)
                {
                    return false;
                }

                words[i / 16] = (words[i / 16] << 4) | (uint)v;
            }

            key = new HashKey(words[0], words[1], words[2], words[3]);
            return true;
        }

        public string ToHex(int digits)
        {
            var bytes = new byte[digits / 2];
            ulong[] words = { _a, _b, _c, _d };
            for (int i = 0; i < bytes.Length; i++)
            {
                bytes[i] = (byte)(words[i / 8] >> (56 - 8 * (i % 8)));
            }

            return Hex.Lower(bytes);
        }

        public bool Equals(HashKey other) => _a == other._a && _b == other._b && _c == other._c && _d == other._d;

        public override bool Equals(object? obj) => obj is HashKey other && Equals(other);

        // The words of a cryptographic hash are already uniformly spread.
        public override int GetHashCode() => (int)_a ^ (int)(_a >> 32) ^ (int)_b;
    }
}
