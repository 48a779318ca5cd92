using FluxForensics.WindowsTests.Support;

namespace FluxForensics.WindowsTests.Platform
{
    /// <summary>What WinVerifyTrust says about corpus PE files whose Authenticode state is known from PeNet's tests
    /// (corpus/artifacts/EXPECTED.md): unsigned files have no signature, a tampered signed file is not trusted.</summary>
    public sealed class Win32SignatureTests
    {
        private const string PeNet = "artifacts/secana__PeNet/test/PeNet.Test/Binaries/";

        [Theory]
        [InlineData("HelloWorld.exe")]
        [InlineData("NetFrameworkConsole.exe")]
        [InlineData("TLSCallback_x86.exe")]
        public void UnsignedFileHasNoSignature(string file)
        {
            TestHost.RequireWindows();
            string path = TestHost.CorpusFile(PeNet + file);

            int result = Trust.Verify(path);

            Assert.Equal(Trust.TRUST_E_NOSIGNATURE.ToString("X8"), result.ToString("X8"));
        }

        [Theory]
        [InlineData("firefox_invalid_x64.exe")]
        [InlineData("firefox_invalid_x86.exe")]
        public void SignedButInvalidFileIsNotTrusted(string file)
        {
            TestHost.RequireWindows();
            string path = TestHost.CorpusFile(PeNet + file);

            int result = Trust.Verify(path);

            TestHost.SkipOnWineGap(result == 0, $"WinVerifyTrust trusts {file}, whose signature PeNet reports invalid");
            Assert.NotEqual(0, result);
            Assert.NotEqual(Trust.TRUST_E_NOSIGNATURE.ToString("X8"), result.ToString("X8"));
        }

        [Fact]
        public void SignedFileIsRecognisedAsSigned()
        {
            // Whether pidgin.exe's chain is trusted depends on the machine's roots and the clock; that it carries a
            // signature does not.
            TestHost.RequireWindows();
            string path = TestHost.CorpusFile(PeNet + "pidgin.exe");

            int result = Trust.Verify(path);

            TestContext.Current.SendDiagnosticMessage($"WinVerifyTrust(pidgin.exe) = 0x{result:X8}");
            Assert.NotEqual(Trust.TRUST_E_NOSIGNATURE.ToString("X8"), result.ToString("X8"));
        }
    }
}
