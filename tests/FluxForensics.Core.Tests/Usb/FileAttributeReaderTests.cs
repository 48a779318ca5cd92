using System;
using System.IO;
using FluxForensics.Host;

namespace FluxForensics.Tests.Usb
{
    public class FileAttributeReaderTests
    {
        [SkippableFact]
        public void NtfsHiddenSystemAreReadAndSetThroughTheNtfs3gXattr()
        {
            string? why = ScratchMount.WhyNot("ntfs");
            Skip.If(why is not null, why);
            using var mount = ScratchMount.Ntfs();
            string folder = Path.Combine(mount.MountPoint, "sources");
            string file = Path.Combine(mount.MountPoint, "click.exe");
            Directory.CreateDirectory(folder);
            File.WriteAllBytes(file, new byte[] { 0x4d, 0x5a });

            var before = FileAttributeReader.Read(folder);
            Assert.Equal(FileAttributeMechanism.NtfsXattr, before.Mechanism);
            Assert.False(before.IsHidden);
            Assert.False(before.IsSystem);
            Assert.True(before.AttributesKnown);
            Assert.NotEqual(0u, before.RawAttributes!.Value & FileAttributeBits.Directory);

            // Set through the tool an investigator would use, read back through the reader.
            ScratchMount.Run("/usr/bin/setfattr", "-n", "system.ntfs_attrib_be", "-v", "0x00000006", folder);
            var hidden = FileAttributeReader.Read(folder);
            Assert.True(hidden.IsHidden);
            Assert.True(hidden.IsSystem);

            // Set through the reader: Hidden only on the file, then restore the raw value seen first.
            var fileBefore = FileAttributeReader.Read(file);
            Assert.True(FileAttributeReader.TrySetHiddenSystem(file, hidden: true, system: false, out string? error), error);
            var fileHidden = FileAttributeReader.Read(file);
            Assert.True(fileHidden.IsHidden);
            Assert.False(fileHidden.IsSystem);
            Assert.True(FileAttributeReader.TryRestore(file, fileBefore.RawAttributes!.Value, out error), error);
            Assert.Equal(fileBefore.RawAttributes, FileAttributeReader.Read(file).RawAttributes);

            Assert.True(FileAttributeReader.TrySetHiddenSystem(folder, hidden: false, system: false, out error), error);
            var cleared = FileAttributeReader.Read(folder);
            Assert.False(cleared.IsHidden);
            Assert.False(cleared.IsSystem);
        }

        [SkippableFact]
        public void FatAttributesAreReadAndSetThroughTheIoctl()
        {
            string? why = ScratchMount.WhyNot("vfat");
            Skip.If(why is not null, why);
            ScratchMount mount;
            try
            {
                mount = ScratchMount.Fat();
            }
            catch (InvalidOperationException e) when (!File.ReadAllText("/proc/filesystems").Contains("vfat"))
            {
                Skip.If(true, "this kernel has no vfat driver: " + e.Message);
                return;
            }

            using (mount)
            {
                string folder = Path.Combine(mount.MountPoint, "sources");
                Directory.CreateDirectory(folder);
                var before = FileAttributeReader.Read(folder);
                Assert.Equal(FileAttributeMechanism.FatIoctl, before.Mechanism);
                Assert.False(before.IsHidden);
                Assert.True(FileAttributeReader.TrySetHiddenSystem(folder, true, true, out string? error), error);
                var after = FileAttributeReader.Read(folder);
                Assert.True(after.IsHidden);
                Assert.True(after.IsSystem);
                Assert.NotEqual(0u, after.RawAttributes!.Value & FileAttributeBits.Directory);
            }
        }

        [SkippableFact]
        public void PlainLinuxFileSystemsFallBackToDotNames()
        {
            Skip.IfNot(OperatingSystem.IsLinux(), "dot-name fallback is the Linux behaviour on ext4/tmpfs");
            string dir = Path.Combine(Path.GetTempPath(), "flux-attr-" + Guid.NewGuid().ToString("N"));
            Directory.CreateDirectory(dir);
            try
            {
                string dotted = Path.Combine(dir, ".hidden");
                string plain = Path.Combine(dir, "visible");
                File.WriteAllText(dotted, "x");
                Directory.CreateDirectory(plain);

                var a = FileAttributeReader.Read(dotted);
                var b = FileAttributeReader.Read(plain);
                Assert.Equal(FileAttributeMechanism.DotName, a.Mechanism);
                Assert.True(a.IsHidden);
                Assert.False(b.IsHidden);
                Assert.False(b.AttributesKnown);
                Assert.False(FileAttributeReader.TrySetHiddenSystem(plain, true, true, out string? error));
                Assert.Contains("stores no", error);
            }
            finally
            {
                Directory.Delete(dir, true);
            }
        }

        [Fact]
        public void MissingPathsAreReportedNotGuessed()
        {
            string missing = Path.Combine(Path.GetTempPath(), "flux-missing-" + Guid.NewGuid().ToString("N"));
            Assert.Throws<FileNotFoundException>(() => FileAttributeReader.Read(missing));
            Assert.False(FileAttributeReader.TryRead(missing, out var info, out string? error));
            Assert.Null(info);
            Assert.NotNull(error);
        }
    }
}
