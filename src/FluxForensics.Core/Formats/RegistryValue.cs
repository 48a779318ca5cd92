using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using FluxForensics.Model;

namespace FluxForensics.Formats
{
    /// <summary>Registry value types (winnt.h REG_*).</summary>
    public enum RegistryValueType : uint
    {
        None = 0,
        String = 1,
        ExpandString = 2,
        Binary = 3,
        DWord = 4,
        DWordBigEndian = 5,
        Link = 6,
        MultiString = 7,
        ResourceList = 8,
        FullResourceDescriptor = 9,
        ResourceRequirementsList = 10,
        QWord = 11,
    }

    /// <summary>A value (vk) of a key with its data as stored.</summary>
    public sealed class RegistryValue
    {
        private RegistryValue(string name, RegistryValueType type, uint rawType, byte[] data, long offset)
        {
            Name = name;
            Type = type;
            RawType = rawType;
            Data = data;
            CellOffset = offset;
        }

        /// <summary>The value name; empty for the default value.</summary>
        public string Name { get; }
        public RegistryValueType Type { get; }
        public uint RawType { get; }
        public byte[] Data { get; }
        public long CellOffset { get; }

        /// <summary>The data read as UTF-16 in full, terminating NULs included (what yarp's <c>data()</c> gives).</summary>
        public string RawString => TextDecoding.Utf16(Data);

        /// <summary>The string up to its first NUL, as Windows returns a REG_SZ/REG_EXPAND_SZ; null for other types.</summary>
        public string? String
        {
            get
            {
                if (Type != RegistryValueType.String && Type != RegistryValueType.ExpandString && Type != RegistryValueType.Link)
                {
                    return null;
                }

                string s = RawString;
                int nul = s.IndexOf('\0');
                return nul >= 0 ? s.Substring(0, nul) : s;
            }
        }

        /// <summary>The strings of a REG_MULTI_SZ, each without its NUL; the list ends at the empty terminating string.</summary>
        public string[]? MultiString
        {
            get
            {
                if (Type != RegistryValueType.MultiString)
                {
                    return null;
                }

                var parts = new List<string>();
                string s = RawString;
                int start = 0;
                while (start < s.Length)
                {
                    int nul = s.IndexOf('\0', start);
                    if (nul < 0)
                    {
                        parts.Add(s.Substring(start));
                        break;
                    }

                    parts.Add(s.Substring(start, nul - start));
                    start = nul + 1;
                }

                while (parts.Count > 0 && parts[parts.Count - 1].Length == 0)
                {
                    parts.RemoveAt(parts.Count - 1);
                }

                return parts.ToArray();
            }
        }

        public ulong? Number => Type switch
        {
            RegistryValueType.DWord when Data.Length >= 4 => BinaryPrimitives.ReadUInt32LittleEndian(Data),
            RegistryValueType.DWordBigEndian when Data.Length >= 4 => BinaryPrimitives.ReadUInt32BigEndian(Data),
            RegistryValueType.QWord when Data.Length >= 8 => BinaryPrimitives.ReadUInt64LittleEndian(Data),
            _ => null,
        };

        /// <summary>The data as text the way an autorun shows it: strings as stored, multi-strings joined by a space,
        /// numbers in decimal, binary in hex.</summary>
        public string Text =>
            String ?? (MultiString is { } m ? string.Join(" ", m) : Number?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? BitConverter.ToString(Data));

        public override string ToString() => $"{(Name.Length == 0 ? "(default)" : Name)} [{Type}] {Text}";

        internal static RegistryValue? Read(RegistryHive hive, RegistryKey key, uint offset)
        {
            ReadOnlySpan<byte> c = hive.Cell(offset, "value");
            if (c.IsEmpty)
            {
                return null;
            }

            long fileOffset = RegistryHive.FileOffset(offset);
            if (c.Length < 20 || c[0] != (byte)'v' || c[1] != (byte)'k')
            {
                hive.Report(fileOffset, "value", $"value cell of '{key.Path}' is not a vk cell");
                return null;
            }

            int nameLength = RegistryHive.U16(c, 2);
            uint size = RegistryHive.U32(c, 4);
            uint dataOffset = RegistryHive.U32(c, 8);
            uint rawType = RegistryHive.U32(c, 12);
            ushort flags = RegistryHive.U16(c, 16);
            if (20 + nameLength > c.Length)
            {
                hive.Report(fileOffset, "value", $"value name length {nameLength} runs past its cell; name truncated");
                nameLength = c.Length - 20;
            }

            ReadOnlySpan<byte> rawName = c.Slice(20, nameLength);
            string name = (flags & 1) != 0 ? TextDecoding.Latin1(rawName) : TextDecoding.Utf16(rawName);
            byte[] data = ReadData(hive, key, name, size, dataOffset, fileOffset);
            var type = rawType <= 11 ? (RegistryValueType)rawType : RegistryValueType.None;
            return new RegistryValue(name, type, rawType, data, fileOffset);
        }

        private static byte[] ReadData(RegistryHive hive, RegistryKey key, string name, uint size, uint dataOffset, long fileOffset)
        {
            if ((size & 0x80000000) != 0)
            {
                // Resident data: up to four bytes kept in the offset field itself.
                int length = (int)Math.Min(size & 0x7FFFFFFF, 4);
                var resident = new byte[4];
                BinaryPrimitives.WriteUInt32LittleEndian(resident, dataOffset);
                return resident.AsSpan(0, length).ToArray();
            }

            if (size == 0)
            {
                return Array.Empty<byte>();
            }

            if (size > RegistryHive.MaxValueData || size > hive.Span.Length)
            {
                hive.Report(fileOffset, "value", $"value '{name}' of '{key.Path}' states {size} bytes, more than the hive holds or the cap; not read");
                return Array.Empty<byte>();
            }

            ReadOnlySpan<byte> cell = hive.Cell(dataOffset, "value data");
            if (cell.Length >= 4 && cell[0] == (byte)'d' && cell[1] == (byte)'b' && size > RegistryHive.BigDataSegmentSize && hive.MinorVersion > 3)
            {
                return ReadBigData(hive, key, name, size, cell, dataOffset);
            }

            if (cell.Length < size)
            {
                hive.Report(RegistryHive.FileOffset(dataOffset), "value data", $"value '{name}' of '{key.Path}' states {size} bytes; its cell holds {cell.Length}");
                return cell.ToArray();
            }

            return cell.Slice(0, (int)size).ToArray();
        }

        private static byte[] ReadBigData(RegistryHive hive, RegistryKey key, string name, uint size, ReadOnlySpan<byte> db, uint dbOffset)
        {
            int segments = RegistryHive.U16(db, 2);
            uint listOffset = db.Length >= 8 ? RegistryHive.U32(db, 4) : 0xFFFFFFFF;
            ReadOnlySpan<byte> list = hive.Cell(listOffset, "big data segment list");
            if (list.Length / 4 < segments)
            {
                hive.Report(RegistryHive.FileOffset(dbOffset), "big data", $"value '{name}' of '{key.Path}' states {segments} segments; the list holds {list.Length / 4}");
                segments = list.Length / 4;
            }

            var data = new byte[Math.Min(size, (long)segments * RegistryHive.BigDataSegmentSize)];
            int filled = 0;
            var seen = new HashSet<uint>();
            for (int i = 0; i < segments && filled < data.Length; i++)
            {
                uint segmentOffset = RegistryHive.U32(list, i * 4);
                if (!seen.Add(segmentOffset))
                {
                    hive.Report(RegistryHive.FileOffset(dbOffset), "big data", $"segment list of '{name}' repeats a segment");
                    break;
                }

                ReadOnlySpan<byte> segment = hive.Cell(segmentOffset, "big data segment");
                int take = (int)Math.Min(Math.Min(segment.Length, RegistryHive.BigDataSegmentSize), data.Length - filled);
                segment.Slice(0, take).CopyTo(data.AsSpan(filled));
                filled += take;
            }

            if (filled < size)
            {
                hive.Report(RegistryHive.FileOffset(dbOffset), "big data", $"value '{name}' of '{key.Path}': {filled} of {size} bytes could be read");
                return data.AsSpan(0, filled).ToArray();
            }

            return data;
        }
    }
}
