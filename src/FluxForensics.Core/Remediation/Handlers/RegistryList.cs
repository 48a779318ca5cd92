using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;

namespace FluxForensics.Remediation
{
    /// <summary>
    /// The elements of a list value: the strings of a REG_MULTI_SZ (BootExecute), or the DLLs of a REG_SZ separated by
    /// commas or spaces (AppInit_DLLs, as user32.dll splits it). Elements compare case-insensitively with runs of blanks
    /// taken as one, as Windows reads them.
    /// </summary>
    internal static class RegistryList
    {
        public static bool Contains(RegistryValueData value, string element) => Elements(value).Any(e => Same(e.Text, element));

        /// <summary>The value with every copy of <paramref name="element"/> taken out; null when it holds none.</summary>
        public static RegistryValueData? Without(RegistryValueData value, string element)
        {
            var elements = Elements(value);
            if (!elements.Any(e => Same(e.Text, element)))
            {
                return null;
            }

            if (value.Kind == "MultiString")
            {
                return new RegistryValueData(value.Kind, string.Join("\0", elements.Where(e => !Same(e.Text, element)).Select(e => e.Text)));
            }

            // Keep the rest as written: drop each matching element with the separators that follow it (or precede it, at the end).
            var text = new StringBuilder(value.Data);
            foreach (var (_, start, length) in elements.Where(e => Same(e.Text, element)).Reverse())
            {
                int end = start + length;
                int from = start;
                while (end < text.Length && IsSeparator(text[end]))
                {
                    end++;
                }

                if (end == text.Length)
                {
                    while (from > 0 && IsSeparator(text[from - 1]))
                    {
                        from--;
                    }
                }

                text.Remove(from, end - from);
            }

            return new RegistryValueData(value.Kind, text.ToString());
        }

        /// <summary>The value with <paramref name="element"/> put back where it stood in <paramref name="original"/>.</summary>
        public static RegistryValueData With(RegistryValueData value, string element, RegistryValueData original)
        {
            var current = Elements(value).Select(e => e.Text).ToList();
            int at = Elements(original).Select(e => e.Text).ToList().FindIndex(e => Same(e, element));
            current.Insert(at < 0 ? current.Count : Math.Min(at, current.Count), element);
            if (value.Kind == "MultiString")
            {
                return new RegistryValueData(value.Kind, string.Join("\0", current));
            }

            return new RegistryValueData(value.Kind, string.Join(value.Data.IndexOf(',') >= 0 || original.Data.IndexOf(',') >= 0 ? "," : " ", current));
        }

        private static List<(string Text, int Start, int Length)> Elements(RegistryValueData value)
        {
            var list = new List<(string, int, int)>();
            if (value.Kind == "MultiString")
            {
                int offset = 0;
                foreach (var s in value.Data.Split('\0'))
                {
                    if (s.Length > 0)
                    {
                        list.Add((s, offset, s.Length));
                    }

                    offset += s.Length + 1;
                }

                return list;
            }

            if (value.Kind is not ("String" or "ExpandString"))
            {
                return list;
            }

            int i = 0;
            while (i < value.Data.Length)
            {
                while (i < value.Data.Length && IsSeparator(value.Data[i]))
                {
                    i++;
                }

                int start = i;
                while (i < value.Data.Length && !IsSeparator(value.Data[i]))
                {
                    i++;
                }

                if (i > start)
                {
                    list.Add((value.Data.Substring(start, i - start), start, i - start));
                }
            }

            return list;
        }

        private static bool IsSeparator(char c) => c == ',' || c == ' ' || c == '\t';

        private static bool Same(string a, string b) => string.Equals(Normal(a), Normal(b), StringComparison.OrdinalIgnoreCase);

        private static string Normal(string s) => string.Join(" ", s.Split(new[] { ' ', '\t' }, StringSplitOptions.RemoveEmptyEntries));
    }
}
