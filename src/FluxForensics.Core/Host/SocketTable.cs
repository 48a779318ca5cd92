using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.Globalization;
using System.Net;
using FluxForensics.Model;

namespace FluxForensics.Host
{
    /// <summary>
    /// Linux <c>/proc/net/{tcp,tcp6,udp,udp6}</c>: one header line, then one socket a line. Addresses are the kernel's
    /// words printed in host byte order (little-endian here), ports in network order. A bad line is a ParseIssue.
    /// </summary>
    public static class ProcNetParser
    {
        /// <summary>Parses the content of one table. <paramref name="source"/> names it in issues.</summary>
        public static void Parse(ReadOnlySpan<byte> content, SocketProtocol protocol, bool ipv6, string source, List<SocketEntry> into, List<ParseIssue> issues)
        {
            int lineStart = 0;
            bool header = true;
            while (lineStart < content.Length)
            {
                int newline = content.Slice(lineStart).IndexOf((byte)'\n');
                int lineEnd = newline < 0 ? content.Length : lineStart + newline;
                var line = content.Slice(lineStart, lineEnd - lineStart);
                if (header)
                {
                    header = false;
                }
                else if (!IsBlank(line))
                {
                    if (TryParseLine(line, protocol, ipv6, out var entry))
                    {
                        into.Add(entry!);
                    }
                    else
                    {
                        issues.Add(new ParseIssue(source, lineStart, "unreadable socket line: " + Ascii(line, 120), "socket table line"));
                    }
                }

                lineStart = lineEnd + 1;
            }
        }

        private static bool IsBlank(ReadOnlySpan<byte> line)
        {
            foreach (byte b in line)
            {
                if (b != (byte)' ' && b != (byte)'\r' && b != (byte)'\t')
                {
                    return false;
                }
            }

            return true;
        }

        private static string Ascii(ReadOnlySpan<byte> s, int max)
        {
            var chars = new char[Math.Min(s.Length, max)];
            for (int i = 0; i < chars.Length; i++)
            {
                chars[i] = s[i] >= 32 && s[i] < 127 ? (char)s[i] : '?';
            }

            return new string(chars);
        }

        private static bool TryParseLine(ReadOnlySpan<byte> line, SocketProtocol protocol, bool ipv6, out SocketEntry? entry)
        {
            entry = null;
            // Fields: sl local rem st tx:rx tr:when retrnsmt uid timeout inode …
            Span<int> starts = stackalloc int[10];
            Span<int> ends = stackalloc int[10];
            int count = Split(line, starts, ends);
            if (count < 10)
            {
                return false;
            }

            if (!TryParseEndpoint(line.Slice(starts[1], ends[1] - starts[1]), ipv6, out var local, out int localPort) ||
                !TryParseEndpoint(line.Slice(starts[2], ends[2] - starts[2]), ipv6, out var remote, out int remotePort) ||
                !TryParseHex(line.Slice(starts[3], ends[3] - starts[3]), out ulong st) ||
                !TryParseDecimal(line.Slice(starts[7], ends[7] - starts[7]), out long uid) ||
                !TryParseDecimal(line.Slice(starts[9], ends[9] - starts[9]), out long inode))
            {
                return false;
            }

            entry = new SocketEntry(protocol, local!, localPort, remote!, remotePort, protocol == SocketProtocol.Tcp ? LinuxState((int)st) : (st == 1 ? TcpState.Established : TcpState.Closed))
            {
                Inode = inode,
                UserId = uid is >= 0 and <= int.MaxValue ? (int)uid : null,
            };
            return true;
        }

        /// <summary>include/net/tcp_states.h.</summary>
        public static TcpState LinuxState(int st) => st switch
        {
            1 => TcpState.Established,
            2 => TcpState.SynSent,
            3 => TcpState.SynReceived,
            4 => TcpState.FinWait1,
            5 => TcpState.FinWait2,
            6 => TcpState.TimeWait,
            7 => TcpState.Closed,
            8 => TcpState.CloseWait,
            9 => TcpState.LastAck,
            10 => TcpState.Listen,
            11 => TcpState.Closing,
            12 => TcpState.NewSynReceived,
            _ => TcpState.Unknown,
        };

        private static int Split(ReadOnlySpan<byte> line, Span<int> starts, Span<int> ends)
        {
            int count = 0, i = 0;
            while (i < line.Length && count < starts.Length)
            {
                while (i < line.Length && line[i] == (byte)' ')
                {
                    i++;
                }

                if (i >= line.Length)
                {
                    break;
                }

                int start = i;
                while (i < line.Length && line[i] != (byte)' ')
                {
                    i++;
                }

                starts[count] = start;
                ends[count++] = i;
            }

            return count;
        }

        private static bool TryParseEndpoint(ReadOnlySpan<byte> field, bool ipv6, out IPAddress? address, out int port)
        {
            address = null;
            port = 0;
            int colon = field.IndexOf((byte)':');
            int hexLength = ipv6 ? 32 : 8;
            if (colon != hexLength || field.Length != colon + 5 || !TryParseHex(field.Slice(colon + 1), out ulong p))
            {
                return false;
            }

            port = (int)p;
            var bytes = new byte[ipv6 ? 16 : 4];
            for (int word = 0; word < bytes.Length / 4; word++)
            {
                if (!TryParseHex(field.Slice(word * 8, 8), out ulong value))
                {
                    return false;
                }

                // The kernel printed a 32-bit word in host order; on little-endian hosts the first byte is the low one.
                uint w = (uint)value;
                if (BitConverter.IsLittleEndian)
                {
                    BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(word * 4), w);
                }
                else
                {
                    BinaryPrimitives.WriteUInt32BigEndian(bytes.AsSpan(word * 4), w);
                }
            }

            address = new IPAddress(bytes);
            return true;
        }

        private static bool TryParseHex(ReadOnlySpan<byte> s, out ulong value)
        {
            value = 0;
            if (s.IsEmpty || s.Length > 16)
            {
                return false;
            }

            foreach (byte b in s)
            {
                int d = b >= '0' && b <= '9' ? b - '0' : b >= 'A' && b <= 'F' ? b - 'A' + 10 : b >= 'a' && b <= 'f' ? b - 'a' + 10 : -1;
                if (d < 0)
                {
                    return false;
                }

                value = (value << 4) | (uint)d;
            }

            return true;
        }

        private static bool TryParseDecimal(ReadOnlySpan<byte> s, out long value)
        {
            value = 0;
            if (s.IsEmpty || s.Length > 19)
            {
                return false;
            }

            foreach (byte b in s)
            {
                if (b < '0' || b > '9')
                {
                    return false;
                }

                value = value * 10 + (b - '0');
            }

            return true;
        }
    }

    /// <summary>
    /// Decodes the buffers <c>GetExtendedTcpTable</c>/<c>GetExtendedUdpTable</c> fill, laid out as the documented
    /// MIB_TCPTABLE_OWNER_PID, MIB_TCP6TABLE_OWNER_PID, MIB_UDPTABLE_OWNER_PID and MIB_UDP6TABLE_OWNER_PID: a DWORD
    /// dwNumEntries, then the rows. Ports are in network byte order in the low 16 bits of a DWORD; addresses are in
    /// network order. The entry count is never trusted beyond what the buffer holds.
    /// </summary>
    public static class WindowsSocketTableDecoder
    {
        public const int Tcp4RowSize = 24;  // dwState, dwLocalAddr, dwLocalPort, dwRemoteAddr, dwRemotePort, dwOwningPid
        public const int Tcp6RowSize = 56;  // ucLocalAddr[16], dwLocalScopeId, dwLocalPort, ucRemoteAddr[16], dwRemoteScopeId, dwRemotePort, dwState, dwOwningPid
        public const int Udp4RowSize = 12;  // dwLocalAddr, dwLocalPort, dwOwningPid
        public const int Udp6RowSize = 28;  // ucLocalAddr[16], dwLocalScopeId, dwLocalPort, dwOwningPid

        public static void DecodeTcp4(ReadOnlySpan<byte> buffer, List<SocketEntry> into, List<ParseIssue> issues) =>
            Decode(buffer, Tcp4RowSize, "MIB_TCPTABLE_OWNER_PID", into, issues, row => new SocketEntry(
                SocketProtocol.Tcp,
                new IPAddress(row.Slice(4, 4).ToArray()), Port(row.Slice(8)),
                new IPAddress(row.Slice(12, 4).ToArray()), Port(row.Slice(16)),
                WindowsState(BinaryPrimitives.ReadUInt32LittleEndian(row)))
            { ProcessId = Owner(BinaryPrimitives.ReadUInt32LittleEndian(row.Slice(20))) });

        public static void DecodeTcp6(ReadOnlySpan<byte> buffer, List<SocketEntry> into, List<ParseIssue> issues) =>
            Decode(buffer, Tcp6RowSize, "MIB_TCP6TABLE_OWNER_PID", into, issues, row => new SocketEntry(
                SocketProtocol.Tcp,
                new IPAddress(row.Slice(0, 16).ToArray(), BinaryPrimitives.ReadUInt32LittleEndian(row.Slice(16))), Port(row.Slice(20)),
                new IPAddress(row.Slice(24, 16).ToArray(), BinaryPrimitives.ReadUInt32LittleEndian(row.Slice(40))), Port(row.Slice(44)),
                WindowsState(BinaryPrimitives.ReadUInt32LittleEndian(row.Slice(48))))
            { ProcessId = Owner(BinaryPrimitives.ReadUInt32LittleEndian(row.Slice(52))) });

        public static void DecodeUdp4(ReadOnlySpan<byte> buffer, List<SocketEntry> into, List<ParseIssue> issues) =>
            Decode(buffer, Udp4RowSize, "MIB_UDPTABLE_OWNER_PID", into, issues, row => new SocketEntry(
                SocketProtocol.Udp,
                new IPAddress(row.Slice(0, 4).ToArray()), Port(row.Slice(4)),
                IPAddress.Any, 0, TcpState.Closed)
            { ProcessId = Owner(BinaryPrimitives.ReadUInt32LittleEndian(row.Slice(8))) });

        public static void DecodeUdp6(ReadOnlySpan<byte> buffer, List<SocketEntry> into, List<ParseIssue> issues) =>
            Decode(buffer, Udp6RowSize, "MIB_UDP6TABLE_OWNER_PID", into, issues, row => new SocketEntry(
                SocketProtocol.Udp,
                new IPAddress(row.Slice(0, 16).ToArray(), BinaryPrimitives.ReadUInt32LittleEndian(row.Slice(16))), Port(row.Slice(20)),
                IPAddress.IPv6Any, 0, TcpState.Closed)
            { ProcessId = Owner(BinaryPrimitives.ReadUInt32LittleEndian(row.Slice(24))) });

        /// <summary>MIB_TCP_STATE.</summary>
        public static TcpState WindowsState(uint state) => state switch
        {
            1 => TcpState.Closed,
            2 => TcpState.Listen,
            3 => TcpState.SynSent,
            4 => TcpState.SynReceived,
            5 => TcpState.Established,
            6 => TcpState.FinWait1,
            7 => TcpState.FinWait2,
            8 => TcpState.CloseWait,
            9 => TcpState.Closing,
            10 => TcpState.LastAck,
            11 => TcpState.TimeWait,
            12 => TcpState.DeleteTcb,
            _ => TcpState.Unknown,
        };

        /// <summary>PID 0 is the System Idle Process: Windows lists TIME_WAIT rows under it (and Wine every row). The owner is unknown.</summary>
        private static int? Owner(uint pid) => pid == 0 ? null : (int)pid;

        private delegate SocketEntry RowDecoder(ReadOnlySpan<byte> row);

        private static int Port(ReadOnlySpan<byte> dword) => (dword[0] << 8) | dword[1];

        private static void Decode(ReadOnlySpan<byte> buffer, int rowSize, string structure, List<SocketEntry> into, List<ParseIssue> issues, RowDecoder decode)
        {
            if (buffer.Length < 4)
            {
                issues.Add(new ParseIssue(structure, 0, $"buffer of {buffer.Length} bytes holds no dwNumEntries", structure));
                return;
            }

            uint declared = BinaryPrimitives.ReadUInt32LittleEndian(buffer);
            long fit = (buffer.Length - 4) / rowSize;
            if (declared > fit)
            {
                issues.Add(new ParseIssue(structure, 0, $"dwNumEntries {declared.ToString(CultureInfo.InvariantCulture)} but the buffer holds {fit} rows", structure));
            }

            long count = Math.Min(declared, fit);
            for (int i = 0; i < count; i++)
            {
                into.Add(decode(buffer.Slice(4 + i * rowSize, rowSize)));
            }
        }
    }
}
