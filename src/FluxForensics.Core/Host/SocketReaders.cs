using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Runtime.InteropServices;
using System.Threading;
using FluxForensics.Model;

namespace FluxForensics.Host
{
    /// <summary>Every socket of the machine with its owner where it could be seen, and what could not be seen.</summary>
    public sealed class SocketSnapshot
    {
        public List<SocketEntry> Sockets { get; } = new List<SocketEntry>();
        public List<ParseIssue> Issues { get; } = new List<ParseIssue>();

        /// <summary>Processes whose sockets could not be attributed (other users' processes when not root/elevated).</summary>
        public int ProcessesNotVisible { get; internal set; }

        /// <summary>True when the reader ran with the rights to see every owner (root, elevated administrator).</summary>
        public bool Privileged { get; internal set; }

        /// <summary>Why the snapshot is incomplete, in words, for one warning.</summary>
        public List<string> BlindSpots { get; } = new List<string>();
    }

    /// <summary>Reads the machine's socket tables and matches sockets to owning processes.</summary>
    public interface ISocketReader
    {
        SocketSnapshot Read(CancellationToken cancellationToken);
    }

    public static class SocketReader
    {
        public static ISocketReader ForThisPlatform() =>
            RuntimeInformation.IsOSPlatform(OSPlatform.Windows) ? new WindowsSocketReader() : new LinuxSocketReader("/proc");
    }

    /// <summary>
    /// Linux: <c>/proc/net/tcp</c>, <c>tcp6</c>, <c>udp</c>, <c>udp6</c> (the tables of this network namespace), matched to
    /// processes through the <c>socket:[inode]</c> links in <c>/proc/&lt;pid&gt;/fd</c>. A process that exits while its
    /// descriptors are walked simply stops contributing; descriptors of other users' processes need root.
    /// </summary>
    public sealed class LinuxSocketReader : ISocketReader
    {
        private readonly string _proc;

        public LinuxSocketReader(string procRoot) => _proc = procRoot;

        public SocketSnapshot Read(CancellationToken cancellationToken)
        {
            var snapshot = new SocketSnapshot { Privileged = LinuxNative.IsRoot() };
            ReadTable("tcp", SocketProtocol.Tcp, false, snapshot);
            ReadTable("tcp6", SocketProtocol.Tcp, true, snapshot);
            ReadTable("udp", SocketProtocol.Udp, false, snapshot);
            ReadTable("udp6", SocketProtocol.Udp, true, snapshot);

            var byInode = new Dictionary<long, SocketEntry>(snapshot.Sockets.Count);
            foreach (var s in snapshot.Sockets)
            {
                if (s.Inode != 0 && !byInode.ContainsKey(s.Inode))
                {
                    byInode[s.Inode] = s;
                }
            }

            MatchOwners(byInode, snapshot, cancellationToken);
            if (snapshot.ProcessesNotVisible > 0)
            {
                snapshot.BlindSpots.Add(string.Format(CultureInfo.InvariantCulture,
                    "the open files of {0} processes of other users could not be read, so their sockets have no owner; run as root for the full picture",
                    snapshot.ProcessesNotVisible));
            }

            return snapshot;
        }

        private void ReadTable(string name, SocketProtocol protocol, bool ipv6, SocketSnapshot snapshot)
        {
            string path = Path.Combine(_proc, "net", name);
            byte[] content;
            try
            {
                content = ProcFile.ReadAll(path);
            }
            catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
            {
                // No IPv6 in this kernel: nothing to list, nothing missed.
                return;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                snapshot.BlindSpots.Add($"{path} could not be read ({e.Message})");
                return;
            }

            ProcNetParser.Parse(content, protocol, ipv6, path, snapshot.Sockets, snapshot.Issues);
        }

        private unsafe void MatchOwners(Dictionary<long, SocketEntry> byInode, SocketSnapshot snapshot, CancellationToken cancellationToken)
        {
            IEnumerable<string> processDirs;
            try
            {
                processDirs = Directory.EnumerateDirectories(_proc);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                snapshot.BlindSpots.Add($"{_proc} could not be listed ({e.Message}): no socket has an owner");
                return;
            }

            byte* path = stackalloc byte[512];
            byte* target = stackalloc byte[128];
            foreach (var dir in processDirs)
            {
                cancellationToken.ThrowIfCancellationRequested();
                string pidText = Path.GetFileName(dir);
                if (pidText.Length == 0 || pidText[0] < '0' || pidText[0] > '9' || !int.TryParse(pidText, NumberStyles.None, CultureInfo.InvariantCulture, out int pid))
                {
                    continue;
                }

                IEnumerable<string> fds;
                try
                {
                    fds = Directory.EnumerateFileSystemEntries(Path.Combine(dir, "fd"));
                    foreach (var fd in fds)
                    {
                        int length = System.Text.Encoding.UTF8.GetByteCount(fd);
                        if (length >= 511)
                        {
                            continue;
                        }

                        fixed (char* c = fd)
                        {
                            System.Text.Encoding.UTF8.GetBytes(c, fd.Length, path, length);
                        }

                        path[length] = 0;
                        int n = LinuxNative.ReadLink(path, target, 128, out _);
                        long inode = SocketInode(target, n);
                        if (inode != 0 && byInode.TryGetValue(inode, out var socket) && socket.ProcessId is null)
                        {
                            socket.ProcessId = pid;
                        }
                    }
                }
                catch (UnauthorizedAccessException)
                {
                    snapshot.ProcessesNotVisible++;
                }
                catch (Exception e) when (e is DirectoryNotFoundException or FileNotFoundException or IOException)
                {
                    // The process exited while we looked: its sockets are gone or will be closed.
                }
            }
        }

        /// <summary>Parses "socket:[12345]" from a readlink result; 0 for anything else.</summary>
        private static unsafe long SocketInode(byte* target, int length)
        {
            // "socket:[" is 8 bytes; the shortest is "socket:[1]".
            if (length < 10 || target[0] != (byte)'s' || target[6] != (byte)':' || target[7] != (byte)'[' || target[length - 1] != (byte)']')
            {
                return 0;
            }

            long inode = 0;
            for (int i = 8; i < length - 1; i++)
            {
                int d = target[i] - '0';
                if (d < 0 || d > 9)
                {
                    return 0;
                }

                inode = inode * 10 + d;
            }

            return inode;
        }
    }

    /// <summary>
    /// Windows: GetExtendedTcpTable (TCP_TABLE_OWNER_PID_ALL) and GetExtendedUdpTable (UDP_TABLE_OWNER_PID) for AF_INET and
    /// AF_INET6. The owner PID comes with every row, elevated or not; the buffers are decoded by
    /// <see cref="WindowsSocketTableDecoder"/>.
    /// </summary>
    public sealed class WindowsSocketReader : ISocketReader
    {
        private const int AF_INET = 2;
        private const int AF_INET6 = 23;
        private const int TCP_TABLE_OWNER_PID_ALL = 5;
        private const int UDP_TABLE_OWNER_PID = 1;
        private const uint ERROR_INSUFFICIENT_BUFFER = 122;

        public SocketSnapshot Read(CancellationToken cancellationToken)
        {
            var snapshot = new SocketSnapshot { Privileged = IsElevated() };
            Read("TCP IPv4", true, AF_INET, snapshot, WindowsSocketTableDecoder.DecodeTcp4);
            Read("TCP IPv6", true, AF_INET6, snapshot, WindowsSocketTableDecoder.DecodeTcp6);
            Read("UDP IPv4", false, AF_INET, snapshot, WindowsSocketTableDecoder.DecodeUdp4);
            Read("UDP IPv6", false, AF_INET6, snapshot, WindowsSocketTableDecoder.DecodeUdp6);
            if (!snapshot.Privileged)
            {
                snapshot.BlindSpots.Add("not elevated: processes of other users and services show their sockets but not their image, command line or signature; run as administrator for the full picture");
            }

            return snapshot;
        }

        private delegate void Decoder(ReadOnlySpan<byte> buffer, List<SocketEntry> into, List<ParseIssue> issues);

        private static unsafe void Read(string what, bool tcp, int family, SocketSnapshot snapshot, Decoder decode)
        {
            int size = 64 * 1024;
            for (int attempt = 0; attempt < 8; attempt++)
            {
                var buffer = new byte[size];
                uint result;
                fixed (byte* b = buffer)
                {
                    result = tcp
                        ? GetExtendedTcpTable(b, ref size, false, family, TCP_TABLE_OWNER_PID_ALL, 0)
                        : GetExtendedUdpTable(b, ref size, false, family, UDP_TABLE_OWNER_PID, 0);
                }

                if (result == 0)
                {
                    decode(buffer.AsSpan(0, Math.Min(size, buffer.Length)), snapshot.Sockets, snapshot.Issues);
                    return;
                }

                if (result != ERROR_INSUFFICIENT_BUFFER)
                {
                    snapshot.BlindSpots.Add($"the {what} table could not be read (error {result})");
                    return;
                }

                size = Math.Max(size, buffer.Length * 2); // the table grew between the two calls.
            }

            snapshot.BlindSpots.Add($"the {what} table kept growing; it was not read");
        }

        private static bool IsElevated()
        {
            try
            {
                return IsUserAnAdmin();
            }
            catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
            {
                return false;
            }
        }

        [DllImport("iphlpapi.dll")]
        private static extern unsafe uint GetExtendedTcpTable(byte* table, ref int size, bool order, int family, int tableClass, uint reserved);

        [DllImport("iphlpapi.dll")]
        private static extern unsafe uint GetExtendedUdpTable(byte* table, ref int size, bool order, int family, int tableClass, uint reserved);

        [DllImport("shell32.dll")]
        private static extern bool IsUserAnAdmin();
    }
}
