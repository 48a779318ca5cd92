using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using FluxForensics.Capture;

namespace FluxForensics.Tests.Capture
{
    /// <summary>Live capture through libpcap on the loopback interface, with traffic the test itself sends.</summary>
    public class LiveCaptureTests
    {
        [DllImport("libc", EntryPoint = "geteuid")]
        private static extern uint GetEffectiveUserId();

        private static bool IsRoot => OperatingSystem.IsLinux() && GetEffectiveUserId() == 0;

        /// <summary>Skips when libpcap is missing; returns the interfaces otherwise.</summary>
        private static IReadOnlyList<CaptureInterface> InterfacesOrSkip()
        {
            try
            {
                return LiveCapture.GetInterfaces();
            }
            catch (CaptureLibraryMissingException e)
            {
                Skip.If(true, "libpcap is not installed: " + e.Message);
                throw;
            }
        }

        [SkippableFact]
        public void CapturesUdpSentOnLoopbackDecodesOnTheCallersThreadAndSavesPcapNg()
        {
            Skip.IfNot(IsRoot, "live capture on 'lo' needs root (or CAP_NET_RAW)");
            var interfaces = InterfacesOrSkip();
            Skip.IfNot(interfaces.Any(i => i.Name == "lo"), "no 'lo' capture interface");
            using var dir = new TempDir();
            using var receiver = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
            int port = ((IPEndPoint)receiver.Client.LocalEndPoint!).Port;
            string save = dir.Name("live.pcapng");
            int callerThread = Environment.CurrentManagedThreadId;
            var handlerThreads = new HashSet<int>();
            var payloads = new List<string>();
            Task? sender = null;
            var options = new LiveCaptureOptions
            {
                InterfaceName = "lo",
                PacketCount = 20,
                Duration = TimeSpan.FromSeconds(20), // a bound in case packets are lost; the count ends it first
                Filter = $"udp and dst port {port}",
                SavePath = save,
                Started = () => sender = Task.Run(() =>
                {
                    using var client = new UdpClient();
                    for (int i = 0; i < 20; i++)
                    {
                        var bytes = Encoding.ASCII.GetBytes($"flux-live-{i:D2}");
                        client.Send(bytes, bytes.Length, new IPEndPoint(IPAddress.Loopback, port));
                        Thread.Sleep(5);
                    }
                }),
            };

            var result = LiveCapture.Capture(options, (in DecodedPacket p) =>
            {
                handlerThreads.Add(Environment.CurrentManagedThreadId);
                Assert.Equal(TransportProtocol.Udp, p.Protocol);
                Assert.Equal((ushort)port, p.DestinationPort);
                Assert.Equal("127.0.0.1", p.Destination.ToString());
                payloads.Add(Encoding.ASCII.GetString(p.Payload));
            }, null, NullReporter.Instance, default);
            sender?.Wait();

            Assert.True(result.Completed);
            Assert.Equal("lo", result.InterfaceName);
            Assert.Equal(20, result.PacketCount);
            Assert.Equal(20, result.DecodedPacketCount);
            Assert.Equal(0, result.DroppedPacketCount);
            Assert.Equal(Enumerable.Range(0, 20).Select(i => $"flux-live-{i:D2}"), payloads);
            Assert.Equal(new[] { callerThread }, handlerThreads);
            Assert.NotNull(result.First);
            Assert.InRange(result.First!.Value, DateTime.UtcNow.AddMinutes(-1), DateTime.UtcNow.AddSeconds(1));

            var saved = ReadRun.Of(save);
            Assert.Empty(saved.Issues);
            Assert.Equal(payloads, saved.Packets.Select(p => Encoding.ASCII.GetString(p.Payload)));
            if (CaptureInteropTests.Tool("tcpdump") is not null)
            {
                Assert.Equal(20, CaptureInteropTests.CountWithTcpdump(save));
            }
        }

        private static void SendUdp(int port, string prefix, int count)
        {
            using var client = new UdpClient();
            for (int i = 0; i < count; i++)
            {
                var bytes = Encoding.ASCII.GetBytes($"{prefix}-{i}");
                client.Send(bytes, bytes.Length, new IPEndPoint(IPAddress.Loopback, port));
                Thread.Sleep(5);
            }
        }

        [SkippableFact]
        public void CapturingOnAnyDecodesLinuxCookedFrames()
        {
            Skip.IfNot(IsRoot, "live capture needs root (or CAP_NET_RAW)");
            var interfaces = InterfacesOrSkip();
            Skip.IfNot(interfaces.Any(i => i.Name == "any"), "no 'any' capture interface");
            using var receiver = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
            int port = ((IPEndPoint)receiver.Client.LocalEndPoint!).Port;
            var seen = new HashSet<string>();
            Task? sender = null;

            var result = LiveCapture.Capture(
                new LiveCaptureOptions
                {
                    InterfaceName = "any", Duration = TimeSpan.FromSeconds(1.5), Filter = $"udp and dst port {port}",
                    Started = () => sender = Task.Run(() => SendUdp(port, "any", 5)),
                },
                (in DecodedPacket p) => seen.Add(Encoding.ASCII.GetString(p.Payload)), null, NullReporter.Instance, default);
            sender?.Wait();

            Assert.True(result.Completed);
            Assert.True(result.PacketCount >= 5);
            Assert.Equal(result.PacketCount, result.DecodedPacketCount);
            Assert.Equal(Enumerable.Range(0, 5).Select(i => $"any-{i}").ToHashSet(), seen);
        }

        [SkippableFact]
        public void TcpdumpSll2CaptureOfRealTrafficIsDecoded()
        {
            Skip.IfNot(IsRoot, "tcpdump -i any needs root");
            string? tcpdump = CaptureInteropTests.Tool("tcpdump");
            Skip.If(tcpdump is null, "tcpdump is not installed (apt-get install tcpdump)");
            using var dir = new TempDir();
            using var receiver = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
            int port = ((IPEndPoint)receiver.Client.LocalEndPoint!).Port;
            string file = dir.Name("sll2.pcap");
            var psi = new System.Diagnostics.ProcessStartInfo(tcpdump!, $"-i any -y LINUX_SLL2 -U -c 5 -w \"{file}\" udp and dst port {port}")
            {
                UseShellExecute = false,
                RedirectStandardError = true,
            };
            using (var process = System.Diagnostics.Process.Start(psi)!)
            {
                var listening = new ManualResetEventSlim();
                process.ErrorDataReceived += (_, e) =>
                {
                    if (e.Data?.Contains("listening on") == true)
                    {
                        listening.Set();
                    }
                };
                process.BeginErrorReadLine();
                Skip.IfNot(listening.Wait(TimeSpan.FromSeconds(10)), "tcpdump did not start listening");
                SendUdp(port, "sll2", 5);
                if (!process.WaitForExit(10_000))
                {
                    process.Kill();
                    process.WaitForExit();
                }
            }

            var run = ReadRun.Of(file);

            Assert.Empty(run.Issues);
            Assert.Equal(5, run.Result.PacketCount);
            Assert.Equal(5, run.Packets.Count);
            Assert.All(run.Packets, p => Assert.Equal((ushort)port, p.DestinationPort));
            Assert.All(run.Packets, p => Assert.StartsWith("sll2-", Encoding.ASCII.GetString(p.Payload)));
            using var reader = new CaptureFileReader(file);
            Assert.True(reader.ReadNext());
            Assert.Equal(PacketDecoder.LinkTypeLinuxSll2, reader.LinkType);
        }

        [SkippableFact]
        public void SnapLengthCutsLiveFramesAndTheWireLengthIsKept()
        {
            Skip.IfNot(IsRoot, "live capture on 'lo' needs root (or CAP_NET_RAW)");
            InterfacesOrSkip();
            using var receiver = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
            int port = ((IPEndPoint)receiver.Client.LocalEndPoint!).Port;
            var seen = new List<(int Wire, int Payload, bool Truncated)>();
            var issues = new List<FluxForensics.Model.ParseIssue>();
            Task? sender = null;

            var result = LiveCapture.Capture(
                new LiveCaptureOptions
                {
                    InterfaceName = "lo", PacketCount = 3, Duration = TimeSpan.FromSeconds(20), SnapLength = 96, Filter = $"udp and dst port {port}",
                    Started = () => sender = Task.Run(() =>
                    {
                        using var client = new UdpClient();
                        for (int i = 0; i < 3; i++)
                        {
                            client.Send(new byte[500], 500, new IPEndPoint(IPAddress.Loopback, port));
                        }
                    }),
                },
                (in DecodedPacket p) => seen.Add((p.WireLength, p.Payload.Length, p.PayloadTruncated)), issues.Add, NullReporter.Instance, default);
            sender?.Wait();

            Assert.Equal(3, result.PacketCount);
            Assert.All(seen, s => Assert.Equal((14 + 20 + 8 + 500, 96 - 42, true), s));
            Assert.Equal(3, issues.Count);
            Assert.All(issues, i => Assert.Contains("snap length", i.Message));
        }

        [SkippableFact]
        public void DurationEndsAQuietCaptureAndCancellationEndsItEarly()
        {
            Skip.IfNot(IsRoot, "live capture on 'lo' needs root (or CAP_NET_RAW)");
            InterfacesOrSkip();
            using var quiet = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
            int port = ((IPEndPoint)quiet.Client.LocalEndPoint!).Port;
            var filter = $"udp and dst port {port}";

            var timed = LiveCapture.Capture(new LiveCaptureOptions { InterfaceName = "lo", Duration = TimeSpan.FromMilliseconds(500), Filter = filter },
                (in DecodedPacket p) => { }, null, NullReporter.Instance, default);
            Assert.True(timed.Completed);
            Assert.Equal(0, timed.PacketCount);
            Assert.True(timed.Elapsed >= TimeSpan.FromMilliseconds(500));

            using var cts = new CancellationTokenSource();
            var cancelled = LiveCapture.Capture(
                new LiveCaptureOptions { InterfaceName = "lo", Duration = TimeSpan.FromMinutes(10), Filter = filter, Started = () => cts.CancelAfter(300) },
                (in DecodedPacket p) => { }, null, NullReporter.Instance, cts.Token);
            Assert.False(cancelled.Completed);
            Assert.True(cancelled.Elapsed < TimeSpan.FromMinutes(1));
        }

        [SkippableFact]
        public void UnknownInterfaceListsTheAvailableOnes()
        {
            var interfaces = InterfacesOrSkip();
            var e = Assert.Throws<CaptureInterfaceNotFoundException>(() =>
                LiveCapture.Capture(new LiveCaptureOptions { InterfaceName = "no-such-if0", PacketCount = 1 }, (in DecodedPacket p) => { }, null, null, default));
            Assert.Contains("no-such-if0", e.Message);
            foreach (var i in interfaces)
            {
                Assert.Contains(i.Name, e.Message);
            }
        }

        [SkippableFact]
        public void InvalidFilterIsAClearError()
        {
            Skip.IfNot(IsRoot, "opening 'lo' needs root (or CAP_NET_RAW)");
            InterfacesOrSkip();
            var e = Assert.Throws<InvalidOperationException>(() =>
                LiveCapture.Capture(new LiveCaptureOptions { InterfaceName = "lo", PacketCount = 1, Filter = "this is not bpf((" }, (in DecodedPacket p) => { }, null, null, default));
            Assert.Contains("filter", e.Message);
        }

        private static int RunIp(string arguments)
        {
            var ip = new[] { "/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip" }.FirstOrDefault(File.Exists);
            if (ip is null)
            {
                return -1;
            }

            using var p = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo(ip, arguments) { UseShellExecute = false, RedirectStandardError = true })!;
            p.StandardError.ReadToEnd();
            p.WaitForExit();
            return p.ExitCode;
        }

        [SkippableFact]
        public void InterfaceRemovedDuringCaptureEndsItWithAWarningInsteadOfWaitingForTheDuration()
        {
            Skip.IfNot(IsRoot, "creating a veth pair and capturing on it needs root");
            InterfacesOrSkip();
            string name = "ffc" + (Environment.ProcessId % 100000);
            Skip.If(RunIp($"link add {name}a type veth peer name {name}b") != 0, "cannot create a veth pair here (ip link add … type veth)");
            try
            {
                RunIp($"link set {name}a up");
                RunIp($"link set {name}b up");
                var reporter = new RecordingReporter();
                var watch = System.Diagnostics.Stopwatch.StartNew();

                var result = LiveCapture.Capture(
                    new LiveCaptureOptions
                    {
                        InterfaceName = name + "a", Duration = TimeSpan.FromSeconds(60),
                        Started = () => Task.Run(() =>
                        {
                            Thread.Sleep(300);
                            RunIp($"link del {name}a");
                        }),
                    },
                    (in DecodedPacket p) => { }, null, reporter, default);

                Assert.True(watch.Elapsed < TimeSpan.FromSeconds(30), $"capture lasted {watch.Elapsed}");
                Assert.Contains(reporter.Warnings, w => w.Contains("stopped by itself"));
                Assert.True(result.Completed);
            }
            finally
            {
                RunIp($"link del {name}a"); // gone already when the test passed
            }
        }

        [Fact]
        public void MissingLibraryFailuresBecomeTheDedicatedExceptionSayingWhatToInstall()
        {
            Assert.True(LiveCapture.IsLibraryMissing(new DllNotFoundException("libpcap.so")));
            Assert.True(LiveCapture.IsLibraryMissing(new TypeInitializationException("SharpPcap.LibPcap.LibPcapSafeNativeMethods", new DllNotFoundException("wpcap"))));
            Assert.False(LiveCapture.IsLibraryMissing(new IOException("disk")));
            Assert.False(LiveCapture.IsLibraryMissing(new TypeInitializationException("X", new InvalidOperationException())));
            var e = new CaptureLibraryMissingException(new DllNotFoundException("libpcap.so"));
            Assert.Contains("libpcap0.8", e.Message);
            Assert.Contains("Npcap", e.Message);
        }

        [Fact]
        public void FrameQueueDeliversWhatWasQueuedAfterTheCaptureEndsThenReportsTheEnd()
        {
            using var queue = new LiveCapture.FrameQueue(capacity: 8, maxBytes: 1 << 20);
            queue.Enqueue(1, new byte[] { 9 }, 1);
            queue.Complete(error: true);
            var frame = new LiveCapture.FrameQueue.Frame();
            Assert.True(queue.IsCompleted);
            Assert.True(queue.EndedWithError);
            Assert.True(queue.TryDequeue(ref frame, 0));
            Assert.Equal(9, frame.Buffer[0]);
            queue.Return(ref frame);
            var watch = System.Diagnostics.Stopwatch.StartNew();
            Assert.False(queue.TryDequeue(ref frame, 0));
            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(5));
        }

        [Fact]
        public void FrameQueueDropsWhenFullInsteadOfGrowing()
        {
            using var queue = new LiveCapture.FrameQueue(capacity: 4, maxBytes: 1 << 20);
            for (int i = 0; i < 10; i++)
            {
                queue.Enqueue(i, new byte[] { (byte)i }, 1);
            }

            Assert.Equal(6, queue.Dropped);
            var frame = new LiveCapture.FrameQueue.Frame();
            var seen = new List<byte>();
            while (queue.TryDequeue(ref frame, 0))
            {
                seen.Add(frame.Buffer[0]);
                queue.Return(ref frame);
            }

            Assert.Equal(new byte[] { 0, 1, 2, 3 }, seen);
        }
    }
}
