using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.Text;

namespace FluxForensics.Fixtures.Autorun
{
    /// <summary>
    /// Makes a dirty hive and its transaction log from two states of a hive: the primary file keeps the older bytes with
    /// its sequence numbers apart (Windows wrote the log but had not reconciled the hive when the disk was imaged), and
    /// the log holds every 4 KiB page that differs. New format: one HvLE entry with Marvin32 hashes (seed
    /// 0x82EF4D887A4E55C5); old format: a DIRT bitmap of 512-byte pages. Written from the format description (msuhanov's
    /// regf specification), not from the Core reader.
    /// </summary>
    public static class RegfLogWriter
    {
        public const ulong Seed = 0x82EF4D887A4E55C5;

        /// <summary>Returns (primary, LOG1) for an HvLE log whose single entry carries <paramref name="sequence"/>.</summary>
        public static (byte[] Primary, byte[] Log) NewFormat(byte[] before, byte[] after, uint sequence)
        {
            byte[] primary = (byte[])before.Clone();
            SetSequence(primary, sequence + 1, sequence, 0);

            var pages = new List<(uint Offset, byte[] Data)>();
            for (int at = 4096; at < after.Length; at += 4096)
            {
                int length = Math.Min(4096, after.Length - at);
                bool same = at + length <= before.Length && after.AsSpan(at, length).SequenceEqual(before.AsSpan(at, length));
                if (!same)
                {
                    pages.Add(((uint)(at - 4096), after.AsSpan(at, length).ToArray()));
                }
            }

            int headerLength = 40 + pages.Count * 8;
            int dataLength = 0;
            pages.ForEach(p => dataLength += p.Data.Length);
            int entrySize = (headerLength + dataLength + 511) / 512 * 512;
            var log = new byte[512 + entrySize];
            after.AsSpan(0, 512).CopyTo(log);
            SetSequence(log, sequence, sequence, 6);

            Span<byte> e = log.AsSpan(512, entrySize);
            Encoding.ASCII.GetBytes("HvLE").CopyTo(e);
            BinaryPrimitives.WriteUInt32LittleEndian(e.Slice(4), (uint)entrySize);
            BinaryPrimitives.WriteUInt32LittleEndian(e.Slice(8), 0);
            BinaryPrimitives.WriteUInt32LittleEndian(e.Slice(12), sequence);
            BinaryPrimitives.WriteUInt32LittleEndian(e.Slice(16), BinaryPrimitives.ReadUInt32LittleEndian(after.AsSpan(40)));
            BinaryPrimitives.WriteUInt32LittleEndian(e.Slice(20), (uint)pages.Count);
            int reference = 40;
            int data = headerLength;
            foreach (var (offset, bytes) in pages)
            {
                BinaryPrimitives.WriteUInt32LittleEndian(e.Slice(reference), offset);
                BinaryPrimitives.WriteUInt32LittleEndian(e.Slice(reference + 4), (uint)bytes.Length);
                bytes.CopyTo(e.Slice(data));
                reference += 8;
                data += bytes.Length;
            }

            BinaryPrimitives.WriteUInt64LittleEndian(e.Slice(24), Marvin32(e.Slice(40), Seed));
            BinaryPrimitives.WriteUInt64LittleEndian(e.Slice(32), Marvin32(e.Slice(0, 32), Seed));
            return (primary, log);
        }

        /// <summary>Returns (primary, log) for a dirty-vector log (Windows XP to 8): base block (file type 1) with the
        /// primary's sequence number, <c>DIRT</c> and a bitmap of the 512-byte pages of the hive bins data, then those pages
        /// in bitmap order from the next sector on.</summary>
        public static (byte[] Primary, byte[] Log) OldFormat(byte[] before, byte[] after, uint sequence)
        {
            if (after.Length != before.Length)
            {
                throw new ArgumentException("the old format does not grow the hive in this fixture");
            }

            byte[] primary = (byte[])before.Clone();
            SetSequence(primary, sequence, sequence - 1, 0);
            uint binsSize = BinaryPrimitives.ReadUInt32LittleEndian(after.AsSpan(40));
            var bitmap = new byte[binsSize / 4096];
            var pages = new List<byte[]>();
            for (int page = 0; page < binsSize / 512; page++)
            {
                int at = 4096 + page * 512;
                if (!after.AsSpan(at, 512).SequenceEqual(before.AsSpan(at, 512)))
                {
                    bitmap[page / 8] |= (byte)(1 << (page % 8));
                    pages.Add(after.AsSpan(at, 512).ToArray());
                }
            }

            int vectorEnd = 512 + 4 + bitmap.Length;
            int pageData = (vectorEnd + 511) / 512 * 512;
            var log = new byte[pageData + pages.Count * 512];
            after.AsSpan(0, 512).CopyTo(log);
            SetSequence(log, sequence, sequence, 1);
            Encoding.ASCII.GetBytes("DIRT").CopyTo(log, 512);
            bitmap.CopyTo(log, 516);
            for (int i = 0; i < pages.Count; i++)
            {
                pages[i].CopyTo(log, pageData + i * 512);
            }

            return (primary, log);
        }

        private static void SetSequence(byte[] file, uint primarySequence, uint secondarySequence, uint fileType)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(file.AsSpan(4), primarySequence);
            BinaryPrimitives.WriteUInt32LittleEndian(file.AsSpan(8), secondarySequence);
            BinaryPrimitives.WriteUInt32LittleEndian(file.AsSpan(28), fileType);
            uint sum = 0;
            for (int i = 0; i < 508; i += 4)
            {
                sum ^= BinaryPrimitives.ReadUInt32LittleEndian(file.AsSpan(i));
            }

            sum = sum == 0 ? 1 : sum == 0xFFFFFFFF ? 0xFFFFFFFE : sum;
            BinaryPrimitives.WriteUInt32LittleEndian(file.AsSpan(508), sum);
        }

        /// <summary>Marvin32 as Windows computes it for HvLE entries (the data here is always a multiple of 4 bytes).</summary>
        public static ulong Marvin32(ReadOnlySpan<byte> data, ulong seed)
        {
            uint lo = (uint)seed, hi = (uint)(seed >> 32);
            void Block(uint v)
            {
                unchecked
                {
                    lo += v;
                    hi ^= lo;
                    lo = ((lo << 20) | (lo >> 12)) + hi;
                    hi = ((hi << 9) | (hi >> 23)) ^ lo;
                    lo = ((lo << 27) | (lo >> 5)) + hi;
                    hi = (hi << 19) | (hi >> 13);
                }
            }

            int i = 0;
            for (; i + 4 <= data.Length; i += 4)
            {
                Block(BinaryPrimitives.ReadUInt32LittleEndian(data.Slice(i)));
            }

            uint last = 0x80;
            for (int j = data.Length - 1; j >= i; j--)
            {
                last = (last << 8) | data[j];
            }

            Block(last);
            Block(0);
            return ((ulong)hi << 32) | lo;
        }
    }
}
