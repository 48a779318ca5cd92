using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Security.Cryptography;
using System.Threading;
using FluxForensics.Formats;
using FluxForensics.Model;

namespace FluxForensics.Host
{
    /// <summary>Reading on the drive: the volume label, capped file reads, and names resolved ignoring case as Windows would.</summary>
    public sealed partial class UsbDriveReader
    {
        /// <summary>The volume label of a drive root: from Windows, or on Linux read from the mounted device or image itself
        /// (FAT or NTFS); null for a folder that is not a mount point, or when the volume cannot be read.</summary>
        private string? VolumeLabelOf(string root)
        {
            if (!System.Runtime.InteropServices.RuntimeInformation.IsOSPlatform(System.Runtime.InteropServices.OSPlatform.Windows))
            {
                return _rootWasMountPoint ? LinuxVolumeLabel(root) : null;
            }

            try
            {
                string full = Path.GetFullPath(root);
                if (!string.Equals(Path.GetPathRoot(full), full, StringComparison.OrdinalIgnoreCase))
                {
                    return null;
                }

                string label = new DriveInfo(full).VolumeLabel;
                return string.IsNullOrEmpty(label) ? null : label;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
            {
                _reporter.Verbose($"volume label of '{root}' not read: {e.Message}");
                return null;
            }
        }

        private string? LinuxVolumeLabel(string root)
        {
            string? source = null;
            try
            {
                string full = Path.GetFullPath(root).TrimEnd('/');
                foreach (var mount in RemovableDrives.ParseMountInfo(File.ReadAllText("/proc/self/mountinfo")))
                {
                    if (string.Equals(mount.MountPoint.TrimEnd('/'), full, StringComparison.Ordinal))
                    {
                        source = mount.Source;
                    }
                }

                if (source is null || !source.StartsWith("/", StringComparison.Ordinal) || !File.Exists(source))
                {
                    return null;
                }

                using var stream = new FileStream(source, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 4096);
                var boot = ReadAt(stream, 0, VolumeLabelReader.BootSectorSize);
                if (boot is null)
                {
                    return null;
                }

                if (!VolumeLabelReader.IsNtfs(boot))
                {
                    return VolumeLabelReader.FatLabel(boot);
                }

                var issues = new List<ParseIssue>();
                var geometry = VolumeLabelReader.ParseNtfsBootSector(boot, source, issues);
                byte[]? record = geometry is NtfsGeometry g ? ReadAt(stream, g.RecordOffset(VolumeLabelReader.VolumeRecord), g.RecordSize) : null;
                string? label = record is null ? null : VolumeLabelReader.NtfsVolumeName(record, source, geometry!.Value.RecordOffset(VolumeLabelReader.VolumeRecord), issues);
                foreach (var issue in issues)
                {
                    _reporter.Issue(issue);
                }

                return label;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException)
            {
                // Unprivileged, the device is not readable: the label is simply not known.
                _reporter.Verbose($"volume label of '{root}' not read from '{source}': {e.Message}");
                return null;
            }
        }

        private static byte[]? ReadAt(Stream stream, long offset, int count)
        {
            if (offset < 0 || (stream.CanSeek && stream.Length > 0 && offset + count > stream.Length))
            {
                return null;
            }

            stream.Position = offset;
            var buffer = new byte[count];
            int total = 0;
            while (total < count)
            {
                int read = stream.Read(buffer, total, count - total);
                if (read == 0)
                {
                    return null;
                }

                total += read;
            }

            return buffer;
        }

        /// <summary>At most <paramref name="cap"/> bytes of a file; null, with a per-item error, when it cannot be read.</summary>
        private byte[]? ReadCapped(string path, int cap, string errorId, string what = "")
        {
            try
            {
                using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 4096, FileOptions.SequentialScan);
                var buffer = new byte[(int)Math.Min(stream.Length, cap)];
                int total = 0;
                while (total < buffer.Length)
                {
                    int read = stream.Read(buffer, total, buffer.Length - total);
                    if (read == 0)
                    {
                        break;
                    }

                    total += read;
                }

                return total == buffer.Length ? buffer : buffer.AsSpan(0, total).ToArray();
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                _reporter.Error(new FluxError(errorId, e is UnauthorizedAccessException ? FluxErrorCategory.PermissionDenied : FluxErrorCategory.ReadError, path,
                    $"Cannot read {what}'{path}': {e.Message}", e));
                return null;
            }
        }

        private byte[]? ReadShortcut(string path) => ReadCapped(path, ShellLinkFile.MaxFileSize + 1, "ShortcutUnreadable", "shortcut ");

        /// <summary>Finds a path the drive names, component by component, ignoring case as Windows would: from the shortcut's
        /// folder, or from the drive root for <c>E:\x.exe</c> and <c>\x.exe</c>. <c>..</c> goes up but never above the root,
        /// as on Windows (<c>E:\..\x.exe</c> is <c>E:\x.exe</c>).</summary>
        private string? Resolve(string root, string directory, string reference)
        {
            var components = DriveCommandText.RelativeComponents(reference);
            if (components.Length == 0)
            {
                return null;
            }

            string current = DriveCommandText.IsFromRoot(reference) ? root : directory;
            foreach (var component in components)
            {
                if (component == "..")
                {
                    if (!SamePath(current, root) && Path.GetDirectoryName(Path.GetFullPath(current).TrimEnd('/', '\\')) is string parent)
                    {
                        current = parent;
                    }

                    continue;
                }

                string exact = Path.Combine(current, component);
                if (File.Exists(exact) || Directory.Exists(exact))
                {
                    current = exact;
                    continue;
                }

                string? match = null;
                try
                {
                    match = Directory.EnumerateFileSystemEntries(current)
                        .FirstOrDefault(p => string.Equals(Path.GetFileName(p), component, StringComparison.OrdinalIgnoreCase));
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    _reporter.Error(new FluxError("DirectoryUnreadable", e is UnauthorizedAccessException ? FluxErrorCategory.PermissionDenied : FluxErrorCategory.ReadError, current,
                        $"Cannot read '{current}' to find '{reference}': {e.Message}", e));
                    return null;
                }

                if (match is null)
                {
                    return null;
                }

                current = match;
            }

            return current;
        }

        private static UsbEntryFacts ReadEntry(string path, bool hash)
        {
            var facts = new UsbEntryFacts(path);
            if (!FileAttributeReader.TryRead(path, out var info, out string? error))
            {
                facts.Exists = File.Exists(path) || Directory.Exists(path);
                facts.Error = error;
                return facts;
            }

            facts.Exists = true;
            facts.Mechanism = info!.Mechanism;
            facts.RawAttributes = info.RawAttributes;
            facts.IsHidden = info.AttributesKnown || info.IsHidden ? info.IsHidden : null;
            facts.IsSystem = info.AttributesKnown ? info.IsSystem : null;
            try
            {
                facts.LastWriteTime = Directory.Exists(path) ? Directory.GetLastWriteTimeUtc(path) : File.GetLastWriteTimeUtc(path);
            }
            catch (Exception e) when (e is IOException || e is UnauthorizedAccessException)
            {
                facts.Error ??= $"last write time: {e.Message}";
            }
            if (hash && File.Exists(path))
            {
                try
                {
                    using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 81920, FileOptions.SequentialScan);
                    facts.Size = stream.Length;
                    var head = new byte[2];
                    facts.LooksLikeExecutable = stream.Read(head, 0, 2) == 2 && head[0] == (byte)'M' && head[1] == (byte)'Z';
                    if (stream.Length <= MaxHashedPayload)
                    {
                        stream.Position = 0;
                        using var sha = SHA256.Create();
                        facts.Sha256 = FluxForensics.Hex.Lower(sha.ComputeHash(stream));
                    }
                    else
                    {
                        facts.Error = $"larger than {MaxHashedPayload} bytes, not hashed";
                    }
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    facts.Error = e.Message;
                }

                if (facts.LooksLikeExecutable && facts.Sha256 is not null)
                {
                    var file = FileFactsReader.Read(path);
                    facts.SignatureStatus = file.SignatureStatus;
                    facts.Signer = file.SignerSubject;
                }
            }

            return facts;
        }
    }
}
