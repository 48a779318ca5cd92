using System;
using System.Collections.Generic;
using System.Text;
using FluxForensics.Model;

namespace FluxForensics.Formats
{
    /// <summary>One command of the [AutoRun] section: the key (open, shellexecute, shell\verb\command), the command line
    /// and its program as written.</summary>
    public sealed class AutorunCommand
    {
        public AutorunCommand(string key, string value, string program, int line)
        {
            Key = key;
            Value = value;
            Program = program;
            Line = line;
        }

        public string Key { get; }
        public string Value { get; }

        /// <summary>The first word of the command line (quotes removed): the program or script Windows runs.</summary>
        public string Program { get; }

        /// <summary>1-based line in the file.</summary>
        public int Line { get; }
    }

    /// <summary>What an autorun.inf asks Windows to run, and what could not be read.</summary>
    public sealed class AutorunInf
    {
        public List<AutorunCommand> Commands { get; } = new List<AutorunCommand>();
        public List<ParseIssue> Issues { get; } = new List<ParseIssue>();
    }

    /// <summary>
    /// autorun.inf: an INI file in UTF-16 (with BOM), UTF-8 or the ANSI code page. Windows reads the [AutoRun] section (and
    /// [AutoRun.Amd64] / [AutoRun.Alpha] …, which count the same here) and starts <c>open=</c>, <c>shellexecute=</c>, or a verb's
    /// <c>shell\verb\command=</c>. Section and key names are case-insensitive; ';' starts a comment. Lines are capped and
    /// the file is read only up to <see cref="MaxFileSize"/>; anything odd is a ParseIssue (its offset counts characters of the
    /// decoded text, the line number is in the message).
    /// </summary>
    public static class AutorunInfParser
    {
        public const int MaxFileSize = 64 * 1024;
        public const int MaxLineLength = 4096;
        public const int MaxCommands = 64;

        public static AutorunInf Parse(ReadOnlySpan<byte> content, string source)
        {
            var result = new AutorunInf();
            if (content.Length > MaxFileSize)
            {
                result.Issues.Add(new ParseIssue(source, MaxFileSize, $"autorun.inf is larger than {MaxFileSize} bytes; the rest is not read", "autorun.inf"));
                content = content.Slice(0, MaxFileSize);
            }

            string text = Decode(content);
            bool inAutorun = false;
            int lineNumber = 0, start = 0;
            while (start <= text.Length)
            {
                int end = text.IndexOf('\n', start);
                if (end < 0)
                {
                    end = text.Length;
                }

                lineNumber++;
                int lineStart = start;
                string line = text.Substring(start, end - start).TrimEnd('\r');
                start = end + 1;
                if (line.Length > MaxLineLength)
                {
                    result.Issues.Add(new ParseIssue(source, lineStart, $"line {lineNumber} is longer than {MaxLineLength} characters; skipped", "autorun.inf line"));
                    continue;
                }

                string trimmed = line.Trim();
                if (trimmed.Length == 0 || trimmed[0] == ';')
                {
                    continue;
                }

                if (trimmed[0] == '[')
                {
                    int close = trimmed.IndexOf(']');
                    string section = close > 0 ? trimmed.Substring(1, close - 1).Trim() : trimmed.Substring(1).Trim();
                    if (close < 0)
                    {
                        result.Issues.Add(new ParseIssue(source, lineStart, $"line {lineNumber}: section header without ']'", "autorun.inf line"));
                    }

                    inAutorun = section.Equals("autorun", StringComparison.OrdinalIgnoreCase) || section.StartsWith("autorun.", StringComparison.OrdinalIgnoreCase);
                    continue;
                }

                if (!inAutorun)
                {
                    continue;
                }

                int equals = trimmed.IndexOf('=');
                if (equals <= 0)
                {
                    result.Issues.Add(new ParseIssue(source, lineStart, $"line {lineNumber} in [AutoRun] has no key=value", "autorun.inf line"));
                    continue;
                }

                string key = trimmed.Substring(0, equals).Trim();
                string value = trimmed.Substring(equals + 1).Trim();
                if (!IsCommandKey(key) || value.Length == 0)
                {
                    continue;
                }

                if (result.Commands.Count >= MaxCommands)
                {
                    result.Issues.Add(new ParseIssue(source, lineStart, $"more than {MaxCommands} commands; the rest are not read", "autorun.inf"));
                    break;
                }

                result.Commands.Add(new AutorunCommand(key, value, FirstWord(value), lineNumber));
            }

            return result;
        }

        /// <summary>open, shellexecute, or shell\&lt;verb&gt;\command (any verb).</summary>
        public static bool IsCommandKey(string key)
        {
            if (key.Equals("open", StringComparison.OrdinalIgnoreCase) || key.Equals("shellexecute", StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }

            var parts = key.Split('\\');
            return parts.Length == 3 && parts[0].Equals("shell", StringComparison.OrdinalIgnoreCase) && parts[1].Trim().Length > 0
                && parts[2].Equals("command", StringComparison.OrdinalIgnoreCase);
        }

        /// <summary>The program of a command line: up to the closing quote when quoted, else up to the first space.</summary>
        public static string FirstWord(string value)
        {
            string v = value.Trim();
            if (v.StartsWith("\"", StringComparison.Ordinal))
            {
                int close = v.IndexOf('"', 1);
                return close > 0 ? v.Substring(1, close - 1) : v.Substring(1);
            }

            int space = v.IndexOfAny(new[] { ' ', '\t' });
            return space > 0 ? v.Substring(0, space) : v;
        }

        private static string Decode(ReadOnlySpan<byte> content)
        {
            if (content.Length >= 2 && content[0] == 0xFF && content[1] == 0xFE)
            {
                return Encoding.Unicode.GetString(content.Slice(2, (content.Length - 2) & ~1).ToArray());
            }

            if (content.Length >= 2 && content[0] == 0xFE && content[1] == 0xFF)
            {
                return Encoding.BigEndianUnicode.GetString(content.Slice(2, (content.Length - 2) & ~1).ToArray());
            }

            if (content.Length >= 3 && content[0] == 0xEF && content[1] == 0xBB && content[2] == 0xBF)
            {
                content = content.Slice(3);
            }

            // UTF-8 when it is valid UTF-8, else Latin-1 (the ANSI code page's letters where it matters: paths stay ASCII).
            try
            {
                return new UTF8Encoding(false, true).GetString(content.ToArray());
            }
            catch (DecoderFallbackException)
            {
                return TextDecoding.Latin1(content);
            }
        }
    }
}
