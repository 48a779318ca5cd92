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
    public static class CommandLine
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

        /// <summary>Parses a POSIX shell command (cron command, ExecStart=, Exec=, a profile line): the first word that
        /// is a program, through <c>sh -c</c>, <c>bash -c</c>, <c>nohup</c>, <c>env</c>, <c>exec</c>.</summary>
        public static ParsedCommandLine ParsePosix(string raw)
        {
            var parsed = new ParsedCommandLine(raw ?? string.Empty, raw ?? string.Empty);
            List<string> words = FirstProgram(parsed.Raw);
            var launchers = new List<string>();
            int guard = 0;
            while (words.Count > 0 && guard++ < MaxUnwrap)
            {
                string first = words[0];
                string name = BaseName(first);
                if (words.Count > 1 && Regex.IsMatch(first, "^[A-Za-z_][A-Za-z0-9_]*="))
                {
                    // VAR=value program args: the assignment is environment for the program.
                    words.RemoveAt(0);
                    continue;
                }

                if (first.Length > 1 && "-@+!:".IndexOf(first[0]) >= 0)
                {
                    // systemd ExecStart prefixes: -/usr/bin/x, @/usr/bin/x argv0, +, !, !!, :
                    words[0] = first.TrimStart('-', '@', '+', '!', ':');
                    if (first[0] == '@' && words.Count > 1)
                    {
                        words.RemoveAt(1);
                    }

                    continue;
                }

                if (name is "nohup" or "exec" or "setsid" or "nice" or "ionice" or "sudo" or "env" or "timeout" or "flock")
                {
                    launchers.Add(first);
                    words.RemoveAt(0);
                    while (words.Count > 1 && (words[0].StartsWith("-", StringComparison.Ordinal) || words[0].Contains("=") || (name == "timeout" && char.IsDigit(words[0][0]))))
                    {
                        words.RemoveAt(0);
                    }

                    continue;
                }

                if ((name is "sh" or "bash" or "dash" or "zsh" or "ksh") && words.Count >= 3 && words[1] == "-c")
                {
                    launchers.Add(first);
                    words = PosixWords(words[2]);
                    continue;
                }

                if ((name is "sh" or "bash" or "dash" or "python" or "python3" or "perl") && words.Count >= 2 && !words[1].StartsWith("-", StringComparison.Ordinal))
                {
                    launchers.Add(first);
                    words.RemoveAt(0);
                    continue;
                }

                break;
            }

            parsed.Image = PosixWords(parsed.Raw) is { Count: > 0 } all ? all[0] : null;
            parsed.Arguments = parsed.Image is null ? string.Empty : parsed.Raw.Trim().Substring(Math.Min(parsed.Raw.Trim().Length, parsed.Raw.Trim().IndexOf(parsed.Image, StringComparison.Ordinal) + parsed.Image.Length)).Trim();
            parsed.Launchers = launchers;
            if (words.Count > 0)
            {
                parsed.FinalImage = words[0];
                parsed.FinalArguments = string.Join(" ", words.GetRange(1, words.Count - 1));
            }

            return parsed;
        }

        private static readonly HashSet<string> PosixNoise = new HashSet<string>(StringComparer.Ordinal) { "cd", "export", "set", "umask", "test", "[", "[[", "true", ":", "ulimit" };

        /// <summary>The words of the first command of a list (<c>cd / &amp;&amp; run-parts …</c>) that runs a program.</summary>
        private static List<string> FirstProgram(string line)
        {
            var segments = new List<string>();
            var current = new StringBuilder();
            char quote = '\0';
            for (int i = 0; i < line.Length; i++)
            {
                char c = line[i];
                if (quote != '\0')
                {
                    if (c == quote)
                    {
                        quote = '\0';
                    }
                }
                else if (c == '\'' || c == '"')
                {
                    quote = c;
                }
                else if (c == ';' || (c == '&' && i + 1 < line.Length && line[i + 1] == '&') || (c == '|' && i + 1 < line.Length && line[i + 1] == '|'))
                {
                    segments.Add(current.ToString());
                    current.Clear();
                    if (c != ';')
                    {
                        i++;
                    }

                    continue;
                }

                current.Append(c);
            }

            segments.Add(current.ToString());
            foreach (string segment in segments)
            {
                List<string> words = PosixWords(segment);
                if (words.Count > 0 && !PosixNoise.Contains(words[0]))
                {
                    return words;
                }
            }

            return PosixWords(line);
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

        /// <summary>Words of a POSIX shell line: quotes and backslash escapes honoured; stops at a comment, <c>;</c>,
        /// <c>&amp;&amp;</c>, <c>||</c>, <c>|</c>, <c>&amp;</c> or a redirection.</summary>
        public static List<string> PosixWords(string line)
        {
            var words = new List<string>();
            var current = new StringBuilder();
            bool any = false;
            char quote = '\0';
            for (int i = 0; i < line.Length; i++)
            {
                char c = line[i];
                if (quote != '\0')
                {
                    if (c == quote)
                    {
                        quote = '\0';
                    }
                    else if (c == '\\' && quote == '"' && i + 1 < line.Length)
                    {
                        current.Append(line[++i]);
                    }
                    else
                    {
                        current.Append(c);
                    }

                    continue;
                }

                if (c == '\'' || c == '"')
                {
                    quote = c;
                    any = true;
                }
                else if (c == '\\' && i + 1 < line.Length)
                {
                    current.Append(line[++i]);
                    any = true;
                }
                else if (c == ' ' || c == '\t')
                {
                    if (any)
                    {
                        words.Add(current.ToString());
                        current.Clear();
                        any = false;
                    }
                }
                else if ((c == '#' && !any) || c == ';' || c == '|' || c == '&' || c == '>' || c == '<' || c == '\n')
                {
                    break;
                }
                else
                {
                    current.Append(c);
                    any = true;
                }
            }

            if (any)
            {
                words.Add(current.ToString());
            }

            return words;
        }

        private static bool Unwrap(string launcher, string args, IReadOnlyDictionary<string, string>? variables, Func<string, bool>? exists,
            ParsedCommandLine parsed, out string? next, out string nextArgs)
        {
            next = null;
            nextArgs = string.Empty;
            List<string> argv = WindowsArguments(args);
            switch (launcher.ToLowerInvariant())
            {
                case "cmd":
                {
                    // cmd /c or /k: the rest of the line (after the switch) is run as a command line.
                    int at = IndexOfSwitch(args, "/c", "/k", "/r");
                    if (at < 0)
                    {
                        return false;
                    }

                    string rest = args.Substring(at + 2).Trim();
                    if (rest.Length > 1 && rest[0] == '"' && rest[rest.Length - 1] == '"' && rest.IndexOf('"', 1) < rest.Length - 1 && rest.IndexOf('"', 1) != rest.Length - 1)
                    {
                        // cmd strips one pair of outer quotes when there are more quotes inside.
                        rest = rest.Substring(1, rest.Length - 2);
                    }

                    return Split(StripStart(RunningCommand(rest, exists)), exists, out next, out nextArgs);
                }

                case "start":
                    return Split(StripStart("start " + args), exists, out next, out nextArgs);

                case "rundll32":
                {
                    if (argv.Count == 0)
                    {
                        return false;
                    }

                    // rundll32 "C:\path\x.dll",Entry args  or  rundll32 x.dll,#1
                    string first = args.TrimStart();
                    string dll;
                    string after;
                    if (first.StartsWith("\"", StringComparison.Ordinal))
                    {
                        int close = first.IndexOf('"', 1);
                        dll = close < 0 ? first.Substring(1) : first.Substring(1, close - 1);
                        after = close < 0 ? string.Empty : first.Substring(close + 1);
                    }
                    else
                    {
                        int comma = first.IndexOf(',');
                        dll = comma < 0 ? argv[0] : first.Substring(0, comma);
                        after = comma < 0 ? first.Substring(Math.Min(first.Length, argv[0].Length)) : first.Substring(comma);
                    }

                    next = dll.Trim();
                    nextArgs = after.TrimStart(',', ' ').Trim();
                    return next.Length > 0;
                }

                case "powershell":
                case "pwsh":
                {
                    for (int i = 0; i < argv.Count; i++)
                    {
                        string a = argv[i].ToLowerInvariant();
                        if (a.Length < 2 || (a[0] != '-' && a[0] != '/'))
                        {
                            // First non-switch: a script path or inline command.
                            string rest = string.Join(" ", argv.GetRange(i, argv.Count - i));
                            return FromScript(rest, variables, exists, out next, out nextArgs);
                        }

                        string sw = a.Substring(1);
                        if (i + 1 < argv.Count && sw.Length >= 1 && "encodedcommand".StartsWith(sw, StringComparison.Ordinal) && sw.StartsWith("e", StringComparison.Ordinal) && sw != "ex" && !sw.StartsWith("exec", StringComparison.Ordinal))
                        {
                            string? decoded = DecodeBase64Utf16(argv[i + 1]);
                            if (decoded is null)
                            {
                                return false;
                            }

                            parsed.DecodedCommand = decoded;
                            return FromScript(decoded, variables, exists, out next, out nextArgs);
                        }

                        if (i + 1 < argv.Count && (sw == "file" || sw == "f"))
                        {
                            next = argv[i + 1];
                            nextArgs = string.Join(" ", argv.GetRange(i + 2, argv.Count - i - 2));
                            return true;
                        }

                        if (i + 1 < argv.Count && (sw == "command" || sw == "c"))
                        {
                            return FromScript(string.Join(" ", argv.GetRange(i + 1, argv.Count - i - 1)), variables, exists, out next, out nextArgs);
                        }

                        if (sw is "executionpolicy" or "ep" or "windowstyle" or "w" or "version" or "v" or "configurationname" or "inputformat" or "outputformat" or "psconsolefile" or "workingdirectory" or "wd")
                        {
                            i++;
                        }
                    }

                    return false;
                }

                case "wscript":
                case "cscript":
                case "mshta":
                case "regsvr32":
                case "explorer":
                case "conhost":
                {
                    int i = 0;
                    while (i < argv.Count && (argv[i].StartsWith("/", StringComparison.Ordinal) || argv[i].StartsWith("//", StringComparison.Ordinal) || (launcher == "conhost" && argv[i].StartsWith("-", StringComparison.Ordinal))))
                    {
                        if (launcher == "conhost" && argv[i] == "--headless")
                        {
                            i++;
                            continue;
                        }

                        i++;
                    }

                    if (i >= argv.Count)
                    {
                        return false;
                    }

                    if (launcher == "conhost" || launcher == "explorer")
                    {
                        return Split(QuoteJoin(argv, i), exists, out next, out nextArgs);
                    }

                    next = argv[i];
                    nextArgs = string.Join(" ", argv.GetRange(i + 1, argv.Count - i - 1));
                    return true;
                }
            }

            return false;
        }

        private static bool FromScript(string script, IReadOnlyDictionary<string, string>? variables, Func<string, bool>? exists, out string? next, out string nextArgs)
        {
            next = null;
            nextArgs = string.Empty;
            string s = Expand(script.Trim(), variables);
            // A path to a program or script in the text is what it finally runs (Start-Process, & 'x.exe', iex of a file…).
            var m = Regex.Match(s, "(?:[A-Za-z]:\\\\|\\\\\\\\|%[A-Za-z]+%\\\\|\\$env:[A-Za-z]+\\\\)[^\"'|;&<>\\r\\n]*?\\.(?:exe|dll|ps1|bat|cmd|vbs|js|hta|scr)\\b", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant);
            if (m.Success)
            {
                next = m.Value;
                nextArgs = string.Empty;
                return true;
            }

            var url = Regex.Match(s, "https?://[^\\s\"')]+", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant);
            if (url.Success)
            {
                next = url.Value;
                return true;
            }

            if (s.Length > 0 && (s.EndsWith(".ps1", StringComparison.OrdinalIgnoreCase) || ProgramCatalogue.HasExecutableExtension(s.Split(' ')[0])))
            {
                return Split(s, exists, out next, out nextArgs);
            }

            return false;
        }

        private static bool Split(string line, Func<string, bool>? exists, out string? next, out string nextArgs)
        {
            SplitWindows(line, exists, out next, out nextArgs);
            return next is not null && next.Length > 0;
        }

        /// <summary>Of "a &amp; b", "a &amp;&amp; b", "a | b": the first command that starts a program file; <c>start _</c>
        /// (opening a folder, as the USB trap does before running <c>_\DeviceManager.exe</c>) is passed over.</summary>
        private static string RunningCommand(string line, Func<string, bool>? exists)
        {
            var commands = new List<string>();
            var sb = new StringBuilder();
            bool quoted = false;
            foreach (char c in line)
            {
                if (c == '"')
                {
                    quoted = !quoted;
                }
                else if (!quoted && (c == '&' || c == '|'))
                {
                    if (sb.ToString().Trim().Length > 0)
                    {
                        commands.Add(sb.ToString().Trim());
                    }

                    sb.Clear();
                    continue;
                }

                sb.Append(c);
            }

            if (sb.ToString().Trim().Length > 0)
            {
                commands.Add(sb.ToString().Trim());
            }

            foreach (string command in commands)
            {
                SplitWindows(StripStart(command), exists, out string? image, out _);
                if (image is not null && ProgramCatalogue.HasExecutableExtension(image))
                {
                    return command;
                }
            }

            return commands.Count > 0 ? commands[0] : line.Trim();
        }

        private static string StripStart(string line)
        {
            // start ["title"] [/min|/b|/wait …] program args
            List<string> argv = WindowsArguments(line);
            if (argv.Count == 0 || !string.Equals(argv[0], "start", StringComparison.OrdinalIgnoreCase))
            {
                return line;
            }

            string rest = line.TrimStart().Substring(5).TrimStart();
            if (rest.StartsWith("\"", StringComparison.Ordinal))
            {
                int close = rest.IndexOf('"', 1);
                if (close > 0)
                {
                    // The first quoted string of start is the window title.
                    rest = rest.Substring(close + 1).TrimStart();
                }
            }

            while (rest.StartsWith("/", StringComparison.Ordinal))
            {
                int space = rest.IndexOf(' ');
                rest = space < 0 ? string.Empty : rest.Substring(space + 1).TrimStart();
            }

            return rest;
        }

        private static int IndexOfSwitch(string args, params string[] switches)
        {
            List<string> argv = WindowsArguments(args);
            int pos = 0;
            foreach (string a in argv)
            {
                int at = args.IndexOf(a, pos, StringComparison.Ordinal);
                if (at < 0)
                {
                    return -1;
                }

                foreach (string s in switches)
                {
                    if (a.StartsWith(s, StringComparison.OrdinalIgnoreCase))
                    {
                        return at;
                    }
                }

                if (!a.StartsWith("/", StringComparison.Ordinal))
                {
                    return -1;
                }

                pos = at + a.Length;
            }

            return -1;
        }

        private static string QuoteJoin(List<string> argv, int from)
        {
            var sb = new StringBuilder();
            for (int i = from; i < argv.Count; i++)
            {
                if (sb.Length > 0)
                {
                    sb.Append(' ');
                }

                sb.Append(argv[i].IndexOf(' ') >= 0 ? "\"" + argv[i] + "\"" : argv[i]);
            }

            return sb.ToString();
        }

        internal static string? DecodeBase64Utf16(string text)
        {
            try
            {
                byte[] bytes = Convert.FromBase64String(text.Trim());
                return Encoding.Unicode.GetString(bytes);
            }
            catch (FormatException)
            {
                return null;
            }
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
