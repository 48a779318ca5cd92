using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using FluxForensics.Model;

namespace FluxForensics.Formats
{
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
}
