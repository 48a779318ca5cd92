using System;
using System.Linq;
using System.Text;
using FluxForensics.Capture;
using FluxForensics.Model;

namespace FluxForensics.Tests.Relay
{
    /// <summary>Each kind of bad input yields a parse issue; the rest of the capture is still analysed.</summary>
    public class RelayBadInputTests
    {
        private static readonly DateTime T0 = new DateTime(2012, 5, 14, 9, 0, 0, DateTimeKind.Utc);

        /// <summary>A good, direct SMTP login on another flow: must survive whatever the bad flow does.</summary>
        private static void GoodLogin(RelayRun run, DateTime at) =>
            run.Tcp("10.0.0.50", 45000, "192.0.2.99", 25, at).Handshake()
               .S("220 ok\r\n").C("EHLO a\r\n").S("250 ok\r\n").C("AUTH PLAIN " + RelayAnalyzerTests.B64("\0good\0pw") + "\r\n").S("235 ok\r\n").Close();

        private static void AssertIssueAndRestAnalysed(RelayRun run, string fragment)
        {
            Assert.Contains(run.Context.Issues, i => i.Message.Contains(fragment, StringComparison.OrdinalIgnoreCase));
            Assert.Contains(run.Of<ExposedCredential>(), c => c.Account == "good" && c.Accepted == true);
        }

        [Fact]
        public void ACaptureThatEndsMidStream()
        {
            var run = new RelayRun();
            GoodLogin(run, T0);
            run.Tcp("10.0.0.5", 43000, "192.0.2.10", 80, T0.AddSeconds(1)).Handshake()
               .C("GET /big.exe HTTP/1.1\r\nHost: x\r\n\r\n")
               .Data(false, Encoding.ASCII.GetBytes("HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n").Concat(RelayAnalyzerTests.FakePe(5000, 2)).ToArray());
            run.Complete();
            AssertIssueAndRestAnalysed(run, "stream ended in the middle of an HTTP body");
            var partial = Assert.Single(run.Of<FluxDownload>());
            Assert.Equal(5000, partial.Size);
            Assert.Contains(partial.Reasons, r => r.Reason.Contains("incomplete"));
        }

        [Fact]
        public void AStreamWithAHole()
        {
            var run = new RelayRun();
            GoodLogin(run, T0);
            var s = run.Tcp("10.0.0.6", 43001, "192.0.2.11", 25, T0.AddSeconds(1)).Handshake();
            s.S("220 ok\r\n").C("EHLO b\r\n").S("250 ok\r\n").C("MAIL FROM:<a@b>\r\n");
            s.Skip(true, 40);                               // lost: the first RCPT
            s.C("RCPT TO:<c@d>\r\n").S("250 ok\r\n").Close();
            run.Complete();
            AssertIssueAndRestAnalysed(run, "40 bytes missing");
            var smtp = run.Analyzer.Conversations.Single(c => c.Client.ToString() == "10.0.0.6").Smtp!;
            Assert.Equal(new[] { "c@d" }, smtp.Transactions.Single().Recipients);
        }

        [Fact]
        public void AnEndlessHeaderLine()
        {
            var run = new RelayRun();
            var s = run.Tcp("10.0.0.7", 43002, "192.0.2.12", 80, T0).Handshake();
            s.C("GET / HTTP/1.1\r\nX-Junk: ").Data(true, Enumerable.Repeat((byte)'A', 200_000).ToArray());
            GoodLogin(run, T0.AddSeconds(1));
            s.Close();
            run.Complete();
            AssertIssueAndRestAnalysed(run, "line longer than");
        }

        [Fact]
        public void ABase64BodyThatIsNotBase64()
        {
            var run = new RelayRun();
            GoodLogin(run, T0);
            string mail = "Subject: x\r\nContent-Type: multipart/mixed; boundary=zz\r\n\r\n--zz\r\nContent-Type: text/plain\r\n" +
                          "Content-Transfer-Encoding: base64\r\n\r\nthis is *not* base64! see http://bad.example/p\r\n--zz--\r\n";
            run.Tcp("10.0.0.8", 43003, "192.0.2.13", 25, T0.AddSeconds(1)).Handshake()
               .S("220 ok\r\n").C("HELO c\r\n").S("250 ok\r\n").C("MAIL FROM:<a@b>\r\n").S("250 ok\r\n").C("RCPT TO:<c@d>\r\n").S("250 ok\r\n")
               .C("DATA\r\n").S("354 go\r\n").C(mail + ".\r\n").S("250 ok\r\n").Close();
            run.Complete();
            AssertIssueAndRestAnalysed(run, "not base64");
            var message = run.Analyzer.Conversations.Single(c => c.Client.ToString() == "10.0.0.8").Smtp!.Transactions.Single().Message!;
            Assert.Contains("http://bad.example/p", message.Urls);
        }

        [Fact]
        public void AChunkedEncodingThatLies()
        {
            var run = new RelayRun();
            GoodLogin(run, T0);
            run.Tcp("10.0.0.9", 43004, "192.0.2.14", 80, T0.AddSeconds(1)).Handshake()
               .C("GET /x HTTP/1.1\r\nHost: y\r\n\r\n")
               .S("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello world, more than five\r\n0\r\n\r\n")
               .C("GET /y HTTP/1.1\r\n\r\n").S("zz\r\n").Close();
            run.Complete();
            AssertIssueAndRestAnalysed(run, "chunk data longer than its declared size");

            var other = new RelayRun();
            GoodLogin(other, T0);
            other.Tcp("10.0.0.9", 43005, "192.0.2.14", 80, T0.AddSeconds(1)).Handshake()
                 .C("GET /x HTTP/1.1\r\n\r\n").S("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n").Close();
            other.Complete();
            AssertIssueAndRestAnalysed(other, "chunk size is not a hexadecimal number");
        }

        [Fact]
        public void AuthLoginThatIsNotBase64IsReportedNotGuessed()
        {
            var run = new RelayRun();
            GoodLogin(run, T0);
            run.Tcp("10.0.0.10", 43006, "192.0.2.15", 25, T0.AddSeconds(1)).Handshake()
               .S("220 ok\r\n").C("EHLO d\r\n").S("250 ok\r\n").C("AUTH LOGIN\r\n").S("334 VXNlcm5hbWU6\r\n").C("%%%not base64%%%\r\n").S("501 bad\r\n").Close();
            run.Complete();
            AssertIssueAndRestAnalysed(run, "AUTH LOGIN account is not base64");
            Assert.Single(run.Of<ExposedCredential>());
        }

        [Fact]
        public void RandomBytesAndSequenceNumbersNeverThrow()
        {
            var random = new Random(7);
            var run = new RelayRun(new CaptureAnalysisOptions { MaxBufferedBytesPerFlow = 8192 });
            string[] starts = { "GET / HTTP/1.1\r\n", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", "EHLO x\r\n", "220 ftp\r\n", "USER a\r\n", "CONNECT a:25 HTTP/1.0\r\n\r\n", "" };
            for (int flow = 0; flow < 300; flow++)
            {
                var s = run.Tcp($"10.9.{flow / 200}.{flow % 200 + 1}", (ushort)(30000 + flow), "10.8.0.1", (ushort)(flow % 3 == 0 ? 80 : 25), T0.AddSeconds(flow), (uint)random.Next(), (uint)random.Next());
                if (flow % 2 == 0) s.Handshake();
                s.C(starts[random.Next(starts.Length)]).S(starts[random.Next(starts.Length)]);
                for (int i = 0; i < 30; i++)
                {
                    var junk = new byte[random.Next(0, 300)];
                    random.NextBytes(junk);
                    if (random.Next(4) == 0) junk = Encoding.ASCII.GetBytes("AUTH LOGIN\r\n%%%\r\n" + "0" + random.Next(0, 99999).ToString("x") + "\r\n");
                    bool fromClient = random.Next(2) == 0;
                    uint seq = (fromClient ? s.ClientSeq : s.ServerSeq) + (uint)random.Next(-2000, 2000);
                    s.Raw(fromClient, seq, junk, random.Next(10) == 0 ? TcpFlags.Fin | TcpFlags.Ack : TcpFlags.Ack);
                }
            }

            run.Complete();
            Assert.True(run.Context.IssueCount > 0);
        }
    }
}
