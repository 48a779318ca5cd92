using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;
using System.Text;

namespace FluxForensics.Host
{
    /// <summary>A mounted removable drive: where it is mounted and what backs it.</summary>
    public sealed class RemovableDrive
    {
        public RemovableDrive(string root, string device, string fileSystem)
        {
            Root = root;
            Device = device;
            FileSystem = fileSystem;
        }

        /// <summary>Drive root (<c>E:\</c>) or mount point (<c>/media/usb</c>).</summary>
        public string Root { get; }

        /// <summary>The drive letter's volume on Windows, the block device (<c>/dev/sdb1</c>) on Linux.</summary>
        public string Device { get; }
        public string FileSystem { get; }

        public override string ToString() => $"{Root} ({Device}, {FileSystem})";
    }

    /// <summary>
    /// Every mounted removable drive. Windows: drives of type Removable that are ready. Linux: mounts of block devices
    /// whose disk is marked removable in sysfs (<c>/sys/block/&lt;disk&gt;/removable</c> is 1).
    /// </summary>
    public static class RemovableDrives
    {
        /// <summary>The mounted removable drives; what could not be read to decide that is said to <paramref name="reporter"/>.</summary>
        public static IReadOnlyList<RemovableDrive> Enumerate(IFluxReporter? reporter = null)
        {
            reporter ??= NullReporter.Instance;
            if (RuntimeInformation.IsOSPlatform(OSPlatform.Windows))
            {
                return EnumerateWindows();
            }

            if (RuntimeInformation.IsOSPlatform(OSPlatform.Linux))
            {
                string mountInfo;
                try
                {
                    mountInfo = File.ReadAllText("/proc/self/mountinfo");
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    reporter.Warning($"Cannot read /proc/self/mountinfo ({e.Message}): the mounted removable drives cannot be listed.");
                    return Array.Empty<RemovableDrive>();
                }

                return FromMountInfo(mountInfo, "/sys", reporter);
            }

            return Array.Empty<RemovableDrive>();
        }

        private static IReadOnlyList<RemovableDrive> EnumerateWindows()
        {
            var drives = new List<RemovableDrive>();
            foreach (var drive in DriveInfo.GetDrives())
            {
                try
                {
                    if (drive.DriveType == DriveType.Removable && drive.IsReady)
                    {
                        drives.Add(new RemovableDrive(drive.RootDirectory.FullName, drive.Name, drive.DriveFormat));
                    }
                }
                catch (IOException)
                {
                    // Removed between listing and asking: it is not mounted any more.
                }
            }

            return drives;
        }

        /// <summary>The removable mounts in a <c>/proc/self/mountinfo</c> text, judged against a sysfs tree at <paramref name="sysRoot"/>.</summary>
        public static IReadOnlyList<RemovableDrive> FromMountInfo(string mountInfo, string sysRoot, IFluxReporter? reporter = null)
        {
            var drives = new List<RemovableDrive>();
            foreach (var mount in ParseMountInfo(mountInfo))
            {
                if (!mount.Source.StartsWith("/dev/", StringComparison.Ordinal))
                {
                    continue;
                }

                string device = mount.Source;
                string name = ResolveDeviceName(device);
                if (IsRemovableBlockDevice(name, sysRoot, reporter))
                {
                    drives.Add(new RemovableDrive(mount.MountPoint, device, mount.FileSystem));
                }
            }

            return drives;
        }

        /// <summary>One line of mountinfo: mount point, file system type and source, octal escapes decoded.</summary>
        public static IEnumerable<(string MountPoint, string FileSystem, string Source)> ParseMountInfo(string text)
        {
            foreach (var line in text.Split('\n'))
            {
                // id parent major:minor root mountpoint options [optional fields...] - fstype source superoptions
                var fields = line.Split(' ');
                int separator = Array.IndexOf(fields, "-");
                if (fields.Length < 7 || separator < 6 || separator + 2 >= fields.Length)
                {
                    continue;
                }

                yield return (Unescape(fields[4]), Unescape(fields[separator + 1]), Unescape(fields[separator + 2]));
            }
        }

        /// <summary>Whether the disk of block device <paramref name="name"/> (e.g. <c>sdb1</c>) is marked removable.</summary>
        public static bool IsRemovableBlockDevice(string name, string sysRoot, IFluxReporter? reporter = null)
        {
            if (name.Length == 0 || name.Contains("/") || name == "." || name == "..")
            {
                return false;
            }

            // A partition's sysfs directory sits inside its disk's; the disk holds the removable flag.
            foreach (var candidate in new[] { Path.Combine(sysRoot, "class", "block", name), Path.Combine(sysRoot, "block", name) })
            {
                try
                {
                    var dir = new DirectoryInfo(candidate);
                    if (!dir.Exists)
                    {
                        continue;
                    }

                    string own = Path.Combine(candidate, "removable");
                    if (File.Exists(own))
                    {
                        return File.ReadAllText(own).Trim() == "1";
                    }

                    if (File.Exists(Path.Combine(candidate, "partition")))
                    {
                        // sysfs entries are symbolic links: the disk is the parent of the link's real target,
                        // which a lexical "..", as .NET applies it, would miss.
                        string real = RealPath(candidate);
                        string parent = Path.Combine(Path.GetDirectoryName(real) ?? real, "removable");
                        return File.Exists(parent) && File.ReadAllText(parent).Trim() == "1";
                    }
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    reporter?.Warning($"Cannot read whether '{name}' is removable from '{candidate}' ({e.Message}): it is not listed as a removable drive.");
                    return false;
                }
            }

            return false;
        }

        private static string RealPath(string path)
        {
#if NET8_0_OR_GREATER
            try
            {
                var info = new DirectoryInfo(path);
                if (info.LinkTarget is not null)
                {
                    return info.ResolveLinkTarget(true)?.FullName ?? path;
                }
            }
            catch (IOException)
            {
                // A link that cannot be followed is judged by its own path: the removable flag is then looked up there.
            }
#endif
            return path;
        }

        private static string ResolveDeviceName(string device)
        {
            // /dev/disk/by-label/X and similar are symlinks to the real node.
            try
            {
#if NET8_0_OR_GREATER
                var info = new FileInfo(device);
                if (info.LinkTarget is not null)
                {
                    var final = info.ResolveLinkTarget(true);
                    if (final is not null)
                    {
                        return Path.GetFileName(final.FullName);
                    }
                }
#endif
            }
            catch (IOException)
            {
                // A device link that cannot be followed is judged by its own name.
            }

            return Path.GetFileName(device);
        }

        private static string Unescape(string field)
        {
            if (field.IndexOf('\\') < 0)
            {
                return field;
            }

            var bytes = new List<byte>();
            for (int i = 0; i < field.Length; i++)
            {
                if (field[i] == '\\' && i + 3 < field.Length && IsOctal(field[i + 1]) && IsOctal(field[i + 2]) && IsOctal(field[i + 3]))
                {
                    bytes.Add((byte)(((field[i + 1] - '0') << 6) | ((field[i + 2] - '0') << 3) | (field[i + 3] - '0')));
                    i += 3;
                }
                else
                {
                    bytes.AddRange(Encoding.UTF8.GetBytes(field[i].ToString()));
                }
            }

            return Encoding.UTF8.GetString(bytes.ToArray());
        }

        private static bool IsOctal(char c) => c >= '0' && c <= '7';
    }
}
