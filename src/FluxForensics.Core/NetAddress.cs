using System;
using System.Buffers.Binary;
using System.Net;

namespace FluxForensics
{
    /// <summary>
    /// An IPv4 or IPv6 address as a 16-byte value (IPv4 stored IPv4-mapped), cheap to hash and compare, so flow
    /// tables and name tables do not allocate an <see cref="IPAddress"/> per packet.
    /// </summary>
    public readonly struct NetAddress : IEquatable<NetAddress>, IComparable<NetAddress>
    {
        private const ulong MappedPrefixLow = 0x0000_FFFF_0000_0000UL;
        private readonly ulong _high;
        private readonly ulong _low;

        private NetAddress(ulong high, ulong low)
        {
            _high = high;
            _low = low;
        }

        public static NetAddress FromIPv4(uint addressBigEndianValue) => new NetAddress(0, MappedPrefixLow | addressBigEndianValue);

        /// <summary>From 4 bytes (IPv4) or 16 bytes (IPv6) in network order.</summary>
        public static NetAddress FromBytes(ReadOnlySpan<byte> bytes)
        {
            if (bytes.Length == 4)
            {
                return FromIPv4(BinaryPrimitives.ReadUInt32BigEndian(bytes));
            }

            if (bytes.Length == 16)
            {
                return new NetAddress(BinaryPrimitives.ReadUInt64BigEndian(bytes), BinaryPrimitives.ReadUInt64BigEndian(bytes.Slice(8)));
            }

            throw new ArgumentException("An address is 4 or 16 bytes.", nameof(bytes));
        }

        public static NetAddress FromIPAddress(IPAddress address) => FromBytes(address.GetAddressBytes());

        public static bool TryParse(string? text, out NetAddress address)
        {
            if (text is not null && IPAddress.TryParse(text.Trim(), out var ip))
            {
                address = FromIPAddress(ip);
                return true;
            }

            address = default;
            return false;
        }

        public bool IsIPv4 => _high == 0 && (_low & 0xFFFF_FFFF_0000_0000UL) == MappedPrefixLow;

        /// <summary>The IPv4 address as a big-endian value (a.b.c.d = a&lt;&lt;24 | …); only meaningful when <see cref="IsIPv4"/>.</summary>
        public uint IPv4Value => (uint)_low;

        /// <summary>The network the flux rules count: /16 for IPv4, /48 for IPv6.</summary>
        public NetAddress FluxNetwork => IsIPv4
            ? FromIPv4(IPv4Value & 0xFFFF_0000u)
            : new NetAddress(_high & 0xFFFF_FFFF_FFFF_0000UL, 0);

        public bool IsLoopback => IsIPv4 ? (IPv4Value >> 24) == 127 : _high == 0 && _low == 1;

        /// <summary>RFC 1918, link-local, loopback, CGNAT, IPv6 ULA and link-local.</summary>
        public bool IsPrivate
        {
            get
            {
                if (IsIPv4)
                {
                    uint v = IPv4Value;
                    return (v >> 24) == 10 || (v >> 20) == 0xAC1 || (v >> 16) == 0xC0A8 || (v >> 16) == 0xA9FE ||
                           (v >> 24) == 127 || (v >> 22) == (100u << 2 | 1);
                }

                ushort first = (ushort)(_high >> 48);
                return (first & 0xFE00) == 0xFC00 || (first & 0xFFC0) == 0xFE80 || IsLoopback;
            }
        }

        public void WriteBytes(Span<byte> destination16)
        {
            BinaryPrimitives.WriteUInt64BigEndian(destination16, _high);
            BinaryPrimitives.WriteUInt64BigEndian(destination16.Slice(8), _low);
        }

        public IPAddress ToIPAddress()
        {
            if (IsIPv4)
            {
                Span<byte> four = stackalloc byte[4];
                BinaryPrimitives.WriteUInt32BigEndian(four, IPv4Value);
                return new IPAddress(four.ToArray());
            }

            var bytes = new byte[16];
            WriteBytes(bytes);
            return new IPAddress(bytes);
        }

        public override string ToString()
        {
            if (IsIPv4)
            {
                uint v = IPv4Value;
                return $"{v >> 24}.{(v >> 16) & 0xFF}.{(v >> 8) & 0xFF}.{v & 0xFF}";
            }

            return ToIPAddress().ToString();
        }

        public bool Equals(NetAddress other) => _high == other._high && _low == other._low;
        public override bool Equals(object? obj) => obj is NetAddress other && Equals(other);
        public override int GetHashCode() => (int)(_high ^ (_high >> 32) ^ _low ^ (_low >> 32) ^ ((_low >> 13) * 31));
        public int CompareTo(NetAddress other) => _high != other._high ? _high.CompareTo(other._high) : _low.CompareTo(other._low);
        public static bool operator ==(NetAddress a, NetAddress b) => a.Equals(b);
        public static bool operator !=(NetAddress a, NetAddress b) => !a.Equals(b);
    }
}
