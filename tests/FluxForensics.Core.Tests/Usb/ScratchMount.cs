using System;
using System.Diagnostics;
using System.IO;
using System.Threading;

namespace FluxForensics.Tests.Usb
{
    /// <summary>
    /// A real file system image mounted for a test: NTFS through ntfs-3g (FUSE), or FAT through the kernel's vfat driver.
    /// Skips (with the reason) when not root or a tool is missing; always unmounts and deletes what it made.
    /// </summary>
    internal sealed class ScratchMount : IDisposable
    {
        private readonly string _workDirectory;
        private bool _mounted;

        private ScratchMount(string workDirectory, string mountPoint)
        {
            _workDirectory = workDirectory;
            MountPoint = mountPoint;
        }

        public string MountPoint { get; }

        /// <summary>Why a mount of this kind cannot be made here, or null when it can be tried.</summary>
        public static string? WhyNot(string kind)
        {
            if (!OperatingSystem.IsLinux())
            {
                return "real file system mounts are tested on Linux only";
            }

            if (Environment.UserName != "root")
            {
                return "mounting an image needs root";
            }

            if (kind == "ntfs")
            {
                if (!File.Exists("/dev/fuse"))
                {
                    return "no /dev/fuse: ntfs-3g cannot mount";
                }

                return FindTool("mkntfs") is null ? "mkntfs missing (apt ntfs-3g)" : FindTool("ntfs-3g") is null ? "ntfs-3g missing (apt ntfs-3g)" : null;
            }

            return FindTool("mkfs.vfat") is null ? "mkfs.vfat missing (apt dosfstools)" : null;
        }

        public static ScratchMount Ntfs() => Create("ntfs");

        public static ScratchMount Fat() => Create("vfat");

        private static ScratchMount Create(string kind)
        {
            string work = Path.Combine(Path.GetTempPath(), "flux-mount-" + Guid.NewGuid().ToString("N"));
            string mountPoint = Path.Combine(work, "mnt");
            Directory.CreateDirectory(mountPoint);
            string image = Path.Combine(work, kind + ".img");
            var mount = new ScratchMount(work, mountPoint);
            try
            {
                using (var f = new FileStream(image, FileMode.CreateNew))
                {
                    f.SetLength(16L * 1024 * 1024);
                }

                if (kind == "ntfs")
                {
                    Run(FindTool("mkntfs")!, "-F", "-Q", "-q", "-L", "FLUXUSB", image);
                    Run(FindTool("ntfs-3g")!, image, mountPoint);
                }
                else
                {
                    Run(FindTool("mkfs.vfat")!, "-n", "FLUXUSB", image);
                    Run("mount", "-t", "vfat", "-o", "loop", image, mountPoint);
                }

                mount._mounted = true;
                return mount;
            }
            catch
            {
                mount.Dispose();
                throw;
            }
        }

        /// <summary>Lazily unmounts now, as pulling the stick would; Dispose then only cleans up.</summary>
        public void Detach()
        {
            if (_mounted)
            {
                Run("umount", "-l", MountPoint);
                _mounted = false;
            }
        }

        public void Dispose()
        {
            if (_mounted)
            {
                for (int attempt = 0; attempt < 20 && _mounted; attempt++)
                {
                    _mounted = RunQuiet("umount", MountPoint) != 0;
                    if (_mounted)
                    {
                        Thread.Sleep(100);
                    }
                }
            }

            if (!_mounted && Directory.Exists(_workDirectory))
            {
                Directory.Delete(_workDirectory, true);
            }
        }

        internal static string? FindTool(string name)
        {
            foreach (var dir in new[] { "/usr/sbin", "/usr/bin", "/sbin", "/bin" })
            {
                string candidate = Path.Combine(dir, name);
                if (File.Exists(candidate))
                {
                    return candidate;
                }
            }

            return null;
        }

        internal static void Run(string tool, params string[] args)
        {
            var psi = new ProcessStartInfo(tool) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
            foreach (var a in args)
            {
                psi.ArgumentList.Add(a);
            }

            using var p = Process.Start(psi)!;
            string stderr = p.StandardError.ReadToEnd();
            p.StandardOutput.ReadToEnd();
            p.WaitForExit();
            if (p.ExitCode != 0)
            {
                throw new InvalidOperationException($"{tool} {string.Join(' ', args)} failed ({p.ExitCode}): {stderr}");
            }
        }

        private static int RunQuiet(string tool, params string[] args)
        {
            try
            {
                Run(tool, args);
                return 0;
            }
            catch (InvalidOperationException)
            {
                return 1;
            }
        }
    }
}
