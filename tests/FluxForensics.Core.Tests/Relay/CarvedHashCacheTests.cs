using System;
using System.Linq;
using System.Security.Cryptography;
using FluxForensics.Capture;

namespace FluxForensics.Tests.Relay
{
    public class CarvedHashCacheTests
    {
        private static RelayCarvedFile Carve(CarvedHashCache cache, byte[] content)
        {
            var file = new RelayCarvedFile("Ftp", gzip: false, extractPath: null, maxCompressed: 1 << 20, hashCache: cache);
            for (int i = 0; i < content.Length; i += 1000)
            {
                file.Append(content.AsSpan(i, Math.Min(1000, content.Length - i)));
            }

            file.Finish(complete: true);
            return file;
        }

        private static string Hex(byte[] b) => Convert.ToHexString(b).ToLowerInvariant();

        [Fact]
        public void AnIdenticalFileTakesTheHashesAndOneByteDifferentIsHashedAgain()
        {
            var cache = new CarvedHashCache();
            var first = RelayAnalyzerTests.FakePe(6000, 3);
            var same = first.ToArray();
            // Differs in one byte the look-up key does not sample: the bytes, not the key, decide.
            var other = first.ToArray();
            other[1] ^= 0xFF;

            var a = Carve(cache, first);
            var b = Carve(cache, same);
            var c = Carve(cache, other);

            Assert.Equal(1, cache.Hits);
            Assert.Equal(Hex(SHA256.HashData(first)), a.Sha256);
            Assert.Equal(a.Sha256, b.Sha256);
            Assert.Equal(a.Md5, b.Md5);
            Assert.Equal(Hex(SHA256.HashData(other)), c.Sha256);
            Assert.Equal(Hex(MD5.HashData(other)), c.Md5);
            Assert.NotEqual(a.Sha256, c.Sha256);
        }

        [Fact]
        public void FilesLargerThanTheHeadAreHashedAsTheyStreamAndNotRemembered()
        {
            var cache = new CarvedHashCache();
            var big = RelayAnalyzerTests.FakePe(CarvedHashCache.MaxFileSize + 5000, 4);

            var a = Carve(cache, big);
            var b = Carve(cache, big);

            Assert.Equal(0, cache.Hits);
            Assert.Equal(Hex(SHA256.HashData(big)), a.Sha256);
            Assert.Equal(a.Sha256, b.Sha256);
        }
    }
}
