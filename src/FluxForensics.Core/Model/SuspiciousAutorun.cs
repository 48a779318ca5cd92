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
    }
}
