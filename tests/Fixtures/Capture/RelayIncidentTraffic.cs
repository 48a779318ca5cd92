using System;
using System.Collections.Generic;
using System.Linq;
using System.Net;
using System.Text;
using FluxForensics.Fixtures.Relay;

namespace FluxForensics.Fixtures.Capture
{
    /// <summary>
    /// Who takes part in the relay half of the incident: the bots, the mail, FTP and upstream malware servers, the
    /// stolen accounts, the phishing URLs and the executables. Drawn once from the scenario's randomness (in the
    /// order the parts run), so the sample is the same on every run.
    /// </summary>
    internal sealed class RelayCast
    {
        private static readonly Dictionary<IncidentScenario, RelayCast> Casts = new Dictionary<IncidentScenario, RelayCast>();

        public static readonly string[] ExeNames =
        {
            "mobile7.exe", "CrashReportSaver.exe", "svch0st.exe", "flashupdate.exe", "codec-pack.exe",
            "photo_2012.exe", "invoice.pdf.exe", "usbguard.exe", "winlogin32.exe", "setup_v2.exe",
        };

        public static readonly string[] PhishingUrls =
        {
            "http://secure-login.paypa1-account.example/signin?ref={0}",
            "http://www.ebay-verify-session.example/ws/eBayISAPI.dll?SignIn&id={0}",
            "http://online.bankofamerica-alerts.example/update.php?c={0}",
            "http://mail-quota.webmail-upgrade.example/q/{0}",
            "http://apple-id.unlock-service.example/verify?u={0}",
        };

        private RelayCast(IncidentScenario scenario)
        {
            var r = scenario.Random;
            int scale = scenario.Scale;
            Bots = Enumerable.Range(0, 24 * scale).Select(_ => PublicAddress(r)).Distinct().ToList();
            MailServers = Enumerable.Range(0, 120 * scale).Select(_ => PublicAddress(r)).Distinct().ToList();
            FtpServers = Enumerable.Range(0, 3).Select(_ => PublicAddress(r)).ToList();
            Upstreams = new[] { "91.213.8.20", "94.63.149.150", "188.190.98.11", "204.45.67.89" }.Select(IPAddress.Parse).ToList();
            Accounts = Enumerable.Range(0, 16).Select(i => ($"{Word(r)}{r.Next(10, 99)}@{Word(r)}mail.example", Word(r) + r.Next(1000, 9999))).ToList();
            Exes = ExeNames.Select(_ => FakePe(r, 12_000 + r.Next(40_000) + scenario.ExeExtraBytes)).ToList();
            if (scenario.Malware is { } malware)
            {
                Exes[0] = malware;
            }
        }

        public static RelayCast For(IncidentScenario scenario)
        {
            lock (Casts)
            {
                if (!Casts.TryGetValue(scenario, out var cast))
                {
                    Casts[scenario] = cast = new RelayCast(scenario);
                }

                return cast;
            }
        }

        public List<IPAddress> Bots { get; }
        public List<IPAddress> MailServers { get; }
        public List<IPAddress> FtpServers { get; }
        public List<IPAddress> Upstreams { get; }
        public List<(string Account, string Password)> Accounts { get; }
        public List<byte[]> Exes { get; }

        internal static IPAddress PublicAddress(Random r)
        {
            int[] firsts = { 58, 61, 76, 89, 112, 114, 117, 124, 175, 180, 186, 190, 201, 212, 217 };
            return IPAddress.Parse($"{firsts[r.Next(firsts.Length)]}.{r.Next(1, 255)}.{r.Next(0, 256)}.{r.Next(1, 255)}");
        }

        internal static string Word(Random r)
        {
            string[] words = { "lucky", "star", "sunny", "blue", "kitty", "tiger", "rose", "happy", "dragon", "angel", "moon", "ace" };
            return words[r.Next(words.Length)];
        }

        /// <summary>A small Windows program image: MZ header pointing at a PE header, then deterministic bytes.</summary>
        internal static byte[] FakePe(Random r, int size)
        {
            var bytes = new byte[size];
            r.NextBytes(bytes);
            Array.Clear(bytes, 0, 0x100);
            bytes[0] = (byte)'M'; bytes[1] = (byte)'Z';
            BitConverter.GetBytes(0x80).CopyTo(bytes, 0x3C);
            Encoding.ASCII.GetBytes("This program cannot be run in DOS mode.").CopyTo(bytes, 0x4E);
            bytes[0x80] = (byte)'P'; bytes[0x81] = (byte)'E';
            bytes[0x84] = 0x4C; bytes[0x85] = 0x01; // i386
            return bytes;
        }

        internal static void Add(IList<CapturedFrame> frames, DateTime time, byte[] frame) => frames.Add(new CapturedFrame(time, frame));
    }

    /// <summary>Bots relay SMTP through the infected host's TCP 80 to many mail servers: AUTH LOGIN, then phishing mail.</summary>
    public sealed class RelaySmtpTraffic : IIncidentTraffic
    {
        public int Order => 40;

        public void Generate(IncidentScenario scenario, IList<CapturedFrame> frames)
        {
            var cast = RelayCast.For(scenario);
            var r = scenario.Random;
            FrameSink sink = (t, f) => RelayCast.Add(frames, t, f);
            int sessions = 150 * scenario.Scale;
            for (int i = 0; i < sessions; i++)
            {
                var start = scenario.Start.AddMinutes(10).AddSeconds(i * 7200.0 / sessions + r.NextDouble());
                var bot = cast.Bots[r.Next(cast.Bots.Count)];
                var mx = cast.MailServers[i < cast.MailServers.Count ? i : r.Next(cast.MailServers.Count)];
                var (account, password) = cast.Accounts[r.Next(cast.Accounts.Count)];
                bool accepted = r.Next(10) != 0;
                var c = new RelayedConversation(sink, bot, (ushort)r.Next(1025, 65000), scenario.Relay, 80, (ushort)r.Next(1025, 65000), mx, 25, start, r);
                c.S($"220 mx{i}.{RelayCast.Word(r)}.example ESMTP Postfix\r\n");
                c.C($"EHLO {RelayCast.Word(r)}-pc\r\n");
                c.S("250-mx\r\n250-PIPELINING\r\n250-AUTH LOGIN PLAIN\r\n250 8BITMIME\r\n");
                c.C("AUTH LOGIN\r\n").S("334 VXNlcm5hbWU6\r\n");
                c.C(B64(account) + "\r\n").S("334 UGFzc3dvcmQ6\r\n");
                c.C(B64(password) + "\r\n");
                if (!accepted)
                {
                    c.S("535 5.7.8 Error: authentication failed\r\n").C("QUIT\r\n").S("221 2.0.0 Bye\r\n");
                    c.Close();
                    continue;
                }

                c.S("235 2.7.0 Authentication successful\r\n");
                c.C($"MAIL FROM:<{account}>\r\n").S("250 2.1.0 Ok\r\n");
                var recipients = Enumerable.Range(0, 1 + r.Next(5)).Select(_ => $"{RelayCast.Word(r)}.{RelayCast.Word(r)}{r.Next(100)}@{RelayCast.Word(r)}.example").Distinct().ToList();
                foreach (var rcpt in recipients)
                {
                    c.C($"RCPT TO:<{rcpt}>\r\n").S("250 2.1.5 Ok\r\n");
                }

                c.C("DATA\r\n").S("354 End data with <CR><LF>.<CR><LF>\r\n");
                string url = string.Format(RelayCast.PhishingUrls[r.Next(RelayCast.PhishingUrls.Length)], r.Next(100000, 999999));
                c.C(Message(account, recipients, url, i, Attachment(r, scenario.MailAttachmentBytes)) + ".\r\n").S($"250 2.0.0 Ok: queued as {r.Next():X}\r\n");
                c.C("QUIT\r\n").S("221 2.0.0 Bye\r\n");
                c.Close();
            }
        }

        private static string B64(string s) => Convert.ToBase64String(Encoding.ASCII.GetBytes(s));

        /// <summary>A zip-looking payload of the given size (none when 0): what spam with an attachment carries.</summary>
        private static byte[]? Attachment(Random r, int size)
        {
            if (size <= 0)
            {
                return null;
            }

            var bytes = new byte[size];
            r.NextBytes(bytes);
            bytes[0] = (byte)'P'; bytes[1] = (byte)'K'; bytes[2] = 3; bytes[3] = 4;
            return bytes;
        }

        private static string Message(string from, List<string> to, string url, int n, byte[]? attachment)
        {
            string text = $"Dear customer,\r\n\r\nYour account has been limited. Please confirm your details at {url} within 24 hours.\r\n";
            string html = $"<html><body><p>Dear customer,</p><p>Please <a href=\"{url}\">confirm your account</a> now.</p></body></html>";
            var sb = new StringBuilder();
            sb.Append($"From: Account Services <{from}>\r\nTo: {string.Join(", ", to)}\r\nSubject: Important: verify your account #{n}\r\n");
            if (attachment is not null)
            {
                // The phishing text and its HTML twin, then the payload: a multipart/mixed around the alternative.
                sb.Append("MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"=_flux_m\"\r\n\r\n");
                sb.Append("--=_flux_m\r\nContent-Type: multipart/alternative; boundary=\"=_flux_b\"\r\n\r\n");
            }
            else
            {
                sb.Append("MIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary=\"=_flux_b\"\r\n\r\n");
            }

            sb.Append("--=_flux_b\r\nContent-Type: text/plain; charset=us-ascii\r\nContent-Transfer-Encoding: base64\r\n\r\n");
            sb.Append(Convert.ToBase64String(Encoding.ASCII.GetBytes(text), Base64FormattingOptions.InsertLineBreaks)).Append("\r\n");
            sb.Append("--=_flux_b\r\nContent-Type: text/html; charset=us-ascii\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n");
            sb.Append(QuotedPrintable(html)).Append("\r\n--=_flux_b--\r\n");
            if (attachment is not null)
            {
                sb.Append($"\r\n--=_flux_m\r\nContent-Type: application/zip; name=\"invoice_{n}.zip\"\r\nContent-Transfer-Encoding: base64\r\n");
                sb.Append($"Content-Disposition: attachment; filename=\"invoice_{n}.zip\"\r\n\r\n");
                sb.Append(Convert.ToBase64String(attachment, Base64FormattingOptions.InsertLineBreaks)).Append("\r\n--=_flux_m--\r\n");
            }

            return sb.ToString();
        }

        private static string QuotedPrintable(string text)
        {
            var sb = new StringBuilder();
            int column = 0;
            foreach (char ch in text)
            {
                string piece = ch == '=' ? "=3D" : ch.ToString();
                if (column + piece.Length > 72)
                {
                    sb.Append("=\r\n");
                    column = 0;
                }

                sb.Append(piece);
                column += piece.Length;
            }

            return sb.ToString();
        }
    }

    /// <summary>Bots relay FTP logins (cleartext USER/PASS) through the infected host to FTP servers on port 21.</summary>
    public sealed class RelayFtpTraffic : IIncidentTraffic
    {
        public int Order => 41;

        public void Generate(IncidentScenario scenario, IList<CapturedFrame> frames)
        {
            var cast = RelayCast.For(scenario);
            var r = scenario.Random;
            FrameSink sink = (t, f) => RelayCast.Add(frames, t, f);
            for (int i = 0; i < 12 * scenario.Scale; i++)
            {
                var start = scenario.Start.AddMinutes(15).AddSeconds(i * 400 + r.Next(60));
                var bot = cast.Bots[r.Next(cast.Bots.Count)];
                var server = cast.FtpServers[i % cast.FtpServers.Count];
                var c = new RelayedConversation(sink, bot, (ushort)r.Next(1025, 65000), scenario.Relay, 80, (ushort)r.Next(1025, 65000), server, 21, start, r);
                string user = $"{RelayCast.Word(r)}{r.Next(10, 99)}";
                c.S("220 (vsFTPd 2.2.2)\r\n").C($"USER {user}\r\n").S("331 Please specify the password.\r\n");
                c.C($"PASS {RelayCast.Word(r)}{r.Next(100, 999)}\r\n");
                if (i % 3 == 2)
                {
                    c.S("530 Login incorrect.\r\n");
                }
                else
                {
                    c.S("230 Login successful.\r\n").C("SYST\r\n").S("215 UNIX Type: L8\r\n");
                }

                c.C("QUIT\r\n").S("221 Goodbye.\r\n");
                c.Close();
            }
        }
    }

    /// <summary>
    /// Bots download malware through the infected host: it fetches the EXE from one of four upstream servers with basic
    /// auth infected:infected and X-My-Real-IP naming the bot, and passes the response back unchanged.
    /// </summary>
    public sealed class RelayDownloadTraffic : IIncidentTraffic
    {
        public int Order => 42;

        public void Generate(IncidentScenario scenario, IList<CapturedFrame> frames)
        {
            var cast = RelayCast.For(scenario);
            var r = scenario.Random;
            FrameSink sink = (t, f) => RelayCast.Add(frames, t, f);
            for (int i = 0; i < 24 * scenario.Scale; i++)
            {
                int exe = i % RelayCast.ExeNames.Length;
                var upstream = cast.Upstreams[exe % cast.Upstreams.Count];
                var bot = cast.Bots[r.Next(cast.Bots.Count)];
                var start = scenario.Start.AddMinutes(12).AddSeconds(i * 290 + r.Next(30));
                var c = new RelayedConversation(sink, bot, (ushort)r.Next(1025, 65000), scenario.Relay, 80, (ushort)r.Next(1025, 65000), upstream, 80, start, r);
                string name = RelayCast.ExeNames[exe];
                const string agent = "User-Agent: Mozilla/4.0 (compatible; MSIE 6.0; Windows NT 5.1)\r\n";
                c.C($"GET /files/{name} HTTP/1.1\r\nHost: {scenario.Relay}\r\n{agent}Connection: close\r\n\r\n",
                    $"GET /files/{name} HTTP/1.1\r\nHost: dl{exe % 4}.upd-cdn.example\r\nAuthorization: Basic {Convert.ToBase64String(Encoding.ASCII.GetBytes("infected:infected"))}\r\n" +
                    $"X-My-Real-IP: {bot}\r\n{agent}Connection: close\r\n\r\n");
                var body = cast.Exes[exe];
                var head = Encoding.ASCII.GetBytes($"HTTP/1.1 200 OK\r\nServer: nginx\r\nContent-Type: application/octet-stream\r\nContent-Length: {body.Length}\r\nConnection: close\r\n\r\n");
                c.S(head.Concat(body).ToArray());
                c.Close();
            }
        }
    }

    /// <summary>
    /// Benign traffic that must not be called relay: the infected host's own EXE download from an update server, an
    /// internal host submitting mail to its own server on 587, and ordinary browsing.
    /// </summary>
    public sealed class RelayBenignTraffic : IIncidentTraffic
    {
        public int Order => 43;

        public void Generate(IncidentScenario scenario, IList<CapturedFrame> frames)
        {
            var r = scenario.Random;
            FrameSink sink = (t, f) => RelayCast.Add(frames, t, f);

            // The host updates itself: an executable, fetched for itself (no inbound connection causes it).
            var update = RelayCast.FakePe(r, 30_000);
            var u = new RelayTcpConnection(sink, scenario.Relay, 49200, IPAddress.Parse("65.55.200.155"), 80, scenario.Start.AddMinutes(5), r).Open();
            u.C("GET /msdownload/update/v3/static/trustedr/en/authrootseq.exe HTTP/1.1\r\nHost: download.windowsupdate.com\r\nUser-Agent: Microsoft-CryptoAPI/5.131.2600.5512\r\n\r\n");
            u.Send(false, Encoding.ASCII.GetBytes($"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: {update.Length}\r\n\r\n").Concat(update).ToArray());
            u.Close();

            // A colleague submits mail to the department's own server (authenticated, port 587).
            var pc = IPAddress.Parse("140.127.1.50");
            var mail = IPAddress.Parse("140.127.1.25");
            for (int i = 0; i < 3; i++)
            {
                var m = new RelayTcpConnection(sink, pc, (ushort)(51000 + i), mail, 587, scenario.Start.AddMinutes(20 + i * 30), r).Open();
                m.S("220 mail.cc.example ESMTP\r\n").C("EHLO pc50\r\n").S("250-mail.cc.example\r\n250 AUTH PLAIN LOGIN\r\n");
                m.C("AUTH PLAIN " + Convert.ToBase64String(Encoding.ASCII.GetBytes("\0chen\0Spring2012!")) + "\r\n").S("235 2.7.0 Authentication successful\r\n");
                m.C("MAIL FROM:<chen@cc.example>\r\n").S("250 Ok\r\n").C("RCPT TO:<lab@cc.example>\r\n").S("250 Ok\r\n");
                m.C("DATA\r\n").S("354 go ahead\r\n");
                m.C("From: chen@cc.example\r\nTo: lab@cc.example\r\nSubject: meeting notes\r\n\r\nNotes are at http://wiki.cc.example/meeting/2012-05-14\r\n.\r\n").S("250 Ok\r\n");
                m.C("QUIT\r\n").S("221 Bye\r\n");
                m.Close();
            }

            // Ordinary browsing from two campus hosts.
            var sites = new[] { ("www.example.edu", "198.18.10.20"), ("news.example.com", "198.18.22.7"), ("search.example.org", "198.18.33.9") };
            for (int i = 0; i < 12; i++)
            {
                var (host, address) = sites[i % sites.Length];
                var client = IPAddress.Parse(i % 2 == 0 ? "140.127.1.60" : "140.127.1.61");
                var b = new RelayTcpConnection(sink, client, (ushort)(52000 + i), IPAddress.Parse(address), 80, scenario.Start.AddMinutes(3 + i * 9), r).Open();
                string page = $"<html><head><title>{host}</title></head><body>{new string('x', 800 + r.Next(4000))}</body></html>";
                b.C($"GET /{(i % 3 == 0 ? string.Empty : "news/" + i)} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: Mozilla/5.0\r\n\r\n");
                b.S($"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: {page.Length}\r\n\r\n{page}");
                b.Close();
            }
        }
    }
}
