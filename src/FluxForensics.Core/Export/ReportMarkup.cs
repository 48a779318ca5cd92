using System;
using System.Globalization;
using System.Text;

namespace FluxForensics.Export
{
    /// <summary>
    /// Escaping shared by the HTML report and the SVG picture. Every value that came from evidence (a host name, a
    /// command line, a subject line) goes through <see cref="Append"/>: it is attacker-controlled text and must never
    /// become markup. Characters XML cannot carry (NUL and other C0 controls, lone surrogates, U+FFFE/U+FFFF) are
    /// written as U+FFFD so the SVG stays well-formed XML and the HTML parses the same in every browser.
    /// </summary>
    public static class ReportMarkup
    {
        public static string Escape(string? text)
        {
            if (string.IsNullOrEmpty(text))
            {
                return string.Empty;
            }

            var sb = new StringBuilder(text!.Length + 16);
            Append(sb, text);
            return sb.ToString();
        }

        public static StringBuilder Append(StringBuilder sb, string? text)
        {
            if (string.IsNullOrEmpty(text))
            {
                return sb;
            }

            for (int i = 0; i < text!.Length; i++)
            {
                char c = text[i];
                switch (c)
                {
                    case '&': sb.Append("&amp;"); break;
                    case '<': sb.Append("&lt;"); break;
                    case '>': sb.Append("&gt;"); break;
                    case '"': sb.Append("&quot;"); break;
                    case '\'': sb.Append("&#39;"); break;
                    case '\t':
                    case '\n':
                    case '\r':
                        sb.Append(c);
                        break;
                    default:
                        if (c < 0x20 || c == '\uFFFE' || c == '\uFFFF' || (c >= 0x7F && c <= 0x9F))
                        {
                            sb.Append('\uFFFD');
                        }
                        else if (char.IsHighSurrogate(c))
                        {
                            if (i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
                            {
                                sb.Append(c).Append(text[++i]);
                            }
                            else
                            {
                                sb.Append('\uFFFD');
                            }
                        }
                        else if (char.IsLowSurrogate(c))
                        {
                            sb.Append('\uFFFD');
                        }
                        else
                        {
                            sb.Append(c);
                        }

                        break;
                }
            }

            return sb;
        }

        /// <summary>ISO 8601 UTC, second precision, as every file the module writes.</summary>
        public static string Time(DateTime? time) =>
            time is null ? string.Empty : ToUtc(time.Value).ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

        internal static DateTime ToUtc(DateTime time) =>
            time.Kind == DateTimeKind.Local ? time.ToUniversalTime() : DateTime.SpecifyKind(time, DateTimeKind.Utc);

        internal static string Number(long value) => value.ToString("N0", CultureInfo.InvariantCulture);

        internal static string Number(double value, string format) => value.ToString(format, CultureInfo.InvariantCulture);

        /// <summary>Cuts a label to <paramref name="max"/> characters with an ellipsis; the full text goes in a title.</summary>
        internal static string Shorten(string text, int max)
        {
            if (text.Length <= max)
            {
                return text;
            }

            int cut = max - 1;
            if (cut > 0 && char.IsHighSurrogate(text[cut - 1]))
            {
                cut--;
            }

            return text.Substring(0, cut) + "\u2026";
        }
    }
}
