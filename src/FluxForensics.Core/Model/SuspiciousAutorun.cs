using System;

namespace FluxForensics.Model
{
    /// <summary>A persistence entry (Run value, task, service, cron line, unit …), scored.</summary>
    public sealed class SuspiciousAutorun : FileFinding
    {
        /// <summary>Where the entry lives, e.g. <c>HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Run</c> or a file path.</summary>
        public string Location { get; internal set; } = string.Empty;
        public string Name { get; internal set; } = string.Empty;
        public string Command { get; internal set; } = string.Empty;
        public string? ImagePath { get; internal set; }
        public bool ImageExists { get; internal set; }

        /// <summary>Machine, or the user the entry belongs to.</summary>
        public string Scope { get; internal set; } = "Machine";
        public DateTime? LastWriteTime { get; internal set; }
        public bool Enabled { get; internal set; } = true;

        /// <summary>What kind of entry: RegistryValue, ScheduledTask, Service, StartupFile, WmiEventConsumer, ComHijack,
        /// AppInitDll, ActiveSetup, BootExecute, CronLine, SystemdUnit, XdgAutostart, ProfileLine, RcScript, LdPreload …
        /// Remediation decides how to remove it from this.</summary>
        public string EntryType { get; internal set; } = string.Empty;

        /// <summary>The registry key path, or the file (task XML, unit, crontab, profile) holding the entry.</summary>
        public string? EntryPath { get; internal set; }

        /// <summary>The entry exactly as stored (value data, the cron/profile line, the unit file text), so it can be put back.</summary>
        public string? EntryText { get; internal set; }

        /// <summary>1-based line of the entry in <see cref="EntryPath"/> for line-based entries (cron, profiles, rc).</summary>
        public int? LineNumber { get; internal set; }

        /// <summary>The offline root (-Root) the entry was read from, or null for the live system.</summary>
        public string? Root { get; internal set; }

        /// <summary>The hive file a registry entry was read from offline (SOFTWARE, SYSTEM, a user's NTUSER.DAT); null for the live registry.</summary>
        public string? HivePath { get; internal set; }

        /// <summary>For registry entries, the key's path inside its hive (EntryPath without the HKLM\SOFTWARE, HKLM\SYSTEM or
        /// HKU\&lt;SID&gt; prefix), e.g. <c>Software\Microsoft\Windows\CurrentVersion\Run</c> of an NTUSER.DAT.</summary>
        public string? HiveKeyPath { get; internal set; }

        /// <summary>The arguments given to <see cref="ImagePath"/> (after launchers are unwrapped).</summary>
        public string? Arguments { get; internal set; }

        /// <summary>The outermost launcher the command passes through (cmd.exe, powershell.exe, rundll32.exe …), or null.</summary>
        public string? Launcher { get; internal set; }

        /// <summary>The script of a <c>powershell -EncodedCommand</c>, decoded.</summary>
        public string? DecodedCommand { get; internal set; }

        /// <summary>What else was seen with the target's SHA-256 (a listener image, a USB payload), or null.</summary>
        public string? CorrelatedWith { get; internal set; }

        /// <summary>The transaction log file(s) (e.g. <c>NTUSER.DAT.LOG1</c>) the entry was recovered from: the hive was
        /// dirty and the hive file alone does not hold this entry, so it was written shortly before the disk was imaged.
        /// Null when the hive file holds it or for the live registry.</summary>
        public string? RecoveredFromLog { get; internal set; }

        /// <summary>What the entry's kind adds: the filter (and its WQL query) that triggers a WMI consumer, the machine
        /// registration a COM hijack shadows; null for other kinds.</summary>
        public string? Detail { get; internal set; }
    }
}
