using System;
using System.Runtime.CompilerServices;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Runtime.ExceptionServices;
using System.Threading;
using FluxForensics.Model;

namespace FluxForensics.Capture
{
    /// <summary>
    /// Several flow workers on threads of their own. The reading thread decodes packets and deals them out by a
    /// symmetric hash of the address pair (both directions of a connection, and an FTP control connection with its
    /// data connections, meet on one worker), in batches that also carry the engine's time sweeps and the reader's
    /// parse issues at their place in the capture. Each worker stamps what it finds with where in the capture it
    /// happened (packet index, then the flow being closed, then its own sequence); the calling thread merges the
    /// workers' streams in that order — the order one worker alone would have produced — and feeds the correlators.
    /// </summary>
    internal sealed class ParallelFlowWorkers : IDisposable
    {
        private const int BatchPackets = 8192;
        private const int BatchBytes = 1 << 20;
        private const int QueueDepth = 4;

        private readonly CaptureAnalysisOptions _options;
        private readonly CorrelatorInput _correlators;
        private readonly IFluxReporter _reporter;
        private readonly WorkerSlot[] _slots;
        private readonly HandoffQueue<OutputBatch> _output;
        private readonly CancellationTokenSource _abort = new CancellationTokenSource();
        private readonly ConcurrentQueue<Action<IFluxReporter>> _reports = new ConcurrentQueue<Action<IFluxReporter>>();
        private volatile Exception? _failure;

        public ParallelFlowWorkers(int count, CaptureAnalysisOptions options, string source, CorrelatorInput correlators, IFluxReporter reporter)
        {
            _options = options;
            _correlators = correlators;
            _reporter = reporter;
            _output = new HandoffQueue<OutputBatch>(QueueDepth * count * 2);
            _slots = new WorkerSlot[count];
            var hashCache = new CarvedHashCache();
            for (int i = 0; i < count; i++)
            {
                _slots[i] = new WorkerSlot(i, options, source, hashCache);
            }
        }

        public long FlowCount { get; private set; }

        public long DroppedDnsTcpFlows { get; private set; }

        public CaptureReadResult Run(CaptureSourceReader read, CancellationToken cancellationToken)
        {
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _abort.Token);
            var token = linked.Token;
            var threads = new List<Thread>();
            foreach (var slot in _slots)
            {
                var thread = new Thread(() => WorkerLoop(slot)) { IsBackground = true, Name = "FluxForensics capture worker " + slot.Id };
                threads.Add(thread);
                thread.Start();
            }

            CaptureReadResult? result = null;
            ExceptionDispatchInfo? readFailure = null;
            var dispatcher = new Dispatcher(this);
            var reader = new Thread(() =>
            {
                try
                {
                    var position = new CapturePosition();
                    dispatcher.Position = position;
                    result = read(dispatcher.OnPacket, dispatcher.OnIssue, new QueuedReporter(_reports), token, position);
                }
                catch (Exception e)
                {
                    readFailure = ExceptionDispatchInfo.Capture(e);
                }
                finally
                {
                    dispatcher.Finish();
                }
            })
            { IsBackground = true, Name = "FluxForensics capture reader" };
            reader.Start();

            try
            {
                Merge();
            }
            catch
            {
                // The caller stopped taking findings, or a correlator failed: stop the reader and the workers, then let go.
                _abort.Cancel();
                _output.Abort();
                foreach (var slot in _slots)
                {
                    slot.Input.Abort();
                }
                throw;
            }
            finally
            {
                reader.Join();
                foreach (var thread in threads)
                {
                    thread.Join();
                }

                DrainReports();
                foreach (var slot in _slots)
                {
                    FlowCount += slot.Worker.FlowCount;
                    DroppedDnsTcpFlows += slot.Worker.Dns.DroppedTcpFlows;
                }
            }

            if (_failure is not null)
            {
                ExceptionDispatchInfo.Capture(_failure).Throw();
            }

            readFailure?.Throw();
            return result!;
        }

        public void Dispose()
        {
            _abort.Dispose();
        }

        private void DrainReports()
        {
            while (_reports.TryDequeue(out var report))
            {
                report(_reporter);
            }
        }

        /// <summary>Calling thread: merges the workers' outputs in capture order and applies them to the correlators.</summary>
        [MethodImpl(Jit.Hot)]
        private void Merge()
        {
            int count = _slots.Length;
            var pending = new Queue<OutputBatch>[count];
            var cursor = new int[count];
            var watermark = new long[count];
            var ended = new bool[count];
            for (int i = 0; i < count; i++)
            {
                pending[i] = new Queue<OutputBatch>();
            }

            int endedCount = 0;
            while (true)
            {
                DrainReports();
                if (!_output.TryTake(out var batch, 100))
                {
                    if (_failure is not null)
                    {
                        throw new InvalidOperationException("A capture worker failed: " + _failure.Message, _failure);
                    }

                    continue;
                }

                if (batch.Failed)
                {
                    throw new InvalidOperationException("A capture worker failed: " + _failure?.Message, _failure);
                }

                pending[batch.Worker].Enqueue(batch);
                if (batch.End)
                {
                    ended[batch.Worker] = true;
                    endedCount++;
                }

                // Apply every item no worker can still precede.
                while (true)
                {
                    int best = -1;
                    TransactionKey bestKey = default;
                    for (int w = 0; w < count; w++)
                    {
                        if (Head(pending[w], cursor, w, out var key) && (best < 0 || key.CompareTo(bestKey) < 0))
                        {
                            best = w;
                            bestKey = key;
                        }
                    }

                    if (best < 0)
                    {
                        break;
                    }

                    bool safe = true;
                    for (int w = 0; w < count && safe; w++)
                    {
                        if (w != best && !ended[w] && !HasItems(pending[w], cursor, w) && watermark[w] < bestKey.Index)
                        {
                            safe = false;
                        }
                    }

                    if (!safe)
                    {
                        break;
                    }

                    var head = pending[best].Peek();
                    Apply(head, cursor[best]);
                    cursor[best]++;
                    Advance(pending[best], cursor, watermark, best);
                }

                for (int w = 0; w < count; w++)
                {
                    Advance(pending[w], cursor, watermark, w);
                }

                if (endedCount == count && AllEmpty(pending))
                {
                    return;
                }
            }
        }

        private static bool AllEmpty(Queue<OutputBatch>[] pending)
        {
            foreach (var q in pending)
            {
                if (q.Count > 0)
                {
                    return false;
                }
            }

            return true;
        }

        /// <summary>Drops fully applied batches from the front, remembering how far they covered the capture.</summary>
        private void Advance(Queue<OutputBatch> queue, int[] cursor, long[] watermark, int w)
        {
            while (queue.Count > 0 && cursor[w] >= queue.Peek().Count)
            {
                var done = queue.Dequeue();
                watermark[w] = done.Watermark;
                cursor[w] = 0;
                _slots[w].ReturnOutput(done);
            }
        }

        private static bool HasItems(Queue<OutputBatch> queue, int[] cursor, int w) => queue.Count > 0 && cursor[w] < queue.Peek().Count;

        private static bool Head(Queue<OutputBatch> queue, int[] cursor, int w, out TransactionKey key)
        {
            if (queue.Count > 0 && cursor[w] < queue.Peek().Count)
            {
                key = queue.Peek().Items[cursor[w]].Key;
                return true;
            }

            key = default;
            return false;
        }

        private void Apply(OutputBatch batch, int i)
        {
            ref var item = ref batch.Items[i];
            switch (item.Kind)
            {
                case TransactionKind.Dns:
                    _correlators.DnsMessage(new ReadOnlySpan<byte>(batch.Arena, item.DataOffset, item.DataLength), item.Source, item.Destination,
                        item.Ticks, item.Truncated, item.File, item.Offset);
                    break;
                case TransactionKind.Conversation:
                    _correlators.Conversation((RelayConversation)item.First!);
                    break;
                case TransactionKind.LateFile:
                    _correlators.LateFile((RelayConversation)item.First!, (RelayCarvedFile)item.Second!);
                    break;
                case TransactionKind.Issue:
                    _correlators.Issue((ParseIssue)item.First!);
                    break;
            }

            item.First = null;
            item.Second = null;
            item.File = null;
        }

        [MethodImpl(Jit.Hot)]
        private void WorkerLoop(WorkerSlot slot)
        {
            try
            {
                while (true)
                {
                    var input = slot.Input.Take();
                    var output = slot.RentOutput();
                    slot.Sink.Target = output;
                    for (int i = 0; i < input.Count; i++)
                    {
                        ref var record = ref input.Records[i];
                        switch (record.Kind)
                        {
                            case RecordKind.Packet:
                                {
                                    var packet = new DecodedPacket(record.Ticks, record.Source, record.Destination, record.SourcePort, record.DestinationPort,
                                        record.Protocol, record.Flags, record.Sequence, record.Acknowledgment,
                                        new ReadOnlySpan<byte>(input.Arena, record.PayloadOffset, record.PayloadLength), record.WireLength, record.Truncated,
                                        record.IsFragment);
                                    slot.Sink.Begin(record.Index, TransactionKey.PacketSlot);
                                    slot.Worker.OnPacket(in packet, record.Index, record.File, record.Offset);
                                    break;
                                }

                            case RecordKind.Sweep:
                                slot.Sink.Begin(record.Index, 0, broadcast: true);
                                slot.Worker.ExpireIdle(record.Ticks);
                                break;
                            case RecordKind.Issue:
                                slot.Sink.Begin(record.Index, TransactionKey.ReaderSlot);
                                slot.Sink.Issue(record.Issue!);
                                break;
                            case RecordKind.End:
                                slot.Sink.Begin(record.Index, 0, broadcast: true);
                                slot.Worker.End();
                                output.End = true;
                                break;
                        }

                        record.Issue = null;
                        record.File = null;
                    }

                    output.Watermark = input.UpTo;
                    slot.ReturnInput(input);
                    _output.Add(output);
                    if (output.End)
                    {
                        return;
                    }
                }
            }
            catch (OperationCanceledException)
            {
                // Aborted: nobody waits for this worker's output any more.
            }
            catch (Exception e)
            {
                _failure ??= e;
                try
                {
                    _output.Add(new OutputBatch(slot.Id) { Failed = true });
                }
                catch (OperationCanceledException)
                {
                }
            }
        }

        /// <summary>The reading thread's side: deals packets out to the workers' input batches.</summary>
        private sealed class Dispatcher
        {
            private readonly WorkerSlot[] _slots;
            private readonly InputBatch[] _current;
            private readonly SweepClock _clock;
            private long _index;

            public Dispatcher(ParallelFlowWorkers owner)
            {
                _slots = owner._slots;
                _current = new InputBatch[_slots.Length];
                for (int i = 0; i < _slots.Length; i++)
                {
                    _current[i] = _slots[i].RentInput();
                }

                _clock = new SweepClock(owner._options.FlowTimeout);
            }

            public CapturePosition? Position { get; set; }

            [MethodImpl(Jit.Hot)]
            public void OnPacket(in DecodedPacket packet)
            {
                long index = ++_index;
                if (_clock.Due(packet.TimestampTicks))
                {
                    for (int i = 0; i < _current.Length; i++)
                    {
                        ref var sweep = ref Append(i);
                        sweep.Kind = RecordKind.Sweep;
                        sweep.Index = index;
                        sweep.Ticks = packet.TimestampTicks;
                    }
                }

                int w = WorkerOf(packet.Source, packet.Destination, _current.Length);
                var payload = packet.Payload;
                bool keepPayload = packet.Protocol == TransportProtocol.Tcp ||
                                   (packet.Protocol == TransportProtocol.Udp && (packet.SourcePort == DnsFlowAnalyzer.DnsPort || packet.DestinationPort == DnsFlowAnalyzer.DnsPort));
                int length = keepPayload ? payload.Length : 0;
                ref var record = ref Append(w);
                var batch = _current[w];
                batch.EnsureArena(length);
                record.Kind = RecordKind.Packet;
                record.Index = index;
                record.Ticks = packet.TimestampTicks;
                record.Source = packet.Source;
                record.Destination = packet.Destination;
                record.SourcePort = packet.SourcePort;
                record.DestinationPort = packet.DestinationPort;
                record.Protocol = packet.Protocol;
                record.Flags = packet.TcpFlags;
                record.Sequence = packet.Sequence;
                record.Acknowledgment = packet.Acknowledgment;
                record.WireLength = packet.WireLength;
                record.Truncated = packet.PayloadTruncated;
                record.IsFragment = packet.IsFragment;
                record.File = Position?.File;
                record.Offset = Position?.Offset ?? -1;
                record.PayloadOffset = batch.ArenaUsed;
                record.PayloadLength = length;
                if (length > 0)
                {
                    payload.Slice(0, length).CopyTo(new Span<byte>(batch.Arena, batch.ArenaUsed, length));
                    batch.ArenaUsed += length;
                }

                if (batch.Count >= BatchPackets || batch.ArenaUsed >= BatchBytes)
                {
                    FlushAll();
                }
            }

            /// <summary>A reader's parse issue, placed before the next packet (worker 0 carries them).</summary>
            public void OnIssue(ParseIssue issue)
            {
                ref var record = ref Append(0);
                record.Kind = RecordKind.Issue;
                record.Index = _index + 1;
                record.Issue = issue;
            }

            /// <summary>End of reading (normal, stopped or failed): every worker closes its flows.</summary>
            public void Finish()
            {
                try
                {
                    for (int i = 0; i < _current.Length; i++)
                    {
                        ref var end = ref Append(i);
                        end.Kind = RecordKind.End;
                        end.Index = _index + 1;
                    }

                    FlushAll();
                }
                catch (OperationCanceledException)
                {
                    // Aborted: nobody waits for the workers' last words.
                }
                catch (InvalidOperationException)
                {
                }
            }

            private ref PacketRecord Append(int w)
            {
                var batch = _current[w];
                if (batch.Count == batch.Records.Length)
                {
                    FlushAll();
                    batch = _current[w];
                }

                ref var record = ref batch.Records[batch.Count++];
                return ref record;
            }

            private void FlushAll()
            {
                for (int i = 0; i < _current.Length; i++)
                {
                    var batch = _current[i];
                    batch.UpTo = _index;
                    _slots[i].Input.Add(batch);
                    _current[i] = _slots[i].RentInput();
                }
            }

            /// <summary>Both directions of an address pair, and every port between them, go to the same worker.</summary>
            internal static int WorkerOf(NetAddress a, NetAddress b, int workers)
            {
                ulong h = (uint)(a.GetHashCode() ^ b.GetHashCode());
                h *= 0x9E37_79B9_7F4A_7C15UL;
                return (int)((h >> 32) % (ulong)workers);
            }
        }

        private sealed class WorkerSlot
        {
            private readonly ConcurrentQueue<InputBatch> _freeInputs = new ConcurrentQueue<InputBatch>();
            private readonly ConcurrentQueue<OutputBatch> _freeOutputs = new ConcurrentQueue<OutputBatch>();

            public WorkerSlot(int id, CaptureAnalysisOptions options, string source, CarvedHashCache hashCache)
            {
                Id = id;
                Sink = new StampingTransactions(id);
                Worker = new FlowWorker(options, source, Sink, hashCache);
                Input = new HandoffQueue<InputBatch>(QueueDepth);
            }

            public int Id { get; }
            public StampingTransactions Sink { get; }
            public FlowWorker Worker { get; }
            public HandoffQueue<InputBatch> Input { get; }

            public InputBatch RentInput()
            {
                if (_freeInputs.TryDequeue(out var batch))
                {
                    batch.Count = 0;
                    batch.ArenaUsed = 0;
                    return batch;
                }

                return new InputBatch();
            }

            public void ReturnInput(InputBatch batch) => _freeInputs.Enqueue(batch);

            public OutputBatch RentOutput()
            {
                if (_freeOutputs.TryDequeue(out var batch))
                {
                    batch.Count = 0;
                    batch.ArenaUsed = 0;
                    batch.End = false;
                    return batch;
                }

                return new OutputBatch(Id);
            }

            public void ReturnOutput(OutputBatch batch) => _freeOutputs.Enqueue(batch);
        }

        private enum RecordKind : byte
        {
            Packet,
            Sweep,
            Issue,
            End,
        }

        private struct PacketRecord
        {
            public RecordKind Kind;
            public long Index;
            public long Ticks;
            public NetAddress Source;
            public NetAddress Destination;
            public ushort SourcePort;
            public ushort DestinationPort;
            public TransportProtocol Protocol;
            public TcpFlags Flags;
            public bool Truncated;
            public bool IsFragment;
            public uint Sequence;
            public uint Acknowledgment;
            public int WireLength;
            public int PayloadOffset;
            public int PayloadLength;
            public string? File;
            public long Offset;
            public ParseIssue? Issue;
        }

        private sealed class InputBatch
        {
            public readonly PacketRecord[] Records = new PacketRecord[BatchPackets + 64];
            public byte[] Arena = new byte[BatchBytes];
            public int Count;
            public int ArenaUsed;
            public long UpTo;

            public void EnsureArena(int length)
            {
                if (ArenaUsed + length > Arena.Length)
                {
                    // Batches are sent once past BatchBytes, so this happens only for the packet that crosses it.
                    Array.Resize(ref Arena, Math.Max(Arena.Length * 2, ArenaUsed + length));
                }
            }
        }
    }
}
