using System;
using System.Globalization;
using System.Linq;
using System.Net;

namespace FluxForensics
{
    /// <summary>
    /// Addresses and domain names in the one form they are joined, looked up and exported in, so the incident, the
    /// reputation sources and the indicator files agree on what is the same indicator.
    /// </summary>
    public static class IndicatorText
    {
        private static readonly IdnMapping Idn = new IdnMapping();

        /// <summary>The address in its canonical text (IPv6 compressed, lowercase), or null when it is not an address.</summary>
        public static string? Address(string? text)
        {
            if (text is null)
            {
                return null;
            }

            string t = text.Trim();
            if (t.Length > 2 && t[0] == '[' && t[t.Length - 1] == ']')
            {
                t = t.Substring(1, t.Length - 2);
            }

            // IPAddress.TryParse also takes "1" or "1.2" (inet_aton shorthands); indicators are dotted quads or IPv6.
            if (t.IndexOf(':') < 0 && t.Count(c => c == '.') != 3)
            {
                return null;
            }

            if (!IPAddress.TryParse(t, out var address))
            {
                return null;
            }

            if (address.IsIPv4MappedToIPv6)
            {
                address = address.MapToIPv4();
            }

            if (address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6)
            {
                // A zone index (fe80::1%eth0) names an interface of the machine that saw it, not the address.
                address.ScopeId = 0;
            }
            return address.ToString().ToLowerInvariant();
        }

        /// <summary>A lowercase ASCII host name (IDN as punycode, trailing dot dropped); null when it is not one.</summary>
        public static string? Domain(string? text)
        {
            if (text is null)
            {
                return null;
            }

            string name = text.Trim().TrimEnd('.');
            if (name.Length == 0 || name.Length > 253)
            {
                return null;
            }

            try
            {
                name = Idn.GetAscii(name).ToLowerInvariant();
            }
            catch (ArgumentException)
            {
                return null;
            }

            int labelLength = 0;
            foreach (char c in name)
            {
                if (c == '.')
                {
                    if (labelLength == 0)
                    {
                        return null;
                    }

                    labelLength = 0;
                }
                else if (c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_')
                {
                    if (++labelLength > 63)
                    {
                        return null;
                    }
                }
                else
                {
                    return null;
                }
            }

            return labelLength == 0 || name.IndexOf('.') < 0 ? null : name;
        }
    }
}
