using System;
using System.Collections.Generic;
using MaxMind.Db;

namespace FluxForensics.Capture
{
    /// <summary>Maps an address to its autonomous system number; null when unknown.</summary>
    public interface IAsnLookup : IDisposable
    {
        uint? Lookup(NetAddress address);
    }

    /// <summary>
    /// ASN lookups from a MaxMind-format database (GeoLite2-ASN.mmdb or any database with an
    /// <c>autonomous_system_number</c> field), cached per address. Used once per distinct address at the end of the
    /// analysis, never per packet.
    /// </summary>
    public sealed class MaxMindAsnLookup : IAsnLookup
    {
        private readonly Reader _reader;
        private readonly Dictionary<NetAddress, uint?> _cache = new Dictionary<NetAddress, uint?>();

        public MaxMindAsnLookup(string path)
        {
            _reader = new Reader(path, FileAccessMode.Memory);
        }

        public string DatabaseType => _reader.Metadata.DatabaseType;

        public uint? Lookup(NetAddress address)
        {
            if (_cache.TryGetValue(address, out var cached))
            {
                return cached;
            }

            uint? asn = null;
            try
            {
                var record = _reader.Find<Dictionary<string, object>>(address.ToIPAddress());
                if (record is not null && record.TryGetValue("autonomous_system_number", out var value) && value is not null)
                {
                    asn = Convert.ToUInt32(value, System.Globalization.CultureInfo.InvariantCulture);
                }
            }
            catch (Exception e) when (e is InvalidDatabaseException or DeserializationException or FormatException or InvalidCastException or OverflowException)
            {
                asn = null;
            }

            _cache[address] = asn;
            return asn;
        }

        public void Dispose() => _reader.Dispose();
    }
}
