using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.IO;
using System.Security.Cryptography;
using System.Text;

namespace FluxForensics.Fixtures.Autorun
{
    /// <summary>One class instance to store: its class name and its string properties in heap order.</summary>
    public sealed class WmiInstance
    {
        public WmiInstance(string className, params string[] strings)
        {
            ClassName = className;
            Strings = strings;
        }

        public string ClassName { get; }
        public string[] Strings { get; }

        /// <summary>Store these strings as UTF-16 (heap flag 1) instead of ASCII (flag 0).</summary>
        public bool Wide { get; set; }

        public static WmiInstance CommandLineConsumer(string name, string commandLineTemplate, string? executablePath = null) =>
            executablePath is null
                ? new WmiInstance("CommandLineEventConsumer", commandLineTemplate, name)
                : new WmiInstance("CommandLineEventConsumer", commandLineTemplate, executablePath, name);

        public static WmiInstance ScriptConsumer(string name, string engine, string scriptText) =>
            new WmiInstance("ActiveScriptEventConsumer", name, engine, scriptText);

        public static WmiInstance Filter(string name, string query) =>
            new WmiInstance("__EventFilter", name, query, "WQL", @"root\cimv2");

        public static WmiInstance Binding(string consumerClass, string consumerName, string filterName) =>
            new WmiInstance("__FilterToConsumerBinding", $"{consumerClass}.Name=\"{consumerName}\"", $"__EventFilter.Name=\"{filterName}\"");
    }

    /// <summary>
    /// Writes an <c>OBJECTS.DATA</c> laid out as the CIM repository stores it (python-cim / flare-wmi documentation): 8 KiB
    /// pages; a page starts with a table of contents (record id, offset in the page, size, CRC32), closed by a zero entry,
    /// and the records follow. An instance record is the class-name hash (SHA-256 of the upper-case UTF-16LE name, as 64
    /// upper-case hex digits in UTF-16LE), two FILETIMEs, the length of the rest, one heap offset per string property, an
    /// empty qualifier set, the dynamic-properties flag, then the heap: its size with the top bit set, and the class name
    /// and property strings, each a flag byte (0 ASCII, 1 UTF-16LE) and NUL-terminated.
    /// </summary>
    public static class WmiRepositoryWriter
    {
        public const int PageSize = 8192;

        public static byte[] Write(IEnumerable<WmiInstance> instances, DateTime written)
        {
            var records = new List<byte[]>();
            foreach (WmiInstance instance in instances)
            {
                records.Add(Record(instance, written));
            }

            var file = new MemoryStream();
            int next = 0;
            uint recordId = 0x1000;
            while (next < records.Count)
            {
                var page = new byte[PageSize];
                // Fill this page with as many records as fit after the table of contents.
                int count = 0;
                int used = 16;
                while (next + count < records.Count && used + 16 + records[next + count].Length <= PageSize)
                {
                    used += 16 + records[next + count].Length;
                    count++;
                }

                if (count == 0)
                {
                    throw new InvalidOperationException("a record larger than a page is not supported by this fixture");
                }

                int offset = 16 * (count + 1);
                for (int i = 0; i < count; i++)
                {
                    byte[] r = records[next + i];
                    BinaryPrimitives.WriteUInt32LittleEndian(page.AsSpan(16 * i), recordId++);
                    BinaryPrimitives.WriteUInt32LittleEndian(page.AsSpan(16 * i + 4), (uint)offset);
                    BinaryPrimitives.WriteUInt32LittleEndian(page.AsSpan(16 * i + 8), (uint)r.Length);
                    BinaryPrimitives.WriteUInt32LittleEndian(page.AsSpan(16 * i + 12), Crc32(r));
                    r.CopyTo(page, offset);
                    offset += r.Length;
                }

                file.Write(page, 0, page.Length);
                next += count;
            }

            return file.ToArray();
        }

        private static byte[] Record(WmiInstance instance, DateTime written)
        {
            var heap = new MemoryStream();
            var offsets = new List<uint>();
            void Put(string s)
            {
                offsets.Add((uint)heap.Length);
                if (instance.Wide && offsets.Count > 1)
                {
                    heap.WriteByte(1);
                    byte[] w = Encoding.Unicode.GetBytes(s + "\0");
                    heap.Write(w, 0, w.Length);
                }
                else
                {
                    heap.WriteByte(0);
                    byte[] a = Encoding.ASCII.GetBytes(s + "\0");
                    heap.Write(a, 0, a.Length);
                }
            }

            Put(instance.ClassName);
            foreach (string s in instance.Strings)
            {
                Put(s);
            }

            var body = new MemoryStream();
            var w4 = new byte[8];
            void U32(uint v)
            {
                BinaryPrimitives.WriteUInt32LittleEndian(w4, v);
                body.Write(w4, 0, 4);
            }

            foreach (uint o in offsets)
            {
                U32(o);
            }

            U32(4);            // qualifier set: its own length, no qualifiers
            body.WriteByte(2); // dynamic properties: none
            U32((uint)heap.Length | 0x80000000);
            heap.Position = 0;
            heap.CopyTo(body);

            var record = new MemoryStream();
            byte[] hash = Encoding.Unicode.GetBytes(Convert.ToHexString(SHA256.HashData(Encoding.Unicode.GetBytes(instance.ClassName.ToUpperInvariant()))));
            record.Write(hash, 0, hash.Length);
            var time = new byte[8];
            BinaryPrimitives.WriteInt64LittleEndian(time, written.ToFileTimeUtc());
            record.Write(time, 0, 8);
            record.Write(time, 0, 8);
            BinaryPrimitives.WriteUInt32LittleEndian(w4, (uint)body.Length);
            record.Write(w4, 0, 4);
            body.Position = 0;
            body.CopyTo(record);
            return record.ToArray();
        }

        private static uint Crc32(byte[] data)
        {
            uint crc = 0xFFFFFFFF;
            foreach (byte b in data)
            {
                crc ^= b;
                for (int k = 0; k < 8; k++)
                {
                    crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xEDB88320 : crc >> 1;
                }
            }

            return ~crc;
        }
    }
}
