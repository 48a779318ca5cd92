using System;
using System.Collections.Generic;
using FluxForensics.Model;

namespace FluxForensics.Formats
{
    /// <summary>LinkFlags of the ShellLinkHeader (MS-SHLLINK 2.1.1).</summary>
    [Flags]
    public enum ShellLinkFlags : uint
    {
        None = 0,
        HasLinkTargetIdList = 0x1,
        HasLinkInfo = 0x2,
        HasName = 0x4,
        HasRelativePath = 0x8,
        HasWorkingDir = 0x10,
        HasArguments = 0x20,
        HasIconLocation = 0x40,
        IsUnicode = 0x80,
        ForceNoLinkInfo = 0x100,
        HasExpString = 0x200,
        RunInSeparateProcess = 0x400,
        HasDarwinId = 0x1000,
        RunAsUser = 0x2000,
        HasExpIcon = 0x4000,
        NoPidlAlias = 0x8000,
        RunWithShimLayer = 0x20000,
        ForceNoLinkTrack = 0x40000,
        EnableTargetMetadata = 0x80000,
        DisableLinkPathTracking = 0x100000,
        DisableKnownFolderTracking = 0x200000,
        DisableKnownFolderAlias = 0x400000,
        AllowLinkToLink = 0x800000,
        UnaliasOnSave = 0x1000000,
        PreferEnvironmentPath = 0x2000000,
        KeepLocalIdListForUncTarget = 0x4000000,
    }

    /// <summary>Which structure of the shortcut <see cref="ShellLink.TargetPath"/> came from.</summary>
    public enum ShellLinkTargetSource
    {
        None,
        LinkInfo,
        IdList,
        EnvironmentVariables,
        RelativePath,
    }

    /// <summary>One item of the LinkTargetIDList, as far as it could be understood.</summary>
    public sealed class ShellItem
    {
        internal ShellItem(long offset, byte classType, string kind, string? name, Guid? identifier)
        {
            Offset = offset;
            ClassType = classType;
            Kind = kind;
            Name = name;
            Identifier = identifier;
        }

        /// <summary>Offset of the item in the shortcut file.</summary>
        public long Offset { get; }

        /// <summary>The class type indicator byte.</summary>
        public byte ClassType { get; }

        /// <summary>Root, Volume, Directory, File, Network, or Unknown.</summary>
        public string Kind { get; }

        /// <summary>The item's display name: the long name of a file entry when it has one, else the 8.3 name;
        /// the drive (<c>C:\</c>) of a volume; the share of a network item.</summary>
        public string? Name { get; internal set; }

        /// <summary>The 8.3 primary name of a file entry.</summary>
        public string? ShortName { get; internal set; }

        /// <summary>The CLSID of a root or volume item.</summary>
        public Guid? Identifier { get; }

        public override string ToString() => $"{Kind} {Name ?? Identifier?.ToString() ?? string.Empty}";
    }

    /// <summary>One property of a serialized property store (only string and integer values are decoded).</summary>
    public sealed class ShellLinkProperty
    {
        internal ShellLinkProperty(Guid formatId, uint id, string? name, object? value)
        {
            FormatId = formatId;
            Id = id;
            Name = name;
            Value = value;
        }

        public Guid FormatId { get; }
        public uint Id { get; }
        public string? Name { get; }
        public object? Value { get; }

        public override string ToString() => $"{{{FormatId}}} {(Name ?? Id.ToString())} = {Value}";
    }

    /// <summary>
    /// A parsed Shell Link (.lnk) file. Every string is as stored; <see cref="TargetPath"/> is the best target the file
    /// states, from whichever structure holds it. <see cref="Issues"/> lists what was damaged or not trusted.
    /// </summary>
    public sealed class ShellLink
    {
        internal ShellLink(string source) => Source = source;

        public string Source { get; }

        /// <summary>False when the header is not a Shell Link header; nothing else is then read.</summary>
        public bool IsValid { get; internal set; }

        public int Size { get; internal set; }

        public ShellLinkFlags Flags { get; internal set; }

        /// <summary>FILE_ATTRIBUTE_* of the target when the link was made.</summary>
        public uint TargetAttributes { get; internal set; }

        public DateTime? TargetCreationTime { get; internal set; }
        public DateTime? TargetAccessTime { get; internal set; }
        public DateTime? TargetWriteTime { get; internal set; }
        public uint TargetFileSize { get; internal set; }
        public int IconIndex { get; internal set; }

        /// <summary>SW_* value: 1 normal, 3 maximized, 7 minimized without activation.</summary>
        public uint ShowCommand { get; internal set; }
        public ushort HotKey { get; internal set; }

        /// <summary>The target as the shortcut will run it (see <see cref="TargetSource"/>), or null when the file states none.</summary>
        public string? TargetPath { get; internal set; }
        public ShellLinkTargetSource TargetSource { get; internal set; }

        // LinkTargetIDList
        public IReadOnlyList<ShellItem> IdListItems { get; internal set; } = Array.Empty<ShellItem>();

        /// <summary>The path the ID list resolves to, or null when it contains an item that has no file system path.</summary>
        public string? IdListPath { get; internal set; }

        // LinkInfo
        public string? LocalBasePath { get; internal set; }
        public string? CommonPathSuffix { get; internal set; }
        public string? NetworkName { get; internal set; }
        public string? DeviceName { get; internal set; }
        public uint? NetworkProviderType { get; internal set; }

        /// <summary>DRIVE_* type of the volume the target was on (2 removable, 3 fixed, 4 remote, 5 CD-ROM).</summary>
        public uint? DriveType { get; internal set; }
        public uint? DriveSerialNumber { get; internal set; }
        public string? VolumeLabel { get; internal set; }

        /// <summary>LocalBasePath + CommonPathSuffix, or NetName\CommonPathSuffix.</summary>
        public string? LinkInfoPath { get; internal set; }

        // StringData
        /// <summary>NAME_STRING: the description.</summary>
        public string? Name { get; internal set; }
        public string? RelativePath { get; internal set; }
        public string? WorkingDirectory { get; internal set; }
        public string? Arguments { get; internal set; }
        public string? IconLocation { get; internal set; }

        // ExtraData
        public string? EnvironmentTarget { get; internal set; }
        public string? IconEnvironmentTarget { get; internal set; }
        public string? DarwinData { get; internal set; }
        public string? ShimLayerName { get; internal set; }
        public string? MachineId { get; internal set; }
        public Guid? DroidVolumeId { get; internal set; }
        public Guid? DroidFileId { get; internal set; }
        public Guid? BirthDroidVolumeId { get; internal set; }
        public Guid? BirthDroidFileId { get; internal set; }

        /// <summary>The MAC address in the tracker's file droid (a version 1 UUID), e.g. <c>00:1d:09:fa:5a:1c</c>.</summary>
        public string? TrackerMacAddress { get; internal set; }
        public Guid? KnownFolderId { get; internal set; }
        public uint? SpecialFolderId { get; internal set; }
        public bool HasConsoleBlock { get; internal set; }
        public string? ConsoleFaceName { get; internal set; }
        public uint? ConsoleCodePage { get; internal set; }
        public IReadOnlyList<ShellLinkProperty> Properties { get; internal set; } = Array.Empty<ShellLinkProperty>();

        /// <summary>Signatures of every extra data block, in file order (unknown ones included, skipped).</summary>
        public IReadOnlyList<uint> ExtraDataSignatures { get; internal set; } = Array.Empty<uint>();

        /// <summary>Fields whose stored string was longer than the format or Windows allows: flagged, never used as the target.</summary>
        public IReadOnlyList<string> OverlongFields { get; internal set; } = Array.Empty<string>();

        public IReadOnlyList<ParseIssue> Issues { get; internal set; } = Array.Empty<ParseIssue>();

        public bool HasIssues => Issues.Count > 0;

        public override string ToString() => $"{Source}: {TargetPath} {Arguments}".TrimEnd();
    }
}
