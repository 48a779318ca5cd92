using System;
using System.Collections.Generic;
using System.Threading;

namespace FluxForensics.Capture
{
    /// <summary>
    /// A bounded queue between two threads of the engine that blocks without spinning. The engine runs a reader, its
    /// workers and the correlators on as few as two cores: a thread waiting for work must give its core to the others
    /// at once, where the framework's blocking collections spin first.
    /// </summary>
    internal sealed class HandoffQueue<T>
    {
        private readonly Queue<T> _items = new Queue<T>();
        private readonly int _capacity;
        private bool _aborted;
        private int _waiting;

        public HandoffQueue(int capacity)
        {
            _capacity = Math.Max(1, capacity);
        }

        /// <summary>Adds an item, waiting while the queue is full.</summary>
        /// <exception cref="OperationCanceledException">The queue was aborted.</exception>
        public void Add(T item)
        {
            lock (_items)
            {
                while (_items.Count >= _capacity && !_aborted)
                {
                    _waiting++;
                    Monitor.Wait(_items);
                    _waiting--;
                }

                if (_aborted)
                {
                    throw new OperationCanceledException("The capture analysis was stopped.");
                }

                _items.Enqueue(item);
                WakeWaiters();
            }
        }

        /// <summary>Takes the next item, waiting for one.</summary>
        /// <exception cref="OperationCanceledException">The queue was aborted.</exception>
        public T Take()
        {
            lock (_items)
            {
                while (_items.Count == 0 && !_aborted)
                {
                    _waiting++;
                    Monitor.Wait(_items);
                    _waiting--;
                }

                if (_aborted)
                {
                    throw new OperationCanceledException("The capture analysis was stopped.");
                }

                var item = _items.Dequeue();
                WakeWaiters();
                return item;
            }
        }

        /// <summary>Takes the next item, waiting at most <paramref name="milliseconds"/>; false when none came.</summary>
        public bool TryTake(out T item, int milliseconds)
        {
            lock (_items)
            {
                if (_items.Count == 0 && !_aborted)
                {
                    _waiting++;
                    Monitor.Wait(_items, milliseconds);
                    _waiting--;
                }

                if (_aborted)
                {
                    throw new OperationCanceledException("The capture analysis was stopped.");
                }

                if (_items.Count == 0)
                {
                    item = default!;
                    return false;
                }

                item = _items.Dequeue();
                WakeWaiters();
                return true;
            }
        }

        /// <summary>Only a thread that waits needs waking: most hand-offs find the other side busy.</summary>
        private void WakeWaiters()
        {
            if (_waiting > 0)
            {
                Monitor.PulseAll(_items);
            }
        }

        /// <summary>Wakes every waiter; from now on every call throws <see cref="OperationCanceledException"/>.</summary>
        public void Abort()
        {
            lock (_items)
            {
                _aborted = true;
                Monitor.PulseAll(_items);
            }
        }
    }
}
