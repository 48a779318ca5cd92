using System;

namespace FluxForensics.Capture
{
    /// <summary>Maps an address to its autonomous system number; null when unknown.</summary>
    public interface IAsnLookup : IDisposable
    {
        uint? Lookup(NetAddress address);
    }

    /// <summary>
    /// ASN lookups from a MaxMind-format database (GeoLite2-ASN.mmdb or any database with an
    /// <c>autonomous_system_number</c> field) through <see cref="GeoLookup"/>, cached per address. Used once per distinct address at the end of the
    /// analysis, never per packet.
    /// </summary>
    public sealed class MaxMindAsnLookup : IAsnLookup
    {
        private readonly GeoLookup _geo;

        public MaxMindAsnLookup(string path)
        {
            _geo = new GeoLookup(path, null);
        }

        public string DatabaseType => _geo.AsnDatabaseType ?? string.Empty;

        public uint? Lookup(NetAddress address) => _geo.Asn(address);

        public void Dispose() => _geo.Dispose();
    }
}
