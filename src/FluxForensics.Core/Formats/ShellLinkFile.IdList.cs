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
        /// <summary>The LinkTargetIDList section (MS-SHLLINK 2.2): the shell items that name the target.</summary>
        private sealed partial class Reader
        {
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
        }
    }
}
