using System;
using System.Collections.Generic;
using System.Linq;
using FluxForensics.Detection;
using FluxForensics.Model;

namespace FluxForensics.Capture
{
    /// <summary>
    /// Turns what the relay correlator decided (a pair, a tunnel, a login, a carved executable) into the typed findings,
    /// scored by <see cref="RelayRules"/>. Texts that findings repeat (addresses, senders, subjects, URLs) are kept
    /// once each: spam runs reuse a handful across hundreds of thousands of findings.
    /// </summary>
    internal sealed class RelayFindings
    {
        private readonly string _source;
        private readonly bool _includeSecret;
        private readonly bool _relayNamed;

        public RelayFindings(string source, bool includeSecret, bool relayNamedByAnalyst)
        {
            _source = source;
            _includeSecret = includeSecret;
            _relayNamed = relayNamedByAnalyst;
        }

        /// <summary>The session of a pair, not scored yet (its score depends on its relay's counts: <see cref="Score"/>).</summary>
        public RelaySession Session(RelayPair pair)
        {
            var inbound = pair.Inbound;
            var outbound = pair.Outbound;
            var session = new RelaySession
            {
                Source = _source,
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

        /// <summary>Scores a relayed session on its relay's <paramref name="relayClients"/> and <paramref name="relayServers"/>.</summary>
        public RelaySession Score(RelaySession session, int relayClients, int relayServers)
        {
            session.SetScore(RelayRules.ScoreSession(session, relayClients, relayServers, _relayNamed));
            return session;
        }

        /// <summary>The session of a CONNECT tunnel whose outbound leg is not in the capture, scored.</summary>
        public RelaySession TunnelSession(RelayConversation tunnel)
        {
            var session = new RelaySession
            {
                Source = _source,
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
            session.Secret = Redaction.Apply(login?.Secret, _includeSecret);
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

        public IEnumerable<ExposedCredential> Credentials(RelayConversation source, RelayConversation? inbound, string? serverOverride = null)
        {
            foreach (var login in source.Logins)
            {
                bool relayed = inbound is not null && inbound != source;
                bool tunnel = source.Parent is not null;
                var credential = new ExposedCredential
                {
                    Source = _source,
                    Protocol = login.Protocol,
                    Mechanism = login.Mechanism,
                    Client = Text(relayed ? inbound!.Client : source.Client),
                    Server = tunnel ? source.ConnectHost ?? Text(source.Server) : serverOverride ?? Text(source.Server),
                    ServerPort = tunnel ? source.ConnectPort : source.ServerPort,
                    Relay = relayed ? Text(inbound!.Server) : tunnel ? Text(source.Server) : null,
                    Account = login.Account,
                    Secret = Redaction.Apply(login.Secret, _includeSecret),
                    Accepted = login.Accepted,
                    Reply = Pooled(login.Reply),
                    Time = new DateTime(source.StartTicks, DateTimeKind.Utc),
                };
                credential.SetScore(RelayRules.ScoreCredential(credential));
                yield return credential;
            }
        }

        /// <summary>A download finding for an executable carried on <paramref name="source"/> (null for anything else), scored.</summary>
        /// <param name="file">The carved file.</param>
        /// <param name="source">The conversation that carried it.</param>
        /// <param name="inbound">The inbound leg when <paramref name="source"/> is the outbound leg of a pair.</param>
        /// <param name="anyRelay">Whether a relay was found so far in the capture.</param>
        public FluxDownload? Download(RelayCarvedFile file, RelayConversation source, RelayConversation? inbound, bool anyRelay)
        {
            if (file.ExecutableType is null)
            {
                return null;
            }

            bool relayed = inbound is not null && inbound != source;
            string? reportedClient = file.ReportedClient;
            var download = new FluxDownload
            {
                Source = _source,
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
            download.SetScore(RelayRules.ScoreDownload(download, file.Complete, anyRelay && download.Relay is not null));
            return download;
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
        public string Text(NetAddress address)
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
