using System;
using System.Collections.Generic;
using System.Text;

namespace FluxForensics.Capture
{
    /// <summary>
    /// Everything seen about one DNS name, with bounded memory: addresses and networks are capped (the counts stop
    /// growing at the cap and <see cref="AddressesCapped"/> says so), name servers too.
    /// </summary>
    internal sealed class DnsNameObservation
    {
        public const int MaxAddresses = 256;
        public const int MaxNameServers = 16;
        public const int MaxAnswerers = 8;

        private NetAddress[] _addresses = new NetAddress[2];
        private NetAddress[] _networks = new NetAddress[2];
        private int[] _nameServers = Array.Empty<int>();
        private NetAddress[] _answerers = new NetAddress[1];
        private ulong _currentSetHash;
        private int _currentSetSize;
        private ulong _lastSetHash;

        public DnsNameObservation(int id, byte[] key, int hash)
        {
            Id = id;
            Key = key;
            Hash = hash;
        }

        public int Id { get; }
        public byte[] Key { get; }
        public int Hash { get; }

        /// <summary>Next entry in the same hash bucket.</summary>
        public int NextInBucket { get; set; } = -1;

        public int AddressCount { get; private set; }
        public bool AddressesCapped { get; private set; }
        public int NetworkCount { get; private set; }
        public int NameServerCount { get; private set; }
        public int AnswererCount { get; private set; }
        public uint MinTtl { get; private set; } = uint.MaxValue;
        public uint MaxTtl { get; private set; }
        public uint NameServerRecordMinTtl { get; private set; } = uint.MaxValue;
        public int AnswerChangeCount { get; private set; }
        public long ResponseCount { get; private set; }
        public long FirstSeenTicks { get; private set; }
        public long LastSeenTicks { get; private set; }

        public ReadOnlySpan<NetAddress> Addresses => _addresses.AsSpan(0, AddressCount);
        public ReadOnlySpan<int> NameServers => _nameServers.AsSpan(0, NameServerCount);
        public ReadOnlySpan<NetAddress> Answerers => _answerers.AsSpan(0, AnswererCount);

        private string? _name;
        public string Name => _name ??= Encoding.ASCII.GetString(Key);

        public void Seen(long ticks)
        {
            if (FirstSeenTicks == 0 || ticks < FirstSeenTicks)
            {
                FirstSeenTicks = ticks;
            }

            if (ticks > LastSeenTicks)
            {
                LastSeenTicks = ticks;
            }
        }

        /// <summary>Starts one response's answer set (for counting changes between answers).</summary>
        public void BeginAnswer(long ticks, NetAddress answerer)
        {
            ResponseCount++;
            Seen(ticks);
            _currentSetHash = 0;
            _currentSetSize = 0;
            for (int i = 0; i < AnswererCount; i++)
            {
                if (_answerers[i] == answerer)
                {
                    return;
                }
            }

            if (AnswererCount < MaxAnswerers)
            {
                if (AnswererCount == _answerers.Length)
                {
                    Array.Resize(ref _answerers, Math.Min(MaxAnswerers, _answerers.Length * 2));
                }

                _answerers[AnswererCount++] = answerer;
            }
        }

        /// <summary>An address record for this name; <paramref name="inAnswer"/> when it is part of the answer set (not glue).</summary>
        public void AddAddress(NetAddress address, uint ttl, bool inAnswer)
        {
            if (ttl < MinTtl)
            {
                MinTtl = ttl;
            }

            if (ttl > MaxTtl)
            {
                MaxTtl = ttl;
            }

            if (inAnswer)
            {
                // Order-independent set hash: the same addresses in another order are the same answer.
                ulong h = (ulong)address.GetHashCode() * 0x9E37_79B9_7F4A_7C15UL;
                _currentSetHash += h ^ (h >> 29);
                _currentSetSize++;
            }

            for (int i = 0; i < AddressCount; i++)
            {
                if (_addresses[i] == address)
                {
                    return;
                }
            }

            if (AddressCount >= MaxAddresses)
            {
                AddressesCapped = true;
                return;
            }

            if (AddressCount == _addresses.Length)
            {
                Array.Resize(ref _addresses, Math.Min(MaxAddresses, _addresses.Length * 2));
            }

            _addresses[AddressCount++] = address;
            var network = address.FluxNetwork;
            for (int i = 0; i < NetworkCount; i++)
            {
                if (_networks[i] == network)
                {
                    return;
                }
            }

            if (NetworkCount == _networks.Length)
            {
                Array.Resize(ref _networks, Math.Min(MaxAddresses, _networks.Length * 2));
            }

            _networks[NetworkCount++] = network;
        }

        /// <summary>Ends one response's answer set; an answer that differs from the previous one counts as a change.</summary>
        public void EndAnswer()
        {
            if (_currentSetSize == 0)
            {
                return;
            }

            if (_lastSetHash != 0 && _lastSetHash != _currentSetHash)
            {
                AnswerChangeCount++;
            }

            _lastSetHash = _currentSetHash;
        }

        public void AddNameServer(int nameId, uint ttl)
        {
            if (ttl < NameServerRecordMinTtl)
            {
                NameServerRecordMinTtl = ttl;
            }

            for (int i = 0; i < NameServerCount; i++)
            {
                if (_nameServers[i] == nameId)
                {
                    return;
                }
            }

            if (NameServerCount >= MaxNameServers)
            {
                return;
            }

            if (NameServerCount == _nameServers.Length)
            {
                Array.Resize(ref _nameServers, Math.Max(2, Math.Min(MaxNameServers, _nameServers.Length * 2)));
            }

            _nameServers[NameServerCount++] = nameId;
        }
    }

    /// <summary>
    /// Names by their presentation bytes, looked up from a span without allocating (one allocation per distinct
    /// name). Capped: past <see cref="MaxNames"/> new names are refused and counted.
    /// </summary>
    internal sealed class DnsNameTable
    {
        private readonly List<DnsNameObservation> _entries = new List<DnsNameObservation>();
        private int[] _buckets = CreateBuckets(1024);

        public DnsNameTable(int maxNames)
        {
            MaxNames = maxNames;
        }

        public int MaxNames { get; }
        public int Count => _entries.Count;
        public long RefusedCount { get; private set; }
        public IReadOnlyList<DnsNameObservation> Entries => _entries;

        public DnsNameObservation this[int id] => _entries[id];

        public DnsNameObservation? GetOrAdd(ReadOnlySpan<byte> name)
        {
            int hash = HashOf(name);
            int bucket = hash & (_buckets.Length - 1);
            for (int i = _buckets[bucket]; i >= 0; i = _entries[i].NextInBucket)
            {
                var entry = _entries[i];
                if (entry.Hash == hash && name.SequenceEqual(entry.Key))
                {
                    return entry;
                }
            }

            if (_entries.Count >= MaxNames)
            {
                RefusedCount++;
                return null;
            }

            var added = new DnsNameObservation(_entries.Count, name.ToArray(), hash) { NextInBucket = _buckets[bucket] };
            _entries.Add(added);
            _buckets[bucket] = added.Id;
            if (_entries.Count > _buckets.Length * 2)
            {
                Rehash();
            }

            return added;
        }

        private void Rehash()
        {
            _buckets = CreateBuckets(_buckets.Length * 4);
            foreach (var entry in _entries)
            {
                int bucket = entry.Hash & (_buckets.Length - 1);
                entry.NextInBucket = _buckets[bucket];
                _buckets[bucket] = entry.Id;
            }
        }

        private static int[] CreateBuckets(int size)
        {
            var buckets = new int[size];
            buckets.AsSpan().Fill(-1);
            return buckets;
        }

        private static int HashOf(ReadOnlySpan<byte> name)
        {
#if NET
            // The runtime's hash, a word at a time (randomised per process; the table lives in this process only).
            var hash = new HashCode();
            hash.AddBytes(name);
            return hash.ToHashCode() & 0x7FFF_FFFF;
#else
            // FNV-1a: names are short, and this runs once per name per response.
            uint h = 2166136261;
            foreach (byte b in name)
            {
                h = (h ^ b) * 16777619;
            }

            return (int)(h & 0x7FFF_FFFF);
#endif
        }
    }

    /// <summary>Everything seen about one host answering DNS, with capped client and name sets.</summary>
    internal sealed class DnsServerObservation
    {
        public const int MaxTrackedClients = 65536;
        public const int MaxTrackedDomains = 65536;

        public DnsServerObservation(NetAddress address)
        {
            Address = address;
        }

        public NetAddress Address { get; }
        public HashSet<NetAddress> Clients { get; } = new HashSet<NetAddress>();
        public int OutsideClientCount { get; private set; }
        public HashSet<int> Domains { get; } = new HashSet<int>();
        public long QueriesReceived { get; set; }
        public long ResponsesSent { get; set; }
        public long FirstSeenTicks { get; private set; }
        public long LastSeenTicks { get; private set; }

        /// <summary>Answered a host other than itself.</summary>
        public bool AnswersOthers { get; private set; }

        public void Seen(long ticks)
        {
            if (FirstSeenTicks == 0 || ticks < FirstSeenTicks)
            {
                FirstSeenTicks = ticks;
            }

            if (ticks > LastSeenTicks)
            {
                LastSeenTicks = ticks;
            }
        }

        public void AddClient(NetAddress client)
        {
            if (client != Address)
            {
                AnswersOthers = true;
            }

            if (Clients.Count < MaxTrackedClients && Clients.Add(client) && IsOutside(client))
            {
                OutsideClientCount++;
            }
        }

        public void AddDomain(int nameId)
        {
            if (Domains.Count < MaxTrackedDomains)
            {
                Domains.Add(nameId);
            }
        }

        /// <summary>A client outside the server's own network (/16, /48), and not both on private ranges.</summary>
        private bool IsOutside(NetAddress client)
        {
            if (client.IsIPv4 != Address.IsIPv4)
            {
                return !(client.IsPrivate && Address.IsPrivate);
            }

            if (client.FluxNetwork == Address.FluxNetwork)
            {
                return false;
            }

            return !(client.IsPrivate && Address.IsPrivate);
        }
    }
}
