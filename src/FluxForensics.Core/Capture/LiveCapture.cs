using System;
using System.Buffers;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Runtime.CompilerServices;
using System.Threading;
using FluxForensics.Model;

namespace FluxForensics.Capture
{
    /// <summary>What a live capture should do.</summary>
    public sealed class LiveCaptureOptions
    {
        /// <summary>The capture interface as libpcap/Npcap names it (e.g. <c>eth0</c>, <c>lo</c>, <c>\Device\NPF_{…}</c>); its Windows friendly name or its description is accepted too.</summary>
        public string InterfaceName { get; set; } = string.Empty;

        /// <summary>Stop after this long. With neither this nor <see cref="PacketCount"/>, capture runs until cancelled.</summary>
        public TimeSpan? Duration { get; set; }

        /// <summary>Stop after this many frames (decodable or not).</summary>
        public long? PacketCount { get; set; }

        /// <summary>When set, every frame seen is also written to this pcapng file.</summary>
        public string? SavePath { get; set; }

        /// <summary>Optional BPF filter (tcpdump syntax), e.g. <c>udp port 53 or tcp</c>.</summary>
        public string? Filter { get; set; }

        public int SnapLength { get; set; } = 262144;

        public bool Promiscuous { get; set; } = true;

        /// <summary>Frames the capture thread may queue before it drops (bounded memory when analysis lags).</summary>
        public int QueueCapacity { get; set; } = 65536;

        /// <summary>Bytes the queued frames may hold before the capture thread drops.</summary>
        public int QueueBytes { get; set; } = 64 * 1024 * 1024;

        /// <summary>Called on the caller's thread once the interface captures (tests start their traffic then).</summary>
        public Action? Started { get; set; }
    }

    /// <summary>A capture interface libpcap/Npcap offers.</summary>
    public sealed class CaptureInterface
    {
        internal CaptureInterface(string name, string? friendlyName, string? description, bool isLoopback, IReadOnlyList<string> addresses)
        {
            Name = name;
            FriendlyName = friendlyName;
            Description = description;
            IsLoopback = isLoopback;
            Addresses = addresses;
        }

        public string Name { get; }

        /// <summary>The name Windows shows (e.g. <c>Ethernet 2</c>); null where the OS has none.</summary>
        public string? FriendlyName { get; }

        public string? Description { get; }
        public bool IsLoopback { get; }
        public IReadOnlyList<string> Addresses { get; }

        public override string ToString() =>
            Name + (string.IsNullOrEmpty(FriendlyName) || FriendlyName == Name ? string.Empty : $" '{FriendlyName}'") +
            (string.IsNullOrEmpty(Description) ? string.Empty : $" ({Description})");
    }

    /// <summary>libpcap (Linux, macOS) or Npcap (Windows) is not installed, so live capture cannot run. Reading capture files still works.</summary>
    public sealed class CaptureLibraryMissingException : Exception
    {
        public const string Advice =
            "Live capture needs the packet capture library: on Debian/Ubuntu 'apt-get install libpcap0.8', on Fedora/RHEL 'dnf install libpcap', " +
            "on macOS it is part of the system, on Windows install Npcap (https://npcap.com) with 'WinPcap API-compatible mode'. " +
            "Reading capture files (-Path) needs no library.";

        public CaptureLibraryMissingException(Exception? inner)
            : base("The packet capture library (libpcap/Npcap) could not be loaded. " + Advice, inner)
        {
        }
    }

    /// <summary>The interface asked for does not exist; the message lists those that do.</summary>
    public sealed class CaptureInterfaceNotFoundException : ArgumentException
    {
        public CaptureInterfaceNotFoundException(string name, IReadOnlyList<CaptureInterface> available)
            : base($"No capture interface named '{name}'. Available: " +
                   (available.Count == 0 ? "none (capturing may need root/CAP_NET_RAW or Administrator)" : string.Join(", ", available.Select(a => a.ToString()))) + ".",
                "InterfaceName")
        {
            InterfaceName = name;
            Available = available;
        }

        public string InterfaceName { get; }
        public IReadOnlyList<CaptureInterface> Available { get; }
    }

    /// <summary>
    /// Live capture through SharpPcap (libpcap/Npcap). The capture thread only copies frames into a bounded queue;
    /// the caller's thread (the cmdlet's pipeline thread) decodes and calls the handler, so analysers and
    /// WriteObject never run on the capture thread. SharpPcap types stay inside this class.
    /// </summary>
    public static class LiveCapture
    {
        /// <summary>The interfaces libpcap/Npcap offers. Throws <see cref="CaptureLibraryMissingException"/> when the library is missing.</summary>
        public static IReadOnlyList<CaptureInterface> GetInterfaces()
        {
            try
            {
                return GetInterfacesCore();
            }
            catch (Exception e) when (IsLibraryMissing(e))
            {
                throw new CaptureLibraryMissingException(e);
            }
        }

        /// <summary>
        /// Captures on <see cref="LiveCaptureOptions.InterfaceName"/> until the duration or packet count is reached or
        /// <paramref name="cancellationToken"/> is cancelled (then <see cref="CaptureReadResult.Completed"/> is false),
        /// calling <paramref name="onPacket"/> on this thread for every decodable packet.
        /// </summary>
        /// <exception cref="CaptureLibraryMissingException">libpcap/Npcap is not installed.</exception>
        /// <exception cref="CaptureInterfaceNotFoundException">No such interface.</exception>
        /// <exception cref="InvalidOperationException">The interface cannot be opened (permissions) or the filter is invalid.</exception>
        public static CaptureReadResult Capture(
            LiveCaptureOptions options, PacketHandler onPacket, Action<ParseIssue>? onIssue, IFluxReporter? reporter, CancellationToken cancellationToken)
        {
            if (options is null)
            {
                throw new ArgumentNullException(nameof(options));
            }

            if (onPacket is null)
            {
                throw new ArgumentNullException(nameof(onPacket));
            }

            if (string.IsNullOrWhiteSpace(options.InterfaceName))
            {
                throw new ArgumentException("An interface name is required.", nameof(options));
            }

            try
            {
                return CaptureCore(options, onPacket, onIssue, reporter ?? NullReporter.Instance, cancellationToken);
            }
            catch (Exception e) when (IsLibraryMissing(e))
            {
                throw new CaptureLibraryMissingException(e);
            }
        }

        /// <summary>True for the ways a missing libpcap/Npcap shows itself through SharpPcap.</summary>
        internal static bool IsLibraryMissing(Exception e) =>
            e is DllNotFoundException or EntryPointNotFoundException or BadImageFormatException ||
            (e is TypeInitializationException && (e.InnerException is null || IsLibraryMissing(e.InnerException))) ||
            (e.GetType().FullName == "SharpPcap.PcapException" && e.Message.IndexOf("libpcap", StringComparison.OrdinalIgnoreCase) >= 0 &&
             e.Message.IndexOf("load", StringComparison.OrdinalIgnoreCase) >= 0);

        [MethodImpl(MethodImplOptions.NoInlining)]
        private static IReadOnlyList<CaptureInterface> GetInterfacesCore()
        {
            var list = SharpPcap.LibPcap.LibPcapLiveDeviceList.New();
            return list.Select(d => new CaptureInterface(
                    d.Name, d.Interface?.FriendlyName, d.Description, d.Loopback,
                    d.Addresses.Select(a => a.Addr?.ipAddress?.ToString()).Where(a => a is not null).Select(a => a!).ToList()))
                .ToList();
        }

        [MethodImpl(MethodImplOptions.NoInlining)]
        private static CaptureReadResult CaptureCore(
            LiveCaptureOptions options, PacketHandler onPacket, Action<ParseIssue>? onIssue, IFluxReporter reporter, CancellationToken cancellationToken)
        {
            var devices = SharpPcap.LibPcap.LibPcapLiveDeviceList.New();
            var device = devices.FirstOrDefault(d => string.Equals(d.Name, options.InterfaceName, StringComparison.Ordinal))
                         ?? devices.FirstOrDefault(d => string.Equals(d.Name, options.InterfaceName, StringComparison.OrdinalIgnoreCase))
                         ?? devices.FirstOrDefault(d => string.Equals(d.Interface?.FriendlyName, options.InterfaceName, StringComparison.OrdinalIgnoreCase))
                         ?? devices.FirstOrDefault(d => string.Equals(d.Description, options.InterfaceName, StringComparison.OrdinalIgnoreCase));
            if (device is null)
            {
                throw new CaptureInterfaceNotFoundException(options.InterfaceName, GetInterfacesCore());
            }

            string source = "interface " + device.Name;
            var result = new CaptureReadResult(options.SavePath is null ? Array.Empty<string>() : new[] { options.SavePath }) { InterfaceName = device.Name };
            var queue = new FrameQueue(Math.Max(16, options.QueueCapacity), Math.Max(1 << 20, options.QueueBytes));
            var watch = new Stopwatch();
            var configuration = new SharpPcap.DeviceConfiguration
            {
                Mode = options.Promiscuous ? SharpPcap.DeviceModes.Promiscuous : SharpPcap.DeviceModes.None,
                ReadTimeout = 100,
                Snaplen = Math.Max(64, options.SnapLength),
                Immediate = true,
            };

            try
            {
                device.Open(configuration);
            }
            catch (SharpPcap.PcapException e)
            {
                throw new InvalidOperationException(
                    $"Cannot open capture interface '{device.Name}': {e.Message}. Capturing needs root or CAP_NET_RAW/CAP_NET_ADMIN on Linux, Administrator with Npcap on Windows.", e);
            }

            PcapNgWriter? writer = null;
            try
            {
                if (!string.IsNullOrEmpty(options.Filter))
                {
                    try
                    {
                        device.Filter = options.Filter;
                    }
                    catch (SharpPcap.PcapException e)
                    {
                        throw new InvalidOperationException($"Invalid capture filter '{options.Filter}': {e.Message}", e);
                    }
                }

                int linkType = ToLinkType((int)device.LinkType);
                if (!PacketDecoder.IsSupportedLinkType(linkType))
                {
                    var issue = new ParseIssue(source, -1, $"unknown link type {linkType}: its packets are counted but not decoded", "capture interface");
                    (onIssue ?? reporter.Issue)(issue);
                    result.IssueCount++;
                }

                if (options.SavePath is not null)
                {
                    writer = PcapNgWriter.Create(options.SavePath);
                    writer.AddInterface(linkType, configuration.Snaplen, device.Name);
                }

                device.OnPacketArrival += (sender, capture) =>
                {
                    // Capture thread: copy and go. Nothing else runs here.
                    var timeval = capture.Header.Timeval;
                    long ticks = CaptureFileReader.UnixEpochTicks + (long)timeval.Seconds * TimeSpan.TicksPerSecond + (long)timeval.MicroSeconds * 10;
                    var data = capture.Data;
                    int wire = capture.Header is SharpPcap.LibPcap.PcapHeader header ? (int)Math.Min(header.PacketLength, int.MaxValue) : data.Length;
                    queue.Enqueue(ticks, data, wire);
                };

                device.OnCaptureStopped += (sender, status) => queue.Complete(status == SharpPcap.CaptureStoppedEventStatus.ErrorWhileCapturing);
                device.StartCapture();
                watch.Start();
                options.Started?.Invoke();
                Consume(options, onPacket, onIssue ?? reporter.Issue, reporter, queue, writer, linkType, result, watch, source, cancellationToken);
            }
            finally
            {
                try
                {
                    if (device.Started)
                    {
                        device.StopCapture();
                    }
                }
                catch (SharpPcap.PcapException)
                {
                    // stopping a capture that already ended
                }

                device.Close();
                writer?.Dispose();
                result.DroppedPacketCount = queue.Dropped;
                result.Elapsed = watch.Elapsed;
                queue.Dispose();
                reporter.Progress("Capturing", "Completed", 1.0);
            }

            return result;
        }

        private static void Consume(
            LiveCaptureOptions options, PacketHandler onPacket, Action<ParseIssue> onIssue, IFluxReporter reporter, FrameQueue queue, PcapNgWriter? writer,
            int linkType, CaptureReadResult result, Stopwatch watch, string source, CancellationToken cancellationToken)
        {
            long limit = options.PacketCount is long n && n > 0 ? n : long.MaxValue;
            var duration = options.Duration is TimeSpan d && d > TimeSpan.Zero ? d : (TimeSpan?)null;
            long first = long.MaxValue;
            long last = long.MinValue;
            long lastProgress = -1000;
            long truncated = 0;
            var frame = new FrameQueue.Frame();
            result.Completed = true;
            while (result.PacketCount < limit)
            {
                if (cancellationToken.IsCancellationRequested)
                {
                    result.Completed = false;
                    break;
                }

                bool timeUp = duration is TimeSpan max && watch.Elapsed >= max;
                bool ended = queue.IsCompleted;
                if (!queue.TryDequeue(ref frame, timeUp || ended ? 0 : 100))
                {
                    if (timeUp)
                    {
                        break; // the duration is over and what was queued is drained
                    }

                    if (ended)
                    {
                        // libpcap ended the capture by itself (interface gone, error): report it, keep what was seen.
                        if (queue.EndedWithError)
                        {
                            reporter.Warning($"Capture on {source} stopped by itself (interface down or capture error) after {result.PacketCount:N0} packets.");
                        }

                        break;
                    }

                    ReportProgress(reporter, watch, duration, result, ref lastProgress);
                    continue;
                }

                try
                {
                    var bytes = new ReadOnlySpan<byte>(frame.Buffer, 0, frame.Length);
                    result.PacketCount++;
                    result.PacketBytes += frame.WireLength;
                    first = Math.Min(first, frame.Ticks);
                    last = Math.Max(last, frame.Ticks);
                    writer?.WritePacket(0, frame.Ticks, bytes, frame.WireLength);
                    var status = PacketDecoder.Decode(linkType, frame.Ticks, bytes, frame.WireLength, out var packet);
                    if (status <= DecodeStatus.DecodedTruncated)
                    {
                        result.DecodedPacketCount++;
                        if (status == DecodeStatus.DecodedTruncated && ++truncated <= CaptureReader.MaxDetailedIssuesPerKind)
                        {
                            result.IssueCount++;
                            onIssue(new ParseIssue(source, result.PacketCount - 1, $"packet truncated by the snap length: {frame.Length} of {frame.WireLength} bytes captured", "packet"));
                        }

                        onPacket(in packet);
                    }
                }
                finally
                {
                    queue.Return(ref frame);
                }

                ReportProgress(reporter, watch, duration, result, ref lastProgress);
            }

            result.First = result.PacketCount > 0 ? new DateTime(first, DateTimeKind.Utc) : null;
            result.Last = result.PacketCount > 0 ? new DateTime(last, DateTimeKind.Utc) : null;
        }

        private static void ReportProgress(IFluxReporter reporter, Stopwatch watch, TimeSpan? duration, CaptureReadResult result, ref long lastProgress)
        {
            long now = watch.ElapsedMilliseconds;
            if (now - lastProgress < 250)
            {
                return;
            }

            lastProgress = now;
            double fraction = duration is TimeSpan d ? Math.Min(1.0, watch.Elapsed.TotalMilliseconds / d.TotalMilliseconds) : -1;
            reporter.Progress("Capturing", $"{result.PacketCount:N0} packets", fraction);
        }

        /// <summary>libpcap returns DLT values; files carry LINKTYPE values. They differ for raw IP.</summary>
        internal static int ToLinkType(int dlt) => dlt switch
        {
            12 or 14 => PacketDecoder.LinkTypeRaw,
            _ => dlt,
        };

        /// <summary>
        /// Bounded hand-over from the capture thread to the caller's thread: frames are copied into pooled buffers;
        /// when the queue is full (by count or bytes) the frame is dropped and counted, so a slow consumer never grows memory.
        /// </summary>
        internal sealed class FrameQueue : IDisposable
        {
            private readonly object _gate = new object();
            private readonly Frame[] _ring;
            private readonly long _maxBytes;
            private int _head;
            private int _count;
            private long _bytes;

            public FrameQueue(int capacity, long maxBytes)
            {
                _ring = new Frame[capacity];
                _maxBytes = maxBytes;
            }

            public long Dropped { get; private set; }

            /// <summary>The capture ended on its own; what is queued is still delivered.</summary>
            public bool IsCompleted { get; private set; }

            public bool EndedWithError { get; private set; }

            public void Complete(bool error)
            {
                lock (_gate)
                {
                    IsCompleted = true;
                    EndedWithError |= error;
                    Monitor.PulseAll(_gate);
                }
            }

            public struct Frame
            {
                public byte[] Buffer;
                public int Length;
                public int WireLength;
                public long Ticks;
            }

            public void Enqueue(long ticks, ReadOnlySpan<byte> data, int wireLength)
            {
                lock (_gate)
                {
                    if (_count == _ring.Length || _bytes + data.Length > _maxBytes)
                    {
                        Dropped++;
                        return;
                    }

                    var buffer = ArrayPool<byte>.Shared.Rent(Math.Max(1, data.Length));
                    data.CopyTo(buffer);
                    int tail = (_head + _count) % _ring.Length;
                    _ring[tail] = new Frame { Buffer = buffer, Length = data.Length, WireLength = Math.Max(wireLength, data.Length), Ticks = ticks };
                    _count++;
                    _bytes += data.Length;
                    if (_count == 1)
                    {
                        Monitor.Pulse(_gate);
                    }
                }
            }

            public bool TryDequeue(ref Frame frame, int timeoutMilliseconds)
            {
                lock (_gate)
                {
                    if (_count == 0 && (timeoutMilliseconds <= 0 || !Monitor.Wait(_gate, timeoutMilliseconds) || _count == 0))
                    {
                        return false;
                    }

                    frame = _ring[_head];
                    _ring[_head] = default;
                    _head = (_head + 1) % _ring.Length;
                    _count--;
                    _bytes -= frame.Length;
                    return true;
                }
            }

            public void Return(ref Frame frame)
            {
                if (frame.Buffer is not null)
                {
                    ArrayPool<byte>.Shared.Return(frame.Buffer);
                    frame = default;
                }
            }

            public void Dispose()
            {
                lock (_gate)
                {
                    while (_count > 0)
                    {
                        Return(ref _ring[_head]);
                        _head = (_head + 1) % _ring.Length;
                        _count--;
                    }
                }
            }
        }
    }
}
