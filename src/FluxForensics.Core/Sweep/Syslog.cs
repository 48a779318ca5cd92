using System;
using System.Globalization;
using System.Net.Sockets;
using System.Text;
using FluxForensics.Export;
using FluxForensics.Model;

namespace FluxForensics.Sweep
{
    public enum SyslogTransport
    {
        Udp,
        Tcp,
    }

    /// <summary>
    /// RFC 5424 messages for findings: facility user, severity from the finding (Critical = crit … Info = info),
    /// APP-NAME FluxForensics, MSGID the finding's Kind, the finding's ComputerName as HOSTNAME (the machine the finding
    /// is about, also when it came back over remoting), its key fields as structured data, and the summary with its
    /// reasons as the message.
    /// </summary>
    public static class SyslogMessage
    {
        public const string AppName = "FluxForensics";

        /// <summary>SD-ID: a private name under the enterprise number RFC 5612 sets aside for documentation.</summary>
        public const string StructuredDataId = "fluxforensics@32473";

        public const int Facility = 1; // user-level messages

        /// <summary>Datagrams larger than this are not reliably delivered; rsyslog's default limit is 8 KiB.</summary>
        public const int MaxBytes = 8000;

        public static int SyslogSeverity(Severity severity) => severity switch
        {
            Severity.Critical => 2,
            Severity.High => 3,
            Severity.Medium => 4,
            Severity.Low => 5,
            _ => 6,
        };

        public static string Format(FindingRecord record, DateTime timestampUtc, int processId)
        {
            int pri = (Facility * 8) + SyslogSeverity(record.Severity);
            var text = new StringBuilder(512);
            text.Append('<').Append(pri.ToString(CultureInfo.InvariantCulture)).Append(">1 ");
            text.Append(DateTime.SpecifyKind(timestampUtc, DateTimeKind.Utc).ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture)).Append(' ');
            text.Append(Token(record.ComputerName, 255)).Append(' ');
            text.Append(AppName).Append(' ');
            text.Append(processId.ToString(CultureInfo.InvariantCulture)).Append(' ');
            text.Append(Token(record.Kind, 32)).Append(' ');
            text.Append('[').Append(StructuredDataId);
            Param(text, "kind", record.Kind);
            Param(text, "severity", record.Severity.ToString());
            Param(text, "riskScore", record.RiskScore.ToString(CultureInfo.InvariantCulture));
            Param(text, "computerName", record.ComputerName);
            Param(text, "observedAt", FindingRecord.IsoUtc(record.ObservedAt));
            Param(text, "source", record.Source);
            text.Append("] ");

            // One line: syslog readers split on newlines, so the reasons follow the summary separated by "; ".
            string message = FindingSummary.WithReasons(record, "; ", string.Empty).Replace("\r", " ").Replace("\n", " ");
            text.Append(message);
            return Truncate(text.ToString());
        }

        private static string Truncate(string message)
        {
            if (Encoding.UTF8.GetByteCount(message) <= MaxBytes)
            {
                return message;
            }

            int keep = Math.Min(message.Length, MaxBytes);
            while (keep > 0 && Encoding.UTF8.GetByteCount(message.Substring(0, keep)) > MaxBytes - 3)
            {
                keep -= Math.Max(1, keep / 16);
            }

            return message.Substring(0, keep) + "…";
        }

        /// <summary>HOSTNAME, MSGID: printable US-ASCII without spaces, or the nil value "-".</summary>
        private static string Token(string? value, int max)
        {
            if (string.IsNullOrEmpty(value))
            {
                return "-";
            }

            var token = new StringBuilder(Math.Min(value!.Length, max));
            foreach (char c in value)
            {
                if (token.Length == max)
                {
                    break;
                }

                token.Append(c > 32 && c < 127 ? c : '_');
            }

            return token.ToString();
        }

        private static void Param(StringBuilder text, string name, string? value)
        {
            text.Append(' ').Append(name).Append("=\"");
            foreach (char c in value ?? string.Empty)
            {
                if (c == '"' || c == '\\' || c == ']')
                {
                    text.Append('\\');
                }

                text.Append(c);
            }

            text.Append('"');
        }
    }

    /// <summary>Where a syslog server is: <c>host:port</c>, <c>[v6]:port</c>, optionally <c>udp://</c> or <c>tcp://</c> in front.</summary>
    public sealed class SyslogEndpoint
    {
        private SyslogEndpoint(string host, int port, SyslogTransport transport)
        {
            Host = host;
            Port = port;
            Transport = transport;
        }

        public string Host { get; }
        public int Port { get; }
        public SyslogTransport Transport { get; }

        public static bool TryParse(string text, SyslogTransport defaultTransport, out SyslogEndpoint? endpoint, out string? error)
        {
            endpoint = null;
            error = null;
            string rest = text?.Trim() ?? string.Empty;
            var transport = defaultTransport;
            if (rest.StartsWith("udp://", StringComparison.OrdinalIgnoreCase))
            {
                transport = SyslogTransport.Udp;
                rest = rest.Substring(6);
            }
            else if (rest.StartsWith("tcp://", StringComparison.OrdinalIgnoreCase))
            {
                transport = SyslogTransport.Tcp;
                rest = rest.Substring(6);
            }

            string host;
            string portText;
            if (rest.StartsWith("[", StringComparison.Ordinal))
            {
                int close = rest.IndexOf(']');
                if (close < 0 || close + 1 >= rest.Length || rest[close + 1] != ':')
                {
                    error = $"'{text}' is not [address]:port.";
                    return false;
                }

                host = rest.Substring(1, close - 1);
                portText = rest.Substring(close + 2);
            }
            else
            {
                int colon = rest.LastIndexOf(':');
                if (colon <= 0 || rest.IndexOf(':') != colon)
                {
                    error = $"'{text}' is not host:port (write an IPv6 address as [address]:port).";
                    return false;
                }

                host = rest.Substring(0, colon);
                portText = rest.Substring(colon + 1);
            }

            if (!int.TryParse(portText, NumberStyles.None, CultureInfo.InvariantCulture, out int port) || port < 1 || port > 65535)
            {
                error = $"'{text}' has no valid port (1-65535).";
                return false;
            }

            endpoint = new SyslogEndpoint(host, port, transport);
            return true;
        }

        public override string ToString() => $"{Transport.ToString().ToLowerInvariant()}://{(Host.IndexOf(':') >= 0 ? "[" + Host + "]" : Host)}:{Port}";
    }

    /// <summary>
    /// Sends syslog messages: to the local socket (a Unix datagram socket, /dev/log by default; a stream socket gets newline-terminated frames), or to a server over UDP
    /// (one message per datagram, RFC 5426) or TCP (octet-counted frames, RFC 6587).
    /// </summary>
    public sealed class SyslogSender : IDisposable
    {
        private readonly Socket _socket;
        private readonly Framing _framing;

        private enum Framing
        {
            Datagram,
            OctetCounting,
            NewLine,
        }
        private readonly object _gate = new object();

        private SyslogSender(Socket socket, Framing framing, string destination)
        {
            _socket = socket;
            _framing = framing;
            Destination = destination;
        }

        public string Destination { get; }

        public int Sent { get; private set; }

        public static SyslogSender Local(string socketPath = "/dev/log")
        {
#if NET
            var endpoint = new System.Net.Sockets.UnixDomainSocketEndPoint(socketPath);
            var socket = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
            try
            {
                socket.Connect(endpoint);
                return new SyslogSender(socket, Framing.Datagram, socketPath);
            }
            catch (SocketException e) when (e.SocketErrorCode == SocketError.ProtocolType || e.SocketErrorCode == SocketError.SocketNotSupported)
            {
                // Some systems offer the local socket as a stream socket: then frames are newline-terminated.
                socket.Dispose();
            }

            var stream = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            try
            {
                stream.Connect(endpoint);
            }
            catch
            {
                stream.Dispose();
                throw;
            }

            return new SyslogSender(stream, Framing.NewLine, socketPath);
#else
            throw new PlatformNotSupportedException("The local syslog socket needs PowerShell 7 (.NET 8): Windows PowerShell has no Unix domain sockets. Use -SyslogServer or -EventLog.");
#endif
        }

        public static SyslogSender Network(SyslogEndpoint endpoint, int timeoutMilliseconds = 5000)
        {
            if (endpoint.Transport == SyslogTransport.Udp)
            {
                var client = new UdpClient();
                try
                {
                    client.Connect(endpoint.Host, endpoint.Port);
                }
                catch
                {
                    client.Dispose();
                    throw;
                }

                return new SyslogSender(client.Client, Framing.Datagram, endpoint.ToString());
            }

            var tcp = new TcpClient { SendTimeout = timeoutMilliseconds };
            try
            {
                var connect = tcp.ConnectAsync(endpoint.Host, endpoint.Port);
                if (!connect.Wait(timeoutMilliseconds))
                {
                    throw new TimeoutException($"No TCP connection to syslog server {endpoint} within {timeoutMilliseconds} ms.");
                }
            }
            catch (AggregateException e) when (e.InnerException is not null)
            {
                tcp.Dispose();
                throw e.InnerException;
            }
            catch
            {
                tcp.Dispose();
                throw;
            }

            return new SyslogSender(tcp.Client, Framing.OctetCounting, endpoint.ToString());
        }

        public void Send(string message)
        {
            byte[] body = Encoding.UTF8.GetBytes(message);
            lock (_gate)
            {
                if (_framing == Framing.NewLine)
                {
                    var frame = new byte[body.Length + 1];
                    Buffer.BlockCopy(body, 0, frame, 0, body.Length);
                    frame[body.Length] = (byte)'\n';
                    SendAll(frame);
                }
                else if (_framing == Framing.OctetCounting)
                {
                    byte[] prefix = Encoding.ASCII.GetBytes(body.Length.ToString(CultureInfo.InvariantCulture) + " ");
                    var frame = new byte[prefix.Length + body.Length];
                    Buffer.BlockCopy(prefix, 0, frame, 0, prefix.Length);
                    Buffer.BlockCopy(body, 0, frame, prefix.Length, body.Length);
                    SendAll(frame);
                }
                else
                {
                    _socket.Send(body);
                }

                Sent++;
            }
        }

        private void SendAll(byte[] data)
        {
            int offset = 0;
            while (offset < data.Length)
            {
                offset += _socket.Send(data, offset, data.Length - offset, SocketFlags.None);
            }
        }

        public void Dispose()
        {
            try
            {
                if (_socket.Connected && _socket.SocketType == SocketType.Stream)
                {
                    _socket.Shutdown(SocketShutdown.Both);
                }
            }
            catch (SocketException)
            {
                // The server went away first: nothing left to flush.
            }

            _socket.Dispose();
        }
    }
}
