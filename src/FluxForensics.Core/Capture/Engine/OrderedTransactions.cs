using System;
using System.Collections.Concurrent;
using FluxForensics.Model;

namespace FluxForensics.Capture
{
    internal enum TransactionKind : byte
    {
        Dns,
        Conversation,
        LateFile,
        Issue,
    }

    /// <summary>
    /// Where in the capture a worker found something: the packet index; then the reader's issues before that packet,
    /// the flows a sweep closed (by flow id) and the packet's own work; then the worker's own sequence.
    /// </summary>
    internal readonly struct TransactionKey : IComparable<TransactionKey>
    {
        public const long ReaderSlot = long.MinValue;
        public const long PacketSlot = long.MaxValue;

        public TransactionKey(long index, long slot, long sequence)
        {
            Index = index;
            Slot = slot;
            Sequence = sequence;
        }

        public long Index { get; }
        public long Slot { get; }
        public long Sequence { get; }

        public int CompareTo(TransactionKey other)
        {
            int c = Index.CompareTo(other.Index);
            if (c != 0)
            {
                return c;
            }

            c = Slot.CompareTo(other.Slot);
            return c != 0 ? c : Sequence.CompareTo(other.Sequence);
        }
    }

    internal struct Transaction
    {
        public TransactionKey Key;
        public TransactionKind Kind;
        public object? First;
        public object? Second;
        public NetAddress Source;
        public NetAddress Destination;
        public long Ticks;
        public bool Truncated;
        public string? File;
        public long Offset;
        public int DataOffset;
        public int DataLength;
    }

    internal sealed class OutputBatch
    {
        public OutputBatch(int worker)
        {
            Worker = worker;
        }

        public int Worker { get; }
        public Transaction[] Items = new Transaction[256];
        public byte[] Arena = new byte[64 * 1024];
        public int Count;
        public int ArenaUsed;
        public long Watermark;
        public bool End;
        public bool Failed;

        public ref Transaction Append()
        {
            if (Count == Items.Length)
            {
                Array.Resize(ref Items, Items.Length * 2);
            }

            return ref Items[Count++];
        }

        public int Store(ReadOnlySpan<byte> data)
        {
            if (ArenaUsed + data.Length > Arena.Length)
            {
                Array.Resize(ref Arena, Math.Max(Arena.Length * 2, ArenaUsed + data.Length));
            }

            int at = ArenaUsed;
            data.CopyTo(new Span<byte>(Arena, at, data.Length));
            ArenaUsed += data.Length;
            return at;
        }
    }

    /// <summary>A worker's sink: records each transaction in the current output batch with its place in the capture.</summary>
    internal sealed class StampingTransactions : ICaptureTransactions
    {
        private long _index;
        private long _slot;
        private long _sequence;
        private bool _broadcast;

        public StampingTransactions(int worker)
        {
            Worker = worker;
        }

        public int Worker { get; }

        public OutputBatch? Target { get; set; }

        public void Begin(long index, long slot, bool broadcast = false)
        {
            _index = index;
            _slot = slot;
            _broadcast = broadcast;
        }

        public void ClosingFlow(long flowId)
        {
            if (_broadcast)
            {
                _slot = flowId;
            }
        }

        private ref Transaction Next(TransactionKind kind)
        {
            ref var t = ref Target!.Append();
            t.Key = new TransactionKey(_index, _slot, ++_sequence);
            t.Kind = kind;
            return ref t;
        }

        public void DnsMessage(ReadOnlySpan<byte> message, NetAddress source, NetAddress destination, long ticks, bool truncated, string? file, long offset)
        {
            int at = Target!.Store(message);
            ref var t = ref Next(TransactionKind.Dns);
            t.Source = source;
            t.Destination = destination;
            t.Ticks = ticks;
            t.Truncated = truncated;
            t.File = file;
            t.Offset = offset;
            t.DataOffset = at;
            t.DataLength = message.Length;
        }

        public void Conversation(RelayConversation conversation)
        {
            ref var t = ref Next(TransactionKind.Conversation);
            t.First = conversation;
        }

        public void LateFile(RelayConversation control, RelayCarvedFile file)
        {
            ref var t = ref Next(TransactionKind.LateFile);
            t.First = control;
            t.Second = file;
        }

        public void Issue(ParseIssue issue)
        {
            ref var t = ref Next(TransactionKind.Issue);
            t.First = issue;
        }
    }

    /// <summary>A reporter for the reading thread: its calls are queued and replayed on the calling thread.</summary>
    internal sealed class QueuedReporter : IFluxReporter
    {
        private readonly ConcurrentQueue<Action<IFluxReporter>> _queue;

        public QueuedReporter(ConcurrentQueue<Action<IFluxReporter>> queue)
        {
            _queue = queue;
        }

        public void Progress(string activity, string status, double fraction) => _queue.Enqueue(r => r.Progress(activity, status, fraction));
        public void Warning(string message) => _queue.Enqueue(r => r.Warning(message));
        public void Verbose(string message) => _queue.Enqueue(r => r.Verbose(message));
        public void Issue(ParseIssue issue) => _queue.Enqueue(r => r.Issue(issue));
        public void Error(FluxError error) => _queue.Enqueue(r => r.Error(error));
    }
}
