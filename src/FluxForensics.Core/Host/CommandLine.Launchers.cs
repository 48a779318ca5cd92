using System;
using System.Collections.Generic;
using System.Text;
using System.Text.RegularExpressions;

namespace FluxForensics.Host
{
    /// <summary>Launchers: what cmd, powershell, rundll32, the script hosts, mshta, conhost, explorer and start really run.</summary>
    public static partial class CommandLine
    {
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
    }
}
