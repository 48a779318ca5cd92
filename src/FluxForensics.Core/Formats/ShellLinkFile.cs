using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.Linq;
using System.Text;
using FluxForensics.Model;

namespace FluxForensics.Formats
{
    /// <summary>
    /// Reads Shell Link (.lnk) files per MS-SHLLINK from bytes. Never throws on content: every length and offset is
    /// checked against the bytes present, counts are capped, and damage becomes a <see cref="ParseIssue"/> on the result.
    /// A damaged structure costs that structure; the rest of the file is still read where its position is known.
    /// </summary>
    public static class ShellLinkFile
    {
        public const int HeaderSize = 0x4C;

        /// <summary>Longest path Windows stores in a shortcut's path fields (MAX_PATH).</summary>
        public const int MaxPath = 260;

        /// <summary>Longest description the shell keeps (INFOTIPSIZE).</summary>
        public const int MaxDescription = 1024;

        /// <summary>Longest command line Windows accepts (UNICODE_STRING_MAX_CHARS - 1).</summary>
        public const int MaxArguments = 32767;

        /// <summary>Shell Link files larger than this are not shortcuts Windows would make; read only this much.</summary>
        public const int MaxFileSize = 4 * 1024 * 1024;

        private const int MaxShellItems = 512;
        private const int MaxExtraBlocks = 256;
        private const int MaxProperties = 256;

        private static readonly Guid ShellLinkClsid = new Guid("00021401-0000-0000-C000-000000000046");
        private static readonly Guid MyComputer = new Guid("20D04FE0-3AEA-1069-A2D8-08002B30309D");

        private static readonly Dictionary<Guid, string> RootFolders = new Dictionary<Guid, string>
        {
            [new Guid("59031A47-3F72-44A7-89C5-5595FE6B30EE")] = "%USERPROFILE%",
            [new Guid("208D2C60-3AEA-1069-A2D7-08002B30309D")] = "\\\\",
            [new Guid("F02C1A0D-BE21-4350-88B0-7367FC96EF3C")] = "\\\\",
        };

        /// <summary>True when the bytes start with a Shell Link header (size 0x4C and the ShellLink CLSID).</summary>
        public static bool LooksLikeShellLink(ReadOnlySpan<byte> data) =>
            data.Length >= HeaderSize && BinaryPrimitives.ReadUInt32LittleEndian(data) == HeaderSize && ReadGuid(data.Slice(4)) == ShellLinkClsid;

        /// <summary>Parses a shortcut. <paramref name="ansiCodePage"/> decodes ANSI strings (the code page of the
        /// Windows system that wrote the file; 1252 for Western European systems).</summary>
        public static ShellLink Parse(ReadOnlySpan<byte> data, string source, int ansiCodePage = 1252)
        {
            var reader = new Reader(source, AnsiEncoding.Get(ansiCodePage));
            return reader.Parse(data);
        }

        private static Guid ReadGuid(ReadOnlySpan<byte> b) =>
            new Guid(BinaryPrimitives.ReadInt32LittleEndian(b), BinaryPrimitives.ReadInt16LittleEndian(b.Slice(4)), BinaryPrimitives.ReadInt16LittleEndian(b.Slice(6)),
                b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);

        private sealed class Reader
        {
            private readonly string _source;
            private readonly Encoding _ansi;
            private readonly List<ParseIssue> _issues = new List<ParseIssue>();
            private readonly List<string> _overlong = new List<string>();
            private ShellLink _link = null!;

            public Reader(string source, Encoding ansi)
            {
                _source = source;
                _ansi = ansi;
            }

            private void Issue(long offset, string record, string message) => _issues.Add(new ParseIssue(_source, offset, message, record));

            public ShellLink Parse(ReadOnlySpan<byte> data)
            {
                _link = new ShellLink(_source) { Size = data.Length };
                try
                {
                    ParseAll(data);
                }
                finally
                {
                    _link.Issues = _issues.ToArray();
                    _link.OverlongFields = _overlong.ToArray();
                }

                return _link;
            }

            private void ParseAll(ReadOnlySpan<byte> data)
            {
                if (data.Length > MaxFileSize)
                {
                    Issue(MaxFileSize, "ShellLink", $"file is {data.Length} bytes; only the first {MaxFileSize} were read");
                    data = data.Slice(0, MaxFileSize);
                }

                if (data.Length < HeaderSize)
                {
                    Issue(0, "ShellLinkHeader", $"file is {data.Length} bytes, shorter than the {HeaderSize}-byte header");
                    return;
                }

                if (!LooksLikeShellLink(data))
                {
                    Issue(0, "ShellLinkHeader", "header size or CLSID is not that of a Shell Link");
                    return;
                }

                _link.IsValid = true;
                var flags = (ShellLinkFlags)BinaryPrimitives.ReadUInt32LittleEndian(data.Slice(0x14));
                _link.Flags = flags;
                _link.TargetAttributes = BinaryPrimitives.ReadUInt32LittleEndian(data.Slice(0x18));
                _link.TargetCreationTime = FileTime(data.Slice(0x1C));
                _link.TargetAccessTime = FileTime(data.Slice(0x24));
                _link.TargetWriteTime = FileTime(data.Slice(0x2C));
                _link.TargetFileSize = BinaryPrimitives.ReadUInt32LittleEndian(data.Slice(0x34));
                _link.IconIndex = BinaryPrimitives.ReadInt32LittleEndian(data.Slice(0x38));
                _link.ShowCommand = BinaryPrimitives.ReadUInt32LittleEndian(data.Slice(0x3C));
                _link.HotKey = BinaryPrimitives.ReadUInt16LittleEndian(data.Slice(0x40));

                int position = HeaderSize;

                if ((flags & ShellLinkFlags.HasLinkTargetIdList) != 0)
                {
                    if (position + 2 > data.Length)
                    {
                        Issue(position, "LinkTargetIDList", "IDListSize lies past the end of the file");
                        return;
                    }

                    int idListSize = BinaryPrimitives.ReadUInt16LittleEndian(data.Slice(position));
                    int start = position + 2;
                    if (start + idListSize > data.Length)
                    {
                        Issue(position, "LinkTargetIDList", $"IDListSize {idListSize} runs past the end of the file ({data.Length} bytes)");
                        ParseIdList(data.Slice(start), start);
                        return;
                    }

                    ParseIdList(data.Slice(start, idListSize), start);
                    position = start + idListSize;
                }

                if ((flags & ShellLinkFlags.HasLinkInfo) != 0 && (flags & ShellLinkFlags.ForceNoLinkInfo) == 0)
                {
                    if (position + 4 > data.Length)
                    {
                        Issue(position, "LinkInfo", "LinkInfoSize lies past the end of the file");
                        ChooseTarget();
                        return;
                    }

                    uint linkInfoSize = BinaryPrimitives.ReadUInt32LittleEndian(data.Slice(position));
                    if (linkInfoSize < 0x1C || position + (long)linkInfoSize > data.Length)
                    {
                        Issue(position, "LinkInfo", $"LinkInfoSize {linkInfoSize} is smaller than its header or runs past the end of the file");
                        ChooseTarget();
                        return;
                    }

                    ParseLinkInfo(data.Slice(position, (int)linkInfoSize), position);
                    position += (int)linkInfoSize;
                }
                else if ((flags & ShellLinkFlags.HasLinkInfo) != 0)
                {
                    // ForceNoLinkInfo: the structure is still present and must be skipped to reach the strings.
                    if (position + 4 <= data.Length)
                    {
                        uint linkInfoSize = BinaryPrimitives.ReadUInt32LittleEndian(data.Slice(position));
                        if (position + (long)linkInfoSize <= data.Length)
                        {
                            position += (int)linkInfoSize;
                        }
                    }
                }

                bool unicode = (flags & ShellLinkFlags.IsUnicode) != 0;
                if (!ReadStringData(data, ref position, unicode, ShellLinkFlags.HasName, "Name", MaxDescription, s => _link.Name = s) ||
                    !ReadStringData(data, ref position, unicode, ShellLinkFlags.HasRelativePath, "RelativePath", MaxPath, s => _link.RelativePath = s) ||
                    !ReadStringData(data, ref position, unicode, ShellLinkFlags.HasWorkingDir, "WorkingDirectory", MaxPath, s => _link.WorkingDirectory = s) ||
                    !ReadStringData(data, ref position, unicode, ShellLinkFlags.HasArguments, "Arguments", MaxArguments, s => _link.Arguments = s) ||
                    !ReadStringData(data, ref position, unicode, ShellLinkFlags.HasIconLocation, "IconLocation", MaxPath, s => _link.IconLocation = s))
                {
                    ChooseTarget();
                    return;
                }

                ParseExtraData(data, position);
                ChooseTarget();
            }

            private bool ReadStringData(ReadOnlySpan<byte> data, ref int position, bool unicode, ShellLinkFlags flag, string field, int limit, Action<string> set)
            {
                if ((_link.Flags & flag) == 0)
                {
                    return true;
                }

                if (position + 2 > data.Length)
                {
                    Issue(position, "StringData", $"{field}: CountCharacters lies past the end of the file");
                    return false;
                }

                int count = BinaryPrimitives.ReadUInt16LittleEndian(data.Slice(position));
                int bytes = unicode ? count * 2 : count;
                if (position + 2 + bytes > data.Length)
                {
                    Issue(position, "StringData", $"{field}: {count} characters run past the end of the file ({data.Length} bytes)");
                    return false;
                }

                var raw = data.Slice(position + 2, bytes);
                string value = unicode ? TextDecoding.Utf16(raw) : _ansi.GetString(raw.ToArray());
                if (count > limit)
                {
                    _overlong.Add(field);
                    Issue(position, "StringData", $"{field} is {count} characters, longer than the {limit} Windows allows; not trusted");
                }

                set(value);
                position += 2 + bytes;
                return true;
            }

            private void ParseIdList(ReadOnlySpan<byte> list, int baseOffset)
            {
                var items = new List<ShellItem>();
                var path = new StringBuilder();
                bool resolvable = true;
                int position = 0;
                while (true)
                {
                    if (position + 2 > list.Length)
                    {
                        Issue(baseOffset + position, "LinkTargetIDList", "ID list ends without its TerminalID");
                        break;
                    }

                    int itemSize = BinaryPrimitives.ReadUInt16LittleEndian(list.Slice(position));
                    if (itemSize == 0)
                    {
                        break;
                    }

                    if (itemSize < 3 || position + itemSize > list.Length)
                    {
                        Issue(baseOffset + position, "ItemID", $"ItemIDSize {itemSize} is too small or runs past the end of the ID list");
                        resolvable = false;
                        break;
                    }

                    if (items.Count >= MaxShellItems)
                    {
                        Issue(baseOffset + position, "LinkTargetIDList", $"more than {MaxShellItems} items; the rest were not read");
                        resolvable = false;
                        break;
                    }

                    var item = ParseShellItem(list.Slice(position, itemSize), baseOffset + position);
                    items.Add(item);
                    resolvable &= Append(path, item, items.Count == 1);
                    position += itemSize;
                }

                _link.IdListItems = items.ToArray();
                if (resolvable && path.Length > 0)
                {
                    _link.IdListPath = path.ToString();
                }
            }

            private static bool Append(StringBuilder path, ShellItem item, bool first)
            {
                switch (item.Kind)
                {
                    case "Root":
                        if (item.Identifier == MyComputer)
                        {
                            return true;
                        }

                        if (item.Identifier is Guid g && RootFolders.TryGetValue(g, out string? prefix))
                        {
                            if (prefix != "\\\\")
                            {
                                path.Clear().Append(prefix);
                            }

                            return true;
                        }

                        return false;
                    case "Volume":
                        if (item.Name is null)
                        {
                            return false;
                        }

                        path.Clear().Append(item.Name);
                        return true;
                    case "Network":
                        if (item.Name is null)
                        {
                            return false;
                        }

                        path.Clear().Append(item.Name);
                        return true;
                    case "Directory":
                    case "File":
                        if (string.IsNullOrEmpty(item.Name) || (first && path.Length == 0))
                        {
                            // A file entry with nothing before it has no anchor on any volume.
                            return !string.IsNullOrEmpty(item.Name) && AppendComponent(path, item.Name!);
                        }

                        return AppendComponent(path, item.Name!);
                    default:
                        return false;
                }
            }

            private static bool AppendComponent(StringBuilder path, string name)
            {
                if (path.Length > 0 && path[path.Length - 1] != '\\')
                {
                    path.Append('\\');
                }

                path.Append(name);
                return true;
            }

            private ShellItem ParseShellItem(ReadOnlySpan<byte> item, long offset)
            {
                byte type = item[2];
                if (type == 0x1F && item.Length >= 20)
                {
                    return new ShellItem(offset, type, "Root", null, ReadGuid(item.Slice(4)));
                }

                if ((type & 0x70) == 0x20)
                {
                    if ((type & 0x01) != 0 && item.Length > 3)
                    {
                        return new ShellItem(offset, type, "Volume", AnsiZ(item.Slice(3), out _), null);
                    }

                    if (item.Length >= 20)
                    {
                        return new ShellItem(offset, type, "Volume", null, ReadGuid(item.Slice(4)));
                    }

                    return new ShellItem(offset, type, "Volume", null, null);
                }

                if ((type & 0x70) == 0x30)
                {
                    return ParseFileEntry(item, offset, type);
                }

                if ((type & 0x70) == 0x40 && item.Length > 5)
                {
                    return new ShellItem(offset, type, "Network", AnsiZ(item.Slice(5), out _), null);
                }

                return new ShellItem(offset, type, "Unknown", null, null);
            }

            private ShellItem ParseFileEntry(ReadOnlySpan<byte> item, long offset, byte type)
            {
                string kind = (type & 0x01) != 0 ? "Directory" : "File";
                if (item.Length < 15)
                {
                    Issue(offset, "FileEntryShellItem", $"item of {item.Length} bytes is too short for a file entry");
                    return new ShellItem(offset, type, kind, null, null);
                }

                bool unicodeName = (type & 0x04) != 0;

                // The item's last two bytes give the offset of its first extension block; when that points at a
                // 0xBEEF0004 block, it also bounds the primary name (some writers leave a Unicode name unterminated).
                int declaredExtension = BinaryPrimitives.ReadUInt16LittleEndian(item.Slice(item.Length - 2));
                bool declaredValid = declaredExtension >= 14 && declaredExtension + 8 <= item.Length - 2 &&
                    BinaryPrimitives.ReadUInt32LittleEndian(item.Slice(declaredExtension + 4)) == 0xBEEF0004;
                var nameArea = declaredValid ? item.Slice(14, declaredExtension - 14) : item.Slice(14);
                string shortName;
                int nameBytes;
                if (unicodeName)
                {
                    shortName = TextDecoding.Utf16Z(nameArea, out nameBytes);
                }
                else
                {
                    shortName = AnsiZ(nameArea, out nameBytes);
                    nameBytes += nameBytes % 2; // padded to an even length
                }

                var result = new ShellItem(offset, type, kind, shortName, null) { ShortName = shortName };

                // Extension blocks follow the name; the one with signature 0xBEEF0004 holds the long name.
                int extensionStart = declaredValid ? declaredExtension : 14 + nameBytes;
                if (extensionStart + 8 <= item.Length)
                {
                    var ext = item.Slice(extensionStart);
                    int extSize = BinaryPrimitives.ReadUInt16LittleEndian(ext);
                    int version = BinaryPrimitives.ReadUInt16LittleEndian(ext.Slice(2));
                    uint signature = BinaryPrimitives.ReadUInt32LittleEndian(ext.Slice(4));
                    if (signature == 0xBEEF0004)
                    {
                        if (extSize < 8 || extSize > ext.Length)
                        {
                            Issue(offset + extensionStart, "ExtensionBlock", $"extension block size {extSize} runs past its shell item");
                        }
                        else
                        {
                            int nameOffset = version >= 7 ? 36 : 18;
                            if (version >= 3)
                            {
                                nameOffset += 2;
                            }

                            if (version >= 9)
                            {
                                nameOffset += 4;
                            }

                            if (version >= 8)
                            {
                                nameOffset += 4;
                            }

                            if (version >= 3 && nameOffset < extSize)
                            {
                                string longName = TextDecoding.Utf16Z(ext.Slice(nameOffset, extSize - nameOffset), out int used);
                                if (used > 0 && used <= extSize - nameOffset && longName.Length > 0)
                                {
                                    result.Name = longName;
                                }
                            }
                        }
                    }
                }

                return result;
            }

            private void ParseLinkInfo(ReadOnlySpan<byte> info, int baseOffset)
            {
                uint headerSize = BinaryPrimitives.ReadUInt32LittleEndian(info.Slice(4));
                uint flags = BinaryPrimitives.ReadUInt32LittleEndian(info.Slice(8));
                uint volumeIdOffset = BinaryPrimitives.ReadUInt32LittleEndian(info.Slice(12));
                uint localBasePathOffset = BinaryPrimitives.ReadUInt32LittleEndian(info.Slice(16));
                uint networkOffset = BinaryPrimitives.ReadUInt32LittleEndian(info.Slice(20));
                uint suffixOffset = BinaryPrimitives.ReadUInt32LittleEndian(info.Slice(24));
                uint localBasePathOffsetUnicode = 0, suffixOffsetUnicode = 0;
                if (headerSize >= 0x24 && info.Length >= 0x24)
                {
                    localBasePathOffsetUnicode = BinaryPrimitives.ReadUInt32LittleEndian(info.Slice(28));
                    suffixOffsetUnicode = BinaryPrimitives.ReadUInt32LittleEndian(info.Slice(32));
                }

                if (headerSize != 0x1C && headerSize < 0x24)
                {
                    Issue(baseOffset + 4, "LinkInfo", $"LinkInfoHeaderSize {headerSize} is neither 0x1C nor >= 0x24");
                }

                bool volumeAndLocal = (flags & 0x1) != 0;
                bool network = (flags & 0x2) != 0;

                if (volumeAndLocal)
                {
                    if (InStructure(info, volumeIdOffset, 0x10, baseOffset, "VolumeID"))
                    {
                        var volume = info.Slice((int)volumeIdOffset);
                        uint volumeSize = BinaryPrimitives.ReadUInt32LittleEndian(volume);
                        if (volumeSize < 0x10 || volumeSize > volume.Length)
                        {
                            Issue(baseOffset + volumeIdOffset, "VolumeID", $"VolumeIDSize {volumeSize} is too small or runs past LinkInfo");
                        }
                        else
                        {
                            volume = volume.Slice(0, (int)volumeSize);
                            _link.DriveType = BinaryPrimitives.ReadUInt32LittleEndian(volume.Slice(4));
                            _link.DriveSerialNumber = BinaryPrimitives.ReadUInt32LittleEndian(volume.Slice(8));
                            uint labelOffset = BinaryPrimitives.ReadUInt32LittleEndian(volume.Slice(12));
                            if (labelOffset == 0x14 && volume.Length >= 0x14)
                            {
                                uint unicodeOffset = BinaryPrimitives.ReadUInt32LittleEndian(volume.Slice(16));
                                if (InStructure(volume, unicodeOffset, 2, baseOffset + volumeIdOffset, "VolumeLabelUnicode"))
                                {
                                    _link.VolumeLabel = TextDecoding.Utf16Z(volume.Slice((int)unicodeOffset), out _);
                                }
                            }
                            else if (InStructure(volume, labelOffset, 1, baseOffset + volumeIdOffset, "VolumeLabel"))
                            {
                                _link.VolumeLabel = AnsiZ(volume.Slice((int)labelOffset), out _);
                            }
                        }
                    }

                    if (localBasePathOffsetUnicode != 0 && InStructure(info, localBasePathOffsetUnicode, 2, baseOffset, "LocalBasePathUnicode"))
                    {
                        _link.LocalBasePath = TextDecoding.Utf16Z(info.Slice((int)localBasePathOffsetUnicode), out _);
                    }
                    else if (InStructure(info, localBasePathOffset, 1, baseOffset, "LocalBasePath"))
                    {
                        _link.LocalBasePath = AnsiZ(info.Slice((int)localBasePathOffset), out _);
                    }
                }

                if (network && InStructure(info, networkOffset, 0x14, baseOffset, "CommonNetworkRelativeLink"))
                {
                    var cnrl = info.Slice((int)networkOffset);
                    uint cnrlSize = BinaryPrimitives.ReadUInt32LittleEndian(cnrl);
                    if (cnrlSize < 0x14 || cnrlSize > cnrl.Length)
                    {
                        Issue(baseOffset + networkOffset, "CommonNetworkRelativeLink", $"size {cnrlSize} is too small or runs past LinkInfo");
                    }
                    else
                    {
                        cnrl = cnrl.Slice(0, (int)cnrlSize);
                        uint cnrlFlags = BinaryPrimitives.ReadUInt32LittleEndian(cnrl.Slice(4));
                        uint netNameOffset = BinaryPrimitives.ReadUInt32LittleEndian(cnrl.Slice(8));
                        uint deviceNameOffset = BinaryPrimitives.ReadUInt32LittleEndian(cnrl.Slice(12));
                        if ((cnrlFlags & 0x2) != 0)
                        {
                            _link.NetworkProviderType = BinaryPrimitives.ReadUInt32LittleEndian(cnrl.Slice(16));
                        }

                        bool hasUnicode = netNameOffset > 0x14 && cnrl.Length >= 0x1C;
                        uint netNameUnicode = hasUnicode ? BinaryPrimitives.ReadUInt32LittleEndian(cnrl.Slice(20)) : 0;
                        uint deviceNameUnicode = hasUnicode ? BinaryPrimitives.ReadUInt32LittleEndian(cnrl.Slice(24)) : 0;
                        long cnrlBase = baseOffset + networkOffset;
                        if (netNameUnicode != 0 && InStructure(cnrl, netNameUnicode, 2, cnrlBase, "NetNameUnicode"))
                        {
                            _link.NetworkName = TextDecoding.Utf16Z(cnrl.Slice((int)netNameUnicode), out _);
                        }
                        else if (InStructure(cnrl, netNameOffset, 1, cnrlBase, "NetName"))
                        {
                            _link.NetworkName = AnsiZ(cnrl.Slice((int)netNameOffset), out _);
                        }

                        if ((cnrlFlags & 0x1) != 0)
                        {
                            if (deviceNameUnicode != 0 && InStructure(cnrl, deviceNameUnicode, 2, cnrlBase, "DeviceNameUnicode"))
                            {
                                _link.DeviceName = TextDecoding.Utf16Z(cnrl.Slice((int)deviceNameUnicode), out _);
                            }
                            else if (InStructure(cnrl, deviceNameOffset, 1, cnrlBase, "DeviceName"))
                            {
                                _link.DeviceName = AnsiZ(cnrl.Slice((int)deviceNameOffset), out _);
                            }
                        }
                    }
                }

                if (suffixOffsetUnicode != 0 && InStructure(info, suffixOffsetUnicode, 2, baseOffset, "CommonPathSuffixUnicode"))
                {
                    _link.CommonPathSuffix = TextDecoding.Utf16Z(info.Slice((int)suffixOffsetUnicode), out _);
                }
                else if (suffixOffset != 0 && InStructure(info, suffixOffset, 1, baseOffset, "CommonPathSuffix"))
                {
                    _link.CommonPathSuffix = AnsiZ(info.Slice((int)suffixOffset), out _);
                }

                string suffix = _link.CommonPathSuffix ?? string.Empty;
                if (_link.LocalBasePath is string local)
                {
                    _link.LinkInfoPath = local + suffix;
                }
                else if (_link.NetworkName is string net)
                {
                    _link.LinkInfoPath = suffix.Length == 0 ? net : net.TrimEnd('\\') + "\\" + suffix;
                }

                if (_link.LinkInfoPath is string p && p.Length > MaxPath)
                {
                    _overlong.Add("LinkInfoPath");
                    Issue(baseOffset, "LinkInfo", $"path is {p.Length} characters, longer than MAX_PATH; not trusted");
                }
            }

            private bool InStructure(ReadOnlySpan<byte> structure, uint offset, int minimum, long baseOffset, string record)
            {
                if (offset == 0 || offset + (long)minimum > structure.Length)
                {
                    Issue(baseOffset, record, $"offset {offset} lies outside its structure ({structure.Length} bytes)");
                    return false;
                }

                return true;
            }

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

            private void ChooseTarget()
            {
                bool Trusted(string field) => !_overlong.Contains(field);

                if (!string.IsNullOrEmpty(_link.LinkInfoPath) && Trusted("LinkInfoPath"))
                {
                    _link.TargetPath = _link.LinkInfoPath;
                    _link.TargetSource = ShellLinkTargetSource.LinkInfo;
                }
                else if (!string.IsNullOrEmpty(_link.IdListPath))
                {
                    _link.TargetPath = _link.IdListPath;
                    _link.TargetSource = ShellLinkTargetSource.IdList;
                }
                else if (!string.IsNullOrEmpty(_link.EnvironmentTarget) && Trusted("ExtraData 0xA0000001"))
                {
                    _link.TargetPath = _link.EnvironmentTarget;
                    _link.TargetSource = ShellLinkTargetSource.EnvironmentVariables;
                }
                else if (!string.IsNullOrEmpty(_link.RelativePath) && Trusted("RelativePath"))
                {
                    _link.TargetPath = _link.RelativePath;
                    _link.TargetSource = ShellLinkTargetSource.RelativePath;
                }
            }

            private static DateTime? FileTime(ReadOnlySpan<byte> b)
            {
                long ticks = BinaryPrimitives.ReadInt64LittleEndian(b);
                if (ticks <= 0 || ticks > DateTime.MaxValue.ToFileTime())
                {
                    return null;
                }

                return DateTime.FromFileTimeUtc(ticks);
            }

            /// <summary>UTF-16LE kept exactly, lone surrogates included (a forensic tool shows what is stored).</summary>
            private string AnsiZ(ReadOnlySpan<byte> b, out int used)
            {
                int end = b.IndexOf((byte)0);
                if (end < 0)
                {
                    used = b.Length + 1;
                    return _ansi.GetString(b.ToArray());
                }

                used = end + 1;
                return _ansi.GetString(b.Slice(0, end).ToArray());
            }
        }
    }

    /// <summary>ANSI code pages for strings Windows stored in the system code page, on every runtime.</summary>
    internal static class AnsiEncoding
    {
        private static readonly object Gate = new object();
        private static bool _registered;

        public static Encoding Get(int codePage)
        {
            lock (Gate)
            {
                if (!_registered)
                {
                    Encoding.RegisterProvider(CodePagesEncodingProvider.Instance);
                    _registered = true;
                }
            }

            try
            {
                return Encoding.GetEncoding(codePage);
            }
            catch (Exception e) when (e is ArgumentException or NotSupportedException)
            {
                throw new ArgumentOutOfRangeException(nameof(codePage), codePage, $"Code page {codePage} is not available: {e.Message}");
            }
        }
    }
}
