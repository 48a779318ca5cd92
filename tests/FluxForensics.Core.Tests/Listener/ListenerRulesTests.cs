using System;
using System.Collections.Generic;
using System.Linq;
using System.Net;
using FluxForensics.Detection;
using FluxForensics.Host;
using FluxForensics.Model;

namespace FluxForensics.Tests.Listener
{
    /// <summary>The rules on facts built by hand: every point has the reason issue 5 asks for.</summary>
    public class ListenerRulesTests
    {
        private static SocketEntry Listen(SocketProtocol protocol, string address, int port, int? pid) =>
            new SocketEntry(protocol, IPAddress.Parse(address), port, IPAddress.Any, 0, protocol == SocketProtocol.Tcp ? TcpState.Listen : TcpState.Closed) { ProcessId = pid };

        private static SocketEntry Connection(int localPort, string remote, int remotePort, int pid, TcpState state = TcpState.Established) =>
            new SocketEntry(SocketProtocol.Tcp, IPAddress.Parse("10.0.0.5"), localPort, IPAddress.Parse(remote), remotePort, state) { ProcessId = pid };

        private static SocketOwner Owner(int pid, string path, bool hidden = false, string? location = null, bool pe = false,
            string? company = null, string? description = null, string? original = null, string? signature = null, bool deleted = false, params string[] services)
        {
            var process = new ProcessFacts(pid) { Name = System.IO.Path.GetFileName(path.Replace('\\', '/')), ImagePath = path, ImageDeleted = deleted, ServiceNames = services };
            var image = new FileFacts(path)
            {
                Exists = !deleted,
                IsHidden = hidden,
                HiddenReason = hidden ? "dot-name '.x' in the path" : null,
                IsUserWritableLocation = location is not null,
                LocationReason = location,
                IsPe = pe,
                HasVersionInfo = company is not null || description is not null || original is not null,
                CompanyName = company,
                FileDescription = description,
                OriginalFilename = original,
                SignatureStatus = signature ?? SignatureStatuses.NotChecked,
            };
            return new SocketOwner(process, image, null);
        }

        private static List<FluxListener> Evaluate(IEnumerable<SocketEntry> sockets, IEnumerable<SocketOwner> owners, ListenerRuleOptions? options = null)
        {
            var snapshot = new SocketSnapshot();
            snapshot.Sockets.AddRange(sockets);
            return ListenerRules.Evaluate(new ListenerFacts(snapshot, owners.ToDictionary(o => o.Process.ProcessId)), options ?? new ListenerRuleOptions { WindowsPaths = false });
        }

        private static IEnumerable<SocketEntry> FanOut(int pid, int count, int networks) =>
            Enumerable.Range(0, count).Select(i => Connection(40000 + i, $"198.{51 + i % networks}.{i}.7", 80, pid));

        [Fact]
        public void TheRelayScoresHighWithEveryReason()
        {
            var sockets = new List<SocketEntry> { Listen(SocketProtocol.Tcp, "0.0.0.0", 80, 666), Listen(SocketProtocol.Udp, "0.0.0.0", 53, 666) };
            sockets.AddRange(FanOut(666, 50, 5));
            var findings = Evaluate(sockets, new[] { Owner(666, "/tmp/.x/mobile7", hidden: true, location: "under /tmp (temporary)") });

            Assert.Equal(2, findings.Count);
            var tcp = findings.Single(f => f.Protocol == "Tcp");
            Assert.True(tcp.Severity >= Severity.High, tcp.RiskScore.ToString());
            var reasons = tcp.Reasons.Select(r => r.Reason).ToList();
            Assert.Contains("listens on TCP 80 without being a known server for it", reasons);
            Assert.Contains("the same process also listens on UDP 53", reasons);
            Assert.Contains("image is hidden (dot-name '.x' in the path)", reasons);
            Assert.Contains("image is in a user-writable or temporary location (under /tmp (temporary))", reasons);
            Assert.Contains("wide outbound fan-out to port 80: 50 connections across 5 /16 networks", reasons);
            Assert.Equal(50, tcp.OutboundConnectionCount);
            Assert.Equal(5, tcp.DistinctRemoteNetworkCount);
            Assert.Equal(50, tcp.DistinctRemoteAddressCount);
            Assert.Equal(new[] { 80 }, tcp.RemotePorts);
            Assert.Equal(tcp.Reasons.Sum(r => r.Points), tcp.RiskScore);
        }

        [Fact]
        public void APeWithoutCompanyUnsignedAndRenamedCollectsThosePoints()
        {
            var findings = Evaluate(
                new[] { Listen(SocketProtocol.Tcp, "0.0.0.0", 8080, 10) },
                new[] { Owner(10, @"C:\Users\bob\AppData\Roaming\mobile7.exe", pe: true, original: "CrashReportSaver.exe", signature: SignatureStatuses.Unsigned, location: "in the user's AppData") },
                new ListenerRuleOptions { WindowsPaths = true });
            var reasons = findings.Single().Reasons.ToDictionary(r => r.Reason, r => r.Points);
            Assert.Equal(ListenerRules.NoVersionInfoPoints, reasons["image has no company and no description in its version information"]);
            Assert.Equal(ListenerRules.UnsignedPoints, reasons["image is not signed (no embedded signature, no catalog)"]);
            Assert.Equal(ListenerRules.NameMismatchPoints, reasons["image name 'mobile7.exe' does not match its version info's OriginalFilename 'CrashReportSaver.exe'"]);
        }

        [Fact]
        public void OnLinuxAMissingEmbeddedSignatureSaysCatalogsWereNotChecked()
        {
            var f = Evaluate(new[] { Listen(SocketProtocol.Tcp, "0.0.0.0", 5000, 11) },
                new[] { Owner(11, "/opt/app/app.exe", pe: true, company: "Contoso", description: "App", original: "app.exe", signature: SignatureStatuses.NotSigned) }).Single();
            Assert.Equal("listens on TCP 5000, not the well-known port of a service", f.Reasons[0].Reason);
            Assert.Equal(0, f.Reasons[0].Points);
            var reason = f.Reasons[1];
            Assert.Equal(2, f.Reasons.Length);
            Assert.Contains("catalog signatures cannot be checked", reason.Reason);
            Assert.Equal(ListenerRules.NoEmbeddedSignaturePoints, reason.Points);
        }

        [Fact]
        public void ARealNginxIsAKnownServerButAnNginxInTmpIsNot()
        {
            var findings = Evaluate(
                new[] { Listen(SocketProtocol.Tcp, "0.0.0.0", 80, 20), Listen(SocketProtocol.Tcp, "0.0.0.0", 443, 21) },
                new[] { Owner(20, "/usr/sbin/nginx"), Owner(21, "/tmp/nginx", location: "under /tmp (temporary)") });
            var real = findings.Single(f => f.ProcessId == 20);
            Assert.Equal(0, real.RiskScore);
            Assert.Equal("listens on TCP 80 as a known server for it (nginx in /usr/sbin)", Assert.Single(real.Reasons).Reason);
            var fake = findings.Single(f => f.ProcessId == 21);
            Assert.Equal(ListenerRules.SuspiciousPortPoints + ListenerRules.UserWritablePoints, fake.RiskScore);
            Assert.Same(fake, findings[0]); // highest risk first
        }

        [Fact]
        public void ExpectedListenersMatchByNameServiceOrPathWithWildcards()
        {
            var sockets = new[]
            {
                Listen(SocketProtocol.Tcp, "0.0.0.0", 80, 30),
                Listen(SocketProtocol.Udp, "0.0.0.0", 53, 31),
                Listen(SocketProtocol.Tcp, "0.0.0.0", 8080, 32),
            };
            var owners = new[] { Owner(30, "/srv/web/bin/webd"), Owner(31, "/usr/local/bin/mydns"), Owner(32, "/opt/proxy/proxy", services: "ProxySvc") };
            var findings = Evaluate(sockets, owners, new ListenerRuleOptions { ExpectedListeners = new[] { "/srv/web/*", "MYDNS", "Proxy*" }, WindowsPaths = false });
            Assert.All(findings, f => Assert.Equal(0, f.RiskScore));
            Assert.Contains("matches -ExpectedListener '/srv/web/*'", findings.Single(f => f.ProcessId == 30).Reasons[0].Reason);
            Assert.Contains("'MYDNS'", findings.Single(f => f.ProcessId == 31).Reasons[0].Reason);
            Assert.Contains("'Proxy*'", findings.Single(f => f.ProcessId == 32).Reasons[0].Reason);
        }

        [Fact]
        public void AcceptedConnectionsAreNotOutbound()
        {
            var sockets = new List<SocketEntry> { Listen(SocketProtocol.Tcp, "0.0.0.0", 8443, 40) };
            sockets.AddRange(Enumerable.Range(0, 30).Select(i => Connection(8443, $"198.{i}.1.1", 50000 + i, 40)));
            sockets.Add(Connection(45000, "203.0.113.9", 5432, 40));
            var f = Evaluate(sockets, new[] { Owner(40, "/usr/bin/server") }).Single();
            Assert.NotEmpty(f.Reasons); // every finding says what it is about
            Assert.Equal(1, f.OutboundConnectionCount);
            Assert.Equal(new[] { 5432 }, f.RemotePorts);
            Assert.Equal(0, f.RiskScore);
        }

        [Fact]
        public void IncludeOutboundAddsHeavyFanOutProcessesThatListenOnNothing()
        {
            var sockets = FanOut(50, 30, 6).Concat(FanOut(51, 5, 1)).ToList();
            var owners = new[] { Owner(50, "/usr/bin/crawler"), Owner(51, "/usr/bin/curl") };
            Assert.Empty(Evaluate(sockets, owners));
            var f = Assert.Single(Evaluate(sockets, owners, new ListenerRuleOptions { IncludeOutbound = true, WindowsPaths = false }));
            Assert.False(f.IsListening);
            Assert.Equal(50, f.ProcessId);
            Assert.Equal(string.Empty, f.LocalAddress);
            Assert.Equal(ListenerRules.WideFanOutPoints, f.RiskScore);
        }

        [Fact]
        public void MinimumRiskScoreFilters()
        {
            var sockets = new[] { Listen(SocketProtocol.Tcp, "0.0.0.0", 80, 60), Listen(SocketProtocol.Tcp, "127.0.0.1", 33333, 61) };
            var owners = new[] { Owner(60, "/opt/x/x"), Owner(61, "/usr/bin/y") };
            var all = Evaluate(sockets, owners);
            Assert.Equal(2, all.Count);
            var some = Evaluate(sockets, owners, new ListenerRuleOptions { MinimumRiskScore = 20, WindowsPaths = false });
            Assert.Equal(60, Assert.Single(some).ProcessId);
        }

        [Fact]
        public void WhatCouldNotBeReadIsAReasonAndTheFindingIsStillEmitted()
        {
            var gone = new ProcessFacts(70) { Name = "mobile7", Exited = true };
            gone.ReadErrors.Add("the process exited during the scan");
            var corrupt = Owner(71, "/opt/m/m.exe", pe: true);
            corrupt.Image!.Issues = new List<ParseIssue> { new ParseIssue("/opt/m/m.exe", 0x1200, "resource directory refers back to itself (cycle)", "resource directory") };
            var findings = Evaluate(
                new[] { Listen(SocketProtocol.Tcp, "0.0.0.0", 80, 70), Listen(SocketProtocol.Tcp, "0.0.0.0", 81, 71), Listen(SocketProtocol.Udp, "0.0.0.0", 53, null) },
                new[] { new SocketOwner(gone, null, null), corrupt });
            Assert.Equal(3, findings.Count);
            Assert.Contains(findings.Single(f => f.ProcessId == 70).Reasons, r => r.Reason == "not read: the process exited during the scan");
            Assert.Contains(findings.Single(f => f.ProcessId == 71).Reasons, r => r.Reason.Contains("cycle") && r.Reason.StartsWith("not read: part of the image"));
            var unknown = findings.Single(f => f.ProcessId == 0);
            Assert.Contains(unknown.Reasons, r => r.Reason.StartsWith("owning process could not be determined"));
            Assert.Contains(unknown.Reasons, r => r.Reason == "listens on UDP 53 without being a known server for it");
        }

        [Fact]
        public void AnImageThatCannotBeOpenedIsAReasonAndTheRestIsStillJudged()
        {
            var owner = Owner(90, "/tmp/.x/relay", hidden: true, location: "under /tmp (temporary)");
            owner.Image!.ReadError = "cannot read '/tmp/.x/relay': Permission denied";
            var f = Evaluate(new[] { Listen(SocketProtocol.Tcp, "0.0.0.0", 80, 90) }, new[] { owner }).Single();
            Assert.Contains(f.Reasons, r => r.Reason == "not read: image content (cannot read '/tmp/.x/relay': Permission denied)" && r.Points == 0);
            Assert.Contains("image: cannot read '/tmp/.x/relay': Permission denied", f.ReadErrors);
            Assert.Equal(ListenerRules.SuspiciousPortPoints + ListenerRules.HiddenPoints + ListenerRules.UserWritablePoints, f.RiskScore);
            Assert.Null(f.Sha256);
        }

        [Fact]
        public void AHiddenProgramRunByARuntimeHostCountsAsHidden()
        {
            var process = new ProcessFacts(95) { Name = "dotnet", ImagePath = "/usr/share/dotnet/dotnet", CommandLine = "dotnet /tmp/.x/relay.dll" };
            var host = new FileFacts("/usr/share/dotnet/dotnet") { Exists = true, IsElf = true };
            var program = new FileFacts("/tmp/.x/relay.dll") { Exists = true, IsHidden = true, HiddenReason = "dot-name '.x' in the path", IsUserWritableLocation = true, LocationReason = "under /tmp (temporary)" };
            var f = Evaluate(new[] { Listen(SocketProtocol.Udp, "0.0.0.0", 53, 95) }, new[] { new SocketOwner(process, host, program) }).Single();
            var reasons = f.Reasons.Select(r => r.Reason).ToList();
            Assert.Contains("program run by dotnet is hidden (dot-name '.x' in the path): /tmp/.x/relay.dll", reasons);
            Assert.Contains("program run by dotnet is in a user-writable or temporary location (under /tmp (temporary))", reasons);
            Assert.True(f.IsHidden);
            Assert.Equal("/tmp/.x/relay.dll", f.HostedProgramPath);
            Assert.Equal(ListenerRules.SuspiciousPortPoints + ListenerRules.HiddenPoints + ListenerRules.UserWritablePoints, f.RiskScore);
        }

        [Fact]
        public void DeletedImageScores()
        {
            var f = Evaluate(new[] { Listen(SocketProtocol.Tcp, "0.0.0.0", 9000, 80) }, new[] { Owner(80, "/usr/lib/x/daemon", deleted: true) }).Single();
            Assert.Contains(f.Reasons, r => r.Reason == "image was deleted after the process started" && r.Points == ListenerRules.DeletedImagePoints);
            Assert.True(f.ImageDeleted);
        }

        private static SocketEntry Closed(string local, int localPort, string remote, int remotePort, TcpState state, int? pid = null) =>
            new SocketEntry(SocketProtocol.Tcp, IPAddress.Parse(local), localPort, IPAddress.Parse(remote), remotePort, state) { ProcessId = pid };

        [Fact]
        public void AnSmtpRelayIsNamedByItsFanOutToMailServers()
        {
            // 900 mail servers (the report's relay) in 60 /16s, 3 connections to some of them, plus a little web traffic.
            var sockets = new List<SocketEntry> { Listen(SocketProtocol.Tcp, "0.0.0.0", 80, 500) };
            for (int i = 0; i < 900; i++)
            {
                sockets.Add(Connection(20000 + i, $"{60 + i % 60}.7.{i / 60}.{1 + i % 200}", 25, 500));
            }

            for (int i = 0; i < 100; i++)
            {
                sockets.Add(Connection(30000 + i, $"{60 + i % 60}.7.{i / 60}.{1 + i % 200}", 25, 500));
            }

            sockets.AddRange(Enumerable.Range(0, 5).Select(i => Connection(31000 + i, $"203.0.113.{i + 1}", 443, 500)));
            var f = Evaluate(sockets, new[] { Owner(500, "/tmp/.x/relay", hidden: true, location: "under /tmp (temporary)") }).Single();

            Assert.Contains(f.Reasons, r => r.Reason == "SMTP fan-out: 900 mail servers in 60 /16s" && r.Points == ListenerRules.WideFanOutPoints);
            Assert.DoesNotContain(f.Reasons, r => r.Reason.StartsWith("HTTPS fan-out", StringComparison.Ordinal)); // 5 servers is no fan-out
            Assert.Equal(1005, f.OutboundConnectionCount);
            Assert.Equal(new[] { 25, 443 }, f.RemotePorts);
            Assert.Equal(0, f.Port80ConnectionCount);
            var smtp = f.FanOut[0];
            Assert.Equal((25, "SMTP", 1000, 900, 60), (smtp.RemotePort, smtp.Service, smtp.ConnectionCount, smtp.ServerCount, smtp.NetworkCount));
            var https = f.FanOut[1];
            Assert.Equal((443, "HTTPS", 5, 5, 1), (https.RemotePort, https.Service, https.ConnectionCount, https.ServerCount, https.NetworkCount));
            Assert.Equal(f.Reasons.Sum(r => r.Points), f.RiskScore);
        }

        [Theory]
        [InlineData(587, "SMTP submission fan-out: 12 mail servers in 2 /16s", 10)]
        [InlineData(1080, "SOCKS fan-out: 12 SOCKS proxies in 2 /16s", 10)]
        [InlineData(31337, "fan-out to port 31337: 12 servers in 2 /16s", 10)]
        public void FanOutToAnyPortIsCountedAndNamedByService(int port, string reason, int points)
        {
            var sockets = new List<SocketEntry> { Listen(SocketProtocol.Tcp, "0.0.0.0", 9999, 501) };
            sockets.AddRange(Enumerable.Range(0, 12).Select(i => Connection(20000 + i, $"198.{51 + i % 2}.0.{i + 1}", port, 501)));
            var f = Evaluate(sockets, new[] { Owner(501, "/opt/x/x") }).Single();
            Assert.Contains(f.Reasons, r => r.Reason == reason && r.Points == points);
        }

        [Fact]
        public void AMailServerDeliveringToManyMailServersIsNotHeldAgainstIt()
        {
            var sockets = new List<SocketEntry> { Listen(SocketProtocol.Tcp, "0.0.0.0", 25, 502) };
            sockets.AddRange(Enumerable.Range(0, 40).Select(i => Connection(20000 + i, $"{100 + i % 8}.1.0.{i + 1}", 25, 502)));
            var f = Evaluate(sockets, new[] { Owner(502, "/usr/sbin/exim4") }).Single();
            Assert.Contains(f.Reasons, r => r.Reason == "listens on TCP 25 as a known server for it (exim4 in /usr/sbin)" && r.Points == 0);
            Assert.Contains(f.Reasons, r => r.Reason == "SMTP fan-out: 40 mail servers in 8 /16s (expected of a SMTP server)" && r.Points == 0);
            Assert.Equal(0, f.RiskScore);
        }

        [Theory]
        [InlineData(25, "TCP 25 is the well-known port of SMTP, a service the image does not provide", ListenerRules.SuspiciousPortPoints)]
        [InlineData(1080, "TCP 1080 is the well-known port of SOCKS, a service the image does not provide", ListenerRules.SuspiciousPortPoints)]
        [InlineData(22, "TCP 22 is the well-known port of SSH, a service the image does not provide", ListenerRules.SuspiciousPortPoints - ListenerRules.SystemPortPoints)]
        [InlineData(700, "TCP 700 is a system port (below 1024) of no service the image provides", ListenerRules.SystemPortPoints)]
        public void AnyListeningPortCanBeARelayPort(int port, string reason, int points)
        {
            var f = Evaluate(new[] { Listen(SocketProtocol.Tcp, "0.0.0.0", port, 503) }, new[] { Owner(503, "/opt/x/x") }).Single();
            Assert.Contains(f.Reasons, r => r.Reason == $"listens on TCP {port} without being a known server for it" && r.Points == 0);
            Assert.Contains(f.Reasons, r => r.Reason == reason && r.Points == points);
            Assert.Equal(points, f.RiskScore);
        }

        [Fact]
        public void TheWindowsKernelServesHttpSysAndSmbPortsItself()
        {
            var system = new SocketOwner(new ProcessFacts(4) { Name = "System" }, null, null);
            var findings = Evaluate(new[] { Listen(SocketProtocol.Tcp, "0.0.0.0", 80, 4), Listen(SocketProtocol.Tcp, "0.0.0.0", 445, 4), Listen(SocketProtocol.Udp, "0.0.0.0", 137, 4) },
                new[] { system });
            Assert.Contains(findings.Single(f => f.LocalPort == 80).Reasons, r => r.Reason == "listens on TCP 80 as a known server for it (System (HTTP.sys))");
            Assert.Contains(findings.Single(f => f.LocalPort == 445).Reasons, r => r.Reason == "listens on TCP 445 as a known server for it (System (SMB))");
            Assert.Contains(findings.Single(f => f.LocalPort == 137).Reasons, r => r.Reason == "listens on UDP 137 as a known server for it (System (NetBIOS))");
            Assert.All(findings, f => Assert.Equal(0, f.RiskScore));
        }

        [Fact]
        public void TheSameProcessOnSeveralServicePortsSaysSo()
        {
            var f = Evaluate(new[] { Listen(SocketProtocol.Tcp, "0.0.0.0", 25, 504), Listen(SocketProtocol.Tcp, "0.0.0.0", 1080, 504), Listen(SocketProtocol.Tcp, "0.0.0.0", 40000, 504) },
                new[] { Owner(504, "/opt/x/x") });
            Assert.Contains(f.Single(x => x.LocalPort == 25).Reasons, r => r.Reason == "the same process also listens on TCP 1080");
            Assert.Equal("SMTP", f.Single(x => x.LocalPort == 25).LocalPortService);
            Assert.Null(f.Single(x => x.LocalPort == 40000).LocalPortService);
        }

        [Fact]
        public void TimeWaitAndCloseWaitSocketsWithoutOwnerAreAttributedToTheListenerOfTheirPort()
        {
            var sockets = new List<SocketEntry> { Listen(SocketProtocol.Tcp, "0.0.0.0", 80, 600), Listen(SocketProtocol.Tcp, "127.0.0.1", 8081, 601) };
            // 30 ended connections on port 80 from 6 clients: 25 TIME_WAIT without owner (PID 0 on Windows, none on Linux) …
            sockets.AddRange(Enumerable.Range(0, 25).Select(i => Closed("10.0.0.5", 80, $"192.0.2.{1 + i % 6}", 50000 + i, TcpState.TimeWait, i % 2 == 0 ? 0 : null)));
            // … and 5 CLOSE_WAIT the relay itself still holds.
            sockets.AddRange(Enumerable.Range(0, 5).Select(i => Closed("10.0.0.5", 80, $"192.0.2.{1 + i}", 51000 + i, TcpState.CloseWait, 600)));
            // Not the relay's: its own outbound connection that ended (local port ephemeral), another process's socket on
            // port 80, and a TIME_WAIT on 8081 of another address than that listener's.
            sockets.Add(Closed("10.0.0.5", 45000, "198.51.100.1", 80, TcpState.TimeWait));
            sockets.Add(Closed("10.0.0.5", 80, "192.0.2.99", 52000, TcpState.CloseWait, 777));
            sockets.Add(Closed("127.0.0.2", 8081, "127.0.0.9", 52001, TcpState.TimeWait));
            sockets.Add(Closed("127.0.0.1", 8081, "127.0.0.9", 52002, TcpState.TimeWait));
            var findings = Evaluate(sockets, new[] { Owner(600, "/tmp/.x/relay", hidden: true), Owner(601, "/opt/app/app") });

            var relay = findings.Single(f => f.ProcessId == 600);
            Assert.Equal(25, relay.TimeWaitCount);
            Assert.Equal(5, relay.CloseWaitCount);
            Assert.Equal(6, relay.ClosedConnectionClientCount);
            Assert.Contains(relay.Reasons, r => r.Points == ListenerRules.ChurnPoints && r.Reason ==
                "30 short-lived connections to TCP 80 just ended (25 in TIME_WAIT, 5 in CLOSE_WAIT, from 6 clients); their sockets show no owner (PID 0) and are attributed to the process listening on the port");
            Assert.Equal(0, relay.OutboundConnectionCount);

            var app = findings.Single(f => f.ProcessId == 601);
            Assert.Equal(1, app.TimeWaitCount);
            Assert.Contains(app.Reasons, r => r.Reason.StartsWith("1 short-lived connections to TCP 8081", StringComparison.Ordinal) && r.Points == 0);
        }

        [Fact]
        public void ChurnOnAKnownServerOrAFewEndedConnectionsScoreNothing()
        {
            var sockets = new List<SocketEntry> { Listen(SocketProtocol.Tcp, "0.0.0.0", 80, 610), Listen(SocketProtocol.Tcp, "0.0.0.0", 443, 611) };
            sockets.AddRange(Enumerable.Range(0, 50).Select(i => Closed("10.0.0.5", 80, $"192.0.2.{1 + i}", 50000 + i, TcpState.TimeWait)));
            sockets.AddRange(Enumerable.Range(0, 5).Select(i => Closed("10.0.0.5", 443, $"192.0.2.{1 + i}", 50000 + i, TcpState.TimeWait)));
            var findings = Evaluate(sockets, new[] { Owner(610, "/usr/sbin/nginx"), Owner(611, "/opt/x/x") });
            Assert.Equal(0, findings.Single(f => f.ProcessId == 610).RiskScore);
            Assert.Equal(50, findings.Single(f => f.ProcessId == 610).TimeWaitCount);
            var small = findings.Single(f => f.ProcessId == 611);
            Assert.Equal(5, small.TimeWaitCount);
            Assert.Equal(ListenerRules.SuspiciousPortPoints, small.RiskScore);
        }

        [Theory]
        [InlineData("10.1.2.3", "10.1.0.0/16")]
        [InlineData("::ffff:10.1.2.3", "10.1.0.0/16")]
        [InlineData("2001:db8:1234:5678::1", "2001:0db8:1234::/48")]
        public void NetworksAreSlash16OrSlash48(string address, string expected)
        {
            Assert.Equal(expected, ListenerRules.NetworkOf(IPAddress.Parse(address)));
        }
    }
}
