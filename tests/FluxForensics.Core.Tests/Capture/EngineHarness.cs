using System.Collections.Generic;
using FluxForensics.Model;

namespace FluxForensics.Capture
{
    /// <summary>
    /// The capture engine with one worker, driven packet by packet the way the DNS tests look at it: the DNS
    /// correlator's tables, its message count and the hosts it found answering DNS.
    /// </summary>
    internal sealed class DnsAnalyzer
    {
        private readonly CaptureEngine _engine;

        public DnsAnalyzer(CaptureAnalysisContext context)
        {
            _engine = new CaptureEngine(context);
        }

        public IAsnLookup? AsnLookup
        {
            get => _engine.Dns.AsnLookup;
            set => _engine.Dns.AsnLookup = value;
        }

        public long MessageCount => _engine.Dns.MessageCount;

        public IReadOnlyList<DnsNameObservation> Names => _engine.Dns.Names;

        public HashSet<NetAddress> DnsAnswerers => _engine.Dns.DnsAnswerers;

        public void OnPacket(in DecodedPacket packet) => _engine.OnPacket(in packet);

        public IReadOnlyList<FluxFinding> Complete() => _engine.Complete();
    }

    /// <summary>
    /// The capture engine with one worker, driven packet by packet the way the relay tests look at it: the TCP side of
    /// the worker (reassembler, carved files) and the relay correlator (pairs, conversations left unpaired). Its
    /// findings are the relay correlator's, without the DNS ones.
    /// </summary>
    internal sealed class RelayAnalyzer
    {
        public RelayAnalyzer(CaptureAnalysisContext context)
        {
            Engine = new CaptureEngine(context);
        }

        public CaptureEngine Engine { get; }

        public IReadOnlyList<RelayConversation> Conversations => Engine.Relay.Conversations;

        public IReadOnlyList<RelayCarvedFile> CarvedFiles => Engine.Worker.Tcp.CarvedFiles;

        public long PairCount => Engine.Relay.PairCount;

        public long DroppedConversations => Engine.Relay.DroppedConversations;

        public long LateFiles => Engine.Relay.LateFiles;

        public TcpReassembler Reassembler => Engine.Worker.Tcp.Reassembler;

        public HashSet<NetAddress> RelayHosts => Engine.Relay.RelayHosts;

        public long FlowCount => Engine.Worker.FlowCount;

        public void OnPacket(in DecodedPacket packet) => Engine.OnPacket(in packet);

        public IReadOnlyList<FluxFinding> Complete()
        {
            Engine.EndFlows();
            Engine.Writer?.Complete();
            Engine.Geo?.Dispose();
            return Engine.Findings;
        }
    }
}
