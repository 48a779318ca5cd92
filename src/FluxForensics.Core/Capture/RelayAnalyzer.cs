using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;
using FluxForensics.Detection;
using FluxForensics.Formats;
using FluxForensics.Model;

namespace FluxForensics.Capture
{
    /// <summary>
    /// Reconstructs the relay: reassembles TCP, recognises SMTP, FTP and HTTP by content, pairs each inbound
    /// conversation (client → relay) with the outbound one it caused (relay → server) by time and shared bytes, and
    /// reports RelaySession, FluxDownload and ExposedCredential findings. Publishes the relay hosts for the DNS rules.
    /// </summary>
    public sealed class RelayAnalyzer : ICaptureAnalyzer, ITcpStreamHandler
    {
        /// <summary>How long after the inbound connection the relay may open the outbound one.</summary>
        internal static readonly long PairingWindowTicks = TimeSpan.FromSeconds(30).Ticks;
        private const int MaxExpectedChannels = 10_000;
        private const int MaxKeptConversations = 2_000_000;
        private const int MaxKeptExecutables = 10_000;
        private const int MaxKeptOtherFiles = 10_000;
        private int _keptOtherFiles;

        private readonly CaptureAnalysisContext _context;
        private readonly TcpReassembler _reassembler;
        /// <summary>Closed conversations that may still pair (closed within the retention window, or not yet swept).</summary>
        private readonly List<RelayConversation> _working = new List<RelayConversation>();

        // Findings are built as soon as a conversation leaves the working set (paired, or settled unpaired past the
        // window), and the conversation is let go: memory holds the findings, not the conversations behind them.
        // What needs the whole capture is scored at the end: a session by how many clients and servers its relay had,
        // a download by whether any relay was found.
        private readonly List<FluxFinding> _sessions = new List<FluxFinding>();
        private readonly List<FluxFinding> _otherFindings = new List<FluxFinding>();
        private readonly List<(RelaySession Session, NetAddress Relay)> _unscoredSessions = new List<(RelaySession, NetAddress)>();
        private readonly List<(FluxDownload Download, bool Complete)> _unscoredDownloads = new List<(FluxDownload, bool)>();
        private readonly Dictionary<NetAddress, RelayCounts> _relays = new Dictionary<NetAddress, RelayCounts>();
        private readonly HashSet<NetAddress> _tunnelProxies = new HashSet<NetAddress>();
        private readonly long _retentionTicks;
        private long _lastSweepTicks;
        private long _dropped;
        private readonly Dictionary<(NetAddress Address, ushort Port), (RelayConversation Control, FtpDataChannel Channel)> _expected =
            new Dictionary<(NetAddress, ushort), (RelayConversation, FtpDataChannel)>();
        private readonly List<RelayCarvedFile> _files = new List<RelayCarvedFile>();
        private int _keptExecutables;
        private bool _conversationCapReported;

        public RelayAnalyzer(CaptureAnalysisContext context)
        {
            _context = context ?? throw new ArgumentNullException(nameof(context));
            _reassembler = new TcpReassembler(context.Options, this);
            _retentionTicks = Math.Max(PairingWindowTicks * 2, context.Options.FlowTimeout.Ticks);
        }

        /// <summary>Conversations that left memory unpaired and with nothing to report (what keeps memory flat).</summary>
        internal long DroppedConversations => _dropped;

        public int Order => 10;

        internal int MaxBuffered => Math.Max(1024, _context.Options.MaxBufferedBytesPerFlow);

        /// <summary>Files carved from HTTP bodies and FTP data: the first 10,000 executables and the first 10,000 others, for tests and tools.</summary>
        internal IReadOnlyList<RelayCarvedFile> CarvedFiles => _files;

        /// <summary>
        /// Unpaired conversations still held (not yet let go by a sweep; after <see cref="Complete"/>, those of the last
        /// retention window), with what was parsed from them: for tests and tools.
        /// </summary>
        internal IReadOnlyList<RelayConversation> Conversations => _working.Where(c => !c.Paired).OrderBy(c => c.StartTicks).ToList();

        /// <summary>Executables whose FTP control connection had been reported and let go before the file ended.</summary>
        internal long LateFiles { get; private set; }

        /// <summary>Relayed conversations paired so far.</summary>
        internal long PairCount { get; private set; }

        internal TcpReassembler Reassembler => _reassembler;

        public void OnPacket(in DecodedPacket packet)
        {
            if (packet.Protocol == TransportProtocol.Tcp)
            {
                _reassembler.OnPacket(in packet);
            }
        }

        void ITcpStreamHandler.OnOpen(TcpFlow flow)
        {
            _context.FlowCount++;
            var conversation = new RelayConversation(this, flow);
            flow.State = conversation;
            if (_expected.Count > 0 &&
                (_expected.TryGetValue((flow.Server, flow.ServerPort), out var expected) || _expected.TryGetValue((flow.Client, flow.ClientPort), out expected)))
            {
                _expected.Remove((flow.Server, flow.ServerPort));
                _expected.Remove((flow.Client, flow.ClientPort));
                conversation.MarkFtpData(expected.Control, expected.Channel);
            }
        }

        void ITcpStreamHandler.OnData(TcpFlow flow, bool fromClient, ReadOnlySpan<byte> data, long ticks)
        {
            var conversation = (RelayConversation)flow.State!;
            if (conversation.Protocol != RelayProtocol.Ignored)
            {
                conversation.OnData(fromClient, data, ticks);
            }
        }

        void ITcpStreamHandler.OnGap(TcpFlow flow, bool fromClient, long missing, long ticks)
        {
            ((RelayConversation)flow.State!).OnGap(fromClient, missing);
        }

        void ITcpStreamHandler.OnClose(TcpFlow flow, TcpCloseReason reason)
        {
            var conversation = (RelayConversation)flow.State!;
            flow.State = null;
            conversation.OnClose(reason, flow.LastTicks);
            Keep(conversation);
            if (conversation.Tunnel is not null)
            {
                Keep(conversation.Tunnel);
            }
        }

        private void Keep(RelayConversation conversation)
        {
            if (conversation.Protocol is RelayProtocol.Ignored or RelayProtocol.Unknown or RelayProtocol.FtpData)
            {
                return;
            }

            if (_working.Count >= MaxKeptConversations)
            {
                if (!_conversationCapReported)
                {
                    _conversationCapReported = true;
                    _context.AddIssue(new ParseIssue(_context.Source, -1, $"more than {MaxKeptConversations} application conversations within {TimeSpan.FromTicks(_retentionTicks).TotalMinutes:0} minutes; later ones are not paired", "TCP"));
                }

                return;
            }

            _working.Add(conversation);
            long now = conversation.EndTicks;
            if (_working.Count >= SweepAtCount && now - _lastSweepTicks >= _retentionTicks / 2)
            {
                _lastSweepTicks = now;
                Sweep(now);
            }
        }

        private const int SweepAtCount = 4096;

        /// <summary>
        /// Reports each pair as it is found and lets both legs go. A relayed message travels on both legs: the outbound
        /// copy is parsed (the server's leg is the one the report describes) and the inbound copy forgotten unparsed;
        /// a login the outbound leg repeated is reported once, from the bot to the real server.
        /// </summary>
        private void AddPairs(List<RelayPair> pairs)
        {
            foreach (var pair in pairs)
            {
                var inbound = pair.Inbound;
                var outbound = pair.Outbound;
                if (outbound.Smtp is not null && inbound.Smtp is not null)
                {
                    outbound.Smtp.ParseMessages();
                    inbound.Smtp.DiscardMessages();
                }
                else
                {
                    outbound.Smtp?.ParseMessages();
                    inbound.Smtp?.ParseMessages();
                }

                PairCount++;
                if (!_relays.TryGetValue(inbound.Server, out var counts))
                {
                    _relays[inbound.Server] = counts = new RelayCounts();
                }

                counts.Clients.Add(inbound.Client);
                counts.Servers.Add(outbound.Server);
                if (inbound.IsConnectTunnel)
                {
                    _tunnelProxies.Add(inbound.Server);
                }

                var session = SessionOf(pair);
                _sessions.Add(session);
                _unscoredSessions.Add((session, inbound.Server));

                if (outbound.HasLogins)
                {
                    // The relay forwarded the login: one credential, from the bot to the real server.
                    AddCredentials(outbound, inbound);
                }
                else
                {
                    AddCredentials(inbound, null);
                }

                AddDownloads(outbound, inbound);
                if (inbound.Files is not null)
                {
                    // What the bot received that the server did not send (not the relayed copy) is a download of its own.
                    foreach (var file in inbound.Files)
                    {
                        if (outbound.Files is null || !outbound.Files.Exists(f => f.Sha256 == file.Sha256))
                        {
                            AddDownload(file, inbound, null);
                        }
                    }
                }

                inbound.Release(null);
                outbound.Release(inbound);
            }
        }

        /// <summary>
        /// Reports an unpaired conversation that carries something (a login, an executable, a CONNECT tunnel) and, when
        /// <paramref name="letGo"/> (a sweep), lets it go; at the end of the capture it stays whole for inspection.
        /// </summary>
        private void Settle(RelayConversation conversation, bool letGo)
        {
            conversation.Smtp?.ParseMessages();
            if (conversation.IsConnectTunnel)
            {
                // A CONNECT tunnel whose outbound leg is not in the capture is still a relayed conversation.
                _tunnelProxies.Add(conversation.Server);
                _sessions.Add(TunnelSessionOf(conversation));
                AddCredentials(conversation, conversation, Text(conversation.Server));
            }
            else
            {
                AddCredentials(conversation, null);
            }

            AddDownloads(conversation, null);
            if (letGo)
            {
                conversation.Release(null);
            }
        }

        /// <summary>
        /// Pairs what can be paired, then lets go of conversations that closed more than the retention window ago
        /// (2 × the pairing window, at least the flow timeout): a relay's two legs close close together, so a partner
        /// that has not shown up by then will not. Those with logins or files are reported first; the rest are just
        /// forgotten, so memory follows recent conversations and findings, not the length of the capture.
        /// </summary>
        private void Sweep(long now)
        {
            AddPairs(RelayPairing.Pair(_working, _context.Options.HostAddresses));
            _working.RemoveAll(c =>
            {
                if (c.Paired)
                {
                    return true;
                }

                if (now - c.EndTicks < _retentionTicks)
                {
                    return false;
                }

                c.Smtp?.ParseMessages();
                if (c.HasFindings)
                {
                    Settle(c, letGo: true);
                }
                else
                {
                    c.Dropped = true;
                    _dropped++;
                }

                return true;
            });
        }

        /// <summary>Distinct clients and servers of one relay, for the sessions' scores.</summary>
        private sealed class RelayCounts
        {
            public HashSet<NetAddress> Clients { get; } = new HashSet<NetAddress>();
            public HashSet<NetAddress> Servers { get; } = new HashSet<NetAddress>();
        }

        internal RelayCarvedFile NewFile(string protocol, bool gzip) =>
            new RelayCarvedFile(protocol, gzip, _context.Options.ExtractPath, MaxBuffered, _hashCache);

        private readonly CarvedHashCache _hashCache = new CarvedHashCache();

        /// <summary>Carved files whose hashes were taken from an identical earlier one instead of hashing again.</summary>
        internal long HashCacheHits => _hashCache.Hits;

        /// <summary>Whether a finished file that is not an executable would still be kept (the first few, for tests and tools).</summary>
        internal bool KeepsOtherFiles => _keptOtherFiles < MaxKeptOtherFiles;

        /// <summary>Keeps a finished file where findings and tests find it; false when nothing holds on to it.</summary>
        internal bool AddFile(RelayConversation owner, RelayCarvedFile file, RelayConversation carrier)
        {
            if (file.Size == 0 && file.MissingBytes == 0)
            {
                return false;
            }

            if (file.Issue is not null && carrier.Protocol == RelayProtocol.FtpData)
            {
                Issue(carrier.Describe(false), -1, file.Issue, "FTP data");
            }

            if (file.ExecutableType is null)
            {
                // Not an executable: no finding comes of it. A few are kept for tests and tools; the conversation does not
                // hold them, so a long keep-alive connection with thousands of responses costs nothing per response.
                if (_keptOtherFiles < MaxKeptOtherFiles)
                {
                    _keptOtherFiles++;
                    _files.Add(file);
                    return true;
                }

                return false;
            }

            if (owner.Released || owner.Dropped)
            {
                // An FTP control connection already reported (or swept away) before its data connection ended: the
                // file is reported on its own, relayed when the control connection was the outbound leg of a pair.
                AddDownload(file, owner, owner.PairedInbound);
                LateFiles++;
            }
            else
            {
                owner.AddFile(file);
            }

            if (_keptExecutables < MaxKeptExecutables)
            {
                _keptExecutables++;
                _files.Add(file);
            }

            return true;
        }

        internal void ExpectFtpData(RelayConversation control, FtpDataChannel channel)
        {
            if (_expected.Count >= MaxExpectedChannels)
            {
                _expected.Clear();
            }

            var address = channel.Address ?? (channel.Passive ? control.Server : control.Client);
            _expected[(address, channel.Port)] = (control, channel);
        }

        internal void Issue(string where, long offset, string message, string record)
        {
            _context.AddIssue(new ParseIssue(_context.Source, -1, offset >= 0 ? $"{where} @ {offset}: {message}" : $"{where}: {message}", record));
        }

        public IEnumerable<FluxFinding> Complete()
        {
            _reassembler.CloseAll(TcpCloseReason.EndOfCapture);
            _expected.Clear();

            AddPairs(RelayPairing.Pair(_working, _context.Options.HostAddresses));
            var unpaired = _working.Where(c => !c.Paired).OrderBy(c => c.StartTicks).ToList();
            foreach (var conversation in unpaired)
            {
                Settle(conversation, letGo: false);
            }

            // What is left stays for inspection (tests, tools); the paired legs are gone.
            _working.Clear();
            _working.AddRange(unpaired);

            foreach (var relay in _relays.Keys)
            {
                _context.RelayHosts.Add(relay);
            }

            foreach (var proxy in _tunnelProxies)
            {
                _context.RelayHosts.Add(proxy);
            }

            bool named = _context.Options.HostAddresses.Count > 0;
            foreach (var (session, relay) in _unscoredSessions)
            {
                var counts = _relays[relay];
                session.SetScore(RelayRules.ScoreSession(session, counts.Clients.Count, counts.Servers.Count, named));
            }

            bool anyRelay = _context.RelayHosts.Count > 0;
            foreach (var (download, complete) in _unscoredDownloads)
            {
                download.SetScore(RelayRules.ScoreDownload(download, complete, anyRelay && download.Relay is not null));
            }

            _unscoredSessions.Clear();
            _unscoredDownloads.Clear();
            SaveDownloads(_otherFindings.OfType<FluxDownload>().ToList());
            AddGeo();
            var findings = new List<FluxFinding>(_sessions.Count + _otherFindings.Count);
            findings.AddRange(_sessions);
            findings.AddRange(_otherFindings);
            _sessions.Clear();
            _otherFindings.Clear();
            return findings;
        }

        /// <summary>ASN and country of every upstream/mail server, once per distinct address (GeoLookup caches).</summary>
        private void AddGeo()
        {
            var options = _context.Options;
            if (string.IsNullOrEmpty(options.AsnDatabasePath) && string.IsNullOrEmpty(options.CountryDatabasePath))
            {
                return;
            }

            GeoLookup geo;
            try
            {
                geo = new GeoLookup(options.AsnDatabasePath, options.CountryDatabasePath);
            }
            catch (Exception e) when (e is System.IO.IOException or UnauthorizedAccessException or MaxMind.Db.InvalidDatabaseException or ArgumentException)
            {
                string path = options.CountryDatabasePath ?? options.AsnDatabasePath!;
                _context.Reporter.Error(new FluxError("GeoDatabaseUnreadable", FluxErrorCategory.ReadError, path,
                    $"The ASN or country database could not be read ({e.Message}); relay sessions and downloads carry no ASN or country.", e));
                return;
            }

            using (geo)
            {
                foreach (var session in _sessions.OfType<RelaySession>().Concat(_otherFindings.OfType<RelaySession>()))
                {
                    if (geo.Lookup(session.Server) is { } info)
                    {
                        session.ServerAsn = info.Asn;
                        session.ServerAsOrganization = info.AsOrganization;
                        session.ServerCountry = info.CountryCode;
                        session.ServerCountryName = info.CountryName;
                    }
                }

                foreach (var download in _otherFindings.OfType<FluxDownload>())
                {
                    if (geo.Lookup(download.Server) is { } info)
                    {
                        download.ServerAsn = info.Asn;
                        download.ServerAsOrganization = info.AsOrganization;
                        download.ServerCountry = info.CountryCode;
                        download.ServerCountryName = info.CountryName;
                    }
                }
            }
        }

        private RelaySession SessionOf(RelayPair pair)
        {
            var inbound = pair.Inbound;
            var outbound = pair.Outbound;
            var session = new RelaySession
            {
                Source = _context.Source,
                Protocol = ProtocolName(inbound.Protocol != RelayProtocol.Unknown ? inbound.Protocol : outbound.Protocol),
                Client = Text(inbound.Client),
                Relay = Text(inbound.Server),
                Server = Text(outbound.Server),
                ServerPort = outbound.ServerPort,
                ServerName = outbound.HttpHost,
                BytesToServer = outbound.BytesFromClient,
                BytesToClient = inbound.BytesFromServer,
                Start = new DateTime(inbound.StartTicks, DateTimeKind.Utc),
                End = new DateTime(Math.Max(inbound.EndTicks, outbound.EndTicks), DateTimeKind.Utc),
            };
            session.SetPairingEvidence(pair.Evidence());
            FillContent(session, outbound.Smtp is not null || outbound.Ftp is not null || outbound.HttpLogins is not null ? outbound : inbound);
            return session;
        }

        private RelaySession TunnelSessionOf(RelayConversation tunnel)
        {
            var session = new RelaySession
            {
                Source = _context.Source,
                Protocol = ProtocolName(tunnel.Protocol),
                Client = Text(tunnel.Client),
                Relay = Text(tunnel.Server),
                Server = tunnel.ConnectHost ?? string.Empty,
                ServerName = tunnel.ConnectHost,
                ServerPort = tunnel.ConnectPort,
                BytesToServer = tunnel.BytesFromClient,
                BytesToClient = tunnel.BytesFromServer,
                Start = new DateTime(tunnel.StartTicks, DateTimeKind.Utc),
                End = new DateTime(tunnel.EndTicks, DateTimeKind.Utc),
                PairingEvidence = $"HTTP CONNECT {tunnel.ConnectHost}:{tunnel.ConnectPort} through proxy {tunnel.Server}:{tunnel.ServerPort}; {ProtocolName(tunnel.Protocol)} spoken inside the tunnel",
            };
            FillContent(session, tunnel);
            session.SetScore(RelayRules.ScoreTunnel(session));
            return session;
        }

        private void FillContent(RelaySession session, RelayConversation conversation)
        {
            var login = conversation.FirstLogin;
            session.Account = login?.Account;
            session.Secret = Redaction.Apply(login?.Secret, _context.Options.IncludeSecret);
            session.Accepted = login?.Accepted;
            if (conversation.Smtp is not null)
            {
                var transactions = conversation.Smtp.Transactions;
                if (transactions.Count == 1)
                {
                    // The usual relayed session: one mail, its lists taken as they are when they hold no repeats.
                    var t = transactions[0];
                    session.MailFrom = Pooled(t.MailFrom);
                    session.Recipients = Distinct(t.Recipients, StringComparer.OrdinalIgnoreCase);
                    var message = t.HasMessage ? t.Message : null;
                    session.Subjects = message?.Subject is { } subject ? new[] { Pooled(subject)! } : Array.Empty<string>();
                    session.Urls = message is null ? Array.Empty<string>() : Distinct(message.Urls, StringComparer.Ordinal);
                }
                else if (transactions.Count > 1)
                {
                    var recipients = new List<string>();
                    var subjects = new List<string>();
                    var urls = new List<string>();
                    foreach (var t in transactions)
                    {
                        session.MailFrom ??= Pooled(t.MailFrom);
                        recipients.AddRange(t.Recipients);
                        var message = t.HasMessage ? t.Message : null;
                        if (message?.Subject is { } subject)
                        {
                            subjects.Add(subject);
                        }

                        if (message is not null)
                        {
                            urls.AddRange(message.Urls);
                        }
                    }

                    session.Recipients = Distinct(recipients, StringComparer.OrdinalIgnoreCase);
                    session.Subjects = Distinct(subjects, StringComparer.Ordinal);
                    session.Urls = Distinct(urls, StringComparer.Ordinal);
                }
            }
            else if (conversation.RequestedUrls is not null)
            {
                // Distinct already (the conversation keeps each URL once).
                session.Urls = conversation.RequestedUrls.ToArray();
            }
            else if (conversation.Ftp is not null)
            {
                session.Urls = conversation.Ftp.Transfers.Where(t => t.FileName is not null && (t.Command == "RETR" || t.Command == "STOR"))
                    .Select(t => $"ftp://{conversation.Server}/{t.FileName!.TrimStart('/')}").Distinct().ToArray();
            }
        }

        /// <summary>The items without repeats, in first-seen order; the list's own copy when it has none (no set for short lists).</summary>
        private static string[] Distinct(List<string> items, StringComparer comparer)
        {
            if (items.Count == 0)
            {
                return Array.Empty<string>();
            }

            if (items.Count == 1)
            {
                return new[] { items[0] };
            }

            if (items.Count <= 8)
            {
                var kept = new List<string>(items.Count);
                foreach (var item in items)
                {
                    bool seen = false;
                    foreach (var k in kept)
                    {
                        if (comparer.Equals(k, item))
                        {
                            seen = true;
                            break;
                        }
                    }

                    if (!seen)
                    {
                        kept.Add(item);
                    }
                }

                return kept.ToArray();
            }

            var set = new HashSet<string>(comparer);
            var result = new List<string>(items.Count);
            foreach (var item in items)
            {
                if (set.Add(item))
                {
                    result.Add(item);
                }
            }

            return result.ToArray();
        }

        private void AddCredentials(RelayConversation source, RelayConversation? inbound, string? serverOverride = null)
        {
            foreach (var login in source.Logins)
            {
                bool relayed = inbound is not null && inbound != source;
                bool tunnel = source.Parent is not null;
                var credential = new ExposedCredential
                {
                    Source = _context.Source,
                    Protocol = login.Protocol,
                    Mechanism = login.Mechanism,
                    Client = Text(relayed ? inbound!.Client : source.Client),
                    Server = tunnel ? source.ConnectHost ?? Text(source.Server) : serverOverride ?? Text(source.Server),
                    ServerPort = tunnel ? source.ConnectPort : source.ServerPort,
                    Relay = relayed ? Text(inbound!.Server) : tunnel ? Text(source.Server) : null,
                    Account = login.Account,
                    Secret = Redaction.Apply(login.Secret, _context.Options.IncludeSecret),
                    Accepted = login.Accepted,
                    Reply = Pooled(login.Reply),
                    Time = new DateTime(source.StartTicks, DateTimeKind.Utc),
                };
                credential.SetScore(RelayRules.ScoreCredential(credential));
                _otherFindings.Add(credential);
            }
        }

        private void AddDownloads(RelayConversation source, RelayConversation? inbound)
        {
            if (source.Files is null)
            {
                return;
            }

            foreach (var file in source.Files)
            {
                AddDownload(file, source, inbound);
            }
        }

        /// <summary>A download finding for an executable carried on <paramref name="source"/> (scored at the end).</summary>
        private void AddDownload(RelayCarvedFile file, RelayConversation source, RelayConversation? inbound)
        {
            if (file.ExecutableType is null)
            {
                return;
            }

            bool relayed = inbound is not null && inbound != source;
            string? reportedClient = file.ReportedClient;
            var download = new FluxDownload
            {
                Source = _context.Source,
                Protocol = file.Protocol,
                FileType = file.ExecutableType,
                Client = reportedClient ?? (relayed ? Text(inbound!.Client) : Text(source.Client)),
                Relay = relayed ? Text(inbound!.Server) : reportedClient is not null ? Text(source.Client) : null,
                Server = Text(source.Server),
                ServerPort = source.ServerPort,
                Url = Pooled(file.Url),
                FileName = Pooled(file.FileName),
                Size = file.Size,
                Sha256 = file.Sha256,
                Md5 = file.Md5,
                Account = file.Account,
                Time = new DateTime(file.TimeTicks, DateTimeKind.Utc),
            };
            download.SavedPath = file.TempPath;
            _otherFindings.Add(download);
            _unscoredDownloads.Add((download, file.Complete));
        }

        /// <summary>Renames carved executables to names that cannot run by double-click and writes the manifest.</summary>
        private void SaveDownloads(List<FluxDownload> downloads)
        {
            string? folder = _context.Options.ExtractPath;
            if (folder is null)
            {
                return;
            }

            var manifest = new StringBuilder();
            manifest.AppendLine("Sha256\tMd5\tSize\tFileType\tSavedName\tFileName\tUrl\tClient\tRelay\tServer\tTime");
            foreach (var download in downloads)
            {
                string? temp = download.SavedPath;
                if (temp is null)
                {
                    continue;
                }

                string finalPath = Path.Combine(folder, download.Sha256 + ".bin");
                try
                {
                    if (File.Exists(finalPath))
                    {
                        RelayCarvedFile.TryDelete(temp);
                    }
                    else
                    {
                        File.Move(temp, finalPath);
                    }

                    download.SavedPath = finalPath;
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    _context.Reporter.Error(new FluxError("ExtractWriteFailed", FluxErrorCategory.WriteError, finalPath, $"Could not save the carved file: {e.Message}", e));
                    download.SavedPath = null;
                }
            }

            foreach (var download in downloads.Where(d => d.SavedPath is not null))
            {
                manifest.Append(download.Sha256).Append('\t').Append(download.Md5).Append('\t')
                    .Append(download.Size.ToString(CultureInfo.InvariantCulture)).Append('\t').Append(download.FileType).Append('\t')
                    .Append(Path.GetFileName(download.SavedPath)).Append('\t').Append(Clean(download.FileName)).Append('\t')
                    .Append(Clean(download.Url)).Append('\t').Append(download.Client).Append('\t').Append(download.Relay).Append('\t')
                    .Append(download.Server).Append('\t').Append(download.Time.ToString("o", CultureInfo.InvariantCulture)).AppendLine();
            }

            try
            {
                Directory.CreateDirectory(folder);
                string manifestPath = Path.Combine(folder, "manifest.tsv");
                string text = manifest.ToString();
                File.AppendAllText(manifestPath, File.Exists(manifestPath) ? text.Substring(text.IndexOf('\n') + 1) : text);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                _context.Reporter.Error(new FluxError("ExtractWriteFailed", FluxErrorCategory.WriteError, folder, $"Could not write the manifest: {e.Message}", e));
            }

            static string Clean(string? text) => text is null ? string.Empty : text.Replace('\t', ' ').Replace('\r', ' ').Replace('\n', ' ');
        }

        private const int MaxPooledStrings = 65_536;
        private const int MaxPooledLength = 256;
        private readonly Dictionary<string, string> _strings = new Dictionary<string, string>(StringComparer.Ordinal);

        /// <summary>
        /// One copy of short texts that findings repeat (senders, subjects, server replies, download URLs and names):
        /// spam runs reuse a handful of each across hundreds of thousands of findings. Bounded; past the bound, texts are
        /// kept as they are.
        /// </summary>
        private string? Pooled(string? text)
        {
            if (text is null || text.Length > MaxPooledLength)
            {
                return text;
            }

            if (_strings.TryGetValue(text, out var pooled))
            {
                return pooled;
            }

            if (_strings.Count < MaxPooledStrings)
            {
                _strings[text] = text;
            }

            return text;
        }

        private readonly Dictionary<NetAddress, string> _addressText = new Dictionary<NetAddress, string>();

        /// <summary>Addresses as text, once each: the same bots, relay and servers appear in thousands of findings.</summary>
        private string Text(NetAddress address)
        {
            if (!_addressText.TryGetValue(address, out var text))
            {
                text = address.ToString();
                if (_addressText.Count < 1_000_000)
                {
                    _addressText[address] = text;
                }
            }

            return text;
        }

        internal static string ProtocolName(RelayProtocol protocol) => protocol switch
        {
            RelayProtocol.Smtp => "Smtp",
            RelayProtocol.Ftp => "Ftp",
            RelayProtocol.Http => "Http",
            _ => "Tcp",
        };
    }
}
