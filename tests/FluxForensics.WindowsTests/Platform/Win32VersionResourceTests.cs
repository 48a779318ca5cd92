using System.Diagnostics;
using FluxForensics.WindowsTests.Support;

namespace FluxForensics.WindowsTests.Platform
{
    /// <summary>Version resources of real PE files (the shared corpus) read through GetFileVersionInfo/VerQueryValue,
    /// checked against the values quoted in corpus/artifacts/EXPECTED.md (PeNet's tests).</summary>
    public sealed class Win32VersionResourceTests
    {
        private const string PeNet = "artifacts/secana__PeNet/test/PeNet.Test/Binaries/";

        [Theory]
        [InlineData("firefox_invalid_x64.exe", "CompanyName", "Mozilla Corporation")]
        [InlineData("firefox_invalid_x64.exe", "FileDescription", "Firefox")]
        [InlineData("firefox_invalid_x64.exe", "OriginalFilename", "firefox.exe")]
        [InlineData("pidgin.exe", "CompanyName", "The Pidgin developer community")]
        [InlineData("pidgin.exe", "ProductVersion", "2.10.11")]
        [InlineData("NetFrameworkConsole.exe", "OriginalFilename", "NetFrameworkConsole.exe")]
        public void VersionStringMatchesTheUpstreamAssertion(string file, string name, string expected)
        {
            TestHost.RequireWindows();
            string path = TestHost.CorpusFile(PeNet + file);

            Assert.Equal(expected, Native.VersionString(path, name));
        }

        [Fact]
        public void FixedFileVersionMatchesTheUpstreamAssertion()
        {
            TestHost.RequireWindows();
            string path = TestHost.CorpusFile(PeNet + "firefox_invalid_x64.exe");

            Assert.Equal((0x00390000u, 0x00021995u), Native.FixedFileVersion(path));
        }

        [Fact]
        public void FileVersionInfoUsesTheSameWin32Answer()
        {
            TestHost.RequireWindows();
            string path = TestHost.CorpusFile(PeNet + "pidgin.exe");

            var info = FileVersionInfo.GetVersionInfo(path);

            Assert.Equal(Native.VersionString(path, "CompanyName"), info.CompanyName);
            Assert.Equal(Native.VersionString(path, "ProductVersion"), info.ProductVersion);
        }
    }
}
