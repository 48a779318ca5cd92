using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;

namespace FluxForensics.Remediation
{
    /// <summary>A process as remediation sees it: identity (PID + start time), parent, image.</summary>
    internal sealed class ProcessIdentity
    {
        public int ProcessId { get; set; }
        public int ParentProcessId { get; set; }
        public string Name { get; set; } = string.Empty;
        public string? ImagePath { get; set; }
        public DateTime? StartTimeUtc { get; set; }
        public bool IsKernelThread { get; set; }
        public bool IsZombie { get; set; }
    }

    /// <summary>Process enumeration and control; one implementation per OS, a fake in tests.</summary>
    internal interface IProcessControl
    {
        IReadOnlyList<ProcessIdentity> Snapshot();
        ProcessIdentity? Get(int processId);

        /// <summary>Freezes a process (SIGSTOP) so that it cannot respawn children while its tree is stopped; false if unsupported.</summary>
        bool Suspend(int processId);
        void Kill(int processId);
    }

    /// <summary>Which processes must never be stopped, and which only with -Force.</summary>
    internal static class ProcessGuard
    {
        private static readonly HashSet<string> Critical = new HashSet<string>(StringComparer.OrdinalIgnoreCase)
        {
            "csrss", "wininit", "winlogon", "lsass", "smss", "services", "System", "Registry", "Idle", "Secure System", "Memory Compression",
            "init", "systemd", "kthreadd",
        };

        private static readonly HashSet<string> SharedHosts = new HashSet<string>(StringComparer.OrdinalIgnoreCase)
        {
            "svchost", "dllhost", "taskhostw", "taskhost", "wmiprvse", "sihost", "conhost", "dbus-daemon", "systemd-journald", "sshd",
        };

        public static string NameOf(string name) => name.EndsWith(".exe", StringComparison.OrdinalIgnoreCase) ? name.Substring(0, name.Length - 4) : name;

        /// <summary>Null when the process may be stopped; else why not.</summary>
        public static string? Refusal(ProcessIdentity p, ISet<int> protectedIds, bool force)
        {
            if (p.ProcessId is 0 or 1 or 4 or 2)
            {
                return $"PID {p.ProcessId} is the system's own and is never stopped.";
            }

            if (protectedIds.Contains(p.ProcessId))
            {
                return $"PID {p.ProcessId} ({p.Name}) is this session's process or one of its parents.";
            }

            if (p.IsKernelThread)
            {
                return $"PID {p.ProcessId} ({p.Name}) is a kernel thread.";
            }

            string name = NameOf(p.Name);
            if (Critical.Contains(name))
            {
                return $"{name} (PID {p.ProcessId}) is a critical system process.";
            }

            if (!force && SharedHosts.Contains(name))
            {
                return $"{name} (PID {p.ProcessId}) hosts other services; stop the service, or use -Force.";
            }

            return null;
        }

        /// <summary>This process and all its ancestors.</summary>
        public static HashSet<int> SelfAndParents(IProcessControl control)
        {
            var ids = new HashSet<int>();
            var byId = control.Snapshot().ToDictionary(p => p.ProcessId);
            int pid = CurrentProcessId;
            while (pid > 0 && ids.Add(pid) && byId.TryGetValue(pid, out var p))
            {
                pid = p.ParentProcessId;
            }

            return ids;
        }

        public static int CurrentProcessId
        {
            get
            {
                using var self = Process.GetCurrentProcess();
                return self.Id;
            }
        }

        /// <summary>True when <paramref name="actual"/> is the process the finding saw (not a reused PID).</summary>
        public static bool SameStart(DateTime? expected, DateTime? actual) =>
            expected is null || actual is null || Math.Abs((expected.Value.ToUniversalTime() - actual.Value.ToUniversalTime()).TotalSeconds) < 1.0;
    }

    /// <summary>Linux: /proc for facts, kill(2) for control.</summary>
    internal sealed class LinuxProcessControl : IProcessControl
    {
        private readonly DateTime _boot = ReadBootTime();
        private readonly long _ticks = 100;

        public IReadOnlyList<ProcessIdentity> Snapshot()
        {
            var list = new List<ProcessIdentity>();
            foreach (var dir in Directory.EnumerateDirectories("/proc"))
            {
                if (int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out int pid) && Get(pid) is ProcessIdentity p)
                {
                    list.Add(p);
                }
            }

            return list;
        }

        public ProcessIdentity? Get(int processId)
        {
            string stat;
            try
            {
                stat = File.ReadAllText($"/proc/{processId}/stat");
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                return null;
            }

            int open = stat.IndexOf('(');
            int close = stat.LastIndexOf(')');
            if (open < 0 || close < open)
            {
                return null;
            }

            string[] fields = stat.Substring(close + 2).Split(' ');
            if (fields.Length < 20)
            {
                return null;
            }

            string? image = null;
            try
            {
                image = RemediationFileSystem.ReadLink($"/proc/{processId}/exe");
            }
            catch (IOException)
            {
            }

            int ppid = int.Parse(fields[1], CultureInfo.InvariantCulture);
            long start = long.Parse(fields[19], CultureInfo.InvariantCulture);
            long flags = long.Parse(fields[6], CultureInfo.InvariantCulture);
            return new ProcessIdentity
            {
                ProcessId = processId,
                ParentProcessId = ppid,
                Name = stat.Substring(open + 1, close - open - 1),
                ImagePath = image,
                StartTimeUtc = _boot.AddTicks(start * TimeSpan.TicksPerSecond / _ticks),
                IsKernelThread = (flags & 0x00200000) != 0 /* PF_KTHREAD */ || ppid == 2,
                IsZombie = fields[0] == "Z" || fields[0] == "X",
            };
        }

        public bool Suspend(int processId) => kill(processId, 19 /* SIGSTOP */) == 0;

        public void Kill(int processId)
        {
            if (kill(processId, 9) != 0 && Marshal.GetLastWin32Error() != 3 /* ESRCH */)
            {
                throw new InvalidOperationException($"kill {processId} failed (errno {Marshal.GetLastWin32Error()}).");
            }
        }

        private static DateTime ReadBootTime()
        {
            foreach (var line in File.ReadLines("/proc/stat"))
            {
                if (line.StartsWith("btime ", StringComparison.Ordinal))
                {
                    return DateTimeOffset.FromUnixTimeSeconds(long.Parse(line.Substring(6).Trim(), CultureInfo.InvariantCulture)).UtcDateTime;
                }
            }

            return new DateTime(1970, 1, 1, 0, 0, 0, DateTimeKind.Utc);
        }

        [DllImport("libc", SetLastError = true)]
        private static extern int kill(int pid, int signal);
    }

    /// <summary>Windows: System.Diagnostics.Process, parents through NtQueryInformationProcess.</summary>
    internal sealed class WindowsProcessControl : IProcessControl
    {
        public IReadOnlyList<ProcessIdentity> Snapshot() =>
            Process.GetProcesses().Select(p => { using (p) { return Describe(p); } }).ToList();

        public ProcessIdentity? Get(int processId)
        {
            try
            {
                using var p = Process.GetProcessById(processId);
                return Describe(p);
            }
            catch (ArgumentException)
            {
                return null;
            }
        }

        public bool Suspend(int processId) => false;

        public void Kill(int processId)
        {
            using var p = Process.GetProcessById(processId);
            p.Kill();
            p.WaitForExit(5000);
        }

        private static ProcessIdentity Describe(Process p)
        {
            var id = new ProcessIdentity { ProcessId = p.Id, Name = p.ProcessName };
            try
            {
                id.StartTimeUtc = p.StartTime.ToUniversalTime();
                id.ImagePath = p.MainModule?.FileName;
                var info = new ProcessBasicInformation();
                if (NtQueryInformationProcess(p.Handle, 0, ref info, Marshal.SizeOf<ProcessBasicInformation>(), out _) == 0)
                {
                    id.ParentProcessId = (int)info.InheritedFromUniqueProcessId;
                }
            }
            catch (Exception e) when (e is InvalidOperationException or System.ComponentModel.Win32Exception or NotSupportedException)
            {
                // Protected processes hide their image and handle; the name and PID still identify them for the guard.
            }

            return id;
        }

        [StructLayout(LayoutKind.Sequential)]
        private struct ProcessBasicInformation
        {
            public IntPtr ExitStatus;
            public IntPtr PebBaseAddress;
            public IntPtr AffinityMask;
            public IntPtr BasePriority;
            public IntPtr UniqueProcessId;
            public IntPtr InheritedFromUniqueProcessId;
        }

        [DllImport("ntdll.dll")]
        private static extern int NtQueryInformationProcess(IntPtr process, int infoClass, ref ProcessBasicInformation info, int size, out int returned);
    }
}
