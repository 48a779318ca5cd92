using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Runtime.InteropServices;
using System.Text;
using FluxForensics.Model;

namespace FluxForensics.Host
{
    /// <summary>
    /// Linux: process facts from <c>/proc/&lt;pid&gt;</c> (exe link, cmdline, status, stat, cwd). Every file may vanish
    /// between two reads (the process exits): that sets <see cref="ProcessFacts.Exited"/> and keeps what was read.
    /// </summary>
    public sealed class LinuxProcessReader : IProcessReader
    {
        private const string DeletedSuffix = " (deleted)";
        private readonly string _proc;
        private readonly Dictionary<int, string> _users;
        private readonly DateTime? _bootTimeUtc;
        private readonly long _ticksPerSecond;

        // Why user names or start times are unknown for every process, said on each process that lacks them.
        private readonly string? _passwdError;
        private readonly string? _bootTimeError;

        public LinuxProcessReader(string procRoot)
        {
            _proc = procRoot;
            _users = ReadPasswd("/etc/passwd", out _passwdError);
            _bootTimeUtc = ReadBootTime(Path.Combine(procRoot, "stat"), out _bootTimeError);
            _ticksPerSecond = LinuxNative.ClockTicksPerSecond();
        }

        /// <summary>The PIDs that exist now (the numeric directories of the proc root).</summary>
        public IReadOnlyList<int> ProcessIds()
        {
            var ids = new List<int>();
            foreach (var dir in Directory.EnumerateDirectories(_proc))
            {
                if (int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out int pid))
                {
                    ids.Add(pid);
                }
            }

            return ids;
        }

        public ProcessFacts Read(int processId)
        {
            var facts = new ProcessFacts(processId);
            string dir = Path.Combine(_proc, processId.ToString(CultureInfo.InvariantCulture));
            if (!Directory.Exists(dir))
            {
                facts.Exited = true;
                facts.ReadErrors.Add("the process exited before it could be examined");
                return facts;
            }

            ReadStatus(dir, facts);
            ReadStat(dir, facts);
            ReadImage(dir, facts);
            ReadCommandLine(dir, facts);
            if (LinuxNative.TryReadLink(Path.Combine(dir, "cwd"), out string? cwd, out _))
            {
                facts.WorkingDirectory = cwd;
            }

            if (!facts.Exited && !Directory.Exists(dir))
            {
                facts.Exited = true;
            }

            if (facts.Exited)
            {
                facts.ReadErrors.Add("the process exited during the scan");
            }

            return facts;
        }

        private void ReadImage(string dir, ProcessFacts facts)
        {
            string exe = Path.Combine(dir, "exe");
            if (LinuxNative.TryReadLink(exe, out string? target, out int errno))
            {
                if (target!.EndsWith(DeletedSuffix, StringComparison.Ordinal) && !File.Exists(target))
                {
                    target = target.Substring(0, target.Length - DeletedSuffix.Length);
                    facts.ImageDeleted = true;
                }

                facts.ImagePath = target;
                facts.ImageContentPath = exe;
                facts.Name = Path.GetFileName(target);
                return;
            }

            if (errno == LinuxNative.ENOENT)
            {
                // Kernel threads have no exe link; a vanished process has no directory any more.
                if (!Directory.Exists(dir))
                {
                    facts.Exited = true;
                }
                else
                {
                    facts.ReadErrors.Add("image path: no executable (kernel thread or zombie)");
                }
            }
            else
            {
                facts.ReadErrors.Add($"image path: {LinuxNative.Describe(errno)}");
            }
        }

        private void ReadCommandLine(string dir, ProcessFacts facts)
        {
            if (!TryReadAll(Path.Combine(dir, "cmdline"), facts, "command line", out byte[]? raw))
            {
                return;
            }

            var args = new List<string>();
            int start = 0;
            for (int i = 0; i <= raw!.Length; i++)
            {
                if (i == raw.Length || raw[i] == 0)
                {
                    if (i > start || (i < raw.Length && args.Count > 0))
                    {
                        args.Add(Encoding.UTF8.GetString(raw, start, i - start));
                    }

                    start = i + 1;
                }
            }

            while (args.Count > 0 && args[args.Count - 1].Length == 0)
            {
                args.RemoveAt(args.Count - 1);
            }

            facts.Arguments = args;
            var line = new StringBuilder();
            foreach (var a in args)
            {
                if (line.Length > 0)
                {
                    line.Append(' ');
                }

                line.Append(a.Length == 0 || a.IndexOfAny(new[] { ' ', '\t', '"' }) >= 0 ? "\"" + a.Replace("\"", "\\\"") + "\"" : a);
            }

            facts.CommandLine = line.ToString();
        }

        private void ReadStatus(string dir, ProcessFacts facts)
        {
            if (!TryReadAll(Path.Combine(dir, "status"), facts, "status", out byte[]? raw))
            {
                return;
            }

            foreach (var line in Encoding.UTF8.GetString(raw!).Split('\n'))
            {
                if (line.StartsWith("Name:", StringComparison.Ordinal))
                {
                    facts.Name ??= line.Substring(5).Trim();
                }
                else if (line.StartsWith("PPid:", StringComparison.Ordinal) && int.TryParse(line.Substring(5).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out int ppid))
                {
                    facts.ParentProcessId = ppid;
                }
                else if (line.StartsWith("Uid:", StringComparison.Ordinal))
                {
                    var parts = line.Substring(4).Split(new[] { '\t', ' ' }, StringSplitOptions.RemoveEmptyEntries);
                    if (parts.Length > 0 && int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out int uid))
                    {
                        facts.UserId = uid;
                        facts.User = _users.TryGetValue(uid, out var name) ? name : uid.ToString(CultureInfo.InvariantCulture);
                        if (_passwdError is not null)
                        {
                            facts.ReadErrors.Add("user name: " + _passwdError);
                        }
                    }
                }
            }
        }

        private void ReadStat(string dir, ProcessFacts facts)
        {
            if (!TryReadAll(Path.Combine(dir, "stat"), facts, "start time", out byte[]? raw))
            {
                return;
            }

            // "pid (comm) state ppid …": comm may hold spaces and parentheses, so fields count from the last ')'.
            string text = Encoding.UTF8.GetString(raw!);
            int close = text.LastIndexOf(')');
            if (close < 0)
            {
                facts.ReadErrors.Add("start time: unreadable /proc stat line");
                return;
            }

            var fields = text.Substring(close + 1).Split(new[] { ' ' }, StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length > 6)
            {
                facts.IsZombie = fields[0] == "Z" || fields[0] == "X";
                facts.IsKernelThread = (long.TryParse(fields[6], NumberStyles.None, CultureInfo.InvariantCulture, out long flags) && (flags & 0x00200000 /* PF_KTHREAD */) != 0) ||
                    (fields.Length > 1 && fields[1] == "2");
            }

            // After ')': state is field 3 of stat(5), starttime field 22 → index 22 - 3 = 19.
            if (fields.Length > 19 && long.TryParse(fields[19], NumberStyles.None, CultureInfo.InvariantCulture, out long ticks) && _bootTimeUtc is DateTime boot && _ticksPerSecond > 0)
            {
                facts.StartTimeUtc = boot.AddTicks(ticks * TimeSpan.TicksPerSecond / _ticksPerSecond);
            }
            else if (_bootTimeError is not null)
            {
                facts.ReadErrors.Add("start time: " + _bootTimeError);
            }
        }

        private static bool TryReadAll(string path, ProcessFacts facts, string what, out byte[]? content)
        {
            try
            {
                content = ProcFile.ReadAll(path);
                return true;
            }
            catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
            {
                facts.Exited = true;
            }
            catch (Exception e) when (e is UnauthorizedAccessException)
            {
                facts.ReadErrors.Add($"{what}: permission denied");
            }
            catch (IOException e)
            {
                // ESRCH: the process is a zombie or went away while the file was open.
                facts.ReadErrors.Add($"{what}: {e.Message}");
            }

            content = null;
            return false;
        }

        private static Dictionary<int, string> ReadPasswd(string path, out string? error)
        {
            error = null;
            var users = new Dictionary<int, string>();
            try
            {
                foreach (var line in File.ReadAllLines(path))
                {
                    var parts = line.Split(':');
                    if (parts.Length > 2 && int.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out int uid) && !users.ContainsKey(uid))
                    {
                        users[uid] = parts[0];
                    }
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Without passwd users are shown by uid, and each process says why.
                error = $"{path} could not be read ({e.Message}); shown by uid";
            }

            return users;
        }

        private static DateTime? ReadBootTime(string statPath, out string? error)
        {
            error = null;
            try
            {
                foreach (var line in File.ReadAllLines(statPath))
                {
                    if (line.StartsWith("btime ", StringComparison.Ordinal) && long.TryParse(line.Substring(6).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out long seconds))
                    {
                        return new DateTime(1970, 1, 1, 0, 0, 0, DateTimeKind.Utc).AddSeconds(seconds);
                    }
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                error = $"the boot time in {statPath} could not be read ({e.Message})";
            }

            return null;
        }
    }

    /// <summary>Reads procfs pseudo files, whose reported length is 0.</summary>
    internal static class ProcFile
    {
        public static byte[] ReadAll(string path)
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1, FileOptions.None);
            var buffer = new byte[16384];
            int total = 0;
            while (true)
            {
                if (total == buffer.Length)
                {
                    Array.Resize(ref buffer, buffer.Length * 2);
                }

                int n = stream.Read(buffer, total, buffer.Length - total);
                if (n == 0)
                {
                    break;
                }

                total += n;
            }

            Array.Resize(ref buffer, total);
            return buffer;
        }
    }

    /// <summary>The few libc calls the Linux readers need, usable from both target frameworks.</summary>
    internal static unsafe class LinuxNative
    {
        public const int ENOENT = 2;
        public const int ESRCH = 3;
        public const int EACCES = 13;
        private const int ScClkTck = 2;

        [DllImport("libc", SetLastError = true, EntryPoint = "readlink")]
        private static extern IntPtr readlink(byte* path, byte* buffer, UIntPtr size);

        [DllImport("libc", SetLastError = true, EntryPoint = "opendir")]
        private static extern IntPtr opendir(byte* path);

        [DllImport("libc", SetLastError = true, EntryPoint = "readdir")]
        private static extern byte* readdir(IntPtr dir);

        [DllImport("libc", EntryPoint = "closedir")]
        private static extern int closedir(IntPtr dir);

        /// <summary>opendir(3) on a NUL-terminated path; IntPtr.Zero and <paramref name="errno"/> on failure.</summary>
        public static IntPtr OpenDirectory(byte* path, out int errno)
        {
            IntPtr dir = opendir(path);
            errno = dir == IntPtr.Zero ? Marshal.GetLastWin32Error() : 0;
            return dir;
        }

        /// <summary>
        /// The NUL-terminated name of the next entry, or null at the end. struct dirent on 64-bit glibc and musl:
        /// d_ino (8), d_off (8), d_reclen (2), d_type (1), d_name.
        /// </summary>
        public static byte* NextEntryName(IntPtr dir)
        {
            if (IntPtr.Size != 8)
            {
                throw new PlatformNotSupportedException("the /proc walk reads struct dirent as laid out on 64-bit Linux");
            }

            byte* entry = readdir(dir);
            return entry == null ? null : entry + 19;
        }

        public static void CloseDirectory(IntPtr dir) => closedir(dir);

        [DllImport("libc", SetLastError = true, EntryPoint = "sysconf")]
        private static extern long sysconf(int name);

        [DllImport("libc", EntryPoint = "geteuid")]
        private static extern uint geteuid();

        public static bool IsRoot()
        {
            try
            {
                return geteuid() == 0;
            }
            catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
            {
                return false;
            }
        }

        public static long ClockTicksPerSecond()
        {
            try
            {
                long t = sysconf(ScClkTck);
                return t > 0 ? t : 100;
            }
            catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
            {
                return 100;
            }
        }

        /// <summary>readlink(2) without exceptions. <paramref name="errno"/> is set when it fails.</summary>
        public static bool TryReadLink(string path, out string? target, out int errno)
        {
            int byteCount = Encoding.UTF8.GetByteCount(path);
            byte* p = stackalloc byte[byteCount + 1];
            fixed (char* c = path)
            {
                Encoding.UTF8.GetBytes(c, path.Length, p, byteCount);
            }

            p[byteCount] = 0;
            byte* buffer = stackalloc byte[4096];
            long n = (long)readlink(p, buffer, (UIntPtr)4096);
            if (n < 0)
            {
                errno = Marshal.GetLastWin32Error();
                target = null;
                return false;
            }

            errno = 0;
            target = Encoding.UTF8.GetString(buffer, (int)n);
            return true;
        }

        /// <summary>readlink(2) into a caller's buffer, for the hot loop over /proc/*/fd: the target's byte length or -1.</summary>
        public static int ReadLink(byte* path, byte* buffer, int size, out int errno)
        {
            long n = (long)readlink(path, buffer, (UIntPtr)size);
            errno = n < 0 ? Marshal.GetLastWin32Error() : 0;
            return (int)n;
        }

        public static string Describe(int errno) => errno switch
        {
            EACCES => "permission denied",
            ENOENT => "no such file",
            ESRCH => "no such process",
            1 => "operation not permitted",
            _ => "error " + errno.ToString(CultureInfo.InvariantCulture),
        };
    }
}
