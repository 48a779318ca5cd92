using System;
using System.Runtime.CompilerServices;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using FluxForensics.Model;

namespace FluxForensics.Capture
{
    /// <summary>
    /// One capture analysis, wired here and only here: the reader (files or a live interface) decodes packets; the
    /// packets of each address pair go to one of <see cref="CaptureAnalysisOptions.Workers"/> flow workers (flow
    /// table, TCP reassembly, one analyser per protocol); what the workers find goes, in capture order, to the
    /// correlators (DNS tables and flux scoring; relay pairing, credentials and downloads); carved files go to the
    /// writer. Findings reach the caller as soon as they are final; DNS and flux findings come when the capture ends,
    /// and the <see cref="CaptureSummary"/> last. The same capture gives the same findings in the same order for any
    /// number of workers. Cancellation stops the reading promptly; what was read is still judged.
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

        /// <summary>Findings collected by the overloads that return a list (the summary last once the analysis ended).</summary>
        public IReadOnlyList<FluxFinding> Findings => _findings;

        /// <summary>Analyses capture files as one continuous capture and returns every finding.</summary>
        public IReadOnlyList<FluxFinding> AnalyzeFiles(IReadOnlyList<string> paths, CancellationToken cancellationToken)
        {
            _findings.Clear();
            AnalyzeFiles(paths, _findings.Add, cancellationToken);
            return _findings;
        }

        /// <summary>
        /// Analyses capture files as one continuous capture, handing each finding to <paramref name="onFinding"/> (on
        /// this thread) as soon as it is final; returns the summary, which was handed over last.
        /// </summary>
        public CaptureSummary AnalyzeFiles(IReadOnlyList<string> paths, Action<FluxFinding> onFinding, CancellationToken cancellationToken)
        {
            if (paths is null)
            {
                throw new ArgumentNullException(nameof(paths));
            }

            string source = string.Join(", ", paths);
            return new CaptureRun(_options, _reporter, source, onFinding)
                .Run((onPacket, onIssue, reporter, token, position) => CaptureReader.Read(paths, onPacket, onIssue, reporter, token, position), cancellationToken);
        }

        /// <summary>Analyses a live capture and returns every finding.</summary>
        public IReadOnlyList<FluxFinding> AnalyzeLive(LiveCaptureOptions live, CancellationToken cancellationToken)
        {
            _findings.Clear();
            AnalyzeLive(live, _findings.Add, cancellationToken);
            return _findings;
        }

        /// <summary>Analyses a live capture through the same pipeline as files, streaming findings as they are final.</summary>
        public CaptureSummary AnalyzeLive(LiveCaptureOptions live, Action<FluxFinding> onFinding, CancellationToken cancellationToken)
        {
            return new CaptureRun(_options, _reporter, "Live", onFinding)
                .Run((onPacket, onIssue, reporter, token, position) => LiveCapture.Capture(live, onPacket, onIssue, reporter, token), cancellationToken);
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

        [MethodImpl(Jit.Hot)]
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
