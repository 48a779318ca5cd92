using System;

namespace FluxForensics.Model
{
    /// <summary>A USB worm's trap: a .lnk named after a hidden folder that starts a payload, then opens the folder (and its
    /// relatives: Gamarue's one shortcut to a blank-named folder, script worms, a program posing as a folder, autorun.inf).
    /// <see cref="FileFinding.Path"/>, <see cref="FileFinding.Sha256"/> and <see cref="FileFinding.IsHidden"/> describe the payload.</summary>
    public sealed class UsbLnkTrap : FileFinding
    {
        /// <summary>The root that was scanned (drive root, mount point or folder given).</summary>
        public string DriveRoot { get; internal set; } = string.Empty;

        /// <summary>The file the user is meant to open: the .lnk, the program named after a folder, or autorun.inf.
        /// Remediation quarantines it.</summary>
        public string ShortcutPath { get; internal set; } = string.Empty;

        /// <summary>ShortcutLauncher (a shortcut runs cmd and a program from the drive, as click.exe), Gamarue (rundll32 and
        /// a blank-named hidden folder), ScriptWorm (wscript/cscript/mshta and a script), FolderProgram (<c>Docs.exe</c> beside
        /// a hidden <c>Docs</c>) or Autorun (autorun.inf).</summary>
        public string Family { get; internal set; } = "ShortcutLauncher";

        /// <summary>The label of the scanned volume when it could be read (Gamarue names its shortcut after it).</summary>
        public string? VolumeLabel { get; internal set; }

        /// <summary>FolderProgram: the other folder-named programs on the drive with exactly the same bytes.</summary>
        public string[] SameBytesAs { get; internal set; } = Array.Empty<string>();

        /// <summary>Autorun: the key of autorun.inf that starts the payload (open, shellexecute, shell\verb\command).</summary>
        public string? AutorunKey { get; internal set; }

        /// <summary>The folder the shortcut pretends to be (same name, next to it), or the folder its arguments open.</summary>
        public string? HiddenFolderPath { get; internal set; }

        /// <summary>Hidden attribute of that folder; null when the file system stores no DOS attributes (state unknown).</summary>
        public bool? HiddenFolderIsHidden { get; internal set; }

        /// <summary>System attribute of that folder; null when unknown.</summary>
        public bool? HiddenFolderIsSystem { get; internal set; }

        /// <summary>Raw FILE_ATTRIBUTE_* of the folder when read, so that cleanup can restore exactly what it changes.</summary>
        public uint? HiddenFolderAttributes { get; internal set; }

        /// <summary>How attributes were read: Windows, ntfs-3g xattr, FAT ioctl, dot-name.</summary>
        public string? AttributeMechanism { get; internal set; }

        /// <summary>The program the shortcut runs (from LinkInfo, the ID list or the environment block).</summary>
        public string? TargetPath { get; internal set; }

        /// <summary>Which structure of the shortcut held <see cref="TargetPath"/>.</summary>
        public string? TargetSource { get; internal set; }

        public string? Arguments { get; internal set; }
        public string? WorkingDirectory { get; internal set; }
        public string? IconLocation { get; internal set; }
        public int IconIndex { get; internal set; }

        /// <summary>NetBIOS name of the machine the shortcut was made on (tracker block).</summary>
        public string? MachineId { get; internal set; }

        /// <summary>MAC address in the tracker's file droid, when it is a version 1 UUID.</summary>
        public string? MachineMacAddress { get; internal set; }

        /// <summary>The executable the arguments start from the drive, as found on the drive.</summary>
        public string? PayloadPath { get; internal set; }
        public string? PayloadSha256 { get; internal set; }
        public long? PayloadSize { get; internal set; }

        /// <summary>Raw FILE_ATTRIBUTE_* of the payload when the file system stores them.</summary>
        public uint? PayloadAttributes { get; internal set; }

        /// <summary>When the payload was last written (UTC): when the worm put it on the stick, unless it was touched since.</summary>
        public DateTime? PayloadLastWriteTime { get; internal set; }

        /// <summary>When the shortcut file was last written (UTC).</summary>
        public DateTime? ShortcutLastWriteTime { get; internal set; }

        /// <summary>The payload as the arguments name it (e.g. <c>%cd%\click.exe</c>).</summary>
        public string? PayloadReference { get; internal set; }

        /// <summary>An autorun.inf in the same folder as the shortcut, if any.</summary>
        public string? AutorunInfPath { get; internal set; }

        /// <summary>What could not be read or trusted in the shortcut (parse issues, over-long fields).</summary>
        public string[] ShortcutIssues { get; internal set; } = Array.Empty<string>();
    }
}
