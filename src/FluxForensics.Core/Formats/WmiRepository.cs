using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;
using FluxForensics.Model;

namespace FluxForensics.Formats
{
    /// <summary>A WMI event consumer that runs something: a CommandLineEventConsumer or an ActiveScriptEventConsumer
    /// instance found in the CIM repository, with the filter that triggers it when a binding names one.</summary>
    public sealed class WmiEventConsumer
    {
        public string ClassName { get; internal set; } = string.Empty;
        public string Name { get; internal set; } = string.Empty;

        /// <summary>CommandLineEventConsumer.CommandLineTemplate: the command run when the filter fires.</summary>
        public string? CommandLineTemplate { get; internal set; }

        /// <summary>CommandLineEventConsumer.ExecutablePath, when the instance sets one.</summary>
        public string? ExecutablePath { get; internal set; }

        /// <summary>ActiveScriptEventConsumer.ScriptingEngine (VBScript, JScript).</summary>
        public string? ScriptingEngine { get; internal set; }

        /// <summary>ActiveScriptEventConsumer.ScriptText: the script itself, run by scrcons.exe.</summary>
        public string? ScriptText { get; internal set; }

        /// <summary>ActiveScriptEventConsumer.ScriptFileName, when the script is a file instead of inline text.</summary>
        public string? ScriptFileName { get; internal set; }

        /// <summary>True when a __FilterToConsumerBinding names this consumer: only then does it run.</summary>
        public bool IsBound { get; internal set; }
        public string? FilterName { get; internal set; }

        /// <summary>The WQL query of the bound __EventFilter (what triggers the consumer), when found.</summary>
        public string? FilterQuery { get; internal set; }

        /// <summary>Byte offset of the instance's class name in OBJECTS.DATA.</summary>
        public long Offset { get; internal set; }

        public bool IsScript => ClassName == WmiRepository.ActiveScriptConsumer;

        public override string ToString() => $"{ClassName} '{Name}': {CommandLineTemplate ?? ScriptFileName ?? ScriptText}";
    }

    /// <summary>
    /// Finds event consumers in a WMI repository's <c>OBJECTS.DATA</c> the way PyWMIPersistenceFinder and python-cim's
    /// users do without rebuilding the whole CIM database: an instance stores its class name and its string properties
    /// in its heap as flagged, NUL-terminated strings (flag 0 = ASCII, 1 = UTF-16LE), so the consumer's properties follow
    /// its class name; bindings store their references as text (<c>CommandLineEventConsumer.Name="x"</c>,
    /// <c>__EventFilter.Name="y"</c>); a filter's query follows its name. Everything is read within the span with caps on
    /// string length and count; records deleted but still in the file are found too, which a responder wants.
    /// </summary>
    public sealed class WmiRepository
    {
        public const string CommandLineConsumer = "CommandLineEventConsumer";
        public const string ActiveScriptConsumer = "ActiveScriptEventConsumer";
        internal const int MaxString = 32 * 1024;
        internal const int MaxStrings = 12;
        internal const int MaxConsumers = 10000;

        private static readonly byte[] ConsumerReference = Encoding.ASCII.GetBytes("EventConsumer.Name=\"");
        private static readonly byte[] FilterReference = Encoding.ASCII.GetBytes("__EventFilter.Name=\"");

        private readonly List<WmiEventConsumer> _consumers = new List<WmiEventConsumer>();
        private readonly List<ParseIssue> _issues = new List<ParseIssue>();

        private WmiRepository(string source) => Source = source;

        public string Source { get; }
        public IReadOnlyList<WmiEventConsumer> Consumers => _consumers;
        public IReadOnlyList<ParseIssue> Issues => _issues;

        /// <summary>The bindings found: consumer class, consumer name, filter name.</summary>
        public IReadOnlyList<(string ConsumerClass, string ConsumerName, string FilterName)> Bindings { get; private set; } =
            Array.Empty<(string, string, string)>();

        public static WmiRepository Parse(ReadOnlySpan<byte> data, string source)
        {
            var repo = new WmiRepository(source ?? string.Empty);
            repo.Read(data);
            return repo;
        }

        private void Read(ReadOnlySpan<byte> d)
        {
            var bindings = FindBindings(d);
            Bindings = bindings;
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (string cls in new[] { CommandLineConsumer, ActiveScriptConsumer })
            {
                byte[] needle = Encoding.ASCII.GetBytes(cls);
                int from = 0;
                while (from < d.Length && _consumers.Count < MaxConsumers)
                {
                    int hit = d.Slice(from).IndexOf(needle);
                    if (hit < 0)
                    {
                        break;
                    }

                    int at = from + hit;
                    from = at + needle.Length;
                    // A heap string: a flag byte before it and its NUL after. A binding's reference ("...Consumer.Name=")
                    // or a class definition's text is not an instance.
                    if (at == 0 || d[at - 1] != 0 || at + needle.Length >= d.Length || d[at + needle.Length] != 0)
                    {
                        continue;
                    }

                    List<string> strings = ReadStrings(d, at + needle.Length + 1);
                    WmiEventConsumer? consumer = cls == CommandLineConsumer ? CommandLine(strings, bindings) : Script(strings, bindings);
                    if (consumer is null)
                    {
                        continue;
                    }

                    consumer.ClassName = cls;
                    consumer.Offset = at;
                    var binding = bindings.FirstOrDefault(b => b.ConsumerClass == cls && string.Equals(b.ConsumerName, consumer.Name, StringComparison.OrdinalIgnoreCase));
                    if (binding.ConsumerName is not null)
                    {
                        consumer.IsBound = true;
                        consumer.FilterName = binding.FilterName;
                        consumer.FilterQuery = FilterQuery(d, binding.FilterName);
                    }

                    // The same instance often survives in several places (live and freed pages); report it once.
                    string key = cls + "\n" + consumer.Name + "\n" + consumer.CommandLineTemplate + "\n" + consumer.ScriptText + "\n" + consumer.ScriptFileName;
                    if (seen.Add(key))
                    {
                        _consumers.Add(consumer);
                    }
                }
            }

            if (_consumers.Count >= MaxConsumers)
            {
                _issues.Add(new ParseIssue(Source, -1, $"more than {MaxConsumers} consumer records; the rest were not read", "WMI instance"));
            }
        }

        private static WmiEventConsumer? CommandLine(List<string> s, List<(string ConsumerClass, string ConsumerName, string FilterName)> bindings)
        {
            // The template is the first property string after the class name (PyWMIPersistenceFinder reads it there too).
            if (s.Count == 0 || s[0].Trim().Length == 0)
            {
                return null;
            }

            var c = new WmiEventConsumer { CommandLineTemplate = s[0] };
            c.Name = BoundName(s.Skip(1), CommandLineConsumer, bindings) ?? s.Skip(1).FirstOrDefault(x => x.Length > 0 && !LooksLikePath(x)) ?? "(unnamed)";
            c.ExecutablePath = s.Skip(1).FirstOrDefault(x => LooksLikePath(x) && x.EndsWith(".exe", StringComparison.OrdinalIgnoreCase));
            return c;
        }

        private static WmiEventConsumer? Script(List<string> s, List<(string ConsumerClass, string ConsumerName, string FilterName)> bindings)
        {
            int engine = s.FindIndex(x => x.Equals("VBScript", StringComparison.OrdinalIgnoreCase) || x.Equals("JScript", StringComparison.OrdinalIgnoreCase));
            if (engine < 0)
            {
                return null;
            }

            var c = new WmiEventConsumer { ScriptingEngine = s[engine] };
            string? next = engine + 1 < s.Count ? s[engine + 1] : null;
            if (next is not null && LooksLikePath(next) && next.IndexOf('\n') < 0)
            {
                c.ScriptFileName = next;
            }
            else if (!string.IsNullOrEmpty(next))
            {
                c.ScriptText = next;
            }
            else
            {
                return null;
            }

            c.Name = BoundName(s, ActiveScriptConsumer, bindings) ?? (engine > 0 && s[engine - 1].Length > 0 ? s[engine - 1] : "(unnamed)");
            return c;
        }

        private static string? BoundName(IEnumerable<string> strings, string cls, List<(string ConsumerClass, string ConsumerName, string FilterName)> bindings) =>
            strings.FirstOrDefault(x => bindings.Any(b => b.ConsumerClass == cls && string.Equals(b.ConsumerName, x, StringComparison.OrdinalIgnoreCase)));

        private static bool LooksLikePath(string s) =>
            s.Length >= 3 && ((char.IsLetter(s[0]) && s[1] == ':' && s[2] == '\\') || s.StartsWith("\\\\", StringComparison.Ordinal) || s.StartsWith("%", StringComparison.Ordinal));

        /// <summary>Heap strings from <paramref name="start"/>: flag byte, characters, NUL; stops at anything else.</summary>
        internal static List<string> ReadStrings(ReadOnlySpan<byte> d, int start)
        {
            var list = new List<string>();
            int pos = start;
            while (list.Count < MaxStrings && pos < d.Length)
            {
                byte flag = d[pos];
                if (flag == 0)
                {
                    int end = pos + 1;
                    int limit = (int)Math.Min(d.Length, (long)pos + 1 + MaxString);
                    while (end < limit && d[end] != 0 && (d[end] >= 0x20 || d[end] == '\t' || d[end] == '\r' || d[end] == '\n'))
                    {
                        end++;
                    }

                    if (end >= limit || d[end] != 0)
                    {
                        break;
                    }

                    list.Add(TextDecoding.Latin1(d.Slice(pos + 1, end - pos - 1)));
                    pos = end + 1;
                }
                else if (flag == 1)
                {
                    int end = pos + 1;
                    int limit = (int)Math.Min(d.Length - 1, (long)pos + 1 + 2L * MaxString);
                    while (end < limit && (d[end] | d[end + 1]) != 0 && (d[end + 1] != 0 || d[end] >= 0x20 || d[end] == '\t' || d[end] == '\r' || d[end] == '\n'))
                    {
                        end += 2;
                    }

                    if (end >= limit || (d[end] | d[end + 1]) != 0)
                    {
                        break;
                    }

                    list.Add(TextDecoding.Utf16(d.Slice(pos + 1, end - pos - 1)));
                    pos = end + 2;
                }
                else
                {
                    break;
                }
            }

            return list;
        }

        private static List<(string ConsumerClass, string ConsumerName, string FilterName)> FindBindings(ReadOnlySpan<byte> d)
        {
            var found = new List<(string, string, string)>();
            int from = 0;
            while (from < d.Length && found.Count < 256)
            {
                int hit = d.Slice(from).IndexOf(ConsumerReference);
                if (hit < 0)
                {
                    break;
                }

                int at = from + hit;
                from = at + ConsumerReference.Length;
                string? name = Quoted(d, at + ConsumerReference.Length);
                string cls = EndsWithClass(d, at, CommandLineConsumer) ? CommandLineConsumer : EndsWithClass(d, at, ActiveScriptConsumer) ? ActiveScriptConsumer : string.Empty;
                if (name is null || cls.Length == 0)
                {
                    continue;
                }

                // The filter reference is the binding's other key property, stored next to the consumer's: the nearest
                // one after it, else the nearest before it (never one of a neighbouring binding when its own is there).
                int ahead = d.Slice(at, Math.Min(d.Length, at + 1024) - at).IndexOf(FilterReference);
                int behindStart = Math.Max(0, at - 1024);
                int behind = ahead >= 0 ? -1 : d.Slice(behindStart, at - behindStart).LastIndexOf(FilterReference);
                int filterAt = ahead >= 0 ? at + ahead : behind >= 0 ? behindStart + behind : -1;
                string? filter = filterAt < 0 ? null : Quoted(d, filterAt + FilterReference.Length);
                if (filter is not null && !found.Contains((cls, name, filter)))
                {
                    found.Add((cls, name, filter));
                }
            }

            return found;
        }

        private static bool EndsWithClass(ReadOnlySpan<byte> d, int referenceAt, string cls)
        {
            // "CommandLineEventConsumer.Name=": the reference starts inside the class name, at "EventConsumer".
            int start = referenceAt - (cls.Length - "EventConsumer".Length);
            return start >= 0 && d.Slice(start, cls.Length).SequenceEqual(Encoding.ASCII.GetBytes(cls));
        }

        private static string? Quoted(ReadOnlySpan<byte> d, int start)
        {
            int limit = Math.Min(d.Length, start + 256);
            for (int i = start; i < limit; i++)
            {
                if (d[i] == (byte)'"')
                {
                    return i == start ? null : TextDecoding.Latin1(d.Slice(start, i - start));
                }

                if (d[i] < 0x20)
                {
                    return null;
                }
            }

            return null;
        }

        /// <summary>A filter instance's heap holds its name, then its query (PyWMIPersistenceFinder's reading).</summary>
        private static string? FilterQuery(ReadOnlySpan<byte> d, string filterName)
        {
            byte[] needle = Encoding.ASCII.GetBytes(filterName);
            int from = 0;
            while (from < d.Length)
            {
                int hit = d.Slice(from).IndexOf(needle);
                if (hit < 0)
                {
                    return null;
                }

                int at = from + hit;
                from = at + needle.Length;
                if (at == 0 || d[at - 1] != 0 || at + needle.Length >= d.Length || d[at + needle.Length] != 0)
                {
                    continue;
                }

                foreach (string s in ReadStrings(d, at + needle.Length + 1))
                {
                    if (s.IndexOf("select", StringComparison.OrdinalIgnoreCase) >= 0)
                    {
                        return s;
                    }
                }
            }

            return null;
        }
    }
}
