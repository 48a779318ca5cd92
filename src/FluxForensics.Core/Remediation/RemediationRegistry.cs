using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Runtime.InteropServices;

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
    }

    /// <summary>The registry as remediation needs it; the Win32 implementation runs only on Windows, tests use the in-memory one.</summary>
    internal interface IRegistryAccess
    {
        /// <summary>The value, or null when the key or the value does not exist. Key paths look like <c>HKLM\SOFTWARE\…</c>.</summary>
        RegistryValueData? GetValue(string keyPath, string name);

        void SetValue(string keyPath, string name, RegistryValueData value);

        /// <summary>False when there was nothing to delete.</summary>
        bool DeleteValue(string keyPath, string name);
    }

    /// <summary>A registry held in memory: the test double of <see cref="Win32RegistryAccess"/>.</summary>
    internal sealed class InMemoryRegistry : IRegistryAccess
    {
        private readonly Dictionary<string, RegistryValueData> _values = new Dictionary<string, RegistryValueData>(StringComparer.OrdinalIgnoreCase);

        private static string Key(string keyPath, string name) => keyPath.TrimEnd('\\') + "\\\\" + name;

        public RegistryValueData? GetValue(string keyPath, string name) => _values.TryGetValue(Key(keyPath, name), out var v) ? v : null;

        public void SetValue(string keyPath, string name, RegistryValueData value) => _values[Key(keyPath, name)] = value;

        public bool DeleteValue(string keyPath, string name) => _values.Remove(Key(keyPath, name));

        /// <summary>A stable text of everything held, for before/after comparisons.</summary>
        public string Snapshot() => string.Join("\n", _values.OrderBy(kv => kv.Key, StringComparer.OrdinalIgnoreCase).Select(kv => $"{kv.Key}={kv.Value.Kind}:{kv.Value.Data}"));
    }

#pragma warning disable CA1416 // Open() refuses to run anywhere but Windows before any registry call.
    /// <summary>The live Windows registry through Microsoft.Win32.Registry. Compiled for both targets; refuses to run elsewhere.</summary>
    internal sealed class Win32RegistryAccess : IRegistryAccess
    {
        public RegistryValueData? GetValue(string keyPath, string name)
        {
            using var key = Open(keyPath, writable: false);
            if (key is null)
            {
                return null;
            }

            object? raw = key.GetValue(name, null, Microsoft.Win32.RegistryValueOptions.DoNotExpandEnvironmentNames);
            if (raw is null)
            {
                return null;
            }

            var kind = key.GetValueKind(name);
            return kind switch
            {
                Microsoft.Win32.RegistryValueKind.String => new RegistryValueData("String", (string)raw),
                Microsoft.Win32.RegistryValueKind.ExpandString => new RegistryValueData("ExpandString", (string)raw),
                Microsoft.Win32.RegistryValueKind.MultiString => new RegistryValueData("MultiString", string.Join("\0", (string[])raw)),
                Microsoft.Win32.RegistryValueKind.DWord => new RegistryValueData("DWord", unchecked((uint)(int)raw).ToString(CultureInfo.InvariantCulture)),
                Microsoft.Win32.RegistryValueKind.QWord => new RegistryValueData("QWord", unchecked((ulong)(long)raw).ToString(CultureInfo.InvariantCulture)),
                _ => new RegistryValueData("Binary", Convert.ToBase64String(raw as byte[] ?? Array.Empty<byte>())),
            };
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
            using var key = Open(keyPath, writable: true);
            if (key is null || key.GetValue(name) is null)
            {
                return false;
            }

            key.DeleteValue(name, throwOnMissingValue: false);
            return true;
        }

        private static Microsoft.Win32.RegistryKey? Open(string keyPath, bool writable, bool create = false)
        {
            if (!RuntimeInformation.IsOSPlatform(OSPlatform.Windows))
            {
                throw new PlatformNotSupportedException("The live registry exists on Windows only.");
            }

            int slash = keyPath.IndexOf('\\');
            string hiveName = (slash < 0 ? keyPath : keyPath.Substring(0, slash)).ToUpperInvariant();
            string subKey = slash < 0 ? string.Empty : keyPath.Substring(slash + 1);
            var hive = hiveName switch
            {
                "HKLM" or "HKEY_LOCAL_MACHINE" => Microsoft.Win32.RegistryHive.LocalMachine,
                "HKCU" or "HKEY_CURRENT_USER" => Microsoft.Win32.RegistryHive.CurrentUser,
                "HKU" or "HKEY_USERS" => Microsoft.Win32.RegistryHive.Users,
                "HKCR" or "HKEY_CLASSES_ROOT" => Microsoft.Win32.RegistryHive.ClassesRoot,
                _ => throw new ArgumentException($"Unknown hive in '{keyPath}'."),
            };
            var root = Microsoft.Win32.RegistryKey.OpenBaseKey(hive, Microsoft.Win32.RegistryView.Default);
            return create ? root.CreateSubKey(subKey, writable) : root.OpenSubKey(subKey, writable);
        }
    }
#pragma warning restore CA1416
}
