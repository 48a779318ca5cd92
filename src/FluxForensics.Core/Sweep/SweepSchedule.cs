using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace FluxForensics.Sweep
{
    /// <summary>
    /// What a scheduled sweep runs and when: the PowerShell command (Invoke-FluxSweep with the chosen parameters), the
    /// pwsh that runs it, and the interval. Turns into a systemd service + timer pair on Linux, or the action of a
    /// Windows scheduled task.
    /// </summary>
    public sealed class SweepSchedule
    {
        private static readonly Regex NamePattern = new Regex("^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$", RegexOptions.CultureInvariant);

        public SweepSchedule(string name, TimeSpan interval, string pwshPath, IReadOnlyList<string> pwshPrefixArguments, string command)
        {
            if (!IsValidName(name))
            {
                throw new ArgumentException($"'{name}' is not a usable schedule name: letters, digits, '.', '_' and '-', at most 64.", nameof(name));
            }

            if (interval < TimeSpan.FromMinutes(1))
            {
                throw new ArgumentOutOfRangeException(nameof(interval), "The interval is at least one minute.");
            }

            Name = name;
            Interval = interval;
            PwshPath = pwshPath;
            PwshPrefixArguments = pwshPrefixArguments;
            Command = command;
        }

        public string Name { get; }
        public TimeSpan Interval { get; }
        public string PwshPath { get; }

        /// <summary>Arguments before pwsh's own (pwsh.dll when PowerShell runs as a dotnet tool).</summary>
        public IReadOnlyList<string> PwshPrefixArguments { get; }

        /// <summary>The PowerShell the schedule runs.</summary>
        public string Command { get; }

        public static bool IsValidName(string? name) => name is not null && NamePattern.IsMatch(name);

        /// <summary>The unit names: <c>&lt;name&gt;.service</c> and <c>&lt;name&gt;.timer</c>, lower case.</summary>
        public string UnitName => Name.ToLowerInvariant();

        /// <summary>pwsh's arguments: never prompt, no profile, the command.</summary>
        public IReadOnlyList<string> Arguments(bool encoded)
        {
            var arguments = new List<string>(PwshPrefixArguments) { "-NoLogo", "-NoProfile", "-NonInteractive" };
            if (encoded)
            {
                arguments.Add("-EncodedCommand");
                arguments.Add(Convert.ToBase64String(Encoding.Unicode.GetBytes(Command)));
            }
            else
            {
                arguments.Add("-Command");
                arguments.Add(Command);
            }

            return arguments;
        }

        public string SystemdService()
        {
            var exec = new StringBuilder(SystemdQuote(PwshPath));
            foreach (var argument in Arguments(encoded: false))
            {
                exec.Append(' ').Append(SystemdQuote(argument));
            }

            return "# Written by Register-FluxSweep; removed by Unregister-FluxSweep.\n" +
                "[Unit]\n" +
                $"Description=FluxForensics sweep ({Name})\n" +
                "Wants=network-online.target\n" +
                "After=network-online.target\n" +
                "\n" +
                "[Service]\n" +
                "Type=oneshot\n" +
                "# Exit status: 0 clean, 1 findings at or above -FailOn (the unit shows as failed: an alert), 2 sweep errors only.\n" +
                $"ExecStart={exec}\n";
        }

        public string SystemdTimer() =>
            "# Written by Register-FluxSweep; removed by Unregister-FluxSweep.\n" +
            "[Unit]\n" +
            $"Description=FluxForensics sweep ({Name}) every {Describe(Interval)}\n" +
            "\n" +
            "[Timer]\n" +
            "OnBootSec=5min\n" +
            $"OnUnitActiveSec={(long)Interval.TotalSeconds}s\n" +
            $"Unit={UnitName}.service\n" +
            "\n" +
            "[Install]\n" +
            "WantedBy=timers.target\n";

        /// <summary>The argument string of the scheduled task's action (pwsh with an encoded command: no quoting to go wrong).</summary>
        public string WindowsTaskArguments()
        {
            var text = new StringBuilder();
            foreach (var argument in Arguments(encoded: true))
            {
                if (text.Length > 0)
                {
                    text.Append(' ');
                }

                text.Append(WindowsQuote(argument));
            }

            return text.ToString();
        }

        public static string Describe(TimeSpan interval) =>
            interval.TotalDays >= 1 && interval.TotalDays == Math.Floor(interval.TotalDays) ? $"{interval.TotalDays.ToString(CultureInfo.InvariantCulture)}d" :
            interval.TotalHours >= 1 && interval.TotalHours == Math.Floor(interval.TotalHours) ? $"{interval.TotalHours.ToString(CultureInfo.InvariantCulture)}h" :
            interval.TotalMinutes == Math.Floor(interval.TotalMinutes) ? $"{interval.TotalMinutes.ToString(CultureInfo.InvariantCulture)}min" :
            $"{(long)interval.TotalSeconds}s";

        /// <summary>systemd's own quoting (systemd.syntax): double quotes, backslash escapes, % and $ doubled.</summary>
        public static string SystemdQuote(string value)
        {
            var text = new StringBuilder("\"");
            foreach (char c in value)
            {
                switch (c)
                {
                    case '"': text.Append("\\\""); break;
                    case '\\': text.Append("\\\\"); break;
                    case '%': text.Append("%%"); break;
                    case '$': text.Append("$$"); break;
                    case '\n': text.Append("\\n"); break;
                    default: text.Append(c); break;
                }
            }

            return text.Append('"').ToString();
        }

        /// <summary>CommandLineToArgvW quoting.</summary>
        public static string WindowsQuote(string value)
        {
            if (value.Length > 0 && value.IndexOfAny(new[] { ' ', '\t', '"' }) < 0)
            {
                return value;
            }

            var text = new StringBuilder("\"");
            int backslashes = 0;
            foreach (char c in value)
            {
                if (c == '\\')
                {
                    backslashes++;
                    continue;
                }

                text.Append('\\', c == '"' ? (backslashes * 2) + 1 : backslashes);
                backslashes = 0;
                text.Append(c);
            }

            text.Append('\\', backslashes * 2);
            return text.Append('"').ToString();
        }
    }

    /// <summary>Builds a PowerShell command line from parameter names and values, quoted so that any value stays one literal.</summary>
    public sealed class PowerShellCommandText
    {
        private readonly StringBuilder _text;

        public PowerShellCommandText(string command)
        {
            _text = new StringBuilder(command);
        }

        public PowerShellCommandText Switch(string name, bool present)
        {
            if (present)
            {
                _text.Append(" -").Append(name);
            }

            return this;
        }

        public PowerShellCommandText Value(string name, string? value)
        {
            if (value is not null)
            {
                _text.Append(" -").Append(name).Append(' ').Append(Quote(value));
            }

            return this;
        }

        public PowerShellCommandText Values(string name, IReadOnlyList<string>? values)
        {
            if (values is not null && values.Count > 0)
            {
                _text.Append(" -").Append(name).Append(' ');
                for (int i = 0; i < values.Count; i++)
                {
                    _text.Append(i == 0 ? string.Empty : ",").Append(Quote(values[i]));
                }
            }

            return this;
        }

        public PowerShellCommandText Number(string name, long? value)
        {
            if (value is not null)
            {
                _text.Append(" -").Append(name).Append(' ').Append(value.Value.ToString(CultureInfo.InvariantCulture));
            }

            return this;
        }

        public PowerShellCommandText Statement(string text)
        {
            _text.Append("; ").Append(text);
            return this;
        }

        /// <summary>A single-quoted literal: nothing in it expands.</summary>
        public static string Quote(string value)
        {
            var text = new StringBuilder("'");
            foreach (char c in value)
            {
                // PowerShell also treats the typographic single quotes as quotes: double them too.
                if (c == '\'' || c == '\u2018' || c == '\u2019' || c == '\u201A' || c == '\u201B')
                {
                    text.Append(c);
                }

                text.Append(c);
            }

            return text.Append('\'').ToString();
        }

        public override string ToString() => _text.ToString();
    }
}
