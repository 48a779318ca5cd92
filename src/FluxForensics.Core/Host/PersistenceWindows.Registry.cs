using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading;
using FluxForensics.Formats;
using FluxForensics.Model;

namespace FluxForensics.Host
{
    /// <summary>The autostart registry keys: Run/RunOnce and their StartupApproved state, Winlogon, AppInit, Active Setup, IFEO, services, BootExecute.</summary>
    internal sealed partial class WindowsPersistenceSource
    {
        /// <summary>An entry with no StartupApproved record is enabled; a record whose first byte is odd means disabled.</summary>
        private Dictionary<string, string> StartupApproved(IRegistryKeyView root)
        {
            // Key: "<list>\<name>" → "enabled"/"disabled".
            var result = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
            foreach (string list in new[] { "Run", "Run32", "StartupFolder" })
            {
                IRegistryKeyView? key = root.Open(CurrentVersion + @"\Explorer\StartupApproved\" + list) ?? root.Open(@"Software\" + CurrentVersion + @"\Explorer\StartupApproved\" + list);
                foreach (RegistryValueData v in key?.Values() ?? Array.Empty<RegistryValueData>())
                {
                    if (v.Binary is { Length: > 0 } b)
                    {
                        result[list + "\\" + v.Name] = (b[0] & 1) == 1 ? "disabled" : "enabled";
                    }
                }
            }

            return result;
        }

        private static bool IsEnabled(Dictionary<string, string>? approved, string list, string name) =>
            approved is null || !approved.TryGetValue(list + "\\" + name, out string? state) || state == "enabled";

        private IEnumerable<AutorunEntry> RunKeys(RegistryRoot root, string scope, IReadOnlyDictionary<string, string> variables, Dictionary<string, string>? approved)
        {
            bool user = root.Prefix.StartsWith("HKU", StringComparison.OrdinalIgnoreCase);
            string software = user ? @"Software\" : string.Empty;
            var bases = new List<(string path, string list)>
            {
                (software + CurrentVersion, "Run"),
                (software + @"Wow6432Node\" + CurrentVersion, "Run32"),
            };
            if (!user)
            {
                bases.Add((@"Microsoft\Windows NT\CurrentVersion\Terminal Server\Install\Software\" + CurrentVersion, "Run"));
            }

            foreach (var (basePath, list) in bases)
            {
                foreach (string runName in RunKeyNames)
                {
                    string path = basePath + "\\" + runName;
                    IRegistryKeyView? key = root.Key.Open(path);
                    if (key is null)
                    {
                        continue;
                    }

                    foreach (AutorunEntry e in ValuesAsEntries(root, path, key, scope, variables, runName == "Run" ? list : null, approved))
                    {
                        yield return e;
                    }

                    if (runName == "RunOnceEx")
                    {
                        // RunOnceEx: numbered subkeys whose values are "dll|function" or commands.
                        foreach (string sub in key.SubkeyNames())
                        {
                            IRegistryKeyView? subKey = key.Open(sub);
                            if (subKey is not null)
                            {
                                foreach (AutorunEntry e in ValuesAsEntries(root, path + "\\" + sub, subKey, scope, variables, null, approved))
                                {
                                    e.Command = e.Command.Split('|')[0];
                                    yield return e;
                                }
                            }
                        }
                    }
                }
            }
        }

        private IEnumerable<AutorunEntry> ValuesAsEntries(RegistryRoot root, string path, IRegistryKeyView key, string scope,
            IReadOnlyDictionary<string, string> variables, string? approvedList, Dictionary<string, string>? approved, Func<RegistryValueData, bool>? filter = null, bool label = true)
        {
            foreach (RegistryValueData v in key.Values())
            {
                if (!v.IsString || (filter is not null && !filter(v)) || v.Text.Trim().Length == 0)
                {
                    continue;
                }

                yield return new AutorunEntry
                {
                    Location = root.Prefix + "\\" + path,
                    Name = v.Name.Length == 0 ? "(Default)" : v.Name,
                    Command = v.Text,
                    Scope = scope,
                    LastWriteTime = key.LastWriteTime,
                    Enabled = approvedList is null || IsEnabled(approved, approvedList, v.Name),
                    EntryType = AutorunEntryType.RegistryValue,
                    EntryPath = root.Prefix + "\\" + path,
                    EntryText = v.Text,
                    RecoveredFromLog = v.RecoveredFromLog,
                    HivePath = root.HivePath,
                    HiveKeyPath = path,
                    NameIsLabel = label,
                    IsWindows = true,
                    Variables = variables,
                };
            }
        }

        private IEnumerable<AutorunEntry> MachineOnly(RegistryRoot software)
        {
            string winlogon = @"Microsoft\Windows NT\CurrentVersion\Winlogon";
            IRegistryKeyView? wl = software.Key.Open(winlogon);
            if (wl is not null)
            {
                foreach (AutorunEntry e in ValuesAsEntries(software, winlogon, wl, "Machine", _machineVariables, null, null,
                    v => v.Name.Equals("Shell", StringComparison.OrdinalIgnoreCase) || v.Name.Equals("Userinit", StringComparison.OrdinalIgnoreCase) || v.Name.Equals("Taskman", StringComparison.OrdinalIgnoreCase), label: false))
                {
                    // Userinit is a comma-separated list; the first program is what runs.
                    e.Command = e.Command.Split(',')[0];
                    yield return e;
                }
            }

            foreach (string prefix in new[] { string.Empty, @"Wow6432Node\" })
            {
                string windows = prefix + @"Microsoft\Windows NT\CurrentVersion\Windows";
                IRegistryKeyView? win = software.Key.Open(windows);
                if (win is not null)
                {
                    foreach (AutorunEntry e in ValuesAsEntries(software, windows, win, "Machine", _machineVariables, null, null,
                        v => v.Name.Equals("AppInit_DLLs", StringComparison.OrdinalIgnoreCase), label: false))
                    {
                        foreach (string dll in e.Command.Split(new[] { ',', ' ' }, StringSplitOptions.RemoveEmptyEntries))
                        {
                            var copy = Clone(e);
                            copy.Command = dll;
                            copy.EntryType = AutorunEntryType.AppInitDll;
                            copy.Enabled = win.Values().FirstOrDefault(x => x.Name.Equals("LoadAppInit_DLLs", StringComparison.OrdinalIgnoreCase))?.Number != 0;
                            yield return copy;
                        }
                    }
                }

                string activeSetup = prefix + @"Microsoft\Active Setup\Installed Components";
                IRegistryKeyView? components = software.Key.Open(activeSetup);
                foreach (string component in components?.SubkeyNames() ?? Array.Empty<string>())
                {
                    IRegistryKeyView? c = components!.Open(component);
                    if (c is null)
                    {
                        continue;
                    }

                    foreach (AutorunEntry e in ValuesAsEntries(software, activeSetup + "\\" + component, c, "Machine", _machineVariables, null, null,
                        v => v.Name.Equals("StubPath", StringComparison.OrdinalIgnoreCase), label: false))
                    {
                        var label = c.Values().FirstOrDefault(x => x.Name.Length == 0)?.Text;
                        e.Name = string.IsNullOrEmpty(label) ? component : label!;
                        e.Enabled = c.Values().FirstOrDefault(x => x.Name.Equals("IsInstalled", StringComparison.OrdinalIgnoreCase))?.Number != 0;
                        e.EntryType = AutorunEntryType.ActiveSetup;
                        e.NameIsLabel = false;
                        yield return e;
                    }
                }

                string ifeo = prefix + @"Microsoft\Windows NT\CurrentVersion\Image File Execution Options";
                IRegistryKeyView? options = software.Key.Open(ifeo);
                foreach (string image in options?.SubkeyNames() ?? Array.Empty<string>())
                {
                    IRegistryKeyView? o = options!.Open(image);
                    if (o is null)
                    {
                        continue;
                    }

                    foreach (AutorunEntry e in ValuesAsEntries(software, ifeo + "\\" + image, o, "Machine", _machineVariables, null, null,
                        v => v.Name.Equals("Debugger", StringComparison.OrdinalIgnoreCase), label: false))
                    {
                        e.Name = image;
                        yield return e;
                    }
                }
            }
        }

        private IEnumerable<AutorunEntry> UserOnly(RegistryRoot user, string scope, IReadOnlyDictionary<string, string> variables)
        {
            string windows = @"Software\Microsoft\Windows NT\CurrentVersion\Windows";
            IRegistryKeyView? win = user.Key.Open(windows);
            if (win is not null)
            {
                foreach (AutorunEntry e in ValuesAsEntries(user, windows, win, scope, variables, null, null,
                    v => v.Name.Equals("Load", StringComparison.OrdinalIgnoreCase) || v.Name.Equals("Run", StringComparison.OrdinalIgnoreCase), label: false))
                {
                    yield return e;
                }
            }

            string winlogon = @"Software\Microsoft\Windows NT\CurrentVersion\Winlogon";
            IRegistryKeyView? wl = user.Key.Open(winlogon);
            if (wl is not null)
            {
                foreach (AutorunEntry e in ValuesAsEntries(user, winlogon, wl, scope, variables, null, null,
                    v => v.Name.Equals("Shell", StringComparison.OrdinalIgnoreCase), label: false))
                {
                    yield return e;
                }
            }
        }

        private static IRegistryKeyView? ControlSet(RegistryRoot system)
        {
            ulong current = system.Key.Open("Select")?.Values().FirstOrDefault(v => v.Name.Equals("Current", StringComparison.OrdinalIgnoreCase))?.Number ?? 1;
            return system.Key.Open($"ControlSet{current:000}") ?? system.Key.Open("CurrentControlSet") ?? system.Key.Open("ControlSet001");
        }

        private IEnumerable<AutorunEntry> Services(RegistryRoot system)
        {
            ulong current = system.Key.Open("Select")?.Values().FirstOrDefault(v => v.Name.Equals("Current", StringComparison.OrdinalIgnoreCase))?.Number ?? 1;
            string controlSet = Offline ? $"ControlSet{current:000}" : "CurrentControlSet";
            IRegistryKeyView? services = system.Key.Open(controlSet + @"\Services");
            if (services is null && Offline)
            {
                controlSet = "ControlSet001";
                services = system.Key.Open(controlSet + @"\Services");
            }

            foreach (string name in services?.SubkeyNames() ?? Array.Empty<string>())
            {
                _cancellation.ThrowIfCancellationRequested();
                IRegistryKeyView? s = services!.Open(name);
                if (s is null)
                {
                    continue;
                }

                IReadOnlyList<RegistryValueData> values = s.Values();
                RegistryValueData? image = values.FirstOrDefault(v => v.Name.Equals("ImagePath", StringComparison.OrdinalIgnoreCase) && v.IsString);
                string? serviceDll = (s.Open("Parameters")?.Values() ?? Array.Empty<RegistryValueData>())
                    .Concat(values).FirstOrDefault(v => v.Name.Equals("ServiceDll", StringComparison.OrdinalIgnoreCase) && v.IsString)?.Text;
                ulong type = values.FirstOrDefault(v => v.Name.Equals("Type", StringComparison.OrdinalIgnoreCase))?.Number ?? 0;
                string? implied = null;
                if (image is null && serviceDll is null)
                {
                    // A kernel or file-system driver without ImagePath loads from System32\drivers\<name>.sys.
                    if ((type & 0x3) == 0)
                    {
                        continue;
                    }

                    implied = @"System32\drivers\" + name + ".sys";
                }

                ulong start = values.FirstOrDefault(v => v.Name.Equals("Start", StringComparison.OrdinalIgnoreCase))?.Number ?? 3;
                string keyPath = system.Prefix + @"\" + controlSet + @"\Services\" + name;
                yield return new AutorunEntry
                {
                    Location = system.Prefix + @"\" + controlSet + @"\Services",
                    Name = name,
                    Command = serviceDll ?? image?.Text ?? implied!,
                    Scope = "Machine",
                    LastWriteTime = s.LastWriteTime,
                    Enabled = start != 4,
                    EntryType = AutorunEntryType.Service,
                    EntryPath = keyPath,
                    EntryText = image?.Text ?? serviceDll,
                    RecoveredFromLog = image?.RecoveredFromLog ?? values.FirstOrDefault(v => v.RecoveredFromLog is not null)?.RecoveredFromLog,
                    HivePath = system.HivePath,
                    HiveKeyPath = controlSet + @"\Services\" + name,
                    IsWindows = true,
                    Variables = _machineVariables,
                };
            }
        }

        /// <summary>Session Manager's BootExecute (and SetupExecute, PlatformExecute): native programs smss.exe runs
        /// before Windows starts. <c>autocheck autochk *</c> is the default and is not an entry.</summary>
        private IEnumerable<AutorunEntry> BootExecute(RegistryRoot system)
        {
            ulong current = system.Key.Open("Select")?.Values().FirstOrDefault(v => v.Name.Equals("Current", StringComparison.OrdinalIgnoreCase))?.Number ?? 1;
            string controlSet = Offline ? $"ControlSet{current:000}" : "CurrentControlSet";
            string path = controlSet + @"\Control\Session Manager";
            IRegistryKeyView? manager = system.Key.Open(path);
            if (manager is null && Offline)
            {
                path = @"ControlSet001\Control\Session Manager";
                manager = system.Key.Open(path);
            }

            foreach (RegistryValueData v in manager?.Values() ?? Array.Empty<RegistryValueData>())
            {
                if (!v.IsString || !(v.Name.Equals("BootExecute", StringComparison.OrdinalIgnoreCase) || v.Name.Equals("SetupExecute", StringComparison.OrdinalIgnoreCase) ||
                    v.Name.Equals("PlatformExecute", StringComparison.OrdinalIgnoreCase)))
                {
                    continue;
                }

                foreach (string line in v.Strings ?? new[] { v.Text })
                {
                    string normal = string.Join(" ", line.Split(new[] { ' ', '\t' }, StringSplitOptions.RemoveEmptyEntries));
                    if (normal.Length == 0 || normal.Equals("autocheck autochk *", StringComparison.OrdinalIgnoreCase))
                    {
                        continue;
                    }

                    // smss.exe reads "autocheck <image> <args>" and "<image> <args>"; the image is a native program in System32.
                    string command = normal.StartsWith("autocheck ", StringComparison.OrdinalIgnoreCase) ? normal.Substring(10) : normal;
                    yield return new AutorunEntry
                    {
                        Location = system.Prefix + "\\" + path,
                        Name = v.Name,
                        Command = command,
                        Scope = "Machine",
                        LastWriteTime = manager!.LastWriteTime,
                        EntryType = AutorunEntryType.BootExecute,
                        EntryPath = system.Prefix + "\\" + path,
                        EntryText = line,
                        HivePath = system.HivePath,
                        HiveKeyPath = path,
                        IsWindows = true,
                        Variables = _machineVariables,
                        RecoveredFromLog = v.RecoveredFromLog,
                    };
                }
            }
        }
    }
}
