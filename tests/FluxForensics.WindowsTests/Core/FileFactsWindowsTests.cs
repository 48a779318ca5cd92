using System.Collections.Generic;
using System.IO;
using FluxForensics.Host;
using FluxForensics.WindowsTests.Support;

namespace FluxForensics.WindowsTests.Core
{
    /// <summary>FileFactsReader on Windows: version strings from Core's own PE parser compared with what the Win32 API
    /// (GetFileVersionInfo/VerQueryValue) reads from the same files, and the signature status from WinVerifyTrust.</summary>
    public sealed class FileFactsWindowsTests
    {
        private const string PeNet = "artifacts/secana__PeNet/test/PeNet.Test/Binaries/";
        private const string Winml = "artifacts/puffyCid__artemis/forensics/tests/test_data/windows/pe/resources/winml.dll";

        public static IEnumerable<TheoryDataRow<string>> PeFiles() => new[]
        {
            new TheoryDataRow<string>(PeNet + "firefox_invalid_x64.exe"),
            new TheoryDataRow<string>(PeNet + "firefox_invalid_x86.exe"),
            new TheoryDataRow<string>(PeNet + "firefox_x64.exe"),
            new TheoryDataRow<string>(PeNet + "firefox_x86.exe"),
            new TheoryDataRow<string>(PeNet + "old_firefox_x86.exe"),
            new TheoryDataRow<string>(PeNet + "pidgin.exe"),
            new TheoryDataRow<string>(PeNet + "NetFrameworkConsole.exe"),
            new TheoryDataRow<string>(PeNet + "HelloWorld.exe"),
            new TheoryDataRow<string>(PeNet + "TLSCallback_x86.exe"),
            new TheoryDataRow<string>(PeNet + "dotnet_x64.dll"),
            new TheoryDataRow<string>(PeNet + "filezilla_dll_without_Version.dll"),
            new TheoryDataRow<string>(Winml),
        };

        [Theory]
        [MemberData(nameof(PeFiles))]
        public void CoreVersionStringsMatchTheWin32VersionApi(string file)
        {
            TestHost.RequireWindows();
            string path = TestHost.CorpusFile(file);

            FileFacts facts = FileFactsReader.Read(path);

            Assert.True(facts.IsPe);
            Assert.Equal(Stated(Native.VersionString(path, "CompanyName")), facts.CompanyName);
            Assert.Equal(Stated(Native.VersionString(path, "FileDescription")), facts.FileDescription);
            Assert.Equal(Stated(Native.VersionString(path, "OriginalFilename")), facts.OriginalFilename);
            Assert.Equal(Stated(Native.VersionString(path, "ProductName")), facts.ProductName);
            Assert.Equal(Stated(Native.VersionString(path, "FileVersion")), facts.FileVersion);
            Assert.Equal(Native.FixedFileVersion(path) is not null, facts.HasVersionInfo);
        }

        /// <summary>Core's contract (PeVersionInfo.Get): an empty string means "not stated" and reads as null;
        /// VerQueryValue returns the empty string itself (NetFrameworkConsole.exe has an empty CompanyName).</summary>
        private static string? Stated(string? win32) => string.IsNullOrEmpty(win32) ? null : win32;

        [Theory]
        [InlineData("HelloWorld.exe")]
        [InlineData("NetFrameworkConsole.exe")]
        public void UnsignedFileIsUnsignedThroughWinVerifyTrust(string file)
        {
            TestHost.RequireWindows();
            string path = TestHost.CorpusFile(PeNet + file);

            FileFacts facts = FileFactsReader.Read(path);

            TestHost.SkipOnWineGap(facts.SignatureStatus == SignatureStatuses.NotChecked,
                "the catalog lookup (CryptCATAdmin*) is missing, so an unsigned file cannot be told from a catalog-signed one: " + facts.SignatureDetail);
            Assert.Equal(SignatureStatuses.Unsigned, facts.SignatureStatus);
            Assert.Contains("WinVerifyTrust", facts.SignatureDetail);
        }

        [Theory]
        [InlineData("firefox_invalid_x64.exe")]
        [InlineData("firefox_invalid_x86.exe")]
        public void TamperedSignatureIsInvalid(string file)
        {
            TestHost.RequireWindows();
            string path = TestHost.CorpusFile(PeNet + file);

            FileFacts facts = FileFactsReader.Read(path);

            Assert.Equal(SignatureStatuses.Invalid, facts.SignatureStatus);
            Assert.StartsWith("WinVerifyTrust rejected the signature: 0x", facts.SignatureDetail);
        }

        [Fact]
        public void SignedFileIsCheckedByWinVerifyTrustNotByPresenceAlone()
        {
            // Trusted or not depends on this machine's roots and clock (pidgin's certificate has expired); what must hold
            // is that the Windows path asked WinVerifyTrust and agrees with a direct call.
            TestHost.RequireWindows();
            string path = TestHost.CorpusFile(PeNet + "pidgin.exe");

            FileFacts facts = FileFactsReader.Read(path);
            int direct = Trust.Verify(path);

            Assert.Contains("CN=Daniel Atallah", facts.SignerSubject);
            Assert.Equal(direct == 0 ? SignatureStatuses.Signed : SignatureStatuses.Invalid, facts.SignatureStatus);
        }

        [Fact]
        public void FileWrittenByTheTestHasItsHashAndIsNotPe()
        {
            TestHost.RequireWindows();
            using var temp = new TempDirectory();
            string script = temp.File("run.cmd", "@echo off\r\nstart mobile7.exe\r\n");

            FileFacts facts = FileFactsReader.Read(script);

            Assert.True(facts.Exists);
            Assert.False(facts.IsPe);
            Assert.Equal(System.Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(script))).ToLowerInvariant(), facts.Sha256);
            Assert.Null(facts.ReadError);
        }
    }
}
