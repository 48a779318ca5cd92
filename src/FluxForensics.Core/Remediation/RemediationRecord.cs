using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text;

namespace FluxForensics.Remediation
{
    /// <summary>
    /// A flat key/value record on one line (<c>key=value</c> separated by tabs, values escaped), the unit of the journal and
    /// of manifest entries. One line per record means a torn write at the end of the journal costs that record only.
    /// </summary>
    internal sealed class RemediationRecord
    {
        private readonly Dictionary<string, string> _values = new Dictionary<string, string>(StringComparer.Ordinal);

        public IEnumerable<KeyValuePair<string, string>> Values => _values;

        public string? this[string key]
        {
            get => _values.TryGetValue(key, out var v) ? v : null;
            set
            {
                if (value is null)
                {
                    _values.Remove(key);
                }
                else
                {
                    _values[key] = value;
                }
            }
        }

        public RemediationRecord Set(string key, string? value)
        {
            this[key] = value;
            return this;
        }

        public RemediationRecord Set(string key, long? value) => Set(key, value?.ToString(CultureInfo.InvariantCulture));

        /// <summary>A time as ISO 8601 UTC with all seven fraction digits, so the tick count comes back exactly.</summary>
        public RemediationRecord Set(string key, DateTime? utc) =>
            Set(key, utc?.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", CultureInfo.InvariantCulture));

        /// <summary>A time written by <see cref="Set(string, DateTime?)"/>, or by earlier versions as a bare tick count.</summary>
        public DateTime? Utc(string key)
        {
            string? text = this[key];
            if (text is null)
            {
                return null;
            }

            if (DateTime.TryParseExact(text, "yyyy-MM-dd'T'HH:mm:ss.FFFFFFF'Z'", CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out DateTime parsed))
            {
                return DateTime.SpecifyKind(parsed, DateTimeKind.Utc);
            }

            return long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out long ticks) && ticks >= DateTime.MinValue.Ticks && ticks <= DateTime.MaxValue.Ticks
                ? new DateTime(ticks, DateTimeKind.Utc)
                : null;
        }

        public long? Long(string key) =>
            this[key] is string s && long.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out long v) ? v : null;

        public RemediationRecord Clone()
        {
            var copy = new RemediationRecord();
            foreach (var kv in _values)
            {
                copy._values[kv.Key] = kv.Value;
            }

            return copy;
        }

        public string Serialize()
        {
            var sb = new StringBuilder();
            foreach (var kv in _values)
            {
                if (sb.Length > 0)
                {
                    sb.Append('\t');
                }

                sb.Append(kv.Key).Append('=');
                Escape(sb, kv.Value);
            }

            return sb.ToString();
        }

        /// <summary>Parses a line written by <see cref="Serialize"/>; null when it is torn or not a record.</summary>
        public static RemediationRecord? Parse(string line)
        {
            var record = new RemediationRecord();
            foreach (var field in line.Split('\t'))
            {
                if (field.Length == 0)
                {
                    continue;
                }

                int eq = field.IndexOf('=');
                if (eq <= 0)
                {
                    return null;
                }

                if (!TryUnescape(field.Substring(eq + 1), out string? value))
                {
                    return null;
                }

                record._values[field.Substring(0, eq)] = value!;
            }

            return record;
        }

        private static void Escape(StringBuilder sb, string value)
        {
            foreach (char c in value)
            {
                switch (c)
                {
                    case '\\': sb.Append("\\\\"); break;
                    case '\t': sb.Append("\\t"); break;
                    case '\n': sb.Append("\\n"); break;
                    case '\r': sb.Append("\\r"); break;
                    case '\0': sb.Append("\\0"); break;
                    default: sb.Append(c); break;
                }
            }
        }

        private static bool TryUnescape(string text, out string? value)
        {
            var sb = new StringBuilder(text.Length);
            for (int i = 0; i < text.Length; i++)
            {
                char c = text[i];
                if (c != '\\')
                {
                    sb.Append(c);
                    continue;
                }

                if (++i >= text.Length)
                {
                    value = null;
                    return false;
                }

                switch (text[i])
                {
                    case '\\': sb.Append('\\'); break;
                    case 't': sb.Append('\t'); break;
                    case 'n': sb.Append('\n'); break;
                    case 'r': sb.Append('\r'); break;
                    case '0': sb.Append('\0'); break;
                    default: value = null; return false;
                }
            }

            value = sb.ToString();
            return true;
        }
    }
}
