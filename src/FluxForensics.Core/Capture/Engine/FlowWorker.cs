using System;
using System.Runtime.CompilerServices;

namespace FluxForensics.Capture
{
    /// <summary>
    /// One worker of the capture engine: its share of the flows (the packets of an address pair always come to the same
    /// worker), the flow table and TCP reassembly, and the per-flow protocol analysers: DNS (UDP and TCP) and the TCP
    /// application conversations (SMTP, FTP control and data, HTTP). What they find goes to
    /// <see cref="ICaptureTransactions"/> in the worker's packet order. Time sweeps and the end of the capture come from
    /// the engine at the same point of the capture for every worker, so the result does not depend on the spread.
    /// </summary>
    internal sealed class FlowWorker
    {
        private readonly CaptureFlowCounter _flows;

        public FlowWorker(CaptureAnalysisOptions options, string source, ICaptureTransactions sink, CarvedHashCache? hashCache = null)
        {
            // TCP connections are counted by the reassembler as it opens them; the counter keeps the UDP 5-tuples.
            _flows = new CaptureFlowCounter(options.FlowTimeout, countTcp: false);
            Tcp = new TcpSessionAnalyzer(options, source, sink, hashCache);
            Tcp.Reassembler.SweepsItself = false;
            Dns = new DnsFlowAnalyzer(sink);
        }

        public TcpSessionAnalyzer Tcp { get; }

        public DnsFlowAnalyzer Dns { get; }

        /// <summary>Flows seen by this worker (TCP connections and UDP 5-tuples).</summary>
        public long FlowCount => _flows.Count + Tcp.FlowCount;

        /// <param name="packet">A decoded packet, valid during the call.</param>
        /// <param name="packetIndex">The packet's position among the decoded packets of the whole capture (from 1).</param>
        /// <param name="file">The capture file of the packet, for parse issues (null when live).</param>
        /// <param name="offset">The offset of the packet's record in <paramref name="file"/>, or -1.</param>
        [MethodImpl(Jit.Hot)]
        public void OnPacket(in DecodedPacket packet, long packetIndex, string? file, long offset)
        {
            _flows.Observe(in packet);
            if (packet.Protocol == TransportProtocol.Tcp)
            {
                Tcp.OnPacket(in packet, packetIndex);
            }

            Dns.OnPacket(in packet, file, offset);
        }

        /// <summary>Closes the flows idle for the flow timeout at capture time <paramref name="now"/>.</summary>
        public void ExpireIdle(long now) => Tcp.ExpireIdle(now);

        /// <summary>End of the capture (or of what was read before a stop): every open flow is closed.</summary>
        public void End() => Tcp.CloseAll();
    }

    /// <summary>When the engine sweeps idle flows: a quarter of the flow timeout of capture time, at least a second.</summary>
    internal sealed class SweepClock
    {
        private readonly long _every;
        private long _last;
        private long _now;

        public SweepClock(TimeSpan flowTimeout)
        {
            long timeout = Math.Max(TimeSpan.TicksPerSecond, flowTimeout.Ticks);
            _every = Math.Max(TimeSpan.TicksPerSecond, timeout / 4);
        }

        /// <summary>True when a packet at <paramref name="ticks"/> is due a sweep of idle flows before it is analysed.</summary>
        public bool Due(long ticks)
        {
            if (ticks <= _now)
            {
                return false;
            }

            _now = ticks;
            if (_last == 0)
            {
                _last = ticks;
                return false;
            }

            if (ticks - _last < _every)
            {
                return false;
            }

            _last = ticks;
            return true;
        }
    }
}
