using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.IO;
using System.Text;

namespace FluxForensics.Fixtures.Usb
{
    /// <summary>What a fixture shortcut says. Paths are Windows paths (<c>C:\WINDOWS\system32\cmd.exe</c>).</summary>
    public sealed class ShellLinkSpec
    {
        public string TargetPath { get; set; } = string.Empty;
        public bool TargetIsDirectory { get; set; }
        public string? Description { get; set; }
        public string? RelativePath { get; set; }
        public string? WorkingDirectory { get; set; }
        public string? Arguments { get; set; }
        public string? IconLocation { get; set; }
        public int IconIndex { get; set; }

        /// <summary>SW_SHOWNORMAL 1, SW_SHOWMINNOACTIVE 7.</summary>
        public uint ShowCommand { get; set; } = 1;
        public string? EnvironmentTarget { get; set; }
        public string? MachineId { get; set; }
        public bool WriteIdList { get; set; } = true;
        public bool WriteLinkInfo { get; set; } = true;
        public uint DriveType { get; set; } = 3;
        public uint DriveSerialNumber { get; set; } = 0x1234ABCD;
        public string VolumeLabel { get; set; } = string.Empty;
        public uint TargetSize { get; set; }
        public DateTime Time { get; set; } = new DateTime(2026, 11, 2, 9, 30, 0, DateTimeKind.Utc);
    }

    /// <summary>
    /// Writes Shell Link files per MS-SHLLINK: header, LinkTargetIDList (My Computer, volume, file entries with
    /// 0xBEEF0004 long-name blocks), LinkInfo (VolumeID + LocalBasePath), Unicode StringData, and ExtraData
    /// (environment variables, tracker). Independent of the reader it tests: nothing here comes from Core.
    /// </summary>
    public static class ShellLinkWriter
    {
        private static readonly byte[] ShellLinkClsid = new Guid("00021401-0000-0000-C000-000000000046").ToByteArray();
        private static readonly byte[] MyComputer = new Guid("20D04FE0-3AEA-1069-A2D8-08002B30309D").ToByteArray();

        public static byte[] Write(ShellLinkSpec spec)
        {
            var body = new MemoryStream();
            uint flags = 0x80; // IsUnicode
            if (spec.WriteIdList)
            {
                flags |= 0x1;
                byte[] idList = IdList(spec);
                WriteU16(body, (ushort)idList.Length);
                body.Write(idList, 0, idList.Length);
            }

            if (spec.WriteLinkInfo)
            {
                flags |= 0x2;
                byte[] info = LinkInfo(spec);
                body.Write(info, 0, info.Length);
            }

            void Str(string? value, uint flag)
            {
                if (value is null)
                {
                    return;
                }

                flags |= flag;
                WriteU16(body, (ushort)value.Length);
                byte[] b = Encoding.Unicode.GetBytes(value);
                body.Write(b, 0, b.Length);
            }

            Str(spec.Description, 0x4);
            Str(spec.RelativePath, 0x8);
            Str(spec.WorkingDirectory, 0x10);
            Str(spec.Arguments, 0x20);
            Str(spec.IconLocation, 0x40);

            if (spec.EnvironmentTarget is not null)
            {
                flags |= 0x200; // HasExpString
                var block = new byte[0x314];
                BinaryPrimitives.WriteUInt32LittleEndian(block, 0x314);
                BinaryPrimitives.WriteUInt32LittleEndian(block.AsSpan(4), 0xA0000001);
                Encoding.ASCII.GetBytes(spec.EnvironmentTarget).CopyTo(block, 8);
                Encoding.Unicode.GetBytes(spec.EnvironmentTarget).CopyTo(block, 8 + 260);
                body.Write(block, 0, block.Length);
            }

            if (spec.MachineId is not null)
            {
                var block = new byte[0x60];
                BinaryPrimitives.WriteUInt32LittleEndian(block, 0x60);
                BinaryPrimitives.WriteUInt32LittleEndian(block.AsSpan(4), 0xA0000003);
                BinaryPrimitives.WriteUInt32LittleEndian(block.AsSpan(8), 0x58);
                Encoding.ASCII.GetBytes(spec.MachineId, 0, Math.Min(15, spec.MachineId.Length), block, 16);
                // Droids: a volume id and a version 1 (time + MAC) file id, the way the link-tracking service makes them.
                var volume = new Guid("4a6f1b2c-0d3e-4f50-8a61-72b3c4d5e6f7").ToByteArray();
                var file = new Guid("7c0f3e2a-4b1d-11ef-9a5b-0800275f1c2d").ToByteArray();
                volume.CopyTo(block, 32);
                file.CopyTo(block, 48);
                volume.CopyTo(block, 64);
                file.CopyTo(block, 80);
                body.Write(block, 0, block.Length);
            }

            WriteU32(body, 0); // TerminalBlock

            var header = new byte[0x4C];
            BinaryPrimitives.WriteUInt32LittleEndian(header, 0x4C);
            ShellLinkClsid.CopyTo(header, 4);
            BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(0x14), flags);
            BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(0x18), spec.TargetIsDirectory ? 0x10u : 0x20u);
            long ft = spec.Time.ToFileTimeUtc();
            BinaryPrimitives.WriteInt64LittleEndian(header.AsSpan(0x1C), ft);
            BinaryPrimitives.WriteInt64LittleEndian(header.AsSpan(0x24), ft);
            BinaryPrimitives.WriteInt64LittleEndian(header.AsSpan(0x2C), ft);
            BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(0x34), spec.TargetSize);
            BinaryPrimitives.WriteInt32LittleEndian(header.AsSpan(0x38), spec.IconIndex);
            BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(0x3C), spec.ShowCommand);

            var result = new MemoryStream();
            result.Write(header, 0, header.Length);
            body.Position = 0;
            body.CopyTo(result);
            return result.ToArray();
        }

        private static byte[] IdList(ShellLinkSpec spec)
        {
            var list = new MemoryStream();
            // Root: My Computer.
            var root = new byte[20];
            BinaryPrimitives.WriteUInt16LittleEndian(root, 20);
            root[2] = 0x1F;
            root[3] = 0x50;
            MyComputer.CopyTo(root, 4);
            list.Write(root, 0, root.Length);

            string[] parts = spec.TargetPath.Split('\\', StringSplitOptions.RemoveEmptyEntries);
            // Volume: "C:\" in a 25-byte item.
            var volume = new byte[25];
            BinaryPrimitives.WriteUInt16LittleEndian(volume, 25);
            volume[2] = 0x2F;
            Encoding.ASCII.GetBytes(parts[0] + "\\").CopyTo(volume, 3);
            list.Write(volume, 0, volume.Length);

            for (int i = 1; i < parts.Length; i++)
            {
                bool directory = i < parts.Length - 1 || spec.TargetIsDirectory;
                byte[] item = FileEntry(parts[i], directory, directory ? 0 : spec.TargetSize, spec.Time);
                list.Write(item, 0, item.Length);
            }

            WriteU16(list, 0); // TerminalID
            return list.ToArray();
        }

        private static byte[] FileEntry(string longName, bool directory, uint size, DateTime time)
        {
            string shortName = ShortName(longName, directory);
            var item = new MemoryStream();
            item.Write(new byte[2], 0, 2); // size, patched below
            item.WriteByte((byte)(directory ? 0x31 : 0x32));
            item.WriteByte(0);
            WriteU32(item, size);
            WriteU32(item, DosDateTime(time));
            WriteU16(item, (ushort)(directory ? 0x10 : 0x20));
            byte[] ansi = Encoding.ASCII.GetBytes(shortName);
            item.Write(ansi, 0, ansi.Length);
            item.WriteByte(0);
            if (item.Length % 2 != 0)
            {
                item.WriteByte(0);
            }

            long extensionOffset = item.Length;
            // 0xBEEF0004 version 8: times, file reference, long name.
            byte[] name = Encoding.Unicode.GetBytes(longName + "\0");
            int extensionSize = 42 + name.Length + 2;
            WriteU16(item, (ushort)extensionSize);
            WriteU16(item, 8);
            WriteU32(item, 0xBEEF0004);
            WriteU32(item, DosDateTime(time));
            WriteU32(item, DosDateTime(time));
            WriteU16(item, 0x2E);
            WriteU16(item, 0);
            item.Write(new byte[16], 0, 16); // file reference + unknown
            WriteU16(item, 0); // long string size (no localized name)
            WriteU32(item, 0);
            item.Write(name, 0, name.Length);
            WriteU16(item, 0x14); // first extension block version offset
            WriteU16(item, (ushort)extensionOffset);

            byte[] bytes = item.ToArray();
            BinaryPrimitives.WriteUInt16LittleEndian(bytes, (ushort)bytes.Length);
            return bytes;
        }

        private static byte[] LinkInfo(ShellLinkSpec spec)
        {
            byte[] label = Encoding.ASCII.GetBytes(spec.VolumeLabel + "\0");
            var volumeId = new byte[16 + label.Length];
            BinaryPrimitives.WriteUInt32LittleEndian(volumeId, (uint)volumeId.Length);
            BinaryPrimitives.WriteUInt32LittleEndian(volumeId.AsSpan(4), spec.DriveType);
            BinaryPrimitives.WriteUInt32LittleEndian(volumeId.AsSpan(8), spec.DriveSerialNumber);
            BinaryPrimitives.WriteUInt32LittleEndian(volumeId.AsSpan(12), 16);
            label.CopyTo(volumeId, 16);

            byte[] basePath = Encoding.ASCII.GetBytes(spec.TargetPath + "\0");
            int headerSize = 0x1C;
            int volumeOffset = headerSize;
            int baseOffset = volumeOffset + volumeId.Length;
            int suffixOffset = baseOffset + basePath.Length;
            int total = suffixOffset + 1;
            var info = new byte[total];
            BinaryPrimitives.WriteUInt32LittleEndian(info, (uint)total);
            BinaryPrimitives.WriteUInt32LittleEndian(info.AsSpan(4), (uint)headerSize);
            BinaryPrimitives.WriteUInt32LittleEndian(info.AsSpan(8), 1); // VolumeIDAndLocalBasePath
            BinaryPrimitives.WriteUInt32LittleEndian(info.AsSpan(12), (uint)volumeOffset);
            BinaryPrimitives.WriteUInt32LittleEndian(info.AsSpan(16), (uint)baseOffset);
            BinaryPrimitives.WriteUInt32LittleEndian(info.AsSpan(20), 0);
            BinaryPrimitives.WriteUInt32LittleEndian(info.AsSpan(24), (uint)suffixOffset);
            volumeId.CopyTo(info, volumeOffset);
            basePath.CopyTo(info, baseOffset);
            return info;
        }

        private static string ShortName(string name, bool directory)
        {
            string upper = name.ToUpperInvariant();
            int dot = upper.LastIndexOf('.');
            string stem = dot > 0 && !directory ? upper.Substring(0, dot) : upper;
            string ext = dot > 0 && !directory ? upper.Substring(dot + 1) : string.Empty;
            if (stem.Length > 8)
            {
                stem = stem.Substring(0, 6) + "~1";
            }

            return ext.Length == 0 ? stem : stem + "." + (ext.Length > 3 ? ext.Substring(0, 3) : ext);
        }

        private static uint DosDateTime(DateTime t) =>
            (uint)(((t.Year - 1980) << 9 | t.Month << 5 | t.Day) | (t.Hour << 11 | t.Minute << 5 | t.Second / 2) << 16);

        private static void WriteU16(Stream s, ushort v)
        {
            Span<byte> b = stackalloc byte[2];
            BinaryPrimitives.WriteUInt16LittleEndian(b, v);
            s.Write(b);
        }

        private static void WriteU32(Stream s, uint v)
        {
            Span<byte> b = stackalloc byte[4];
            BinaryPrimitives.WriteUInt32LittleEndian(b, v);
            s.Write(b);
        }
    }
}
