using System;
using System.Collections.Generic;
using System.Linq;
using System.Net;
using System.Threading;
using FluxForensics.Detection;
using FluxForensics.Host;
using FluxForensics.Scans;

namespace FluxForensics.Tests.Listener
{
    /// <summary>The listener scan from source to findings: the rules choose which owners the source reads, and what could
    /// not be seen comes back for the caller to say.</summary>
    public class ListenerScanTests
    {
        private static SocketEntry Listen(int port, int pid) =>
            new SocketEntry(SocketProtocol.Tcp, IPAddress.Any, port, IPAddress.Any, 0, TcpState.Listen) { ProcessId = pid };

        private static IEnumerable<SocketEntry> Outbound(int pid, int count) =>
            Enumerable.Range(0, count).Select(i => new SocketEntry(SocketProtocol.Tcp, IPAddress.Parse("10.0.0.5"), 40000 + i, IPAddress.Parse($"198.51.{i}.7"), 80, TcpState.Established) { ProcessId = pid });

        private sealed class TableSource : ISocketReader
        {
            private readonly SocketSnapshot _snapshot;

            public TableSource(SocketSnapshot snapshot) => _snapshot = snapshot;

            public SocketSnapshot Read(CancellationToken cancellationToken) => _snapshot;
        }

        /// <summary>Records which processes the scan asked about; each is a process that exited before it was read.</summary>
        private sealed class AskedProcesses : IProcessReader
        {
            public List<int> Asked { get; } = new List<int>();

            public ProcessFacts Read(int processId)
            {
                lock (Asked)
                {
                    Asked.Add(processId);
                }

                return new ProcessFacts(processId) { Exited = true };
            }
        }

        private static SocketSnapshot Snapshot(IEnumerable<SocketEntry> sockets)
        {
            var snapshot = new SocketSnapshot();
            snapshot.Sockets.AddRange(sockets);
            return snapshot;
        }

        [Fact]
        public void OnlyListenersAreReadUnlessOutboundIsAskedFor()
        {
            var sockets = new List<SocketEntry> { Listen(80, 10), Listen(443, 10) };
            sockets.AddRange(Outbound(20, ListenerRules.HeavyOutboundConnections));
            sockets.AddRange(Outbound(30, ListenerRules.HeavyOutboundConnections - 1));

            Assert.Equal(new[] { 10 }, ListenerRules.OwnersToExamine(Snapshot(sockets), includeOutbound: false));
            Assert.Equal(new[] { 10, 20 }, ListenerRules.OwnersToExamine(Snapshot(sockets), includeOutbound: true));

            var processes = new AskedProcesses();
            var result = ListenerScan.Run(new ListenerScanOptions { Sockets = new TableSource(Snapshot(sockets)), Processes = processes, IncludeOutbound = true },
                new RecordingReporter(), CancellationToken.None);
            Assert.Equal(new[] { 10, 20 }, processes.Asked.OrderBy(p => p));
            Assert.Equal(new[] { 80, 443 }, result.Findings.Where(f => f.IsListening).Select(f => f.LocalPort).OrderBy(p => p));
            Assert.Contains(result.Findings, f => !f.IsListening && f.ProcessId == 20);
            Assert.False(result.NoSocketTableRead);
        }

        [Fact]
        public void BlindSpotsAndAnUnreadableTableComeBackToTheCaller()
        {
            var empty = new SocketSnapshot();
            empty.BlindSpots.Add("/proc/net/tcp could not be read (denied)");
            empty.Issues.Add(new ParseIssue("/proc/net/udp", 40, "unreadable socket line", "socket table line"));
            var reporter = new RecordingReporter();

            var result = ListenerScan.Run(new ListenerScanOptions { Sockets = new TableSource(empty), Processes = new AskedProcesses() }, reporter, CancellationToken.None);

            Assert.True(result.NoSocketTableRead);
            Assert.Equal(new[] { "/proc/net/tcp could not be read (denied)" }, result.BlindSpots);
            Assert.Empty(result.Findings);
            Assert.Single(reporter.Issues);
        }
    }
}
