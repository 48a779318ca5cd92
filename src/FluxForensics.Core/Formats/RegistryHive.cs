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

    /// <summary>
    /// A registry hive file (regf) read from bytes. The reader trusts nothing in the file: every cell offset is
    /// bounds-checked against the hive bins, every list is capped, each walk keeps the cells it has visited so that a
    /// looping list ends, and whatever cannot be read becomes a <see cref="ParseIssue"/> in <see cref="Issues"/>. A
    /// damaged hive therefore gives a partial tree, never an exception or a hang.
    /// </summary>
    public sealed class RegistryHive
    {
        internal const int BaseBlockSize = 4096;
        internal const uint MaxListEntries = 1 << 20;
        internal const int MaxDepth = 512;
        internal const int BigDataSegmentSize = 16344;
        internal const int MaxValueData = 64 << 20;

        private readonly ReadOnlyMemory<byte> _data;
        private readonly List<ParseIssue> _issues = new List<ParseIssue>();
        private readonly HashSet<long> _reportedOffsets = new HashSet<long>();
        private int _binsEnd;

        private RegistryHive(ReadOnlyMemory<byte> data, string source)
        {
            _data = data;
            Source = source;
        }

        public string Source { get; }

        /// <summary>False when the file is not a regf hive at all (no signature, shorter than a base block).</summary>
        public bool IsValid { get; private set; }

        public uint PrimarySequenceNumber { get; private set; }
        public uint SecondarySequenceNumber { get; private set; }

        /// <summary>True when the sequence numbers differ: the hive was not cleanly written (its logs hold newer data).</summary>
        public bool IsDirty => PrimarySequenceNumber != SecondarySequenceNumber;

        public DateTime? LastWrittenTime { get; private set; }
        public ulong LastWrittenFileTime { get; private set; }
        public uint MajorVersion { get; private set; }
        public uint MinorVersion { get; private set; }
        public uint RootCellOffset { get; private set; }

        /// <summary>The hive bins data size the base block states.</summary>
        public uint HiveBinsDataSize { get; private set; }

        /// <summary>The size of the hive bins that are actually there, one after another, from the first.</summary>
        public uint EffectiveHiveBinsDataSize { get; private set; }

        public int HiveBinCount { get; private set; }

        /// <summary>The file name the base block records (last 64 bytes of the path Windows loaded it from).</summary>
        public string FileName { get; private set; } = string.Empty;

        public uint Checksum { get; private set; }
        public bool ChecksumValid { get; private set; }

        public RegistryKey? Root { get; private set; }

        public IReadOnlyList<ParseIssue> Issues => _issues;

        /// <summary>Called with each issue as the (lazy) walk finds it, so a caller can report damage met after loading.</summary>
        public Action<ParseIssue>? IssueFound { get; set; }

        public static RegistryHive Load(string path) => Parse(File.ReadAllBytes(path), path);

        /// <summary>The hive as the primary file alone has it, before its transaction logs were applied; null when no
        /// log was applied.</summary>
        public RegistryHive? Original { get; private set; }

        /// <summary>What applying the transaction logs did (or why nothing was applied); null when the hive was clean
        /// or logs were not asked for.</summary>
        public RegistryHiveRecovery? Recovery { get; private set; }

        /// <summary>Reads a hive file and, when it is dirty and <paramref name="applyLogs"/> is set, applies the
        /// transaction logs beside it (.LOG1, .LOG2, .LOG) to a copy in memory the way Windows does on loading it. The
        /// files are only read. Log damage is reported in <see cref="Issues"/>.</summary>
        public static RegistryHive Load(string path, bool applyLogs)
        {
            byte[] bytes = File.ReadAllBytes(path);
            RegistryHive original = Parse(bytes, path);
            if (!applyLogs || !RegistryHiveRecovery.IsDirty(bytes))
            {
                return original;
            }

            var logs = new List<RegistryTransactionLog>();
            foreach (string logPath in RegistryHiveRecovery.FindLogFiles(path, problem => original.Report(-1, "transaction log", problem)))
            {
                byte[] logBytes;
                try
                {
                    logBytes = File.ReadAllBytes(logPath);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    original.Report(-1, "transaction log", $"cannot read '{logPath}': {e.Message}");
                    continue;
                }

                logs.Add(RegistryTransactionLog.Parse(logBytes, logPath));
            }

            return WithLogs(original, bytes, path, logs);
        }

        /// <summary>Applies already-read transaction logs to a primary file's bytes; see <see cref="Load(string, bool)"/>.</summary>
        public static RegistryHive ParseWithLogs(ReadOnlyMemory<byte> primary, string source, IReadOnlyList<RegistryTransactionLog> logs) =>
            WithLogs(Parse(primary, source), primary, source, logs);

        private static RegistryHive WithLogs(RegistryHive original, ReadOnlyMemory<byte> primary, string source, IReadOnlyList<RegistryTransactionLog> logs)
        {
            RegistryHiveRecovery recovery = RegistryHiveRecovery.Recover(primary, source, logs);
            RegistryHive hive = original;
            if (recovery.Recovered)
            {
                hive = Parse(recovery.Data, source);
                hive.Original = original;
            }
            else
            {
                original.Report(-1, "transaction log", $"the hive is dirty and no transaction log was applied: {recovery.Summary}");
            }

            hive.Recovery = recovery;
            foreach (ParseIssue issue in recovery.Issues)
            {
                hive._issues.Add(issue);
            }

            return hive;
        }

        /// <summary>The logs a value came from: the file names of the applied logs when the primary file alone does not
        /// have this value with this type and data (it was written shortly before the disk was imaged); otherwise null.</summary>
        public string? LogSourceOf(RegistryKey key, RegistryValue value)
        {
            if (Original is null || Recovery is null)
            {
                return null;
            }

            RegistryKey? before = key.Parent is null ? Original.Root : Original.OpenKey(key.Path);
            RegistryValue? old = before?.Value(value.Name);
            if (old is not null && old.RawType == value.RawType && old.Data.AsSpan().SequenceEqual(value.Data))
            {
                return null;
            }

            return string.Join(", ", Recovery.AppliedLogs.Select(System.IO.Path.GetFileName));
        }

        /// <summary>Reads a hive from its bytes. Never throws for bad content; see <see cref="Issues"/>.</summary>
        public static RegistryHive Parse(ReadOnlyMemory<byte> data, string source)
        {
            var hive = new RegistryHive(data, source ?? string.Empty);
            hive.ReadBaseBlock();
            return hive;
        }

        internal ReadOnlySpan<byte> Span => _data.Span;

        /// <summary>Opens a key below the root by a backslash-separated path, case-insensitive. A path starting with the
        /// root key's own name is accepted too.</summary>
        public RegistryKey? OpenKey(string path)
        {
            if (Root is null)
            {
                return null;
            }

            RegistryKey? key = Root;
            string[] parts = path.Split(new[] { '\\' }, StringSplitOptions.RemoveEmptyEntries);
            for (int i = 0; i < parts.Length && key is not null; i++)
            {
                if (i == 0 && string.Equals(parts[0], Root.Name, StringComparison.OrdinalIgnoreCase) && Root.Subkey(parts[0]) is null)
                {
                    continue;
                }

                key = key.Subkey(parts[i]);
            }

            return key;
        }

        internal void Report(long offset, string what, string message)
        {
            // One damaged cell may be reached from many keys; say so once.
            if (offset < 0 || _reportedOffsets.Add(offset ^ ((long)what.GetHashCode() << 32)))
            {
                var issue = new ParseIssue(Source, offset, message, what);
                _issues.Add(issue);
                IssueFound?.Invoke(issue);
            }
        }

        private void ReadBaseBlock()
        {
            ReadOnlySpan<byte> d = Span;
            if (d.Length < BaseBlockSize || d[0] != (byte)'r' || d[1] != (byte)'e' || d[2] != (byte)'g' || d[3] != (byte)'f')
            {
                Report(0, "base block", d.Length < BaseBlockSize ? "file is shorter than a base block" : "no regf signature");
                return;
            }

            IsValid = true;
            PrimarySequenceNumber = U32(d, 4);
            SecondarySequenceNumber = U32(d, 8);
            LastWrittenFileTime = BinaryPrimitives.ReadUInt64LittleEndian(d.Slice(12));
            LastWrittenTime = FromFileTime(LastWrittenFileTime);
            MajorVersion = U32(d, 20);
            MinorVersion = U32(d, 24);
            RootCellOffset = U32(d, 36);
            HiveBinsDataSize = U32(d, 40);
            FileName = TextDecoding.Utf16(d.Slice(48, 64)).TrimEnd('\0');
            int nul = FileName.IndexOf('\0');
            if (nul >= 0)
            {
                FileName = FileName.Substring(0, nul);
            }

            Checksum = U32(d, 508);
            uint sum = 0;
            for (int i = 0; i < 508; i += 4)
            {
                sum ^= U32(d, i);
            }

            if (sum == 0xFFFFFFFF)
            {
                sum = 0xFFFFFFFE;
            }
            else if (sum == 0)
            {
                sum = 1;
            }

            ChecksumValid = sum == Checksum;
            if (!ChecksumValid)
            {
                Report(508, "base block", $"checksum 0x{Checksum:X8} does not match the computed 0x{sum:X8}; reading on");
            }

            if (IsDirty)
            {
                Report(4, "base block", $"sequence numbers differ ({PrimarySequenceNumber} != {SecondarySequenceNumber}): the hive is dirty and its transaction logs are not applied");
            }

            WalkBins();
            if (EffectiveHiveBinsDataSize < HiveBinsDataSize)
            {
                Report(40, "base block", $"hive bins data size is {HiveBinsDataSize} but the bins present cover {EffectiveHiveBinsDataSize}");
            }

            Root = KeyAt(RootCellOffset, null, "root key");
        }

        private void WalkBins()
        {
            ReadOnlySpan<byte> d = Span;
            long pos = BaseBlockSize;
            int count = 0;
            while (pos + 32 <= d.Length)
            {
                if (d[(int)pos] != (byte)'h' || d[(int)pos + 1] != (byte)'b' || d[(int)pos + 2] != (byte)'i' || d[(int)pos + 3] != (byte)'n')
                {
                    if (count == 0 || pos - BaseBlockSize < HiveBinsDataSize)
                    {
                        Report(pos, "hive bin", "no hbin signature where a hive bin should start; later cells are not read");
                    }

                    break;
                }

                uint size = U32(d, (int)pos + 8);
                if (size < 4096 || size % 4096 != 0 || pos + size > d.Length)
                {
                    Report(pos, "hive bin", $"hive bin size {size} is invalid or runs past the end of the file");
                    if (pos + size > d.Length && size >= 4096 && size % 4096 == 0)
                    {
                        count++;
                        pos = d.Length;
                    }

                    break;
                }

                count++;
                pos += size;
            }

            HiveBinCount = count;
            int walked = (int)Math.Min(pos, d.Length);
            EffectiveHiveBinsDataSize = (uint)Math.Max(0, walked - BaseBlockSize);

            // A damaged bin header in the middle must not hide the intact bins after it (regipy's corrupted SYSTEM hive):
            // cells may lie anywhere up to the stated bins size, as far as the file goes.
            _binsEnd = (int)Math.Max(walked, Math.Min(d.Length, BaseBlockSize + (long)HiveBinsDataSize));
        }

        /// <summary>The data of the allocated cell at a hive offset, without its size field; empty (with an issue) when
        /// the offset or size cannot be trusted.</summary>
        internal ReadOnlySpan<byte> Cell(uint offset, string what)
        {
            if (offset == 0xFFFFFFFF)
            {
                return ReadOnlySpan<byte>.Empty;
            }

            long start = BaseBlockSize + (long)offset;
            if (offset % 8 != 0 || start + 4 > _binsEnd)
            {
                Report(start, what, $"cell offset 0x{offset:X} is outside the hive bins");
                return ReadOnlySpan<byte>.Empty;
            }

            int size = BinaryPrimitives.ReadInt32LittleEndian(Span.Slice((int)start));
            if (size > 0)
            {
                Report(start, what, "cell is marked free; reading it anyway");
            }

            long length = size < 0 ? -(long)size : size;
            if (length < 8 || start + length > _binsEnd)
            {
                Report(start, what, $"cell size {length} is invalid or runs past the hive bins");
                return ReadOnlySpan<byte>.Empty;
            }

            return Span.Slice((int)start + 4, (int)length - 4);
        }

        internal static long FileOffset(uint cellOffset) => BaseBlockSize + (long)cellOffset;

        internal RegistryKey? KeyAt(uint offset, RegistryKey? parent, string what)
        {
            ReadOnlySpan<byte> c = Cell(offset, what);
            if (c.IsEmpty)
            {
                return null;
            }

            if (c.Length < 76 || c[0] != (byte)'n' || c[1] != (byte)'k')
            {
                Report(FileOffset(offset), what, "cell is not a key node (nk)");
                return null;
            }

            ushort flags = U16(c, 2);
            int nameLength = U16(c, 72);
            string name;
            if (76 + nameLength > c.Length)
            {
                Report(FileOffset(offset), "key name", $"key name length {nameLength} runs past its cell; name truncated");
                nameLength = c.Length - 76;
            }

            ReadOnlySpan<byte> rawName = c.Slice(76, nameLength);
            name = (flags & 0x20) != 0 ? TextDecoding.Latin1(rawName) : TextDecoding.Utf16(rawName);
            return new RegistryKey(this, offset, parent, name, flags,
                BinaryPrimitives.ReadUInt64LittleEndian(c.Slice(4)),
                U32(c, 20), U32(c, 28), U32(c, 36), U32(c, 40), U32(c, 44), U32(c, 48), U16(c, 74));
        }

        internal static DateTime? FromFileTime(ulong fileTime)
        {
            if (fileTime == 0 || fileTime > (ulong)DateTime.MaxValue.ToFileTimeUtc())
            {
                return null;
            }

            return DateTime.FromFileTimeUtc((long)fileTime);
        }

        internal static uint U32(ReadOnlySpan<byte> d, int offset) => BinaryPrimitives.ReadUInt32LittleEndian(d.Slice(offset));
        internal static ushort U16(ReadOnlySpan<byte> d, int offset) => BinaryPrimitives.ReadUInt16LittleEndian(d.Slice(offset));
    }

    /// <summary>A key node (nk) of a hive. Subkeys and values are read when asked for.</summary>
    public sealed class RegistryKey
    {
        private readonly RegistryHive _hive;
        private readonly uint _subkeyList;
        private readonly uint _valueList;
        private readonly uint _security;
        private readonly uint _className;
        private readonly ushort _classNameLength;
        private IReadOnlyList<RegistryKey>? _subkeys;
        private IReadOnlyList<RegistryValue>? _values;

        internal RegistryKey(RegistryHive hive, uint offset, RegistryKey? parent, string name, ushort flags, ulong lastWritten,
            uint subkeyCount, uint subkeyList, uint valueCount, uint valueList, uint security, uint className, ushort classNameLength)
        {
            _hive = hive;
            CellOffset = offset;
            Parent = parent;
            Name = name;
            Flags = flags;
            LastWrittenFileTime = lastWritten;
            LastWriteTime = RegistryHive.FromFileTime(lastWritten);
            SubkeyCount = subkeyCount;
            _subkeyList = subkeyList;
            ValueCount = valueCount;
            _valueList = valueList;
            _security = security;
            _className = className;
            _classNameLength = classNameLength;
            Depth = parent is null ? 0 : parent.Depth + 1;
        }

        public uint CellOffset { get; }

        /// <summary>The hive this key was read from.</summary>
        public RegistryHive Hive => _hive;
        public RegistryKey? Parent { get; }
        public string Name { get; }
        public ushort Flags { get; }
        public ulong LastWrittenFileTime { get; }
        public DateTime? LastWriteTime { get; }

        /// <summary>Subkey count as the key node states it.</summary>
        public uint SubkeyCount { get; }

        /// <summary>Value count as the key node states it.</summary>
        public uint ValueCount { get; }

        internal int Depth { get; }

        /// <summary>Path below the root key (the root's own name is not part of it), e.g. <c>Software\Microsoft</c>.</summary>
        public string Path
        {
            get
            {
                if (Parent is null)
                {
                    return string.Empty;
                }

                string parentPath = Parent.Path;
                return parentPath.Length == 0 ? Name : parentPath + "\\" + Name;
            }
        }

        public RegistryKey? Subkey(string name)
        {
            foreach (RegistryKey k in Subkeys())
            {
                if (string.Equals(k.Name, name, StringComparison.OrdinalIgnoreCase))
                {
                    return k;
                }
            }

            return null;
        }

        public RegistryValue? Value(string name)
        {
            foreach (RegistryValue v in Values())
            {
                if (string.Equals(v.Name, name, StringComparison.OrdinalIgnoreCase))
                {
                    return v;
                }
            }

            return null;
        }

        /// <summary>The class name (e.g. the LSA secret classes), or null.</summary>
        public string? ClassName
        {
            get
            {
                if (_className == 0xFFFFFFFF || _classNameLength == 0)
                {
                    return null;
                }

                ReadOnlySpan<byte> c = _hive.Cell(_className, "class name");
                return c.Length < _classNameLength ? null : TextDecoding.Utf16(c.Slice(0, _classNameLength));
            }
        }

        /// <summary>The raw security descriptor from the key's sk cell, or null.</summary>
        public byte[]? SecurityDescriptor
        {
            get
            {
                ReadOnlySpan<byte> c = _hive.Cell(_security, "security key");
                if (c.Length < 20 || c[0] != (byte)'s' || c[1] != (byte)'k')
                {
                    return null;
                }

                uint length = RegistryHive.U32(c, 16);
                if (length > c.Length - 20)
                {
                    _hive.Report(RegistryHive.FileOffset(_security), "security key", $"descriptor length {length} runs past its cell");
                    return null;
                }

                return c.Slice(20, (int)length).ToArray();
            }
        }

        /// <summary>The subkeys reachable from this key's list. A list that points at a key twice, at a key of its own
        /// path (a loop), at something that is no key, or is out of the order Windows keeps gives a parse issue; the
        /// keys that can be read are still returned.</summary>
        public IReadOnlyList<RegistryKey> Subkeys()
        {
            if (_subkeys is not null)
            {
                return _subkeys;
            }

            var result = new List<RegistryKey>();
            _subkeys = result;
            if (SubkeyCount == 0 || _subkeyList == 0xFFFFFFFF)
            {
                return result;
            }

            if (Depth >= RegistryHive.MaxDepth)
            {
                _hive.Report(RegistryHive.FileOffset(CellOffset), "key node", $"keys nested deeper than {RegistryHive.MaxDepth}; not descending");
                return result;
            }

            var offsets = new List<uint>();
            CollectList(_subkeyList, offsets, 0);
            var seen = new HashSet<uint>();
            string? previous = null;
            foreach (uint offset in offsets)
            {
                if (!seen.Add(offset))
                {
                    _hive.Report(RegistryHive.FileOffset(CellOffset), "subkey list", $"subkey list of '{Path}' names cell 0x{offset:X} twice");
                    continue;
                }

                if (IsAncestorOrSelf(offset))
                {
                    _hive.Report(RegistryHive.FileOffset(offset), "subkey list", $"subkey list of '{Path}' loops back to one of its own keys");
                    continue;
                }

                RegistryKey? key = _hive.KeyAt(offset, this, "subkey");
                if (key is null)
                {
                    continue;
                }

                int order = previous is null ? -1 : string.Compare(previous, key.Name, StringComparison.OrdinalIgnoreCase);
                if (order == 0)
                {
                    _hive.Report(RegistryHive.FileOffset(offset), "subkey list", $"'{Path}' has two subkeys named '{key.Name}'");
                }
                else if (order > 0)
                {
                    _hive.Report(RegistryHive.FileOffset(CellOffset), "subkey list", $"subkeys of '{Path}' are out of order ('{previous}' before '{key.Name}')");
                }

                previous = key.Name;
                result.Add(key);
            }

            if (result.Count != SubkeyCount)
            {
                _hive.Report(RegistryHive.FileOffset(CellOffset), "key node", $"'{Path}' states {SubkeyCount} subkeys; {result.Count} could be read");
            }

            return result;
        }

        private bool IsAncestorOrSelf(uint offset)
        {
            for (RegistryKey? k = this; k is not null; k = k.Parent)
            {
                if (k.CellOffset == offset)
                {
                    return true;
                }
            }

            return false;
        }

        private void CollectList(uint listOffset, List<uint> into, int level)
        {
            ReadOnlySpan<byte> c = _hive.Cell(listOffset, "subkey list");
            if (c.Length < 4)
            {
                return;
            }

            char a = (char)c[0], b = (char)c[1];
            uint count = RegistryHive.U16(c, 2);
            bool hashed = a == 'l' && (b == 'f' || b == 'h');
            bool indexLeaf = a == 'l' && b == 'i';
            bool indexRoot = a == 'r' && b == 'i';
            if (!hashed && !indexLeaf && !indexRoot)
            {
                _hive.Report(RegistryHive.FileOffset(listOffset), "subkey list", $"unknown subkey list signature '{a}{b}'");
                return;
            }

            int stride = hashed ? 8 : 4;
            long available = (c.Length - 4) / stride;
            if (count > available)
            {
                _hive.Report(RegistryHive.FileOffset(listOffset), "subkey list", $"list states {count} entries but its cell holds {available}");
                count = (uint)available;
            }

            if (indexRoot && level > 0)
            {
                _hive.Report(RegistryHive.FileOffset(listOffset), "subkey list", "index root inside an index root; not followed");
                return;
            }

            for (int i = 0; i < count && into.Count < RegistryHive.MaxListEntries; i++)
            {
                uint entry = RegistryHive.U32(c, 4 + i * stride);
                if (indexRoot)
                {
                    CollectList(entry, into, level + 1);
                }
                else
                {
                    into.Add(entry);
                }
            }
        }

        public IReadOnlyList<RegistryValue> Values()
        {
            if (_values is not null)
            {
                return _values;
            }

            var result = new List<RegistryValue>();
            _values = result;
            if (ValueCount == 0 || _valueList == 0xFFFFFFFF)
            {
                return result;
            }

            ReadOnlySpan<byte> list = _hive.Cell(_valueList, "value list");
            long count = Math.Min(ValueCount, (uint)(list.Length / 4));
            if (count < ValueCount)
            {
                _hive.Report(RegistryHive.FileOffset(_valueList), "value list", $"'{Path}' states {ValueCount} values; its list holds {count}");
            }

            var seen = new HashSet<uint>();
            for (int i = 0; i < count; i++)
            {
                uint offset = RegistryHive.U32(list, i * 4);
                if (!seen.Add(offset))
                {
                    _hive.Report(RegistryHive.FileOffset(_valueList), "value list", $"value list of '{Path}' names cell 0x{offset:X} twice");
                    continue;
                }

                RegistryValue? value = RegistryValue.Read(_hive, this, offset);
                if (value is not null)
                {
                    result.Add(value);
                }
            }

            return result;
        }

        /// <summary>This key and every key below it, depth first. Each key cell is visited once per walk.</summary>
        public IEnumerable<RegistryKey> Descendants()
        {
            var stack = new Stack<RegistryKey>();
            var visited = new HashSet<uint>();
            stack.Push(this);
            while (stack.Count > 0)
            {
                RegistryKey key = stack.Pop();
                if (!visited.Add(key.CellOffset))
                {
                    continue;
                }

                yield return key;
                IReadOnlyList<RegistryKey> subkeys = key.Subkeys();
                for (int i = subkeys.Count - 1; i >= 0; i--)
                {
                    if (visited.Contains(subkeys[i].CellOffset))
                    {
                        _hive.Report(RegistryHive.FileOffset(subkeys[i].CellOffset), "key node", $"key cell reached twice in one walk ('{subkeys[i].Path}'); not descended again");
                        continue;
                    }

                    stack.Push(subkeys[i]);
                }
            }
        }

        public override string ToString() => Path;
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
