using System;
using System.Collections.Generic;
using FluxForensics.Formats;

namespace FluxForensics.Model
{
    /// <summary>One thing on a drive the USB rules judge: a shortcut, a program named after a folder, an autorun.inf
    /// command, with the facts about its neighbours.</summary>
    public abstract class UsbDriveFacts
    {
        protected UsbDriveFacts(string driveRoot) => DriveRoot = driveRoot;

        /// <summary>The root the scan started from (the drive).</summary>
        public string DriveRoot { get; }
    }

    /// <summary>What the scanner learnt about one file or folder on the drive (no judgement).</summary>
    public sealed class UsbEntryFacts
    {
        public UsbEntryFacts(string path) => Path = path;

        public string Path { get; }
        public bool Exists { get; set; }

        /// <summary>Null when the file system stores no DOS attributes and the name has no leading dot (state unknown).</summary>
        public bool? IsHidden { get; set; }
        public bool? IsSystem { get; set; }
        public uint? RawAttributes { get; set; }
        public string? Mechanism { get; set; }
        public string? Sha256 { get; set; }
        public long? Size { get; set; }
        public bool LooksLikeExecutable { get; set; }

        /// <summary>When the file or folder was last written (UTC), for the incident's timeline.</summary>
        public DateTime? LastWriteTime { get; set; }
        /// <summary>For an executable: its signature status and signer (<see cref="Model.FileFacts"/>), else null.</summary>
        public string? SignatureStatus { get; set; }
        public string? Signer { get; set; }

        /// <summary>Why a fact is missing (read error), if it is.</summary>
        public string? Error { get; set; }
    }

    /// <summary>Everything the rules need about one shortcut: the parsed link and facts about its neighbours.</summary>
    public sealed class UsbShortcutFacts : UsbDriveFacts
    {
        public UsbShortcutFacts(string driveRoot, string shortcutPath, ShellLink link)
            : base(driveRoot)
        {
            ShortcutPath = shortcutPath;
            Link = link;
        }

        public string ShortcutPath { get; }
        public ShellLink Link { get; }

        /// <summary>A folder next to the shortcut with the shortcut's name (without .lnk).</summary>
        public UsbEntryFacts? SameNameFolder { get; set; }

        /// <summary>The folder the arguments open, when it is not <see cref="SameNameFolder"/>.</summary>
        public UsbEntryFacts? OpenedFolder { get; set; }

        /// <summary>The payload the arguments start, resolved on the drive.</summary>
        public UsbEntryFacts? Payload { get; set; }
        public string? PayloadReference { get; set; }
        public string? AutorunInfPath { get; set; }

        /// <summary>When the shortcut file was last written (UTC).</summary>
        public DateTime? ShortcutLastWriteTime { get; set; }

        /// <summary>A hidden folder in the same directory whose name looks blank (U+00A0 …): where Gamarue moves the drive's content.</summary>
        public UsbEntryFacts? BlankFolder { get; set; }

        /// <summary>The label of the volume, when the platform tells it (Gamarue names its one shortcut after it).</summary>
        public string? VolumeLabel { get; set; }
    }

    /// <summary>A program named after a folder next to it (<c>Docs.exe</c> beside <c>Docs</c>): a folder-icon EXE worm's copy.</summary>
    public sealed class UsbFolderProgramFacts : UsbDriveFacts
    {
        public UsbFolderProgramFacts(string driveRoot, UsbEntryFacts program, UsbEntryFacts folder)
            : base(driveRoot)
        {
            Program = program;
            Folder = folder;
        }

        public UsbEntryFacts Program { get; }
        public UsbEntryFacts Folder { get; }

        /// <summary>Other programs named after their folders on the drive with exactly the same bytes.</summary>
        public IReadOnlyList<string> Twins { get; set; } = Array.Empty<string>();
    }

    /// <summary>The commands of an autorun.inf (<c>open=</c>, <c>shellexecute=</c>, <c>shell\verb\command=</c>) that start one
    /// file, and that file.</summary>
    public sealed class UsbAutorunFacts : UsbDriveFacts
    {
        public UsbAutorunFacts(string driveRoot, string autorunPath, IReadOnlyList<AutorunCommand> commands)
            : base(driveRoot)
        {
            AutorunPath = autorunPath;
            Commands = commands;
        }

        public string AutorunPath { get; }
        public IReadOnlyList<AutorunCommand> Commands { get; }
        public UsbEntryFacts? AutorunFile { get; set; }
        public UsbEntryFacts? Payload { get; set; }
        public string? PayloadReference { get; set; }
    }
}
