using System;
using System.Runtime.CompilerServices;
using System.Buffers;
using System.Collections.Generic;

namespace FluxForensics.Capture
{
    /// <summary>Why a TCP flow left the flow table.</summary>
    public enum TcpCloseReason
    {
        Fin,
        Reset,
        Timeout,
        EndOfCapture,
    }

    /// <summary>What consumes the reassembled byte streams of TCP flows.</summary>
    internal interface ITcpStreamHandler
    {
        /// <summary>A new flow entered the table (SYN, or data of a connection picked up mid-stream).</summary>
        void OnOpen(TcpFlow flow);

        /// <summary>In-order bytes of one direction. The span is valid only during the call.</summary>
        void OnData(TcpFlow flow, bool fromClient, ReadOnlySpan<byte> data, long ticks);

        /// <summary>Bytes that were never seen (lost, or not captured): the stream jumps forward by <paramref name="missing"/>.</summary>
        void OnGap(TcpFlow flow, bool fromClient, long missing, long ticks);

        /// <summary>
        /// The flow starts to leave the table: what it still delivers (held segments, the gaps before them) and its
        /// <see cref="OnClose"/> follow, all part of this close.
        /// </summary>
        void OnClosing(TcpFlow flow);

        /// <summary>The flow is leaving the table; no more calls for it.</summary>
        void OnClose(TcpFlow flow, TcpCloseReason reason);
    }

    /// <summary>
    /// The 5-tuple of a TCP flow in canonical order (lower endpoint first), so both directions find the same entry.
    /// A struct key: looking a packet up allocates nothing.
    /// </summary>
    internal readonly struct TcpFlowKey : IEquatable<TcpFlowKey>
    {
        private readonly NetAddress _a;
        private readonly NetAddress _b;
        private readonly ushort _aPort;
        private readonly ushort _bPort;

        public TcpFlowKey(NetAddress source, ushort sourcePort, NetAddress destination, ushort destinationPort)
        {
            int c = source.CompareTo(destination);
            if (c < 0 || (c == 0 && sourcePort <= destinationPort))
            {
                _a = source; _aPort = sourcePort; _b = destination; _bPort = destinationPort;
            }
            else
            {
                _a = destination; _aPort = destinationPort; _b = source; _bPort = sourcePort;
            }
        }

        public bool Equals(TcpFlowKey other) =>
            _aPort == other._aPort && _bPort == other._bPort && _a.Equals(other._a) && _b.Equals(other._b);

        public override bool Equals(object? obj) => obj is TcpFlowKey other && Equals(other);

        public override int GetHashCode()
        {
            unchecked
            {
                int h = _a.GetHashCode();
                h = (h * 397) ^ _b.GetHashCode();
                return (h * 397) ^ (_aPort << 16 | _bPort);
            }
        }
    }

    /// <summary>One direction of a TCP flow: where the stream is, and segments that arrived ahead of it.</summary>
    internal sealed class TcpDirection
    {
        public bool HasStart;
        public uint NextSequence;
        public bool FinSeen;
        public uint FinSequence;
        public long DeliveredBytes;
        public long MissingBytes;
        public long RetransmittedBytes;
        public int BufferedBytes;
        public List<TcpPendingSegment>? Pending;
    }

    /// <summary>An out-of-order segment held until the hole before it fills; its bytes are rented from the shared pool.</summary>
    internal struct TcpPendingSegment
    {
        public uint Sequence;
        public byte[] Buffer;
        public int Length;
    }

    /// <summary>One TCP connection, client and server decided by the SYN (or by ports when picked up mid-stream).</summary>
    internal sealed class TcpFlow
    {
        public TcpFlow(long id, NetAddress client, ushort clientPort, NetAddress server, ushort serverPort, long ticks)
        {
            Id = id;
            Client = client;
            ClientPort = clientPort;
            Server = server;
            ServerPort = serverPort;
            StartTicks = ticks;
            LastTicks = ticks;
        }

        public long Id { get; }
        public NetAddress Client { get; }
        public ushort ClientPort { get; }
        public NetAddress Server { get; }
        public ushort ServerPort { get; }
        public long StartTicks { get; }
        public long LastTicks { get; set; }
        public bool SawSyn { get; set; }
        public bool PickedUpMidStream { get; set; }
        public bool Closed { get; set; }
        public readonly TcpDirection FromClient = new TcpDirection();
        public readonly TcpDirection FromServer = new TcpDirection();

        /// <summary>What the stream handler keeps for this flow.</summary>
        public object? State { get; set; }

        public override string ToString() => $"{Client}:{ClientPort} -> {Server}:{ServerPort}";
    }

    /// <summary>
    /// Reassembles TCP byte streams in both directions from packets in capture order.
    /// <para>
    /// Policy for retransmissions and overlaps: <b>the first copy of a byte wins</b>. Bytes already delivered are
    /// never replaced by a later copy; a retransmission that brings new bytes past the stream position delivers only
    /// those. Out-of-order segments wait (per direction, at most <see cref="CaptureAnalysisOptions.MaxBufferedBytesPerFlow"/>
    /// bytes) sorted by sequence, earlier arrivals before later ones at the same sequence, and are trimmed against the
    /// stream position as they drain, so the same rule holds for them. All flows together hold at most
    /// <see cref="CaptureAnalysisOptions.MaxBufferedBytesTotal"/>: a segment that would pass it makes its own direction
    /// stop waiting for its hole instead, so memory stays bounded however many flows have holes.
    /// </para>
    /// <para>
    /// Holes are never filled with invented bytes: when the buffer cap is reached, the flow closes or the capture ends,
    /// the stream jumps over the hole and the handler is told how many bytes are missing (<see cref="ITcpStreamHandler.OnGap"/>).
    /// Sequence numbers are compared modulo 2^32, so streams that wrap are followed.
    /// </para>
    /// <para>
    /// Flows leave the table on RST, when both FINs have been delivered, and after <see cref="CaptureAnalysisOptions.FlowTimeout"/>
    /// of capture time without a packet, so memory follows open flows. Packets without payload allocate nothing.
    /// </para>
    /// </summary>
    internal sealed class TcpReassembler
    {
        private readonly Dictionary<TcpFlowKey, TcpFlow> _flows = new Dictionary<TcpFlowKey, TcpFlow>();
        private readonly ITcpStreamHandler _handler;
        private readonly int _maxBuffered;
        private readonly long _maxBufferedTotal;
        private long _bufferedTotal;
        private readonly long _timeoutTicks;
        private readonly long _sweepEveryTicks;
        private long _lastSweep;
        private long _nextId;
        private long _nowTicks;

        public TcpReassembler(CaptureAnalysisOptions options, ITcpStreamHandler handler)
        {
            _handler = handler;
            _maxBuffered = Math.Max(1024, options.MaxBufferedBytesPerFlow);
            _maxBufferedTotal = Math.Max(_maxBuffered, options.MaxBufferedBytesTotal);
            _timeoutTicks = Math.Max(TimeSpan.TicksPerSecond, options.FlowTimeout.Ticks);
            _sweepEveryTicks = Math.Max(TimeSpan.TicksPerSecond, _timeoutTicks / 4);
        }

        /// <summary>
        /// Global index of the packet being handed in (set by the worker before each packet): a new flow takes it as its
        /// id, so flows are named the same whichever worker holds them. -1: flows are numbered 1, 2, 3 … instead.
        /// </summary>
        public long PacketIndex { get; set; } = -1;

        /// <summary>
        /// Whether the reassembler expires idle flows by itself as packet time passes (alone), or only when
        /// <see cref="ExpireIdle"/> is called (in the capture engine, where every worker sweeps at the same point of
        /// the capture so the result does not depend on how packets were spread).
        /// </summary>
        public bool SweepsItself { get; set; } = true;

        /// <summary>Flows created so far (SYN or mid-stream pickup).</summary>
        public long FlowsCreated { get; private set; }

        public int OpenFlowCount => _flows.Count;

        /// <summary>Largest number of flows open at once: what memory followed.</summary>
        public int PeakOpenFlows { get; private set; }

        public long RetransmittedBytes { get; private set; }

        /// <summary>Out-of-order bytes held right now by all flows.</summary>
        public long BufferedBytes => _bufferedTotal;

        /// <summary>Largest number of out-of-order bytes held at once.</summary>
        public long PeakBufferedBytes { get; private set; }

        [MethodImpl(Jit.Hot)]
        public void OnPacket(in DecodedPacket packet)
        {
            if (packet.Protocol != TransportProtocol.Tcp)
            {
                return;
            }

            long ticks = packet.TimestampTicks;
            if (SweepsItself && ticks > _nowTicks)
            {
                _nowTicks = ticks;
                if (_lastSweep == 0)
                {
                    _lastSweep = ticks;
                }
                else if (ticks - _lastSweep >= _sweepEveryTicks)
                {
                    _lastSweep = ticks;
                    ExpireIdle(ticks);
                }
            }

            var key = new TcpFlowKey(packet.Source, packet.SourcePort, packet.Destination, packet.DestinationPort);
            var flags = packet.TcpFlags;
            if (!_flows.TryGetValue(key, out var flow))
            {
                bool syn = (flags & TcpFlags.Syn) != 0;
                if ((flags & TcpFlags.Rst) != 0 || (!syn && packet.Payload.IsEmpty))
                {
                    // A bare ACK/FIN/RST of a flow we do not hold (closed already, or before the capture): nothing to follow.
                    return;
                }

                flow = CreateFlow(in packet, key);
            }
            else if ((flags & TcpFlags.Syn) != 0 && (flags & TcpFlags.Ack) == 0 && flow.SawSyn && packet.Source == flow.Client &&
                     flow.FromClient.HasStart && packet.Sequence + 1 != flow.FromClient.NextSequence && flow.FromClient.DeliveredBytes > 0)
            {
                // Port reuse: a new connection on the same 5-tuple while the old one never closed.
                Close(flow, key, TcpCloseReason.Timeout);
                flow = CreateFlow(in packet, key);
            }

            flow.LastTicks = ticks;
            bool fromClient = packet.Source == flow.Client && packet.SourcePort == flow.ClientPort;
            var dir = fromClient ? flow.FromClient : flow.FromServer;

            if ((flags & TcpFlags.Syn) != 0)
            {
                flow.SawSyn = true;
                if (!dir.HasStart || dir.DeliveredBytes == 0)
                {
                    dir.HasStart = true;
                    dir.NextSequence = packet.Sequence + 1;
                }
            }

            var payload = packet.Payload;
            if (!payload.IsEmpty)
            {
                uint seq = (flags & TcpFlags.Syn) != 0 ? packet.Sequence + 1 : packet.Sequence;
                if (!dir.HasStart)
                {
                    dir.HasStart = true;
                    dir.NextSequence = seq;
                    flow.PickedUpMidStream = true;
                }

                Accept(flow, fromClient, dir, seq, payload, ticks);
            }

            if ((flags & TcpFlags.Fin) != 0 && dir.HasStart)
            {
                dir.FinSeen = true;
                dir.FinSequence = (flags & TcpFlags.Syn) != 0 ? packet.Sequence + 1 + (uint)payload.Length : packet.Sequence + (uint)payload.Length;
            }

            if (flow.Closed)
            {
                return;
            }

            if ((flags & TcpFlags.Rst) != 0)
            {
                Close(flow, key, TcpCloseReason.Reset);
            }
            else if (flow.FromClient.FinSeen && flow.FromServer.FinSeen)
            {
                // Both sides said they are done: what is still missing will not come (it is reported as a gap).
                Close(flow, key, TcpCloseReason.Fin);
            }
        }

        /// <summary>End of capture: every open flow is flushed (holes reported) and closed.</summary>
        public void CloseAll(TcpCloseReason reason)
        {
            var all = new List<KeyValuePair<TcpFlowKey, TcpFlow>>(_flows);
            all.Sort((x, y) => x.Value.Id.CompareTo(y.Value.Id));
            foreach (var pair in all)
            {
                Close(pair.Value, pair.Key, reason);
            }
        }

        private TcpFlow CreateFlow(in DecodedPacket packet, TcpFlowKey key)
        {
            var flags = packet.TcpFlags;
            bool sourceIsClient;
            if ((flags & TcpFlags.Syn) != 0)
            {
                sourceIsClient = (flags & TcpFlags.Ack) == 0;
            }
            else
            {
                // Picked up mid-stream: the side on the lower port is taken as the server (ephemeral ports are high).
                sourceIsClient = packet.SourcePort > packet.DestinationPort ||
                                 (packet.SourcePort == packet.DestinationPort && packet.Source.CompareTo(packet.Destination) > 0);
            }

            var flow = sourceIsClient
                ? new TcpFlow(NextId(), packet.Source, packet.SourcePort, packet.Destination, packet.DestinationPort, packet.TimestampTicks)
                : new TcpFlow(NextId(), packet.Destination, packet.DestinationPort, packet.Source, packet.SourcePort, packet.TimestampTicks);
            _flows.Add(key, flow);
            FlowsCreated++;
            if (_flows.Count > PeakOpenFlows)
            {
                PeakOpenFlows = _flows.Count;
            }

            _handler.OnOpen(flow);
            return flow;
        }

        private long NextId() => PacketIndex >= 0 ? PacketIndex : ++_nextId;

        [MethodImpl(Jit.Hot)]
        private void Accept(TcpFlow flow, bool fromClient, TcpDirection dir, uint seq, ReadOnlySpan<byte> payload, long ticks)
        {
            int delta = (int)(seq - dir.NextSequence);
            if (delta <= 0)
            {
                // Exactly 2^31 behind cannot be negated: it is as far behind as a sequence can be, so old data.
                int skip = delta == int.MinValue ? int.MaxValue : -delta;
                if (skip >= payload.Length)
                {
                    dir.RetransmittedBytes += payload.Length;
                    RetransmittedBytes += payload.Length;
                    return;
                }

                if (skip > 0)
                {
                    dir.RetransmittedBytes += skip;
                    RetransmittedBytes += skip;
                }

                Deliver(flow, fromClient, dir, payload.Slice(skip), ticks);
                Drain(flow, fromClient, dir, ticks);
                return;
            }

            // Ahead of the stream: hold it. When holding it would pass the flow's or the global cap, stop waiting for the hole.
            if (dir.BufferedBytes + payload.Length > _maxBuffered || _bufferedTotal + payload.Length > _maxBufferedTotal)
            {
                SkipToFirstPending(flow, fromClient, dir, ticks);
                delta = (int)(seq - dir.NextSequence);
                if (delta <= 0)
                {
                    Accept(flow, fromClient, dir, seq, payload, ticks);
                    return;
                }

                if (payload.Length > _maxBuffered || _bufferedTotal + payload.Length > _maxBufferedTotal)
                {
                    dir.MissingBytes += delta;
                    _handler.OnGap(flow, fromClient, delta, ticks);
                    dir.NextSequence = seq;
                    Accept(flow, fromClient, dir, seq, payload, ticks);
                    return;
                }
            }

            var buffer = ArrayPool<byte>.Shared.Rent(payload.Length);
            payload.CopyTo(buffer);
            var pending = dir.Pending ??= new List<TcpPendingSegment>(4);
            int at = pending.Count;
            while (at > 0 && (int)(pending[at - 1].Sequence - seq) > 0)
            {
                at--;
            }

            pending.Insert(at, new TcpPendingSegment { Sequence = seq, Buffer = buffer, Length = payload.Length });
            dir.BufferedBytes += payload.Length;
            _bufferedTotal += payload.Length;
            if (_bufferedTotal > PeakBufferedBytes)
            {
                PeakBufferedBytes = _bufferedTotal;
            }
        }

        [MethodImpl(Jit.Hot)]
        private void Drain(TcpFlow flow, bool fromClient, TcpDirection dir, long ticks)
        {
            var pending = dir.Pending;
            while (pending is not null && pending.Count > 0 && !flow.Closed)
            {
                var first = pending[0];
                int delta = (int)(first.Sequence - dir.NextSequence);
                if (delta > 0)
                {
                    return;
                }

                pending.RemoveAt(0);
                dir.BufferedBytes -= first.Length;
                _bufferedTotal -= first.Length;
                // As in Accept: a segment exactly 2^31 behind (delta == int.MinValue) cannot be negated in an int; it is old data.
                long skip = -(long)delta;
                if (skip < first.Length)
                {
                    dir.RetransmittedBytes += skip;
                    RetransmittedBytes += skip;
                    Deliver(flow, fromClient, dir, new ReadOnlySpan<byte>(first.Buffer, (int)skip, first.Length - (int)skip), ticks);
                }
                else
                {
                    dir.RetransmittedBytes += first.Length;
                    RetransmittedBytes += first.Length;
                }

                ArrayPool<byte>.Shared.Return(first.Buffer);
            }
        }

        private void SkipToFirstPending(TcpFlow flow, bool fromClient, TcpDirection dir, long ticks)
        {
            var pending = dir.Pending;
            if (pending is null || pending.Count == 0)
            {
                return;
            }

            int missing = (int)(pending[0].Sequence - dir.NextSequence);
            if (missing > 0)
            {
                dir.MissingBytes += missing;
                _handler.OnGap(flow, fromClient, missing, ticks);
                dir.NextSequence = pending[0].Sequence;
            }

            Drain(flow, fromClient, dir, ticks);
        }

        [MethodImpl(Jit.Hot)]
        private void Deliver(TcpFlow flow, bool fromClient, TcpDirection dir, ReadOnlySpan<byte> data, long ticks)
        {
            dir.NextSequence += (uint)data.Length;
            dir.DeliveredBytes += data.Length;
            _handler.OnData(flow, fromClient, data, ticks);
        }

        private void Close(TcpFlow flow, TcpFlowKey key, TcpCloseReason reason)
        {
            if (flow.Closed)
            {
                return;
            }

            _handler.OnClosing(flow);

            // Whatever still waits behind a hole is delivered after the hole is reported; nothing is invented.
            while (flow.FromClient.Pending is { Count: > 0 })
            {
                SkipToFirstPending(flow, true, flow.FromClient, flow.LastTicks);
            }

            while (flow.FromServer.Pending is { Count: > 0 })
            {
                SkipToFirstPending(flow, false, flow.FromServer, flow.LastTicks);
            }

            ReportUnseenBeforeFin(flow, true, flow.FromClient);
            ReportUnseenBeforeFin(flow, false, flow.FromServer);
            flow.Closed = true;
            _flows.Remove(key);
            _handler.OnClose(flow, reason);
        }

        private void ReportUnseenBeforeFin(TcpFlow flow, bool fromClient, TcpDirection dir)
        {
            if (dir.FinSeen)
            {
                int missing = (int)(dir.FinSequence - dir.NextSequence);
                if (missing > 0)
                {
                    dir.MissingBytes += missing;
                    _handler.OnGap(flow, fromClient, missing, flow.LastTicks);
                    dir.NextSequence = dir.FinSequence;
                }
            }
        }

        /// <summary>Closes every flow idle for the flow timeout at capture time <paramref name="now"/>, oldest flow first.</summary>
        public void ExpireIdle(long now)
        {
            List<KeyValuePair<TcpFlowKey, TcpFlow>>? idle = null;
            foreach (var pair in _flows)
            {
                if (now - pair.Value.LastTicks >= _timeoutTicks)
                {
                    (idle ??= new List<KeyValuePair<TcpFlowKey, TcpFlow>>()).Add(pair);
                }
            }

            if (idle is null)
            {
                return;
            }

            idle.Sort((x, y) => x.Value.Id.CompareTo(y.Value.Id));
            foreach (var pair in idle)
            {
                Close(pair.Value, pair.Key, TcpCloseReason.Timeout);
            }
        }
    }
}
