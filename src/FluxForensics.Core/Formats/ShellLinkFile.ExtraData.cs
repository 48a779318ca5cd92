using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.Linq;
using System.Text;
using FluxForensics.Model;

namespace FluxForensics.Formats
{
    public static partial class ShellLinkFile
    {
        /// <summary>The ExtraData section (MS-SHLLINK 2.5): the data blocks after the string data, the property store among them.</summary>
        private sealed partial class Reader
        {
            private void ParseExtraData(ReadOnlySpan<byte> data, int position)
            {
                var signatures = new List<uint>();
                var properties = new List<ShellLinkProperty>();
                while (true)
                {
                    if (position + 4 > data.Length)
                    {
                        // Windows always ends ExtraData with a TerminalBlock: a file that stops before it was cut short.
                        Issue(position, "ExtraData", $"file ends at {data.Length} bytes without the TerminalBlock (truncated?)");
                        break;
                    }

                    uint blockSize = BinaryPrimitives.ReadUInt32LittleEndian(data.Slice(position));
                    if (blockSize < 4)
                    {
                        break;
                    }

                    if (blockSize < 8 || position + (long)blockSize > data.Length)
                    {
                        Issue(position, "ExtraData", $"BlockSize {blockSize} is too small or runs past the end of the file ({data.Length} bytes)");
                        break;
                    }

                    if (signatures.Count >= MaxExtraBlocks)
                    {
                        Issue(position, "ExtraData", $"more than {MaxExtraBlocks} blocks; the rest were not read");
                        break;
                    }

                    var block = data.Slice(position, (int)blockSize);
                    uint signature = BinaryPrimitives.ReadUInt32LittleEndian(block.Slice(4));
                    signatures.Add(signature);
                    ParseBlock(block, signature, position, properties);
                    position += (int)blockSize;
                }

                _link.ExtraDataSignatures = signatures.ToArray();
                _link.Properties = properties.ToArray();
            }

            private void ParseBlock(ReadOnlySpan<byte> block, uint signature, int offset, List<ShellLinkProperty> properties)
            {
                switch (signature)
                {
                    case 0xA0000001: // EnvironmentVariableDataBlock
                    case 0xA0000006: // DarwinDataBlock
                    case 0xA0000007: // IconEnvironmentDataBlock
                        if (block.Length < 0x314)
                        {
                            Issue(offset, "ExtraData", $"block 0x{signature:X8} is {block.Length} bytes, expected 0x314");
                            return;
                        }

                        string? value = FixedString(block.Slice(8 + 260, 520), block.Slice(8, 260), offset, signature);
                        if (signature == 0xA0000001)
                        {
                            _link.EnvironmentTarget = value;
                        }
                        else if (signature == 0xA0000006)
                        {
                            _link.DarwinData = value;
                        }
                        else
                        {
                            _link.IconEnvironmentTarget = value;
                        }

                        return;

                    case 0xA0000002: // ConsoleDataBlock
                        _link.HasConsoleBlock = true;
                        if (block.Length >= 0xCC)
                        {
                            _link.ConsoleFaceName = TextDecoding.Utf16Z(block.Slice(0x2C, 64), out _);
                        }
                        else
                        {
                            Issue(offset, "ExtraData", $"ConsoleDataBlock is {block.Length} bytes, expected 0xCC");
                        }

                        return;

                    case 0xA0000003: // TrackerDataBlock
                        if (block.Length < 0x60)
                        {
                            Issue(offset, "ExtraData", $"TrackerDataBlock is {block.Length} bytes, expected 0x60");
                            return;
                        }

                        _link.MachineId = AnsiZ(block.Slice(16, 16), out int used);
                        if (used > 16)
                        {
                            Issue(offset + 16, "TrackerDataBlock", "MachineID is not NUL-terminated within its 16 bytes");
                        }

                        _link.DroidVolumeId = ReadGuid(block.Slice(32));
                        _link.DroidFileId = ReadGuid(block.Slice(48));
                        _link.BirthDroidVolumeId = ReadGuid(block.Slice(64));
                        _link.BirthDroidFileId = ReadGuid(block.Slice(80));
                        var fileDroid = block.Slice(48, 16);
                        if ((fileDroid[7] >> 4) == 1)
                        {
                            _link.TrackerMacAddress = string.Join(":", new[] { fileDroid[10], fileDroid[11], fileDroid[12], fileDroid[13], fileDroid[14], fileDroid[15] }.Select(b => b.ToString("x2")));
                        }

                        return;

                    case 0xA0000004: // ConsoleFEDataBlock
                        if (block.Length >= 12)
                        {
                            _link.ConsoleCodePage = BinaryPrimitives.ReadUInt32LittleEndian(block.Slice(8));
                        }

                        return;

                    case 0xA0000005: // SpecialFolderDataBlock
                        if (block.Length >= 16)
                        {
                            _link.SpecialFolderId = BinaryPrimitives.ReadUInt32LittleEndian(block.Slice(8));
                        }

                        return;

                    case 0xA0000008: // ShimDataBlock
                        _link.ShimLayerName = TextDecoding.Utf16Z(block.Slice(8), out _);
                        return;

                    case 0xA0000009: // PropertyStoreDataBlock
                        ParsePropertyStore(block.Slice(8), offset + 8, properties);
                        return;

                    case 0xA000000B: // KnownFolderDataBlock
                        if (block.Length >= 0x1C)
                        {
                            _link.KnownFolderId = ReadGuid(block.Slice(8));
                        }

                        return;

                    default:
                        // VistaAndAboveIDListDataBlock (0xA000000C) and blocks we do not know are skipped by size.
                        return;
                }
            }

            private string? FixedString(ReadOnlySpan<byte> unicode, ReadOnlySpan<byte> ansi, int offset, uint signature)
            {
                string u = TextDecoding.Utf16Z(unicode, out int usedUnicode);
                if (usedUnicode > unicode.Length)
                {
                    _overlong.Add($"ExtraData 0x{signature:X8}");
                    Issue(offset, "ExtraData", $"block 0x{signature:X8}: Unicode target is not NUL-terminated within 260 characters; not trusted");
                }

                if (u.Length > 0)
                {
                    return u;
                }

                string a = AnsiZ(ansi, out _);
                return a.Length > 0 ? a : null;
            }

            private void ParsePropertyStore(ReadOnlySpan<byte> store, long baseOffset, List<ShellLinkProperty> properties)
            {
                int position = 0;
                while (position + 4 <= store.Length)
                {
                    uint storageSize = BinaryPrimitives.ReadUInt32LittleEndian(store.Slice(position));
                    if (storageSize == 0)
                    {
                        return;
                    }

                    if (storageSize < 24 || position + (long)storageSize > store.Length)
                    {
                        Issue(baseOffset + position, "PropertyStore", $"StorageSize {storageSize} is too small or runs past its block");
                        return;
                    }

                    var storage = store.Slice(position, (int)storageSize);
                    uint version = BinaryPrimitives.ReadUInt32LittleEndian(storage.Slice(4));
                    if (version != 0x53505331)
                    {
                        Issue(baseOffset + position, "PropertyStore", $"storage version 0x{version:X8} is not 1SPS");
                        return;
                    }

                    var formatId = ReadGuid(storage.Slice(8));
                    bool named = formatId == new Guid("D5CDD505-2E9C-101B-9397-08002B2CF9AE");
                    int p = 24;
                    while (p + 4 <= storage.Length && properties.Count < MaxProperties)
                    {
                        uint valueSize = BinaryPrimitives.ReadUInt32LittleEndian(storage.Slice(p));
                        if (valueSize == 0)
                        {
                            break;
                        }

                        if (valueSize < 9 || p + (long)valueSize > storage.Length)
                        {
                            Issue(baseOffset + position + p, "PropertyStore", $"ValueSize {valueSize} is too small or runs past its storage");
                            break;
                        }

                        var value = storage.Slice(p, (int)valueSize);
                        uint id = 0;
                        string? name = null;
                        int typedStart;
                        if (named)
                        {
                            uint nameSize = BinaryPrimitives.ReadUInt32LittleEndian(value.Slice(4));
                            if (9 + (long)nameSize > value.Length)
                            {
                                Issue(baseOffset + position + p, "PropertyStore", $"NameSize {nameSize} runs past its value");
                                break;
                            }

                            name = TextDecoding.Utf16Z(value.Slice(9, (int)nameSize), out _);
                            typedStart = 9 + (int)nameSize;
                        }
                        else
                        {
                            id = BinaryPrimitives.ReadUInt32LittleEndian(value.Slice(4));
                            typedStart = 9;
                        }

                        properties.Add(new ShellLinkProperty(formatId, id, name, TypedValue(value.Slice(typedStart))));
                        p += (int)valueSize;
                    }

                    position += (int)storageSize;
                }
            }

            private object? TypedValue(ReadOnlySpan<byte> typed)
            {
                if (typed.Length < 4)
                {
                    return null;
                }

                ushort type = BinaryPrimitives.ReadUInt16LittleEndian(typed);
                var v = typed.Slice(4);
                switch (type)
                {
                    case 0x1F: // VT_LPWSTR: count of characters including the NUL
                        if (v.Length < 4)
                        {
                            return null;
                        }

                        uint chars = BinaryPrimitives.ReadUInt32LittleEndian(v);
                        if (4 + (long)chars * 2 > v.Length)
                        {
                            return null;
                        }

                        return TextDecoding.Utf16Z(v.Slice(4, (int)chars * 2), out _);
                    case 0x13: // VT_UI4
                    case 0x03: // VT_I4
                        return v.Length >= 4 ? BinaryPrimitives.ReadUInt32LittleEndian(v) : null;
                    case 0x15: // VT_UI8
                        return v.Length >= 8 ? BinaryPrimitives.ReadUInt64LittleEndian(v) : null;
                    case 0x48: // VT_CLSID
                        return v.Length >= 16 ? ReadGuid(v) : null;
                    case 0x0B: // VT_BOOL
                        return v.Length >= 2 ? BinaryPrimitives.ReadInt16LittleEndian(v) != 0 : null;
                    default:
                        return null;
                }
            }
        }
    }
}
