using System.Linq;
using System.Security.Cryptography;
using System.Text;
using FluxForensics.Formats;

namespace FluxForensics.Tests.Relay
{
    /// <summary>The message headers the relay findings take (subject, MIME structure), read from bytes.</summary>
    public class MimeHeaderTests
    {
        private static MimeMessage Parse(string text) => MimeMessage.Parse(Encoding.Latin1.GetBytes(text));

        [Fact]
        public void FoldedAndOddlyCasedHeadersAreUnfoldedAndOthersIgnored()
        {
            var m = Parse(
                "X-Long: one\r\n two\r\n" +
                "SUBJECT:   Verify\r\n\tyour  account \r\n" +
                "from: Bank <a@bank.example>\r\n" +
                "Content-Type: multipart/mixed;\r\n boundary=\"zz\"\r\n\r\n" +
                "--zz\r\nContent-Type: text/plain\r\n\r\nsee http://phish.example/x\r\n" +
                "--zz\r\ncontent-transfer-encoding: BASE64\r\nContent-Disposition: attachment;\r\n filename=\"a.bin\"\r\n\r\naGVsbG8=\r\n--zz--\r\n");

            Assert.Equal("Verify your  account", m.Subject);
            Assert.Equal("Bank <a@bank.example>", m.From);
            Assert.Equal(2, m.Parts.Count);
            Assert.Contains("http://phish.example/x", m.Urls);
            var attachment = m.Parts[1];
            Assert.Equal("a.bin", attachment.FileName);
            Assert.Equal("base64", attachment.TransferEncoding);
            Assert.Equal(5, attachment.Size);
            Assert.Equal(System.Convert.ToHexString(SHA256.HashData(Encoding.ASCII.GetBytes("hello"))).ToLowerInvariant(), attachment.Sha256);
            Assert.Empty(m.Issues);
        }

        [Fact]
        public void AHeaderNameWithAControlByteIsNotTakenForAKnownOne()
        {
            // "content\rtype" must not be read as Content-Type (the part stays text/plain and is searched for URLs).
            var m = Parse("Subject: s\r\ncontent\rtype: multipart/mixed; boundary=q\r\n\r\nhttp://x.example/y\r\n");

            Assert.Equal("text/plain", m.Parts.Single().ContentType);
            Assert.Contains("http://x.example/y", m.Urls);
        }

        [Fact]
        public void ContinuationLinesBeforeAnyHeaderAndLinesWithoutAColonAreNotJoinedToAKnownHeader()
        {
            var m = Parse(" stray: continuation\r\nnot a header line\r\n folded onto nothing\r\nSubject: kept\r\n\r\nbody\r\n");

            Assert.Equal("kept", m.Subject);
        }
    }
}
