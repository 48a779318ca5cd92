using System;
using System.Diagnostics;
using System.Linq;
using System.Net;
using System.Net.Sockets;
using System.Threading;
using FluxForensics.Host;
using FluxForensics.WindowsTests.Support;

namespace FluxForensics.WindowsTests.Core
{
    /// <summary>Core's Windows socket reader (GetExtendedTcpTable/GetExtendedUdpTable, both families, decoded by
    /// WindowsSocketTableDecoder) against listeners the test opens itself.</summary>
    public sealed class WindowsSocketReaderTests
    {
        [Fact]
        public void ReaderForThisPlatformIsTheWindowsOne()
        {
            TestHost.RequireWindows();
            Assert.IsType<WindowsSocketReader>(SocketReader.ForThisPlatform());
            Assert.IsType<WindowsProcessReader>(ProcessReader.ForThisPlatform());
        }

        [Fact]
        public void TcpListenersOnBothFamiliesAreListedWithTheirPorts()
        {
            TestHost.RequireWindows();
            using var v4 = new TcpListener(IPAddress.Loopback, 0);
            using var v6 = new TcpListener(IPAddress.IPv6Loopback, 0);
            v4.Start();
            v6.Start();
            int port4 = ((IPEndPoint)v4.LocalEndpoint).Port;
            int port6 = ((IPEndPoint)v6.LocalEndpoint).Port;

            SocketSnapshot snapshot = new WindowsSocketReader().Read(CancellationToken.None);

            Assert.Empty(snapshot.Issues);
            var s4 = Assert.Single(snapshot.Sockets, s => s.Protocol == SocketProtocol.Tcp && s.LocalPort == port4 && !s.IsIPv6);
            Assert.Equal(IPAddress.Loopback, s4.LocalAddress);
            Assert.Equal(TcpState.Listen, s4.State);
            Assert.True(s4.IsListening);
            Assert.Equal("Tcp", s4.ProtocolName);

            var s6 = Assert.Single(snapshot.Sockets, s => s.Protocol == SocketProtocol.Tcp && s.LocalPort == port6 && s.IsIPv6);
            // Windows reports scope 0 for ::1; Wine 8 reports the loopback interface (::1%4096). Compare the address itself.
            Assert.Equal(IPAddress.IPv6Loopback.GetAddressBytes(), s6.LocalAddress.GetAddressBytes());
            if (s6.LocalAddress.ScopeId != 0)
            {
                TestContext.Current.SendDiagnosticMessage($"IPv6 loopback listener reported as {s6.LocalAddress}");
            }

            Assert.Equal(TcpState.Listen, s6.State);
            Assert.Equal("Tcp6", s6.ProtocolName);

            TestHost.SkipOnWineGap(s4.ProcessId is null or 0, "GetExtendedTcpTable reports owner PID 0, so Get-FluxListener cannot name owners under Wine");
            Assert.Equal(Environment.ProcessId, s4.ProcessId);
            Assert.Equal(Environment.ProcessId, s6.ProcessId);
        }

        [Fact]
        public void UdpEndpointIsListedAsListening()
        {
            TestHost.RequireWindows();
            using var udp = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
            int port = ((IPEndPoint)udp.Client.LocalEndPoint!).Port;

            SocketSnapshot snapshot = new WindowsSocketReader().Read(CancellationToken.None);

            var socket = Assert.Single(snapshot.Sockets, s => s.Protocol == SocketProtocol.Udp && s.LocalPort == port);
            Assert.Equal(IPAddress.Loopback, socket.LocalAddress);
            Assert.True(socket.IsListening);
        }

        [Fact]
        public void EstablishedConnectionShowsBothEndsAndState()
        {
            TestHost.RequireWindows();
            using var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            int port = ((IPEndPoint)listener.LocalEndpoint).Port;
            // IPv4 explicitly: a default TcpClient is a dual-mode IPv6 socket, listed in the IPv6 table as ::ffff:127.0.0.1.
            using var client = new TcpClient(AddressFamily.InterNetwork);
            client.Connect(IPAddress.Loopback, port);
            using var accepted = listener.AcceptTcpClient();
            int clientPort = ((IPEndPoint)client.Client.LocalEndPoint!).Port;

            SocketSnapshot snapshot = new WindowsSocketReader().Read(CancellationToken.None);

            var outbound = Assert.Single(snapshot.Sockets, s => s.Protocol == SocketProtocol.Tcp && s.LocalPort == clientPort);
            Assert.Equal(port, outbound.RemotePort);
            Assert.Equal(IPAddress.Loopback, outbound.RemoteAddress);
            Assert.Equal(TcpState.Established, outbound.State);
            Assert.True(outbound.IsOpenConnection);
            Assert.False(outbound.IsListening);
        }

        [Fact]
        public void OwnerOfAChildListenerIsExaminedThroughTheWindowsProcessReader()
        {
            TestHost.RequireWindows();
            using var child = ChildListener.Start("tcp");
            var socket = Assert.Single(new WindowsSocketReader().Read(CancellationToken.None).Sockets,
                s => s.Protocol == SocketProtocol.Tcp && s.LocalPort == child.Port);
            TestHost.SkipOnWineGap(socket.ProcessId is null or 0, "GetExtendedTcpTable reports owner PID 0, so the listener's owner cannot be found by its socket");

            var owner = SocketOwnerScanner.Examine(socket.ProcessId!.Value, new WindowsProcessReader(), new FileFactsReader.Cache());

            Assert.Equal(child.ProcessId, owner.Process.ProcessId);
            Assert.Equal(child.ExecutablePath, owner.Process.ImagePath, ignoreCase: true);
            Assert.Contains(ChildListener.Verb, owner.Process.CommandLine);
        }
    }

    /// <summary>Core's Windows process reader (Toolhelp, QueryFullProcessImageName, GetProcessTimes, the token's user,
    /// NtQueryInformationProcess command line) on processes the test started.</summary>
    public sealed class WindowsProcessReaderTests
    {
        [Fact]
        public void ChildProcessFactsMatchWhatTheTestStarted()
        {
            TestHost.RequireWindows();
            using var child = ChildListener.Start("udp", "marker-argument");
            DateTime started = Process.GetProcessById(child.ProcessId).StartTime.ToUniversalTime();

            ProcessFacts facts = new WindowsProcessReader().Read(child.ProcessId);

            Assert.False(facts.Exited);
            Assert.Equal(child.ExecutablePath, facts.ImagePath, ignoreCase: true);
            Assert.Equal("FluxForensics.WindowsTests.exe", facts.Name, ignoreCase: true);
            Assert.False(facts.ImageDeleted);
            Assert.Equal(Environment.ProcessId, facts.ParentProcessId);
            Assert.NotNull(facts.StartTimeUtc);
            Assert.InRange((facts.StartTimeUtc!.Value - started).Duration(), TimeSpan.Zero, TimeSpan.FromSeconds(2));
            TestHost.SkipOnWineGap(facts.CommandLine is null, "NtQueryInformationProcess(ProcessCommandLineInformation) is not implemented: " + string.Join("; ", facts.ReadErrors));
            Assert.Contains("marker-argument", facts.CommandLine);
            Assert.Contains(ChildListener.Verb, facts.CommandLine);
        }

        [Fact]
        public void OwnProcessHasAUser()
        {
            TestHost.RequireWindows();
            ProcessFacts facts = new WindowsProcessReader().Read(Environment.ProcessId);

            Assert.Equal(Environment.ProcessPath, facts.ImagePath, ignoreCase: true);
            Assert.False(string.IsNullOrEmpty(facts.User), string.Join("; ", facts.ReadErrors));
            Assert.EndsWith(Environment.UserName, facts.User!, StringComparison.OrdinalIgnoreCase);
        }

        [Fact]
        public void ExitedProcessIsReportedAsExited()
        {
            TestHost.RequireWindows();
            int pid;
            using (var child = ChildListener.Start("tcp"))
            {
                pid = child.ProcessId;
            }

            // The child is gone once Dispose returns and its handle is closed; its PID is not reused this fast.
            ProcessFacts facts = new WindowsProcessReader().Read(pid);

            TestHost.SkipOnWineGap(!facts.Exited && Native.HasExited(pid),
                "an exited process can still be opened (OpenProcess succeeds, GetExitCodeProcess says it ended), so the reader, " +
                "which learns 'exited' from OpenProcess failing, reports it as running with nothing readable");
            Assert.True(facts.Exited, string.Join("; ", facts.ReadErrors));
            Assert.Null(facts.ImagePath);
        }
    }
}
