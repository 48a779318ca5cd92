using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Runtime.InteropServices;
using FluxForensics.Formats;
using FluxForensics.Host;

namespace FluxForensics.Remediation
{
    /// <summary>A registry value as remediation saves and restores it: the kind and the data, exactly.</summary>
    internal sealed class RegistryValueData
    {
        public RegistryValueData(string kind, string data)
        {
            Kind = kind;
            Data = data;
        }

        /// <summary>String, ExpandString, MultiString (lines joined by \0), DWord, QWord (decimal), Binary (base64).</summary>
        public string Kind { get; }
        public string Data { get; }

        public bool SameAs(RegistryValueData? other) => other is not null && other.Kind == Kind && other.Data == Data;

        /// <summary>The value as Host's reader gives it (live or offline), in remediation's exact form.</summary>
        public static RegistryValueData From(Host.RegistryValueData value) => value.Type switch
        {
            RegistryValueType.String => new RegistryValueData("String", value.Text),
            RegistryValueType.ExpandString => new RegistryValueData("ExpandString", value.Text),
            RegistryValueType.MultiString => new RegistryValueData("MultiString", string.Join("\0", value.Strings ?? new[] { value.Text })),
            RegistryValueType.DWord => new RegistryValueData("DWord", (value.Number ?? 0).ToString(CultureInfo.InvariantCulture)),
            RegistryValueType.QWord => new RegistryValueData("QWord", (value.Number ?? 0).ToString(CultureInfo.InvariantCulture)),
            _ => new RegistryValueData("Binary", Convert.ToBase64String(value.Binary ?? Array.Empty<byte>())),
        };
    }

    /// <summary>A key and everything below it: each key by its path relative to the exported one ("" for itself), each value exactly.</summary>
    internal sealed class RegistryKeyExport
    {
        public List<string> Keys { get; } = new List<string>();
        public List<(string Key, string Name, RegistryValueData Value)> Values { get; } = new List<(string, string, RegistryValueData)>();

        /// <summary>One record per line (the journal's escaping), keys before their values.</summary>
        public string Serialize()
        {
            var lines = new List<string>();
            foreach (var key in Keys)
            {
                lines.Add(new RemediationRecord().Set("Key", key).Serialize());
            }

            foreach (var (key, name, value) in Values)
            {
                lines.Add(new RemediationRecord().Set("Key", key).Set("Name", name).Set("ValueKind", value.Kind).Set("ValueData", value.Data).Serialize());
            }

            return string.Join("\n", lines) + "\n";
        }

        /// <summary>Reads what <see cref="Serialize"/> wrote; a line that does not parse is named in <paramref name="issues"/>.</summary>
        public static RegistryKeyExport Parse(string text, string source, List<FluxForensics.Model.ParseIssue> issues)
        {
            var export = new RegistryKeyExport();
            long offset = 0;
            foreach (var line in text.Split('\n'))
            {
                long at = offset;
                offset += line.Length + 1;
                if (line.Length == 0)
                {
                    continue;
                }

                var r = RemediationRecord.Parse(line);
                if (r?["Key"] is not string key)
                {
                    issues.Add(new FluxForensics.Model.ParseIssue(source, at, "not a key or value record", "registry export line"));
                    continue;
                }

                if (r["Name"] is string name)
                {
                    export.Values.Add((key, name, new RegistryValueData(r["ValueKind"] ?? "Binary", r["ValueData"] ?? string.Empty)));
                }
                else
                {
                    export.Keys.Add(key);
                }
            }

            return export;
        }
    }

    /// <summary>The registry as remediation needs it. Key paths look like <c>HKLM\SOFTWARE\…</c> or <c>HKU\&lt;SID&gt;\…</c>.</summary>
    internal interface IRegistryAccess
    {
        /// <summary>The value, or null when the key or the value does not exist.</summary>
        RegistryValueData? GetValue(string keyPath, string name);

        void SetValue(string keyPath, string name, RegistryValueData value);

        /// <summary>False when there was nothing to delete.</summary>
        bool DeleteValue(string keyPath, string name);

        /// <summary>The key with its subkeys and values, or null when it does not exist.</summary>
        RegistryKeyExport? ExportKey(string keyPath);

        /// <summary>Creates the key, its subkeys and values as exported (keys that exist are kept; values are set).</summary>
        void ImportKey(string keyPath, RegistryKeyExport export);

        /// <summary>Deletes the key and everything below it; false when it was not there.</summary>
        bool DeleteKeyTree(string keyPath);
    }

    /// <summary>Splits <c>HKLM\SOFTWARE\…</c> into Host's hive name and the path below it.</summary>
    internal static class RegistryPath
    {
        public static (string Hive, string SubKey) Split(string keyPath)
        {
            int slash = keyPath.IndexOf('\\');
            string hive = (slash < 0 ? keyPath : keyPath.Substring(0, slash)).ToUpperInvariant();
            string sub = slash < 0 ? string.Empty : keyPath.Substring(slash + 1).TrimEnd('\\');
            hive = hive switch
            {
                "HKLM" or "HKEY_LOCAL_MACHINE" => "HKLM",
                "HKCU" or "HKEY_CURRENT_USER" => "HKCU",
                "HKU" or "HKEY_USERS" => "HKU",
                _ => throw new ArgumentException($"'{keyPath}' is not under HKLM, HKU or HKCU."),
            };
            return (hive, sub);
        }

        public static string? Parent(string keyPath)
        {
            int slash = keyPath.TrimEnd('\\').LastIndexOf('\\');
            return slash <= 0 ? null : keyPath.Substring(0, slash);
        }
    }

    /// <summary>A registry held in memory: the test double of <see cref="Win32RegistryAccess"/>.</summary>
    internal sealed class InMemoryRegistry : IRegistryAccess
    {
        private readonly Dictionary<string, RegistryValueData> _values = new Dictionary<string, RegistryValueData>(StringComparer.OrdinalIgnoreCase);
        private readonly HashSet<string> _keys = new HashSet<string>(StringComparer.OrdinalIgnoreCase);

        private static string Key(string keyPath, string name) => keyPath.TrimEnd('\\') + "\\\\" + name;

        public RegistryValueData? GetValue(string keyPath, string name) => _values.TryGetValue(Key(keyPath, name), out var v) ? v : null;

        public void SetValue(string keyPath, string name, RegistryValueData value)
        {
            CreateKey(keyPath);
            _values[Key(keyPath, name)] = value;
        }

        public bool DeleteValue(string keyPath, string name) => _values.Remove(Key(keyPath, name));

        public RegistryKeyExport? ExportKey(string keyPath)
        {
            string root = keyPath.TrimEnd('\\');
            if (!_keys.Contains(root))
            {
                return null;
            }

            var export = new RegistryKeyExport();
            foreach (var key in _keys.Where(k => Below(k, root)).OrderBy(k => k, StringComparer.OrdinalIgnoreCase))
            {
                export.Keys.Add(Relative(key, root));
            }

            foreach (var kv in _values.OrderBy(kv => kv.Key, StringComparer.OrdinalIgnoreCase))
            {
                int split = kv.Key.IndexOf("\\\\", StringComparison.Ordinal);
                string key = kv.Key.Substring(0, split);
                if (Below(key, root))
                {
                    export.Values.Add((Relative(key, root), kv.Key.Substring(split + 2), kv.Value));
                }
            }

            return export;
        }

        public void ImportKey(string keyPath, RegistryKeyExport export)
        {
            foreach (var key in export.Keys)
            {
                CreateKey(Combine(keyPath, key));
            }

            foreach (var (key, name, value) in export.Values)
            {
                SetValue(Combine(keyPath, key), name, value);
            }
        }

        public bool DeleteKeyTree(string keyPath)
        {
            string root = keyPath.TrimEnd('\\');
            if (!_keys.Contains(root))
            {
                return false;
            }

            _keys.RemoveWhere(k => Below(k, root));
            foreach (var key in _values.Keys.Where(k => Below(k.Substring(0, k.IndexOf("\\\\", StringComparison.Ordinal)), root)).ToList())
            {
                _values.Remove(key);
            }

            return true;
        }

        /// <summary>Creates a key (and its parents) with no values, as a program that registers an empty key does.</summary>
        public void CreateKey(string keyPath)
        {
            for (string? k = keyPath.TrimEnd('\\'); k is not null && _keys.Add(k); k = RegistryPath.Parent(k))
            {
            }
        }

        /// <summary>A stable text of every value held, for before/after comparisons.</summary>
        public string Snapshot() => string.Join("\n", _values.OrderBy(kv => kv.Key, StringComparer.OrdinalIgnoreCase).Select(kv => $"{kv.Key}={kv.Value.Kind}:{kv.Value.Data}"));

        /// <summary>Every key held, for before/after comparisons of key removals.</summary>
        public string KeySnapshot() => string.Join("\n", _keys.OrderBy(k => k, StringComparer.OrdinalIgnoreCase));

        private static bool Below(string key, string root) =>
            key.Equals(root, StringComparison.OrdinalIgnoreCase) || key.StartsWith(root + "\\", StringComparison.OrdinalIgnoreCase);

        private static string Relative(string key, string root) => key.Length == root.Length ? string.Empty : key.Substring(root.Length + 1);

        private static string Combine(string keyPath, string relative) => relative.Length == 0 ? keyPath.TrimEnd('\\') : keyPath.TrimEnd('\\') + "\\" + relative;
    }

#pragma warning disable CA1416 // Every registry call goes through Open(), which refuses to run anywhere but Windows.
    /// <summary>
    /// The live Windows registry: read through Host's reader (<see cref="Win32KeyView"/>, the one the scans use, so the
    /// value saved is the value the finding saw), written through Microsoft.Win32. Compiled for both targets; refuses to
    /// run elsewhere.
    /// </summary>
    internal sealed class Win32RegistryAccess : IRegistryAccess
    {
        public RegistryValueData? GetValue(string keyPath, string name)
        {
            var value = Read(keyPath)?.Values().FirstOrDefault(v => string.Equals(v.Name, name, StringComparison.OrdinalIgnoreCase));
            return value is null ? null : RegistryValueData.From(value);
        }

        public void SetValue(string keyPath, string name, RegistryValueData value)
        {
            using var key = Open(keyPath, writable: true, create: true) ?? throw new InvalidOperationException($"Cannot open {keyPath}.");
            switch (value.Kind)
            {
                case "String": key.SetValue(name, value.Data, Microsoft.Win32.RegistryValueKind.String); break;
                case "ExpandString": key.SetValue(name, value.Data, Microsoft.Win32.RegistryValueKind.ExpandString); break;
                case "MultiString": key.SetValue(name, value.Data.Split('\0'), Microsoft.Win32.RegistryValueKind.MultiString); break;
                case "DWord": key.SetValue(name, unchecked((int)uint.Parse(value.Data, CultureInfo.InvariantCulture)), Microsoft.Win32.RegistryValueKind.DWord); break;
                case "QWord": key.SetValue(name, unchecked((long)ulong.Parse(value.Data, CultureInfo.InvariantCulture)), Microsoft.Win32.RegistryValueKind.QWord); break;
                default: key.SetValue(name, Convert.FromBase64String(value.Data), Microsoft.Win32.RegistryValueKind.Binary); break;
            }
        }

        public bool DeleteValue(string keyPath, string name)
        {
            if (GetValue(keyPath, name) is null)
            {
                return false;
            }

            using var key = Open(keyPath, writable: true);
            key?.DeleteValue(name, throwOnMissingValue: false);
            return key is not null;
        }

        public RegistryKeyExport? ExportKey(string keyPath)
        {
            var root = Read(keyPath);
            if (root is null)
            {
                return null;
            }

            var export = new RegistryKeyExport();
            var pending = new Stack<(string Relative, IRegistryKeyView Key)>();
            pending.Push((string.Empty, root));
            while (pending.Count > 0)
            {
                var (relative, key) = pending.Pop();
                export.Keys.Add(relative);
                foreach (var value in key.Values())
                {
                    export.Values.Add((relative, value.Name, RegistryValueData.From(value)));
                }

                foreach (var sub in key.SubkeyNames())
                {
                    if (key.Open(sub) is IRegistryKeyView child)
                    {
                        pending.Push((relative.Length == 0 ? sub : relative + "\\" + sub, child));
                    }
                }
            }

            return export;
        }

        public void ImportKey(string keyPath, RegistryKeyExport export)
        {
            foreach (var key in export.Keys)
            {
                using var created = Open(key.Length == 0 ? keyPath : keyPath + "\\" + key, writable: true, create: true);
            }

            foreach (var (key, name, value) in export.Values)
            {
                SetValue(key.Length == 0 ? keyPath : keyPath + "\\" + key, name, value);
            }
        }

        public bool DeleteKeyTree(string keyPath)
        {
            var (hive, sub) = RegistryPath.Split(keyPath);
            string? parentPath = RegistryPath.Parent(sub);
            string leaf = sub.Substring(sub.LastIndexOf('\\') + 1);
            if (Read(keyPath) is null)
            {
                return false;
            }

            using var parent = Open(parentPath is null ? hive : hive + "\\" + parentPath, writable: true) ?? throw new InvalidOperationException($"Cannot open the parent of {keyPath}.");
            parent.DeleteSubKeyTree(leaf, throwOnMissingSubKey: false);
            return true;
        }

        private static IRegistryKeyView? Read(string keyPath)
        {
            RequireWindows();
            var (hive, sub) = RegistryPath.Split(keyPath);
            var root = Win32KeyView.OpenBase(hive);
            return sub.Length == 0 ? root : root?.Open(sub);
        }

        private static Microsoft.Win32.RegistryKey? Open(string keyPath, bool writable, bool create = false)
        {
            RequireWindows();
            var (hiveName, subKey) = RegistryPath.Split(keyPath);
            var hive = hiveName switch
            {
                "HKLM" => Microsoft.Win32.RegistryHive.LocalMachine,
                "HKCU" => Microsoft.Win32.RegistryHive.CurrentUser,
                _ => Microsoft.Win32.RegistryHive.Users,
            };

            // The same view Host's reader opens, so what is written is what the scans read.
            var root = Microsoft.Win32.RegistryKey.OpenBaseKey(hive, Microsoft.Win32.RegistryView.Registry64);
            if (subKey.Length == 0)
            {
                return root;
            }

            return create ? root.CreateSubKey(subKey, writable) : root.OpenSubKey(subKey, writable);
        }

        private static void RequireWindows()
        {
            if (!RuntimeInformation.IsOSPlatform(OSPlatform.Windows))
            {
                throw new PlatformNotSupportedException("The live registry exists on Windows only.");
            }
        }
    }
#pragma warning restore CA1416
}
