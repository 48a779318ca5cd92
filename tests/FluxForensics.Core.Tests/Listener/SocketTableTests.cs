using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Threading;
using FluxForensics.Host;
using FluxForensics.Model;

namespace FluxForensics.Tests.Listener
{
    public class SocketTableTests
    {
        // Lines as the kernel prints them (format of net/ipv4/tcp_ipv4.c get_tcp4_sock / ipv6 tcp6_sock_seq_show).
        private const string Tcp4 =
            "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n" +
            "   0: 0100007F:0050 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 41001 1 0000000000000000 100 0 0 10 0\n" +
            "   1: 0100007F:A1B2 0100027F:0050 01 00000000:00000000 00:00000000 00000000  1000        0 41002 1 0000000000000000 20 4 30 10 -1\n" +
            "   2: garbage line\n" +
            "   3: 0100007F:A1B3 0100037F:0050 02 00000000:00000000 01:00000064 00000000  1000        0 41003 1 0000000000000000 20 4 30 10 -1\n";

        private const string Tcp6 =
            "  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n" +
            "   0: 00000000000000000000000001000000:1F90 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 42001 1 0000000000000000 100 0 0 10 0\n" +
            "   1: 0000000000000000FFFF00000100007F:0050 0000000000000000FFFF00000101A8C0:C350 01 00000000:00000000 00:00000000 00000000     0        0 42002 1 0000000000000000 100 0 0 10 0\n";

        private const string Udp4 =
            "   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops\n" +
            "  100: 0100007F:0035 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 43001 2 0000000000000000 0\n" +
            "  101: 0100007F:D431 0800080A:0035 01 00000000:00000000 00:00000000 00000000  1000        0 43002 2 0000000000000000 0\n";

        [Fact]
        public void ProcNetTcpLinesDecodeToEndpointsStatesAndInodes()
        {
            var sockets = new List<SocketEntry>();
            var issues = new List<ParseIssue>();
            ProcNetParser.Parse(Encoding.ASCII.GetBytes(Tcp4), SocketProtocol.Tcp, false, "/proc/net/tcp", sockets, issues);

            Assert.Equal(3, sockets.Count);
            var listen = sockets[0];
            Assert.Equal(IPAddress.Loopback, listen.LocalAddress);
            Assert.Equal(80, listen.LocalPort);
            Assert.Equal(TcpState.Listen, listen.State);
            Assert.True(listen.IsListening);
            Assert.Equal(41001, listen.Inode);
            Assert.Equal(0, listen.UserId);

            var established = sockets[1];
            Assert.Equal(IPAddress.Parse("127.2.0.1"), established.RemoteAddress);
            Assert.Equal(80, established.RemotePort);
            Assert.Equal(0xA1B2, established.LocalPort);
            Assert.Equal(TcpState.Established, established.State);
            Assert.True(established.IsOpenConnection);
            Assert.Equal(1000, established.UserId);

            Assert.Equal(TcpState.SynSent, sockets[2].State);
            Assert.True(sockets[2].IsOpenConnection);

            var issue = Assert.Single(issues);
            Assert.Equal("/proc/net/tcp", issue.Source);
            Assert.Contains("garbage line", issue.Message);
        }

        [Fact]
        public void ProcNetTcp6WordsAreInHostOrder()
        {
            var sockets = new List<SocketEntry>();
            var issues = new List<ParseIssue>();
            ProcNetParser.Parse(Encoding.ASCII.GetBytes(Tcp6), SocketProtocol.Tcp, true, "/proc/net/tcp6", sockets, issues);
            Assert.Empty(issues);
            Assert.Equal(IPAddress.IPv6Loopback, sockets[0].LocalAddress);
            Assert.Equal(8080, sockets[0].LocalPort);
            Assert.Equal("Tcp6", sockets[0].ProtocolName);
            Assert.Equal(IPAddress.Parse("::ffff:127.0.0.1"), sockets[1].LocalAddress);
            Assert.Equal(IPAddress.Parse("::ffff:192.168.1.1"), sockets[1].RemoteAddress);
            Assert.Equal(50000, sockets[1].RemotePort);
        }

        [Fact]
        public void UdpBoundWithoutPeerIsListeningAndConnectedUdpIsNot()
        {
            var sockets = new List<SocketEntry>();
            ProcNetParser.Parse(Encoding.ASCII.GetBytes(Udp4), SocketProtocol.Udp, false, "/proc/net/udp", sockets, new List<ParseIssue>());
            Assert.Equal(2, sockets.Count);
            Assert.True(sockets[0].IsListening);
            Assert.Equal(53, sockets[0].LocalPort);
            Assert.False(sockets[1].IsListening);
            Assert.Equal(IPAddress.Parse("10.8.0.8"), sockets[1].RemoteAddress);
            Assert.False(sockets[1].IsOpenConnection); // only TCP connections count as outbound connections.
        }

        // ----- Windows: buffers laid out as the documented MIB_*TABLE_OWNER_PID structures -----

        private static byte[] Table(int declaredEntries, params byte[][] rows)
        {
            var buffer = new byte[4 + rows.Sum(r => r.Length)];
            BinaryPrimitives.WriteUInt32LittleEndian(buffer, (uint)declaredEntries);
            int at = 4;
            foreach (var r in rows)
            {
                r.CopyTo(buffer, at);
                at += r.Length;
            }

            return buffer;
        }

        /// <summary>A DWORD port field: the port in network byte order in the low 16 bits (as htons() leaves it).</summary>
        private static void PortDword(Span<byte> at, int port)
        {
            at[0] = (byte)(port >> 8);
            at[1] = (byte)port;
            at[2] = 0;
            at[3] = 0;
        }

        private static byte[] Tcp4Row(uint state, string local, int localPort, string remote, int remotePort, uint pid)
        {
            var row = new byte[WindowsSocketTableDecoder.Tcp4RowSize];
            BinaryPrimitives.WriteUInt32LittleEndian(row, state);                  // dwState
            IPAddress.Parse(local).GetAddressBytes().CopyTo(row, 4);               // dwLocalAddr (network order)
            PortDword(row.AsSpan(8), localPort);                                   // dwLocalPort
            IPAddress.Parse(remote).GetAddressBytes().CopyTo(row, 12);             // dwRemoteAddr
            PortDword(row.AsSpan(16), remotePort);                                 // dwRemotePort
            BinaryPrimitives.WriteUInt32LittleEndian(row.AsSpan(20), pid);         // dwOwningPid
            return row;
        }

        private static byte[] Tcp6Row(string local, uint localScope, int localPort, string remote, int remotePort, uint state, uint pid)
        {
            var row = new byte[WindowsSocketTableDecoder.Tcp6RowSize];
            IPAddress.Parse(local).GetAddressBytes().CopyTo(row, 0);                // ucLocalAddr[16]
            BinaryPrimitives.WriteUInt32LittleEndian(row.AsSpan(16), localScope);  // dwLocalScopeId
            PortDword(row.AsSpan(20), localPort);                                  // dwLocalPort
            IPAddress.Parse(remote).GetAddressBytes().CopyTo(row, 24);             // ucRemoteAddr[16]
            BinaryPrimitives.WriteUInt32LittleEndian(row.AsSpan(40), 0);           // dwRemoteScopeId
            PortDword(row.AsSpan(44), remotePort);                                 // dwRemotePort
            BinaryPrimitives.WriteUInt32LittleEndian(row.AsSpan(48), state);       // dwState
            BinaryPrimitives.WriteUInt32LittleEndian(row.AsSpan(52), pid);         // dwOwningPid
            return row;
        }

        private static byte[] Udp4Row(string local, int port, uint pid)
        {
            var row = new byte[WindowsSocketTableDecoder.Udp4RowSize];
            IPAddress.Parse(local).GetAddressBytes().CopyTo(row, 0);
            PortDword(row.AsSpan(4), port);
            BinaryPrimitives.WriteUInt32LittleEndian(row.AsSpan(8), pid);
            return row;
        }

        private static byte[] Udp6Row(string local, int port, uint pid)
        {
            var row = new byte[WindowsSocketTableDecoder.Udp6RowSize];
            IPAddress.Parse(local).GetAddressBytes().CopyTo(row, 0);
            PortDword(row.AsSpan(20), port);
            BinaryPrimitives.WriteUInt32LittleEndian(row.AsSpan(24), pid);
            return row;
        }

        [Fact]
        public void MibTcpTableOwnerPidRowsDecode()
        {
            var sockets = new List<SocketEntry>();
            var issues = new List<ParseIssue>();
            WindowsSocketTableDecoder.DecodeTcp4(Table(3,
                Tcp4Row(2, "0.0.0.0", 80, "0.0.0.0", 0, 4242),
                Tcp4Row(5, "192.168.1.10", 49801, "203.0.113.7", 80, 4242),
                Tcp4Row(11, "192.168.1.10", 49700, "203.0.113.8", 80, 0)), sockets, issues);
            Assert.Empty(issues);
            Assert.Equal(3, sockets.Count);
            Assert.Equal(TcpState.TimeWait, sockets[2].State);
            Assert.Null(sockets[2].ProcessId); // PID 0 (System Idle Process) means: no owner.
            Assert.Equal(TcpState.Listen, sockets[0].State);
            Assert.Equal(80, sockets[0].LocalPort);
            Assert.Equal(4242, sockets[0].ProcessId);
            Assert.Equal(IPAddress.Parse("203.0.113.7"), sockets[1].RemoteAddress);
            Assert.Equal(49801, sockets[1].LocalPort);
            Assert.Equal(TcpState.Established, sockets[1].State);
        }

        [Fact]
        public void TimeWaitRowsWithPidZeroAsTcpViewShowsThemAreAttributedToTheListenerOfTheirPort()
        {
            // The relay on 0.0.0.0:80 (PID 4242), 25 ended connections on its port listed with PID 0 (TCPView: "unknown"),
            // an ended outbound connection of another program on an ephemeral port, and an idle listener of PID 77.
            var rows = new List<byte[]> { Tcp4Row(2, "0.0.0.0", 80, "0.0.0.0", 0, 4242), Tcp4Row(2, "0.0.0.0", 8443, "0.0.0.0", 0, 77) };
            rows.AddRange(Enumerable.Range(0, 25).Select(i => Tcp4Row(11, "192.168.1.10", 80, $"198.51.100.{1 + i % 5}", 50000 + i, 0)));
            rows.Add(Tcp4Row(8, "192.168.1.10", 80, "198.51.100.9", 51000, 4242));
            rows.Add(Tcp4Row(11, "192.168.1.10", 49700, "203.0.113.8", 8443, 0));
            var snapshot = new SocketSnapshot();
            var issues = new List<ParseIssue>();
            WindowsSocketTableDecoder.DecodeTcp4(Table(rows.Count, rows.ToArray()), snapshot.Sockets, issues);
            Assert.Empty(issues);

            var findings = FluxForensics.Detection.ListenerRules.Evaluate(new ListenerFacts(snapshot, new Dictionary<int, SocketOwner>()),
                new FluxForensics.Detection.ListenerRuleOptions { WindowsPaths = true });
            var relay = findings.Single(f => f.ProcessId == 4242);
            Assert.Equal((25, 1, 6), (relay.TimeWaitCount, relay.CloseWaitCount, relay.ClosedConnectionClientCount));
            Assert.Contains(relay.Reasons, r => r.Points == FluxForensics.Detection.ListenerRules.ChurnPoints && r.Reason.StartsWith("26 short-lived connections to TCP 80 just ended", StringComparison.Ordinal));
            Assert.Equal(0, findings.Single(f => f.ProcessId == 77).TimeWaitCount);
        }

        [Fact]
        public void TimeWaitLinesOfProcNetTcpHaveNoInodeAndAreAttributedToTheListener()
        {
            // st 06 = TIME_WAIT: the kernel prints inode 0, so no /proc/<pid>/fd names its process.
            string table = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n" +
                "   0: 0300007F:0050 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 51001 1 0000000000000000 100 0 0 10 0\n" +
                string.Concat(Enumerable.Range(0, 21).Select(i =>
                    $"   {i + 1}: 0300007F:0050 010A007F:{(0xC000 + i).ToString("X4")} 06 00000000:00000000 03:00001102 00000000     0        0 0 3 0000000000000000\n"));
            var snapshot = new SocketSnapshot();
            var issues = new List<ParseIssue>();
            ProcNetParser.Parse(Encoding.ASCII.GetBytes(table), SocketProtocol.Tcp, false, "/proc/net/tcp", snapshot.Sockets, issues);
            Assert.Empty(issues);
            Assert.All(snapshot.Sockets.Skip(1), s => Assert.Equal((TcpState.TimeWait, 0L), (s.State, s.Inode)));
            snapshot.Sockets[0].ProcessId = 900; // what the inode walk finds for the listener
            var f = FluxForensics.Detection.ListenerRules.Evaluate(new ListenerFacts(snapshot, new Dictionary<int, SocketOwner>()),
                new FluxForensics.Detection.ListenerRuleOptions { WindowsPaths = false }).Single();
            Assert.Equal(900, f.ProcessId);
            Assert.Equal(21, f.TimeWaitCount);
            Assert.Equal(1, f.ClosedConnectionClientCount);
        }

        [Fact]
        public void MibTcp6TableOwnerPidRowsDecodeWithScope()
        {
            var sockets = new List<SocketEntry>();
            var issues = new List<ParseIssue>();
            WindowsSocketTableDecoder.DecodeTcp6(Table(1, Tcp6Row("fe80::1", 7, 443, "2001:db8::5", 50123, 5, 99)), sockets, issues);
            var s = Assert.Single(sockets);
            Assert.Equal(7, s.LocalAddress.ScopeId);
            Assert.Equal(443, s.LocalPort);
            Assert.Equal(50123, s.RemotePort);
            Assert.Equal(IPAddress.Parse("2001:db8::5"), s.RemoteAddress);
            Assert.Equal(TcpState.Established, s.State);
            Assert.Equal(99, s.ProcessId);
            Assert.Equal("Tcp6", s.ProtocolName);
        }

        [Fact]
        public void MibUdpTablesOwnerPidRowsDecodeAsListening()
        {
            var sockets = new List<SocketEntry>();
            var issues = new List<ParseIssue>();
            WindowsSocketTableDecoder.DecodeUdp4(Table(1, Udp4Row("0.0.0.0", 53, 1000)), sockets, issues);
            WindowsSocketTableDecoder.DecodeUdp6(Table(1, Udp6Row("::", 53, 1000)), sockets, issues);
            Assert.Empty(issues);
            Assert.All(sockets, s => Assert.True(s.IsListening));
            Assert.All(sockets, s => Assert.Equal(53, s.LocalPort));
            Assert.Equal(new[] { "Udp", "Udp6" }, sockets.Select(s => s.ProtocolName));
        }

        [Fact]
        public void AnEntryCountBeyondTheBufferIsCappedAndReported()
        {
            var sockets = new List<SocketEntry>();
            var issues = new List<ParseIssue>();
            byte[] buffer = Table(1000, Tcp4Row(2, "127.0.0.1", 80, "0.0.0.0", 0, 1), Tcp4Row(2, "127.0.0.1", 81, "0.0.0.0", 0, 1));
            WindowsSocketTableDecoder.DecodeTcp4(buffer.AsSpan(0, buffer.Length - 3), sockets, issues); // the second row is cut short
            Assert.Single(sockets);
            Assert.Contains("dwNumEntries 1000", Assert.Single(issues).Message);

            WindowsSocketTableDecoder.DecodeUdp6(new byte[2], sockets, issues);
            Assert.Equal(2, issues.Count);
        }

        // ----- Linux owners through a /proc tree -----

        [SkippableFact]
        public void SocketInodesInFdLinksNameTheOwner()
        {
            Skip.IfNot(OperatingSystem.IsLinux(), "symlinked socket inodes are a Linux /proc layout");
            string root = Path.Combine(Path.GetTempPath(), "ff-proc-" + Guid.NewGuid().ToString("N"));
            try
            {
                Directory.CreateDirectory(Path.Combine(root, "net"));
                File.WriteAllText(Path.Combine(root, "net", "tcp"), Tcp4);
                File.WriteAllText(Path.Combine(root, "net", "udp"), Udp4);
                Directory.CreateDirectory(Path.Combine(root, "4321", "fd"));
                File.CreateSymbolicLink(Path.Combine(root, "4321", "fd", "3"), "socket:[41001]");
                File.CreateSymbolicLink(Path.Combine(root, "4321", "fd", "4"), "socket:[43001]");
                File.CreateSymbolicLink(Path.Combine(root, "4321", "fd", "5"), "/dev/null");
                Directory.CreateDirectory(Path.Combine(root, "4322", "fd"));
                File.CreateSymbolicLink(Path.Combine(root, "4322", "fd", "7"), "socket:[41002]");
                Directory.CreateDirectory(Path.Combine(root, "self"));

                var snapshot = new LinuxSocketReader(root).Read(CancellationToken.None);
                Assert.Equal(5, snapshot.Sockets.Count); // tcp6 and udp6 are absent: nothing missed, nothing reported.
                Assert.Equal(4321, snapshot.Sockets.Single(s => s.Inode == 41001).ProcessId);
                Assert.Equal(4321, snapshot.Sockets.Single(s => s.Inode == 43001).ProcessId);
                Assert.Equal(4322, snapshot.Sockets.Single(s => s.Inode == 41002).ProcessId);
                Assert.Null(snapshot.Sockets.Single(s => s.Inode == 41003).ProcessId);
                Assert.Single(snapshot.Issues); // the garbage line
            }
            finally
            {
                Directory.Delete(root, recursive: true);
            }
        }

        [SkippableFact]
        public void ARealListenerOfThisProcessIsFoundWithItsOwner()
        {
            Skip.IfNot(OperatingSystem.IsLinux(), "reads /proc");
            using var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            int port = ((IPEndPoint)listener.LocalEndpoint).Port;
            using var client = new TcpClient();
            client.Connect(IPAddress.Loopback, port);
            using var accepted = listener.AcceptTcpClient();

            var snapshot = new LinuxSocketReader("/proc").Read(CancellationToken.None);
            int self = Environment.ProcessId;
            var mine = snapshot.Sockets.Where(s => s.ProcessId == self).ToList();
            Assert.Contains(mine, s => s.IsListening && s.LocalPort == port);
            Assert.Contains(mine, s => s.IsOpenConnection && s.RemotePort == port);
        }
    }
}
