using System;
using System.IO;
using System.Linq;
using FluxForensics.Fixtures.Usb;
using FluxForensics.Host;
using FluxForensics.WindowsTests.Support;

namespace FluxForensics.WindowsTests.Core
{
    /// <summary>Core's Windows attribute path (FileAttributeReader with the Windows mechanism) and what FileFacts makes
    /// of it: read, cleared and restored on real files.</summary>
    public sealed class WindowsFileAttributeTests
    {
        [Fact]
        public void HiddenSystemFolderIsReadClearedAndRestoredExactly()
        {
            TestHost.RequireWindows();
            using var temp = new TempDirectory();
            string folder = Path.Combine(temp.Path, "sources");
            Directory.CreateDirectory(folder);
            File.SetAttributes(folder, FileAttributes.Directory | FileAttributes.Hidden | FileAttributes.System);

            FileAttributeInfo before = FileAttributeReader.Read(folder);
            Assert.Equal(FileAttributeMechanism.Windows, before.Mechanism);
            Assert.True(before.IsHidden);
            Assert.True(before.IsSystem);
            Assert.Equal(Native.GetFileAttributesW(folder), before.RawAttributes);

            Assert.True(FileAttributeReader.TrySetHiddenSystem(folder, hidden: false, system: false, out string? error), error);
            uint cleared = Native.GetFileAttributesW(folder);
            Assert.Equal(0u, cleared & (FileAttributeBits.Hidden | FileAttributeBits.System));
            Assert.Equal(FileAttributeBits.Directory, cleared & FileAttributeBits.Directory);

            Assert.True(FileAttributeReader.TryRestore(folder, before.RawAttributes!.Value, out error), error);
            Assert.Equal(before.RawAttributes, Native.GetFileAttributesW(folder));
        }

        [Fact]
        public void ClearingHiddenSystemOnAFileKeepsItsOtherBits()
        {
            TestHost.RequireWindows();
            using var temp = new TempDirectory();
            string payload = temp.File("click.exe", "MZ");
            File.SetAttributes(payload, FileAttributes.Hidden | FileAttributes.System | FileAttributes.ReadOnly | FileAttributes.Archive);
            uint before = Native.GetFileAttributesW(payload);
            Assert.Equal(FileAttributeBits.Hidden | FileAttributeBits.System | FileAttributeBits.ReadOnly | FileAttributeBits.Archive, before);

            Assert.True(FileAttributeReader.TrySetHiddenSystem(payload, hidden: false, system: false, out string? error), error);
            Assert.Equal(FileAttributeBits.ReadOnly | FileAttributeBits.Archive, Native.GetFileAttributesW(payload));

            Assert.True(FileAttributeReader.TryRestore(payload, before, out error), error);
            Assert.Equal(before, Native.GetFileAttributesW(payload));
        }

        [Fact]
        public void MissingPathIsAFileNotFoundAndTryReadSaysWhy()
        {
            TestHost.RequireWindows();
            using var temp = new TempDirectory();
            string missing = Path.Combine(temp.Path, "gone.exe");

            Assert.Throws<FileNotFoundException>(() => FileAttributeReader.Read(missing));
            Assert.False(FileAttributeReader.TryRead(missing, out var info, out string? error));
            Assert.Null(info);
            Assert.False(string.IsNullOrEmpty(error));
        }

        [Fact]
        public void FileFactsCallAHiddenFileHiddenByItsAttributeNotItsName()
        {
            TestHost.RequireWindows();
            using var temp = new TempDirectory();
            string hidden = temp.File("DeviceManager.exe", "MZ");
            File.SetAttributes(hidden, FileAttributes.Hidden);
            string dotted = temp.File(".profile.exe", "MZ");

            TestHost.SkipOnWineGap((Native.GetFileAttributesW(dotted) & FileAttributeBits.Hidden) != 0,
                @"reports dot-files as Hidden unless HKCU\Software\Wine ShowDotFiles=Y (the lane sets it)");
            FileFacts hiddenFacts = FileFactsReader.Read(hidden);
            FileFacts dottedFacts = FileFactsReader.Read(dotted);

            Assert.True(hiddenFacts.IsHidden);
            Assert.Equal("Hidden attribute (Windows)", hiddenFacts.HiddenReason);
            Assert.False(dottedFacts.IsHidden, dottedFacts.HiddenReason);
            // %TEMP% is C:\Users\<user>\AppData\Local\Temp on Windows and C:\users\<user>\Temp under Wine: either way a
            // user-writable place, for one reason or the other.
            Assert.True(hiddenFacts.IsUserWritableLocation);
            Assert.Contains(hiddenFacts.LocationReason, new[] { "in the user's temporary folder", "under %TEMP%", "under %TMP%" });
        }
    }

    /// <summary>Drive enumeration and the USB trap scan on a drive Wine presents as removable (the lane maps E: to a
    /// temporary directory and marks it a floppy-type drive; on Windows, FLUX_WINDOWS_TESTS_REMOVABLE names a stick).</summary>
    public sealed class RemovableDriveTests
    {
        private static string RequireRemovableDrive()
        {
            TestHost.RequireWindows();
            string? root = Environment.GetEnvironmentVariable("FLUX_WINDOWS_TESTS_REMOVABLE");
            Assert.SkipWhen(string.IsNullOrEmpty(root), "no removable drive to write to (the Wine lane maps one; on Windows set FLUX_WINDOWS_TESTS_REMOVABLE=E:\\ for a scratch stick)");
            return root!;
        }

        [Fact]
        public void RemovableDriveIsEnumeratedAndFixedDrivesAreNot()
        {
            string root = RequireRemovableDrive();

            var drives = RemovableDrives.Enumerate();

            var drive = drives.SingleOrDefault(d => string.Equals(d.Root, root, StringComparison.OrdinalIgnoreCase));
            Assert.True(drive is not null, "drives seen: " + string.Join(", ", DriveInfo.GetDrives().Select(Describe)));
            Assert.Equal(root, drive!.Device, ignoreCase: true);
            Assert.False(string.IsNullOrEmpty(drive.FileSystem));
            string systemRoot = Path.GetPathRoot(Environment.GetFolderPath(Environment.SpecialFolder.Windows))!;
            Assert.DoesNotContain(drives, d => string.Equals(d.Root, systemRoot, StringComparison.OrdinalIgnoreCase));
        }

        private static string Describe(DriveInfo d)
        {
            try
            {
                return $"{d.Name} {d.DriveType} ready={d.IsReady} {(d.IsReady ? d.DriveFormat : string.Empty)}";
            }
            catch (IOException e)
            {
                return $"{d.Name} {d.DriveType} ({e.Message})";
            }
        }

        [Fact]
        public void IncidentTrapOnTheRemovableDriveIsFoundWithHiddenSystemFolders()
        {
            string root = RequireRemovableDrive();
            string stick = Path.Combine(root, "FluxWinTest-" + Guid.NewGuid().ToString("N").Substring(0, 8));
            try
            {
                var layout = UsbTrapLayout.Create(stick);
                Assert.True(layout.TrySetAttributes(out string? error), error);

                var reporter = new RecordingReporter();
                var traps = new UsbScanner(reporter).Scan(stick, recurse: false).ToList();

                Assert.Empty(reporter.Errors);
                Assert.Equal(UsbTrapLayout.TrapFolders.Length, traps.Count);
                foreach (var trap in traps)
                {
                    Assert.Contains(trap.ShortcutPath, layout.TrapShortcuts);
                    Assert.True(trap.HiddenFolderIsHidden);
                    Assert.True(trap.HiddenFolderIsSystem);
                    Assert.Equal(FileAttributeMechanism.Windows, trap.AttributeMechanism);
                    Assert.Equal(layout.PayloadPath, trap.PayloadPath, ignoreCase: true);
                    Assert.Equal(FileFactsReader.Read(layout.PayloadPath).Sha256, trap.PayloadSha256);
                    Assert.Equal(UsbTrapLayout.InterpreterTarget, trap.TargetPath);
                }

                Assert.Contains(traps, t => t.Reasons.Any(r => r.Reason.Contains("removable", StringComparison.OrdinalIgnoreCase)) || t.DriveRoot.Length > 0);
            }
            finally
            {
                if (Directory.Exists(stick))
                {
                    foreach (string entry in Directory.EnumerateFileSystemEntries(stick, "*", SearchOption.AllDirectories))
                    {
                        File.SetAttributes(entry, FileAttributes.Normal);
                    }

                    Directory.Delete(stick, recursive: true);
                }
            }
        }
    }
}
