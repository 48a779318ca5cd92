using System;
using System.Collections.Generic;

namespace FluxForensics.Fuzz
{
    /// <summary>
    /// Deterministic mutations for the in-process smoke run: bit flips, interesting integers (lengths, offsets and
    /// counts are where parsers go wrong), block deletion/duplication/insertion, truncation and splicing.
    /// </summary>
    public sealed class Mutator
    {
        private static readonly uint[] Interesting = { 0, 1, 0x7F, 0x80, 0xFF, 0x100, 0x7FFF, 0x8000, 0xFFFF, 0x10000, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF, 0xFFFFFFFE };
        private readonly Random _random;

        public Mutator(int seed) => _random = new Random(seed);

        public byte[] Mutate(byte[] input, IReadOnlyList<byte[]> pool)
        {
            var data = new List<byte>(input.Length == 0 ? new byte[] { 0 } : input);
            int rounds = 1 + _random.Next(4);
            for (int r = 0; r < rounds; r++)
            {
                int at = _random.Next(data.Count);
                switch (_random.Next(9))
                {
                    case 0:
                        data[at] ^= (byte)(1 << _random.Next(8));
                        break;
                    case 1:
                        data[at] = (byte)_random.Next(256);
                        break;
                    case 2:
                    case 3:
                        WriteInteresting(data, at);
                        break;
                    case 4:
                        int count = Math.Min(data.Count - at, 1 + _random.Next(64));
                        if (data.Count - count > 0) data.RemoveRange(at, count);
                        break;
                    case 5:
                        int len = Math.Min(data.Count - at, 1 + _random.Next(128));
                        data.InsertRange(_random.Next(data.Count), data.GetRange(at, len));
                        break;
                    case 6:
                        data.RemoveRange(at, data.Count - at);
                        if (data.Count == 0) data.Add(0);
                        break;
                    case 7:
                        var other = pool[_random.Next(pool.Count)];
                        if (other.Length > 0)
                        {
                            int from = _random.Next(other.Length);
                            int take = Math.Min(other.Length - from, 1 + _random.Next(256));
                            data.InsertRange(at, new ArraySegment<byte>(other, from, take));
                        }

                        break;
                    default:
                        var bytes = new byte[1 + _random.Next(16)];
                        _random.NextBytes(bytes);
                        data.InsertRange(at, bytes);
                        break;
                }

                if (data.Count > 1 << 20)
                {
                    data.RemoveRange(1 << 20, data.Count - (1 << 20));
                }
            }

            return data.ToArray();
        }

        private void WriteInteresting(List<byte> data, int at)
        {
            uint value = Interesting[_random.Next(Interesting.Length)];
            int width = _random.Next(3) switch { 0 => 1, 1 => 2, _ => 4 };
            bool bigEndian = _random.Next(2) == 0;
            for (int i = 0; i < width && at + i < data.Count; i++)
            {
                int shift = bigEndian ? 8 * (width - 1 - i) : 8 * i;
                data[at + i] = (byte)(value >> shift);
            }
        }
    }
}
