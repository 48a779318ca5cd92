using System;
using System.Collections.Generic;
using System.Globalization;
using System.Net;
using MaxMind.Db;

namespace FluxForensics.Capture
{
    /// <summary>What the MaxMind databases say about one address. Fields a database did not answer are null.</summary>
    public sealed class GeoInfo
    {
        internal GeoInfo(string address) => Address = address;

        public string Address { get; }

        /// <summary><c>autonomous_system_number</c> of the ASN database.</summary>
        public uint? Asn { get; internal set; }

        /// <summary><c>autonomous_system_organization</c> of the ASN database.</summary>
        public string? AsOrganization { get; internal set; }

        /// <summary>ISO 3166-1 alpha-2 code of <c>country</c> (or, when absent, <c>registered_country</c>), e.g. <c>UA</c>.</summary>
        public string? CountryCode { get; internal set; }

        /// <summary>The English name of that country, e.g. <c>Ukraine</c>.</summary>
        public string? CountryName { get; internal set; }

        public override string ToString() =>
            $"{Address}: AS{Asn?.ToString(CultureInfo.InvariantCulture) ?? "?"} {AsOrganization ?? "?"}, {CountryCode ?? "?"}";
    }

    /// <summary>
    /// ASN, AS organisation and country of an address from MaxMind-format databases (GeoLite2-ASN.mmdb,
    /// GeoLite2-Country.mmdb or GeoLite2-City.mmdb; either may be left out). Each distinct address is looked up once and
    /// cached. Safe to use from several threads. Callers look up at finding time, never per packet.
    /// </summary>
    public sealed class GeoLookup : IDisposable
    {
        private readonly object _gate = new object();
        private readonly Reader? _asn;
        private readonly Reader? _country;
        private readonly Dictionary<string, GeoInfo?> _cache = new Dictionary<string, GeoInfo?>(StringComparer.OrdinalIgnoreCase);

        /// <summary>Opens the databases given (null skips one). Throws <see cref="System.IO.IOException"/>,
        /// <see cref="InvalidDatabaseException"/> … when a file cannot be read as a MaxMind database.</summary>
        public GeoLookup(string? asnDatabasePath, string? countryDatabasePath)
        {
            try
            {
                _asn = string.IsNullOrEmpty(asnDatabasePath) ? null : new Reader(asnDatabasePath!, FileAccessMode.Memory);
                _country = string.IsNullOrEmpty(countryDatabasePath) ? null : new Reader(countryDatabasePath!, FileAccessMode.Memory);
            }
            catch
            {
                _asn?.Dispose();
                throw;
            }
        }

        public bool HasAsnDatabase => _asn is not null;

        public bool HasCountryDatabase => _country is not null;

        /// <summary>The <c>database_type</c> of each database, e.g. <c>GeoLite2-ASN</c>.</summary>
        public string? AsnDatabaseType => _asn?.Metadata.DatabaseType;

        public string? CountryDatabaseType => _country?.Metadata.DatabaseType;

        /// <summary>What the databases know about <paramref name="address"/> (IPv4 or IPv6 text), or null when it is not an
        /// address or no database knows it.</summary>
        public GeoInfo? Lookup(string address)
        {
            if (string.IsNullOrWhiteSpace(address))
            {
                return null;
            }

            lock (_gate)
            {
                if (_cache.TryGetValue(address, out var cached))
                {
                    return cached;
                }
            }

            GeoInfo? info = IPAddress.TryParse(address.Trim().Trim('[', ']'), out var ip) ? Find(address, ip) : null;
            lock (_gate)
            {
                _cache[address] = info;
            }

            return info;
        }

        /// <summary>As <see cref="Lookup(string)"/> for a parsed address.</summary>
        public GeoInfo? Lookup(IPAddress address) => Lookup(address.ToString());

        /// <summary>The ASN of an address seen in a capture, or null.</summary>
        public uint? Asn(NetAddress address) => Lookup(address.ToIPAddress())?.Asn;

        private GeoInfo? Find(string text, IPAddress ip)
        {
            var info = new GeoInfo(text);
            bool known = false;
            var asn = Record(_asn, ip);
            if (asn is not null)
            {
                if (asn.TryGetValue("autonomous_system_number", out var number) && number is not null && TryUInt(number, out uint n))
                {
                    info.Asn = n;
                    known = true;
                }

                if (asn.TryGetValue("autonomous_system_organization", out var organization) && organization is string o && o.Length > 0)
                {
                    info.AsOrganization = o;
                    known = true;
                }
            }

            var country = Record(_country, ip);
            if (country is not null)
            {
                // The country the address is in; registered_country when the database only knows where it is registered.
                var place = Child(country, "country") ?? Child(country, "registered_country");
                if (place is not null)
                {
                    if (place.TryGetValue("iso_code", out var code) && code is string c && c.Length > 0)
                    {
                        info.CountryCode = c;
                        known = true;
                    }

                    if (Child(place, "names") is { } names && names.TryGetValue("en", out var name) && name is string en && en.Length > 0)
                    {
                        info.CountryName = en;
                        known = true;
                    }
                }
            }

            return known ? info : null;
        }

        private static Dictionary<string, object>? Record(Reader? reader, IPAddress ip)
        {
            if (reader is null)
            {
                return null;
            }

            try
            {
                return reader.Find<Dictionary<string, object>>(ip);
            }
            catch (Exception e) when (e is InvalidDatabaseException or DeserializationException or FormatException or InvalidCastException or OverflowException or ArgumentException)
            {
                // A damaged record costs this address its answer, never the analysis.
                return null;
            }
        }

        private static Dictionary<string, object>? Child(Dictionary<string, object> record, string key) =>
            record.TryGetValue(key, out var value) ? value as Dictionary<string, object> : null;

        private static bool TryUInt(object value, out uint number)
        {
            try
            {
                number = Convert.ToUInt32(value, CultureInfo.InvariantCulture);
                return true;
            }
            catch (Exception e) when (e is FormatException or InvalidCastException or OverflowException)
            {
                number = 0;
                return false;
            }
        }

        public void Dispose()
        {
            _asn?.Dispose();
            _country?.Dispose();
        }
    }
}
