using System;

namespace FluxForensics.Model
{
    /// <summary>How the sweep of one computer ended.</summary>
    public enum SweepStatus
    {
        /// <summary>Every check ran (some may have reported per-item errors, listed in Errors).</summary>
        Completed = 0,

        /// <summary>No remoting connection could be made (name unknown, no answer, refused, authentication failed).</summary>
        Unreachable = 1,

        /// <summary>Connected, but the sweep stopped with an error before it finished.</summary>
        Failed = 2,

        /// <summary>Connected, but the FluxForensics module (with Invoke-FluxSweep) is not installed there.</summary>
        ModuleMissing = 3,
    }

    /// <summary>
    /// One per computer swept: how it went, how long it took and what it found, by severity. Emitted as soon as that
    /// computer is done, after its findings.
    /// </summary>
    public sealed class FluxSweepResult
    {
        internal FluxSweepResult(string computerName)
        {
            ComputerName = computerName;
        }

        /// <summary>The name the sweep was given for the computer (the remote host's own name once it answered).</summary>
        public string ComputerName { get; internal set; }

        /// <summary>The name the computer gave itself (remote sweeps; null when it did not answer).</summary>
        public string? ReportedName { get; internal set; }

        public SweepStatus Status { get; internal set; }

        /// <summary>Wall time from the start of this computer's sweep (connection included) to its end.</summary>
        public TimeSpan Duration { get; internal set; }

        /// <summary>When this computer's sweep started, UTC.</summary>
        public DateTime StartedAt { get; internal set; }

        /// <summary><c>Local</c>, <c>WinRM</c>, <c>SSH</c> or <c>Session</c>.</summary>
        public string Transport { get; internal set; } = "Local";

        public int FindingCount { get; internal set; }
        public int InfoCount { get; internal set; }
        public int LowCount { get; internal set; }
        public int MediumCount { get; internal set; }
        public int HighCount { get; internal set; }
        public int CriticalCount { get; internal set; }

        /// <summary>The highest severity found; null when nothing was found.</summary>
        public Severity? MaxSeverity { get; internal set; }

        /// <summary>What went wrong, one line each ("check: message"); empty when nothing did.</summary>
        public string[] Errors { get; internal set; } = Array.Empty<string>();

        public override string ToString() => $"{ComputerName}: {Status}, {FindingCount} findings" + (MaxSeverity is { } max ? $" (max {max})" : string.Empty);
    }
}

namespace FluxForensics.Model
{
    /// <summary>A scheduled sweep as Register-FluxSweep set it up (or would, under -WhatIf).</summary>
    public sealed class FluxSweepSchedule
    {
        internal FluxSweepSchedule(string name, string scheduler)
        {
            Name = name;
            Scheduler = scheduler;
        }

        public string Name { get; }

        /// <summary><c>systemd</c> or <c>TaskScheduler</c>.</summary>
        public string Scheduler { get; }

        public TimeSpan Interval { get; internal set; }

        /// <summary>The PowerShell the schedule runs.</summary>
        public string Command { get; internal set; } = string.Empty;

        /// <summary>The program started (pwsh) and its arguments.</summary>
        public string Executable { get; internal set; } = string.Empty;

        public string[] Arguments { get; internal set; } = Array.Empty<string>();

        /// <summary>The unit files (systemd) or the task's path (\FluxForensics\&lt;name&gt;).</summary>
        public string[] Location { get; internal set; } = Array.Empty<string>();

        /// <summary>Whether the scheduler was told to start it (false when only the files could be written).</summary>
        public bool Enabled { get; internal set; }
    }
}
