using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using FluxForensics.Model;

namespace FluxForensics.Capture
{
    /// <summary>
    /// One capture analysis: reads the packets (files or a live interface), feeds every analyser, and collects the
    /// findings with a <see cref="CaptureSummary"/> always last. Cancellation stops the reading promptly; what was
    /// seen until then is still judged and returned (the summary then says Completed = false).
    /// </summary>
    public sealed class CaptureAnalysis
    {
        private readonly CaptureAnalysisOptions _options;
        private readonly IFluxReporter _reporter;
        private readonly List<FluxFinding> _findings = new List<FluxFinding>();

        public CaptureAnalysis(CaptureAnalysisOptions options, IFluxReporter? reporter)
        {
            _options = options ?? throw new ArgumentNullException(nameof(options));
            _reporter = reporter ?? NullReporter.Instance;
        }

        /// <summary>Findings so far (the summary included once the analysis ended); readable after a Ctrl+C.</summary>
        public IReadOnlyList<FluxFinding> Findings => _findings;

        /// <summary>Analyses capture files as one continuous capture.</summary>
        public IReadOnlyList<FluxFinding> AnalyzeFiles(IReadOnlyList<string> paths, CancellationToken cancellationToken)
        {
            string source = string.Join(", ", paths);
            var position = new CapturePosition();
            return Run(source, cancellationToken, (onPacket, onIssue) => CaptureReader.Read(paths, onPacket, onIssue, _reporter, cancellationToken, position), position);
        }

        /// <summary>Analyses a live capture (the capture thread queues, this thread analyses).</summary>
        public IReadOnlyList<FluxFinding> AnalyzeLive(LiveCaptureOptions live, CancellationToken cancellationToken)
        {
            return Run("Live", cancellationToken, (onPacket, onIssue) => LiveCapture.Capture(live, onPacket, onIssue, _reporter, cancellationToken), null);
        }

        private IReadOnlyList<FluxFinding> Run(
            string source, CancellationToken cancellationToken, Func<PacketHandler, Action<ParseIssue>, CaptureReadResult> read, CapturePosition? position)
        {
            _findings.Clear();
            var context = new CaptureAnalysisContext(_options, _reporter, source, cancellationToken);
            var analyzers = context.CreateAnalyzers();
            var feed = analyzers.ToArray();
            // TCP connections are counted by the relay analyser's reassembler as it opens them (context.FlowCount);
            // the counter then keeps the UDP and other 5-tuples only, and TCP packets cost it nothing.
            bool tcpCounted = feed.OfType<RelayAnalyzer>().Any();
            var flows = new CaptureFlowCounter(_options.FlowTimeout, countTcp: !tcpCounted);
            DnsAnalyzer? dns = feed.OfType<DnsAnalyzer>().FirstOrDefault();
            if (dns is not null && position is not null)
            {
                // DNS issues name the file and record of the packet that carried the bad message.
                dns.Position = () => (position.File ?? source, position.Offset);
            }

            void OnPacket(in DecodedPacket packet)
            {
                flows.Observe(packet);
                for (int i = 0; i < feed.Length; i++)
                {
                    feed[i].OnPacket(packet);
                }
            }

            CaptureReadResult? result = null;
            try
            {
                result = read(OnPacket, context.AddIssue);
            }
            finally
            {
                // Even when reading failed midway, judge what was seen.
                foreach (var analyzer in analyzers)
                {
                    try
                    {
                        _findings.AddRange(analyzer.Complete());
                    }
                    catch (Exception e) when (e is not OutOfMemoryException)
                    {
                        _reporter.Error(new FluxError("CaptureAnalyzerFailed", FluxErrorCategory.InvalidOperation, analyzer.GetType().Name,
                            $"The {analyzer.GetType().Name} failed while judging the capture: {e.Message}", e));
                    }
                }
            }

            bool completed = result!.Completed && !cancellationToken.IsCancellationRequested;
            var summary = new CaptureSummary
            {
                Files = result.Files.ToArray(),
                PacketCount = result.PacketCount,
                ByteCount = result.ByteCount,
                FirstPacketTime = result.First,
                LastPacketTime = result.Last,
                TimeSpan = result.First.HasValue && result.Last.HasValue ? result.Last.Value - result.First.Value : (TimeSpan?)null,
                FlowCount = tcpCounted ? flows.Count + context.FlowCount : flows.Count,
                DnsMessageCount = dns?.MessageCount ?? 0,
                PacketsPerSecond = Math.Round(result.PacketsPerSecond),
                Elapsed = result.Elapsed,
                Completed = completed,
                ParseIssues = context.Issues.ToArray(),
                ParseIssueCount = Math.Max(context.IssueCount, result.IssueCount),
                Source = source,
            };
            var card = new ScoreCard();
            if (!completed)
            {
                card.Add("the analysis was stopped before the end of the capture: findings cover what was read", 0);
            }

            summary.SetScore(card);
            _findings.Add(summary);
            return _findings;
        }
    }

    /// <summary>
    /// Counts distinct TCP/UDP 5-tuples (both directions as one flow). Idle flows are forgotten after the flow
    /// timeout, so memory follows the flows alive at one time, not the length of the capture.
    /// </summary>
    internal sealed class CaptureFlowCounter
    {
        private readonly Dictionary<FlowKey, long> _lastSeen = new Dictionary<FlowKey, long>();
        private readonly long _timeoutTicks;
        private long _nextSweep;
        private readonly List<FlowKey> _expired = new List<FlowKey>();

        private readonly bool _countTcp;

        /// <param name="timeout">A 5-tuple idle for longer is forgotten; seen again, it counts as a new flow.</param>
        /// <param name="countTcp">Count TCP 5-tuples too (false when a reassembler counts TCP connections itself).</param>
        public CaptureFlowCounter(TimeSpan timeout, bool countTcp = true)
        {
            _timeoutTicks = Math.Max(TimeSpan.TicksPerSecond, timeout.Ticks);
            _countTcp = countTcp;
        }

        public long Count { get; private set; }

        public void Observe(in DecodedPacket packet)
        {
            if (packet.Protocol == TransportProtocol.Other || (!_countTcp && packet.Protocol == TransportProtocol.Tcp))
            {
                return;
            }

            var key = FlowKey.Of(packet);
            long now = packet.TimestampTicks;
#if NET8_0_OR_GREATER
            ref long slot = ref System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(_lastSeen, key, out bool exists);
            if (!exists || now - slot > _timeoutTicks)
            {
                Count++;
            }

            slot = now;
#else
            if (!_lastSeen.TryGetValue(key, out long last) || now - last > _timeoutTicks)
            {
                Count++;
            }

            _lastSeen[key] = now;
#endif
            if (now >= _nextSweep)
            {
                Sweep(now);
            }
        }

        private void Sweep(long now)
        {
            if (_nextSweep != 0)
            {
                foreach (var pair in _lastSeen)
                {
                    if (now - pair.Value > _timeoutTicks)
                    {
                        _expired.Add(pair.Key);
                    }
                }

                foreach (var key in _expired)
                {
                    _lastSeen.Remove(key);
                }

                _expired.Clear();
            }

            _nextSweep = now + _timeoutTicks;
        }

        private readonly struct FlowKey : IEquatable<FlowKey>
        {
            private readonly NetAddress _low;
            private readonly NetAddress _high;
            private readonly uint _ports;
            private readonly byte _protocol;

            private FlowKey(NetAddress low, NetAddress high, uint ports, byte protocol)
            {
                _low = low;
                _high = high;
                _ports = ports;
                _protocol = protocol;
            }

            public static FlowKey Of(in DecodedPacket p)
            {
                int c = p.Source.CompareTo(p.Destination);
                bool forward = c < 0 || (c == 0 && p.SourcePort <= p.DestinationPort);
                return forward
                    ? new FlowKey(p.Source, p.Destination, ((uint)p.SourcePort << 16) | p.DestinationPort, (byte)p.Protocol)
                    : new FlowKey(p.Destination, p.Source, ((uint)p.DestinationPort << 16) | p.SourcePort, (byte)p.Protocol);
            }

            public bool Equals(FlowKey other) => _ports == other._ports && _protocol == other._protocol && _low == other._low && _high == other._high;
            public override bool Equals(object? obj) => obj is FlowKey other && Equals(other);
            public override int GetHashCode() => _low.GetHashCode() ^ (_high.GetHashCode() * 397) ^ (int)_ports ^ (_protocol << 24);
        }
    }
}
