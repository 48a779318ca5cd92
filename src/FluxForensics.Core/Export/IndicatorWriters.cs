using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;
using FluxForensics.Model;

namespace FluxForensics.Export
{
    /// <summary>
    /// A Zeek Intelligence Framework file (Input Framework ASCII format, as Zeek's intel documentation and its basic.txt
    /// example): a <c>#fields</c> line, then one line per indicator, fields separated by one tab, <c>-</c> for an empty
    /// field, no quoting, LF line ends.
    /// </summary>
    public static class ZeekIntelWriter
    {
        public static readonly string[] Fields = { "indicator", "indicator_type", "meta.source", "meta.desc" };

        public static string IntelType(IndicatorType type) => type switch
        {
            IndicatorType.Domain => "Intel::DOMAIN",
            IndicatorType.Address => "Intel::ADDR",
            IndicatorType.Url => "Intel::URL",
            IndicatorType.Sha256 or IndicatorType.Md5 => "Intel::FILE_HASH",
            _ => throw new ArgumentOutOfRangeException(nameof(type), "Zeek has no intel type for " + type),
        };

        /// <summary>
        /// The indicator as Zeek's seen scripts report it. Intel::URL is "a complete URL without the prefix http://"
        /// (base/frameworks/intel/main.zeek): HTTP URLs lose their scheme, other schemes are kept as they are.
        /// </summary>
        public static string IntelValue(ExportedIndicator indicator) =>
            indicator.Type == IndicatorType.Url && indicator.Value.StartsWith("http://", StringComparison.OrdinalIgnoreCase)
                ? indicator.Value.Substring("http://".Length)
                : indicator.Value;

        public static void Write(IndicatorSet set, IndicatorExportOptions options, TextWriter output)
        {
            string source = Field(string.IsNullOrWhiteSpace(options.Producer) ? "FluxForensics" : options.Producer);
            output.Write("#fields\t" + string.Join("\t", Fields) + "\n");
            foreach (var i in set.Indicators)
            {
                string value = IntelValue(i);
                // A value the format cannot carry (a tab or line break inside) would shift every later field: it is left out.
                if (value.Length == 0 || value == "-" || value.Any(char.IsControl))
                {
                    continue;
                }

                output.Write(value);
                output.Write('\t');
                output.Write(IntelType(i.Type));
                output.Write('\t');
                output.Write(source);
                output.Write('\t');
                output.Write(Field(i.Context));
                output.Write('\n');
            }
        }

        /// <summary>Free text as one field: control characters (tab, line breaks) become spaces; empty is "-".</summary>
        internal static string Field(string? text)
        {
            if (string.IsNullOrWhiteSpace(text))
            {
                return "-";
            }

            var sb = new StringBuilder(text!.Length);
            foreach (char c in text.Trim())
            {
                sb.Append(char.IsControl(c) ? ' ' : c);
            }

            return sb.ToString();
        }
    }

    /// <summary>RFC 4180 CSV shared by the indicator and account lists.</summary>
    internal static class Csv
    {
        public const string LineEnd = "\r\n";

        /// <summary>
        /// One field: quoted when it holds a comma, quote or line break (quotes doubled). A field starting with = + - @ or a
        /// tab gets a leading apostrophe, because values come from the wire (account names, URLs) and a spreadsheet would
        /// otherwise run them as formulas.
        /// </summary>
        public static string Field(string? value)
        {
            if (string.IsNullOrEmpty(value))
            {
                return string.Empty;
            }

            string v = value!;
            if (v[0] is '=' or '+' or '-' or '@' or '\t' or '\r')
            {
                v = "'" + v;
            }

            return v.IndexOfAny(new[] { ',', '"', '\r', '\n' }) >= 0 ? "\"" + v.Replace("\"", "\"\"") + "\"" : v;
        }

        public static string Time(DateTime? time) =>
            time is { } t ? (t.Kind == DateTimeKind.Local ? t.ToUniversalTime() : t).ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture) : string.Empty;

        public static void Row(TextWriter output, params string?[] fields)
        {
            output.Write(string.Join(",", fields.Select(Field)));
            output.Write(LineEnd);
        }
    }

    /// <summary>Indicators as CSV: Type,Value,Context,FirstSeen,LastSeen,Severity,Source (enum names, ISO 8601 UTC).</summary>
    public static class IndicatorCsvWriter
    {
        public static readonly string[] Columns = { "Type", "Value", "Context", "FirstSeen", "LastSeen", "Severity", "Source" };

        public static void Write(IndicatorSet set, TextWriter output)
        {
            output.Write(string.Join(",", Columns) + Csv.LineEnd);
            foreach (var i in set.Indicators)
            {
                Csv.Row(output, i.Type.ToString(), i.Value, i.Context, Csv.Time(i.FirstSeen), Csv.Time(i.LastSeen), i.Severity.ToString(), i.Source);
            }
        }
    }

    /// <summary>The exposed accounts for mail and FTP admins: Account,Protocol,Server,ServerPort,Accepted,FirstSeen,Sessions. Never a secret.</summary>
    public static class ExposedAccountCsvWriter
    {
        public static readonly string[] Columns = { "Account", "Protocol", "Server", "ServerPort", "Accepted", "FirstSeen", "Sessions" };

        public static void Write(IndicatorSet set, TextWriter output)
        {
            output.Write(string.Join(",", Columns) + Csv.LineEnd);
            foreach (var a in set.Accounts)
            {
                Csv.Row(output, a.Account, a.Protocol, a.Server, a.ServerPort.ToString(CultureInfo.InvariantCulture),
                    a.Accepted is { } accepted ? (accepted ? "True" : "False") : string.Empty, Csv.Time(a.FirstSeen),
                    a.Sessions.ToString(CultureInfo.InvariantCulture));
            }
        }
    }

    /// <summary>
    /// A DNS Response Policy Zone in master-file format (RFC 1035 section 5): SOA, NS, then for each flux domain
    /// <c>name CNAME .</c> and <c>*.name CNAME .</c> (NXDOMAIN for the name and everything under it), names relative to
    /// the zone's origin.
    /// </summary>
    public static class RpzZoneWriter
    {
        /// <summary>Writes the zone; returns the names that could not be written (too long for DNS under the origin).</summary>
        public static IReadOnlyList<string> Write(IndicatorSet set, IndicatorExportOptions options, TextWriter output)
        {
            string origin = (options.RpzOrigin ?? "rpz.local").Trim().TrimEnd('.');
            if (origin.Length == 0 || !origin.Split('.').All(IsPlainLabel))
            {
                throw new ArgumentException($"'{options.RpzOrigin}' is not a zone name (letters, digits, hyphens, dots).", nameof(options));
            }

            // Seconds since 1970 (RFC 1912's date-based serials would wrap with several exports a day): every export is newer.
            long serial = (long)(options.ExportTime - new DateTime(1970, 1, 1, 0, 0, 0, DateTimeKind.Utc)).TotalSeconds;
            serial = Math.Max(1, Math.Min(serial, uint.MaxValue));
            var skipped = new List<string>();
            output.Write("; Response policy zone written by " + Comment(options.Producer) + " (FluxForensics Export-FluxIndicator)\n");
            output.Write("$ORIGIN " + origin + ".\n");
            output.Write("$TTL 300\n");
            output.Write("@\tIN\tSOA\tlocalhost. hostmaster.localhost. " + serial.ToString(CultureInfo.InvariantCulture) + " 3600 600 86400 300\n");
            output.Write("@\tIN\tNS\tlocalhost.\n");
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var i in set.Indicators.Where(i => i.Type == IndicatorType.Domain))
            {
                string? owner = Owner(i.Value);
                // The wildcard owner is two bytes longer; both must fit in 255 octets with the origin appended.
                if (owner is null || WireLength(i.Value) + 2 + WireLength(origin) - 1 > 255)
                {
                    skipped.Add(i.Value);
                    continue;
                }

                if (!seen.Add(owner))
                {
                    continue;
                }

                output.Write("; " + Comment(i.Context) + "\n");
                output.Write(owner + "\tCNAME\t.\n");
                output.Write("*." + owner + "\tCNAME\t.\n");
            }

            return skipped;
        }

        private static bool IsPlainLabel(string label) =>
            label.Length > 0 && label.Length <= 63 && label.All(c => (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_');

        /// <summary>Octets of the name on the wire (labels with length bytes and the root).</summary>
        private static int WireLength(string name) => name.Split('.').Sum(l => l.Length + 1) + 1;

        /// <summary>
        /// The owner name in master-file syntax: each label's bytes outside letters, digits, '-' and '_' written as \DDD, so
        /// a name from the wire cannot break the zone's syntax. Null when a label is empty or longer than 63 octets.
        /// </summary>
        internal static string? Owner(string name)
        {
            var labels = name.Split('.');
            var sb = new StringBuilder(name.Length + 8);
            foreach (var label in labels)
            {
                byte[] bytes = Encoding.UTF8.GetBytes(label);
                if (bytes.Length == 0 || bytes.Length > 63 || label == "*")
                {
                    return null;
                }

                if (sb.Length > 0)
                {
                    sb.Append('.');
                }

                foreach (byte b in bytes)
                {
                    char c = (char)b;
                    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_')
                    {
                        sb.Append(c);
                    }
                    else
                    {
                        sb.Append('\\').Append(b.ToString("000", CultureInfo.InvariantCulture));
                    }
                }
            }

            return sb.ToString();
        }

        private static string Comment(string? text) => string.IsNullOrEmpty(text) ? "-" : new string(text!.Select(c => char.IsControl(c) ? ' ' : c).ToArray());
    }

    /// <summary>Plain lists for firewalls and proxies: one indicator per line, one file per kind.</summary>
    public static class IndicatorListWriter
    {
        /// <summary>The files of a Text export, as suffixes of the base name, and the indicator types each holds.</summary>
        public static readonly IReadOnlyList<(string Suffix, IndicatorType Type)> Lists = new[]
        {
            ("domains.txt", IndicatorType.Domain),
            ("addresses.txt", IndicatorType.Address),
            ("sha256.txt", IndicatorType.Sha256),
            ("md5.txt", IndicatorType.Md5),
            ("urls.txt", IndicatorType.Url),
        };

        public static void Write(IndicatorSet set, IndicatorType type, TextWriter output)
        {
            foreach (var i in set.Indicators.Where(i => i.Type == type))
            {
                if (i.Value.Any(char.IsControl))
                {
                    continue;
                }

                output.Write(i.Value);
                output.Write('\n');
            }
        }
    }
}
