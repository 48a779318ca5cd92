using System;
using System.Threading;

namespace FluxForensics.Capture
{
    /// <summary>
    /// The hashes of the last few small files carved, kept with their bytes: a relay carries every download twice
    /// (server → relay, relay → bot) and botnets hand out the same few executables over and over, so a file whose
    /// bytes are exactly those of a recent one takes its SHA-256 and MD5 instead of hashing again. Equality is
    /// checked on the bytes themselves, never on a hash, so a crafted capture cannot make two files share hashes.
    /// </summary>
    /// <remarks>
    /// One cache serves every worker of an analysis (the two legs of a relayed download usually land on different
    /// workers), so it is locked; it is consulted once per finished file. Files are held whole in memory while they are
    /// carved only within <see cref="MaxHeldBytes"/> for all carvers together; past it a file hashes as it streams.
    /// </remarks>
    internal sealed class CarvedHashCache
    {
        /// <summary>Files up to this size are held whole and remembered (larger ones hash as they stream).</summary>
        public const int MaxFileSize = 1024 * 1024;

        /// <summary>Bytes all carvers may hold at once beyond their first <see cref="SmallHead"/> bytes.</summary>
        public const long MaxHeldBytes = 64L * 1024 * 1024;

        /// <summary>What every carver may hold without asking (the head that decides whether a body is an executable).</summary>
        public const int SmallHead = 16 * 1024;

        private const int Slots = 16;

        private readonly object _gate = new object();
        private readonly Entry?[] _entries = new Entry?[Slots];
        private int _next;
        private long _held;
        private long _hits;

        public long Hits => Interlocked.Read(ref _hits);

        /// <summary>Asks to hold <paramref name="bytes"/> more of a file in memory; false when the budget is spent.</summary>
        public bool TryHold(long bytes)
        {
            if (Interlocked.Add(ref _held, bytes) <= MaxHeldBytes)
            {
                return true;
            }

            Interlocked.Add(ref _held, -bytes);
            return false;
        }

        public void Release(long bytes) => Interlocked.Add(ref _held, -bytes);

        public bool TryGet(ReadOnlySpan<byte> content, out byte[] sha256, out byte[] md5)
        {
            if (content.Length <= MaxFileSize)
            {
                lock (_gate)
                {
                    return TryGetLocked(content, out sha256, out md5);
                }
            }

            sha256 = md5 = Array.Empty<byte>();
            return false;
        }

        private bool TryGetLocked(ReadOnlySpan<byte> content, out byte[] sha256, out byte[] md5)
        {
            {
                int key = Key(content);
                foreach (var entry in _entries)
                {
                    if (entry is not null && entry.Key == key && entry.Content.Length == content.Length && content.SequenceEqual(entry.Content))
                    {
                        _hits++;
                        sha256 = entry.Sha256;
                        md5 = entry.Md5;
                        return true;
                    }
                }
            }

            sha256 = md5 = Array.Empty<byte>();
            return false;
        }

        public void Add(ReadOnlySpan<byte> content, byte[] sha256, byte[] md5)
        {
            if (content.Length > MaxFileSize)
            {
                return;
            }

            var entry = new Entry(Key(content), content.ToArray(), sha256, md5);
            lock (_gate)
            {
                _entries[_next] = entry;
                _next = (_next + 1) % Slots;
            }
        }

        /// <summary>A cheap look-up key (the bytes are compared in full when it matches).</summary>
        private static int Key(ReadOnlySpan<byte> content)
        {
            int key = content.Length;
            int step = Math.Max(1, content.Length / 16);
            for (int i = 0; i < content.Length; i += step)
            {
                key = (key * 31) ^ content[i];
            }

            return key;
        }

        private sealed class Entry
        {
            public Entry(int key, byte[] content, byte[] sha256, byte[] md5)
            {
                Key = key;
                Content = content;
                Sha256 = sha256;
                Md5 = md5;
            }

            public int Key { get; }
            public byte[] Content { get; }
            public byte[] Sha256 { get; }
            public byte[] Md5 { get; }
        }
    }
}
