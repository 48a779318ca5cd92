using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Security.Cryptography.Pkcs;
using FluxForensics.Formats;
using FluxForensics.Host;

namespace FluxForensics.Fuzz
{
    /// <summary>A signed PE through the Authenticode check without WinVerifyTrust: PKCS#7 decode, SpcIndirectDataContent,
    /// the image digest, the CMS signature, timestamps and the chain.</summary>
    public sealed class AuthenticodeTarget : IFuzzTarget
    {
        public string Name => "authenticode";

        /// <summary>The corpus PEs whose security directory is set.</summary>
        public IEnumerable<string> SeedFiles(FuzzPaths paths) =>
            paths.CorpusFiles("*.exe", "*.dll").Where(f => PeFile.Parse(File.ReadAllBytes(f), f).Signature == PeSignaturePresence.Present);

        public void Run(byte[] input)
        {
            var image = PeFile.Parse(input, "fuzz");
            var result = AuthenticodeVerifier.Verify(input, image);
            _ = result.Status;
            _ = result.SignerSubject;
        }
    }

    /// <summary>The SpcIndirectDataContent DER reader on its own (the content of a signature's PKCS#7).</summary>
    public sealed class SpcIndirectDataTarget : IFuzzTarget, IGeneratedSeeds
    {
        public string Name => "spc";

        public IEnumerable<string> SeedFiles(FuzzPaths paths) => Enumerable.Empty<string>();

        /// <summary>The SpcIndirectDataContent of every signed corpus PE, as SignedCms hands it out.</summary>
        public IEnumerable<byte[]> GeneratedSeeds(FuzzPaths paths)
        {
            foreach (var file in new AuthenticodeTarget().SeedFiles(paths))
            {
                byte[] bytes = File.ReadAllBytes(file);
                var image = PeFile.Parse(bytes, file);
                int length = BitConverter.ToInt32(bytes, (int)image.SecurityDirectoryOffset);
                var cms = new SignedCms();
                cms.Decode(bytes.AsSpan((int)image.SecurityDirectoryOffset + 8, length - 8).ToArray());
                yield return cms.ContentInfo.Content;
            }
        }

        public void Run(byte[] input)
        {
            if (Authenticode.TryParseSpcIndirectData(input, out var data, out _))
            {
                _ = data!.DigestAlgorithmName;
            }
        }
    }
}
