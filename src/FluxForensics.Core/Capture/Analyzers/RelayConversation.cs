using System;
using System.Runtime.CompilerServices;
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
    /// One TCP conversation (or the tunnel inside an HTTP CONNECT): recognises its application protocol from the
    /// first bytes (<see cref="ApplicationProtocols"/>), hands its streams to that protocol's analyser, and keeps what
    /// the relay pairing and the findings need once the flow is gone: endpoints, times, byte counts, a fingerprint of
    /// the first bytes each way, and the transactions the analyser read (logins, mail, FTP transfers, URLs, files).
    /// </summary>
    internal sealed class RelayConversation
    {
        internal const int FingerprintBytes = 256;
        private const int MaxUndecided = 512;
        private const int MaxKeptFiles = 10_000;
        private const ulong FnvOffset = 14695981039346656037UL;
        private const ulong FnvPrime = 1099511628211UL;

        private readonly IConnectionServices _owner;
        private IApplicationAnalyzer? _analyzer;
        private bool _serverGreeted;
        private int _undecidedBytes;
        private byte[]? _stash;
        private int _stashLength;

        public RelayConversation(IConnectionServices owner, TcpFlow flow, RelayConversation? parent = null)
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

        /// <summary>SMTP transactions and logins, set by the SMTP analyser.</summary>
        public SmtpSession? Smtp { get; internal set; }

        /// <summary>FTP logins and transfers, set by the FTP analyser.</summary>
        public FtpSession? Ftp { get; internal set; }

        /// <summary>HTTP Basic and Proxy-Basic logins, set by the HTTP analyser.</summary>
        public List<LoginAttempt>? HttpLogins { get; internal set; }

        /// <summary>The distinct URLs requested (capped), set by the HTTP analyser.</summary>
        public List<string>? RequestedUrls { get; internal set; }

        /// <summary>The client a proxy reported upstream (X-My-Real-IP and the like), from the first request that named one.</summary>
        public string? ReportedClient { get; internal set; }

        /// <summary>The Host header of the first request that had one.</summary>
        public string? HttpHost { get; internal set; }

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

        /// <summary>A data connection the FTP control connection announced: its bytes are a file.</summary>
        public void MarkFtpData(RelayConversation control, FtpDataChannel channel)
        {
            Protocol = RelayProtocol.FtpData;
            FtpControl = control;
            FtpChannel = channel;
            _analyzer = new FtpDataAnalyzer(this, _owner);
        }

        /// <summary>The conversation inside the HTTP CONNECT this conversation's client asked for.</summary>
        internal void OpenTunnel(string host, int port)
        {
            Tunnel = new RelayConversation(_owner, new TcpFlow(0, Client, ClientPort, Server, ServerPort, EndTicks), this)
            {
                ConnectHost = host,
                ConnectPort = port,
            };
        }

        [MethodImpl(Jit.Hot)]
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

            if (Protocol == RelayProtocol.Unknown && !Detect(fromClient, data))
            {
                return;
            }

            _analyzer?.OnData(fromClient, data, ticks);
        }

        public void OnGap(bool fromClient, long missing)
        {
            _analyzer?.OnGap(fromClient, missing);
            Tunnel?.OnGap(fromClient, missing);
        }

        public void OnClose(TcpCloseReason reason, long ticks)
        {
            EndTicks = Math.Max(EndTicks, ticks);
            _analyzer?.OnClose(reason, ticks);
            _analyzer = null;
            Tunnel?.OnClose(reason, ticks);
            _stash = null;
        }

        /// <summary>Decides the protocol from the first bytes; true when an analyser took over (and has seen any stashed bytes).</summary>
        private bool Detect(bool fromClient, ReadOnlySpan<byte> data)
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
                var answered = ApplicationProtocols.ForServer(probe);
                if (answered is not null)
                {
                    Start(answered);
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

            var protocol = ApplicationProtocols.ForClient(probe, _serverGreeted);
            if (protocol is null)
            {
                GiveUpAfter(data.Length);
                return false;
            }

            Start(protocol);
            if (_stashLength > 0)
            {
                var stashed = _stash.AsSpan(0, _stashLength).ToArray();
                _stashLength = 0;
                _analyzer!.OnData(true, stashed, EndTicks);
            }

            return true;
        }

        private void Start(IApplicationProtocol protocol)
        {
            Protocol = protocol.Protocol;
            _analyzer = protocol.Start(this, _owner);
        }

        private void GiveUpAfter(int bytes)
        {
            _undecidedBytes += bytes;
            if (_undecidedBytes >= MaxUndecided || !_serverGreeted)
            {
                Protocol = RelayProtocol.Ignored;
            }
        }

        /// <summary>The protocol a client's first bytes open (Unknown when none does).</summary>
        internal static RelayProtocol Recognise(ReadOnlySpan<byte> first, bool serverGreeted) =>
            ApplicationProtocols.ForClient(first, serverGreeted)?.Protocol ?? RelayProtocol.Unknown;

        [MethodImpl(Jit.Hot)]
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

        public void AddFile(RelayCarvedFile file)
        {
            if ((Files ??= new List<RelayCarvedFile>()).Count < MaxKeptFiles)
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
