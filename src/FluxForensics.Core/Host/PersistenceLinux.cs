using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading;
using FluxForensics.Model;

namespace FluxForensics.Host
{
    /// <summary>The Linux autostart locations: cron, systemd units and timers, XDG autostart, rc.local and init
    /// scripts, shell profiles, /etc/ld.so.preload; system-wide and for every home directory.</summary>
    internal sealed partial class LinuxPersistenceSource
    {
        private static readonly string[] SystemUnitDirs = { "/etc/systemd/system", "/run/systemd/system", "/usr/local/lib/systemd/system", "/usr/lib/systemd/system", "/lib/systemd/system" };
        private static readonly string[] UserUnitDirs = { "/etc/systemd/user", "/usr/lib/systemd/user" };
        private static readonly string[] SystemProfiles = { "/etc/profile", "/etc/bash.bashrc", "/etc/bashrc", "/etc/zsh/zshrc", "/etc/zshrc", "/etc/zprofile", "/etc/zsh/zprofile", "/etc/environment" };
        private static readonly string[] UserProfiles = { ".profile", ".bash_profile", ".bash_login", ".bashrc", ".bash_logout", ".zshrc", ".zprofile", ".zlogin" };
        private static readonly HashSet<string> ShellWords = new HashSet<string>(StringComparer.Ordinal)
        {
            "if", "then", "else", "elif", "fi", "for", "do", "done", "while", "until", "case", "esac", "in", "function", "{", "}", "[", "[[", "test",
            "export", "alias", "unalias", "local", "declare", "typeset", "readonly", "unset", "umask", "shopt", "set", "return", "exit", "true", "false",
            "echo", "printf", "shift", "break", "continue", "complete", "bind", "trap", "ulimit", "eval", "cd", "mesg", "stty", "tty", "setopt",
            "autoload", "zstyle", "bindkey", "compinit", "promptinit", "prompt", "PATH", ":", "let", "read", "wait", "hash", "type", "command",
        };

        private readonly PersistenceScanOptions _options;
        private readonly PathMapper _mapper;
        private readonly IFluxReporter _reporter;
        private readonly CancellationToken _cancellation;

        public LinuxPersistenceSource(PersistenceScanOptions options, PathMapper mapper, IFluxReporter reporter, CancellationToken cancellation)
        {
            _options = options;
            _mapper = mapper;
            _reporter = reporter;
            _cancellation = cancellation;
        }

        private string? Local(string path) => _mapper.ToLocal(path);

        private sealed class Home
        {
            public Home(string user, string path)
            {
                User = user;
                Path = path;
            }

            public string User { get; }

            /// <summary>The home as the system names it (/home/alice), not the local path below -Root.</summary>
            public string Path { get; }
        }

        public IEnumerable<AutorunEntry> Entries()
        {
            List<Home> homes = Homes();
            var sources = new List<Func<IEnumerable<AutorunEntry>>>
            {
                Cron,
                () => Systemd(SystemUnitDirs, "Machine", null),
                () => Xdg("/etc/xdg/autostart", "Machine", null),
                Rc,
                () => SystemProfiles.SelectMany(p => Profile(p, "Machine", "/root")),
                () => ProfileDirectory("/etc/profile.d"),
                LdPreload,
            };
            foreach (Home home in homes)
            {
                sources.Add(() => Systemd(UserUnitDirs.Concat(new[] { home.Path + "/.config/systemd/user" }).ToArray(), home.User, home.Path));
                sources.Add(() => Xdg(home.Path + "/.config/autostart", home.User, home.Path));
                sources.Add(() => UserProfiles.SelectMany(p => Profile(home.Path + "/" + p, home.User, home.Path)));
            }

            foreach (var source in sources)
            {
                _cancellation.ThrowIfCancellationRequested();
                foreach (AutorunEntry e in source())
                {
                    yield return e;
                }
            }
        }

        private List<Home> Homes()
        {
            var homes = new List<Home>();
            var seen = new HashSet<string>(StringComparer.Ordinal);
            string? passwd = Local("/etc/passwd");
            if (passwd is not null && File.Exists(passwd))
            {
                foreach (string line in (PersistenceScanner.ReadText(passwd, _reporter) ?? string.Empty).Split('\n'))
                {
                    string[] f = line.Split(':');
                    if (f.Length >= 7 && f[5].StartsWith("/", StringComparison.Ordinal) && (f[0] == "root" || f[5].StartsWith("/home/", StringComparison.Ordinal)) && seen.Add(f[5]))
                    {
                        string? local = Local(f[5]);
                        if (local is not null && Directory.Exists(local))
                        {
                            homes.Add(new Home(f[0], f[5].TrimEnd('/')));
                        }
                    }
                }
            }

            string? homeDir = Local("/home");
            if (homeDir is not null && Directory.Exists(homeDir))
            {
                foreach (string dir in Directory.EnumerateDirectories(homeDir).OrderBy(d => d, StringComparer.Ordinal))
                {
                    string path = "/home/" + Path.GetFileName(dir);
                    if (seen.Add(path))
                    {
                        homes.Add(new Home(Path.GetFileName(dir), path));
                    }
                }
            }

            if (seen.Add("/root") && Local("/root") is { } root && Directory.Exists(root))
            {
                homes.Add(new Home("root", "/root"));
            }

            return homes;
        }

        private IEnumerable<(string path, string local)> Files(string directory, string pattern = "*")
        {
            string? local = Local(directory);
            if (local is null)
            {
                yield break;
            }

            foreach (string f in PersistenceScanner.SafeFiles(local, pattern, SearchOption.TopDirectoryOnly, _reporter, _options.MaxFilesPerDirectory))
            {
                string path = directory.TrimEnd('/') + "/" + Path.GetFileName(f);

                // Through the mapper, so a link in an offline root is followed inside the root.
                string? mapped = Local(path);
                if (mapped is not null && File.Exists(mapped))
                {
                    yield return (path, mapped);
                }
            }
        }

        private IEnumerable<AutorunEntry> Cron()
        {
            foreach (AutorunEntry e in CronFile("/etc/crontab", systemFormat: true, null))
            {
                yield return e;
            }

            foreach (var (path, _) in Files("/etc/cron.d"))
            {
                foreach (AutorunEntry e in CronFile(path, systemFormat: true, null))
                {
                    yield return e;
                }
            }

            foreach (string spool in new[] { "/var/spool/cron/crontabs", "/var/spool/cron" })
            {
                foreach (var (path, _) in Files(spool))
                {
                    foreach (AutorunEntry e in CronFile(path, systemFormat: false, Path.GetFileName(path)))
                    {
                        yield return e;
                    }
                }
            }

            foreach (string period in new[] { "hourly", "daily", "weekly", "monthly" })
            {
                foreach (var (path, local) in Files("/etc/cron." + period))
                {
                    if (Path.GetFileName(path).StartsWith(".placeholder", StringComparison.Ordinal))
                    {
                        continue;
                    }

                    yield return FileEntry("/etc/cron." + period, path, local, AutorunEntryType.RcScript, "Machine");
                }
            }
        }

        private IEnumerable<AutorunEntry> CronFile(string path, bool systemFormat, string? user)
        {
            if (!TryReadLines(path, out string local, out DateTime? written, out string[] lines))
            {
                yield break;
            }

            for (int i = 0; i < lines.Length; i++)
            {
                string line = lines[i].TrimEnd('\r');
                string trimmed = line.Trim();
                if (trimmed.Length == 0 || trimmed[0] == '#')
                {
                    continue;
                }

                string[] f = trimmed.Split(new[] { ' ', '\t' }, StringSplitOptions.RemoveEmptyEntries);
                if (f.Length > 0 && f[0].Contains("=") && !f[0].StartsWith("@", StringComparison.Ordinal) && !char.IsDigit(f[0][0]) && f[0][0] != '*')
                {
                    continue; // VAR=value
                }

                int scheduleFields = f.Length > 0 && f[0].StartsWith("@", StringComparison.Ordinal) ? 1 : 5;
                int commandAt = scheduleFields + (systemFormat ? 1 : 0);
                if (f.Length <= commandAt)
                {
                    _reporter.Issue(new Model.ParseIssue(local, -1, $"line {i + 1} is not a crontab entry", "crontab line"));
                    continue;
                }

                string runAs = systemFormat ? f[scheduleFields] : user ?? "root";
                string command = CommandAfterFields(trimmed, commandAt);
                yield return new AutorunEntry
                {
                    Location = path,
                    Name = $"{path}:{i + 1}",
                    Command = command,
                    Scope = runAs == "root" ? "Machine" : runAs,
                    LastWriteTime = written,
                    EntryType = AutorunEntryType.CronLine,
                    EntryPath = _mapper.IsOffline ? local : path,
                    EntryText = line,
                    LineNumber = i + 1,
                    Home = runAs == "root" ? "/root" : "/home/" + runAs,
                };
            }
        }

        /// <summary>The lines of a file of the analysed system, with its local path and when it was written. False when it
        /// is not there or cannot be read (said to the reporter).</summary>
        private bool TryReadLines(string path, out string local, out DateTime? written, out string[] lines)
        {
            local = string.Empty;
            written = null;
            lines = Array.Empty<string>();
            if (Local(path) is not { } found || !File.Exists(found))
            {
                return false;
            }

            local = found;
            string? text = PersistenceScanner.ReadText(found, _reporter);
            if (text is null)
            {
                return false;
            }

            written = PersistenceScanner.WriteTime(found);
            lines = text.Split('\n');
            return true;
        }

        private static string CommandAfterFields(string line, int fields)
        {
            int i = 0;
            for (int f = 0; f < fields; f++)
            {
                while (i < line.Length && (line[i] == ' ' || line[i] == '\t'))
                {
                    i++;
                }

                while (i < line.Length && line[i] != ' ' && line[i] != '\t')
                {
                    i++;
                }
            }

            return line.Substring(Math.Min(i, line.Length)).Trim();
        }

        private IEnumerable<AutorunEntry> Systemd(string[] directories, string scope, string? home)
        {
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (string dir in directories)
            {
                string? localDir = Local(dir);
                if (localDir is null || !Directory.Exists(localDir))
                {
                    continue;
                }

                var enabled = EnabledUnits(dir);
                foreach (var (path, local) in Files(dir))
                {
                    string unit = Path.GetFileName(path);
                    bool isService = unit.EndsWith(".service", StringComparison.Ordinal);
                    bool isTimer = unit.EndsWith(".timer", StringComparison.Ordinal);
                    if ((!isService && !isTimer) || !seen.Add(unit) || unit.Contains("@."))
                    {
                        continue;
                    }

                    if (IsMasked(local))
                    {
                        continue;
                    }

                    string? text = PersistenceScanner.ReadText(local, _reporter, 1 << 20);
                    if (text is null)
                    {
                        continue;
                    }

                    string command;
                    if (isTimer)
                    {
                        string target = UnitValue(text, "Unit") ?? unit.Substring(0, unit.Length - ".timer".Length) + ".service";
                        command = ServiceCommand(directories, target) ?? string.Empty;
                    }
                    else
                    {
                        command = UnitValue(text, "ExecStart") ?? UnitValue(text, "ExecStartPre") ?? string.Empty;
                    }

                    if (command.Length == 0)
                    {
                        continue;
                    }

                    string stem = unit.Substring(0, unit.LastIndexOf('.'));
                    yield return new AutorunEntry
                    {
                        Location = dir,
                        Name = stem,
                        Command = command,
                        Scope = scope,
                        LastWriteTime = PersistenceScanner.WriteTime(local),
                        Enabled = enabled.Contains(unit) || dir.StartsWith("/etc/", StringComparison.Ordinal) || (home is not null && dir.StartsWith(home, StringComparison.Ordinal)),
                        EntryType = AutorunEntryType.SystemdUnit,
                        EntryPath = _mapper.IsOffline ? local : path,
                        EntryText = text,
                        NameIsLabel = true,
                        Home = home ?? "/root",
                    };
                }
            }
        }

        private static bool IsMasked(string local)
        {
            try
            {
                var info = new FileInfo(local);
                return info.Length == 0;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Not masked as far as can be told: the read of the unit that follows says what could not be read.
                return false;
            }
        }

        private HashSet<string> EnabledUnits(string dir)
        {
            // Units are enabled by a link in some *.wants directory of /etc/systemd/system (or the user's config).
            var result = new HashSet<string>(StringComparer.Ordinal);
            foreach (string root in new[] { "/etc/systemd/system", "/etc/systemd/user", dir })
            {
                string? local = Local(root);
                if (local is null || !Directory.Exists(local))
                {
                    continue;
                }

                try
                {
                    foreach (string wants in Directory.EnumerateDirectories(local, "*.wants"))
                    {
                        foreach (string f in Directory.EnumerateFileSystemEntries(wants))
                        {
                            result.Add(Path.GetFileName(f));
                        }
                    }
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    _reporter.Warning($"Cannot list the enabled units under '{local}' ({e.Message}); units enabled there are shown as disabled.");
                }
            }

            return result;
        }

        private string? ServiceCommand(string[] directories, string unit)
        {
            foreach (string dir in directories)
            {
                string? local = Local(dir.TrimEnd('/') + "/" + unit);
                if (local is not null && File.Exists(local))
                {
                    string? text = PersistenceScanner.ReadText(local, _reporter, 1 << 20);
                    return text is null ? null : UnitValue(text, "ExecStart");
                }
            }

            return null;
        }

        internal static string? UnitValue(string text, string key)
        {
            string? found = null;
            foreach (string raw in text.Split('\n'))
            {
                string line = raw.Trim();
                if (line.StartsWith(key, StringComparison.Ordinal))
                {
                    string rest = line.Substring(key.Length).TrimStart();
                    if (rest.StartsWith("=", StringComparison.Ordinal))
                    {
                        string value = rest.Substring(1).Trim();
                        if (value.Length > 0)
                        {
                            found ??= value;
                        }
                    }
                }
            }

            return found;
        }
    }
}
