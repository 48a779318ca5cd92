using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.Globalization;
using System.Text;
using FluxForensics.Model;

namespace FluxForensics.Formats
{
    /// <summary>
    /// Reads the parts of a PE (Portable Executable) file FluxForensics judges by: headers, sections, the VS_VERSIONINFO
    /// resource and the presence of an embedded Authenticode signature. Never throws on bad input: every length,
    /// offset and count is checked, the resource walk is depth-limited and cycle-safe, and what cannot be read becomes a
    /// <see cref="ParseIssue"/>.
    /// </summary>
    public static class PeFile
    {
        private const int MaxSections = 96 * 4;
        private const int MaxResourceEntriesPerDirectory = 4096;
        private const int MaxVersionBlockDepth = 6;
        private const int MaxVersionStrings = 512;
        private const ushort RtVersion = 16;
        private const ushort WinCertTypePkcsSignedData = 0x0002;
        private const int SecurityDirectoryIndex = 4;
        private const int ResourceDirectoryIndex = 2;
        private const int ClrDirectoryIndex = 14;

        /// <summary>Parses <paramref name="data"/> (a whole PE file). <paramref name="source"/> names it in parse issues.</summary>
        public static PeImage Parse(ReadOnlySpan<byte> data, string source)
        {
            var image = new PeImage(source ?? string.Empty);
            var issues = new List<ParseIssue>();
            try
            {
                ParseInto(data, image, issues);
            }
            catch (Exception e) when (e is ArgumentOutOfRangeException or IndexOutOfRangeException or OverflowException or ArgumentException)
            {
                // Defence in depth: every read is bounds-checked, but a missed case must cost the file, never the run.
                issues.Add(new ParseIssue(source ?? string.Empty, -1, "unexpected layout: " + e.Message, "PE"));
            }

            image.Issues = issues;
            return image;
        }

        /// <summary>
        /// Parses a PE file and hands back its version information and signature presence; false when the data is not
        /// a PE file at all. Issues (e.g. a corrupt resource directory) are returned even when the result is true.
        /// </summary>
        public static bool TryParse(ReadOnlySpan<byte> data, string source, out PeImage image)
        {
            image = Parse(data, source);
            return image.IsPe;
        }

        /// <summary>Shorthand of <see cref="TryParse(ReadOnlySpan{byte}, string, out PeImage)"/> for callers that want only
        /// version info and signature presence.</summary>
        public static bool TryParse(ReadOnlySpan<byte> data, out PeVersionInfo? versionInfo, out PeSignaturePresence signature, out IReadOnlyList<ParseIssue> issues)
        {
            var image = Parse(data, string.Empty);
            versionInfo = image.VersionInfo;
            signature = image.Signature;
            issues = image.Issues;
            return image.IsPe;
        }

        private static void ParseInto(ReadOnlySpan<byte> data, PeImage image, List<ParseIssue> issues)
        {
            string src = image.Source;
            if (data.Length < 0x40 || data[0] != (byte)'M' || data[1] != (byte)'Z')
            {
                issues.Add(new ParseIssue(src, 0, "no MZ header: not a PE file", "DOS header"));
                return;
            }

            uint lfanew = BinaryPrimitives.ReadUInt32LittleEndian(data.Slice(0x3C));
            if (lfanew > (uint)data.Length - 24 || data.Length < 24)
            {
                issues.Add(new ParseIssue(src, 0x3C, $"e_lfanew 0x{lfanew:X} points past the end of the file", "DOS header"));
                return;
            }

            int pe = (int)lfanew;
            if (BinaryPrimitives.ReadUInt32LittleEndian(data.Slice(pe)) != 0x00004550)
            {
                issues.Add(new ParseIssue(src, pe, "no PE\\0\\0 signature: not a PE file", "NT headers"));
                return;
            }

            int coff = pe + 4;
            image.Machine = BinaryPrimitives.ReadUInt16LittleEndian(data.Slice(coff));
            int sectionCount = BinaryPrimitives.ReadUInt16LittleEndian(data.Slice(coff + 2));
            int optionalSize = BinaryPrimitives.ReadUInt16LittleEndian(data.Slice(coff + 16));
            image.Characteristics = BinaryPrimitives.ReadUInt16LittleEndian(data.Slice(coff + 18));
            image.IsPe = true;

            int optional = coff + 20;
            var directories = new List<(uint Rva, uint Size)>();
            if (optionalSize >= 2 && (long)optional + optionalSize <= data.Length)
            {
                var opt = data.Slice(optional, optionalSize);
                ushort magic = BinaryPrimitives.ReadUInt16LittleEndian(opt);
                int countAt, dirAt;
                if (magic == 0x20B)
                {
                    image.IsPe32Plus = true;
                    countAt = 108;
                    dirAt = 112;
                }
                else if (magic == 0x10B)
                {
                    countAt = 92;
                    dirAt = 96;
                }
                else
                {
                    issues.Add(new ParseIssue(src, optional, $"unknown optional header magic 0x{magic:X}", "optional header"));
                    countAt = dirAt = int.MaxValue;
                }

                if (countAt != int.MaxValue && opt.Length >= 68)
                {
                    // Same place in PE32 and PE32+: SizeOfHeaders at 60, CheckSum at 64.
                    image.SizeOfHeaders = BinaryPrimitives.ReadUInt32LittleEndian(opt.Slice(60));
                    image.CheckSumFileOffset = optional + 64;
                }

                if (countAt <= opt.Length - 4)
                {
                    uint declared = BinaryPrimitives.ReadUInt32LittleEndian(opt.Slice(countAt));
                    int fit = Math.Max(0, (opt.Length - dirAt) / 8);
                    int count = (int)Math.Min(Math.Min(declared, 16u), (uint)fit);
                    if (count > SecurityDirectoryIndex)
                    {
                        image.SecurityDirectoryEntryFileOffset = optional + dirAt + SecurityDirectoryIndex * 8;
                    }

                    for (int i = 0; i < count; i++)
                    {
                        var d = opt.Slice(dirAt + i * 8, 8);
                        directories.Add((BinaryPrimitives.ReadUInt32LittleEndian(d), BinaryPrimitives.ReadUInt32LittleEndian(d.Slice(4))));
                    }
                }
            }
            else
            {
                issues.Add(new ParseIssue(src, coff + 16, $"optional header size {optionalSize} does not fit the file", "optional header"));
            }

            image.Sections = ReadSections(data, optional + optionalSize, sectionCount, src, issues);

            if (directories.Count > ClrDirectoryIndex)
            {
                image.IsDotNet = directories[ClrDirectoryIndex].Rva != 0 && directories[ClrDirectoryIndex].Size != 0;
            }

            if (directories.Count > SecurityDirectoryIndex)
            {
                ReadSecurityDirectory(data, directories[SecurityDirectoryIndex], image, issues);
            }

            if (directories.Count > ResourceDirectoryIndex && directories[ResourceDirectoryIndex].Rva != 0)
            {
                ReadVersionResource(data, directories[ResourceDirectoryIndex], image, issues);
            }
        }

        private static IReadOnlyList<PeSection> ReadSections(ReadOnlySpan<byte> data, int at, int declared, string src, List<ParseIssue> issues)
        {
            var sections = new List<PeSection>();
            int count = Math.Min(declared, MaxSections);
            if (declared > MaxSections)
            {
                issues.Add(new ParseIssue(src, at, $"{declared} sections declared; read the first {MaxSections}", "section table"));
            }

            for (int i = 0; i < count; i++)
            {
                long offset = at + (long)i * 40;
                if (offset + 40 > data.Length)
                {
                    issues.Add(new ParseIssue(src, offset, $"section table ends after {i} of {declared} headers (file too short)", "section table"));
                    break;
                }

                var h = data.Slice((int)offset, 40);
                string name = Encoding.ASCII.GetString(h.Slice(0, 8).ToArray()).TrimEnd('\0');
                sections.Add(new PeSection(
                    name,
                    BinaryPrimitives.ReadUInt32LittleEndian(h.Slice(12)),
                    BinaryPrimitives.ReadUInt32LittleEndian(h.Slice(8)),
                    BinaryPrimitives.ReadUInt32LittleEndian(h.Slice(20)),
                    BinaryPrimitives.ReadUInt32LittleEndian(h.Slice(16))));
            }

            return sections;
        }

        /// <summary>Maps an RVA to a file offset through the section table; false when no section's raw data holds it.</summary>
        internal static bool TryRvaToOffset(IReadOnlyList<PeSection> sections, uint rva, int fileLength, out int offset, out int available)
        {
            foreach (var s in sections)
            {
                ulong span = Math.Max(s.VirtualSize, s.SizeOfRawData);
                if (rva >= s.VirtualAddress && rva < s.VirtualAddress + span)
                {
                    ulong delta = rva - s.VirtualAddress;
                    if (delta >= s.SizeOfRawData)
                    {
                        break; // in the zero-filled tail of the section: not in the file.
                    }

                    ulong start = s.PointerToRawData + delta;
                    ulong end = Math.Min((ulong)s.PointerToRawData + s.SizeOfRawData, (ulong)fileLength);
                    if (start >= end)
                    {
                        break;
                    }

                    offset = (int)start;
                    available = (int)(end - start);
                    return true;
                }
            }

            offset = 0;
            available = 0;
            return false;
        }

        private static void ReadSecurityDirectory(ReadOnlySpan<byte> data, (uint Offset, uint Size) dir, PeImage image, List<ParseIssue> issues)
        {
            image.SecurityDirectoryOffset = dir.Offset;
            image.SecurityDirectorySize = dir.Size;
            if (dir.Offset == 0 && dir.Size == 0)
            {
                image.Signature = PeSignaturePresence.Absent;
                return;
            }

            // The security directory holds a file offset (it is not mapped): WIN_CERTIFICATE dwLength, wRevision, wCertificateType.
            if (dir.Size < 8 || (ulong)dir.Offset + dir.Size > (ulong)data.Length)
            {
                image.Signature = PeSignaturePresence.Malformed;
                issues.Add(new ParseIssue(image.Source, dir.Offset, $"security directory 0x{dir.Offset:X}+0x{dir.Size:X} lies outside the file ({data.Length} bytes)", "security directory"));
                return;
            }

            var cert = data.Slice((int)dir.Offset, (int)dir.Size);
            uint length = BinaryPrimitives.ReadUInt32LittleEndian(cert);
            image.CertificateRevision = BinaryPrimitives.ReadUInt16LittleEndian(cert.Slice(4));
            image.CertificateType = BinaryPrimitives.ReadUInt16LittleEndian(cert.Slice(6));
            if (length < 8 || length > dir.Size || image.CertificateType != WinCertTypePkcsSignedData)
            {
                image.Signature = PeSignaturePresence.Malformed;
                issues.Add(new ParseIssue(image.Source, dir.Offset, $"WIN_CERTIFICATE length {length}, type 0x{image.CertificateType:X4}: not an Authenticode PKCS#7 blob", "security directory"));
                return;
            }

            image.Signature = PeSignaturePresence.Present;
        }

        private static void ReadVersionResource(ReadOnlySpan<byte> data, (uint Rva, uint Size) dir, PeImage image, List<ParseIssue> issues)
        {
            string src = image.Source;
            if (!TryRvaToOffset(image.Sections, dir.Rva, data.Length, out int rsrcOffset, out int rsrcAvailable))
            {
                issues.Add(new ParseIssue(src, -1, $"resource directory RVA 0x{dir.Rva:X} is in no section's file data", "resource directory"));
                return;
            }

            image.ResourceDirectoryFileOffset = rsrcOffset;

            // The resource tree: offsets in directory entries are relative to the start of the resource directory.
            var rsrc = data.Slice(rsrcOffset, rsrcAvailable);
            var visited = new HashSet<uint>();
            if (!TryFindFirstLeaf(rsrc, 0, RtVersion, depth: 0, visited, src, rsrcOffset, issues, out uint dataEntryOffset))
            {
                return;
            }

            image.HasVersionResource = true;
            if ((ulong)dataEntryOffset + 16 > (ulong)rsrc.Length)
            {
                issues.Add(new ParseIssue(src, rsrcOffset + dataEntryOffset, "RT_VERSION data entry lies outside the resource section", "resource data entry"));
                return;
            }

            var entry = rsrc.Slice((int)dataEntryOffset, 16);
            uint dataRva = BinaryPrimitives.ReadUInt32LittleEndian(entry);
            uint dataSize = BinaryPrimitives.ReadUInt32LittleEndian(entry.Slice(4));
            if (!TryRvaToOffset(image.Sections, dataRva, data.Length, out int versionOffset, out int versionAvailable))
            {
                issues.Add(new ParseIssue(src, rsrcOffset + dataEntryOffset, $"RT_VERSION data RVA 0x{dataRva:X} is in no section's file data", "resource data entry"));
                return;
            }

            if (dataSize > versionAvailable)
            {
                issues.Add(new ParseIssue(src, versionOffset, $"RT_VERSION size {dataSize} runs past its section; read {versionAvailable} bytes", "VS_VERSIONINFO"));
                dataSize = (uint)versionAvailable;
            }

            image.VersionInfo = ReadVersionInfo(data.Slice(versionOffset, (int)dataSize), src, versionOffset, issues);
        }

        /// <summary>
        /// Walks type → name → language: at the root picks the entry with id <paramref name="wantedType"/>, below it the
        /// first entry. Offsets already visited end the walk (a cycle), and the depth is capped at three levels.
        /// </summary>
        private static bool TryFindFirstLeaf(ReadOnlySpan<byte> rsrc, uint dirOffset, ushort wantedType, int depth, HashSet<uint> visited,
            string src, int rsrcFileOffset, List<ParseIssue> issues, out uint dataEntryOffset)
        {
            dataEntryOffset = 0;
            if (depth > 2)
            {
                issues.Add(new ParseIssue(src, rsrcFileOffset + dirOffset, "resource directory nested deeper than type/name/language", "resource directory"));
                return false;
            }

            if (!visited.Add(dirOffset))
            {
                issues.Add(new ParseIssue(src, rsrcFileOffset + dirOffset, "resource directory refers back to itself (cycle)", "resource directory"));
                return false;
            }

            if ((ulong)dirOffset + 16 > (ulong)rsrc.Length)
            {
                issues.Add(new ParseIssue(src, rsrcFileOffset + dirOffset, "resource directory lies outside the resource section", "resource directory"));
                return false;
            }

            var header = rsrc.Slice((int)dirOffset, 16);
            int named = BinaryPrimitives.ReadUInt16LittleEndian(header.Slice(12));
            int ids = BinaryPrimitives.ReadUInt16LittleEndian(header.Slice(14));
            int total = named + ids;
            long maxFit = (rsrc.Length - (long)dirOffset - 16) / 8;
            if (total > maxFit || total > MaxResourceEntriesPerDirectory)
            {
                issues.Add(new ParseIssue(src, rsrcFileOffset + dirOffset, $"resource directory declares {total} entries; {Math.Min(maxFit, MaxResourceEntriesPerDirectory)} fit", "resource directory"));
                total = (int)Math.Min(maxFit, MaxResourceEntriesPerDirectory);
            }

            for (int i = 0; i < total; i++)
            {
                var e = rsrc.Slice((int)dirOffset + 16 + i * 8, 8);
                uint name = BinaryPrimitives.ReadUInt32LittleEndian(e);
                uint target = BinaryPrimitives.ReadUInt32LittleEndian(e.Slice(4));
                if (depth == 0 && ((name & 0x80000000) != 0 || (name & 0xFFFF) != wantedType))
                {
                    continue;
                }

                bool isDirectory = (target & 0x80000000) != 0;
                uint offset = target & 0x7FFFFFFF;
                if (depth < 2)
                {
                    if (!isDirectory)
                    {
                        issues.Add(new ParseIssue(src, rsrcFileOffset + dirOffset + 16 + i * 8, "resource entry above the language level points at data, not a directory", "resource directory"));
                        continue;
                    }

                    if (TryFindFirstLeaf(rsrc, offset, wantedType, depth + 1, visited, src, rsrcFileOffset, issues, out dataEntryOffset))
                    {
                        return true;
                    }

                    continue;
                }

                if (isDirectory)
                {
                    issues.Add(new ParseIssue(src, rsrcFileOffset + dirOffset + 16 + i * 8, "language-level resource entry points at another directory", "resource directory"));
                    continue;
                }

                dataEntryOffset = offset;
                return true;
            }

            return false;
        }

        /// <summary>Decodes a VS_VERSIONINFO block: VS_FIXEDFILEINFO and the strings of StringFileInfo.</summary>
        internal static PeVersionInfo? ReadVersionInfo(ReadOnlySpan<byte> v, string src, long fileOffset, List<ParseIssue> issues)
        {
            if (!TryReadBlock(v, 0, out var root) || root.Key != "VS_VERSION_INFO")
            {
                issues.Add(new ParseIssue(src, fileOffset, "RT_VERSION does not start with a VS_VERSION_INFO block", "VS_VERSIONINFO"));
                return null;
            }

            string? fixedFile = null, fixedProduct = null;
            if (root.ValueLength >= 52 && root.ValueOffset + 52 <= root.End)
            {
                var f = v.Slice(root.ValueOffset, 52);
                if (BinaryPrimitives.ReadUInt32LittleEndian(f) == 0xFEEF04BD)
                {
                    fixedFile = FourPart(BinaryPrimitives.ReadUInt32LittleEndian(f.Slice(8)), BinaryPrimitives.ReadUInt32LittleEndian(f.Slice(12)));
                    fixedProduct = FourPart(BinaryPrimitives.ReadUInt32LittleEndian(f.Slice(16)), BinaryPrimitives.ReadUInt32LittleEndian(f.Slice(20)));
                }
                else
                {
                    issues.Add(new ParseIssue(src, fileOffset + root.ValueOffset, "VS_FIXEDFILEINFO signature is not 0xFEEF04BD", "VS_FIXEDFILEINFO"));
                }
            }

            var strings = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
            string? tableKey = null;
            foreach (var child in Children(v, root, src, fileOffset, issues))
            {
                if (child.Key != "StringFileInfo")
                {
                    continue; // VarFileInfo: translations are not needed.
                }

                foreach (var table in Children(v, child, src, fileOffset, issues))
                {
                    tableKey ??= table.Key;
                    foreach (var s in Children(v, table, src, fileOffset, issues))
                    {
                        if (strings.Count >= MaxVersionStrings)
                        {
                            issues.Add(new ParseIssue(src, fileOffset + s.Start, $"more than {MaxVersionStrings} version strings; the rest ignored", "String"));
                            break;
                        }

                        if (s.Key.Length == 0 || strings.ContainsKey(s.Key))
                        {
                            continue;
                        }

                        strings[s.Key] = ReadZeroTerminated(v.Slice(s.ValueOffset, s.End - s.ValueOffset), s.ValueLength == 0);
                    }
                }
            }

            return new PeVersionInfo(strings, tableKey, fixedFile, fixedProduct);
        }

        private static string FourPart(uint ms, uint ls) =>
            string.Format(CultureInfo.InvariantCulture, "{0}.{1}.{2}.{3}", ms >> 16, ms & 0xFFFF, ls >> 16, ls & 0xFFFF);

        private readonly struct Block
        {
            public Block(int start, int end, int valueLength, int type, string key, int valueOffset, int childrenOffset, int depth)
            {
                Start = start;
                End = end;
                ValueLength = valueLength;
                Type = type;
                Key = key;
                ValueOffset = valueOffset;
                ChildrenOffset = childrenOffset;
                Depth = depth;
            }

            public int Start { get; }
            public int End { get; }
            public int ValueLength { get; }
            public int Type { get; }
            public string Key { get; }
            public int ValueOffset { get; }
            public int ChildrenOffset { get; }
            public int Depth { get; }
        }

        private static int Align4(int offset) => (offset + 3) & ~3;

        /// <summary>Reads one version block header (wLength, wValueLength, wType, szKey) at <paramref name="start"/>,
        /// clamped to <paramref name="limit"/>.</summary>
        private static bool TryReadBlock(ReadOnlySpan<byte> v, int start, out Block block, int limit = -1, int depth = 0)
        {
            block = default;
            if (limit < 0)
            {
                limit = v.Length;
            }

            if (start < 0 || start + 6 > limit)
            {
                return false;
            }

            int length = BinaryPrimitives.ReadUInt16LittleEndian(v.Slice(start));
            int valueLength = BinaryPrimitives.ReadUInt16LittleEndian(v.Slice(start + 2));
            int type = BinaryPrimitives.ReadUInt16LittleEndian(v.Slice(start + 4));
            if (length < 6)
            {
                return false;
            }

            int end = Math.Min(start + length, limit);
            int keyStart = start + 6;
            int keyEnd = keyStart;
            while (keyEnd + 1 < end && (v[keyEnd] != 0 || v[keyEnd + 1] != 0))
            {
                keyEnd += 2;
            }

            string key = Encoding.Unicode.GetString(v.Slice(keyStart, keyEnd - keyStart).ToArray());
            int valueOffset = Math.Min(Align4(keyEnd + 2), end);
            int valueBytes = type == 1 ? valueLength * 2 : valueLength;
            int childrenOffset = Math.Min(Align4(valueOffset + valueBytes), end);
            block = new Block(start, end, valueLength, type, key, valueOffset, childrenOffset, depth);
            return true;
        }

        private static List<Block> Children(ReadOnlySpan<byte> v, Block parent, string src, long fileOffset, List<ParseIssue> issues)
        {
            var children = new List<Block>();
            if (parent.Depth >= MaxVersionBlockDepth)
            {
                return children;
            }

            int at = parent.ChildrenOffset;
            while (at + 6 <= parent.End)
            {
                if (!TryReadBlock(v, at, out var child, parent.End, parent.Depth + 1))
                {
                    if (BinaryPrimitives.ReadUInt16LittleEndian(v.Slice(at)) != 0)
                    {
                        issues.Add(new ParseIssue(src, fileOffset + at, "version block with a length shorter than its header", parent.Key.Length == 0 ? "version block" : parent.Key));
                    }

                    break;
                }

                children.Add(child);
                at = Align4(child.End); // strictly forward: wLength >= 6, so no cycle is possible.
            }

            return children;
        }

        private static string ReadZeroTerminated(ReadOnlySpan<byte> utf16, bool empty)
        {
            if (empty)
            {
                return string.Empty;
            }

            int end = 0;
            while (end + 1 < utf16.Length && (utf16[end] != 0 || utf16[end + 1] != 0))
            {
                end += 2;
            }

            return Encoding.Unicode.GetString(utf16.Slice(0, end).ToArray());
        }
    }
}
