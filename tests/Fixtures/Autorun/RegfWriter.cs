using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;

namespace FluxForensics.Fixtures.Autorun
{
    /// <summary>A key to write: name, values, subkeys, last-written time.</summary>
    public sealed class RegfKey
    {
        public RegfKey(string name) => Name = name;

        public string Name { get; }
        public DateTime LastWritten { get; set; } = new DateTime(2026, 11, 2, 9, 30, 0, DateTimeKind.Utc);
        public List<RegfKey> Subkeys { get; } = new List<RegfKey>();
        public List<(string Name, uint Type, byte[] Data)> Values { get; } = new List<(string, uint, byte[])>();

        /// <summary>The key at a backslash path below this one, created on the way.</summary>
        public RegfKey Key(string path)
        {
            RegfKey k = this;
            foreach (string part in path.Split('\\', StringSplitOptions.RemoveEmptyEntries))
            {
                RegfKey? next = k.Subkeys.FirstOrDefault(s => string.Equals(s.Name, part, StringComparison.OrdinalIgnoreCase));
                if (next is null)
                {
                    next = new RegfKey(part) { LastWritten = LastWritten };
                    k.Subkeys.Add(next);
                }

                k = next;
            }

            return k;
        }

        public RegfKey String(string name, string value, bool expand = false)
        {
            Values.Add((name, expand ? 2u : 1u, Encoding.Unicode.GetBytes(value + "\0")));
            return this;
        }

        public RegfKey DWord(string name, uint value)
        {
            var b = new byte[4];
            BinaryPrimitives.WriteUInt32LittleEndian(b, value);
            Values.Add((name, 4u, b));
            return this;
        }

        public RegfKey Binary(string name, byte[] value)
        {
            Values.Add((name, 3u, value));
            return this;
        }
    }

    /// <summary>
    /// Writes a minimal but valid regf hive (base block, one hive bin, nk/lh/vk/sk cells, value lists) from a key tree,
    /// so fixtures can plant a Run value in an NTUSER.DAT. Written from the format description (yarp's notes,
    /// libregf's documentation), not from the Core reader.
    /// </summary>
    public static class RegfWriter
    {
        public static byte[] Write(RegfKey root, string fileName = "\\??\\C:\\Users\\fixture\\ntuser.dat")
        {
            var cells = new MemoryStream();
            uint Allocate(byte[] data)
            {
                int size = (data.Length + 4 + 7) & ~7;
                uint offset = (uint)cells.Length + 32; // cell offsets count from the first hbin; its header is 32 bytes
                var cell = new byte[size];
                BinaryPrimitives.WriteInt32LittleEndian(cell, -size);
                data.CopyTo(cell, 4);
                cells.Write(cell, 0, cell.Length);
                return offset;
            }

            // One security descriptor shared by every key: owner/group SYSTEM, no DACL.
            byte[] descriptor = SecurityDescriptor();
            var sk = new byte[20 + descriptor.Length];
            Encoding.ASCII.GetBytes("sk").CopyTo(sk, 0);
            uint skOffset = (uint)cells.Length + 32;
            BinaryPrimitives.WriteUInt32LittleEndian(sk.AsSpan(4), skOffset);
            BinaryPrimitives.WriteUInt32LittleEndian(sk.AsSpan(8), skOffset);
            BinaryPrimitives.WriteUInt32LittleEndian(sk.AsSpan(12), 1);
            BinaryPrimitives.WriteUInt32LittleEndian(sk.AsSpan(16), (uint)descriptor.Length);
            descriptor.CopyTo(sk, 20);
            Allocate(sk);

            void Patch(uint offset, byte[] data)
            {
                long at = cells.Position;
                cells.Position = offset - 32 + 4;
                cells.Write(data, 0, data.Length);
                cells.Position = at;
            }

            uint rootOffset = WriteKey(root, 0xFFFFFFFF, true, skOffset, Allocate, Patch);

            int binSize = (int)((cells.Length + 32 + 4095) / 4096 * 4096);
            if (binSize - 32 - cells.Length < 8)
            {
                binSize += 4096;
            }

            var bin = new byte[binSize];
            Encoding.ASCII.GetBytes("hbin").CopyTo(bin, 0);
            BinaryPrimitives.WriteUInt32LittleEndian(bin.AsSpan(4), 0);
            BinaryPrimitives.WriteUInt32LittleEndian(bin.AsSpan(8), (uint)binSize);
            cells.ToArray().CopyTo(bin, 32);
            int free = binSize - 32 - (int)cells.Length;
            BinaryPrimitives.WriteInt32LittleEndian(bin.AsSpan(32 + (int)cells.Length), free);

            var baseBlock = new byte[4096];
            Encoding.ASCII.GetBytes("regf").CopyTo(baseBlock, 0);
            BinaryPrimitives.WriteUInt32LittleEndian(baseBlock.AsSpan(4), 1);
            BinaryPrimitives.WriteUInt32LittleEndian(baseBlock.AsSpan(8), 1);
            BinaryPrimitives.WriteInt64LittleEndian(baseBlock.AsSpan(12), root.LastWritten.ToFileTimeUtc());
            BinaryPrimitives.WriteUInt32LittleEndian(baseBlock.AsSpan(20), 1);
            BinaryPrimitives.WriteUInt32LittleEndian(baseBlock.AsSpan(24), 5);
            BinaryPrimitives.WriteUInt32LittleEndian(baseBlock.AsSpan(28), 0);
            BinaryPrimitives.WriteUInt32LittleEndian(baseBlock.AsSpan(32), 1);
            BinaryPrimitives.WriteUInt32LittleEndian(baseBlock.AsSpan(36), rootOffset);
            BinaryPrimitives.WriteUInt32LittleEndian(baseBlock.AsSpan(40), (uint)binSize);
            BinaryPrimitives.WriteUInt32LittleEndian(baseBlock.AsSpan(44), 1);
            byte[] name = Encoding.Unicode.GetBytes(fileName.Length > 31 ? fileName.Substring(fileName.Length - 31) : fileName);
            name.CopyTo(baseBlock, 48);
            uint sum = 0;
            for (int i = 0; i < 508; i += 4)
            {
                sum ^= BinaryPrimitives.ReadUInt32LittleEndian(baseBlock.AsSpan(i));
            }

            sum = sum == 0 ? 1 : sum == 0xFFFFFFFF ? 0xFFFFFFFE : sum;
            BinaryPrimitives.WriteUInt32LittleEndian(baseBlock.AsSpan(508), sum);

            var file = new byte[baseBlock.Length + bin.Length];
            baseBlock.CopyTo(file, 0);
            bin.CopyTo(file, baseBlock.Length);
            return file;
        }

        public static void WriteFile(string path, RegfKey root, string? hiveName = null)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllBytes(path, Write(root, hiveName ?? "\\??\\C:\\" + Path.GetFileName(path)));
        }

        private static uint WriteKey(RegfKey key, uint parent, bool isRoot, uint sk, Func<byte[], uint> allocate, Action<uint, byte[]> patch)
        {
            // The children need their parent's offset: reserve the nk first, fill it in after the children.
            bool ascii = key.Name.All(c => c < 0x80);
            byte[] nameBytes = ascii ? Encoding.ASCII.GetBytes(key.Name) : Encoding.Unicode.GetBytes(key.Name);
            var nk = new byte[76 + nameBytes.Length];
            uint nkOffset = allocate(nk);
            Encoding.ASCII.GetBytes("nk").CopyTo(nk, 0);
            ushort flags = (ushort)((ascii ? 0x20 : 0) | (isRoot ? 0x0C : 0));
            BinaryPrimitives.WriteUInt16LittleEndian(nk.AsSpan(2), flags);
            BinaryPrimitives.WriteInt64LittleEndian(nk.AsSpan(4), key.LastWritten.ToFileTimeUtc());
            BinaryPrimitives.WriteUInt32LittleEndian(nk.AsSpan(16), parent);
            var ordered = key.Subkeys.OrderBy(s => s.Name.ToUpperInvariant(), StringComparer.Ordinal).ToList();
            var childOffsets = new List<uint>();
            foreach (RegfKey child in ordered)
            {
                childOffsets.Add(WriteKey(child, nkOffset, false, sk, allocate, patch));
            }

            uint list = 0xFFFFFFFF;
            if (childOffsets.Count > 0)
            {
                var lh = new byte[4 + 8 * childOffsets.Count];
                Encoding.ASCII.GetBytes("lh").CopyTo(lh, 0);
                BinaryPrimitives.WriteUInt16LittleEndian(lh.AsSpan(2), (ushort)childOffsets.Count);
                for (int i = 0; i < childOffsets.Count; i++)
                {
                    BinaryPrimitives.WriteUInt32LittleEndian(lh.AsSpan(4 + 8 * i), childOffsets[i]);
                    BinaryPrimitives.WriteUInt32LittleEndian(lh.AsSpan(8 + 8 * i), Hash(ordered[i].Name));
                }

                list = allocate(lh);
            }

            uint valueList = 0xFFFFFFFF;
            if (key.Values.Count > 0)
            {
                var offsets = new byte[4 * key.Values.Count];
                for (int i = 0; i < key.Values.Count; i++)
                {
                    BinaryPrimitives.WriteUInt32LittleEndian(offsets.AsSpan(4 * i), WriteValue(key.Values[i], allocate));
                }

                valueList = allocate(offsets);
            }

            BinaryPrimitives.WriteUInt32LittleEndian(nk.AsSpan(20), (uint)childOffsets.Count);
            BinaryPrimitives.WriteUInt32LittleEndian(nk.AsSpan(28), list);
            BinaryPrimitives.WriteUInt32LittleEndian(nk.AsSpan(32), 0xFFFFFFFF);
            BinaryPrimitives.WriteUInt32LittleEndian(nk.AsSpan(36), (uint)key.Values.Count);
            BinaryPrimitives.WriteUInt32LittleEndian(nk.AsSpan(40), valueList);
            BinaryPrimitives.WriteUInt32LittleEndian(nk.AsSpan(44), sk);
            BinaryPrimitives.WriteUInt32LittleEndian(nk.AsSpan(48), 0xFFFFFFFF);
            BinaryPrimitives.WriteUInt16LittleEndian(nk.AsSpan(72), (ushort)nameBytes.Length);
            nameBytes.CopyTo(nk, 76);
            patch(nkOffset, nk);
            return nkOffset;
        }

        private static uint WriteValue((string Name, uint Type, byte[] Data) value, Func<byte[], uint> allocate)
        {
            bool ascii = value.Name.All(c => c < 0x80);
            byte[] nameBytes = ascii ? Encoding.ASCII.GetBytes(value.Name) : Encoding.Unicode.GetBytes(value.Name);
            var vk = new byte[20 + nameBytes.Length];
            Encoding.ASCII.GetBytes("vk").CopyTo(vk, 0);
            BinaryPrimitives.WriteUInt16LittleEndian(vk.AsSpan(2), (ushort)nameBytes.Length);
            if (value.Data.Length <= 4)
            {
                BinaryPrimitives.WriteUInt32LittleEndian(vk.AsSpan(4), 0x80000000u | (uint)value.Data.Length);
                value.Data.CopyTo(vk, 8);
            }
            else
            {
                BinaryPrimitives.WriteUInt32LittleEndian(vk.AsSpan(4), (uint)value.Data.Length);
                BinaryPrimitives.WriteUInt32LittleEndian(vk.AsSpan(8), allocate(value.Data));
            }

            BinaryPrimitives.WriteUInt32LittleEndian(vk.AsSpan(12), value.Type);
            BinaryPrimitives.WriteUInt16LittleEndian(vk.AsSpan(16), (ushort)(ascii ? 1 : 0));
            nameBytes.CopyTo(vk, 20);
            return allocate(vk);
        }

        private static uint Hash(string name)
        {
            uint h = 0;
            foreach (char c in name.ToUpperInvariant())
            {
                h = h * 37 + c;
            }

            return h;
        }

        private static byte[] SecurityDescriptor()
        {
            // Self-relative SECURITY_DESCRIPTOR: revision 1, SE_SELF_RELATIVE, owner and group S-1-5-18.
            var sd = new byte[20 + 12 + 12];
            sd[0] = 1;
            BinaryPrimitives.WriteUInt16LittleEndian(sd.AsSpan(2), 0x8000);
            BinaryPrimitives.WriteUInt32LittleEndian(sd.AsSpan(4), 20);
            BinaryPrimitives.WriteUInt32LittleEndian(sd.AsSpan(8), 32);
            byte[] system = { 1, 1, 0, 0, 0, 0, 0, 5, 18, 0, 0, 0 };
            system.CopyTo(sd, 20);
            system.CopyTo(sd, 32);
            return sd;
        }
    }
}
