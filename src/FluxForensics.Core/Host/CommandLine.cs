using System;
using System.Collections.Generic;
using System.Text;
using System.Text.RegularExpressions;

namespace FluxForensics.Host
{
    /// <summary>A command line taken apart the way Windows (or a POSIX shell, for Linux entries) would start it, and
    /// followed through launchers (cmd /c, rundll32, powershell -EncodedCommand, wscript, mshta, start) to what finally
    /// runs.</summary>
    public sealed class ParsedCommandLine
    {
        internal ParsedCommandLine(string raw, string expanded)
        {
            Raw = raw;
            Expanded = expanded;
        }

        /// <summary>The command line as stored.</summary>
        public string Raw { get; }

        /// <summary>With environment variables expanded.</summary>
        public string Expanded { get; }

        /// <summary>The program the command line starts first (e.g. <c>C:\Windows\System32\cmd.exe</c>).</summary>
        public string? Image { get; internal set; }

        public string Arguments { get; internal set; } = string.Empty;

        /// <summary>What finally runs after the launchers are unwrapped: a program, a DLL, a script.</summary>
        public string? FinalImage { get; internal set; }

        public string FinalArguments { get; internal set; } = string.Empty;

        /// <summary>The launchers passed through, outermost first (cmd.exe, rundll32.exe, powershell.exe …).</summary>
        public IReadOnlyList<string> Launchers { get; internal set; } = Array.Empty<string>();

        /// <summary>The script of a <c>-EncodedCommand</c>, decoded.</summary>
        public string? DecodedCommand { get; internal set; }

        public override string ToString() => FinalImage is null ? Raw : $"{FinalImage} {FinalArguments}".TrimEnd();
    }

    /// <summary>Windows and POSIX command-line parsing for persistence entries. Pure: file existence is asked of a delegate.</summary>
    public static partial class CommandLine
    {
        private const int MaxUnwrap = 8;
        private static readonly Regex EnvVar = new Regex("%([^%\\s]{1,64})%", RegexOptions.CultureInvariant);

        /// <summary>The launchers whose arguments say what really runs.</summary>
        public static readonly ISet<string> LauncherNames = new HashSet<string>(ProgramCatalogue.Launchers, StringComparer.OrdinalIgnoreCase);

        /// <summary>Expands <c>%NAME%</c> from <paramref name="variables"/> (case-insensitive); unknown names stay as they are.</summary>
        public static string Expand(string text, IReadOnlyDictionary<string, string>? variables)
        {
            if (variables is null || text.IndexOf('%') < 0)
            {
                return text;
            }

            return EnvVar.Replace(text, m => variables.TryGetValue(m.Groups[1].Value, out string? v) ? v : m.Value);
        }

        /// <summary>Parses a Windows command line. <paramref name="exists"/> (optional) tells whether a Windows path names an
        /// existing file; it decides unquoted paths with spaces the way CreateProcess does (shortest existing prefix).</summary>
        public static ParsedCommandLine ParseWindows(string raw, IReadOnlyDictionary<string, string>? variables = null, Func<string, bool>? exists = null)
        {
            string expanded = Expand(raw ?? string.Empty, variables);
            var parsed = new ParsedCommandLine(raw ?? string.Empty, expanded);
            SplitWindows(expanded.Trim(), exists, out string? image, out string args);
            parsed.Image = image;
            parsed.Arguments = args;

            var launchers = new List<string>();
            string? current = image;
            string currentArgs = args;
            for (int i = 0; i < MaxUnwrap && current is not null; i++)
            {
                string name = BaseName(current);
                if (!LauncherNames.Contains(name) || !Unwrap(name, currentArgs, variables, exists, parsed, out string? next, out string nextArgs))
                {
                    break;
                }

                launchers.Add(current);
                current = next;
                currentArgs = nextArgs;
            }

            parsed.Launchers = launchers;
            parsed.FinalImage = current;
            parsed.FinalArguments = currentArgs;
            return parsed;
        }

        /// <summary>Splits a Windows command line into the program and the rest (CreateProcess rules: a quoted first
        /// token; otherwise the shortest space-separated prefix that is an existing file, or that ends in an
        /// executable extension; otherwise the first token).</summary>
        public static void SplitWindows(string line, Func<string, bool>? exists, out string? image, out string arguments)
        {
            line = line.TrimStart();
            if (line.Length == 0)
            {
                image = null;
                arguments = string.Empty;
                return;
            }

            if (line[0] == '"')
            {
                int close = line.IndexOf('"', 1);
                if (close < 0)
                {
                    image = line.Substring(1);
                    arguments = string.Empty;
                    return;
                }

                image = line.Substring(1, close - 1);
                arguments = line.Substring(close + 1).Trim();
                return;
            }

            var spaces = new List<int>();
            for (int i = 0; i < line.Length; i++)
            {
                if (line[i] == ' ' || line[i] == '\t')
                {
                    spaces.Add(i);
                }
            }

            spaces.Add(line.Length);
            if (exists is not null)
            {
                foreach (int end in spaces)
                {
                    string candidate = line.Substring(0, end);
                    if (exists(candidate) || (!HasExtension(candidate) && exists(candidate + ".exe")))
                    {
                        image = exists(candidate) ? candidate : candidate + ".exe";
                        arguments = line.Substring(end).Trim();
                        return;
                    }
                }
            }

            foreach (int end in spaces)
            {
                string candidate = line.Substring(0, end);
                bool plausible = end == spaces[0] || (candidate.IndexOf('\\') >= 0 && candidate.IndexOf("://", StringComparison.Ordinal) < 0);
                if (plausible && ProgramCatalogue.HasExecutableExtension(candidate))
                {
                    image = candidate;
                    arguments = line.Substring(end).Trim();
                    return;
                }
            }

            image = line.Substring(0, spaces[0]);
            arguments = line.Substring(spaces[0]).Trim();
        }

        /// <summary>Splits arguments the way the MSVC runtime does (CommandLineToArgvW rules for quotes and backslashes).</summary>
        public static List<string> WindowsArguments(string arguments)
        {
            var result = new List<string>();
            var current = new StringBuilder();
            bool inQuotes = false, any = false;
            for (int i = 0; i < arguments.Length; i++)
            {
                char c = arguments[i];
                if (c == '\\')
                {
                    int slashes = 0;
                    while (i < arguments.Length && arguments[i] == '\\')
                    {
                        slashes++;
                        i++;
                    }

                    if (i < arguments.Length && arguments[i] == '"')
                    {
                        current.Append('\\', slashes / 2);
                        if (slashes % 2 == 1)
                        {
                            current.Append('"');
                        }
                        else
                        {
                            inQuotes = !inQuotes;
                        }
                    }
                    else
                    {
                        current.Append('\\', slashes);
                        i--;
                    }

                    any = true;
                }
                else if (c == '"')
                {
                    inQuotes = !inQuotes;
                    any = true;
                }
                else if ((c == ' ' || c == '\t') && !inQuotes)
                {
                    if (any)
                    {
                        result.Add(current.ToString());
                        current.Clear();
                        any = false;
                    }
                }
                else
                {
                    current.Append(c);
                    any = true;
                }
            }

            if (any)
            {
                result.Add(current.ToString());
            }

            return result;
        }

        /// <summary>The file name without directory and extension, either separator.</summary>
        public static string BaseName(string path)
        {
            string name = PathText.Leaf(path) ?? string.Empty;
            int dot = name.LastIndexOf('.');
            return dot > 0 ? name.Substring(0, dot) : name;
        }

        private static bool HasExtension(string path)
        {
            return PathText.Leaf(path) is { } leaf && leaf.IndexOf('.') > 0;
        }

    }
}
