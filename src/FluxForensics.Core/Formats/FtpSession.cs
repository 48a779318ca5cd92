using System;
using System.Collections.Generic;
using System.Globalization;

namespace FluxForensics.Formats
{
    /// <summary>
    /// A data connection an FTP control conversation announced: PASV/EPSV (the client connects to the server's port)
    /// or PORT/EPRT (the server connects to the client's port). The transfer command names what it carries.
    /// </summary>
    internal sealed class FtpDataChannel
    {
        public bool Passive { get; set; }

        /// <summary>The address to connect to; null for EPSV (the control connection's server).</summary>
        public NetAddress? Address { get; set; }
        public ushort Port { get; set; }
        public string? Command { get; set; }
        public string? FileName { get; set; }
    }

    /// <summary>
    /// FTP control from the lines of both directions: USER/PASS with the reply that accepted or refused them,
    /// PORT/PASV/EPSV/EPRT data channels and the RETR/STOR names that go with them.
    /// </summary>
    internal sealed class FtpSession
    {
        private readonly Action<FtpDataChannel> _channelAnnounced;
        private readonly Action<long, string> _issue;
        private string? _user;
        private LoginAttempt? _awaitingReply;
        private bool _awaitingPasv;
        private int _multiLineCode;
        private FtpDataChannel? _unassigned;

        public FtpSession(Action<FtpDataChannel> channelAnnounced, Action<long, string> issue)
        {
            _channelAnnounced = channelAnnounced;
            _issue = issue;
        }

        public List<LoginAttempt> Logins { get; } = new List<LoginAttempt>();
        public List<FtpDataChannel> Transfers { get; } = new List<FtpDataChannel>();

        public void ClientLine(ReadOnlySpan<byte> line, long offset)
        {
            string text = MimeMessage.Latin1(line);
            int sp = text.IndexOf(' ');
            string verb = (sp < 0 ? text : text.Substring(0, sp)).ToUpperInvariant();
            string argument = sp < 0 ? string.Empty : text.Substring(sp + 1);
            switch (verb)
            {
                case "USER":
                    _user = argument;
                    break;

                case "PASS":
                {
                    var login = new LoginAttempt("Ftp", "USER/PASS", _user ?? string.Empty, argument);
                    if (Logins.Count < 1000)
                    {
                        Logins.Add(login);
                    }

                    _awaitingReply = login;
                    break;
                }

                case "PASV":
                case "EPSV":
                    _awaitingPasv = true;
                    break;

                case "PORT":
                    if (TryParseHostPort(argument, out var address, out ushort port))
                    {
                        Announce(new FtpDataChannel { Passive = false, Address = address, Port = port });
                    }
                    else
                    {
                        _issue(offset, "FTP PORT argument is not h1,h2,h3,h4,p1,p2");
                    }

                    break;

                case "EPRT":
                {
                    // EPRT |1|132.235.1.2|6275|
                    var parts = argument.Length > 0 ? argument.Split(argument[0]) : Array.Empty<string>();
                    if (parts.Length >= 4 && NetAddress.TryParse(parts[2], out var a) && ushort.TryParse(parts[3], NumberStyles.None, CultureInfo.InvariantCulture, out ushort p))
                    {
                        Announce(new FtpDataChannel { Passive = false, Address = a, Port = p });
                    }
                    else
                    {
                        _issue(offset, "FTP EPRT argument is not |proto|address|port|");
                    }

                    break;
                }

                case "RETR":
                case "STOR":
                case "STOU":
                case "APPE":
                case "LIST":
                case "NLST":
                case "MLSD":
                    if (_unassigned is not null)
                    {
                        _unassigned.Command = verb;
                        _unassigned.FileName = argument.Length > 0 ? argument : null;
                        Transfers.Add(_unassigned);
                        _unassigned = null;
                    }

                    break;
            }
        }

        public void ServerLine(ReadOnlySpan<byte> line, long offset)
        {
            if (!ReplyLines.IsFinal(line, ref _multiLineCode))
            {
                return;
            }

            if (_awaitingReply is null && !_awaitingPasv)
            {
                return;
            }

            string text = MimeMessage.Latin1(line);
            string code = text.Substring(0, 3);
            if (_awaitingReply is not null && code != "331" && code != "332")
            {
                _awaitingReply.Accepted = code[0] == '2';
                _awaitingReply.Reply = text;
                _awaitingReply = null;
            }

            if (_awaitingPasv && (code == "227" || code == "229"))
            {
                _awaitingPasv = false;
                if (code == "227")
                {
                    int open = text.IndexOf('(');
                    string args = open >= 0 ? text.Substring(open + 1).TrimEnd(')', '.', ' ') : FirstDigitRun(text.Length > 4 ? text.Substring(4) : string.Empty);
                    int close = args.IndexOf(')');
                    if (close >= 0)
                    {
                        args = args.Substring(0, close);
                    }

                    if (TryParseHostPort(args, out var address, out ushort port))
                    {
                        Announce(new FtpDataChannel { Passive = true, Address = address, Port = port });
                    }
                    else
                    {
                        _issue(offset, "FTP 227 reply without h1,h2,h3,h4,p1,p2");
                    }
                }
                else
                {
                    // 229 Entering Extended Passive Mode (|||6446|)
                    int open = text.IndexOf('(');
                    int close = text.LastIndexOf(')');
                    var inner = open >= 0 && close > open + 1 ? text.Substring(open + 1, close - open - 1) : string.Empty;
                    var parts = inner.Length > 0 ? inner.Split(inner[0]) : Array.Empty<string>();
                    if (parts.Length >= 4 && ushort.TryParse(parts[3], NumberStyles.None, CultureInfo.InvariantCulture, out ushort port))
                    {
                        Announce(new FtpDataChannel { Passive = true, Address = null, Port = port });
                    }
                    else
                    {
                        _issue(offset, "FTP 229 reply without (|||port|)");
                    }
                }
            }
        }

        private void Announce(FtpDataChannel channel)
        {
            _unassigned = channel;
            _channelAnnounced(channel);
        }

        private static string FirstDigitRun(string text)
        {
            int start = 0;
            while (start < text.Length && !char.IsDigit(text[start]))
            {
                start++;
            }

            return text.Substring(start);
        }

        internal static bool TryParseHostPort(string text, out NetAddress address, out ushort port)
        {
            address = default;
            port = 0;
            var parts = text.Trim().Split(',');
            if (parts.Length != 6)
            {
                return false;
            }

            var v = new byte[6];
            for (int i = 0; i < 6; i++)
            {
                if (!byte.TryParse(parts[i].Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out v[i]))
                {
                    return false;
                }
            }

            address = NetAddress.FromBytes(v.AsSpan(0, 4));
            port = (ushort)(v[4] << 8 | v[5]);
            return true;
        }
    }

    /// <summary>
    /// Multi-line replies of SMTP and FTP: "ddd-" opens one, and only a line "ddd " with the same code closes it;
    /// lines in between may be anything (FTP banners often start with spaces).
    /// </summary>
    internal static class ReplyLines
    {
        public static bool IsFinal(ReadOnlySpan<byte> line, ref int openCode)
        {
            int code = line.Length >= 3 && IsDigit(line[0]) && IsDigit(line[1]) && IsDigit(line[2])
                ? (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0')
                : -1;
            bool dash = code >= 0 && line.Length > 3 && line[3] == '-';
            if (openCode > 0)
            {
                if (code == openCode && !dash)
                {
                    openCode = 0;
                    return true;
                }

                return false;
            }

            if (code < 0)
            {
                return false;
            }

            if (dash)
            {
                openCode = code;
                return false;
            }

            return true;
        }

        private static bool IsDigit(byte c) => c >= '0' && c <= '9';
    }
}
