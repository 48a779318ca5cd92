using System;
using System.Collections.Generic;
using System.Text;
using System.Text.RegularExpressions;

namespace FluxForensics.Host
{
    /// <summary>POSIX shell command lines: cron, systemd, XDG autostart and profile lines.</summary>
    public static partial class CommandLine
    {
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
    }
}
