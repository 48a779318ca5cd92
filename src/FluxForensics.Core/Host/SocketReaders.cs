using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.IO;
using System.Runtime.InteropServices;
using System.Threading;
using FluxForensics.Model;

namespace FluxForensics.Host
{
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
            // A hot loop over tens of thousands of descriptors: readdir and readlink straight on bytes, because
            // .NET's directory enumeration stats every symlink it meets. The kernel's per-descriptor checks dominate and
            // wait more than they compute, so the processes are split over a few threads.
            byte[] root = System.Text.Encoding.UTF8.GetBytes(_proc.TrimEnd('/') + "/");
            if (root.Length > 256)
            {
                snapshot.BlindSpots.Add($"{_proc}: path too long");
                return;
            }

            var pids = ListProcesses(root, out int procError);
            if (pids is null)
            {
                snapshot.BlindSpots.Add($"{_proc} could not be listed ({LinuxNative.Describe(procError)}): no socket has an owner");
                return;
            }

            int workers = Math.Max(1, Math.Min(8, Math.Min(Environment.ProcessorCount * 2, pids.Count / 16)));
            var found = new List<(long Inode, int Pid)>[workers];
            var hidden = new int[workers];
            if (workers == 1)
            {
                found[0] = Walk(root, pids, 0, 1, byInode, ref hidden[0], cancellationToken);
            }
            else
            {
                var threads = new Thread[workers];
                Exception? failure = null;
                for (int w = 0; w < workers; w++)
                {
                    int worker = w;
                    threads[w] = new Thread(() =>
                    {
                        try
                        {
                            found[worker] = Walk(root, pids, worker, workers, byInode, ref hidden[worker], cancellationToken);
                        }
                        catch (Exception e)
                        {
                            failure = e;
                        }
                    }) { IsBackground = true, Name = "FluxForensics /proc fd walk" };
                    threads[w].Start();
                }

                foreach (var t in threads)
                {
                    t.Join();
                }

                if (failure is OperationCanceledException)
                {
                    throw new OperationCanceledException(cancellationToken);
                }

                if (failure is not null)
                {
                    throw new InvalidOperationException("walking /proc/<pid>/fd failed: " + failure.Message, failure);
                }
            }

            // A socket shared by several processes (a forking server) is attributed to the lowest pid: deterministic.
            foreach (var list in found)
            {
                foreach (var (inode, pid) in list)
                {
                    var socket = byInode[inode];
                    if (socket.ProcessId is null || pid < socket.ProcessId)
                    {
                        socket.ProcessId = pid;
                    }
                }
            }

            snapshot.ProcessesNotVisible = hidden.Sum();
        }

        private static unsafe List<int>? ListProcesses(byte[] root, out int errno)
        {
            byte* procPath = stackalloc byte[root.Length + 1];
            for (int i = 0; i < root.Length; i++)
            {
                procPath[i] = root[i];
            }

            procPath[root.Length] = 0;
            IntPtr procDir = LinuxNative.OpenDirectory(procPath, out errno);
            if (procDir == IntPtr.Zero)
            {
                return null;
            }

            var pids = new List<int>();
            try
            {
                byte* name;
                while ((name = LinuxNative.NextEntryName(procDir)) != null)
                {
                    int pid = 0, length = 0;
                    while (length < 10 && name[length] >= (byte)'0' && name[length] <= (byte)'9')
                    {
                        pid = pid * 10 + (name[length] - '0');
                        length++;
                    }

                    if (length > 0 && name[length] == 0)
                    {
                        pids.Add(pid); // not self, net, sys …
                    }
                }
            }
            finally
            {
                LinuxNative.CloseDirectory(procDir);
            }

            return pids;
        }

        /// <summary>Walks the descriptors of every <paramref name="stride"/>-th process from <paramref name="first"/>.</summary>
        private static unsafe List<(long, int)> Walk(byte[] root, List<int> pids, int first, int stride, Dictionary<long, SocketEntry> byInode, ref int notVisible, CancellationToken cancellationToken)
        {
            var found = new List<(long, int)>();
            byte* path = stackalloc byte[1024];
            byte* target = stackalloc byte[128];
            byte* digits = stackalloc byte[12];
            for (int i = 0; i < root.Length; i++)
            {
                path[i] = root[i];
            }

            for (int index = first; index < pids.Count; index += stride)
            {
                cancellationToken.ThrowIfCancellationRequested();
                int pid = pids[index];

                // path = "<proc>/<pid>/fd"
                int count = 0;
                for (int v = pid; count == 0 || v > 0; v /= 10)
                {
                    digits[count++] = (byte)('0' + v % 10);
                }

                int at = root.Length;
                while (count > 0)
                {
                    path[at++] = digits[--count];
                }

                foreach (byte b in FdSuffix)
                {
                    path[at++] = b;
                }

                path[at - 1] = 0;
                IntPtr fdDir = LinuxNative.OpenDirectory(path, out int errno);
                if (fdDir == IntPtr.Zero)
                {
                    if (errno == LinuxNative.EACCES || errno == 1)
                    {
                        notVisible++;
                    }

                    continue; // ENOENT: the process exited while we looked; its sockets are gone or closing.
                }

                path[at - 1] = (byte)'/';
                try
                {
                    byte* fd;
                    while ((fd = LinuxNative.NextEntryName(fdDir)) != null)
                    {
                        if (fd[0] == (byte)'.')
                        {
                            continue;
                        }

                        int end = at;
                        for (int i = 0; fd[i] != 0 && end < 1000; i++)
                        {
                            path[end++] = fd[i];
                        }

                        path[end] = 0;
                        int n = LinuxNative.ReadLink(path, target, 128, out _);
                        long inode = SocketInode(target, n);
                        if (inode != 0 && byInode.ContainsKey(inode))
                        {
                            found.Add((inode, pid));
                        }
                    }
                }
                finally
                {
                    LinuxNative.CloseDirectory(fdDir);
                }
            }

            return found;
        }

        private static readonly byte[] FdSuffix = { (byte)'/', (byte)'f', (byte)'d', (byte)'/' };

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
