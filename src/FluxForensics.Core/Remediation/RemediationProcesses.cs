using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;
using FluxForensics.Host;
using FluxForensics.Model;

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

    /// <summary>
    /// Facts about processes come from Host's reader (the same parser Get-FluxListener uses decides which process a finding
    /// names and whether it may be stopped); this only turns them into identities and does the stopping.
    /// </summary>
    internal static class ProcessIdentities
    {
        public static ProcessIdentity? From(ProcessFacts facts)
        {
            if (facts.Exited)
            {
                return null;
            }

            return new ProcessIdentity
            {
                ProcessId = facts.ProcessId,
                ParentProcessId = facts.ParentProcessId ?? 0,
                Name = facts.Name ?? string.Empty,
                ImagePath = facts.ImagePath,
                StartTimeUtc = facts.StartTimeUtc,
                IsKernelThread = facts.IsKernelThread,
                IsZombie = facts.IsZombie,
            };
        }
    }

    /// <summary>Linux: Host's /proc reader for facts, kill(2) for control.</summary>
    internal sealed class LinuxProcessControl : IProcessControl
    {
        private readonly LinuxProcessReader _reader = new LinuxProcessReader("/proc");

        public IReadOnlyList<ProcessIdentity> Snapshot()
        {
            var list = new List<ProcessIdentity>();
            foreach (int pid in _reader.ProcessIds())
            {
                if (Get(pid) is ProcessIdentity p)
                {
                    list.Add(p);
                }
            }

            return list;
        }

        public ProcessIdentity? Get(int processId) => ProcessIdentities.From(_reader.Read(processId));

        public bool Suspend(int processId) => kill(processId, 19 /* SIGSTOP */) == 0;

        public void Kill(int processId)
        {
            if (kill(processId, 9) != 0 && Marshal.GetLastWin32Error() != 3 /* ESRCH */)
            {
                throw new InvalidOperationException($"kill {processId} failed (errno {Marshal.GetLastWin32Error()}).");
            }
        }

        [DllImport("libc", SetLastError = true)]
        private static extern int kill(int pid, int signal);
    }

    /// <summary>Windows: Host's Win32 reader for facts (a fresh process snapshot per call), Process.Kill for control.</summary>
    internal sealed class WindowsProcessControl : IProcessControl
    {
        public IReadOnlyList<ProcessIdentity> Snapshot()
        {
            var reader = new WindowsProcessReader();
            var list = new List<ProcessIdentity>();
            foreach (int pid in reader.ProcessIds())
            {
                if (ProcessIdentities.From(reader.Read(pid)) is ProcessIdentity p)
                {
                    list.Add(p);
                }
            }

            return list;
        }

        public ProcessIdentity? Get(int processId)
        {
            var reader = new WindowsProcessReader();
            return reader.ProcessIds().Contains(processId) ? ProcessIdentities.From(reader.Read(processId)) : null;
        }

        public bool Suspend(int processId) => false;

        public void Kill(int processId)
        {
            using var p = Process.GetProcessById(processId);
            p.Kill();
            p.WaitForExit(5000);
        }
    }
}
