using System;
using System.Buffers.Binary;
using System.IO;
using System.Linq;
using FluxForensics.Formats;
using FluxForensics.Host;

namespace FluxForensics.Tests.Listener
{
    /// <summary>The PE parser against the corpus files whose values EXPECTED.md quotes from PeNet's and artemis' tests.</summary>
    public class PortableExecutableTests
    {
        private static PeImage Load(string path)
        {
            Skip.If(Corpus.WhyMissing(path) is not null, Corpus.WhyMissing(path));
            var image = PeFile.Parse(File.ReadAllBytes(path), path);
            Assert.True(image.IsPe, string.Join("; ", image.Issues));
            return image;
        }

        [SkippableFact]
        public void FirefoxInvalidX64HasTheFullStringFileInfo()
        {
            var image = Load(Corpus.PeNet("firefox_invalid_x64.exe"));
            var v = image.VersionInfo!;
            Assert.NotNull(v);
            Assert.True(image.IsPe32Plus);
            Assert.Equal("000004b0", v.StringTableKey);
            Assert.Equal("Mozilla Corporation", v.CompanyName);
            Assert.Equal("Firefox", v.FileDescription);
            Assert.Equal("57.0.2", v.FileVersion);
            Assert.Equal("firefox.exe", v.OriginalFilename);
            Assert.Equal("Firefox", v.ProductName);
            Assert.Equal("Firefox", v.InternalName);
            Assert.Equal("20171206182557", v.Get("BuildID"));
            // dwFileVersionMS 0x00390000, dwFileVersionLS 0x00021995.
            Assert.Equal("57.0.2.6549", v.FixedFileVersion);
            Assert.Equal(PeSignaturePresence.Present, image.Signature);
            Assert.Empty(image.Issues);
        }

        [SkippableFact]
        public void PidginIsSignedWithItsCommunityAsCompany()
        {
            var image = Load(Corpus.PeNet("pidgin.exe"));
            Assert.False(image.IsPe32Plus);
            Assert.Equal("040904B0", image.VersionInfo!.StringTableKey);
            Assert.Equal("The Pidgin developer community", image.VersionInfo.CompanyName);
            Assert.Equal("2.10.11", image.VersionInfo.ProductVersion);
            Assert.Equal(PeSignaturePresence.Present, image.Signature);
            Assert.Equal((ushort)0x0200, image.CertificateRevision);
            Assert.Equal((ushort)0x0002, image.CertificateType);
        }

        [SkippableTheory]
        [InlineData("NetFrameworkConsole.exe", "NetFrameworkConsole.exe")]
        [InlineData("firefox_x86.exe", "firefox.exe")]
        public void OriginalFilenameMatchesPeNet(string file, string expected)
        {
            Assert.Equal(expected, Load(Corpus.PeNet(file)).VersionInfo!.OriginalFilename);
        }

        [SkippableFact]
        public void NetFrameworkConsoleHasAnEmptyCompanyName()
        {
            var v = Load(Corpus.PeNet("NetFrameworkConsole.exe")).VersionInfo!;
            Assert.True(v.Strings.ContainsKey("CompanyName"));
            Assert.Null(v.CompanyName);
        }

        [SkippableTheory]
        [InlineData("pidgin.exe")]
        [InlineData("firefox_x86.exe")]
        [InlineData("firefox_x64.exe")]
        [InlineData("firefox_invalid_x86.exe")]
        [InlineData("firefox_invalid_x64.exe")]
        [InlineData("old_firefox_x86.exe")]
        [InlineData("dotnet_x64.dll")]
        public void SignedFilesCarryAnAuthenticodeBlob(string file)
        {
            Assert.Equal(PeSignaturePresence.Present, Load(Corpus.PeNet(file)).Signature);
        }

        [SkippableTheory]
        [InlineData("TLSCallback_x86.exe")]
        [InlineData("arm_binary.dll")]
        [InlineData("HelloWorld.exe")]
        [InlineData("NetFrameworkConsole.exe")]
        public void UnsignedFilesHaveAnEmptySecurityDirectory(string file)
        {
            var image = Load(Corpus.PeNet(file));
            Assert.Equal(PeSignaturePresence.Absent, image.Signature);
            Assert.Equal(0u, image.SecurityDirectoryOffset);
            Assert.Equal(0u, image.SecurityDirectorySize);
        }

        [SkippableFact]
        public void DotnetX64SecurityDirectoryIsWherePeNetSaysItIs()
        {
            var image = Load(Corpus.PeNet("dotnet_x64.dll"));
            Assert.Equal(0x00122C00u, image.SecurityDirectoryOffset);
            Assert.Equal(0x00002450u, image.SecurityDirectorySize);
            Assert.True(image.IsDotNet);
        }

        [SkippableFact]
        public void FilezillaDllWithoutVersionHasResourcesButNoVersionInfo()
        {
            var image = Load(Corpus.PeNet("filezilla_dll_without_Version.dll"));
            Assert.NotNull(image.ResourceDirectoryFileOffset);
            Assert.False(image.HasVersionResource);
            Assert.Null(image.VersionInfo);
            Assert.Empty(image.Issues);
        }

        [SkippableFact]
        public void WinmlIsMicrosoftBrandedWithoutEmbeddedSignature()
        {
            var image = Load(Corpus.Winml);
            Assert.Equal("Microsoft Corporation", image.VersionInfo!.CompanyName);
            Assert.Equal("winml.dll", image.VersionInfo.OriginalFilename);
            Assert.Equal("Windows Machine Learning Runtime", image.VersionInfo.FileDescription);
            Assert.Equal(PeSignaturePresence.Absent, image.Signature);
        }

        [SkippableFact]
        public void FileFactsOnLinuxCheckTheEmbeddedSignature()
        {
            Skip.If(OperatingSystem.IsWindows(), "on Windows WinVerifyTrust decides the status");
            string path = Corpus.PeNet("pidgin.exe");
            Skip.If(Corpus.WhyMissing(path) is not null, Corpus.WhyMissing(path));
            var facts = FileFactsReader.Read(path);
            Assert.True(facts.Exists);
            Assert.True(facts.IsPe);
            Assert.Equal("The Pidgin developer community", facts.CompanyName);
            // Digest and PKCS#7 signature hold; StartCom's root left Mozilla's (so Debian's) store, and the certificate expired.
            Assert.Equal(SignatureStatuses.Untrusted, facts.SignatureStatus);
            Assert.Contains("digest matches and the PKCS#7 signature verifies", facts.SignatureDetail);
            Assert.Contains("CN=Daniel Atallah", facts.SignerSubject);
            Assert.Equal(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(path)).Select(b => b.ToString("x2")).Aggregate(string.Concat), facts.Sha256);

            var winml = FileFactsReader.Read(Corpus.Winml);
            Assert.Equal(SignatureStatuses.NotSigned, winml.SignatureStatus);
            Assert.Contains("catalog signatures cannot be checked", winml.SignatureDetail);
            Assert.Null(winml.SignerSubject);
        }

        [SkippableFact]
        public void ACyclicResourceDirectoryIsAParseIssueNotACrash()
        {
            string path = Corpus.PeNet("pidgin.exe");
            Skip.If(Corpus.WhyMissing(path) is not null, Corpus.WhyMissing(path));
            byte[] bytes = File.ReadAllBytes(path);
            int root = PeFile.Parse(bytes, path).ResourceDirectoryFileOffset!.Value;

            // Point every root entry (incl. RT_VERSION) back at the root directory itself.
            int entries = BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(root + 12)) + BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(root + 14));
            for (int i = 0; i < entries; i++)
            {
                BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(root + 16 + i * 8 + 4), 0x80000000u);
            }

            var image = PeFile.Parse(bytes, "cyclic.exe");
            Assert.True(image.IsPe);
            Assert.Null(image.VersionInfo);
            Assert.Contains(image.Issues, i => i.Message.Contains("cycle") && i.Source == "cyclic.exe");
            Assert.Equal(PeSignaturePresence.Present, image.Signature); // the rest of the file is still read.
        }

        [SkippableFact]
        public void AHugeEntryCountAndAnOutOfRangeOffsetAreIssues()
        {
            string path = Corpus.PeNet("firefox_invalid_x64.exe");
            Skip.If(Corpus.WhyMissing(path) is not null, Corpus.WhyMissing(path));
            byte[] bytes = File.ReadAllBytes(path);
            int root = PeFile.Parse(bytes, path).ResourceDirectoryFileOffset!.Value;
            BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(root + 14), 0xFFFF);
            for (int i = 0; i < 64; i++)
            {
                BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(root + 16 + i * 8 + 4), 0xFFFFFFF0u);
            }

            var image = PeFile.Parse(bytes, "huge.exe");
            Assert.True(image.IsPe);
            Assert.NotEmpty(image.Issues);
            Assert.Equal("huge.exe", image.Issues[0].Source);
        }

        [SkippableFact]
        public void RandomDamageNeverThrows()
        {
            string path = Corpus.PeNet("pidgin.exe");
            Skip.If(Corpus.WhyMissing(path) is not null, Corpus.WhyMissing(path));
            byte[] original = File.ReadAllBytes(path);
            int root = PeFile.Parse(original, path).ResourceDirectoryFileOffset!.Value;
            var random = new Random(5);
            for (int round = 0; round < 300; round++)
            {
                byte[] bytes = (byte[])original.Clone();
                for (int k = 0; k < 16; k++)
                {
                    // Mostly the resource tree and version block, sometimes the headers.
                    int at = random.Next(4) == 0 ? random.Next(0, 0x400) : root + random.Next(0, Math.Min(0x2000, bytes.Length - root));
                    bytes[at] = (byte)random.Next(256);
                }

                var image = PeFile.Parse(bytes, "damaged.exe");
                Assert.NotNull(image);
            }

            // Truncations at every interesting length.
            for (int length = 0; length < original.Length; length += 997)
            {
                Assert.NotNull(PeFile.Parse(original.AsSpan(0, length), "truncated.exe"));
            }
        }

        [Fact]
        public void NotAPeFileIsSaidSo()
        {
            var image = PeFile.Parse(new byte[] { 0x7F, (byte)'E', (byte)'L', (byte)'F', 0, 0 }, "elf");
            Assert.False(image.IsPe);
            Assert.Contains(image.Issues, i => i.Message.Contains("not a PE file"));
        }
    }
}
