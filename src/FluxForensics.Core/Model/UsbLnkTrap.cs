namespace FluxForensics.Model
{
    /// <summary>A shortcut-virus trap: a .lnk named after a hidden folder that starts a payload, then opens the folder.
    /// <see cref="FileFinding.Path"/> and <see cref="FileFinding.Sha256"/> describe the payload.</summary>
    public sealed class UsbLnkTrap : FileFinding
    {
        public string DriveRoot { get; internal set; } = string.Empty;
        public string ShortcutPath { get; internal set; } = string.Empty;
        public string? HiddenFolderPath { get; internal set; }
        public string? TargetPath { get; internal set; }
        public string? Arguments { get; internal set; }
        public string? PayloadPath { get; internal set; }
        public string? PayloadSha256 { get; internal set; }
    }
}
