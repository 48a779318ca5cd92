using System;
using System.Collections.Generic;
using System.Runtime.InteropServices;
using FluxForensics.Formats;

namespace FluxForensics.Host
{
    /// <summary>A registry value as the persistence sources need it: the data as stored, unexpanded.</summary>
    public sealed class RegistryValueData
    {
        public RegistryValueData(string name, RegistryValueType type, string text, byte[]? binary = null, ulong? number = null)
        {
            Name = name;
            Type = type;
            Text = text;
            Binary = binary;
            Number = number;
        }

        public string Name { get; }
        public RegistryValueType Type { get; }

        /// <summary>Strings as stored (REG_EXPAND_SZ not expanded), multi-strings joined by a space, numbers in decimal.</summary>
        public string Text { get; }
        public byte[]? Binary { get; }
        public ulong? Number { get; }

        public bool IsString => Type is RegistryValueType.String or RegistryValueType.ExpandString or RegistryValueType.MultiString;

        /// <summary>The transaction log(s) this value was recovered from when the hive file alone does not hold it (it
        /// was written shortly before the disk was imaged); null otherwise and for the live registry.</summary>
        public string? RecoveredFromLog { get; set; }

        /// <summary>The strings of a REG_MULTI_SZ, one by one (<see cref="Text"/> joins them with spaces).</summary>
        public string[]? Strings { get; set; }
    }

    /// <summary>One key of a registry, live or offline. The persistence sources read the registry only through this.</summary>
    public interface IRegistryKeyView
    {
        string Name { get; }
        DateTime? LastWriteTime { get; }
        IReadOnlyList<string> SubkeyNames();

        /// <summary>A key below this one by a backslash-separated relative path, or null.</summary>
        IRegistryKeyView? Open(string relativePath);
        IReadOnlyList<RegistryValueData> Values();
    }

    /// <summary>A key of an offline hive file.</summary>
    public sealed class HiveKeyView : IRegistryKeyView
    {
        private readonly RegistryKey _key;

        public HiveKeyView(RegistryKey key) => _key = key;

        public string Name => _key.Name;
        public DateTime? LastWriteTime => _key.LastWriteTime;

        public IReadOnlyList<string> SubkeyNames()
        {
            var names = new List<string>();
            foreach (RegistryKey k in _key.Subkeys())
            {
                names.Add(k.Name);
            }

            return names;
        }

        public IRegistryKeyView? Open(string relativePath)
        {
            RegistryKey? k = _key;
            foreach (string part in relativePath.Split(new[] { '\\' }, StringSplitOptions.RemoveEmptyEntries))
            {
                k = k.Subkey(part);
                if (k is null)
                {
                    return null;
                }
            }

            return new HiveKeyView(k);
        }

        public IReadOnlyList<RegistryValueData> Values()
        {
            var list = new List<RegistryValueData>();
            foreach (RegistryValue v in _key.Values())
            {
                list.Add(new RegistryValueData(v.Name, v.Type, v.Text, v.Data, v.Number) { RecoveredFromLog = _key.Hive.LogSourceOf(_key, v), Strings = v.MultiString });
            }

            return list;
        }
    }

    /// <summary>A key of the live Windows registry (Microsoft.Win32). Only constructed on Windows.</summary>
#pragma warning disable CA1416 // Callers construct this only when RuntimeInformation says Windows.
    public sealed class Win32KeyView : IRegistryKeyView
    {
        private readonly Microsoft.Win32.RegistryKey _key;

        // A key or value that exists but is refused is said here; otherwise it would look like an empty key.
        private readonly IFluxReporter _reporter;

        private Win32KeyView(Microsoft.Win32.RegistryKey key, string name, IFluxReporter reporter)
        {
            _key = key;
            Name = name;
            _reporter = reporter;
        }

        /// <summary>Opens <c>HKLM</c>, <c>HKU</c> or <c>HKCU</c> (64-bit view; WOW6432Node is addressed by path).</summary>
        public static IRegistryKeyView? OpenBase(string hive, IFluxReporter? reporter = null)
        {
            if (!RuntimeInformation.IsOSPlatform(OSPlatform.Windows))
            {
                return null;
            }

            var which = hive.ToUpperInvariant() switch
            {
                "HKLM" => Microsoft.Win32.RegistryHive.LocalMachine,
                "HKU" => Microsoft.Win32.RegistryHive.Users,
                "HKCU" => Microsoft.Win32.RegistryHive.CurrentUser,
                _ => throw new ArgumentException("unknown hive " + hive, nameof(hive)),
            };
            return new Win32KeyView(Microsoft.Win32.RegistryKey.OpenBaseKey(which, Microsoft.Win32.RegistryView.Registry64), hive, reporter ?? NullReporter.Instance);
        }

        public string Name { get; }

        public DateTime? LastWriteTime
        {
            get
            {
                try
                {
                    int rc = RegQueryInfoKeyW(_key.Handle, IntPtr.Zero, IntPtr.Zero, IntPtr.Zero, IntPtr.Zero, IntPtr.Zero, IntPtr.Zero,
                        IntPtr.Zero, IntPtr.Zero, IntPtr.Zero, IntPtr.Zero, out long fileTime);
                    return rc == 0 && fileTime > 0 ? DateTime.FromFileTimeUtc(fileTime) : null;
                }
                catch (Exception e) when (e is ObjectDisposedException or System.Security.SecurityException or UnauthorizedAccessException)
                {
                    _reporter.Warning($"Cannot read the last write time of registry key '{_key.Name}': {e.Message}");
                    return null;
                }
            }
        }

        public IReadOnlyList<string> SubkeyNames()
        {
            try
            {
                return _key.GetSubKeyNames();
            }
            catch (Exception e) when (e is System.Security.SecurityException or UnauthorizedAccessException or System.IO.IOException)
            {
                _reporter.Warning($"Cannot list the subkeys of registry key '{_key.Name}': {e.Message}");
                return Array.Empty<string>();
            }
        }

        public IRegistryKeyView? Open(string relativePath)
        {
            try
            {
                Microsoft.Win32.RegistryKey? k = _key.OpenSubKey(relativePath, writable: false);
                return k is null ? null : new Win32KeyView(k, relativePath.Substring(relativePath.LastIndexOf('\\') + 1), _reporter);
            }
            catch (Exception e) when (e is System.Security.SecurityException or UnauthorizedAccessException or System.IO.IOException)
            {
                _reporter.Warning($"Cannot open registry key '{_key.Name}\\{relativePath}': {e.Message}");
                return null;
            }
        }

        public IReadOnlyList<RegistryValueData> Values()
        {
            var list = new List<RegistryValueData>();
            string[] names;
            try
            {
                names = _key.GetValueNames();
            }
            catch (Exception e) when (e is System.Security.SecurityException or UnauthorizedAccessException or System.IO.IOException)
            {
                _reporter.Warning($"Cannot list the values of registry key '{_key.Name}': {e.Message}");
                return list;
            }

            foreach (string name in names)
            {
                try
                {
                    object? data = _key.GetValue(name, null, Microsoft.Win32.RegistryValueOptions.DoNotExpandEnvironmentNames);
                    var kind = _key.GetValueKind(name);
                    switch (data)
                    {
                        case string s:
                            list.Add(new RegistryValueData(name, kind == Microsoft.Win32.RegistryValueKind.ExpandString ? RegistryValueType.ExpandString : RegistryValueType.String, s));
                            break;
                        case string[] m:
                            list.Add(new RegistryValueData(name, RegistryValueType.MultiString, string.Join(" ", m)) { Strings = m });
                            break;
                        case byte[] b:
                            list.Add(new RegistryValueData(name, RegistryValueType.Binary, BitConverter.ToString(b), b));
                            break;
                        case int i:
                            list.Add(new RegistryValueData(name, RegistryValueType.DWord, ((uint)i).ToString(System.Globalization.CultureInfo.InvariantCulture), null, (uint)i));
                            break;
                        case long l:
                            list.Add(new RegistryValueData(name, RegistryValueType.QWord, ((ulong)l).ToString(System.Globalization.CultureInfo.InvariantCulture), null, (ulong)l));
                            break;
                    }
                }
                catch (Exception e) when (e is System.Security.SecurityException or UnauthorizedAccessException or System.IO.IOException)
                {
                    _reporter.Warning($"Cannot read value '{name}' of registry key '{_key.Name}': {e.Message}");
                }
            }

            return list;
        }

        [DllImport("advapi32.dll", CharSet = CharSet.Unicode)]
        private static extern int RegQueryInfoKeyW(Microsoft.Win32.SafeHandles.SafeRegistryHandle hKey, IntPtr lpClass, IntPtr lpcchClass, IntPtr lpReserved,
            IntPtr lpcSubKeys, IntPtr lpcbMaxSubKeyLen, IntPtr lpcbMaxClassLen, IntPtr lpcValues, IntPtr lpcbMaxValueNameLen,
            IntPtr lpcbMaxValueLen, IntPtr lpcbSecurityDescriptor, out long lpftLastWriteTime);
    }
#pragma warning restore CA1416
}
