using System.IO;
using FluxForensics.WindowsTests.Support;

namespace FluxForensics.WindowsTests.Platform
{
    /// <summary>Hidden and System attributes as the USB trap reader sees them and the remediation clears and restores
    /// them, through GetFileAttributesW and the .NET wrappers over SetFileAttributesW.</summary>
    public sealed class Win32FileAttributeTests
    {
        private const uint FILE_ATTRIBUTE_HIDDEN = 0x2;
        private const uint FILE_ATTRIBUTE_SYSTEM = 0x4;
        private const uint FILE_ATTRIBUTE_DIRECTORY = 0x10;

        [Fact]
        public void HiddenSystemFolderReadsBackThroughGetFileAttributesAndClears()
        {
            TestHost.RequireWindows();
            using var temp = new TempDirectory();
            string folder = Path.Combine(temp.Path, "_");
            Directory.CreateDirectory(folder);

            File.SetAttributes(folder, FileAttributes.Directory | FileAttributes.Hidden | FileAttributes.System);

            uint raw = Native.GetFileAttributesW(folder);
            Assert.Equal(FILE_ATTRIBUTE_DIRECTORY | FILE_ATTRIBUTE_HIDDEN | FILE_ATTRIBUTE_SYSTEM,
                raw & (FILE_ATTRIBUTE_DIRECTORY | FILE_ATTRIBUTE_HIDDEN | FILE_ATTRIBUTE_SYSTEM));

            File.SetAttributes(folder, FileAttributes.Directory);
            Assert.Equal(0u, Native.GetFileAttributesW(folder) & (FILE_ATTRIBUTE_HIDDEN | FILE_ATTRIBUTE_SYSTEM));
        }

        [Fact]
        public void HiddenFileIsListedWithItsAttributes()
        {
            TestHost.RequireWindows();
            using var temp = new TempDirectory();
            string payload = temp.File("DeviceManager.exe", "MZ");
            File.SetAttributes(payload, FileAttributes.Hidden | FileAttributes.System);

            var entry = Assert.Single(new DirectoryInfo(temp.Path).GetFiles());

            Assert.Equal("DeviceManager.exe", entry.Name);
            Assert.True(entry.Attributes.HasFlag(FileAttributes.Hidden));
            Assert.True(entry.Attributes.HasFlag(FileAttributes.System));
        }

        [Fact]
        public void DotNameIsNotHiddenOnWindows()
        {
            // The Linux reader treats a leading dot as hidden; on Windows only the attribute counts.
            TestHost.RequireWindows();
            using var temp = new TempDirectory();
            string dotted = temp.File(".autorun", "x");

            TestHost.SkipOnWineGap((Native.GetFileAttributesW(dotted) & FILE_ATTRIBUTE_HIDDEN) != 0,
                @"reports dot-files as Hidden unless HKCU\Software\Wine ShowDotFiles=Y (the lane sets it)");
            Assert.Equal(0u, Native.GetFileAttributesW(dotted) & FILE_ATTRIBUTE_HIDDEN);
        }
    }
}
