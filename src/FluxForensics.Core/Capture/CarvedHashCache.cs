using System;

namespace FluxForensics.Capture
{
    /// <summary>
    /// The hashes of the last few small files carved, kept with their bytes: a relay carries every download twice
    /// (server → relay, relay → bot) and botnets hand out the same few executables over and over, so a file whose
    /// bytes are exactly those of a recent one takes its SHA-256 and MD5 instead of hashing again. Equality is
    /// checked on the bytes themselves, never on a hash, so a crafted capture cannot make two files share hashes.
    /// </summary>
    internal sealed class CarvedHashCache
    {
        /// <summary>Files up to this size are remembered (the carver's head buffer; larger ones hash as they stream).</summary>
        public const int MaxFileSize = 16 * 1024;
        private const int Slots = 32;

        private readonly Entry?[] _entries = new Entry?[Slots];
        private int _next;

        public long Hits { get; private set; }

        public bool TryGet(ReadOnlySpan<byte> content, out byte[] sha256, out byte[] md5)
        {
            if (content.Length <= MaxFileSize)
            {
                int key = Key(content);
                foreach (var entry in _entries)
                {
                    if (entry is not null && entry.Key == key && entry.Content.Length == content.Length && content.SequenceEqual(entry.Content))
                    {
                        Hits++;
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

            _entries[_next] = new Entry(Key(content), content.ToArray(), sha256, md5);
            _next = (_next + 1) % Slots;
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
