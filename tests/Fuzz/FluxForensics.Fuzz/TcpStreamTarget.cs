using System;
using System.Collections.Generic;
using System.Text;
using FluxForensics.Capture;

namespace FluxForensics.Fuzz
{
    /// <summary>
    /// TCP reassembly with the protocol extractors (HTTP, SMTP, FTP, DNS over TCP): the input is a script of segments
    /// on one connection. Byte 0 picks the server port. Then records: flags byte (bit 0 direction server→client, bit 1
    /// FIN, bit 2 RST, bits 3-4 sequence skew: none, gap, overlap, retransmission), length byte, payload.
    /// </summary>
    public sealed class TcpStreamTarget : IFuzzTarget, IGeneratedSeeds
    {
        private static readonly ushort[] Ports = { 80, 25, 21, 587, 53, 8080, 110, 4444 };

        public string Name => "tcp-stream";

        public IEnumerable<string> SeedFiles(FuzzPaths paths) => System.Linq.Enumerable.Empty<string>();

        public IEnumerable<byte[]> GeneratedSeeds(FuzzPaths paths)
        {
            yield return Script(1, new[]
            {
                (true, "220 mx.example ESMTP\r\n"), (false, "EHLO bot\r\n"), (true, "250 ok\r\n"), (false, "AUTH LOGIN\r\n"),
                (true, "334 VXNlcm5hbWU6\r\n"), (false, "dXNlckBleGFtcGxlLmNvbQ==\r\n"), (true, "334 UGFzc3dvcmQ6\r\n"),
                (false, "c2VjcmV0\r\n"), (true, "235 ok\r\n"), (false, "MAIL FROM:<a@example.com>\r\nRCPT TO:<b@example.org>\r\nDATA\r\n"),
                (true, "354 go\r\n"), (false, "Subject: hi\r\nContent-Transfer-Encoding: base64\r\n\r\naHR0cDovL2JhZC5leGFtcGxlL3g=\r\n.\r\nQUIT\r\n"),
            });
            yield return Script(0, new[]
            {
                (false, "GET /load/a.exe HTTP/1.1\r\nHost: up.example\r\nAuthorization: Basic aW5mZWN0ZWQ6aW5mZWN0ZWQ=\r\nX-My-Real-IP: 10.1.2.3\r\n\r\n"),
                (true, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10\r\nMZ\u0090\u0000\u0003\u0000\u0000\u0000\u0004\u0000\u0000\u0000\u00ff\u00ff\u0000\u0000\r\n0\r\n\r\n"),
                (false, "CONNECT mx.example:25 HTTP/1.1\r\n\r\n"), (true, "HTTP/1.1 200 Connection established\r\n\r\n220 mx\r\n"), (false, "HELO x\r\n"),
            });
            yield return Script(2, new[]
            {
                (true, "220 ftp\r\n"), (false, "USER anonymous\r\n"), (true, "331 pass\r\n"), (false, "PASS guest\r\n"), (true, "230 ok\r\n"),
                (false, "PASV\r\n"), (true, "227 Entering Passive Mode (10,0,0,1,4,1)\r\n"), (false, "RETR x.exe\r\n"), (true, "150 ok\r\n226 done\r\n"),
            });
        }

        private static byte[] Script(byte portIndex, (bool FromServer, string Text)[] segments)
        {
            var bytes = new List<byte> { portIndex };
            foreach (var (fromServer, text) in segments)
            {
                var payload = Encoding.Latin1.GetBytes(text);
                for (int at = 0; at < payload.Length; at += 255)
                {
                    int n = Math.Min(255, payload.Length - at);
                    bytes.Add((byte)(fromServer ? 1 : 0));
                    bytes.Add((byte)n);
                    bytes.AddRange(new ArraySegment<byte>(payload, at, n));
                }
            }

            return bytes.ToArray();
        }

        public void Run(byte[] input)
        {
            if (input.Length == 0) return;
            var engine = new CaptureEngine(new CaptureAnalysisOptions { MaxBufferedBytesPerFlow = 64 * 1024 }, NullReporter.Instance, "fuzz");
            NetAddress.TryParse("198.51.100.7", out var client);
            NetAddress.TryParse("140.127.1.77", out var server);
            ushort clientPort = 40000, serverPort = Ports[input[0] % Ports.Length];
            uint clientSeq = 1000, serverSeq = 5000;
            long ticks = new DateTime(2012, 5, 14, 9, 0, 0, DateTimeKind.Utc).Ticks;

            void Send(bool fromServer, TcpFlags flags, ReadOnlySpan<byte> payload, int skew)
            {
                ref uint seq = ref fromServer ? ref serverSeq : ref clientSeq;
                uint ack = fromServer ? clientSeq : serverSeq;
                uint sent = unchecked((uint)(seq + skew));
                var packet = new DecodedPacket(ticks += 10_000, fromServer ? server : client, fromServer ? client : server,
                    fromServer ? serverPort : clientPort, fromServer ? clientPort : serverPort, TransportProtocol.Tcp, flags,
                    sent, ack, payload, payload.Length + 54, false);
                engine.OnPacket(packet);
                seq = unchecked(sent + (uint)payload.Length + ((flags & (TcpFlags.Syn | TcpFlags.Fin)) != 0 ? 1u : 0u));
            }

            Send(false, TcpFlags.Syn, default, 0);
            Send(true, TcpFlags.Syn | TcpFlags.Ack, default, 0);
            Send(false, TcpFlags.Ack, default, 0);
            int i = 1;
            while (i + 1 < input.Length)
            {
                byte control = input[i];
                int length = Math.Min(input[i + 1], input.Length - i - 2);
                var payload = new ReadOnlySpan<byte>(input, i + 2, length);
                i += 2 + length;
                bool fromServer = (control & 1) != 0;
                int skew = ((control >> 3) & 3) switch { 1 => 1 + (control >> 5) * 97, 2 => -(1 + (control >> 5)), 3 => -length, _ => 0 };
                var flags = TcpFlags.Ack | TcpFlags.Psh;
                if ((control & 2) != 0) flags |= TcpFlags.Fin;
                if ((control & 4) != 0) flags = TcpFlags.Rst;
                Send(fromServer, flags, payload, skew);
            }

            foreach (var finding in engine.Complete()) _ = finding.RiskScore;
        }
    }
}
