using System;
using System.Runtime.CompilerServices;
using System.Collections.Generic;
using System.Text;

namespace FluxForensics.Formats
{
    /// <summary>
    /// HTTP/1.x over one direction of a reassembled stream: start line, headers, body by Content-Length, chunked or
    /// until close, message after message. A malformed start line, header, length or chunk is reported and the rest of
    /// this direction is skipped (its framing can no longer be trusted); nothing throws.
    /// </summary>
    internal sealed class HttpStreamParser
    {
        private const int MaxHeaderLine = 16 * 1024;
        private const int MaxHeaders = 256;

        private enum State { StartLine, Headers, Body, ChunkSize, ChunkData, ChunkDataEnd, Trailers, UntilClose, Tunnel, Broken }

        private readonly bool _request;
        private readonly bool _reuseHeads;
        private readonly IHttpStreamEvents _events;
        private readonly TcpLineBuffer _lines = new TcpLineBuffer(MaxHeaderLine);
        private State _state = State.StartLine;
        private HttpMessageHead? _head;

        /// <summary>A head the consumer is done with (see <see cref="Recycle"/>), reused for the next message.</summary>
        private HttpMessageHead? _spareHead;

        // The last text of each field: a keep-alive connection repeats the same method, target, host and headers
        // message after message, and the same bytes give back the same string instead of a new one per message.
        private string? _lastMethod;
        private string? _lastTarget;
        private string? _lastVersion;
        private string? _lastReason;
        private string? _lastHost;
        private string? _lastAuthorization;
        private string? _lastContentType;
        private string? _lastUserAgent;
        private long _remaining;
        private int _headerCount;
        private long _offset;

        /// <param name="request">Parses the client's direction (requests) rather than the server's (responses).</param>
        /// <param name="events">Receives heads, bodies and issues.</param>
        /// <param name="reuseHeads">
        /// The consumer does not keep a head after the message ended, so the parser fills the same object for the next
        /// message (a keep-alive connection then costs no allocation per message). Otherwise every message gets a new
        /// head unless the consumer hands one back with <see cref="Recycle"/>.
        /// </param>
        public HttpStreamParser(bool request, IHttpStreamEvents events, bool reuseHeads = false)
        {
            _request = request;
            _events = events;
            _reuseHeads = reuseHeads;
        }

        public bool InBody => _state is State.Body or State.ChunkSize or State.ChunkData or State.ChunkDataEnd or State.UntilClose or State.Trailers;

        public bool IsTunnel => _state == State.Tunnel;

        public bool IsBroken => _state == State.Broken;

        /// <summary>
        /// Hands back a head this parser produced once the consumer no longer holds it (a response once answered, a
        /// request once its response and body are done): the next message fills it instead of a new object.
        /// </summary>
        public void Recycle(HttpMessageHead head)
        {
            if (!ReferenceEquals(head, _head) && head.IsRequest == _request)
            {
                _spareHead = head;
            }
        }

        private HttpMessageHead NewHead()
        {
            var head = _spareHead;
            if (head is null)
            {
                return new HttpMessageHead();
            }

            _spareHead = null;
            head.Reset();
            return head;
        }

        /// <summary>The bytes as text: the previous string of the same field when the bytes are the same.</summary>
        private static string Text(ReadOnlySpan<byte> value, ref string? last)
        {
            string? previous = last;
            if (previous is not null && previous.Length == value.Length && SameLatin1(value, previous))
            {
                return previous;
            }

            return last = MimeMessage.Latin1(value);
        }

        /// <summary>Whether the bytes read as Latin-1 are the text (vectorised for ASCII on .NET 8).</summary>
        private static bool SameLatin1(ReadOnlySpan<byte> value, string text)
        {
#if NET8_0_OR_GREATER
            if (System.Text.Ascii.Equals(value, text))
            {
                return true;
            }

            if (System.Text.Ascii.IsValid(value))
            {
                return false;
            }
#endif
            for (int i = 0; i < value.Length; i++)
            {
                if (text[i] != value[i])
                {
                    return false;
                }
            }

            return true;
        }

        /// <summary>Switches to tunnel mode (the other side answered CONNECT with 2xx).</summary>
        public void StartTunnel()
        {
            if (_state != State.Broken)
            {
                _state = State.Tunnel;
            }
        }

        [MethodImpl(Jit.Hot)]
        public void Feed(ReadOnlySpan<byte> data)
        {
            while (!data.IsEmpty)
            {
                switch (_state)
                {
                    case State.Broken:
                        _offset += data.Length;
                        return;

                    case State.Tunnel:
                        _offset += data.Length;
                        _events.OnTunnel(_request, data);
                        return;

                    case State.Body:
                    {
                        int take = (int)Math.Min(_remaining, data.Length);
                        _events.OnBody(_request, data.Slice(0, take));
                        Advance(ref data, take);
                        _remaining -= take;
                        if (_remaining == 0)
                        {
                            EndMessage(true);
                        }

                        break;
                    }

                    case State.ChunkData:
                    {
                        int take = (int)Math.Min(_remaining, data.Length);
                        _events.OnBody(_request, data.Slice(0, take));
                        Advance(ref data, take);
                        _remaining -= take;
                        if (_remaining == 0)
                        {
                            _state = State.ChunkDataEnd;
                        }

                        break;
                    }

                    case State.UntilClose:
                        _events.OnBody(_request, data);
                        Advance(ref data, data.Length);
                        break;

                    default:
                    {
                        int before = data.Length;
                        bool got = _lines.TryTakeLine(ref data, out var line, out bool overflowed);
                        _offset += before - data.Length;
                        if (overflowed)
                        {
                            Break($"HTTP {(_state == State.StartLine ? "start" : "header")} line longer than {MaxHeaderLine} bytes");
                            break;
                        }

                        if (got)
                        {
                            // After "200 Connection established" the loop hands the rest to the tunnel.
                            OnLine(line);
                        }

                        break;
                    }
                }
            }
        }

        /// <summary>The stream ended (FIN, RST, timeout, end of capture).</summary>
        public void End(bool cleanClose)
        {
            if (_state == State.UntilClose)
            {
                EndMessage(true);
                return;
            }

            if (_state is State.Body or State.ChunkSize or State.ChunkData or State.ChunkDataEnd or State.Trailers)
            {
                _events.OnIssue(_request, _offset, cleanClose ? "HTTP body ended before its declared length" : "stream ended in the middle of an HTTP body");
                _events.OnBodyEnd(_request, false);
                _state = State.Broken;
            }
            else if (_state == State.Headers || (_state == State.StartLine && _lines.HasPartial))
            {
                _events.OnIssue(_request, _offset, "stream ended in the middle of an HTTP header");
                _state = State.Broken;
            }

            _lines.Release();
        }

        /// <summary>A hole in the stream: body bytes are counted missing; anything else breaks framing.</summary>
        public void Gap(long missing)
        {
            _offset += missing;
            if (_state == State.Broken || _state == State.Tunnel)
            {
                return;
            }

            _events.OnIssue(_request, _offset, $"{missing} bytes missing from the stream (not captured)");
            if (_state == State.Body && missing < _remaining)
            {
                _remaining -= missing;
                _events.OnBodyEnd(_request, false);
                _head = null;
                _state = State.Broken;
                return;
            }

            if (InBody)
            {
                _events.OnBodyEnd(_request, false);
            }

            _state = State.Broken;
        }

        private void Advance(ref ReadOnlySpan<byte> data, int count)
        {
            data = data.Slice(count);
            _offset += count;
        }

        [MethodImpl(Jit.Hot)]
        private void OnLine(ReadOnlySpan<byte> line)
        {
            switch (_state)
            {
                case State.StartLine:
                    if (line.IsEmpty)
                    {
                        return; // stray CR LF between messages
                    }

                    _head = ParseStartLine(line);
                    if (_head is null)
                    {
                        Break(_request ? "not an HTTP request line" : "not an HTTP status line");
                        return;
                    }

                    _headerCount = 0;
                    _state = State.Headers;
                    return;

                case State.Headers:
                    if (line.IsEmpty)
                    {
                        HeadersDone();
                        return;
                    }

                    if (++_headerCount > MaxHeaders)
                    {
                        Break($"more than {MaxHeaders} HTTP headers");
                        return;
                    }

                    ParseHeader(line, _head!);
                    return;

                case State.ChunkSize:
                {
                    int semi = line.IndexOf((byte)';');
                    var digits = TrimWhite(semi >= 0 ? line.Slice(0, semi) : line);
                    if (!TryParseHex(digits, out long size))
                    {
                        Break("chunk size is not a hexadecimal number");
                        return;
                    }

                    if (size == 0)
                    {
                        _state = State.Trailers;
                        return;
                    }

                    _remaining = size;
                    _state = State.ChunkData;
                    return;
                }

                case State.ChunkDataEnd:
                    if (!line.IsEmpty)
                    {
                        Break("chunk data longer than its declared size");
                        return;
                    }

                    _state = State.ChunkSize;
                    return;

                case State.Trailers:
                    if (line.IsEmpty)
                    {
                        EndMessage(true);
                    }

                    return;
            }
        }

        private void HeadersDone()
        {
            var head = _head!;
            HttpBodyMode mode;
            if (head.IsRequest)
            {
                _events.OnRequest(head);
                mode = string.Equals(head.Method, "CONNECT", StringComparison.OrdinalIgnoreCase) ? HttpBodyMode.Tunnel : HttpBodyMode.Normal;
                if (mode == HttpBodyMode.Tunnel)
                {
                    // The client speaks the tunnelled protocol from here on (it may not wait for the 200).
                    _state = State.Tunnel;
                    return;
                }
            }
            else
            {
                mode = _events.OnResponse(head);
                if (mode == HttpBodyMode.Tunnel)
                {
                    _state = State.Tunnel;
                    return;
                }
            }

            if (mode == HttpBodyMode.None)
            {
                EndMessage(false);
                return;
            }

            if (head.Chunked)
            {
                _state = State.ChunkSize;
            }
            else if (head.ContentLength > 0)
            {
                _remaining = head.ContentLength;
                _state = State.Body;
            }
            else if (head.ContentLength == 0 || head.IsRequest)
            {
                EndMessage(false);
            }
            else
            {
                _state = State.UntilClose;
            }
        }

        private void EndMessage(bool hadBody)
        {
            if (hadBody)
            {
                _events.OnBodyEnd(_request, true);
            }

            if (_reuseHeads && _head is not null)
            {
                _spareHead = _head;
            }

            _head = null;
            _state = State.StartLine;
        }

        private void Break(string message)
        {
            _events.OnIssue(_request, _offset, message);
            if (InBody)
            {
                _events.OnBodyEnd(_request, false);
            }

            _state = State.Broken;
            _lines.Release();
        }

        private HttpMessageHead? ParseStartLine(ReadOnlySpan<byte> line)
        {
            int sp1 = line.IndexOf((byte)' ');
            if (sp1 <= 0)
            {
                return null;
            }

            if (_request)
            {
                var rest = line.Slice(sp1 + 1);
                int sp2 = rest.LastIndexOf((byte)' ');
                if (sp2 <= 0 || !rest.Slice(sp2 + 1).StartsWith("HTTP/"u8) || !IsToken(line.Slice(0, sp1)))
                {
                    return null;
                }

                var request = NewHead();
                request.IsRequest = true;
                request.Method = Text(line.Slice(0, sp1), ref _lastMethod);
                request.Target = Text(rest.Slice(0, sp2), ref _lastTarget);
                request.Version = Text(rest.Slice(sp2 + 6), ref _lastVersion);
                return request;
            }

            if (!line.StartsWith("HTTP/"u8))
            {
                return null;
            }

            var after = line.Slice(sp1 + 1);
            if (after.Length < 3 || !IsDigit(after[0]) || !IsDigit(after[1]) || !IsDigit(after[2]))
            {
                return null;
            }

            var response = NewHead();
            response.IsRequest = false;
            response.Version = Text(line.Slice(5, sp1 - 5), ref _lastVersion);
            response.StatusCode = (after[0] - '0') * 100 + (after[1] - '0') * 10 + (after[2] - '0');
            response.Reason = after.Length > 4 ? Text(after.Slice(4), ref _lastReason) : string.Empty;
            return response;
        }

        [MethodImpl(Jit.Hot)]
        private void ParseHeader(ReadOnlySpan<byte> line, HttpMessageHead head)
        {
            int colon = line.IndexOf((byte)':');
            if (colon <= 0)
            {
                _events.OnIssue(_request, _offset, "HTTP header line without a colon (skipped)");
                return;
            }

            var name = TrimWhite(line.Slice(0, colon));
            var value = TrimWhite(line.Slice(colon + 1));
            if (Eq(name, "host")) head.Host = Text(value, ref _lastHost);
            else if (Eq(name, "authorization")) head.Authorization = Text(value, ref _lastAuthorization);
            else if (Eq(name, "proxy-authorization")) head.ProxyAuthorization = MimeMessage.Latin1(value);
            else if (Eq(name, "content-type")) head.ContentType = Text(value, ref _lastContentType);
            else if (Eq(name, "content-encoding")) head.ContentEncoding = MimeMessage.Latin1(value).Trim().ToLowerInvariant();
            else if (Eq(name, "content-disposition")) head.ContentDisposition = MimeMessage.Latin1(value);
            else if (Eq(name, "user-agent")) head.UserAgent = Text(value, ref _lastUserAgent);
            else if (Eq(name, "transfer-encoding"))
            {
                head.Chunked = MimeMessage.Latin1(value).IndexOf("chunked", StringComparison.OrdinalIgnoreCase) >= 0;
            }
            else if (Eq(name, "content-length"))
            {
                if (!TryParseDecimal(value, out long length))
                {
                    _events.OnIssue(_request, _offset, "Content-Length is not a number (ignored)");
                }
                else
                {
                    head.ContentLength = length;
                }
            }
            else if (Eq(name, "x-my-real-ip") || Eq(name, "x-forwarded-for") || Eq(name, "x-real-ip") || Eq(name, "forwarded"))
            {
                (head.ClientAddressHeaders ??= new List<KeyValuePair<string, string>>())
                    .Add(new KeyValuePair<string, string>(MimeMessage.Latin1(name), MimeMessage.Latin1(value)));
            }
        }

        /// <summary>Whether the bytes are <paramref name="lower"/>, ASCII letters compared without case.</summary>
        internal static bool Eq(ReadOnlySpan<byte> name, string lower)
        {
            if (name.Length != lower.Length)
            {
                return false;
            }

            for (int i = 0; i < name.Length; i++)
            {
                int c = name[i];
                if (c >= 'A' && c <= 'Z') c += 32;
                if (c != lower[i]) return false;
            }

            return true;
        }

        internal static ReadOnlySpan<byte> TrimWhite(ReadOnlySpan<byte> s)
        {
            int start = 0, end = s.Length;
            while (start < end && (s[start] == ' ' || s[start] == '\t')) start++;
            while (end > start && (s[end - 1] == ' ' || s[end - 1] == '\t')) end--;
            return s.Slice(start, end - start);
        }

        private static bool IsDigit(byte c) => c >= '0' && c <= '9';

        private static bool IsToken(ReadOnlySpan<byte> token)
        {
            foreach (byte c in token)
            {
                if (c <= 0x20 || c >= 0x7F || c == '(' || c == ')' || c == '<' || c == '>' || c == '@' || c == ',' || c == ';' ||
                    c == ':' || c == '\\' || c == '"' || c == '/' || c == '[' || c == ']' || c == '?' || c == '=' || c == '{' || c == '}')
                {
                    return false;
                }
            }

            return token.Length > 0 && token.Length <= 32;
        }

        internal static bool TryParseHex(ReadOnlySpan<byte> digits, out long value)
        {
            value = 0;
            if (digits.IsEmpty || digits.Length > 15)
            {
                return false;
            }

            foreach (byte c in digits)
            {
                int v = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
                if (v < 0)
                {
                    return false;
                }

                value = value * 16 + v;
            }

            return true;
        }

        internal static bool TryParseDecimal(ReadOnlySpan<byte> digits, out long value)
        {
            value = 0;
            if (digits.IsEmpty || digits.Length > 18)
            {
                return false;
            }

            foreach (byte c in digits)
            {
                if (c < '0' || c > '9')
                {
                    return false;
                }

                value = value * 10 + (c - '0');
            }

            return true;
        }

        /// <summary>Decodes a Basic Authorization value into account and password (the password may contain colons).</summary>
        public static bool TryDecodeBasic(string? authorization, out string account, out string password)
        {
            account = password = string.Empty;
            if (authorization is null || !authorization.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase))
            {
                return false;
            }

            if (!MimeMessage.TryDecodeBase64(Encoding.ASCII.GetBytes(authorization.Substring(6).Trim()), out var bytes))
            {
                return false;
            }

            string text = Encoding.UTF8.GetString(bytes);
            int colon = text.IndexOf(':');
            if (colon < 0)
            {
                return false;
            }

            account = text.Substring(0, colon);
            password = text.Substring(colon + 1);
            return true;
        }
    }
}
