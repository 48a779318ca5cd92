using System;
using System.IO;
using System.Linq;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using FluxForensics.Export;
using FluxForensics.Model;
using FluxForensics.Sweep;

namespace FluxForensics.Core.Tests.Sweep
{
    public class SweepOutputTests
    {
        private static FluxListener Listener()
        {
            var f = new FluxListener
            {
                Protocol = "Tcp", LocalAddress = "0.0.0.0", LocalPort = 80, ProcessId = 4242, ProcessName = "mobile7.exe",
                Path = @"C:\Users\alice\AppData\Roaming\mobile7.exe", CommandLine = "\"mobile7.exe\" -k \"quoted\"",
                RemotePorts = new[] { 25, 80 }, ProcessStartTime = new DateTime(2012, 5, 14, 9, 0, 1, DateTimeKind.Utc),
                Sha256 = "2d116c81a0b5015cd228394b57048a666f551a56a81031656ea466bc856fac44",
            };
            f.SetScore(new ScoreCard().Add("listens on TCP 80", 40).Add("image is hidden", 30));
            f.ComputerName = "pc17";
            f.ObservedAt = new DateTime(2026, 12, 7, 23, 1, 2, 345, DateTimeKind.Utc);
            return f;
        }

        [Fact]
        public void JsonLinesWritesOneObjectPerLineWithEnumNamesIsoUtcAndReasons()
        {
            using var buffer = new MemoryStream();
            using (var writer = new FindingJsonLines(buffer))
            {
                writer.Write(Listener());
                writer.Write(Listener());
                Assert.Equal(2, writer.Count);
            }

            string text = Encoding.UTF8.GetString(buffer.ToArray());
            Assert.False(text.StartsWith("\uFEFF", StringComparison.Ordinal), "no BOM");
            var lines = text.Split('\n');
            Assert.Equal(3, lines.Length);
            Assert.Equal(string.Empty, lines[2]);

            using var json = JsonDocument.Parse(lines[0]);
            var root = json.RootElement;
            Assert.Equal(new[] { "Kind", "ComputerName", "ObservedAt", "Severity", "RiskScore", "Source", "Reasons" },
                root.EnumerateObject().Take(7).Select(p => p.Name).ToArray());
            Assert.Equal("FluxListener", root.GetProperty("Kind").GetString());
            Assert.Equal("pc17", root.GetProperty("ComputerName").GetString());
            Assert.Equal("2026-12-07T23:01:02.3450000Z", root.GetProperty("ObservedAt").GetString());
            Assert.Equal("High", root.GetProperty("Severity").GetString());
            Assert.Equal(70, root.GetProperty("RiskScore").GetInt32());
            var reasons = root.GetProperty("Reasons").EnumerateArray().ToArray();
            Assert.Equal("listens on TCP 80", reasons[0].GetProperty("Reason").GetString());
            Assert.Equal(40, reasons[0].GetProperty("Points").GetInt32());
            Assert.Equal(80, root.GetProperty("LocalPort").GetInt32());
            Assert.Equal("\"mobile7.exe\" -k \"quoted\"", root.GetProperty("CommandLine").GetString());
            Assert.Equal("2012-05-14T09:00:01.0000000Z", root.GetProperty("ProcessStartTime").GetString());
            Assert.Equal(new[] { 25, 80 }, root.GetProperty("RemotePorts").EnumerateArray().Select(e => e.GetInt32()).ToArray());
            Assert.Equal(JsonValueKind.Null, root.GetProperty("ParentProcessId").ValueKind);
            Assert.Equal(JsonValueKind.False, root.GetProperty("IsHidden").ValueKind);
            // Every public property is there exactly once.
            var names = root.EnumerateObject().Select(p => p.Name).ToList();
            Assert.Equal(names.Count, names.Distinct().Count());
            Assert.Equal(typeof(FluxListener).GetProperties().Length, names.Count);
        }

        [Fact]
        public void RecordOfALocalTimeIsWrittenInUtc()
        {
            var local = new DateTime(2026, 6, 1, 12, 0, 0, DateTimeKind.Local);
            Assert.Equal(local.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss", System.Globalization.CultureInfo.InvariantCulture) + ".0000000Z", FindingRecord.IsoUtc(local));
        }

        [Fact]
        public void SyslogMessageIsRfc5424WithStructuredDataAndOneLine()
        {
            var record = FindingRecord.From(Listener());
            string message = SyslogMessage.Format(record, new DateTime(2026, 12, 7, 23, 5, 0, DateTimeKind.Utc), 321);
            // <PRI>VERSION SP TIMESTAMP SP HOSTNAME SP APP-NAME SP PROCID SP MSGID SP SD SP MSG
            var m = Regex.Match(message, @"^<(\d+)>1 (\S+) (\S+) (\S+) (\S+) (\S+) (\[.*?[^\\]\]) (.*)$");
            Assert.True(m.Success, message);
            Assert.Equal("11", m.Groups[1].Value); // user (1) * 8 + err (3) for High
            Assert.Equal("2026-12-07T23:05:00.000000Z", m.Groups[2].Value);
            Assert.Equal("pc17", m.Groups[3].Value);
            Assert.Equal("FluxForensics", m.Groups[4].Value);
            Assert.Equal("321", m.Groups[5].Value);
            Assert.Equal("FluxListener", m.Groups[6].Value);
            Assert.Contains("riskScore=\"70\"", m.Groups[7].Value);
            Assert.Contains("severity=\"High\"", m.Groups[7].Value);
            Assert.StartsWith("High (70) FluxListener on pc17: Tcp 0.0.0.0:80 mobile7.exe pid 4242", m.Groups[8].Value);
            Assert.Contains("+40 listens on TCP 80; +30 image is hidden", m.Groups[8].Value);
            Assert.DoesNotContain('\n', message);
        }

        [Fact]
        public void SyslogEscapesStructuredDataAndCapsTheSize()
        {
            var f = new SuspiciousAutorun { Name = "x\"]\\y", Location = "HKCU\\Run", Command = new string('a', 20000) };
            f.SetScore(new ScoreCard().Add("odd", 10));
            var record = FindingRecord.From(f);
            var withSource = new FindingRecord(record.Kind, "host with space", record.Severity, record.RiskScore, "a\"b]c", record.ObservedAt, record.Reasons, record.Properties);
            string message = SyslogMessage.Format(withSource, DateTime.UtcNow, 1);
            Assert.Contains("source=\"a\\\"b\\]c\"", message);
            Assert.Contains(" host_with_space ", message);
            Assert.StartsWith("<13>1 ", message); // Low = notice (5)
            var big = new SuspiciousAutorun { Name = new string('n', 20000) };
            big.SetScore(new ScoreCard().Add(new string('r', 20000), 90));
            Assert.True(Encoding.UTF8.GetByteCount(SyslogMessage.Format(FindingRecord.From(big), DateTime.UtcNow, 1)) <= SyslogMessage.MaxBytes);
        }

        [Theory]
        [InlineData("siem:514", SyslogTransport.Udp, "siem", 514, SyslogTransport.Udp)]
        [InlineData("tcp://10.0.0.1:6514", SyslogTransport.Udp, "10.0.0.1", 6514, SyslogTransport.Tcp)]
        [InlineData("[::1]:514", SyslogTransport.Tcp, "::1", 514, SyslogTransport.Tcp)]
        [InlineData("udp://[fe80::1]:1514", SyslogTransport.Tcp, "fe80::1", 1514, SyslogTransport.Udp)]
        public void SyslogEndpointParses(string text, SyslogTransport fallback, string host, int port, SyslogTransport transport)
        {
            Assert.True(SyslogEndpoint.TryParse(text, fallback, out var endpoint, out var error), error);
            Assert.Equal(host, endpoint!.Host);
            Assert.Equal(port, endpoint.Port);
            Assert.Equal(transport, endpoint.Transport);
        }

        [Theory]
        [InlineData("siem")]
        [InlineData("siem:0")]
        [InlineData("siem:70000")]
        [InlineData("::1:514")]
        [InlineData("[::1]514")]
        public void SyslogEndpointRefusesWhatIsNotHostPort(string text)
        {
            Assert.False(SyslogEndpoint.TryParse(text, SyslogTransport.Udp, out _, out var error));
            Assert.False(string.IsNullOrEmpty(error));
        }

        [Fact]
        public async System.Threading.Tasks.Task SyslogSenderFramesTcpByOctetCountingAndUdpOnePerDatagram()
        {
            var record = FindingRecord.From(Listener());
            string message = SyslogMessage.Format(record, DateTime.UtcNow, 1);

            // Not `using`: TcpListener is IDisposable only on .NET, and this file is also compiled for net472 (Mono lane).
            var tcp = new TcpListener(IPAddress.Loopback, 0);
            tcp.Start();
            int port = ((IPEndPoint)tcp.LocalEndpoint).Port;
            Assert.True(SyslogEndpoint.TryParse($"tcp://127.0.0.1:{port}", SyslogTransport.Udp, out var endpoint, out _));
            var accept = tcp.AcceptTcpClientAsync();
            using (var sender = SyslogSender.Network(endpoint!))
            {
                sender.Send(message);
                sender.Send(message);
            }

            using var client = await accept;
            using var reader = new MemoryStream();
            client.GetStream().CopyTo(reader);
            string received = Encoding.UTF8.GetString(reader.ToArray());
            tcp.Stop();
            string frame = Encoding.UTF8.GetByteCount(message) + " " + message;
            Assert.Equal(frame + frame, received);

            using var udp = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
            int udpPort = ((IPEndPoint)udp.Client.LocalEndPoint!).Port;
            Assert.True(SyslogEndpoint.TryParse($"127.0.0.1:{udpPort}", SyslogTransport.Udp, out var udpEndpoint, out _));
            using (var sender = SyslogSender.Network(udpEndpoint!))
            {
                sender.Send(message);
            }

            IPEndPoint? from = null;
            Assert.Equal(message, Encoding.UTF8.GetString(udp.Receive(ref from)));
        }

        [Fact]
        public void ExitCodeFindingsWinOverErrorsAndErrorsAloneGiveTwo()
        {
            var clean = new SweepOutcome(Severity.High);
            clean.AddFinding(Severity.Medium);
            Assert.Equal(0, clean.ExitCode);

            var errorsOnly = new SweepOutcome(Severity.High);
            var unreachable = new SweepTally("pc9", "SSH") { Status = SweepStatus.Unreachable };
            errorsOnly.AddResult(unreachable.ToResult());
            errorsOnly.AddFinding(Severity.Medium);
            Assert.Equal(2, errorsOnly.ExitCode);

            var both = new SweepOutcome(Severity.High);
            both.AddResult(unreachable.ToResult());
            var infected = new SweepTally("pc17", "SSH");
            infected.AddFinding(Severity.Critical);
            infected.AddError("Autorun: access denied");
            both.AddResult(infected.ToResult());
            Assert.Equal(1, both.ExitCode);

            var lowThreshold = new SweepOutcome(Severity.Medium);
            lowThreshold.AddFinding(Severity.Medium);
            Assert.Equal(1, lowThreshold.ExitCode);
        }

        [Fact]
        public void TallyCountsBySeverityAndKeepsTheMaximum()
        {
            var tally = new SweepTally("pc17", "Local");
            Assert.Null(tally.ToResult().MaxSeverity);
            foreach (var s in new[] { Severity.Info, Severity.Info, Severity.High, Severity.Low, Severity.Critical, Severity.High })
            {
                tally.AddFinding(s);
            }

            var r = tally.ToResult();
            Assert.Equal((6, 2, 1, 0, 2, 1), (r.FindingCount, r.InfoCount, r.LowCount, r.MediumCount, r.HighCount, r.CriticalCount));
            Assert.Equal(Severity.Critical, r.MaxSeverity);
            Assert.Equal(SweepStatus.Completed, r.Status);
            Assert.Equal("Local", r.Transport);
        }

        [Fact]
        public void SystemdUnitsQuoteTheCommandAndRunOnTheInterval()
        {
            var command = new PowerShellCommandText("Import-Module FluxForensics").Statement("Invoke-FluxSweep")
                .Values("HostName", new[] { "web01", "o'brien" }).Value("OutputPath", "/var/log/flux $HOME%.jsonl").Switch("SetExitCode", true).ToString();
            Assert.Equal("Import-Module FluxForensics; Invoke-FluxSweep -HostName 'web01','o''brien' -OutputPath '/var/log/flux $HOME%.jsonl' -SetExitCode", command);
            var schedule = new SweepSchedule("FluxSweep", TimeSpan.FromMinutes(30), "/usr/bin/pwsh", Array.Empty<string>(), command);
            string service = schedule.SystemdService();
            Assert.Contains("Type=oneshot", service);
            Assert.Contains("ExecStart=\"/usr/bin/pwsh\" \"-NoLogo\" \"-NoProfile\" \"-NonInteractive\" \"-Command\" \"Import-Module FluxForensics; Invoke-FluxSweep -HostName 'web01','o''brien' -OutputPath '/var/log/flux $$HOME%%.jsonl' -SetExitCode\"", service);
            string timer = schedule.SystemdTimer();
            Assert.Contains("OnUnitActiveSec=1800s", timer);
            Assert.Contains("Unit=fluxsweep.service", timer);
            Assert.Contains("WantedBy=timers.target", timer);
            Assert.Throws<ArgumentException>(() => new SweepSchedule("../etc", TimeSpan.FromHours(1), "pwsh", Array.Empty<string>(), "x"));
            Assert.Throws<ArgumentOutOfRangeException>(() => new SweepSchedule("ok", TimeSpan.FromSeconds(5), "pwsh", Array.Empty<string>(), "x"));
        }

        [Fact]
        public void WindowsTaskArgumentsCarryTheCommandEncoded()
        {
            var schedule = new SweepSchedule("FluxSweep", TimeSpan.FromHours(1), @"C:\Program Files\PowerShell\7\pwsh.exe", Array.Empty<string>(), "Invoke-FluxSweep -OutputPath 'C:\\x y\\s.jsonl'");
            string arguments = schedule.WindowsTaskArguments();
            var m = Regex.Match(arguments, "^-NoLogo -NoProfile -NonInteractive -EncodedCommand ([A-Za-z0-9+/=]+)$");
            Assert.True(m.Success, arguments);
            Assert.Equal(schedule.Command, Encoding.Unicode.GetString(Convert.FromBase64String(m.Groups[1].Value)));
            Assert.Equal("\"a b\\\\\"", SweepSchedule.WindowsQuote("a b\\"));
            Assert.Equal("\"say \\\"hi\\\"\"", SweepSchedule.WindowsQuote("say \"hi\""));
        }

        [Fact]
        public void EventIdsAndEntryTypesFollowSeverity()
        {
            Assert.Equal(new[] { 1000, 1001, 1002, 1003, 1004 }, Enum.GetValues(typeof(Severity)).Cast<Severity>().Select(WindowsEventLog.EventIdOf).ToArray());
            Assert.Equal(1, WindowsEventLog.EntryTypeOf(Severity.Critical));
            Assert.Equal(1, WindowsEventLog.EntryTypeOf(Severity.High));
            Assert.Equal(2, WindowsEventLog.EntryTypeOf(Severity.Medium));
            Assert.Equal(4, WindowsEventLog.EntryTypeOf(Severity.Low));
        }
    }
}
