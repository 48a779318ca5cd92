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
        private const int MaxKeptFiles = 100_000;
        private const int MaxKeptOtherFiles = 10_000;
        private int _keptOtherFiles;

        private readonly CaptureAnalysisContext _context;
        private readonly TcpReassembler _reassembler;
        /// <summary>Closed conversations that may still pair (closed within the retention window, or not yet swept).</summary>
        private readonly List<RelayConversation> _working = new List<RelayConversation>();

        /// <summary>Unpaired conversations past the window that carry something to report (logins, files).</summary>
        private readonly List<RelayConversation> _settled = new List<RelayConversation>();
        private readonly List<RelayPair> _pairs = new List<RelayPair>();
        private readonly long _retentionTicks;
        private long _lastSweepTicks;
        private long _dropped;
        private readonly Dictionary<(NetAddress Address, ushort Port), (RelayConversation Control, FtpDataChannel Channel)> _expected =
            new Dictionary<(NetAddress, ushort), (RelayConversation, FtpDataChannel)>();
        private readonly List<(RelayConversation Owner, RelayCarvedFile File)> _files = new List<(RelayConversation, RelayCarvedFile)>();
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

        /// <summary>Files carved from HTTP bodies and FTP data: every executable (up to 100,000) and the first 10,000 others, for tests and tools.</summary>
        internal IReadOnlyList<(RelayConversation Owner, RelayCarvedFile File)> CarvedFiles => _files;

        /// <summary>Every conversation whose protocol was recognised, with what was parsed from it.</summary>
        internal IReadOnlyList<RelayConversation> Conversations =>
            _pairs.SelectMany(p => new[] { p.Inbound, p.Outbound }).Concat(_settled).Concat(_working).Distinct().OrderBy(c => c.StartTicks).ToList();

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
        /// A relayed message travels on both legs: the outbound copy is parsed (the server's leg is the one the report
        /// describes) and the inbound copy forgotten unparsed.
        /// </summary>
        private void AddPairs(List<RelayPair> pairs)
        {
            foreach (var pair in pairs)
            {
                if (pair.Outbound.Smtp is not null && pair.Inbound.Smtp is not null)
                {
                    pair.Outbound.Smtp.ParseMessages();
                    pair.Outbound.Smtp.CompactMessages();
                    pair.Inbound.Smtp.DiscardMessages();
                }

                if (pair.Outbound.Protocol == pair.Inbound.Protocol && pair.Outbound.HasLogins)
                {
                    // What the inbound leg said, the outbound leg repeated to the server: keep one copy.
                    pair.Inbound.ReleaseContent();
                }
            }

            _pairs.AddRange(pairs);
        }

        /// <summary>
        /// Pairs what can be paired, then lets go of conversations that closed more than the retention window ago
        /// (2 × the pairing window, at least the flow timeout): a relay's two legs close close together, so a partner
        /// that has not shown up by then will not. Those with logins or files stay (they are findings); the rest go, so
        /// memory follows recent conversations and findings, not the length of the capture.
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
                    _settled.Add(c);
                }
                else
                {
                    c.Dropped = true;
                    _dropped++;
                }

                return true;
            });
        }

        internal RelayCarvedFile NewFile(string protocol, bool gzip) =>
            new RelayCarvedFile(protocol, gzip, _context.Options.ExtractPath, MaxBuffered);

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
                    _files.Add((owner, file));
                    return true;
                }

                return false;
            }

            owner.AddFile(file);
            if (owner.Dropped)
            {
                // An FTP control connection swept away before its data connection ended: it has a finding now.
                owner.Dropped = false;
                _dropped--;
                _settled.Add(owner);
            }

            if (_files.Count < MaxKeptFiles)
            {
                _files.Add((owner, file));
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
            var pairs = _pairs;
            var all = Conversations;
            foreach (var c in all)
            {
                c.Smtp?.ParseMessages();
            }
            var relays = new HashSet<NetAddress>(pairs.Select(p => p.Inbound.Server));
            foreach (var tunnel in all.Where(c => c.Parent is not null && c.ConnectHost is not null))
            {
                relays.Add(tunnel.Server);
            }

            foreach (var relay in relays)
            {
                _context.RelayHosts.Add(relay);
            }

            var findings = new List<FluxFinding>();
            var reportedFiles = new HashSet<RelayCarvedFile>();
            var reportedLogins = new HashSet<LoginAttempt>();
            var paired = new HashSet<RelayConversation>();
            foreach (var pair in pairs)
            {
                paired.Add(pair.Inbound);
                paired.Add(pair.Outbound);
            }

            var relayStats = RelayPairing.Stats(pairs);
            foreach (var pair in pairs)
            {
                findings.Add(SessionOf(pair, relayStats));
            }

            // A CONNECT tunnel whose outbound leg is not in the capture is still a relayed conversation.
            foreach (var tunnel in all.Where(c => c.Parent is not null && c.ConnectHost is not null && !paired.Contains(c)))
            {
                findings.Add(TunnelSessionOf(tunnel));
            }

            foreach (var pair in pairs)
            {
                if (pair.Outbound.HasLogins)
                {
                    // The relay forwarded the login: one credential, from the bot to the real server.
                    AddCredentials(findings, pair.Outbound, pair.Inbound, reportedLogins);
                    foreach (var login in pair.Inbound.Logins)
                    {
                        reportedLogins.Add(login);
                    }
                }

                AddDownloads(findings, pair.Outbound, pair.Inbound, reportedFiles);
                foreach (var file in pair.Inbound.Files ?? new List<RelayCarvedFile>())
                {
                    if (pair.Outbound.Files?.Any(f => f.Sha256 == file.Sha256) == true)
                    {
                        reportedFiles.Add(file);
                    }
                }
            }

            foreach (var conversation in all)
            {
                if (conversation.Parent is not null && !paired.Contains(conversation))
                {
                    AddCredentials(findings, conversation, conversation, reportedLogins, Text(conversation.Server));
                }
                else
                {
                    AddCredentials(findings, conversation, null, reportedLogins);
                }

                AddDownloads(findings, conversation, null, reportedFiles);
            }

            SaveDownloads(findings.OfType<FluxDownload>().ToList());
            return findings;
        }

        private RelaySession SessionOf(RelayPair pair, IReadOnlyDictionary<NetAddress, RelayPairing.RelayStats> stats)
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
                PairingEvidence = pair.Evidence(Text),
            };
            FillContent(session, outbound.Smtp is not null || outbound.Ftp is not null || outbound.HttpLogins is not null ? outbound : inbound);
            stats.TryGetValue(inbound.Server, out var relayStats);
            session.SetScore(RelayRules.ScoreSession(session, relayStats.Clients, relayStats.Servers, _context.Options.HostAddresses.Count > 0));
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
            var login = conversation.Logins.FirstOrDefault();
            session.Account = login?.Account;
            session.Secret = Redaction.Apply(login?.Secret, _context.Options.IncludeSecret);
            session.Accepted = login?.Accepted;
            if (conversation.Smtp is not null)
            {
                var transactions = conversation.Smtp.Transactions;
                session.MailFrom = transactions.Select(t => t.MailFrom).FirstOrDefault(m => m is not null);
                session.Recipients = transactions.SelectMany(t => t.Recipients).Distinct(StringComparer.OrdinalIgnoreCase).ToArray();
                session.Subjects = transactions.Select(t => t.Message?.Subject).Where(s => s is not null).Select(s => s!).Distinct().ToArray();
                session.Urls = transactions.Where(t => t.HasMessage).SelectMany(t => t.Message!.Urls).Distinct().ToArray();
            }
            else if (conversation.RequestedUrls is not null)
            {
                session.Urls = conversation.RequestedUrls.Distinct().ToArray();
            }
            else if (conversation.Ftp is not null)
            {
                session.Urls = conversation.Ftp.Transfers.Where(t => t.FileName is not null && (t.Command == "RETR" || t.Command == "STOR"))
                    .Select(t => $"ftp://{conversation.Server}/{t.FileName!.TrimStart('/')}").Distinct().ToArray();
            }
        }

        private void AddCredentials(List<FluxFinding> findings, RelayConversation source, RelayConversation? inbound, HashSet<LoginAttempt> reported, string? serverOverride = null)
        {
            foreach (var login in source.Logins)
            {
                if (!reported.Add(login))
                {
                    continue;
                }

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
                    Reply = login.Reply,
                    Time = new DateTime(source.StartTicks, DateTimeKind.Utc),
                };
                credential.SetScore(RelayRules.ScoreCredential(credential));
                findings.Add(credential);
            }
        }

        private void AddDownloads(List<FluxFinding> findings, RelayConversation source, RelayConversation? inbound, HashSet<RelayCarvedFile> reported)
        {
            if (source.Files is null)
            {
                return;
            }

            foreach (var file in source.Files)
            {
                if (file.ExecutableType is null || !reported.Add(file))
                {
                    continue;
                }

                bool relayed = inbound is not null && inbound != source;
                string? reported2 = file.ReportedClient;
                var download = new FluxDownload
                {
                    Source = _context.Source,
                    Protocol = file.Protocol,
                    FileType = file.ExecutableType,
                    Client = reported2 ?? (relayed ? Text(inbound!.Client) : Text(source.Client)),
                    Relay = relayed ? Text(inbound!.Server) : reported2 is not null ? Text(source.Client) : null,
                    Server = Text(source.Server),
                    ServerPort = source.ServerPort,
                    Url = file.Url,
                    FileName = file.FileName,
                    Size = file.Size,
                    Sha256 = file.Sha256,
                    Md5 = file.Md5,
                    Account = file.Account,
                    Time = new DateTime(file.TimeTicks, DateTimeKind.Utc),
                };
                download.SavedPath = file.TempPath;
                download.SetScore(RelayRules.ScoreDownload(download, file.Complete, _context.RelayHosts.Count > 0 && download.Relay is not null));
                findings.Add(download);
            }
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
