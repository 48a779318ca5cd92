using System;
using System.IO;
using System.IO.Compression;
using System.Linq;
using System.Security.Cryptography;
using System.Text;
using FluxForensics.Capture;
using FluxForensics.Model;

namespace FluxForensics.Tests.Relay
{
    public class RelayAnalyzerTests
    {
        private static readonly DateTime T0 = new DateTime(2012, 5, 14, 9, 0, 0, DateTimeKind.Utc);
        private const string Relay = "140.127.1.77";

        internal static string B64(string s) => Convert.ToBase64String(Encoding.UTF8.GetBytes(s));

        internal static string PhishingMail(string to) =>
            "From: Security <security@bank.example>\r\nTo: " + to + "\r\nSubject: Verify your account\r\nMIME-Version: 1.0\r\n" +
            "Content-Type: multipart/alternative; boundary=\"b1\"\r\n\r\n" +
            "--b1\r\nContent-Type: text/plain; charset=us-ascii\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
            Convert.ToBase64String(Encoding.ASCII.GetBytes("Please log in at http://login.bank-verify.example/a?id=1 now.\r\n"), Base64FormattingOptions.InsertLineBreaks) + "\r\n" +
            "--b1\r\nContent-Type: text/html\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n" +
            "<a href=3D\"http://phish.example/verif=\r\ny.php?u=3D7\">click</a>\r\n" +
            "--b1--\r\n";

        /// <summary>The same SMTP bytes on an inbound leg (bot → relay:80) and an outbound leg (relay → mx:25).</summary>
        internal static void RelayedSmtp(RelayRun run, string bot, ushort botPort, string mx, ushort relayPort, DateTime start, bool accept = true, string? body = null)
        {
            var inbound = run.Tcp(bot, botPort, Relay, 80, start).Handshake();
            var outbound = run.Tcp(Relay, relayPort, mx, 25, start.AddMilliseconds(20)).Handshake();
            void Server(string line) { outbound.S(line); inbound.S(line); }
            void Client(string line) { inbound.C(line); outbound.C(line); }
            Server("220 mx.example ESMTP\r\n");
            Client("EHLO bot\r\n");
            Server("250-mx.example\r\n250 AUTH LOGIN PLAIN\r\n");
            Client("AUTH LOGIN\r\n");
            Server("334 VXNlcm5hbWU6\r\n");
            Client(B64("victim@mail.example") + "\r\n");
            Server("334 UGFzc3dvcmQ6\r\n");
            Client(B64("hunter2") + "\r\n");
            Server(accept ? "235 2.7.0 Authentication successful\r\n" : "535 5.7.8 Authentication failed\r\n");
            Client("MAIL FROM:<security@bank.example>\r\n");
            Server("250 OK\r\n");
            Client("RCPT TO:<alice@corp.example>\r\n");
            Server("250 OK\r\n");
            Client("RCPT TO:<bob@corp.example>\r\n");
            Server("250 OK\r\n");
            Client("DATA\r\n");
            Server("354 go ahead\r\n");
            Client((body ?? PhishingMail("alice@corp.example")) + ".\r\n");
            Server("250 queued\r\n");
            Client("QUIT\r\n");
            Server("221 bye\r\n");
            outbound.Close();
            inbound.Close();
        }

        [Fact]
        public void RelayedSmtpIsPairedAndItsLoginRecipientsAndUrlsAreReported()
        {
            var run = new RelayRun();
            RelayedSmtp(run, "203.0.113.5", 41000, "198.51.100.25", 50000, T0);
            run.Complete();

            var session = Assert.Single(run.Of<RelaySession>());
            Assert.Equal("Smtp", session.Protocol);
            Assert.Equal("203.0.113.5", session.Client);
            Assert.Equal(Relay, session.Relay);
            Assert.Equal("198.51.100.25", session.Server);
            Assert.Equal(25, session.ServerPort);
            Assert.Equal("victim@mail.example", session.Account);
            Assert.Equal(Redaction.Mask, session.Secret);
            Assert.True(session.Accepted);
            Assert.Equal(new[] { "alice@corp.example", "bob@corp.example" }, session.Recipients);
            Assert.Equal(new[] { "Verify your account" }, session.Subjects);
            Assert.Contains("http://login.bank-verify.example/a?id=1", session.Urls);
            Assert.Contains("http://phish.example/verify.php?u=7", session.Urls);
            Assert.Contains("identical", session.PairingEvidence);
            Assert.True(session.BytesToServer > 0 && session.BytesToClient > 0);
            Assert.True(session.End > session.Start);
            Assert.Contains(NetAddress.FromIPAddress(System.Net.IPAddress.Parse(Relay)), run.Analyzer.RelayHosts);

            var credential = Assert.Single(run.Of<ExposedCredential>());
            Assert.Equal("Smtp", credential.Protocol);
            Assert.Equal("LOGIN", credential.Mechanism);
            Assert.Equal("203.0.113.5", credential.Client);
            Assert.Equal("198.51.100.25", credential.Server);
            Assert.Equal(Relay, credential.Relay);
            Assert.Equal("victim@mail.example", credential.Account);
            Assert.Equal(Redaction.Mask, credential.Secret);
            Assert.True(credential.Accepted);
            Assert.Equal(2, run.Analyzer.FlowCount);
        }

        [Fact]
        public void SecretsAreShownOnlyWhenAskedAndRefusedLoginsSaySo()
        {
            var run = new RelayRun(new CaptureAnalysisOptions { IncludeSecret = true });
            RelayedSmtp(run, "203.0.113.5", 41000, "198.51.100.25", 50000, T0, accept: false);
            run.Complete();
            var credential = Assert.Single(run.Of<ExposedCredential>());
            Assert.Equal("hunter2", credential.Secret);
            Assert.False(credential.Accepted);
            Assert.StartsWith("535", credential.Reply);
        }

        [Fact]
        public void DirectMailSubmissionIsACredentialButNotARelay()
        {
            var run = new RelayRun();
            var s = run.Tcp("10.1.1.20", 52000, "10.1.1.2", 587, T0).Handshake();
            s.S("220 mail.corp ESMTP\r\n").C("EHLO pc\r\n").S("250 AUTH PLAIN\r\n")
             .C("AUTH PLAIN " + B64("\0alice\0s3cret") + "\r\n").S("235 ok\r\n")
             .C("MAIL FROM:<alice@corp>\r\n").S("250 ok\r\n").C("RCPT TO:<bob@corp>\r\n").S("250 ok\r\n")
             .C("DATA\r\n").S("354 go\r\n").C("Subject: lunch\r\n\r\nsee http://intranet.corp/menu\r\n.\r\n").S("250 ok\r\n").Close();
            run.Complete();
            Assert.Empty(run.Of<RelaySession>());
            Assert.Empty(run.Analyzer.RelayHosts);
            var credential = Assert.Single(run.Of<ExposedCredential>());
            Assert.Equal("PLAIN", credential.Mechanism);
            Assert.Equal("alice", credential.Account);
            Assert.Null(credential.Relay);
            Assert.True(credential.Accepted);
        }

        internal static byte[] FakePe(int size, int seed)
        {
            var bytes = new byte[size];
            new Random(seed).NextBytes(bytes);
            bytes[0] = (byte)'M'; bytes[1] = (byte)'Z';
            BitConverter.GetBytes(0x80).CopyTo(bytes, 0x3C);
            bytes[0x80] = (byte)'P'; bytes[0x81] = (byte)'E'; bytes[0x82] = 0; bytes[0x83] = 0;
            return bytes;
        }

        private static string Sha256(byte[] b) => Convert.ToHexString(SHA256.HashData(b)).ToLowerInvariant();

        [Fact]
        public void RelayedExeDownloadNamesTheBotFromXMyRealIpWithBasicAuth()
        {
            var run = new RelayRun();
            var exe = FakePe(30_000, 1);
            var response = Encoding.ASCII.GetBytes($"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: {exe.Length}\r\n\r\n").Concat(exe).ToArray();
            var inbound = run.Tcp("203.0.113.9", 42000, Relay, 80, T0).Handshake();
            inbound.C("GET /mobile7.exe HTTP/1.1\r\nHost: " + Relay + "\r\n\r\n");
            var outbound = run.Tcp(Relay, 51000, "192.0.2.44", 80, T0.AddMilliseconds(30)).Handshake();
            outbound.C("GET /mobile7.exe HTTP/1.1\r\nHost: dl.flux.example\r\nAuthorization: Basic " + B64("infected:infected") + "\r\nX-My-Real-IP: 203.0.113.9\r\n\r\n");
            outbound.Data(false, response);
            inbound.Data(false, response);
            outbound.Close();
            inbound.Close();
            run.Complete();

            var download = Assert.Single(run.Of<FluxDownload>());
            Assert.Equal("203.0.113.9", download.Client);
            Assert.Equal(Relay, download.Relay);
            Assert.Equal("192.0.2.44", download.Server);
            Assert.Equal("http://dl.flux.example/mobile7.exe", download.Url);
            Assert.Equal("mobile7.exe", download.FileName);
            Assert.Equal(exe.Length, download.Size);
            Assert.Equal(Sha256(exe), download.Sha256);
            Assert.Equal(Convert.ToHexString(MD5.HashData(exe)).ToLowerInvariant(), download.Md5);
            Assert.Equal("PE", download.FileType);
            Assert.Null(download.SavedPath);

            var session = Assert.Single(run.Of<RelaySession>());
            Assert.Equal("Http", session.Protocol);
            Assert.Contains("server to client", session.PairingEvidence);
            var credential = Assert.Single(run.Of<ExposedCredential>());
            Assert.Equal("Basic", credential.Mechanism);
            Assert.Equal("infected", credential.Account);
            Assert.Equal("203.0.113.9", credential.Client);
            Assert.True(credential.Accepted);
        }

        /// <summary>
        /// A keep-alive connection with more pages than the analyser keeps: past the first 10,000 the parser and the
        /// conversation reuse their request/response objects and body state, and the executables among the pages (one
        /// answering a pipelined request, one small enough to be hashed from the head) keep their own URL, name and hashes.
        /// </summary>
        [Fact]
        public void ExecutablesOnALongKeepAliveConnectionKeepTheirOwnNamesAndHashes()
        {
            var run = new RelayRun();
            var tcp = run.Tcp("10.1.1.5", 40100, "192.0.2.80", 80, T0).Handshake();
            var page = Encoding.ASCII.GetBytes("HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 5\r\n\r\nhello");
            var big = FakePe(9_000, 7);
            var small = FakePe(700, 8);
            byte[] Response(byte[] body) => Encoding.ASCII.GetBytes($"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: {body.Length}\r\n\r\n").Concat(body).ToArray();
            for (int i = 0; i < 10_050; i++)
            {
                if (i == 10_020)
                {
                    // Pipelined: two requests before either answer; the second is the executable.
                    tcp.C("GET /news/a HTTP/1.1\r\nHost: www.example.com\r\n\r\n");
                    tcp.C("GET /dl/big%20tool.exe?x=1 HTTP/1.1\r\nHost: files.example.com\r\nAuthorization: Basic " + B64("infected:infected") + "\r\n\r\n");
                    tcp.Data(false, page);
                    tcp.Data(false, Response(big));
                    continue;
                }

                if (i == 10_030)
                {
                    tcp.C("HEAD /check HTTP/1.1\r\nHost: www.example.com\r\n\r\n");
                    tcp.S("HTTP/1.1 200 OK\r\nContent-Length: 123\r\n\r\n");
                    tcp.C("GET /small.exe HTTP/1.1\r\nHost: www.example.com\r\n\r\n");
                    tcp.Data(false, Response(small));
                    continue;
                }

                tcp.C($"GET /news/{i % 3} HTTP/1.1\r\nHost: www.example.com\r\n\r\n");
                tcp.Data(false, page);
            }

            tcp.Close();
            run.Complete();

            var downloads = run.Of<FluxDownload>().OrderBy(d => d.Size).ToList();
            Assert.Equal(2, downloads.Count);
            Assert.Equal("http://www.example.com/small.exe", downloads[0].Url);
            Assert.Equal("small.exe", downloads[0].FileName);
            Assert.Equal(Sha256(small), downloads[0].Sha256);
            Assert.Equal(small.Length, downloads[0].Size);
            Assert.Equal("http://files.example.com/dl/big%20tool.exe?x=1", downloads[1].Url);
            Assert.Equal("big tool.exe", downloads[1].FileName);
            Assert.Equal(Sha256(big), downloads[1].Sha256);
            Assert.Equal(big.Length, downloads[1].Size);
            var credential = Assert.Single(run.Of<ExposedCredential>());
            Assert.Equal("infected", credential.Account);

            // The first 10,000 pages are kept for tools, each with its own URL and size; none is hashed.
            var pages = run.Analyzer.CarvedFiles.Where(f => f.ExecutableType is null).ToList();
            Assert.Equal(10_000, pages.Count);
            Assert.Equal("http://www.example.com/news/0", pages[0].Url);
            Assert.Equal("http://www.example.com/news/2", pages[9_998].Url);
            Assert.All(pages, p => Assert.Equal(5, p.Size));
            Assert.All(pages, p => Assert.Equal(string.Empty, p.Sha256));
            Assert.Empty(run.Context.Issues);
        }

        [Fact]
        public void ChunkedGzipBodiesAreInflatedAndExtractionWritesANonExecutableNameAndAManifest()
        {
            string folder = Path.Combine(Path.GetTempPath(), "relay-extract-" + Guid.NewGuid().ToString("N"));
            try
            {
                var run = new RelayRun(new CaptureAnalysisOptions { ExtractPath = folder });
                var elf = new byte[5000];
                new Random(3).NextBytes(elf);
                elf[0] = 0x7F; elf[1] = (byte)'E'; elf[2] = (byte)'L'; elf[3] = (byte)'F';
                var gz = new MemoryStream();
                using (var z = new GZipStream(gz, CompressionLevel.Optimal, leaveOpen: true)) z.Write(elf);
                var compressed = gz.ToArray();
                var body = new MemoryStream();
                void W(string s) => body.Write(Encoding.ASCII.GetBytes(s));
                W("HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n");
                for (int i = 0; i < compressed.Length; i += 700)
                {
                    int n = Math.Min(700, compressed.Length - i);
                    W(n.ToString("x") + ";ext=1\r\n");
                    body.Write(compressed, i, n);
                    W("\r\n");
                }

                W("0\r\n\r\n");
                var s = run.Tcp("10.0.0.5", 43000, "192.0.2.10", 8080, T0).Handshake();
                s.C("GET /bin/x HTTP/1.1\r\nHost: upd.example:8080\r\n\r\n").Data(false, body.ToArray()).Close();
                run.Complete();
                var download = Assert.Single(run.Of<FluxDownload>());
                Assert.Equal("ELF", download.FileType);
                Assert.Equal(Sha256(elf), download.Sha256);
                Assert.Null(download.Relay);
                Assert.Equal(Path.Combine(folder, download.Sha256 + ".bin"), download.SavedPath);
                Assert.Equal(elf, File.ReadAllBytes(download.SavedPath!));
                var manifest = File.ReadAllLines(Path.Combine(folder, "manifest.tsv"));
                Assert.Equal(2, manifest.Length);
                Assert.StartsWith(download.Sha256, manifest[1]);
                Assert.Equal(2, Directory.GetFiles(folder).Length);
            }
            finally
            {
                if (Directory.Exists(folder)) Directory.Delete(folder, true);
            }
        }

        [Fact]
        public void WithoutExtractPathNothingIsWritten()
        {
            var run = new RelayRun();
            var exe = FakePe(2000, 9);
            run.Tcp("10.0.0.5", 43000, "192.0.2.10", 80, T0).Handshake()
               .C("GET /a.exe HTTP/1.0\r\n\r\n").Data(false, Encoding.ASCII.GetBytes("HTTP/1.0 200 OK\r\n\r\n").Concat(exe).ToArray()).Close();
            run.Complete();
            var d = Assert.Single(run.Of<FluxDownload>());
            Assert.Equal(Sha256(exe), d.Sha256);   // body until close
            Assert.Null(d.SavedPath);
        }

        [Fact]
        public void FtpLoginWithRefusalAndPassiveDataIsCarved()
        {
            var run = new RelayRun();
            var exe = FakePe(9000, 5);
            var c = run.Tcp("10.0.0.7", 44000, "192.0.2.21", 21, T0).Handshake();
            c.S("220 ftp\r\n").C("USER bob\r\n").S("331 pw\r\n").C("PASS wrong\r\n").S("530 Login incorrect.\r\n")
             .C("USER bob\r\n").S("331 pw\r\n").C("PASS right\r\n").S("230 ok\r\n")
             .C("PASV\r\n").S("227 Entering Passive Mode (192,0,2,21,195,80).\r\n");
            var data = run.Tcp("10.0.0.7", 44001, "192.0.2.21", 50000, T0.AddSeconds(1)).Handshake();
            c.C("RETR tools/payload.exe\r\n").S("150 opening\r\n");
            data.Data(false, exe).Close();
            c.S("226 done\r\n").C("QUIT\r\n").S("221 bye\r\n").Close();
            run.Complete();

            var logins = run.Of<ExposedCredential>().ToList();
            Assert.Equal(2, logins.Count);
            Assert.False(logins[0].Accepted);
            Assert.True(logins[1].Accepted);
            Assert.All(logins, l => Assert.Equal("bob", l.Account));
            var d = Assert.Single(run.Of<FluxDownload>());
            Assert.Equal("Ftp", d.Protocol);
            Assert.Equal("tools/payload.exe", d.FileName);
            Assert.Equal("ftp://192.0.2.21/tools/payload.exe", d.Url);
            Assert.Equal(Sha256(exe), d.Sha256);
            Assert.Equal("10.0.0.7", d.Client);
            Assert.Equal("bob", d.Account);
        }

        [Fact]
        public void ActiveModeFtpDataIsCarvedToo()
        {
            var run = new RelayRun();
            var c = run.Tcp("10.0.0.7", 44000, "192.0.2.21", 21, T0).Handshake();
            c.S("220 ftp\r\n").C("USER anonymous\r\n").S("331 pw\r\n").C("PASS a@b\r\n").S("230 ok\r\n")
             .C("PORT 10,0,0,7,100,1\r\n").S("200 ok\r\n").C("STOR up.txt\r\n");
            run.Tcp("192.0.2.21", 20, "10.0.0.7", 25601, T0.AddSeconds(1)).Handshake().C("hello file").Close();
            c.S("226 done\r\n").Close();
            run.Complete();
            var file = Assert.Single(run.Analyzer.CarvedFiles);
            Assert.Equal("up.txt", file.FileName);
            Assert.Equal(10, file.Size);
            Assert.Empty(run.Of<FluxDownload>());
        }

        [Fact]
        public void HttpBasicWithXForwardedForAndForwardedAreRead()
        {
            Assert.Equal("192.0.2.60", Formats.HttpMessageHead.ClientAddressFrom("Forwarded", "for=192.0.2.60;proto=http;by=203.0.113.43"));
            Assert.Equal("2001:db8:cafe::17", Formats.HttpMessageHead.ClientAddressFrom("Forwarded", "for=\"[2001:db8:cafe::17]:4711\""));
            Assert.Equal("203.0.113.1", Formats.HttpMessageHead.ClientAddressFrom("X-Forwarded-For", "203.0.113.1, 10.0.0.1"));
            Assert.True(Formats.HttpStreamParser.TryDecodeBasic("Basic " + B64("test:1:34"), out var a, out var p));
            Assert.Equal("test", a);
            Assert.Equal("1:34", p);
        }

        [Fact]
        public void SmtpIsRecognisedByContentOnAnyPortAndHttpByContentOnPort25()
        {
            Assert.Equal(RelayProtocol.Smtp, RelayConversation.Recognise(Encoding.ASCII.GetBytes("EHLO x\r\n"), false));
            Assert.Equal(RelayProtocol.Ftp, RelayConversation.Recognise(Encoding.ASCII.GetBytes("USER x\r\n"), true));
            Assert.Equal(RelayProtocol.Http, RelayConversation.Recognise(Encoding.ASCII.GetBytes("CONNECT a:25 HTTP/1.0\r\n"), false));
            Assert.Equal(RelayProtocol.Unknown, RelayConversation.Recognise(new byte[] { 0x16, 3, 1, 0, 5, 1 }, false));
        }

        [Fact]
        public void ManyBotsThroughOneRelayAreInferredWithoutHostAddress()
        {
            var run = new RelayRun();
            for (int i = 0; i < 5; i++)
            {
                RelayedSmtp(run, $"203.0.113.{10 + i}", (ushort)(41000 + i), $"198.51.100.{30 + i}", (ushort)(50000 + i), T0.AddSeconds(i * 2));
            }

            run.Complete();
            Assert.Equal(5, run.Of<RelaySession>().Count());
            Assert.Single(run.Analyzer.RelayHosts);
            // Sessions wait until their relay's counts can no longer raise a score (2 clients, 5 servers): here the fifth pair,
            // so all five are reported then, each with the relay's five bots and five servers.
            Assert.All(run.Of<RelaySession>(), s => Assert.Contains("relay serves 5 clients", s.Reasons.Select(r => r.Reason)));
            Assert.All(run.Of<RelaySession>(), s => Assert.Contains("relay reaches 5 servers", s.Reasons.Select(r => r.Reason)));
            Assert.Equal(5, run.Of<ExposedCredential>().Count());
        }

        [Fact]
        public void WhenTheAnalystNamesAnotherHostNothingIsPairedThroughThisOne()
        {
            var run = new RelayRun(new CaptureAnalysisOptions { HostAddresses = new[] { NetAddress.FromIPAddress(System.Net.IPAddress.Parse("10.9.9.9")) } });
            RelayedSmtp(run, "203.0.113.5", 41000, "198.51.100.25", 50000, T0);
            run.Complete();
            Assert.Empty(run.Of<RelaySession>());
            Assert.Equal(2, run.Of<ExposedCredential>().Count()); // both legs, neither known to be relayed
        }

        [Fact]
        public void OldConversationsWithNothingToReportLeaveMemoryAndRelaysStillPair()
        {
            var run = new RelayRun(new CaptureAnalysisOptions { FlowTimeout = TimeSpan.FromSeconds(60) });
            for (int i = 0; i < 6000; i++)
            {
                var at = T0.AddSeconds(i);
                run.Tcp($"10.2.{i / 250}.{i % 250 + 1}", (ushort)(20000 + i % 30000), "10.1.1.2", 25, at).Handshake()
                   .S("220 mail ESMTP ready\r\n").C("EHLO host\r\n").S("250 mail\r\n").C("QUIT\r\n").S("221 bye\r\n").Close();
                if (i == 5000)
                {
                    RelayedSmtp(run, "203.0.113.5", 41000, "198.51.100.25", 50000, at.AddMilliseconds(500));
                }
            }

            run.Complete();
            Assert.True(run.Analyzer.DroppedConversations > 4000, $"dropped {run.Analyzer.DroppedConversations}");
            Assert.Single(run.Of<RelaySession>());
            Assert.Single(run.Of<ExposedCredential>());
            Assert.True(run.Analyzer.Reassembler.PeakOpenFlows < 10);
        }

        /// <summary>
        /// Pairs found in the sweeps of a long capture are reported and let go at once: every relayed session and login
        /// is still reported, scored with the relay's clients and servers over the whole capture, while only the last
        /// window's conversations are held at the end. An FTP data connection that outlives its relayed control pair
        /// (which was reported and let go meanwhile) still yields the relayed download.
        /// </summary>
        [Fact]
        public void PairsFromSweepsAreReportedAndLetGoAndALateFtpFileIsStillRelayed()
        {
            var run = new RelayRun(new CaptureAnalysisOptions { FlowTimeout = TimeSpan.FromSeconds(60) });
            var exe = FakePe(20_000, 9);
            TcpScript? data = null;
            int sent = 0;
            for (int i = 0; i < 6000; i++)
            {
                var at = T0.AddSeconds(i);
                run.Tcp($"10.2.{i / 250}.{i % 250 + 1}", (ushort)(20000 + i % 30000), "10.1.1.2", 25, at).Handshake()
                   .S("220 mail ESMTP ready\r\n").C("EHLO host\r\n").S("250 mail\r\n").C("QUIT\r\n").S("221 bye\r\n").Close();
                if (i % 500 == 100)
                {
                    // A bot's mail relayed to one of twelve mail servers, every 500 s.
                    RelayedSmtp(run, $"203.0.113.{i / 500 + 1}", 41000, $"198.51.100.{i / 500 + 1}", (ushort)(50000 + i / 500), at.AddMilliseconds(500));
                }

                if (i == 10)
                {
                    // A relayed FTP login whose download (on the outbound leg's passive data connection) trickles for 5 minutes.
                    var inbound = run.Tcp("203.0.113.200", 42000, Relay, 21, at).Handshake();
                    var outbound = run.Tcp(Relay, 52000, "192.0.2.60", 21, at.AddMilliseconds(20)).Handshake();
                    // The relay forwards every byte both ways; the server's reply reaches the relay's leg last, so the
                    // passive data connection the relay opens belongs to the outbound control connection.
                    void Server(string line) { inbound.S(line); outbound.S(line); }
                    void Client(string line) { inbound.C(line); outbound.C(line); }
                    Server("220 ftp.example FTP server ready\r\n");
                    Client("USER dropper\r\n");
                    Server("331 password please\r\n");
                    Client("PASS s3cret-ftp\r\n");
                    Server("230 logged in\r\n");
                    Client("PASV\r\n");
                    Server("227 Entering Passive Mode (192,0,2,60,195,80).\r\n");
                    data = run.Tcp(Relay, 52001, "192.0.2.60", 50000, at.AddMilliseconds(300)).Handshake();
                    Client("RETR mobile7.exe\r\n");
                    Server("150 opening\r\n");
                    Server("226 done\r\n");
                    Client("QUIT\r\n");
                    Server("221 bye\r\n");
                    outbound.Close();
                    inbound.Close();
                }

                if (data is not null && i >= 20 && i % 50 == 0 && sent < exe.Length)
                {
                    // 200 bytes every 50 s (inside the 60 s flow timeout): the file ends near 5,000 s, after sweeps
                    // reported and let go the control pair.
                    int n = Math.Min(200, exe.Length - sent);
                    data.Time = at.AddMilliseconds(200);
                    data.Data(false, exe.AsSpan(sent, n).ToArray());
                    sent += n;
                    if (sent == exe.Length)
                    {
                        data.Close();
                    }
                }
            }

            run.Complete();

            Assert.Equal(sent, exe.Length);
            Assert.Equal(1, run.Analyzer.LateFiles);
            Assert.True(run.Analyzer.PairCount >= 13, $"pairs {run.Analyzer.PairCount}");
            Assert.True(run.Analyzer.Conversations.Count < 4096, $"held {run.Analyzer.Conversations.Count} of 6,015"); // the sweep threshold
            var sessions = run.Of<RelaySession>().ToList();
            Assert.Equal(13, sessions.Count);
            var smtp = sessions.Where(x => x.Protocol == "Smtp").ToList();
            Assert.Equal(12, smtp.Count);
            // Sessions wait until their relay's counts can no longer raise a score (2 clients, 5 servers) and are then reported as
            // they pair: the FTP pair and the first three SMTP pairs wait for the fifth pair, so the first four SMTP sessions
            // carry the relay's 5 bots and 5 servers, and the k-th (from 0) after them the relay's k + 2; the last has 13.
            for (int k = 0; k < smtp.Count; k++)
            {
                int seen = Math.Max(5, k + 2);
                Assert.Contains(smtp[k].Reasons, r => r.Reason == $"relay serves {seen} clients");
                Assert.Contains(smtp[k].Reasons, r => r.Reason == $"relay reaches {seen} servers");
            }

            Assert.Contains(smtp[11].Reasons, r => r.Reason == "relay serves 13 clients");
            Assert.Contains(smtp[11].Reasons, r => r.Reason == "relay reaches 13 servers");
            Assert.Equal(12, run.Of<ExposedCredential>().Count(c => c.Protocol == "Smtp" && c.Relay == Relay));
            var ftpLogin = Assert.Single(run.Of<ExposedCredential>(), c => c.Protocol == "Ftp");
            Assert.Equal("dropper", ftpLogin.Account);
            Assert.Equal("203.0.113.200", ftpLogin.Client);
            Assert.Equal(Relay, ftpLogin.Relay);

            var download = Assert.Single(run.Of<FluxDownload>());
            Assert.Equal("mobile7.exe", download.FileName);
            Assert.Equal(Sha256(exe), download.Sha256);
            Assert.Equal("203.0.113.200", download.Client);
            Assert.Equal(Relay, download.Relay);
            Assert.Equal("192.0.2.60", download.Server);
            Assert.Equal("dropper", download.Account);
            Assert.Contains(download.Reasons, r => r.Reason.Contains("relay", StringComparison.OrdinalIgnoreCase));
        }

        [Fact]
        public void Ipv6ConversationsAreFollowedToo()
        {
            var run = new RelayRun();
            run.Tcp("2001:db8::5", 50000, "2001:db8:1::25", 21, T0).Handshake()
               .S("220 ftp\r\n").C("USER v6user\r\n").S("331 pw\r\n").C("PASS v6pass\r\n").S("230 ok\r\n").Close();
            run.Complete();
            var credential = Assert.Single(run.Of<ExposedCredential>());
            Assert.Equal("2001:db8::5", credential.Client);
            Assert.Equal("2001:db8:1::25", credential.Server);
            Assert.True(credential.Accepted);
        }
    }
}
