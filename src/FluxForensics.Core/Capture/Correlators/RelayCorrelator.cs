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
    /// Pairs each inbound conversation (client → relay) with the outbound one it caused (relay → server) by time and
    /// shared bytes, over the conversations the workers hand over in capture order, and turns them into RelaySession,
    /// FluxDownload and ExposedCredential findings as soon as they are final: a pair's logins and downloads when it pairs,
    /// its session too once the relay has served enough clients and reached enough servers that the session's score can
    /// no longer rise (until then it waits; at the end of the capture every waiting session goes); an unpaired
    /// conversation's login or download when it can no longer pair. Publishes the relay hosts for the DNS rules.
    /// </summary>
    internal sealed class RelayCorrelator
    {
        /// <summary>How long after the inbound connection the relay may open the outbound one.</summary>
        internal static readonly long PairingWindowTicks = TimeSpan.FromSeconds(30).Ticks;
        private const int MaxKeptConversations = 2_000_000;

        private readonly CaptureAnalysisContext _context;
        private readonly Action<FluxFinding> _emit;
        private readonly CarvedFileWriter? _writer;
        private readonly GeoLookup? _geo;

        /// <summary>Closed conversations that may still pair (closed within the retention window, or not yet swept).</summary>
        private readonly List<RelayConversation> _working = new List<RelayConversation>();
        private readonly Dictionary<NetAddress, RelayCounts> _relays = new Dictionary<NetAddress, RelayCounts>();
        private readonly HashSet<NetAddress> _tunnelProxies = new HashSet<NetAddress>();
        private readonly long _retentionTicks;
        private long _lastSweepTicks;
        private long _dropped;
        private bool _conversationCapReported;

        /// <param name="context">Options, reporter, source and parse issues of the analysis.</param>
        /// <param name="emit">Receives each finding once it is final, on the thread that feeds the correlator.</param>
        /// <param name="writer">Saves carved executables under their hash, when extraction was asked for.</param>
        /// <param name="geo">ASN and country of the servers, when databases were given.</param>
        public RelayCorrelator(CaptureAnalysisContext context, Action<FluxFinding> emit, CarvedFileWriter? writer = null, GeoLookup? geo = null)
        {
            _context = context ?? throw new ArgumentNullException(nameof(context));
            _emit = emit ?? throw new ArgumentNullException(nameof(emit));
            _writer = writer;
            _geo = geo;
            _retentionTicks = Math.Max(PairingWindowTicks * 2, context.Options.FlowTimeout.Ticks);
            _findings = new RelayFindings(context.Source, context.Options.IncludeSecret, context.Options.HostAddresses.Count > 0);
        }

        private readonly RelayFindings _findings;

        /// <summary>Conversations that left memory unpaired and with nothing to report (what keeps memory flat).</summary>
        internal long DroppedConversations => _dropped;

        /// <summary>
        /// Unpaired conversations still held (not yet let go by a sweep; after <see cref="Complete"/>, those of the last
        /// retention window), with what was parsed from them: for tests and tools.
        /// </summary>
        internal IReadOnlyList<RelayConversation> Conversations => _working.Where(c => !c.Paired).OrderBy(c => c.StartTicks).ToList();

        /// <summary>Executables whose FTP control connection had been reported and let go before the file ended.</summary>
        internal long LateFiles { get; private set; }

        /// <summary>Relayed conversations paired so far.</summary>
        internal long PairCount { get; private set; }

        /// <summary>Hosts seen relaying (a paired conversation's middle host, a CONNECT proxy); complete after <see cref="Complete"/>.</summary>
        public HashSet<NetAddress> RelayHosts { get; } = new HashSet<NetAddress>();

        private bool AnyRelay => _relays.Count > 0 || _tunnelProxies.Count > 0;

        /// <summary>A conversation a worker finished.</summary>
        public void Add(RelayConversation conversation)
        {
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
            if (_lastSweepTicks == 0)
            {
                _lastSweepTicks = now;
            }

            // Every half retention window of capture time: pairs are reported soon after both legs ended, whatever the
            // density of the capture, and each sweep's cost is paid by the conversations that arrived since the last.
            if (now - _lastSweepTicks >= _retentionTicks / 2)
            {
                _lastSweepTicks = now;
                Sweep(now);
            }
        }

        /// <summary>
        /// An executable from an FTP data connection that ended after its control connection: it joins the control
        /// conversation while that still waits to pair, and is reported on its own (relayed when the control connection
        /// was the outbound leg of a pair) once the conversation was reported or let go.
        /// </summary>
        public void AddLateFile(RelayConversation control, RelayCarvedFile file)
        {
            if (control.Released || control.Dropped)
            {
                LateFiles++;
                AddDownload(file, control, control.PairedInbound);
            }
            else
            {
                control.AddFile(file);
            }
        }

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
                    ReportMessageIssues(outbound);
                    inbound.Smtp.DiscardMessages();
                }
                else
                {
                    ReportMessageIssues(outbound);
                    ReportMessageIssues(inbound);
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

                var session = _findings.Session(pair);
                if (RelayRules.RelayCountsSettled(counts.Clients.Count, counts.Servers.Count))
                {
                    ReleaseHeldSessions(counts);
                    Emit(_findings.Score(session, counts.Clients.Count, counts.Servers.Count));
                }
                else
                {
                    // Until its relay has served enough clients and reached enough servers, a session's score could still
                    // rise: it waits (its logins and downloads do not) and is reported once the relay's counts settle.
                    counts.Held.Add(session);
                }

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
            ReportMessageIssues(conversation);
            if (conversation.IsConnectTunnel)
            {
                // A CONNECT tunnel whose outbound leg is not in the capture is still a relayed conversation.
                _tunnelProxies.Add(conversation.Server);
                Emit(_findings.TunnelSession(conversation));
                AddCredentials(conversation, conversation, _findings.Text(conversation.Server));
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

                ReportMessageIssues(c);
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
        /// <summary>Reports the sessions of a relay that waited for its counts, scored on the counts now.</summary>
        private void ReleaseHeldSessions(RelayCounts counts)
        {
            foreach (var held in counts.Held)
            {
                Emit(_findings.Score(held, counts.Clients.Count, counts.Servers.Count));
            }

            counts.Held.Clear();
        }

        private sealed class RelayCounts
        {
            /// <summary>Sessions that wait for the relay's counts to settle before they are scored and reported.</summary>
            public List<RelaySession> Held { get; } = new List<RelaySession>();

            public HashSet<NetAddress> Clients { get; } = new HashSet<NetAddress>();
            public HashSet<NetAddress> Servers { get; } = new HashSet<NetAddress>();
        }

        /// <summary>
        /// Reports the MIME issues of a conversation's messages (parsed by its worker, kept until now so that a relayed
        /// message, carried on both legs, is reported once: from the leg that reached the server).
        /// </summary>
        private void ReportMessageIssues(RelayConversation conversation)
        {
            conversation.Smtp?.ReportMessageIssues((offset, message) =>
            {
                string where = conversation.Describe(true);
                _context.AddIssue(new ParseIssue(_context.Source, -1, offset >= 0 ? $"{where} @ {offset}: {message}" : $"{where}: {message}", "SMTP"));
            });
        }

        /// <summary>End of the capture: pairs what is left, reports what carries something, and publishes the relay hosts.</summary>
        public void Complete()
        {
            AddPairs(RelayPairing.Pair(_working, _context.Options.HostAddresses));
            var unpaired = _working.Where(c => !c.Paired).OrderBy(c => c.StartTicks).ToList();
            foreach (var conversation in unpaired)
            {
                Settle(conversation, letGo: false);
            }

            foreach (var counts in _relays.Values)
            {
                ReleaseHeldSessions(counts);
            }

            // What is left stays for inspection (tests, tools); the paired legs are gone.
            _working.Clear();
            _working.AddRange(unpaired);
            foreach (var relay in _relays.Keys)
            {
                RelayHosts.Add(relay);
            }

            foreach (var proxy in _tunnelProxies)
            {
                RelayHosts.Add(proxy);
            }
        }

        private void Emit(FluxFinding finding)
        {
            switch (finding)
            {
                case RelaySession session when _geo is not null && _geo.Lookup(session.Server) is { } info:
                    session.ServerAsn = info.Asn;
                    session.ServerAsOrganization = info.AsOrganization;
                    session.ServerCountry = info.CountryCode;
                    session.ServerCountryName = info.CountryName;
                    break;
                case FluxDownload download when _geo is not null && _geo.Lookup(download.Server) is { } info:
                    download.ServerAsn = info.Asn;
                    download.ServerAsOrganization = info.AsOrganization;
                    download.ServerCountry = info.CountryCode;
                    download.ServerCountryName = info.CountryName;
                    break;
            }

            _emit(finding);
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

        /// <summary>A download finding for an executable carried on <paramref name="source"/>, saved and reported at once.</summary>
        private void AddDownload(RelayCarvedFile file, RelayConversation source, RelayConversation? inbound)
        {
            var download = _findings.Download(file, source, inbound, AnyRelay);
            if (download is not null)
            {
                _writer?.Save(download);
                Emit(download);
            }
        }

        private void AddCredentials(RelayConversation source, RelayConversation? inbound, string? serverOverride = null)
        {
            foreach (var credential in _findings.Credentials(source, inbound, serverOverride))
            {
                Emit(credential);
            }
        }
    }
}
