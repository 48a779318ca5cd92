using System;
using System.Linq;
using System.Net;
using System.Net.Sockets;
using FluxForensics.WindowsTests.Support;

namespace FluxForensics.WindowsTests.Platform
{
    /// <summary>What GetExtendedTcpTable/GetExtendedUdpTable answer for sockets this test opens itself: the facts the
    /// Windows listener reader is built on.</summary>
    public sealed class Win32SocketTableTests
    {
        [Fact]
        public void TcpListenerOpenedByTheTestIsInTheOwnerPidTable()
        {
            TestHost.RequireWindows();
            using var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            int port = ((IPEndPoint)listener.LocalEndpoint).Port;

            var row = Assert.Single(Native.TcpListenersV4(), r => r.LocalPort == port);

            Assert.Equal(IPAddress.Loopback, row.LocalAddress);
            TestHost.SkipOnWineGap(row.OwnerPid == 0, "GetExtendedTcpTable reports owner PID 0 for listening sockets " + PidCoverage(Native.TcpListenersV4()));
            Assert.Equal(Environment.ProcessId, row.OwnerPid);
        }

        [Fact]
        public void UdpSocketOpenedByTheTestIsInTheOwnerPidTable()
        {
            TestHost.RequireWindows();
            using var udp = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
            int port = ((IPEndPoint)udp.Client.LocalEndPoint!).Port;

            var row = Assert.Single(Native.UdpEndpointsV4(), r => r.LocalPort == port);

            Assert.Equal(IPAddress.Loopback, row.LocalAddress);
            TestHost.SkipOnWineGap(row.OwnerPid == 0, "GetExtendedUdpTable reports owner PID 0 " + PidCoverage(Native.UdpEndpointsV4()));
            Assert.Equal(Environment.ProcessId, row.OwnerPid);
        }

        [Fact]
        public void ClosedListenerLeavesTheTable()
        {
            TestHost.RequireWindows();
            var listener = new TcpListener(IPAddress.Any, 0);
            listener.Start();
            int port = ((IPEndPoint)listener.LocalEndpoint).Port;
            Assert.Contains(Native.TcpListenersV4(), r => r.LocalPort == port && r.LocalAddress.Equals(IPAddress.Any));

            listener.Stop();

            Assert.DoesNotContain(Native.TcpListenersV4(), r => r.LocalPort == port);
        }

        [Fact]
        public void OwnerPidOfAListenerInAnotherProcessNamesThatProcess()
        {
            TestHost.RequireWindows();
            using var child = ChildListener.Start("tcp");

            var row = Assert.Single(Native.TcpListenersV4(), r => r.LocalPort == child.Port);

            TestHost.SkipOnWineGap(row.OwnerPid == 0, "GetExtendedTcpTable reports owner PID 0 for listening sockets " + PidCoverage(Native.TcpListenersV4()));
            Assert.Equal(child.ProcessId, row.OwnerPid);
        }

        private static string PidCoverage(System.Collections.Generic.List<Native.SocketRow> rows) =>
            $"({rows.Count(r => r.OwnerPid != 0)} of {rows.Count} rows carry a PID)";
    }
}
