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
    public static partial class ShellLinkFile
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

        private sealed partial class Reader
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
