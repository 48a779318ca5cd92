using System;
using System.Collections.Generic;
using System.Linq;
using FluxForensics.Detection;
using FluxForensics.Formats;
using FluxForensics.Model;

namespace FluxForensics.Capture
{
    /// <summary>
    /// Watches DNS over UDP and TCP (port 53): who answers DNS for whom, and what every name resolved to over the
    /// capture. At the end it publishes the DNS answerers, judges every name with <see cref="FluxRules"/> and emits
    /// <see cref="DnsProxy"/> and <see cref="FluxDomain"/> findings. Memory grows with names, servers and open TCP
    /// DNS flows, never with packets.
    /// </summary>
    public sealed class DnsAnalyzer : ICaptureAnalyzer
    {
        public const int DnsPort = 53;
        public const int MaxNames = 262144;
        public const int MaxServers = 16384;
        public const int MaxTcpFlows = 4096;
        public const int MaxSampleFluxDomains = 10;
        public const int MaxReportedAddresses = DnsNameObservation.MaxAddresses;

        private readonly CaptureAnalysisContext _context;
        private readonly DnsNameTable _names = new DnsNameTable(MaxNames);
        private readonly Dictionary<NetAddress, DnsServerObservation> _servers = new Dictionary<NetAddress, DnsServerObservation>();
        private readonly Dictionary<TcpFlowKey, DnsTcpStream> _tcp = new Dictionary<TcpFlowKey, DnsTcpStream>();
        private long _refusedServers;
        private long _droppedTcpFlows;
        private bool _warnedNames;

        public DnsAnalyzer(CaptureAnalysisContext context)
        {
            _context = context ?? throw new ArgumentNullException(nameof(context));
        }

        public int Order => 20;

        /// <summary>The names seen, for tests that compare them with other tools.</summary>
        internal IReadOnlyList<DnsNameObservation> Names => _names.Entries;

        /// <summary>DNS messages read (UDP datagrams and TCP length-prefixed messages).</summary>
        public long MessageCount { get; private set; }

        /// <summary>
        /// Where the packet being analysed is (file and byte offset of its record), for parse issues; set by
        /// <see cref="CaptureAnalysis"/> when the reader can tell.
        /// </summary>
        internal Func<(string File, long Offset)>? Position { get; set; }

        /// <summary>Used by tests and the benchmark instead of the MaxMind database.</summary>
        public IAsnLookup? AsnLookup { get; set; }

        public void OnPacket(in DecodedPacket packet)
        {
            if (packet.SourcePort != DnsPort && packet.DestinationPort != DnsPort)
            {
                return;
            }

            if (packet.Protocol == TransportProtocol.Udp)
            {
                if (packet.Payload.Length > 0)
                {
                    OnMessage(packet.Payload, packet.Source, packet.Destination, packet.TimestampTicks, packet.PayloadTruncated);
                }
            }
            else if (packet.Protocol == TransportProtocol.Tcp)
            {
                OnTcpSegment(packet);
            }
        }

        private void OnTcpSegment(in DecodedPacket packet)
        {
            var key = new TcpFlowKey(packet.Source, packet.Destination, packet.SourcePort, packet.DestinationPort);
            bool closing = (packet.TcpFlags & (TcpFlags.Fin | TcpFlags.Rst)) != 0;
            if (packet.Payload.Length == 0)
            {
                if (closing)
                {
                    _tcp.Remove(key);
                }

                return;
            }

            if (!_tcp.TryGetValue(key, out var stream))
            {
                if (_tcp.Count >= MaxTcpFlows)
                {
                    // A flood of half-open DNS-over-TCP flows must not grow memory: forget the lot and start over.
                    _droppedTcpFlows += _tcp.Count;
                    _tcp.Clear();
                }

                stream = new DnsTcpStream();
                _tcp[key] = stream;
            }

            if (packet.PayloadTruncated)
            {
                stream.Reset(packet.Sequence + (uint)packet.Payload.Length);
                if (closing)
                {
                    _tcp.Remove(key);
                }

                return;
            }

            stream.Append(packet.Sequence, packet.Payload);
            while (stream.TryTakeMessage(out var message, out bool oversized))
            {
                if (oversized)
                {
                    continue;
                }

                OnMessage(message, packet.Source, packet.Destination, packet.TimestampTicks, truncated: false);
            }

            stream.Compact();
            if (closing)
            {
                _tcp.Remove(key);
            }
        }

        // Three name buffers per message: only the bytes DecodeName wrote are ever read, so they need no zeroing.
        [System.Runtime.CompilerServices.SkipLocalsInit]
        private void OnMessage(ReadOnlySpan<byte> message, NetAddress source, NetAddress destination, long ticks, bool truncated)
        {
            if (!DnsMessageReader.TryCreate(message, out var reader))
            {
                if (!truncated)
                {
                    Issue(ticks, source, destination, 0, $"DNS message of {message.Length} bytes is shorter than its 12-byte header");
                }

                return;
            }

            MessageCount++;
            var header = reader.Header;
            if (!header.IsResponse)
            {
                var server = Server(destination);
                if (server is not null)
                {
                    server.QueriesReceived++;
                    server.Seen(ticks);
                }

                return;
            }

            if (header.Opcode != 0 || header.QuestionCount == 0)
            {
                return;
            }

            var answerer = Server(source);
            if (answerer is null)
            {
                return;
            }

            answerer.ResponsesSent++;
            answerer.Seen(ticks);
            answerer.AddClient(destination);

            if (!reader.TryReadQuestion(out var question))
            {
                ReportError(reader.Error, ticks, source, destination, truncated);
                return;
            }

            Span<byte> qname = stackalloc byte[DnsMessageReader.MaxPresentationNameLength];
            int qlength = DnsMessageReader.DecodeName(message, question.NameOffset, qname, out var nameError);
            if (qlength < 0)
            {
                ReportError(nameError, ticks, source, destination, truncated);
                return;
            }

            qname = qname.Slice(0, qlength);
            var asked = Name(qname);
            if (asked is null)
            {
                return;
            }

            answerer.AddDomain(asked.Id);
            asked.BeginAnswer(ticks, source);
            if (header.ResponseCode != 0)
            {
                return;
            }

            Span<byte> owner = stackalloc byte[DnsMessageReader.MaxPresentationNameLength];
            Span<byte> target = stackalloc byte[DnsMessageReader.MaxPresentationNameLength];
            DnsNameObservation? lastOwner = null;
            while (reader.TryReadRecord(out var record))
            {
                if (record.Class != 1)
                {
                    continue;
                }

                bool isAddress = reader.TryReadAddress(record, out var addressBytes);
                bool isNs = record.Type == (ushort)DnsRecordType.NS;
                if (!isAddress && !isNs)
                {
                    continue;
                }

                // Owner: most answers point straight back at the question name, which needs no decoding.
                DnsNameObservation? ownerEntry;
                scoped ReadOnlySpan<byte> ownerName;
                if (PointsAt(message, record.NameOffset, question.NameOffset))
                {
                    ownerEntry = asked;
                    ownerName = qname;
                }
                else
                {
                    int ownerLength = DnsMessageReader.DecodeName(message, record.NameOffset, owner, out var ownerError);
                    if (ownerLength < 0)
                    {
                        ReportError(ownerError, ticks, source, destination, truncated);
                        continue;
                    }

                    ownerName = owner.Slice(0, ownerLength);
                    ownerEntry = ownerName.SequenceEqual(qname) ? asked : Name(ownerName);
                    if (ownerEntry is null)
                    {
                        continue;
                    }
                }

                if (isAddress)
                {
                    var address = NetAddress.FromBytes(addressBytes);
                    bool inAnswer = record.Section == DnsSection.Answer;
                    if (ownerEntry != asked && inAnswer && ownerEntry != lastOwner)
                    {
                        // A CNAME target's own answer set.
                        lastOwner?.EndAnswer();
                        ownerEntry.BeginAnswer(ticks, source);
                        lastOwner = ownerEntry;
                    }
                    else if (!inAnswer)
                    {
                        ownerEntry.Seen(ticks);
                    }

                    ownerEntry.AddAddress(address, record.Ttl, inAnswer);
                    if (inAnswer && ownerEntry != asked)
                    {
                        // What the client asked for resolved (through CNAMEs) to this address.
                        asked.AddAddress(address, record.Ttl, inAnswer: true);
                    }

                    continue;
                }

                // NS for the name or for a zone above it (the authority section of a normal answer).
                if (!IsSameOrParent(ownerName, qname))
                {
                    continue;
                }

                int nsOffset = DnsMessageReader.NameInData(record);
                int targetLength = nsOffset < 0 ? -1 : DnsMessageReader.DecodeName(message, nsOffset, target, out nameError);
                if (targetLength < 0)
                {
                    ReportError(nameError, ticks, source, destination, truncated);
                    continue;
                }

                var nameServer = Name(target.Slice(0, targetLength));
                if (nameServer is not null)
                {
                    asked.AddNameServer(nameServer.Id, record.Ttl);
                    if (ownerEntry != asked)
                    {
                        ownerEntry.AddNameServer(nameServer.Id, record.Ttl);
                    }
                }
            }

            lastOwner?.EndAnswer();
            asked.EndAnswer();
            if (reader.Error.IsError)
            {
                ReportError(reader.Error, ticks, source, destination, truncated);
            }
        }

        /// <summary>True when the name at <paramref name="offset"/> is a bare compression pointer to <paramref name="target"/> (or is that very name).</summary>
        private static bool PointsAt(ReadOnlySpan<byte> message, int offset, int target)
        {
            if (offset == target)
            {
                return true;
            }

            return offset + 1 < message.Length && (message[offset] & 0xC0) == 0xC0 &&
                   (((message[offset] & 0x3F) << 8) | message[offset + 1]) == target;
        }

        private static bool IsSameOrParent(ReadOnlySpan<byte> zone, ReadOnlySpan<byte> name)
        {
            if (zone.Length == 1 && zone[0] == (byte)'.')
            {
                return true;
            }

            if (zone.Length > name.Length || !name.EndsWith(zone))
            {
                return false;
            }

            return zone.Length == name.Length || name[name.Length - zone.Length - 1] == (byte)'.';
        }

        private DnsNameObservation? Name(ReadOnlySpan<byte> name)
        {
            var entry = _names.GetOrAdd(name);
            if (entry is null && !_warnedNames)
            {
                _warnedNames = true;
                _context.Reporter.Warning($"More than {MaxNames} distinct DNS names: further names are counted but not tracked.");
            }

            return entry;
        }

        private DnsServerObservation? Server(NetAddress address)
        {
            if (_servers.TryGetValue(address, out var server))
            {
                return server;
            }

            if (_servers.Count >= MaxServers)
            {
                _refusedServers++;
                return null;
            }

            server = new DnsServerObservation(address);
            _servers[address] = server;
            return server;
        }

        private void ReportError(DnsParseError error, long ticks, NetAddress source, NetAddress destination, bool truncated)
        {
            // A snap-length cut is the capture's doing, already reported by the reader; the message is simply incomplete.
            if (error.IsError && !truncated)
            {
                Issue(ticks, source, destination, error.Offset, error.Message!);
            }
        }

        private void Issue(long ticks, NetAddress source, NetAddress destination, int messageOffset, string what)
        {
            string when = new DateTime(ticks, DateTimeKind.Utc).ToString("yyyy-MM-ddTHH:mm:ss.ffffffZ", System.Globalization.CultureInfo.InvariantCulture);
            var position = Position?.Invoke() ?? (_context.Source, -1L);
            _context.AddIssue(new ParseIssue(
                position.File,
                position.Offset,
                $"{source} → {destination} at {when}: DNS message offset {messageOffset}: {what}",
                "DNS message"));
        }

        public IEnumerable<FluxFinding> Complete()
        {
            var answerers = _servers.Values.Where(s => s.AnswersOthers).ToList();
            foreach (var s in answerers)
            {
                _context.DnsAnswerers.Add(s.Address);
            }

            var relays = new HashSet<NetAddress>(_context.RelayHosts);
            foreach (var h in _context.Options.HostAddresses)
            {
                relays.Add(h);
            }

            var known = new HashSet<NetAddress>(_context.Options.KnownDnsServers);

            // How many names resolve to each DNS-answering host: many names on one such host is a double-flux agent.
            var namesOnAnswerer = new Dictionary<NetAddress, int>();
            foreach (var name in _names.Entries)
            {
                foreach (var a in name.Addresses)
                {
                    if (_context.DnsAnswerers.Contains(a))
                    {
                        namesOnAnswerer.TryGetValue(a, out int n);
                        namesOnAnswerer[a] = n + 1;
                    }
                }
            }

            IAsnLookup? asn = AsnLookup;
            bool ownAsn = false;
            if (asn is null && !string.IsNullOrEmpty(_context.Options.AsnDatabasePath))
            {
                try
                {
                    asn = new MaxMindAsnLookup(_context.Options.AsnDatabasePath!);
                    ownAsn = true;
                }
                catch (Exception e) when (e is System.IO.IOException or UnauthorizedAccessException or MaxMind.Db.InvalidDatabaseException or ArgumentException)
                {
                    _context.Reporter.Error(new FluxError("AsnDatabaseUnreadable", FluxErrorCategory.ReadError, _context.Options.AsnDatabasePath!,
                        $"The ASN database '{_context.Options.AsnDatabasePath}' could not be read ({e.Message}); the /16 count stands in for the ASN count.", e));
                }
            }

            var fluxIds = new HashSet<int>();
            var domains = new List<FluxDomain>();
            try
            {
                foreach (var name in _names.Entries)
                {
                    var finding = JudgeName(name, asn, relays, namesOnAnswerer);
                    if (finding is not null)
                    {
                        fluxIds.Add(name.Id);
                        domains.Add(finding);
                    }
                }
            }
            finally
            {
                if (ownAsn)
                {
                    asn!.Dispose();
                }
            }

            var proxies = new List<DnsProxy>();
            foreach (var server in answerers)
            {
                int selfResolving = 0;
                var samples = new List<string>();
                int fluxCount = 0;
                foreach (int id in server.Domains)
                {
                    if (fluxIds.Contains(id))
                    {
                        fluxCount++;
                        if (samples.Count < MaxSampleFluxDomains)
                        {
                            samples.Add(_names[id].Name);
                        }
                    }

                    foreach (var a in _names[id].Addresses)
                    {
                        if (a == server.Address)
                        {
                            selfResolving++;
                            break;
                        }
                    }
                }

                var evidence = new DnsProxyEvidence
                {
                    Address = server.Address.ToString(),
                    ClientCount = server.Clients.Count,
                    OutsideClientCount = server.OutsideClientCount,
                    DomainCount = server.Domains.Count,
                    FluxDomainCount = fluxCount,
                    IsKnownResolver = known.Contains(server.Address),
                    IsRelay = relays.Contains(server.Address),
                    SelfResolvingDomainCount = selfResolving,
                };
                var proxy = new DnsProxy
                {
                    Address = evidence.Address,
                    ClientCount = evidence.ClientCount,
                    OutsideClientCount = evidence.OutsideClientCount,
                    DomainCount = evidence.DomainCount,
                    QueryCount = Math.Max(server.QueriesReceived, server.ResponsesSent),
                    ResponseCount = server.ResponsesSent,
                    FluxDomainCount = fluxCount,
                    SampleFluxDomains = samples.OrderBy(s => s, StringComparer.Ordinal).ToArray(),
                    IsKnownResolver = evidence.IsKnownResolver,
                    IsRelay = evidence.IsRelay,
                    FirstSeen = Time(server.FirstSeenTicks),
                    LastSeen = Time(server.LastSeenTicks),
                    Source = _context.Source,
                };
                proxy.SetScore(FluxRules.JudgeProxy(evidence));
                proxies.Add(proxy);
            }

            if (_refusedServers > 0)
            {
                _context.Reporter.Warning($"More than {MaxServers} DNS servers: {_refusedServers} messages from further servers were not tracked.");
            }

            if (_names.RefusedCount > 0)
            {
                _context.Reporter.Warning($"{_names.RefusedCount} DNS names beyond the first {MaxNames} were not tracked.");
            }

            _context.Reporter.Verbose($"DNS: {MessageCount} messages, {_names.Count} names, {_servers.Count} servers, {answerers.Count} answering others, {domains.Count} flux names, {_droppedTcpFlows} DNS-over-TCP flows dropped at the cap.");

            return proxies.OrderByDescending(p => p.RiskScore).ThenBy(p => p.Address, StringComparer.Ordinal).Cast<FluxFinding>()
                .Concat(domains.OrderByDescending(d => d.RiskScore).ThenByDescending(d => d.FluxScore).ThenBy(d => d.Domain, StringComparer.Ordinal))
                .ToList();
        }

        private FluxDomain? JudgeName(DnsNameObservation name, IAsnLookup? asn, HashSet<NetAddress> relays, Dictionary<NetAddress, int> namesOnAnswerer)
        {
            if (name.AddressCount == 0)
            {
                return null;
            }

            var evidence = new FluxEvidence
            {
                Domain = name.Name,
                AddressCount = name.AddressCount,
                NetworkCount = name.NetworkCount,
                MinTtl = ClampTtl(name.MinTtl),
                AnswerChangeCount = name.AnswerChangeCount,
                NameServerCount = name.NameServerCount,
            };

            foreach (var a in name.Addresses)
            {
                if (relays.Contains(a))
                {
                    evidence.ResolvesToRelay = true;
                    evidence.RelayAddress = a.ToString();
                }

                if (namesOnAnswerer.TryGetValue(a, out int n) && n > evidence.NamesOnDnsAnsweringHost)
                {
                    evidence.NamesOnDnsAnsweringHost = n;
                    evidence.DnsAnsweringHost = a.ToString();
                }
            }

            var nsAddresses = new HashSet<NetAddress>();
            var nsNetworks = new HashSet<NetAddress>();
            uint nsTtl = name.NameServerRecordMinTtl;
            var nsNames = new List<string>();
            foreach (int id in name.NameServers)
            {
                var ns = _names[id];
                nsNames.Add(ns.Name);
                foreach (var a in ns.Addresses)
                {
                    nsAddresses.Add(a);
                    nsNetworks.Add(a.FluxNetwork);
                }

                if (ns.AddressCount > 0 && ns.MinTtl < nsTtl)
                {
                    nsTtl = ns.MinTtl;
                }
            }

            evidence.NameServerAddressCount = nsAddresses.Count;
            evidence.NameServerNetworkCount = nsNetworks.Count;
            evidence.NameServerMinTtl = nsTtl == uint.MaxValue ? int.MaxValue : ClampTtl(nsTtl);

            if (asn is not null)
            {
                var systems = new HashSet<uint>();
                foreach (var a in name.Addresses)
                {
                    var number = asn.Lookup(a);
                    if (number.HasValue)
                    {
                        systems.Add(number.Value);
                    }
                }

                evidence.AsnCount = systems.Count;
            }

            var verdict = FluxRules.JudgeDomain(evidence);
            if (!verdict.IsFlux)
            {
                return null;
            }

            var finding = new FluxDomain
            {
                Domain = name.Name,
                Addresses = name.Addresses.ToArray().Take(MaxReportedAddresses).Select(a => a.ToString()).ToArray(),
                AddressCount = name.AddressCount,
                NetworkCount = name.NetworkCount,
                AsnCount = evidence.AsnCount,
                MinTtl = evidence.MinTtl,
                MaxTtl = ClampTtl(name.MaxTtl),
                NameServers = nsNames.OrderBy(s => s, StringComparer.Ordinal).ToArray(),
                NameServerAddresses = nsAddresses.OrderBy(a => a).Take(MaxReportedAddresses).Select(a => a.ToString()).ToArray(),
                NameServerNetworkCount = nsNetworks.Count,
                AnswerChangeCount = name.AnswerChangeCount,
                ResponseCount = name.ResponseCount,
                QueryCount = name.ResponseCount,
                FluxScore = verdict.FluxScore,
                IsFastFlux = verdict.IsFastFlux,
                IsDoubleFlux = verdict.IsDoubleFlux,
                ResolvesToRelay = evidence.ResolvesToRelay,
                AnsweredBy = name.Answerers.ToArray().Select(a => a.ToString()).ToArray(),
                FirstSeen = Time(name.FirstSeenTicks),
                LastSeen = Time(name.LastSeenTicks),
                Source = _context.Source,
            };
            finding.SetScore(verdict.Card);
            return finding;
        }

        private static int ClampTtl(uint ttl) => ttl > int.MaxValue ? int.MaxValue : (int)ttl;

        private static DateTime? Time(long ticks) => ticks <= 0 ? null : new DateTime(ticks, DateTimeKind.Utc);

        private readonly struct TcpFlowKey : IEquatable<TcpFlowKey>
        {
            private readonly NetAddress _source;
            private readonly NetAddress _destination;
            private readonly int _ports;

            public TcpFlowKey(NetAddress source, NetAddress destination, ushort sourcePort, ushort destinationPort)
            {
                _source = source;
                _destination = destination;
                _ports = (sourcePort << 16) | destinationPort;
            }

            public bool Equals(TcpFlowKey other) => _ports == other._ports && _source == other._source && _destination == other._destination;
            public override bool Equals(object? obj) => obj is TcpFlowKey other && Equals(other);
            public override int GetHashCode() => _source.GetHashCode() * 31 + _destination.GetHashCode() * 17 + _ports;
        }
    }

    /// <summary>
    /// One direction of a DNS-over-TCP flow (RFC 1035 §4.2.2: each message behind a 2-byte length). In-order
    /// segments only: a gap or an out-of-order segment resets the buffer, which holds at most one maximal message.
    /// </summary>
    internal sealed class DnsTcpStream
    {
        public const int MaxBuffered = 2 + 65535;

        private byte[] _buffer = new byte[512];
        private int _start;
        private int _end;
        private uint _nextSequence;
        private bool _synchronised;
        private int _skip;

        public void Reset(uint nextSequence)
        {
            _start = _end = 0;
            _skip = 0;
            _nextSequence = nextSequence;
            _synchronised = false;
        }

        public void Append(uint sequence, ReadOnlySpan<byte> data)
        {
            if (_synchronised && sequence != _nextSequence)
            {
                if ((int)(sequence - _nextSequence) < 0 && (int)(sequence + (uint)data.Length - _nextSequence) <= 0)
                {
                    return; // a retransmission of what we already have
                }

                _start = _end = 0;
                _skip = 0;
                _synchronised = false;
            }

            if (!_synchronised && _end != _start)
            {
                _start = _end = 0;
            }

            _synchronised = true;
            _nextSequence = sequence + (uint)data.Length;
            if (_skip > 0)
            {
                int skipped = Math.Min(_skip, data.Length);
                _skip -= skipped;
                data = data.Slice(skipped);
            }

            int needed = _end - _start + data.Length;
            if (needed > MaxBuffered)
            {
                // Cannot be a valid stream of messages we still need; drop what we have and resynchronise later.
                _start = _end = 0;
                _synchronised = false;
                return;
            }

            if (_end + data.Length > _buffer.Length)
            {
                var grown = new byte[Math.Min(MaxBuffered, Math.Max(_buffer.Length * 2, needed))];
                Buffer.BlockCopy(_buffer, _start, grown, 0, _end - _start);
                _end -= _start;
                _start = 0;
                _buffer = grown;
            }

            data.CopyTo(_buffer.AsSpan(_end));
            _end += data.Length;
        }

        /// <summary>The next complete message, if any. Messages are never larger than 65535 bytes, so none is oversized today.</summary>
        public bool TryTakeMessage(out ReadOnlySpan<byte> message, out bool oversized)
        {
            message = default;
            oversized = false;
            if (_end - _start < 2)
            {
                return false;
            }

            int length = (_buffer[_start] << 8) | _buffer[_start + 1];
            if (_end - _start < 2 + length)
            {
                return false;
            }

            message = _buffer.AsSpan(_start + 2, length);
            _start += 2 + length;
            return true;
        }

        /// <summary>Moves the unread tail to the front so the buffer never creeps.</summary>
        public void Compact()
        {
            if (_start == _end)
            {
                _start = _end = 0;
            }
            else if (_start > 0)
            {
                Buffer.BlockCopy(_buffer, _start, _buffer, 0, _end - _start);
                _end -= _start;
                _start = 0;
            }
        }
    }
}
