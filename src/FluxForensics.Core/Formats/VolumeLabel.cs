using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.Text;
using FluxForensics.Model;

namespace FluxForensics.Formats
{
    /// <summary>Where an NTFS volume keeps its MFT, from the boot sector.</summary>
    public readonly struct NtfsGeometry
    {
        public NtfsGeometry(int bytesPerSector, long clusterSize, long mftOffset, int recordSize)
        {
            BytesPerSector = bytesPerSector;
            ClusterSize = clusterSize;
            MftOffset = mftOffset;
            RecordSize = recordSize;
        }

        public int BytesPerSector { get; }
        public long ClusterSize { get; }
        public long MftOffset { get; }
        public int RecordSize { get; }

        /// <summary>Byte offset of MFT record <paramref name="index"/> (the first records are contiguous on every volume).</summary>
        public long RecordOffset(int index) => MftOffset + (long)index * RecordSize;
    }

    /// <summary>
    /// The label of a FAT or NTFS volume, read from the volume itself (Linux tells it for neither an ntfs-3g image nor a
    /// FUSE mount). NTFS: the boot sector gives the MFT; record 3 ($Volume) holds the $VOLUME_NAME attribute. FAT12/16/32:
    /// the label field of the extended boot record. Lengths and offsets are checked; anything odd is a ParseIssue and no label.
    /// </summary>
    public static class VolumeLabelReader
    {
        public const int BootSectorSize = 512;
        public const int VolumeRecord = 3;
        private const uint VolumeNameType = 0x60;
        private const uint EndMarker = 0xFFFFFFFF;

        public static bool IsNtfs(ReadOnlySpan<byte> boot) =>
            boot.Length >= BootSectorSize && boot.Slice(3, 8).SequenceEqual(Encoding.ASCII.GetBytes("NTFS    "));

        /// <summary>The MFT's place from an NTFS boot sector, or null (with an issue) when the fields are not sane.</summary>
        public static NtfsGeometry? ParseNtfsBootSector(ReadOnlySpan<byte> boot, string source, List<ParseIssue> issues)
        {
            if (!IsNtfs(boot))
            {
                issues.Add(new ParseIssue(source, 3, "not an NTFS boot sector", "NTFS boot sector"));
                return null;
            }

            int bytesPerSector = BinaryPrimitives.ReadUInt16LittleEndian(boot.Slice(0x0B));
            byte sectorsField = boot[0x0D];
            // Above 0x80 the field is a negative power of two (0xF4 = 2^12); a huge exponent would overflow the shift.
            long sectorsPerCluster = sectorsField <= 0x80 ? sectorsField : 256 - sectorsField <= 16 ? 1L << (256 - sectorsField) : 0;
            long mftCluster = BinaryPrimitives.ReadInt64LittleEndian(boot.Slice(0x30));
            sbyte recordField = unchecked((sbyte)boot[0x40]);
            if (bytesPerSector < 256 || bytesPerSector > 4096 || (bytesPerSector & (bytesPerSector - 1)) != 0 || sectorsPerCluster <= 0 || sectorsPerCluster > 1 << 16)
            {
                issues.Add(new ParseIssue(source, 0x0B, $"implausible geometry ({bytesPerSector} bytes a sector, {sectorsPerCluster} sectors a cluster)", "NTFS boot sector"));
                return null;
            }

            long clusterSize = bytesPerSector * sectorsPerCluster;
            long recordSize = recordField > 0 ? recordField * clusterSize : recordField > -31 && recordField < 0 ? 1L << -recordField : 0;
            if (recordSize < 256 || recordSize > 65536 || mftCluster <= 0 || mftCluster > long.MaxValue / clusterSize / 2)
            {
                issues.Add(new ParseIssue(source, 0x30, $"implausible MFT (cluster {mftCluster}, {recordSize}-byte records)", "NTFS boot sector"));
                return null;
            }

            return new NtfsGeometry(bytesPerSector, clusterSize, mftCluster * clusterSize, (int)recordSize);
        }

        /// <summary>The volume name in an MFT record ($Volume), after applying its update sequence; null when it has none.</summary>
        public static string? NtfsVolumeName(ReadOnlySpan<byte> recordBytes, string source, long offset, List<ParseIssue> issues)
        {
            if (recordBytes.Length < 48 || !recordBytes.Slice(0, 4).SequenceEqual(Encoding.ASCII.GetBytes("FILE")))
            {
                issues.Add(new ParseIssue(source, offset, "the $Volume MFT record has no FILE signature", "MFT record"));
                return null;
            }

            var record = recordBytes.ToArray();
            int usaOffset = BinaryPrimitives.ReadUInt16LittleEndian(record.AsSpan(4));
            int usaCount = BinaryPrimitives.ReadUInt16LittleEndian(record.AsSpan(6));
            // The update sequence: the last two bytes of every 512-byte stride were swapped for its number on write.
            if (usaCount == 0 || usaOffset < 0x28 || usaOffset + 2L * usaCount > record.Length || (usaCount - 1) * 512 > record.Length)
            {
                issues.Add(new ParseIssue(source, offset + 4, $"update sequence out of bounds (offset {usaOffset}, {usaCount} entries)", "MFT record"));
                return null;
            }

            ushort usn = BinaryPrimitives.ReadUInt16LittleEndian(record.AsSpan(usaOffset));
            for (int i = 1; i < usaCount; i++)
            {
                int end = i * 512 - 2;
                if (BinaryPrimitives.ReadUInt16LittleEndian(record.AsSpan(end)) != usn)
                {
                    issues.Add(new ParseIssue(source, offset + end, "torn MFT record (update sequence does not match)", "MFT record"));
                    return null;
                }

                record[end] = record[usaOffset + 2 * i];
                record[end + 1] = record[usaOffset + 2 * i + 1];
            }

            int position = BinaryPrimitives.ReadUInt16LittleEndian(record.AsSpan(0x14));
            for (int guard = 0; guard < 64; guard++)
            {
                if (position < 0x18 || position + 8 > record.Length)
                {
                    issues.Add(new ParseIssue(source, offset + position, "attribute list runs past the record", "MFT record"));
                    return null;
                }

                uint type = BinaryPrimitives.ReadUInt32LittleEndian(record.AsSpan(position));
                if (type == EndMarker)
                {
                    return null;
                }

                uint length = BinaryPrimitives.ReadUInt32LittleEndian(record.AsSpan(position + 4));
                if (length < 16 || length > record.Length - position)
                {
                    issues.Add(new ParseIssue(source, offset + position + 4, $"attribute length {length} out of bounds", "MFT attribute"));
                    return null;
                }

                if (type == VolumeNameType)
                {
                    if (record[position + 8] != 0 || length < 0x18)
                    {
                        issues.Add(new ParseIssue(source, offset + position + 8, "$VOLUME_NAME is not resident", "MFT attribute"));
                        return null;
                    }

                    uint size = BinaryPrimitives.ReadUInt32LittleEndian(record.AsSpan(position + 0x10));
                    int start = BinaryPrimitives.ReadUInt16LittleEndian(record.AsSpan(position + 0x14));
                    if (start > length || size > length - start || (size & 1) != 0)
                    {
                        issues.Add(new ParseIssue(source, offset + position + 0x10, $"$VOLUME_NAME of {size} bytes at {start} does not fit its attribute", "MFT attribute"));
                        return null;
                    }

                    string name = Encoding.Unicode.GetString(record, position + start, (int)size);
                    return name.Length == 0 ? null : name;
                }

                position += (int)length;
            }

            issues.Add(new ParseIssue(source, offset, "more than 64 attributes in the $Volume record", "MFT record"));
            return null;
        }

        /// <summary>The label of a FAT12/16/32 boot sector's extended boot record; null for none ("NO NAME") or not FAT.</summary>
        public static string? FatLabel(ReadOnlySpan<byte> boot)
        {
            if (boot.Length < BootSectorSize || boot[510] != 0x55 || boot[511] != 0xAA || IsNtfs(boot))
            {
                return null;
            }

            bool fat32 = BinaryPrimitives.ReadUInt16LittleEndian(boot.Slice(0x16)) == 0;
            int signature = fat32 ? 0x42 : 0x26;
            int label = fat32 ? 0x47 : 0x2B;
            int type = fat32 ? 0x52 : 0x36;
            if ((boot[signature] != 0x29 && boot[signature] != 0x28) || boot[type] != (byte)'F' || boot[type + 1] != (byte)'A' || boot[type + 2] != (byte)'T')
            {
                return null;
            }

            var chars = new char[11];
            for (int i = 0; i < 11; i++)
            {
                byte b = boot[label + i];
                chars[i] = b >= 0x20 && b < 0x7F ? (char)b : '?';
            }

            string text = new string(chars).TrimEnd(' ');
            return text.Length == 0 || text == "NO NAME" ? null : text;
        }
    }
}
