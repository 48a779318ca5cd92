using System;
using System.Runtime.CompilerServices;
using System.Collections.Generic;
using System.Linq;
using FluxForensics.Detection;
using FluxForensics.Formats;
using FluxForensics.Model;

namespace FluxForensics.Capture
{
    /// <summary>
    /// The DNS tables of the whole capture, fed with every DNS message the workers found, in capture order: who answers
    /// DNS for whom, and what every name resolved to. At the end it judges every name with <see cref="FluxRules"/> and
    /// returns <see cref="DnsProxy"/> and <see cref="FluxDomain"/> findings. Memory grows with names and servers, never
    /// with packets.
    /// </summary>
    internal sealed class DnsCorrelator
    {
        public const int DnsPort = 53;
        public const int MaxNames = 262144;
        public const int MaxServers = 16384;
        public const int MaxSampleFluxDomains = 10;
        public const int MaxReportedAddresses = DnsNameObservation.MaxAddresses;

        private readonly CaptureAnalysisContext _context;
        private readonly DnsNameTable _names = new DnsNameTable(MaxNames);
        private readonly Dictionary<NetAddress, DnsServerObservation> _servers = new Dictionary<NetAddress, DnsServerObservation>();
        private long _refusedServers;
        private bool _warnedNames;

        public DnsCorrelator(CaptureAnalysisContext context)
        {
            _context = context ?? throw new ArgumentNullException(nameof(context));
        }

        /// <summary>The names seen, for tests that compare them with other tools.</summary>
        internal IReadOnlyList<DnsNameObservation> Names => _names.Entries;

        /// <summary>DNS messages read (UDP datagrams and TCP length-prefixed messages).</summary>
        public long MessageCount { get; private set; }

        /// <summary>Used by tests and the benchmark instead of the MaxMind database.</summary>
        public IAsnLookup? AsnLookup { get; set; }

        /// <summary>One DNS message; <paramref name="file"/> and <paramref name="offset"/> locate its packet for parse issues.</summary>
        // Three name buffers per message: only the bytes DecodeName wrote are ever read, so they need no zeroing.
        [System.Runtime.CompilerServices.SkipLocalsInit]
        [MethodImpl(Jit.Hot)]
        public void OnMessage(ReadOnlySpan<byte> message, NetAddress source, NetAddress destination, long ticks, bool truncated, string? file, long offset)
        {
            _file = file;
            _offset = offset;
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

        private string? _file;
        private long _offset = -1;

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
            _context.AddIssue(new ParseIssue(
                _file ?? _context.Source,
                _file is null ? -1 : _offset,
                $"{source} → {destination} at {when}: DNS message offset {messageOffset}: {what}",
                "DNS message"));
        }

        /// <summary>Hosts seen answering DNS for others; known after <see cref="Complete"/>.</summary>
        public HashSet<NetAddress> DnsAnswerers { get; } = new HashSet<NetAddress>();

        /// <summary>End of the capture: judges every name and every answering host, knowing the relay hosts the relay correlator found.</summary>
        public IReadOnlyList<FluxFinding> Complete(IEnumerable<NetAddress> relayHosts, long droppedTcpFlows)
        {
            var answerers = _servers.Values.Where(s => s.AnswersOthers).ToList();
            foreach (var s in answerers)
            {
                DnsAnswerers.Add(s.Address);
            }

            var relays = new HashSet<NetAddress>(relayHosts);
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
                    if (DnsAnswerers.Contains(a))
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

            _context.Reporter.Verbose($"DNS: {MessageCount} messages, {_names.Count} names, {_servers.Count} servers, {answerers.Count} answering others, {domains.Count} flux names, {droppedTcpFlows} DNS-over-TCP flows dropped at the cap.");

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
    }
}
