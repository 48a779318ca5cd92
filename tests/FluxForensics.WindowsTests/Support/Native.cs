using System;
using System.Collections.Generic;
using System.Net;
using System.Runtime.InteropServices;
using System.Text;

namespace FluxForensics.WindowsTests.Support
{
    /// <summary>The Win32 calls the tests make themselves, to see what Windows (or Wine) answers independently of
    /// the Core implementation under test. Kept minimal: a second, simple reading of the same facts.</summary>
    internal static unsafe class Native
    {
        public const int AF_INET = 2;
        public const int AF_INET6 = 23;
        private const int TCP_TABLE_OWNER_PID_LISTENER = 3;
        private const int UDP_TABLE_OWNER_PID = 1;
        private const int ERROR_INSUFFICIENT_BUFFER = 122;

        [DllImport("iphlpapi.dll")]
        private static extern int GetExtendedTcpTable(byte* table, ref int size, bool order, int family, int tableClass, int reserved);

        [DllImport("iphlpapi.dll")]
        private static extern int GetExtendedUdpTable(byte* table, ref int size, bool order, int family, int tableClass, int reserved);

        [DllImport("kernel32.dll", CharSet = CharSet.Unicode, SetLastError = true)]
        public static extern uint GetFileAttributesW(string path);

        [DllImport("kernel32.dll", CharSet = CharSet.Unicode)]
        public static extern uint GetDriveTypeW(string root);

        [DllImport("kernel32.dll")]
        public static extern uint GetLogicalDrives();

        [DllImport("version.dll", CharSet = CharSet.Unicode, SetLastError = true)]
        private static extern int GetFileVersionInfoSizeW(string path, out int handle);

        [DllImport("version.dll", CharSet = CharSet.Unicode, SetLastError = true)]
        private static extern bool GetFileVersionInfoW(string path, int handle, int size, byte* data);

        [DllImport("version.dll", CharSet = CharSet.Unicode)]
        private static extern bool VerQueryValueW(byte* block, string subBlock, out IntPtr buffer, out uint length);

        [DllImport("kernel32.dll", SetLastError = true)]
        private static extern IntPtr OpenProcess(uint access, bool inherit, int processId);

        [DllImport("kernel32.dll")]
        private static extern bool GetExitCodeProcess(IntPtr process, out uint exitCode);

        [DllImport("kernel32.dll")]
        private static extern bool CloseHandle(IntPtr handle);

        /// <summary>True when the PID can still be opened but GetExitCodeProcess says it has ended.</summary>
        public static bool HasExited(int processId)
        {
            const uint PROCESS_QUERY_LIMITED_INFORMATION = 0x1000, STILL_ACTIVE = 259;
            IntPtr process = OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, false, processId);
            if (process == IntPtr.Zero)
            {
                return false;
            }

            try
            {
                return GetExitCodeProcess(process, out uint code) && code != STILL_ACTIVE;
            }
            finally
            {
                CloseHandle(process);
            }
        }

        /// <summary>One row of MIB_TCPROW_OWNER_PID / MIB_UDPROW_OWNER_PID (IPv4): local address, port, owner PID.</summary>
        public readonly record struct SocketRow(IPAddress LocalAddress, int LocalPort, int OwnerPid);

        public static List<SocketRow> TcpListenersV4() => ReadTable(tcp: true);

        public static List<SocketRow> UdpEndpointsV4() => ReadTable(tcp: false);

        private static List<SocketRow> ReadTable(bool tcp)
        {
            int size = 0;
            int rc = tcp
                ? GetExtendedTcpTable(null, ref size, false, AF_INET, TCP_TABLE_OWNER_PID_LISTENER, 0)
                : GetExtendedUdpTable(null, ref size, false, AF_INET, UDP_TABLE_OWNER_PID, 0);
            Assert.Equal(ERROR_INSUFFICIENT_BUFFER, rc);
            byte[] buffer = new byte[size + 4096];
            size = buffer.Length;
            fixed (byte* table = buffer)
            {
                rc = tcp
                    ? GetExtendedTcpTable(table, ref size, false, AF_INET, TCP_TABLE_OWNER_PID_LISTENER, 0)
                    : GetExtendedUdpTable(table, ref size, false, AF_INET, UDP_TABLE_OWNER_PID, 0);
            }

            Assert.Equal(0, rc);
            int count = BitConverter.ToInt32(buffer, 0);
            int rowSize = tcp ? 24 : 12; // state, local addr, local port, remote addr, remote port, pid | local addr, port, pid
            var rows = new List<SocketRow>(count);
            for (int i = 0; i < count; i++)
            {
                int row = 4 + (i * rowSize);
                int addressOffset = tcp ? row + 4 : row;
                var address = new IPAddress(new ReadOnlySpan<byte>(buffer, addressOffset, 4));
                int port = (buffer[addressOffset + 4] << 8) | buffer[addressOffset + 5]; // network order in the low word
                int pid = BitConverter.ToInt32(buffer, row + rowSize - 4);
                rows.Add(new SocketRow(address, port, pid));
            }

            return rows;
        }

        /// <summary>A string from the version resource through GetFileVersionInfo/VerQueryValue, using the first
        /// translation; null when the file has no version resource or no such string.</summary>
        public static string? VersionString(string path, string name)
        {
            int size = GetFileVersionInfoSizeW(path, out _);
            if (size <= 0)
            {
                return null;
            }

            byte[] data = new byte[size];
            fixed (byte* block = data)
            {
                if (!GetFileVersionInfoW(path, 0, size, block))
                {
                    return null;
                }

                if (!VerQueryValueW(block, @"\VarFileInfo\Translation", out IntPtr translation, out uint length) || length < 4)
                {
                    return null;
                }

                ushort language = (ushort)Marshal.ReadInt16(translation);
                ushort codePage = (ushort)Marshal.ReadInt16(translation, 2);
                string sub = $@"\StringFileInfo\{language:x4}{codePage:x4}\{name}";
                if (!VerQueryValueW(block, sub, out IntPtr value, out uint chars) || value == IntPtr.Zero)
                {
                    return null;
                }

                return Marshal.PtrToStringUni(value, (int)Math.Max(0, chars - 1)).TrimEnd('\0');
            }
        }

        /// <summary>The fixed file version (dwFileVersionMS, dwFileVersionLS) from VS_FIXEDFILEINFO, or null.</summary>
        public static (uint Ms, uint Ls)? FixedFileVersion(string path)
        {
            int size = GetFileVersionInfoSizeW(path, out _);
            if (size <= 0)
            {
                return null;
            }

            byte[] data = new byte[size];
            fixed (byte* block = data)
            {
                if (!GetFileVersionInfoW(path, 0, size, block) ||
                    !VerQueryValueW(block, @"\", out IntPtr fixedInfo, out uint length) || length < 52)
                {
                    return null;
                }

                return ((uint)Marshal.ReadInt32(fixedInfo, 8), (uint)Marshal.ReadInt32(fixedInfo, 12));
            }
        }

        public static string DriveLetters()
        {
            uint mask = GetLogicalDrives();
            var letters = new StringBuilder();
            for (int i = 0; i < 26; i++)
            {
                if ((mask & (1u << i)) != 0)
                {
                    letters.Append((char)('A' + i));
                }
            }

            return letters.ToString();
        }
    }
}
