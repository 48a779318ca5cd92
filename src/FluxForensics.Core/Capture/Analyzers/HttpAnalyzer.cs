using System;
using System.Collections.Generic;
using FluxForensics.Formats;

namespace FluxForensics.Capture
{
    /// <summary>HTTP/1.x: a client opening with a request method, or a server answering with a status line.</summary>
    internal sealed class HttpProtocol : IApplicationProtocol
    {
        private static readonly string[] Methods = { "GET", "POST", "HEAD", "PUT", "CONNECT", "OPTIONS", "DELETE", "PATCH", "TRACE" };

        public RelayProtocol Protocol => RelayProtocol.Http;

        public bool RecognisesClient(ReadOnlySpan<byte> first, bool serverGreeted)
        {
            foreach (var method in Methods)
            {
                if (ApplicationProtocols.StartsWithWord(first, method))
                {
                    return true;
                }
            }

            return false;
        }

        public bool RecognisesServer(ReadOnlySpan<byte> first) => first.StartsWith("HTTP/"u8);

        public IApplicationAnalyzer Start(RelayConversation conversation, IConnectionServices owner) => new HttpAnalyzer(conversation, owner);
    }

    /// <summary>
    /// HTTP on one connection: requests and responses parsed in both directions, logins (Basic, Proxy-Basic), the URLs
    /// asked for, every response body carved (executables named from their request and hashed), and the conversation
    /// inside an HTTP CONNECT tunnel, which is a conversation of its own.
    /// </summary>
    internal sealed class HttpAnalyzer : IApplicationAnalyzer, IHttpStreamEvents
    {
        private const int MaxRequestedUrls = 256;
        private const int MaxPendingRequests = 1000;

        private readonly RelayConversation _conversation;
        private readonly IConnectionServices _owner;
        private readonly HttpStreamParser _requests;
        private readonly HttpStreamParser _responses;
        private readonly Queue<HttpMessageHead> _pendingRequests = new Queue<HttpMessageHead>();
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

        public HttpAnalyzer(RelayConversation conversation, IConnectionServices owner)
        {
            _conversation = conversation;
            _owner = owner;
            _requests = new HttpStreamParser(true, this);
            _responses = new HttpStreamParser(false, this, reuseHeads: true);
        }

        public void OnData(bool fromClient, ReadOnlySpan<byte> data, long ticks) => (fromClient ? _requests : _responses).Feed(data);

        public void OnGap(bool fromClient, long missing) => (fromClient ? _requests : _responses).Gap(missing);

        public void OnClose(TcpCloseReason reason, long ticks)
        {
            bool clean = reason == TcpCloseReason.Fin;
            _requests.End(clean);
            _responses.End(clean);
        }

        void IHttpStreamEvents.OnRequest(HttpMessageHead head)
        {
            _pendingRequests.Enqueue(head);
            if (_pendingRequests.Count > MaxPendingRequests)
            {
                _pendingRequests.Dequeue();
            }

            var conversation = _conversation;
            conversation.HttpHost ??= head.Host;
            conversation.ReportedClient ??= head.ReportedClient;
            if (HttpStreamParser.TryDecodeBasic(head.Authorization, out var account, out var password))
            {
                (conversation.HttpLogins ??= new List<LoginAttempt>()).Add(new LoginAttempt("Http", "Basic", account, password));
            }
            else if (head.Authorization is not null && head.Authorization.StartsWith("Basic", StringComparison.OrdinalIgnoreCase))
            {
                _owner.Issue(conversation.Describe(true), -1, "Basic Authorization is not base64 account:password", "HTTP header");
            }

            if (HttpStreamParser.TryDecodeBasic(head.ProxyAuthorization, out var proxyAccount, out var proxyPassword))
            {
                (conversation.HttpLogins ??= new List<LoginAttempt>()).Add(new LoginAttempt("Http", "Proxy-Basic", proxyAccount, proxyPassword));
            }

            if (string.Equals(head.Method, "CONNECT", StringComparison.OrdinalIgnoreCase))
            {
                string target = head.Target.Split(' ')[0];
                int colon = target.LastIndexOf(':');
                conversation.OpenTunnel(
                    colon > 0 ? target.Substring(0, colon) : target,
                    colon > 0 && int.TryParse(target.Substring(colon + 1), out int port) ? port : 443);
                (conversation.RequestedUrls ??= new List<string>()).Add(target);
                return;
            }

            // Distinct URLs only, at most MaxRequestedUrls: a keep-alive connection repeating one request thousands of
            // times keeps one string, and memory does not grow with the length of the conversation.
            if (conversation.RequestedUrls is null || conversation.RequestedUrls.Count < MaxRequestedUrls)
            {
                string url = UrlOf(head);
                if (conversation.RequestedUrls is null || !conversation.RequestedUrls.Contains(url))
                {
                    (conversation.RequestedUrls ??= new List<string>()).Add(url);
                }
            }
        }

        private string UrlOf(HttpMessageHead request)
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

            var server = _conversation.Server;
            int serverPort = _conversation.ServerPort;
            string host = request.Host ?? (serverPort == 80 ? server.ToString() : $"{server}:{serverPort}");
            return "http://" + host + (request.Target.StartsWith("/", StringComparison.Ordinal) ? request.Target : "/" + request.Target);
        }

        HttpBodyMode IHttpStreamEvents.OnResponse(HttpMessageHead head)
        {
            HttpMessageHead? request = null;
            if (head.StatusCode >= 200 && _pendingRequests.Count > 0)
            {
                request = _pendingRequests.Dequeue();
            }

            var logins = _conversation.HttpLogins;
            if (request is not null && logins is { Count: > 0 })
            {
                var last = logins[logins.Count - 1];
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
                    _requests.Recycle(request);
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

            _currentBody.TimeTicks = _conversation.EndTicks;
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
                _owner.Issue(_conversation.Describe(false), -1, body.Issue, "HTTP body");
            }

            if (body.ExecutableType is not null || _owner.KeepsOtherFiles)
            {
                NameBody(body, answered, _currentDisposition);
            }

            if (!_owner.AddFile(_conversation, body, _conversation))
            {
                _spareBody = body;
            }

            if (answered is not null)
            {
                _requests.Recycle(answered);
            }
        }

        void IHttpStreamEvents.OnTunnel(bool request, ReadOnlySpan<byte> data)
        {
            var tunnel = _conversation.Tunnel;
            if (tunnel is null)
            {
                return;
            }

            tunnel.OnData(request, data, _conversation.EndTicks);
            if (request)
            {
                // The proxy starts the tunnel once it answered; the response parser is told here at the latest.
                if (!_responses.IsTunnel && !_responses.InBody && _pendingRequests.Count == 0)
                {
                    _responses.StartTunnel();
                }
            }
        }

        void IHttpStreamEvents.OnIssue(bool request, long offset, string message)
        {
            _owner.Issue(_conversation.Describe(request), offset, message, "HTTP");
        }
    }
}
