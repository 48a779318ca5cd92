using System;
using System.Collections.Generic;
using FluxForensics.Formats;

namespace FluxForensics.Capture
{
    /// <summary>Application protocol of a conversation, recognised by content (SMTP arrives on port 80 in the incident).</summary>
    internal enum RelayProtocol : byte
    {
        Unknown,
        Http,
        Smtp,
        Ftp,
        FtpData,
        Ignored,
    }

    /// <summary>
    /// One TCP conversation (or the tunnel inside an HTTP CONNECT): recognises its protocol from the first bytes,
    /// drives the protocol parser, and keeps what the relay pairing and the findings need once the flow is gone:
    /// endpoints, times, byte counts, a fingerprint of the first bytes each way, logins, mail envelope, URLs and files.
    /// </summary>
    internal sealed class RelayConversation : IHttpStreamEvents
    {
        internal const int FingerprintBytes = 256;
        private const int MaxLine = 16 * 1024;
        private const int MaxUndecided = 512;
        private const ulong FnvOffset = 14695981039346656037UL;
        private const ulong FnvPrime = 1099511628211UL;

        private readonly TcpSessionAnalyzer _owner;
        private TcpLineBuffer? _clientLines;
        private TcpLineBuffer? _serverLines;
        private HttpStreamParser? _httpRequests;
        private HttpStreamParser? _httpResponses;
        private Queue<HttpMessageHead>? _pendingRequests;
        private RelayCarvedFile? _currentBody;

        /// <summary>The request the current response body answers, and the response's Content-Disposition: the body is named from them when it is kept.</summary>
        private HttpMessageHead? _currentRequest;
        private string? _currentDisposition;

        /// <summary>A finished body nothing kept, reused for the next response.</summary>
        private RelayCarvedFile? _spareBody;

        // The last URL built and what it was built from: a keep-alive connection repeating a request builds it once.
        private string? _lastUrl;
        private string? _lastUrlTarget;
        private string? _lastUrlHost;
        private bool _serverGreeted;
        private int _undecidedBytes;
        private byte[]? _stash;
        private int _stashLength;
        private long _clientOffset;
        private long _serverOffset;
        private bool _clientSkipToNewline;
        private bool _serverSkipToNewline;

        public RelayConversation(TcpSessionAnalyzer owner, TcpFlow flow, RelayConversation? parent = null)
        {
            _owner = owner;
            Client = flow.Client;
            ClientPort = flow.ClientPort;
            Server = flow.Server;
            ServerPort = flow.ServerPort;
            StartTicks = flow.StartTicks;
            EndTicks = flow.StartTicks;
            Parent = parent;
            FingerprintClient = FnvOffset;
            FingerprintServer = FnvOffset;
        }

        public NetAddress Client { get; }
        public ushort ClientPort { get; }
        public NetAddress Server { get; }
        public ushort ServerPort { get; }
        public long StartTicks { get; }
        public long EndTicks { get; set; }
        public RelayConversation? Parent { get; }
        public RelayConversation? Tunnel { get; private set; }
        public RelayProtocol Protocol { get; private set; }

        /// <summary>For a CONNECT tunnel: the host and port the client asked the proxy for.</summary>
        public string? ConnectHost { get; set; }
        public int ConnectPort { get; set; }

        public long BytesFromClient { get; private set; }
        public long BytesFromServer { get; private set; }
        public ulong FingerprintClient { get; private set; }
        public ulong FingerprintServer { get; private set; }
        public int FingerprintClientLength { get; private set; }
        public int FingerprintServerLength { get; private set; }

        public SmtpSession? Smtp { get; private set; }
        public FtpSession? Ftp { get; private set; }
        public List<LoginAttempt>? HttpLogins { get; private set; }
        public List<string>? RequestedUrls { get; private set; }

        private const int MaxRequestedUrls = 256;
        public string? ReportedClient { get; private set; }
        public string? HttpHost { get; private set; }
        public List<RelayCarvedFile>? Files { get; private set; }

        /// <summary>For an FTP data connection: the control conversation and the channel it announced.</summary>
        public RelayConversation? FtpControl { get; set; }
        public FtpDataChannel? FtpChannel { get; set; }

        public bool Paired { get; set; }

        /// <summary>Ended and handed to the correlators by its worker, which no longer changes it.</summary>
        public bool HandedOver { get; set; }

        /// <summary>Let go by the correlator's sweep (unpaired, nothing to report).</summary>
        public bool Dropped { get; set; }

        /// <summary>Reported and let go by the analyser (paired, or settled with findings).</summary>
        public bool Released { get; private set; }

        /// <summary>For the outbound leg of a reported pair: its inbound leg (a late FTP data file is relayed through it).</summary>
        public RelayConversation? PairedInbound { get; private set; }

        /// <summary>
        /// Marks the conversation reported and drops what the findings took from it (mail, URLs, files, HTTP logins). The
        /// FTP session stays: a data connection still open may finish later and name its file from it.
        /// </summary>
        public void Release(RelayConversation? pairedInbound)
        {
            Released = true;
            PairedInbound = pairedInbound;
            Smtp = null;
            HttpLogins = null;
            RequestedUrls = null;
            Files = null;
        }

        /// <summary>The first login of any protocol, or null (without enumerating <see cref="Logins"/>).</summary>
        public LoginAttempt? FirstLogin =>
            Smtp is { Logins.Count: > 0 } ? Smtp.Logins[0] :
            Ftp is { Logins.Count: > 0 } ? Ftp.Logins[0] :
            HttpLogins is { Count: > 0 } ? HttpLogins[0] : null;

        /// <summary>Carries something reported even without a pair: a login, an executable, a CONNECT tunnel.</summary>
        public bool HasLogins => (Smtp?.Logins.Count ?? 0) > 0 || (Ftp?.Logins.Count ?? 0) > 0 || (HttpLogins?.Count ?? 0) > 0;

        public bool HasFindings =>
            HasLogins || (Files is not null && Files.Exists(f => f.ExecutableType is not null)) || IsConnectTunnel;

        /// <summary>The conversation inside an HTTP CONNECT tunnel (a relayed one even when its outbound leg is not seen).</summary>
        public bool IsConnectTunnel => Parent is not null && ConnectHost is not null;

        public string Describe(bool fromClient) =>
            $"TCP {Client}:{ClientPort} -> {Server}:{ServerPort}{(Parent is not null ? " (CONNECT tunnel)" : string.Empty)} {(fromClient ? "client" : "server")} stream";

        public void MarkFtpData(RelayConversation control, FtpDataChannel channel)
        {
            Protocol = RelayProtocol.FtpData;
            FtpControl = control;
            FtpChannel = channel;
        }

        public void OnData(bool fromClient, ReadOnlySpan<byte> data, long ticks)
        {
            EndTicks = ticks;
            if (fromClient)
            {
                BytesFromClient += data.Length;
                if (FingerprintClientLength < FingerprintBytes)
                {
                    FingerprintClient = Fingerprint(FingerprintClient, data, FingerprintClientLength, out int n);
                    FingerprintClientLength = n;
                }
            }
            else
            {
                BytesFromServer += data.Length;
                if (FingerprintServerLength < FingerprintBytes)
                {
                    FingerprintServer = Fingerprint(FingerprintServer, data, FingerprintServerLength, out int n);
                    FingerprintServerLength = n;
                }
            }

            if (Protocol == RelayProtocol.Unknown)
            {
                if (!Detect(fromClient, ref data))
                {
                    return;
                }
            }

            Dispatch(fromClient, data, ticks);
        }

        private void Dispatch(bool fromClient, ReadOnlySpan<byte> data, long ticks)
        {
            switch (Protocol)
            {
                case RelayProtocol.Http:
                    (fromClient ? _httpRequests : _httpResponses)?.Feed(data);
                    break;

                case RelayProtocol.Smtp:
                case RelayProtocol.Ftp:
                    FeedLines(fromClient, data);
                    break;

                case RelayProtocol.FtpData:
                    if (_currentBody is null)
                    {
                        _currentBody = _owner.NewFile("Ftp", gzip: false);
                        _currentBody.TimeTicks = ticks;
                    }

                    _currentBody.Append(data);
                    break;
            }
        }

        public void OnGap(bool fromClient, long missing)
        {
            string where = Describe(fromClient);
            switch (Protocol)
            {
                case RelayProtocol.Http:
                    (fromClient ? _httpRequests : _httpResponses)?.Gap(missing);
                    break;

                case RelayProtocol.Smtp:
                case RelayProtocol.Ftp:
                    _owner.Issue(where, fromClient ? _clientOffset : _serverOffset, $"{missing} bytes missing from the stream (not captured); resuming at the next line", Protocol == RelayProtocol.Smtp ? "SMTP" : "FTP");
                    // A line cut by the hole is dropped up to its end; when the hole began at a line start, the bytes
                    // after it are read as lines straight away (a wrong guess costs one unparseable line).
                    if (fromClient)
                    {
                        _clientSkipToNewline = _clientLines?.HasPartial == true;
                        _clientLines?.Clear();
                        _clientOffset += missing;
                    }
                    else
                    {
                        _serverSkipToNewline = _serverLines?.HasPartial == true;
                        _serverLines?.Clear();
                        _serverOffset += missing;
                    }

                    break;

                case RelayProtocol.FtpData:
                    _owner.Issue(where, BytesFromClient + BytesFromServer, $"{missing} bytes missing from the FTP data stream; the carved file is incomplete", "FTP data");
                    if (_currentBody is not null)
                    {
                        _currentBody.MissingBytes += missing;
                    }

                    break;
            }

            Tunnel?.OnGap(fromClient, missing);
        }

        public void OnClose(TcpCloseReason reason, long ticks)
        {
            EndTicks = Math.Max(EndTicks, ticks);
            bool midStream = reason != TcpCloseReason.Fin;
            _httpRequests?.End(!midStream);
            _httpResponses?.End(!midStream);
            if (Smtp is not null)
            {
                Smtp.End(_clientOffset, midStream);
            }

            if (Protocol == RelayProtocol.FtpData && _currentBody is not null)
            {
                _currentBody.FileName = FtpChannel?.FileName;
                _currentBody.Finish(reason == TcpCloseReason.Fin || reason == TcpCloseReason.Reset);
                var control = FtpControl ?? this;
                if (FtpChannel?.FileName is not null && control.Smtp is null)
                {
                    _currentBody.Url = $"ftp://{control.Server}/{FtpChannel.FileName.TrimStart('/')}";
                }

                var login = control.Ftp?.Logins.Count > 0 ? control.Ftp.Logins[control.Ftp.Logins.Count - 1] : null;
                _currentBody.Account = login?.Account;
                _owner.AddFile(control, _currentBody, this);
                _currentBody = null;
            }

            Tunnel?.OnClose(reason, ticks);
            _clientLines?.Release();
            _serverLines?.Release();
            _clientLines = _serverLines = null;
            _httpRequests = _httpResponses = null;
            _pendingRequests = null;
            _stash = null;
        }

        private bool Detect(bool fromClient, ref ReadOnlySpan<byte> data)
        {
            ReadOnlySpan<byte> probe = data;
            if (fromClient && _stashLength > 0)
            {
                var joined = new byte[_stashLength + Math.Min(data.Length, 64)];
                Buffer.BlockCopy(_stash!, 0, joined, 0, _stashLength);
                data.Slice(0, joined.Length - _stashLength).CopyTo(joined.AsSpan(_stashLength));
                probe = joined;
            }

            if (!fromClient)
            {
                if (probe.StartsWith("HTTP/"u8))
                {
                    StartHttp();
                    return true;
                }

                if (probe.Length >= 3 && probe[0] == '2' && probe[1] == '2' && probe[2] == '0')
                {
                    _serverGreeted = true; // SMTP or FTP: the client's first command decides
                    return false;
                }

                if (!_serverGreeted)
                {
                    GiveUpAfter(data.Length);
                }

                return false;
            }

            if (probe.Length < 5 && probe.IndexOf((byte)' ') < 0 && probe.IndexOf((byte)'\n') < 0)
            {
                _stash ??= new byte[16];
                int take = Math.Min(16 - _stashLength, data.Length);
                data.Slice(0, take).CopyTo(_stash.AsSpan(_stashLength));
                _stashLength += take;
                if (_stashLength >= 16)
                {
                    Protocol = RelayProtocol.Ignored;
                }

                return false;
            }

            RelayProtocol detected = Recognise(probe, _serverGreeted);
            if (detected == RelayProtocol.Unknown)
            {
                GiveUpAfter(data.Length);
                return false;
            }

            if (detected == RelayProtocol.Http)
            {
                StartHttp();
            }
            else if (detected == RelayProtocol.Smtp)
            {
                Protocol = RelayProtocol.Smtp;
                Smtp = new SmtpSession(_owner.MaxBuffered, (offset, message) => _owner.Issue(Describe(true), offset, message, "SMTP"), _owner.KeepMailParts);
            }
            else
            {
                Protocol = RelayProtocol.Ftp;
                Ftp = new FtpSession(channel => _owner.ExpectFtpData(this, channel), (offset, message) => _owner.Issue(Describe(true), offset, message, "FTP"));
            }

            if (_stashLength > 0)
            {
                var stashed = _stash.AsSpan(0, _stashLength).ToArray();
                _stashLength = 0;
                Dispatch(true, stashed, EndTicks);
            }

            return true;
        }

        private void GiveUpAfter(int bytes)
        {
            _undecidedBytes += bytes;
            if (_undecidedBytes >= MaxUndecided || !_serverGreeted)
            {
                Protocol = RelayProtocol.Ignored;
            }
        }

        internal static RelayProtocol Recognise(ReadOnlySpan<byte> first, bool serverGreeted)
        {
            if (StartsWithWord(first, "GET") || StartsWithWord(first, "POST") || StartsWithWord(first, "HEAD") ||
                StartsWithWord(first, "PUT") || StartsWithWord(first, "CONNECT") || StartsWithWord(first, "OPTIONS") ||
                StartsWithWord(first, "DELETE") || StartsWithWord(first, "PATCH") || StartsWithWord(first, "TRACE"))
            {
                return RelayProtocol.Http;
            }

            if (StartsWithWord(first, "EHLO") || StartsWithWord(first, "HELO") || StartsWithWord(first, "MAIL"))
            {
                return RelayProtocol.Smtp;
            }

            if (StartsWithWord(first, "USER") || (serverGreeted && (StartsWithWord(first, "SYST") || StartsWithWord(first, "FEAT") || StartsWithWord(first, "OPTS"))))
            {
                return RelayProtocol.Ftp;
            }

            return RelayProtocol.Unknown;
        }

        private static bool StartsWithWord(ReadOnlySpan<byte> data, string word)
        {
            if (data.Length < word.Length + 1)
            {
                return false;
            }

            for (int i = 0; i < word.Length; i++)
            {
                int c = data[i];
                if (c >= 'a' && c <= 'z') c -= 32;
                if (c != word[i]) return false;
            }

            byte next = data[word.Length];
            return next == ' ' || next == '\r' || next == '\n';
        }

        private void StartHttp()
        {
            Protocol = RelayProtocol.Http;
            _httpRequests = new HttpStreamParser(true, this);
            _httpResponses = new HttpStreamParser(false, this, reuseHeads: true);
            _pendingRequests = new Queue<HttpMessageHead>();
        }

        private void FeedLines(bool fromClient, ReadOnlySpan<byte> data)
        {
            var lines = fromClient ? (_clientLines ??= new TcpLineBuffer(MaxLine)) : (_serverLines ??= new TcpLineBuffer(MaxLine));
            if (fromClient ? _clientSkipToNewline : _serverSkipToNewline)
            {
                int nl = data.IndexOf((byte)'\n');
                if (nl < 0)
                {
                    Advance(fromClient, data.Length);
                    return;
                }

                Advance(fromClient, nl + 1);
                data = data.Slice(nl + 1);
                if (fromClient) _clientSkipToNewline = false; else _serverSkipToNewline = false;
            }

            while (!data.IsEmpty)
            {
                int before = data.Length;
                bool got = lines.TryTakeLine(ref data, out var line, out bool overflowed);
                long offset = fromClient ? _clientOffset : _serverOffset;
                Advance(fromClient, before - data.Length);
                if (overflowed)
                {
                    _owner.Issue(Describe(fromClient), offset, $"line longer than {MaxLine} bytes (skipped)", Protocol == RelayProtocol.Smtp ? "SMTP line" : "FTP line");
                }

                if (!got)
                {
                    continue;
                }

                if (Smtp is not null)
                {
                    if (fromClient) Smtp.ClientLine(line, offset); else Smtp.ServerLine(line);
                }
                else if (Ftp is not null)
                {
                    if (fromClient) Ftp.ClientLine(line, offset); else Ftp.ServerLine(line, offset);
                }
            }
        }

        private void Advance(bool fromClient, int count)
        {
            if (fromClient) _clientOffset += count; else _serverOffset += count;
        }

        private static ulong Fingerprint(ulong hash, ReadOnlySpan<byte> data, int already, out int total)
        {
            int take = Math.Min(FingerprintBytes - already, data.Length);
            for (int i = 0; i < take; i++)
            {
                hash = (hash ^ data[i]) * FnvPrime;
            }

            total = already + take;
            return hash;
        }

        void IHttpStreamEvents.OnRequest(HttpMessageHead head)
        {
            _pendingRequests?.Enqueue(head);
            if (_pendingRequests?.Count > 1000)
            {
                _pendingRequests.Dequeue();
            }

            HttpHost ??= head.Host;
            ReportedClient ??= head.ReportedClient;
            if (HttpStreamParser.TryDecodeBasic(head.Authorization, out var account, out var password))
            {
                (HttpLogins ??= new List<LoginAttempt>()).Add(new LoginAttempt("Http", "Basic", account, password));
            }
            else if (head.Authorization is not null && head.Authorization.StartsWith("Basic", StringComparison.OrdinalIgnoreCase))
            {
                _owner.Issue(Describe(true), -1, "Basic Authorization is not base64 account:password", "HTTP header");
            }

            if (HttpStreamParser.TryDecodeBasic(head.ProxyAuthorization, out var proxyAccount, out var proxyPassword))
            {
                (HttpLogins ??= new List<LoginAttempt>()).Add(new LoginAttempt("Http", "Proxy-Basic", proxyAccount, proxyPassword));
            }

            if (string.Equals(head.Method, "CONNECT", StringComparison.OrdinalIgnoreCase))
            {
                Tunnel = new RelayConversation(_owner, new TcpFlow(0, Client, ClientPort, Server, ServerPort, EndTicks), this);
                string target = head.Target.Split(' ')[0];
                int colon = target.LastIndexOf(':');
                Tunnel.ConnectHost = colon > 0 ? target.Substring(0, colon) : target;
                Tunnel.ConnectPort = colon > 0 && int.TryParse(target.Substring(colon + 1), out int port) ? port : 443;
                (RequestedUrls ??= new List<string>()).Add(target);
                return;
            }

            // Distinct URLs only, at most MaxRequestedUrls: a keep-alive connection repeating one request thousands of
            // times keeps one string, and memory does not grow with the length of the conversation.
            if (RequestedUrls is null || RequestedUrls.Count < MaxRequestedUrls)
            {
                string url = UrlOf(head);
                if (RequestedUrls is null || !RequestedUrls.Contains(url))
                {
                    (RequestedUrls ??= new List<string>()).Add(url);
                }
            }
        }

        internal string UrlOf(HttpMessageHead request)
        {
            if (_lastUrl is not null && ReferenceEquals(request.Target, _lastUrlTarget) && ReferenceEquals(request.Host, _lastUrlHost))
            {
                return _lastUrl;
            }

            _lastUrlTarget = request.Target;
            _lastUrlHost = request.Host;
            return _lastUrl = BuildUrl(request);
        }

        private string BuildUrl(HttpMessageHead request)
        {
            if (request.Target.StartsWith("http://", StringComparison.OrdinalIgnoreCase) || request.Target.StartsWith("https://", StringComparison.OrdinalIgnoreCase))
            {
                return request.Target;
            }

            string host = request.Host ?? (ServerPort == 80 ? Server.ToString() : $"{Server}:{ServerPort}");
            return "http://" + host + (request.Target.StartsWith("/", StringComparison.Ordinal) ? request.Target : "/" + request.Target);
        }

        HttpBodyMode IHttpStreamEvents.OnResponse(HttpMessageHead head)
        {
            HttpMessageHead? request = null;
            if (head.StatusCode >= 200 && _pendingRequests is { Count: > 0 })
            {
                request = _pendingRequests.Dequeue();
            }

            if (request is not null && HttpLogins is { Count: > 0 })
            {
                var last = HttpLogins[HttpLogins.Count - 1];
                if (last.Accepted is null)
                {
                    last.Accepted = head.StatusCode != 401 && head.StatusCode != 407 && head.StatusCode != 403;
                    last.Reply = $"{head.StatusCode} {head.Reason}";
                }
            }

            if (request is not null && string.Equals(request.Method, "CONNECT", StringComparison.OrdinalIgnoreCase))
            {
                return head.StatusCode >= 200 && head.StatusCode < 300 ? HttpBodyMode.Tunnel : HttpBodyMode.Normal;
            }

            if ((head.StatusCode >= 100 && head.StatusCode < 200) || head.StatusCode == 204 || head.StatusCode == 304 ||
                (request is not null && string.Equals(request.Method, "HEAD", StringComparison.OrdinalIgnoreCase)))
            {
                if (request is not null)
                {
                    _httpRequests?.Recycle(request);
                }

                return HttpBodyMode.None;
            }

            bool gzip = head.ContentEncoding == "gzip" || head.ContentEncoding == "x-gzip";
            if (_spareBody is not null)
            {
                _currentBody = _spareBody;
                _spareBody = null;
                _currentBody.Reset("Http", gzip);
            }
            else
            {
                _currentBody = _owner.NewFile("Http", gzip);
            }

            _currentBody.TimeTicks = EndTicks;
            _currentRequest = request;
            _currentDisposition = head.ContentDisposition;
            return HttpBodyMode.Normal;
        }

        /// <summary>
        /// Names a response body from its request (URL, file name, account, reported client) and the response's
        /// Content-Disposition. Done only for a body that is kept: most bodies are not executables and nobody asks.
        /// </summary>
        private void NameBody(RelayCarvedFile body, HttpMessageHead? request, string? disposition)
        {
            if (request is not null)
            {
                body.Url = UrlOf(request);
                body.ReportedClient = request.ReportedClient;
                if (HttpStreamParser.TryDecodeBasic(request.Authorization, out var account, out _))
                {
                    body.Account = account;
                }

                string path = request.Target.Split('?')[0];
                int slash = path.LastIndexOf('/');
                string name = slash >= 0 ? path.Substring(slash + 1) : path;
                body.FileName = name.Length > 0 ? Uri.UnescapeDataString(name) : null;
            }

            string? dispositionName = disposition is null ? null : MimeMessage.Parameter(disposition, "filename");
            if (!string.IsNullOrEmpty(dispositionName))
            {
                body.FileName = dispositionName;
            }
        }

        void IHttpStreamEvents.OnBody(bool request, ReadOnlySpan<byte> data)
        {
            if (!request)
            {
                _currentBody?.Append(data);
            }
        }

        void IHttpStreamEvents.OnBodyEnd(bool request, bool complete)
        {
            if (request || _currentBody is null)
            {
                return;
            }

            var body = _currentBody;
            var answered = _currentRequest;
            _currentBody = null;
            _currentRequest = null;
            body.Finish(complete);
            if (body.Issue is not null)
            {
                _owner.Issue(Describe(false), -1, body.Issue, "HTTP body");
            }

            if (body.ExecutableType is not null || _owner.KeepsOtherFiles)
            {
                NameBody(body, answered, _currentDisposition);
            }

            if (!_owner.AddFile(this, body, this))
            {
                _spareBody = body;
            }

            if (answered is not null)
            {
                _httpRequests?.Recycle(answered);
            }
        }

        void IHttpStreamEvents.OnTunnel(bool request, ReadOnlySpan<byte> data)
        {
            if (Tunnel is null)
            {
                return;
            }

            Tunnel.OnData(request, data, EndTicks);
            if (request)
            {
                // The proxy starts the tunnel once it answered; the response parser is told here at the latest.
                if (_httpResponses is not null && !_httpResponses.IsTunnel && !_httpResponses.InBody && _pendingRequests is { Count: 0 })
                {
                    _httpResponses.StartTunnel();
                }
            }
        }

        void IHttpStreamEvents.OnIssue(bool request, long offset, string message)
        {
            _owner.Issue(Describe(request), offset, message, "HTTP");
        }

        public void AddFile(RelayCarvedFile file)
        {
            if ((Files ??= new List<RelayCarvedFile>()).Count < 10_000)
            {
                Files.Add(file);
            }
        }

        /// <summary>Every login the conversation carried, whatever the protocol.</summary>
        public IEnumerable<LoginAttempt> Logins
        {
            get
            {
                if (Smtp is not null) foreach (var l in Smtp.Logins) yield return l;
                if (Ftp is not null) foreach (var l in Ftp.Logins) yield return l;
                if (HttpLogins is not null) foreach (var l in HttpLogins) yield return l;
            }
        }
    }
}
