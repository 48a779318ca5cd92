using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading;
using FluxForensics.Model;

namespace FluxForensics.Host
{
    /// <summary>XDG autostart, rc scripts, shell profiles and ld.so.preload: persistence in plain files.</summary>
    internal sealed partial class LinuxPersistenceSource
    {
        private IEnumerable<AutorunEntry> Xdg(string directory, string scope, string? home)
        {
            foreach (var (path, local) in Files(directory, "*.desktop"))
            {
                string? text = PersistenceScanner.ReadText(local, _reporter, 1 << 20);
                if (text is null)
                {
                    continue;
                }

                string? exec = DesktopValue(text, "Exec");
                if (exec is null)
                {
                    continue;
                }

                bool hidden = string.Equals(DesktopValue(text, "Hidden"), "true", StringComparison.OrdinalIgnoreCase);
                bool disabled = string.Equals(DesktopValue(text, "X-GNOME-Autostart-enabled"), "false", StringComparison.OrdinalIgnoreCase);
                yield return new AutorunEntry
                {
                    Location = directory,
                    Name = DesktopValue(text, "Name") ?? Path.GetFileNameWithoutExtension(path),
                    Command = exec,
                    Scope = scope,
                    LastWriteTime = PersistenceScanner.WriteTime(local),
                    Enabled = !hidden && !disabled,
                    EntryType = AutorunEntryType.XdgAutostart,
                    EntryPath = _mapper.IsOffline ? local : path,
                    EntryText = text,
                    NameIsLabel = true,
                    Home = home ?? "/root",
                };
            }
        }

        private static string? DesktopValue(string text, string key)
        {
            bool inEntry = false;
            foreach (string raw in text.Split('\n'))
            {
                string line = raw.Trim();
                if (line.StartsWith("[", StringComparison.Ordinal))
                {
                    inEntry = line == "[Desktop Entry]";
                    continue;
                }

                if (inEntry && line.StartsWith(key + "=", StringComparison.Ordinal))
                {
                    return line.Substring(key.Length + 1).Trim();
                }
            }

            return null;
        }

        private IEnumerable<AutorunEntry> Rc()
        {
            foreach (AutorunEntry e in Lines("/etc/rc.local", AutorunEntryType.RcScript, "Machine", "/root", _ => true))
            {
                yield return e;
            }

            foreach (var (path, local) in Files("/etc/init.d"))
            {
                string name = Path.GetFileName(path);
                if (name is "README" or "skeleton" or "functions" or "rc" or "rcS")
                {
                    continue;
                }

                yield return FileEntry("/etc/init.d", path, local, AutorunEntryType.RcScript, "Machine");
            }
        }

        private AutorunEntry FileEntry(string location, string path, string local, string type, string scope) => new AutorunEntry
        {
            Location = location,
            Name = Path.GetFileName(path),
            Command = path,
            Scope = scope,
            LastWriteTime = PersistenceScanner.WriteTime(local),
            EntryType = type,
            EntryPath = _mapper.IsOffline ? local : path,
            Home = "/root",
        };

        private IEnumerable<AutorunEntry> ProfileDirectory(string directory)
        {
            foreach (var (path, _) in Files(directory, "*.sh"))
            {
                foreach (AutorunEntry e in Profile(path, "Machine", "/root"))
                {
                    yield return e;
                }
            }
        }

        private IEnumerable<AutorunEntry> Profile(string path, string scope, string home) => Lines(path, AutorunEntryType.ProfileLine, scope, home, RunsSomething);

        /// <summary>Profile lines worth listing: they start a program by path or from the network, background something,
        /// or preload a library; assignments, conditionals and builtins are configuration, not autostart.</summary>
        internal static bool RunsSomething(string line)
        {
            if (line.IndexOf("LD_PRELOAD", StringComparison.Ordinal) >= 0)
            {
                return true;
            }

            List<string> words = CommandLine.PosixWords(line);
            if (words.Count == 0)
            {
                return false;
            }

            string first = words[0];
            if (first.Contains("=") && !first.StartsWith("/", StringComparison.Ordinal))
            {
                return false;
            }

            if (first == "." || first == "source")
            {
                return words.Count > 1 && (words[1].StartsWith("/tmp/", StringComparison.Ordinal) || words[1].StartsWith("/dev/shm/", StringComparison.Ordinal) || words[1].StartsWith("/var/tmp/", StringComparison.Ordinal));
            }

            if (ShellWords.Contains(first))
            {
                return false;
            }

            return first.StartsWith("/", StringComparison.Ordinal) || first.StartsWith("~/", StringComparison.Ordinal) || first.StartsWith("$HOME", StringComparison.Ordinal) ||
                first.StartsWith("./", StringComparison.Ordinal) || first is "nohup" or "setsid" or "curl" or "wget" or "nc" or "ncat" or "python" or "python3" or "perl" or "bash" or "sh" ||
                line.TrimEnd().EndsWith("&", StringComparison.Ordinal) && !line.TrimEnd().EndsWith("&&", StringComparison.Ordinal);
        }

        private IEnumerable<AutorunEntry> Lines(string path, string type, string scope, string home, Func<string, bool> keep)
        {
            if (!TryReadLines(path, out string local, out DateTime? written, out string[] lines))
            {
                yield break;
            }

            for (int i = 0; i < lines.Length; i++)
            {
                string line = lines[i].TrimEnd('\r');
                string trimmed = line.Trim();
                if (trimmed.Length == 0 || trimmed[0] == '#' || trimmed == "exit 0" || !keep(trimmed))
                {
                    continue;
                }

                yield return new AutorunEntry
                {
                    Location = path,
                    Name = $"{Path.GetFileName(path)}:{i + 1}",
                    Command = trimmed,
                    Scope = scope,
                    LastWriteTime = written,
                    EntryType = type,
                    EntryPath = _mapper.IsOffline ? local : path,
                    EntryText = line,
                    LineNumber = i + 1,
                    Home = home,
                };
            }
        }

        private IEnumerable<AutorunEntry> LdPreload()
        {
            string path = "/etc/ld.so.preload";
            string? local = Local(path);
            if (local is null || !File.Exists(local))
            {
                yield break;
            }

            string? text = PersistenceScanner.ReadText(local, _reporter);
            string[] lines = (text ?? string.Empty).Split('\n');
            for (int i = 0; i < lines.Length; i++)
            {
                string line = lines[i].TrimEnd('\r');
                string trimmed = line.Trim();
                if (trimmed.Length == 0 || trimmed[0] == '#')
                {
                    continue;
                }

                foreach (string library in trimmed.Split(new[] { ' ', '\t', ':' }, StringSplitOptions.RemoveEmptyEntries))
                {
                    yield return new AutorunEntry
                    {
                        Location = path,
                        Name = Path.GetFileName(library),
                        Command = library,
                        Scope = "Machine",
                        LastWriteTime = PersistenceScanner.WriteTime(local),
                        EntryType = AutorunEntryType.LdPreload,
                        EntryPath = _mapper.IsOffline ? local : path,
                        EntryText = line,
                        LineNumber = i + 1,
                        Home = "/root",
                        ResolvedTarget = library,
                    };
                }
            }
        }
    }
}
