using System;
using System.IO;
using FluxForensics.Host;

namespace FluxForensics.Tests.Listener
{
    public class FileFactsTests
    {
        [SkippableFact]
        public void ADotFolderUnderTempIsHiddenAndUserWritable()
        {
            Skip.If(OperatingSystem.IsWindows(), "dot-names hide files on Unix only");
            string root = Path.Combine(Path.GetTempPath(), "ff-facts-" + Guid.NewGuid().ToString("N"));
            string file = Path.Combine(root, ".cache", "mobile7");
            Directory.CreateDirectory(Path.GetDirectoryName(file)!);
            try
            {
                File.WriteAllBytes(file, new byte[] { 0x7F, (byte)'E', (byte)'L', (byte)'F', 1, 2, 3 });
                var facts = FileFactsReader.Read(file);
                Assert.True(facts.Exists);
                Assert.True(facts.IsHidden);
                Assert.Equal("dot-name '.cache' in the path", facts.HiddenReason);
                Assert.True(facts.IsUserWritableLocation, facts.LocationReason);
                Assert.True(facts.IsElf);
                Assert.False(facts.IsPe);
                Assert.Equal(SignatureStatuses.NotChecked, facts.SignatureStatus);
                Assert.Equal(64, facts.Sha256!.Length);
            }
            finally
            {
                Directory.Delete(root, recursive: true);
            }
        }

        [SkippableFact]
        public void AnImageWithTheHiddenAttributeOnAnNtfsMountIsHiddenAndKeepsItsVersionInfo()
        {
            string? why = FluxForensics.Tests.Usb.ScratchMount.WhyNot("ntfs");
            Skip.If(why is not null, why);
            string pidgin = Corpus.PeNet("pidgin.exe");
            Skip.If(Corpus.WhyMissing(pidgin) is not null, Corpus.WhyMissing(pidgin));
            using var mount = FluxForensics.Tests.Usb.ScratchMount.Ntfs();
            string image = Path.Combine(mount.MountPoint, "mobile7.exe");
            File.Copy(pidgin, image);
            Assert.False(FileFactsReader.Read(image).IsHidden);

            // Hidden|System as an investigator sees it on the disk, set through ntfs-3g's attribute xattr.
            FluxForensics.Tests.Usb.ScratchMount.Run("/usr/bin/setfattr", "-n", "system.ntfs_attrib_be", "-v", "0x00000026", image);
            var facts = FileFactsReader.Read(image);
            Assert.True(facts.IsHidden);
            Assert.True(facts.IsSystem);
            Assert.Equal("Hidden attribute (ntfs-3g xattr)", facts.HiddenReason);
            Assert.Equal("The Pidgin developer community", facts.CompanyName);
            // Digest and signature hold; whether StartCom's root is trusted is this machine's store's business.
            Assert.Contains(facts.SignatureStatus, new[] { SignatureStatuses.Valid, SignatureStatuses.Untrusted, SignatureStatuses.Signed, SignatureStatuses.Invalid });
            Assert.Contains("CN=Daniel Atallah", facts.SignerSubject);
        }

        [Fact]
        public void AMissingFileIsSaidToBeMissing()
        {
            var facts = FileFactsReader.Read(Path.Combine(Path.GetTempPath(), "ff-no-such-" + Guid.NewGuid().ToString("N")));
            Assert.False(facts.Exists);
            Assert.Equal(SignatureStatuses.Missing, facts.SignatureStatus);
            Assert.NotNull(facts.ReadError);
            Assert.Null(facts.Sha256);
        }

        [SkippableFact]
        public void AnUnreadableFileKeepsWhatIsKnownAndSaysWhatCouldNotBeRead()
        {
            Skip.If(OperatingSystem.IsWindows(), "uses Unix permissions");
            string dir = Path.Combine(Path.GetTempPath(), "ff-facts-" + Guid.NewGuid().ToString("N"));
            Directory.CreateDirectory(dir);
            try
            {
                // A directory stands in for an image that exists but cannot be opened as a file (works as root too).
                string path = Path.Combine(dir, "image");
                Directory.CreateDirectory(path);
                var facts = FileFactsReader.Read(path);
                Assert.Null(facts.Sha256);
                Assert.True(facts.IsUserWritableLocation);
            }
            finally
            {
                Directory.Delete(dir, recursive: true);
            }
        }

        [Theory]
        [InlineData("/usr/sbin/nginx", null)]
        [InlineData("/tmp/x/mobile7", "under /tmp (temporary)")]
        [InlineData("/dev/shm/a", "under /dev/shm (temporary)")]
        [InlineData("/home/bob/.local/bin/x", "in a home directory (/home)")]
        public void UnixLocations(string path, string? expected)
        {
            Assert.Equal(expected, FileFactsReader.UnixLocation(path));
        }

        [Theory]
        [InlineData(@"C:\Windows\System32\svchost.exe", null)]
        [InlineData(@"C:\Users\bob\AppData\Local\Temp\mobile7.exe", "in the user's temporary folder")]
        [InlineData(@"C:\Users\bob\AppData\Roaming\mobile7.exe", "in the user's AppData")]
        [InlineData(@"C:\ProgramData\x\m.exe", "in C:\\ProgramData (writable by users by default)")]
        [InlineData(@"C:\Program Files\nginx\nginx.exe", null)]
        public void WindowsLocations(string path, string? expected)
        {
            Assert.Equal(expected, FileFactsReader.WindowsLocation(path));
        }

        [Theory]
        [InlineData("/usr/bin/x", null)]
        [InlineData("/tmp/a/.hid/x", ".hid")]
        [InlineData("/tmp/../x", null)]
        [InlineData("/home/u/.x", ".x")]
        public void DotNames(string path, string? expected)
        {
            Assert.Equal(expected, FileFactsReader.DotNameInPath(path));
        }
    }
}
