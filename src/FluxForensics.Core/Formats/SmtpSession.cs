using System;
using System.Runtime.CompilerServices;
using System.Buffers;
using System.Collections.Generic;
using System.Text;

namespace FluxForensics.Formats
{
    /// <summary>A cleartext login seen in a line protocol or HTTP: who, the secret, and what the server answered.</summary>
    internal sealed class LoginAttempt
    {
        public LoginAttempt(string protocol, string mechanism, string account, string? secret)
        {
            Protocol = protocol;
            Mechanism = mechanism;
            Account = account;
            Secret = secret;
        }

        public string Protocol { get; }
        public string Mechanism { get; }
        public string Account { get; }
        public string? Secret { get; set; }

        /// <summary>True when the server accepted it, false when it refused, null when no answer was seen.</summary>
        public bool? Accepted { get; set; }
        public string? Reply { get; set; }
    }

    /// <summary>One mail transaction: envelope and the parsed message.</summary>
    internal sealed class SmtpTransaction
    {
        private MimeMessage? _message;
        private List<(long Offset, string Message)>? _pendingIssues;

        public string? MailFrom { get; set; }
        public List<string> Recipients { get; } = new List<string>();

        /// <summary>The message, MIME-parsed when its DATA ended (attachments are decoded only when asked).</summary>
        public MimeMessage? Message => _message;

        public bool HasMessage => _message is not null;

        /// <summary>Parses the message from the session's buffer; its MIME issues wait until someone reports or discards them.</summary>
        internal void SetMessage(ReadOnlySpan<byte> raw, bool keepParts)
        {
            _message = MimeMessage.Parse(raw, keepParts);
            _pendingIssues = _message.Issues.Count > 0 ? _message.Issues : null;
        }

        /// <summary>The message's MIME issues not reported yet (each reported once).</summary>
        internal IReadOnlyList<(long Offset, string Message)> TakeIssues()
        {
            var issues = (IReadOnlyList<(long, string)>?)_pendingIssues ?? Array.Empty<(long, string)>();
            _pendingIssues = null;
            return issues;
        }

        /// <summary>Forgets the message (the other leg of a relay carries the same bytes, reported from there).</summary>
        internal void Discard()
        {
            _message = null;
            _pendingIssues = null;
        }
    }

    /// <summary>
    /// SMTP from the lines of both directions of a reassembled stream: EHLO/HELO, AUTH LOGIN and PLAIN (decoded),
    /// MAIL FROM, RCPT TO and the message (MIME-parsed at the closing dot). The message is kept up to a cap; past it
    /// the rest is counted, reported and not analysed.
    /// </summary>
    internal sealed class SmtpSession
    {
        private enum ClientState { Command, AuthLoginAccount, AuthLoginSecret, AuthPlain, Data }

        private readonly int _maxMessage;
        private readonly Action<long, string> _issue;
        private ClientState _state;
        private LoginAttempt? _awaitingReply;
        private string? _loginAccount;
        private SmtpTransaction? _current;
        private byte[]? _message;
        private int _messageLength;
        private bool _messageTruncated;
        private int _multiLineCode;

        private readonly bool _keepParts;

        /// <param name="maxMessageBytes">Cap on one message's bytes.</param>
        /// <param name="issue">Receives what could not be parsed (offset in the client stream, what).</param>
        /// <param name="keepParts">Decode and keep every MIME part of every message (for part hashes).</param>
        public SmtpSession(int maxMessageBytes, Action<long, string> issue, bool keepParts = true)
        {
            _keepParts = keepParts;
            _maxMessage = Math.Max(1024, maxMessageBytes);
            _issue = issue;
        }

        public string? Helo { get; private set; }
        public List<LoginAttempt> Logins { get; } = new List<LoginAttempt>();
        public List<SmtpTransaction> Transactions { get; } = new List<SmtpTransaction>();

        public bool InData => _state == ClientState.Data;

        /// <summary>Hands the MIME issues of every message not reported yet to <paramref name="report"/> (offset in the message, what).</summary>
        public void ReportMessageIssues(Action<long, string> report)
        {
            foreach (var t in Transactions)
            {
                foreach (var (offset, message) in t.TakeIssues())
                {
                    report(offset, message);
                }
            }
        }

        /// <summary>Forgets every message and its issues (the relay's other leg carries the same ones).</summary>
        public void DiscardMessages()
        {
            foreach (var t in Transactions)
            {
                t.Discard();
            }
        }

        [MethodImpl(Jit.Hot)]
        public void ClientLine(ReadOnlySpan<byte> line, long offset)
        {
            switch (_state)
            {
                case ClientState.Data:
                    DataLine(line, offset);
                    return;

                case ClientState.AuthLoginAccount:
                    _state = ClientState.Command;
                    if (line.Length == 1 && line[0] == '*')
                    {
                        return; // cancelled
                    }

                    _loginAccount = DecodeBase64Text(line, offset, "AUTH LOGIN account");
                    if (_loginAccount is not null)
                    {
                        _state = ClientState.AuthLoginSecret;
                    }

                    return;

                case ClientState.AuthLoginSecret:
                {
                    _state = ClientState.Command;
                    string? secret = DecodeBase64Text(line, offset, "AUTH LOGIN password");
                    AddLogin(new LoginAttempt("Smtp", "LOGIN", _loginAccount ?? string.Empty, secret));
                    return;
                }

                case ClientState.AuthPlain:
                    _state = ClientState.Command;
                    AuthPlain(line, offset);
                    return;
            }

            // Most lines need no string: the verb is matched on the bytes, text is made only for what is kept.
            int space = line.IndexOf((byte)' ');
            var verbBytes = space < 0 ? line : line.Slice(0, space);
            string? verb = Verb(verbBytes);
            if (verb is null)
            {
                return;
            }

            string argument = space < 0 ? string.Empty : MimeMessage.Latin1(line.Slice(space + 1)).Trim();
            switch (verb)
            {
                case "EHLO":
                case "HELO":
                    Helo ??= argument;
                    break;

                case "AUTH":
                {
                    string mechanism = FirstWord(argument).ToUpperInvariant();
                    string initial = argument.Length > mechanism.Length ? argument.Substring(mechanism.Length).Trim() : string.Empty;
                    if (mechanism == "LOGIN")
                    {
                        if (initial.Length > 0 && initial != "=")
                        {
                            _loginAccount = DecodeBase64Text(Encoding.ASCII.GetBytes(initial), offset, "AUTH LOGIN account");
                            _state = _loginAccount is null ? ClientState.Command : ClientState.AuthLoginSecret;
                        }
                        else
                        {
                            _state = ClientState.AuthLoginAccount;
                        }
                    }
                    else if (mechanism == "PLAIN")
                    {
                        if (initial.Length > 0 && initial != "=")
                        {
                            AuthPlain(Encoding.ASCII.GetBytes(initial), offset);
                        }
                        else
                        {
                            _state = ClientState.AuthPlain;
                        }
                    }

                    break;
                }

                case "MAIL":
                    _current = new SmtpTransaction { MailFrom = AddressArgument(argument, "FROM:") };
                    Transactions.Add(_current);
                    break;

                case "RCPT":
                {
                    string? rcpt = AddressArgument(argument, "TO:");
                    if (rcpt is not null)
                    {
                        if (_current is null)
                        {
                            _current = new SmtpTransaction();
                            Transactions.Add(_current);
                        }

                        if (_current.Recipients.Count < 10_000)
                        {
                            _current.Recipients.Add(rcpt);
                        }
                    }

                    break;
                }

                case "DATA":
                    if (_current is null)
                    {
                        _current = new SmtpTransaction();
                        Transactions.Add(_current);
                    }

                    _state = ClientState.Data;
                    _messageLength = 0;
                    _messageTruncated = false;
                    break;

                case "RSET":
                    _current = null;
                    break;
            }
        }

        public void ServerLine(ReadOnlySpan<byte> line)
        {
            if (!ReplyLines.IsFinal(line, ref _multiLineCode))
            {
                return;
            }

            if (_awaitingReply is not null && !(line[0] == '3' && line[1] == '3' && line[2] == '4'))
            {
                _awaitingReply.Accepted = line[0] == '2';
                _awaitingReply.Reply = MimeMessage.Latin1(line);
                _awaitingReply = null;
            }
        }

        /// <summary>The stream ended or broke: a message still open is analysed as far as it came.</summary>
        public void End(long offset, bool midStream)
        {
            if (_state == ClientState.Data)
            {
                _issue(offset, midStream ? "stream ended in the middle of an SMTP message" : "SMTP message not terminated by a dot line");
                FinishMessage();
            }

            if (_message is not null)
            {
                ArrayPool<byte>.Shared.Return(_message);
                _message = null;
            }
        }

        [MethodImpl(Jit.Hot)]
        private void DataLine(ReadOnlySpan<byte> line, long offset)
        {
            if (line.Length == 1 && line[0] == '.')
            {
                FinishMessage();
                return;
            }

            if (line.Length > 0 && line[0] == '.')
            {
                line = line.Slice(1); // dot-stuffing
            }

            int need = _messageLength + line.Length + 2;
            if (need > _maxMessage)
            {
                if (!_messageTruncated)
                {
                    _messageTruncated = true;
                    _issue(offset, $"SMTP message larger than {_maxMessage} bytes; the rest is not analysed");
                }

                return;
            }

            if (_message is null || _message.Length < need)
            {
                var bigger = ArrayPool<byte>.Shared.Rent(Math.Max(need, Math.Min(_maxMessage, Math.Max(4096, (_message?.Length ?? 0) * 2))));
                if (_message is not null)
                {
                    Buffer.BlockCopy(_message, 0, bigger, 0, _messageLength);
                    ArrayPool<byte>.Shared.Return(_message);
                }

                _message = bigger;
            }

            line.CopyTo(new Span<byte>(_message, _messageLength, line.Length));
            _messageLength += line.Length;
            _message[_messageLength++] = (byte)'\r';
            _message[_messageLength++] = (byte)'\n';
        }

        private void FinishMessage()
        {
            _state = ClientState.Command;
            if (_current is null)
            {
                _current = new SmtpTransaction();
                Transactions.Add(_current);
            }

            _current.SetMessage(_message is null ? ReadOnlySpan<byte>.Empty : _message.AsSpan(0, _messageLength), _keepParts);
            _messageLength = 0;
            _current = null;
        }

        private void AuthPlain(ReadOnlySpan<byte> base64, long offset)
        {
            if (!MimeMessage.TryDecodeBase64(base64, out var bytes))
            {
                _issue(offset, "AUTH PLAIN response is not base64");
                return;
            }

            // authzid NUL authcid NUL passwd (RFC 4616)
            string text = Encoding.UTF8.GetString(bytes);
            var pieces = text.Split('\0');
            if (pieces.Length != 3)
            {
                _issue(offset, "AUTH PLAIN response is not authzid NUL account NUL password");
                return;
            }

            AddLogin(new LoginAttempt("Smtp", "PLAIN", pieces[1].Length > 0 ? pieces[1] : pieces[0], pieces[2]));
        }

        private void AddLogin(LoginAttempt login)
        {
            if (Logins.Count < 1000)
            {
                Logins.Add(login);
            }

            _awaitingReply = login;
        }

        private string? DecodeBase64Text(ReadOnlySpan<byte> line, long offset, string what)
        {
            if (!MimeMessage.TryDecodeBase64(line, out var bytes))
            {
                _issue(offset, $"{what} is not base64");
                return null;
            }

            return Encoding.UTF8.GetString(bytes);
        }

        private static readonly string[] Verbs = { "EHLO", "HELO", "AUTH", "MAIL", "RCPT", "DATA", "RSET" };

        /// <summary>The command if it is one the session follows (case-insensitive), else null.</summary>
        private static string? Verb(ReadOnlySpan<byte> word)
        {
            if (word.Length != 4)
            {
                return null;
            }

            foreach (var verb in Verbs)
            {
                bool same = true;
                for (int i = 0; i < 4 && same; i++)
                {
                    int c = word[i];
                    if (c >= 'a' && c <= 'z') c -= 32;
                    same = c == verb[i];
                }

                if (same)
                {
                    return verb;
                }
            }

            return null;
        }

        private static string FirstWord(string text)
        {
            int sp = text.IndexOf(' ');
            return sp < 0 ? text : text.Substring(0, sp);
        }

        private static string? AddressArgument(string argument, string prefix)
        {
            if (!argument.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))
            {
                return null;
            }

            string rest = argument.Substring(prefix.Length).Trim();
            int lt = rest.IndexOf('<');
            int gt = rest.IndexOf('>');
            if (lt >= 0 && gt > lt)
            {
                return rest.Substring(lt + 1, gt - lt - 1);
            }

            int sp = rest.IndexOf(' ');
            return sp < 0 ? rest : rest.Substring(0, sp);
        }
    }
}
