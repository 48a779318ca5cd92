using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Security.Cryptography;
using System.Security.Cryptography.Pkcs;
using System.Security.Cryptography.X509Certificates;
using FluxForensics.Formats;
using FluxForensics.Model;

namespace FluxForensics.Host
{
    /// <summary>
    /// Checks an embedded Authenticode signature the way WinVerifyTrust does for the parts that need no Windows: decodes
    /// the PKCS#7 SignedData (<see cref="SignedCms"/>), compares SpcIndirectDataContent's digest with the PE's Authenticode
    /// digest, verifies the CMS signature, and builds the chain (no revocation, no network) at the timestamp's time when a
    /// verified timestamp is present. Microsoft's product roots are pinned, because only Windows ships them.
    /// </summary>
    public static class AuthenticodeVerifier
    {
        private const string CodeSigningEku = "1.3.6.1.5.5.7.3.3";
        private const string LegacyCounterSignatureOid = "1.2.840.113549.1.9.6";
        private const string Rfc3161TimestampOid = "1.3.6.1.4.1.311.3.3.1";
        private const string SigningTimeOid = "1.2.840.113549.1.9.5";
        private const string MessageDigestOid = "1.2.840.113549.1.9.4";
        private const string TstInfoOid = "1.2.840.113549.1.9.16.1.4";
        private const string TimeStampingEku = "1.3.6.1.5.5.7.3.8";

        /// <summary>Microsoft Root Certificate Authority 2010 and 2011 (DER, as Microsoft publishes them); SHA-1 thumbprints
        /// 3B1EFD3A66EA28B16697394703A72CA340A05BD5 and 8F43288AD272F3103B6FB1428485EA3014C0BCFE.</summary>
        private static readonly string[] MicrosoftRootsBase64 =
        {
            "MIIF7TCCA9WgAwIBAgIQKMw6Jb+6RKxEmptYa0M5qjANBgkqhkiG9w0BAQsFADCBiDELMAkGA1UEBhMCVVMxEzARBgNVBAgTCldh" +
            "c2hpbmd0b24xEDAOBgNVBAcTB1JlZG1vbmQxHjAcBgNVBAoTFU1pY3Jvc29mdCBDb3Jwb3JhdGlvbjEyMDAGA1UEAxMpTWljcm9z" +
            "b2Z0IFJvb3QgQ2VydGlmaWNhdGUgQXV0aG9yaXR5IDIwMTAwHhcNMTAwNjIzMjE1NzI0WhcNMzUwNjIzMjIwNDAxWjCBiDELMAkG" +
            "A1UEBhMCVVMxEzARBgNVBAgTCldhc2hpbmd0b24xEDAOBgNVBAcTB1JlZG1vbmQxHjAcBgNVBAoTFU1pY3Jvc29mdCBDb3Jwb3Jh" +
            "dGlvbjEyMDAGA1UEAxMpTWljcm9zb2Z0IFJvb3QgQ2VydGlmaWNhdGUgQXV0aG9yaXR5IDIwMTAwggIiMA0GCSqGSIb3DQEBAQUA" +
            "A4ICDwAwggIKAoICAQC5CJ4o5OTsBk5QaLNBxXvrrraOr4G6IkQfZTRpTL5wQBfyFnvief2G7Q059BuorZKQHss9do9a2bWREC48" +
            "BY2KbSRU5x/tVq2DtFCcFaUXdIhZIPwIxYR202jUbyh4zly481CQRP/jY1++oZoslhUE1gf+HoQh4EIxEcQoNpTPUKRinsnWq3EA" +
            "slsM5pbUCiSW9f/G1bcb18u3IWKvEtyhXTfjGvsaRpjAm8DnYx8qCJMCfh5qjvKfGInkIoWisYRXQP/1DthvnO3iRTEBzRfpf7CB" +
            "ReOqIUAmoXKqp088AQV+7oNYsV4GY5likXiCtw2TDCRqtBvbJ+xflQQ/k0ow9ZcYs6f5GaeTMx0ByNsiUlzXJclG+aL7h1lDvpti" +
            "sY0thkQaRqx4YX4wCfquicRBKiJmA5E5RZzHiwyoyg0v+1LqDPdjMyOd/rAfrWfWp1ADxgRwY7UssYZaQ7f7rvluKW4hIUEmBozJ" +
            "w+6wwoWTobmF2eYybEtMP9Zdo+W1nXfDnMBVt3QA47g4q4OXUOGaQiQdxsCjMNEaWshSNPdz8ccYHzOteuzLQWDzI5QgwkhFrFxR" +
            "xi6AwuJ3Fb2Fh+02nZaR7gC1o3Dsn+ONgGiDdrqvXXBSIhbiZvu6s8XC9z4vd6bK3sGmxkhMwzdRI9Mn17hOcJbwoUR2r3jPmuFm" +
            "EwIDAQABo1EwTzALBgNVHQ8EBAMCAYYwDwYDVR0TAQH/BAUwAwEB/zAdBgNVHQ4EFgQU1fZWy4/oolxiaNE9lJBb186aGMQwEAYJ" +
            "KwYBBAGCNxUBBAMCAQAwDQYJKoZIhvcNAQELBQADggIBAKylloy/u66m9tdxh0MxVoj9HDJxWzW31PCR8q834hTx8wImBT4WFH8U" +
            "urhP+4mysufUCcxtuVs7ZGVwZrfysVrfGgLz9VG4Z215879We+SEuSsem0CcJjT5RxiYadgc17bRv49hwmfEte9gQ44QGzZJ5CDK" +
            "rafBsSdlCfjN9Vsq0IQz8+8f8vWcC1iTN6B1oN5y3mx1KmYi9YwGMFafQLkwqkB3FYLXi+zA07K9g8V3DB6urxlToE15cZ8PrzDO" +
            "Z/nWLMwiQXoH8pdCGM5ZeRBV3m8Q5Ljag2ZAFgloI1uXLiaaArtXjMW4umliMoCJnqH9wJJ8eyszGYQqY8UAaGL6n0eNmXpFOqfp" +
            "7e5pQrXzgZtHVhB7/HA2hBhz6u/5l02eMyPdJgu6Krc/RNyDJ/+9YVkrEbfKT9vFiwwcMa4y+Pi5Qvd/3GGadrFaBOERPWZFtxhx" +
            "vskkhdbz1LpBNF0SLSW5jaYTSG1LsAd9mZMJYYF0VyaKq2nj5NnHiMwk2OxSJFwevJEU4pbe6wrant1fs1vb1ILsxiBQhyVAOvvH" +
            "7s3+M+Vuw4QJVQMlOcDpNV1lMaj2v6AJzSnHszYyLtyV84PBWs+LjfbqsyH4pO0eMQ62TBGrYAukEiMiF6M2ZIKRBBLgq28ey1AF" +
            "YbRA/1mGcdHVM2l8qXOKONdkDPFp",
            "MIIF7TCCA9WgAwIBAgIQP4vItfyfspZDtWnWbELhRDANBgkqhkiG9w0BAQsFADCBiDELMAkGA1UEBhMCVVMxEzARBgNVBAgTCldh" +
            "c2hpbmd0b24xEDAOBgNVBAcTB1JlZG1vbmQxHjAcBgNVBAoTFU1pY3Jvc29mdCBDb3Jwb3JhdGlvbjEyMDAGA1UEAxMpTWljcm9z" +
            "b2Z0IFJvb3QgQ2VydGlmaWNhdGUgQXV0aG9yaXR5IDIwMTEwHhcNMTEwMzIyMjIwNTI4WhcNMzYwMzIyMjIxMzA0WjCBiDELMAkG" +
            "A1UEBhMCVVMxEzARBgNVBAgTCldhc2hpbmd0b24xEDAOBgNVBAcTB1JlZG1vbmQxHjAcBgNVBAoTFU1pY3Jvc29mdCBDb3Jwb3Jh" +
            "dGlvbjEyMDAGA1UEAxMpTWljcm9zb2Z0IFJvb3QgQ2VydGlmaWNhdGUgQXV0aG9yaXR5IDIwMTEwggIiMA0GCSqGSIb3DQEBAQUA" +
            "A4ICDwAwggIKAoICAQCygEGqNThNE3IyaCJNuLLx/9VSvGzH9dJKjDbu0cJcfoyKrq8TKG/Ac+M6ztAlqFo6be+ouFmrEyNozQwp" +
            "h9FvgFyPRH9dkAFSWKxRxV8qh9zc2AodwQO5e7BW6KPeZGHCnvjzfLnsDbVU/ky2ZU+I8JxImQxCCwl8MVkXeQZ4KI2JOkwDJb5x" +
            "alwL54RgpJki49KvhKSn+9GY7Qyp3pSJ4Q6g3MDOmT3qCFK7VnnkH4S6Hri0xElcTzFLh93dBWcmmYDgcRGjuKVB4qRTufcyKYMM" +
            "E782XgSzS0NHL2vikR7TmE/dQgfI6B0S/Jmpaz6SfsjWaTr8ZL22CZ3K/QwLopt3YEsDlKQwaRLWQi3BQUzK3Kr9j1uDRprZ/LHR" +
            "47PJf0h6zSTwQY9cdNCssBAgBkm3xy0hyFfj0IbzA2j70M5xwYmZSmQBbP3sMJHPQTySx+W6hh1hhMdfgzlirrSSL0fzC/hV66Af" +
            "WdC7dJse0Hbm8ukG1xDo+mTeacY1logC8Ea4PyeZb8txiSk190gWAjWP1Xl8TQLPX+uKg09FcYj5qQ1OcunCnAfPSRtOBA5jUYxe" +
            "2ADBVSy2xuDCZU7JNDn1nLPEfuhhbhNfFcRf2X7tHc7uROzLLoax7Dj2cO2rXBPB2Q8Nx4CyVe0096yb5MPa50c8prWPMd/FS6/r" +
            "8QIDAQABo1EwTzALBgNVHQ8EBAMCAYYwDwYDVR0TAQH/BAUwAwEB/zAdBgNVHQ4EFgQUci06AjGQQ7kUBU7h6qfHMdEjiTQwEAYJ" +
            "KwYBBAGCNxUBBAMCAQAwDQYJKoZIhvcNAQELBQADggIBAH9yzw+3xRXbm8BJyiZb/p4T5tPw0tuXX/JLP02zrhmu7deXoKzvqTqj" +
            "wkGw5biRnhOBJAPmCf0/V0A5ISRW0RAvS0CpNoZLtFNXmvvxfomPEf4YbFGq6O0JlbXlccmh6Yd1phV/yX43VF50k8XDZ8wNT2uo" +
            "FwxtCJJ+i92Bqi1wIcM9BhS7vyRep4TXPw8hIr1LAAbblxzYXtTFC1yHblCk6MM4pPvLLMWSZpuFXst6bJN8gClYW1e1QGm6CHmm" +
            "ZGIVnYeWRbVmIyADixxzoNOieTPgUFmG2y/lAiXqcyqfABTINseSO+lOAOzYVgm5M0kS0lQLAausR7aRKX1MtHWAUgHoyoL2n8ys" +
            "nI8X6i8msKtyrAv+nlEex0NVZ09Rs1fWtuzuUrc66U7h14GIvE+OdbtLqPA1qibUZ2dJsnBMO5PcHd94kIZysjik0dySTclY6ysS" +
            "XNQ7roxrsIPlAT/4CTL2kzU0Iq/dNw13CYArzUgA8YyZGUcFAenRv9FO0OYoQzeZpApKCNmacXPSqs0xE2N2oTdvkjgefRI8ZjLn" +
            "y23h/FKJ3crWZgWalmG+oijHHKOnNlA8OqTfSm7mhzvO6/DggTedEzxSjr25HTTGHdUKaj2YKXCMiSrRq4IQSB/c9O+lxbtVGjhj" +
            "hE63bK2VVOxlIhBJF7jAHscPrFRH",
        };

        private static readonly Lazy<X509Certificate2[]> MicrosoftRoots = new Lazy<X509Certificate2[]>(
            () => MicrosoftRootsBase64.Select(b => new X509Certificate2(Convert.FromBase64String(b))).ToArray());

        /// <summary>Thumbprints (uppercase hex) of the pinned Microsoft roots.</summary>
        public static IReadOnlyList<string> MicrosoftRootThumbprints => MicrosoftRoots.Value.Select(c => c.Thumbprint).ToArray();

        /// <summary>Checks the embedded signature of <paramref name="file"/>, parsed as <paramref name="image"/>. Never throws
        /// for bad input; a signature it cannot read is <see cref="AuthenticodeStatus.Malformed"/>.</summary>
        public static AuthenticodeResult Verify(ReadOnlySpan<byte> file, PeImage image) => Verify(file, image, null);

        /// <summary>As <see cref="Verify(ReadOnlySpan{byte}, PeImage)"/>, checking the chain at <paramref name="verificationTime"/>
        /// when given (instead of the timestamp's time or now).</summary>
        public static AuthenticodeResult Verify(ReadOnlySpan<byte> file, PeImage image, DateTime? verificationTime)
        {
            if (!image.IsPe)
            {
                return new AuthenticodeResult(AuthenticodeStatus.Malformed, "not a PE file");
            }

            if (image.Signature == PeSignaturePresence.Absent)
            {
                return new AuthenticodeResult(AuthenticodeStatus.NotSigned, "no embedded Authenticode signature (security directory 0/0); catalog signatures cannot be checked without Windows");
            }

            if (image.Signature != PeSignaturePresence.Present)
            {
                return new AuthenticodeResult(AuthenticodeStatus.Malformed, "the security directory is set but holds no readable WIN_CERTIFICATE of type PKCS_SIGNED_DATA");
            }

            var cert = file.Slice((int)image.SecurityDirectoryOffset, (int)image.SecurityDirectorySize);
            int length = (int)System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(cert);
            byte[] pkcs7 = cert.Slice(8, length - 8).ToArray();
            try
            {
                return VerifyPkcs7(file, image, pkcs7, verificationTime);
            }
            catch (Exception e) when (e is CryptographicException or ArgumentException or FormatException or InvalidOperationException or NotSupportedException or OverflowException or IndexOutOfRangeException)
            {
                // SignedCms and X509 throw on hostile DER; that costs this file's verdict, never the run.
                return new AuthenticodeResult(AuthenticodeStatus.Malformed, "the Authenticode PKCS#7 could not be decoded: " + e.Message);
            }
        }

        private static AuthenticodeResult VerifyPkcs7(ReadOnlySpan<byte> file, PeImage image, byte[] pkcs7, DateTime? verificationTime)
        {
            var cms = new SignedCms();
            cms.Decode(pkcs7);
            if (cms.ContentInfo.ContentType.Value != Authenticode.SpcIndirectDataOid)
            {
                return new AuthenticodeResult(AuthenticodeStatus.Malformed, $"the PKCS#7 content is {cms.ContentInfo.ContentType.Value}, not SpcIndirectDataContent");
            }

            if (cms.SignerInfos.Count == 0)
            {
                return new AuthenticodeResult(AuthenticodeStatus.Malformed, "the PKCS#7 SignedData has no signer");
            }

            if (!Authenticode.TryParseSpcIndirectData(cms.ContentInfo.Content, out var indirect, out string? parseError))
            {
                return new AuthenticodeResult(AuthenticodeStatus.Malformed, "SpcIndirectDataContent: " + parseError);
            }

            var signer = cms.SignerInfos[0];
            var result = new AuthenticodeResult(AuthenticodeStatus.Malformed, string.Empty)
            {
                DigestAlgorithm = indirect!.DigestAlgorithmName ?? indirect.DigestAlgorithmOid,
                SignedDigest = FluxForensics.Hex.Lower(indirect.Digest),
                SignerSubject = signer.Certificate?.Subject,
                SignerThumbprint = signer.Certificate?.Thumbprint?.ToLowerInvariant(),
            };

            using var hash = CreateHash(indirect.DigestAlgorithmOid);
            if (hash is null)
            {
                result.Detail = $"the signature names digest algorithm {indirect.DigestAlgorithmOid}, which is not supported";
                return result;
            }

            if (!Authenticode.TryComputeDigest(file, image, hash, out byte[]? computed, out long tail, out string? digestError))
            {
                result.Detail = "the Authenticode digest could not be computed: " + digestError;
                return result;
            }

            result.ComputedDigest = FluxForensics.Hex.Lower(computed!);
            string tailNote = tail > 0 ? string.Format(CultureInfo.InvariantCulture, "; {0} bytes after the certificate table are not covered by the signature", tail) : string.Empty;
            if (!computed!.AsSpan().SequenceEqual(indirect.Digest))
            {
                result.Status = AuthenticodeStatus.HashMismatch;
                result.Detail = $"the file's {result.DigestAlgorithm} Authenticode digest {result.ComputedDigest} differs from the signed {result.SignedDigest}: the file was changed after signing{tailNote}";
                return result;
            }

            if (signer.Certificate is null)
            {
                result.Status = AuthenticodeStatus.Invalid;
                result.Detail = "the digest matches but the PKCS#7 does not carry the signer's certificate";
                return result;
            }

            try
            {
                // Checks the signed attributes' messageDigest against the content and the signature over the attributes.
                signer.CheckSignature(verifySignatureOnly: true);
            }
            catch (CryptographicException e)
            {
                result.Status = AuthenticodeStatus.Invalid;
                result.Detail = $"the digest matches but the PKCS#7 signature does not verify: {e.Message}";
                return result;
            }

            result.TimestampUtc = ReadTimestamp(signer, cms.Certificates, out string timestampNote);
            DateTime at = verificationTime ?? result.TimestampUtc ?? DateTime.UtcNow;
            string atText = at.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);
            string when = verificationTime is not null ? $"at {atText}" : result.TimestampUtc is not null ? $"at the timestamp {atText} ({timestampNote})" : $"now ({timestampNote})";
            var (trusted, microsoft, root, chainProblem) = CheckChain(signer.Certificate, cms.Certificates, at, CodeSigningEku);
            result.ChainsToMicrosoftRoot = microsoft;
            result.RootSubject = root;
            if (trusted)
            {
                result.Status = AuthenticodeStatus.Valid;
                result.Detail = $"Authenticode verified without WinVerifyTrust: {result.DigestAlgorithm} digest matches, PKCS#7 signature verifies, chain to '{root}' {(microsoft ? "(pinned Microsoft root) " : string.Empty)}checked {when}; revocation not checked{tailNote}";
            }
            else
            {
                result.Status = AuthenticodeStatus.Untrusted;
                result.Detail = $"{result.DigestAlgorithm} digest matches and the PKCS#7 signature verifies, but the chain is not trusted {when}: {chainProblem}{tailNote}";
            }

            return result;
        }

        private static (bool Trusted, bool Microsoft, string? Root, string Problem) CheckChain(X509Certificate2 signer, X509Certificate2Collection embedded, DateTime at, string eku)
        {
            using var chain = NewChain(embedded, at, eku);
            bool built = chain.Build(signer);
            string? root = chain.ChainElements.Count > 0 ? chain.ChainElements[chain.ChainElements.Count - 1].Certificate.Subject : null;
            bool microsoft = IsMicrosoftRoot(chain);
            if (built)
            {
                return (true, microsoft, root, string.Empty);
            }

            string problem = Describe(chain);
            if (microsoft && OnlyUntrustedRoot(chain))
            {
#if NET
                // The system store lacks Microsoft's roots (Linux, macOS): build again trusting only the pinned ones.
                using var pinned = NewChain(embedded, at, eku);
                pinned.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
                pinned.ChainPolicy.CustomTrustStore.AddRange(MicrosoftRoots.Value);
                if (pinned.Build(signer) && IsMicrosoftRoot(pinned))
                {
                    return (true, true, root, string.Empty);
                }

                problem = Describe(pinned);
#else
                // net472 has no custom trust store: the chain's only fault is its root, and that root is a pinned one.
                return (true, true, root, string.Empty);
#endif
            }

            return (false, microsoft, root, problem);
        }

        private static X509Chain NewChain(X509Certificate2Collection embedded, DateTime at, string eku)
        {
            var chain = new X509Chain();
            chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
            chain.ChainPolicy.VerificationFlags = X509VerificationFlags.NoFlag;
            chain.ChainPolicy.VerificationTime = at.ToLocalTime();
            chain.ChainPolicy.UrlRetrievalTimeout = TimeSpan.FromMilliseconds(1);
            chain.ChainPolicy.ApplicationPolicy.Add(new Oid(eku));
            chain.ChainPolicy.ExtraStore.AddRange(embedded);
            chain.ChainPolicy.ExtraStore.AddRange(MicrosoftRoots.Value);
#if NET
            chain.ChainPolicy.DisableCertificateDownloads = true;
#endif
            return chain;
        }

        private static bool IsMicrosoftRoot(X509Chain chain)
        {
            if (chain.ChainElements.Count == 0)
            {
                return false;
            }

            var top = chain.ChainElements[chain.ChainElements.Count - 1].Certificate;
            return MicrosoftRoots.Value.Any(r => string.Equals(r.Thumbprint, top.Thumbprint, StringComparison.OrdinalIgnoreCase));
        }

        private static bool OnlyUntrustedRoot(X509Chain chain) =>
            chain.ChainStatus.All(s => s.Status is X509ChainStatusFlags.UntrustedRoot or X509ChainStatusFlags.PartialChain or X509ChainStatusFlags.NoError);

        private static string Describe(X509Chain chain)
        {
            var flags = chain.ChainStatus.Select(s => s.Status.ToString()).Distinct().ToArray();
            string top = chain.ChainElements.Count > 0 ? chain.ChainElements[chain.ChainElements.Count - 1].Certificate.Subject : "(no chain)";
            return flags.Length == 0 ? $"chain to '{top}' not accepted" : $"{string.Join(", ", flags)} (chain ends at '{top}')";
        }

        /// <summary>The signing time from a verified legacy counter-signature or (on .NET 8) a verified RFC 3161 timestamp.</summary>
        private static DateTime? ReadTimestamp(SignerInfo signer, X509Certificate2Collection embedded, out string note)
        {
            note = "no timestamp";
            foreach (var counter in signer.CounterSignerInfos)
            {
                try
                {
                    counter.CheckSignature(verifySignatureOnly: true);
                }
                catch (CryptographicException e)
                {
#if NET
                    if (!VerifyBareHashCounterSignature(signer, counter))
#endif
                    {
                        note = "the counter-signature does not verify: " + e.Message;
                        continue;
                    }
                }

                foreach (var attribute in counter.SignedAttributes)
                {
                    if (attribute.Oid?.Value == SigningTimeOid && attribute.Values.Count > 0)
                    {
                        var time = DateTime.SpecifyKind(new Pkcs9SigningTime(attribute.Values[0].RawData).SigningTime, DateTimeKind.Utc);
                        var tsaChain = counter.Certificate is null ? default : CheckChain(counter.Certificate, embedded, time, TimeStampingEku);
                        if (!tsaChain.Trusted)
                        {
                            note = $"the counter-signature of {time.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture)} verifies, but its time-stamping chain is not trusted: {tsaChain.Problem ?? "no certificate"}";
                            break;
                        }

                        note = "verified counter-signature";
                        return time;
                    }
                }
            }

#if NET
            foreach (var attribute in signer.UnsignedAttributes)
            {
                if (attribute.Oid?.Value != Rfc3161TimestampOid || attribute.Values.Count == 0)
                {
                    continue;
                }

                // Rfc3161TimestampToken.TryDecode insists on details Microsoft's tokens lack, so the token is checked by hand:
                // the TSA's signature, its chain at the stamped time, and the imprint of this signer's signature value.
                var token = new SignedCms();
                token.Decode(attribute.Values[0].RawData);
                if (token.ContentInfo.ContentType.Value != TstInfoOid || token.SignerInfos.Count == 0 ||
                    !Rfc3161TimestampTokenInfo.TryDecode(token.ContentInfo.Content, out var info, out _))
                {
                    note = "the RFC 3161 timestamp is not a readable TSTInfo";
                    continue;
                }

                try
                {
                    token.SignerInfos[0].CheckSignature(verifySignatureOnly: true);
                }
                catch (CryptographicException e)
                {
                    note = "the RFC 3161 timestamp's signature does not verify: " + e.Message;
                    continue;
                }

                using var imprintHash = CreateHash(info!.HashAlgorithmId.Value ?? string.Empty);
                if (imprintHash is null || !imprintHash.ComputeHash(signer.GetSignature()).AsSpan().SequenceEqual(info.GetMessageHash().Span))
                {
                    note = "the RFC 3161 timestamp stamps another signature";
                    continue;
                }

                var stamped = info.Timestamp.UtcDateTime;
                var tsa = token.SignerInfos[0].Certificate;
                var all = new X509Certificate2Collection();
                all.AddRange(embedded);
                all.AddRange(token.Certificates);
                var tsaChain = tsa is null ? default : CheckChain(tsa, all, stamped, TimeStampingEku);
                if (!tsaChain.Trusted)
                {
                    note = $"the RFC 3161 timestamp of {stamped.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture)} verifies, but its authority's chain is not trusted: {tsaChain.Problem ?? "no certificate"}";
                    continue;
                }

                note = "verified RFC 3161 timestamp";
                return stamped;
            }
#else
            if (signer.UnsignedAttributes.Cast<CryptographicAttributeObject>().Any(a => a.Oid?.Value == Rfc3161TimestampOid))
            {
                note = "RFC 3161 timestamps are not read on .NET Framework";
            }
#endif

            return null;
        }

#if NET
        /// <summary>
        /// Older Authenticode timestamp authorities (Symantec/VeriSign, used by Firefox and many others) sign the bare
        /// digest of the counter-signature's attributes without the DigestInfo wrapper; WinVerifyTrust accepts that and
        /// SignedCms does not. Checked here by hand: the messageDigest attribute against the signer's signature value, and
        /// the RSA signature (PKCS#1 v1.5 block type 1) over the DER attributes against the bare digest.
        /// </summary>
        private static bool VerifyBareHashCounterSignature(SignerInfo signer, SignerInfo counter)
        {
            using var rsa = counter.Certificate?.GetRSAPublicKey();
            using var hash = CreateHash(counter.DigestAlgorithm.Value ?? string.Empty);
            if (rsa is null || hash is null)
            {
                return false;
            }

            byte[]? messageDigest = null;
            var encoded = new List<byte[]>();
            foreach (var attribute in counter.SignedAttributes)
            {
                var writer = new System.Formats.Asn1.AsnWriter(System.Formats.Asn1.AsnEncodingRules.DER);
                using (writer.PushSequence())
                {
                    writer.WriteObjectIdentifier(attribute.Oid?.Value ?? string.Empty);
                    using (writer.PushSetOf())
                    {
                        foreach (var value in attribute.Values)
                        {
                            writer.WriteEncodedValue(value.RawData);
                        }
                    }
                }

                encoded.Add(writer.Encode());
                if (attribute.Oid?.Value == MessageDigestOid && attribute.Values.Count == 1)
                {
                    var digest = new Pkcs9MessageDigest();
                    digest.CopyFrom(attribute.Values[0]);
                    messageDigest = digest.MessageDigest;
                }
            }

            if (messageDigest is null || !hash.ComputeHash(signer.GetSignature()).AsSpan().SequenceEqual(messageDigest))
            {
                return false;
            }

            var set = new System.Formats.Asn1.AsnWriter(System.Formats.Asn1.AsnEncodingRules.DER);
            using (set.PushSetOf())
            {
                foreach (var e in encoded)
                {
                    set.WriteEncodedValue(e);
                }
            }

            byte[] expected = hash.ComputeHash(set.Encode());
            var key = rsa.ExportParameters(false);
            var n = new System.Numerics.BigInteger(key.Modulus, isUnsigned: true, isBigEndian: true);
            var e2 = new System.Numerics.BigInteger(key.Exponent, isUnsigned: true, isBigEndian: true);
            var sig = new System.Numerics.BigInteger(counter.GetSignature(), isUnsigned: true, isBigEndian: true);
            if (sig >= n)
            {
                return false;
            }

            byte[] m = System.Numerics.BigInteger.ModPow(sig, e2, n).ToByteArray(isUnsigned: true, isBigEndian: true);
            int k = key.Modulus!.Length;
            if (m.Length > k - 1)
            {
                return false;
            }

            // EM = 00 01 FF..FF 00 T, with the leading 00 dropped by the integer: m = 01 FF..FF 00 T.
            int padEnd = m.Length - expected.Length - 1;
            if (m.Length != k - 1 || m[0] != 0x01 || padEnd < 9 || m[padEnd] != 0x00)
            {
                return false;
            }

            for (int i = 1; i < padEnd; i++)
            {
                if (m[i] != 0xFF)
                {
                    return false;
                }
            }

            return m.AsSpan(padEnd + 1).SequenceEqual(expected);
        }
#endif

        private static HashAlgorithm? CreateHash(string oid) => oid switch
        {
            Authenticode.Sha1Oid => SHA1.Create(),
            Authenticode.Sha256Oid => SHA256.Create(),
            Authenticode.Sha384Oid => SHA384.Create(),
            Authenticode.Sha512Oid => SHA512.Create(),
            Authenticode.Md5Oid => MD5.Create(),
            _ => null,
        };
    }
}
