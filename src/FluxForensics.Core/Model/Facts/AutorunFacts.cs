using System;
using System.Collections.Generic;

namespace FluxForensics.Model
{
    /// <summary>Entry types remediation knows how to remove and restore.</summary>
    public static class AutorunEntryType
    {
        public const string RegistryValue = "RegistryValue";
        public const string ScheduledTask = "ScheduledTask";
        public const string Service = "Service";
        public const string StartupFile = "StartupFile";
        public const string CronLine = "CronLine";
        public const string SystemdUnit = "SystemdUnit";
        public const string XdgAutostart = "XdgAutostart";
        public const string ProfileLine = "ProfileLine";
        public const string RcScript = "RcScript";
        public const string LdPreload = "LdPreload";

        /// <summary>A CommandLineEventConsumer or ActiveScriptEventConsumer in the WMI repository.</summary>
        public const string WmiEventConsumer = "WmiEventConsumer";

        /// <summary>A per-user CLSID InprocServer32/LocalServer32 that shadows the machine's registration.</summary>
        public const string ComHijack = "ComHijack";

        /// <summary>A DLL of AppInit_DLLs, loaded into every process that loads user32.dll.</summary>
        public const string AppInitDll = "AppInitDll";

        /// <summary>An Active Setup component's StubPath, run once for each user at logon.</summary>
        public const string ActiveSetup = "ActiveSetup";

        /// <summary>A native program of Session Manager's BootExecute beyond <c>autocheck autochk *</c>.</summary>
        public const string BootExecute = "BootExecute";
    }

    /// <summary>One persistence entry as a source read it: where it is, what it runs, nothing judged.</summary>
    public sealed class AutorunEntry
    {
        public string Location { get; set; } = string.Empty;
        public string Name { get; set; } = string.Empty;

        /// <summary>The command as the entry states it (unexpanded).</summary>
        public string Command { get; set; } = string.Empty;
        public string Scope { get; set; } = "Machine";
        public DateTime? LastWriteTime { get; set; }
        public bool Enabled { get; set; } = true;
        public string EntryType { get; set; } = string.Empty;
        public string? EntryPath { get; set; }
        public string? EntryText { get; set; }
        public int? LineNumber { get; set; }

        /// <summary>The offline hive file a registry entry came from.</summary>
        public string? HivePath { get; set; }

        /// <summary>The key's path inside its hive (no HKLM\SOFTWARE or HKU\&lt;SID&gt; prefix), for registry entries.</summary>
        public string? HiveKeyPath { get; set; }

        /// <summary>True when <see cref="Name"/> is a label someone chose (Run value, task, unit, shortcut), so that a
        /// name unrelated to the program is telling.</summary>
        public bool NameIsLabel { get; set; }

        /// <summary>Windows (cmd.exe rules) or POSIX shell syntax.</summary>
        public bool IsWindows { get; set; }

        /// <summary>The environment of the user the entry runs as, for %VAR% expansion.</summary>
        public IReadOnlyDictionary<string, string>? Variables { get; set; }

        /// <summary>A target already resolved by the source (a shortcut's target), instead of parsing <see cref="Command"/>.</summary>
        public string? ResolvedTarget { get; set; }

        /// <summary>The home directory of the entry's user, for ~ and $HOME (POSIX).</summary>
        public string? Home { get; set; }

        /// <summary>The transaction log(s) the entry was recovered from when the hive file alone does not hold it.</summary>
        public string? RecoveredFromLog { get; set; }

        /// <summary>What the entry's kind adds: the WMI filter that triggers a consumer, the machine registration a COM
        /// hijack shadows.</summary>
        public string? Detail { get; set; }

        /// <summary>For a WMI consumer: whether a binding connects it to a filter (it runs only then).</summary>
        public bool? IsBound { get; set; }

        public override string ToString() => $"{Location} {Name}: {Command}";
    }

    /// <summary>Everything the autorun rules look at, gathered by the sources beforehand. No I/O past this point.</summary>
    public sealed class AutorunFacts
    {
        public string Name { get; set; } = string.Empty;
        public string EntryType { get; set; } = string.Empty;

        /// <summary>True when the name is a label someone chose (a Run value, task, unit, shortcut).</summary>
        public bool NameIsLabel { get; set; }
        public bool IsWindows { get; set; }
        public bool Enabled { get; set; } = true;

        /// <summary>What finally runs, as the entry states it (after unwrapping launchers).</summary>
        public string? ImagePath { get; set; }
        public bool ImageExists { get; set; }
        public bool IsUrl { get; set; }
        public bool IsHidden { get; set; }
        public string? HiddenReason { get; set; }

        /// <summary>Why the target's place is user-writable or temporary, or null.</summary>
        public string? UserWritableReason { get; set; }
        public bool IsPe { get; set; }
        public bool HasVersionInfo { get; set; }
        public string? CompanyName { get; set; }
        public string? FileDescription { get; set; }
        public string? OriginalFilename { get; set; }
        public string? SignatureStatus { get; set; }

        /// <summary>The embedded signature's signer subject, and whether it was checked here to chain to a Microsoft root.</summary>
        public string? Signer { get; set; }
        public bool ChainsToMicrosoftRoot { get; set; }

        /// <summary>The launchers passed through (cmd.exe, powershell.exe, rundll32.exe …), outermost first.</summary>
        public IReadOnlyList<string> Launchers { get; set; } = Array.Empty<string>();

        /// <summary>When the entry (key, file) or the target was last written, whichever is later.</summary>
        public DateTime? LastWritten { get; set; }

        /// <summary>What else was seen running the same SHA-256 (a listener image, a USB payload), or null.</summary>
        public string? CorrelatedWith { get; set; }

        /// <summary>The transaction log(s) the entry exists in while the hive file does not hold it yet, or null.</summary>
        public string? RecoveredFromLog { get; set; }

        /// <summary>What the entry's kind adds (the WMI filter, the machine registration a COM hijack shadows).</summary>
        public string? Detail { get; set; }

        /// <summary>For a WMI consumer: whether a binding connects it to a filter.</summary>
        public bool? IsBound { get; set; }

        /// <summary>For a WMI ActiveScriptEventConsumer: the script runs inline (no file on disk holds it).</summary>
        public bool IsInlineScript { get; set; }
        public DateTime Now { get; set; } = DateTime.UtcNow;
    }

    /// <summary>One persistence entry with what its target turned out to be: the command followed through its launchers,
    /// the file found where the entry points (in the analysed system), and that file's facts. Read by the sources; judged
    /// by the autorun rules.</summary>
    public sealed class ObservedAutorun
    {
        public ObservedAutorun(AutorunEntry entry) => Entry = entry;

        public AutorunEntry Entry { get; }

        /// <summary>The offline root analysed, or null for the live system.</summary>
        public string? Root { get; set; }
        public bool IsWindows { get; set; }

        /// <summary>What finally runs, as the entry states it (after unwrapping launchers and searching the path).</summary>
        public string? ImagePath { get; set; }
        public bool IsUrl { get; set; }

        /// <summary>Where <see cref="ImagePath"/> can be opened here (below the root when offline), or null.</summary>
        public string? LocalPath { get; set; }

        /// <summary>The facts of the target file, or null when it has no local path.</summary>
        public FileFacts? File { get; set; }

        /// <summary>Hidden as seen inside the analysed system (a dot-name of the root's own path does not count).</summary>
        public bool IsHidden { get; set; }
        public string? HiddenReason { get; set; }

        /// <summary>Why the target's place is user-writable or temporary, or null.</summary>
        public string? UserWritableReason { get; set; }

        public string FinalArguments { get; set; } = string.Empty;

        /// <summary>The launchers passed through, outermost first.</summary>
        public IReadOnlyList<string> Launchers { get; set; } = Array.Empty<string>();

        /// <summary>The script of a <c>-EncodedCommand</c>, decoded.</summary>
        public string? DecodedCommand { get; set; }
    }
}
