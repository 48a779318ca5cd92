using System;

namespace FluxForensics.Model
{
    /// <summary>One cleanup action taken (or planned, with -WhatIf) by Remove-FluxInfection or Restore-FluxQuarantine.</summary>
    public sealed class FluxRemediation
    {
        public string ComputerName { get; internal set; } = LocalComputer.Name;

        /// <summary>StopProcess, RemoveAutorun, QuarantineFile, ClearAttributes, Verify, Restore …</summary>
        public string Action { get; internal set; } = string.Empty;
        public string Target { get; internal set; } = string.Empty;

        /// <summary>Done, Skipped, Failed, WhatIf, Reappeared, Restored.</summary>
        public string Status { get; internal set; } = string.Empty;
        public string? QuarantineId { get; internal set; }
        public string? Detail { get; internal set; }
        public DateTime Time { get; internal set; } = DateTime.UtcNow;
    }

    /// <summary>One item held in the quarantine store.</summary>
    public sealed class FluxQuarantineItem
    {
        public string ComputerName { get; internal set; } = LocalComputer.Name;
        public string QuarantineId { get; internal set; } = string.Empty;
        public string RunId { get; internal set; } = string.Empty;
        public string Kind { get; internal set; } = string.Empty;
        public string OriginalPath { get; internal set; } = string.Empty;
        public long Size { get; internal set; }
        public string? Sha256 { get; internal set; }
        public DateTime QuarantinedAt { get; internal set; }
        public string? QuarantinedBy { get; internal set; }
        public string State { get; internal set; } = string.Empty;
        public string? StorePath { get; internal set; }

        /// <summary>What was done: QuarantineFile, RemoveAutorun, ClearAttributes, StopProcess.</summary>
        public string Action { get; internal set; } = string.Empty;

        /// <summary>The finding that caused it.</summary>
        public string? Finding { get; internal set; }
        public string? Detail { get; internal set; }

        /// <summary>Unix mode (octal) the file had, to be put back.</summary>
        public string? Mode { get; internal set; }

        /// <summary>uid:gid the file had.</summary>
        public string? Owner { get; internal set; }

        /// <summary>Raw FILE_ATTRIBUTE_* (Hidden/System …) the file or folder had.</summary>
        public string? Attributes { get; internal set; }

        /// <summary>The cron/profile line, registry data or link target that was removed.</summary>
        public string? RemovedText { get; internal set; }
    }
}
