using System;
using System.Buffers.Binary;
using System.IO;
using System.Linq;
using FluxForensics.Detection;
using FluxForensics.Formats;
using FluxForensics.Host;
using FluxForensics.Tests.Listener;

namespace FluxForensics.Tests.Signature
{
    /// <summary>
    /// Authenticode without WinVerifyTrust against the signed PEs of PeNet's test binaries (EXPECTED.md: pidgin.exe valid,
    /// firefox_invalid_* invalid) and artemis' catalog-signed winml.dll. Copies that are changed are made in a temp folder.
    /// </summary>
    public sealed class AuthenticodeTests : IDisposable
    {
        private readonly string _scratch = Path.Combine(Path.GetTempPath(), "ff-authenticode-" + Guid.NewGuid().ToString("N"));

        public AuthenticodeTests() => Directory.CreateDirectory(_scratch);

        public void Dispose() => Directory.Delete(_scratch, recursive: true);

        private static byte[] Corpus(string name)
        {
            string path = name == "winml.dll" ? Listener.Corpus.Winml : Listener.Corpus.PeNet(name);
            Skip.If(Listener.Corpus.WhyMissing(path) is not null, Listener.Corpus.WhyMissing(path));
            return File.ReadAllBytes(path);
        }

        private static AuthenticodeResult Verify(byte[] bytes, DateTime? at = null) => AuthenticodeVerifier.Verify(bytes, PeFile.Parse(bytes, "test"), at);

        private static int FirstCodeByte(byte[] bytes)
        {
            var image = PeFile.Parse(bytes, "test");
            var text = image.Sections.First(s => s.Name == ".text" && s.SizeOfRawData > 0x100);
            return (int)text.PointerToRawData + 0x40;
        }

        [SkippableFact]
        public void PidginsDigestAndSignatureHold()
        {
            var r = Verify(Corpus("pidgin.exe"));
            Assert.Equal("SHA256", r.DigestAlgorithm);
            Assert.Equal(r.SignedDigest, r.ComputedDigest);
            Assert.Equal(64, r.ComputedDigest!.Length);
            Assert.Contains("CN=Daniel Atallah", r.SignerSubject);
            Assert.Contains(r.Status, new[] { AuthenticodeStatus.Valid, AuthenticodeStatus.Untrusted });
            if (!OperatingSystem.IsWindows())
            {
                // StartCom was dropped from Mozilla's store (so from Debian's): no Linux root store matches its chain.
                Assert.Equal(AuthenticodeStatus.Untrusted, r.Status);
                Assert.Contains("StartCom", r.Detail);
            }
        }

        [SkippableFact]
        public void OneChangedCodeByteIsAHashMismatch()
        {
            byte[] bytes = Corpus("pidgin.exe");
            int at = FirstCodeByte(bytes);
            bytes[at] ^= 0x01;
            string copy = Path.Combine(_scratch, "pidgin.exe");
            File.WriteAllBytes(copy, bytes);

            var facts = FileFactsReader.Read(copy);
            if (!OperatingSystem.IsWindows())
            {
                Assert.Equal(SignatureStatuses.HashMismatch, facts.SignatureStatus);
            }

            var r = facts.Authenticode!;
            Assert.Equal(AuthenticodeStatus.HashMismatch, r.Status);
            Assert.NotEqual(r.SignedDigest, r.ComputedDigest);
            Assert.Contains("changed after signing", r.Detail);
            Assert.Contains("CN=Daniel Atallah", facts.SignerSubject);
        }

        [SkippableFact]
        public void TheChecksumAndTheCertificateTableAreLeftOutOfTheDigest()
        {
            byte[] original = Corpus("pidgin.exe");
            var image = PeFile.Parse(original, "pidgin.exe");
            byte[] bytes = (byte[])original.Clone();
            BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(image.CheckSumFileOffset), 0xDEADBEEF);
            // A byte of the certificate table's own padding beyond the PKCS#7 blob is outside the digest as well.
            uint blob = BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan((int)image.SecurityDirectoryOffset));
            if (blob < image.SecurityDirectorySize)
            {
                bytes[image.SecurityDirectoryOffset + image.SecurityDirectorySize - 1] ^= 0xFF;
            }

            var r = Verify(bytes);
            Assert.Equal(Verify(original).ComputedDigest, r.ComputedDigest);
            Assert.Equal(r.SignedDigest, r.ComputedDigest);
        }

        [SkippableTheory]
        [InlineData("firefox_invalid_x86.exe")]
        [InlineData("firefox_invalid_x64.exe")]
        public void PeNetsInvalidFirefoxCopiesAreHashMismatches(string name)
        {
            var r = Verify(Corpus(name));
            Assert.Equal(AuthenticodeStatus.HashMismatch, r.Status);
            Assert.Equal("SHA1", r.DigestAlgorithm);
            Assert.Contains("O=Mozilla Corporation", r.SignerSubject);
        }

        [SkippableTheory]
        [InlineData("firefox_x86.exe")]
        [InlineData("firefox_x64.exe")]
        [InlineData("old_firefox_x86.exe")]
        public void FirefoxWithBrokenCertificatesHoldsItsDigestButIsNotValid(string name)
        {
#if !NET
            Skip.If(true, "the net472 build reads no signing timestamps (RFC 3161 and old counter-signatures are checked on .NET 8 only), so there a signature is judged as of now");
#endif
            var r = Verify(Corpus(name));
            Assert.Equal(r.SignedDigest, r.ComputedDigest);
            Assert.NotEqual(AuthenticodeStatus.HashMismatch, r.Status);
            if (!OperatingSystem.IsWindows())
            {
                // The counter-signature (a bare-digest RSA signature, as old Symantec/VeriSign authorities made them) verifies,
                // but the Thawte time-stamping root is in no Linux store: the long-expired certificate is checked as of now.
                Assert.Equal(AuthenticodeStatus.Untrusted, r.Status);
                Assert.Contains("NotTimeValid", r.Detail);
                Assert.Contains("counter-signature of ", r.Detail);
                Assert.Contains("verifies, but its time-stamping chain is not trusted", r.Detail);
            }
        }

        [SkippableFact]
        public void AMicrosoftSignedDllChainsToThePinnedMicrosoftRootAtItsTimestamp()
        {
#if !NET
            Skip.If(true, "the net472 build reads no signing timestamps (RFC 3161 and old counter-signatures are checked on .NET 8 only), so there a signature is judged as of now");
#endif
            byte[] bytes = Corpus("dotnet_x64.dll");
            var r = Verify(bytes);
            Assert.Equal(AuthenticodeStatus.Valid, r.Status);
            Assert.True(r.ChainsToMicrosoftRoot);
            Assert.Contains("Microsoft Root Certificate Authority 2011", r.RootSubject);
            Assert.Equal("CN=Microsoft Corporation, O=Microsoft Corporation, L=Redmond, S=Washington, C=US", r.SignerSubject);
            Assert.NotNull(r.TimestampUtc);
            Assert.Contains("verified RFC 3161 timestamp", r.Detail);

            // Without the timestamp's time the signing certificate has long expired.
            var now = Verify(bytes, DateTime.UtcNow);
            Assert.Equal(AuthenticodeStatus.Untrusted, now.Status);
            Assert.Contains("NotTimeValid", now.Detail);
        }

        [SkippableFact]
        public void AMicrosoftBrandedDllChangedAfterSigningRaisesTheScoreInsteadOfLoweringIt()
        {
#if !NET
            Skip.If(true, "the net472 build reads no signing timestamps (RFC 3161 and old counter-signatures are checked on .NET 8 only), so there a signature is judged as of now");
#endif
            byte[] bytes = Corpus("dotnet_x64.dll");
            string genuine = Path.Combine(_scratch, "genuine", "dotnet.dll");
            string changed = Path.Combine(_scratch, "changed", "dotnet.dll");
            Directory.CreateDirectory(Path.GetDirectoryName(genuine)!);
            Directory.CreateDirectory(Path.GetDirectoryName(changed)!);
            File.WriteAllBytes(genuine, bytes);
            bytes[FirstCodeByte(bytes)] ^= 0x80;
            File.WriteAllBytes(changed, bytes);

            AutorunFacts Facts(string path)
            {
                var f = FileFactsReader.Read(path);
                Assert.Equal("Microsoft Corporation", f.CompanyName);
                return new AutorunFacts
                {
                    Name = "dotnet", IsWindows = true, ImagePath = @"C:\Users\bob\AppData\Roaming\dotnet.dll", ImageExists = true, IsPe = true,
                    CompanyName = f.CompanyName, FileDescription = f.FileDescription, OriginalFilename = f.OriginalFilename,
                    SignatureStatus = f.SignatureStatus, Signer = f.SignerSubject, ChainsToMicrosoftRoot = f.ChainsToMicrosoftRoot,
                    UserWritableReason = "in the user's AppData", Now = new DateTime(2026, 12, 7, 0, 0, 0, DateTimeKind.Utc),
                };
            }

            Skip.If(OperatingSystem.IsWindows(), "on Windows WinVerifyTrust's status is the one judged");
            var genuineFacts = Facts(genuine);
            var good = AutorunRules.Score(genuineFacts);
            var bad = AutorunRules.Score(Facts(changed));
            Assert.True(AutorunRules.IsMicrosoftSigned(genuineFacts));
            Assert.DoesNotContain(good.Reasons, r => r.Reason.Contains("claims to be Microsoft"));
            Assert.True(good.Total <= AutorunRules.MicrosoftCap);
            Assert.Contains(bad.Reasons, r => r.Reason.StartsWith("target claims to be Microsoft's ('Microsoft Corporation') but the file was changed after signing (HashMismatch)", StringComparison.Ordinal)
                && r.Points == SignatureRules.FalseMicrosoftClaimPoints);
            Assert.Contains(bad.Reasons, r => r.Points == SignatureRules.HashMismatchPoints);
            Assert.True(bad.Total > good.Total + SignatureRules.FalseMicrosoftClaimPoints);
        }

        [SkippableFact]
        public void AUsbTrapsPayloadCarriesItsSignatureStatusAndSigner()
        {
            string lnk = Usb.Corpus.Artifacts(Path.Combine("Matmaus__LnkParse3", "_decoded", "tests", "samples", "sample13.lnk"));
            Skip.If(!File.Exists(lnk), $"corpus file {lnk} is absent");
            byte[] payload = Corpus("pidgin.exe");
            payload[FirstCodeByte(payload)] ^= 0x01;
            // sample13's layout: everything moved into "_", the payload inside it, started by the shortcut.
            Directory.CreateDirectory(Path.Combine(_scratch, "_"));
            File.WriteAllBytes(Path.Combine(_scratch, "_", "DeviceManager.exe"), payload);
            File.Copy(lnk, Path.Combine(_scratch, "Removable Disk.lnk"));

            var trap = Assert.Single(new UsbScanner(new RecordingReporter()).Scan(_scratch, recurse: false));
            Assert.Equal(Path.Combine(_scratch, "_", "DeviceManager.exe"), trap.PayloadPath);
            Assert.Contains("CN=Daniel Atallah", trap.Signer);
            Assert.Equal(OperatingSystem.IsWindows() ? SignatureStatuses.Invalid : SignatureStatuses.HashMismatch, trap.SignatureStatus);
        }

        [Theory]
        [InlineData("NotSigned", @"C:\Windows\System32\winml.dll", null, false, false)]
        [InlineData("NotSigned", @"C:\Users\bob\AppData\Local\Temp\winml.dll", null, false, true)]
        [InlineData("CatalogSigned", @"C:\Users\bob\winml.dll", null, false, false)]
        [InlineData("Unsigned", @"C:\Windows\System32\winml.dll", null, false, true)]
        [InlineData("Valid", @"C:\Windows\System32\x.dll", "CN=Microsoft Corporation, O=Microsoft Corporation, L=Redmond, S=Washington, C=US", true, false)]
        [InlineData("Valid", @"C:\Windows\System32\x.dll", "CN=Evil Ltd, O=Evil Ltd, C=US", false, true)]
        [InlineData("Valid", @"C:\Windows\System32\x.dll", "CN=Microsoft Corporation, O=Microsoft Corporation, C=US", false, true)]
        [InlineData("Untrusted", @"C:\Windows\System32\x.dll", "CN=Microsoft Corporation, O=Microsoft Corporation, C=US", false, true)]
        [InlineData("HashMismatch", @"C:\Windows\System32\x.dll", "CN=Microsoft Corporation, O=Microsoft Corporation, C=US", true, true)]
        public void AMicrosoftClaimCountsOnlyWithAMicrosoftSignatureThatHolds(string status, string path, string? signer, bool microsoftRoot, bool raised)
        {
            var claim = SignatureRules.FalseMicrosoftClaim("Microsoft Corporation", status, signer, microsoftRoot, AutorunRules.InSystemDirectory(path));
            Assert.Equal(raised, claim is not null);
            Assert.Null(SignatureRules.FalseMicrosoftClaim("Contoso", status, signer, microsoftRoot, false));
        }

        [SkippableFact]
        public void UnsignedFilesAreNotSigned()
        {
            Assert.Equal(AuthenticodeStatus.NotSigned, Verify(Corpus("HelloWorld.exe")).Status);
            Assert.Equal(AuthenticodeStatus.NotSigned, Verify(Corpus("winml.dll")).Status);
        }

        [SkippableFact]
        public void DamagedPkcs7IsMalformedNotACrash()
        {
            byte[] original = Corpus("pidgin.exe");
            var image = PeFile.Parse(original, "pidgin.exe");
            int blob = (int)image.SecurityDirectoryOffset + 8;
            var rng = new Random(19);
            for (int round = 0; round < 200; round++)
            {
                byte[] bytes = (byte[])original.Clone();
                for (int k = 0; k < 1 + round % 4; k++)
                {
                    bytes[blob + rng.Next(0, 200)] = (byte)rng.Next(256);
                }

                var r = Verify(bytes);
                Assert.NotEqual(AuthenticodeStatus.Valid, r.Status);
                Assert.NotEqual(AuthenticodeStatus.NotSigned, r.Status);
                Assert.False(string.IsNullOrEmpty(r.Detail));
            }

            byte[] cut = (byte[])original.Clone();
            BinaryPrimitives.WriteUInt32LittleEndian(cut.AsSpan(blob - 8), 40);
            Assert.Equal(AuthenticodeStatus.Malformed, Verify(cut).Status);
        }

        [Fact]
        public void SpcIndirectDataIsReadWithOrWithoutItsOuterSequence()
        {
            // SEQUENCE { SEQUENCE { OID 1.3.6.1.4.1.311.2.1.15 }, SEQUENCE { SEQUENCE { OID sha256, NULL }, OCTET STRING(32) } }
            byte[] pe = { 0x30, 0x0C, 0x06, 0x0A, 0x2B, 0x06, 0x01, 0x04, 0x01, 0x82, 0x37, 0x02, 0x01, 0x0F };
            byte[] alg = { 0x30, 0x0D, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00 };
            byte[] digest = new byte[] { 0x04, 0x20 }.Concat(Enumerable.Range(1, 32).Select(i => (byte)i)).ToArray();
            byte[] info = new byte[] { 0x30, (byte)(alg.Length + digest.Length) }.Concat(alg).Concat(digest).ToArray();
            byte[] inner = pe.Concat(info).ToArray();
            byte[] whole = new byte[] { 0x30, (byte)inner.Length }.Concat(inner).ToArray();

            foreach (var der in new[] { whole, inner })
            {
                Assert.True(Authenticode.TryParseSpcIndirectData(der, out var data, out string? error), error);
                Assert.Equal(Authenticode.SpcPeImageDataOid, data!.DataType);
                Assert.Equal(Authenticode.Sha256Oid, data.DigestAlgorithmOid);
                Assert.Equal("SHA256", data.DigestAlgorithmName);
                Assert.Equal(Enumerable.Range(1, 32).Select(i => (byte)i), data.Digest);
            }

            for (int cut = 0; cut < whole.Length; cut++)
            {
                Assert.False(Authenticode.TryParseSpcIndirectData(whole.AsSpan(0, cut), out _, out _));
            }
        }
    }
}
