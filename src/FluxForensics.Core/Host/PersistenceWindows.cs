using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading;
using FluxForensics.Formats;
using FluxForensics.Model;

namespace FluxForensics.Host
{
    /// <summary>The Windows autostart locations (ASEPs), read from the live registry or from the hives, task files and
    /// Startup folders below an offline root.</summary>
    internal sealed class WindowsPersistenceSource
    {
        private const string CurrentVersion = @"Microsoft\Windows\CurrentVersion";
        private const int MaxIssuesPerHive = 25;
        private const long MaxWmiRepository = 1L << 30;

        private static readonly string[] RunKeyNames = { "Run", "RunOnce", "RunOnceEx", @"Policies\Explorer\Run" };

        private readonly PersistenceScanOptions _options;
        private readonly PathMapper _mapper;
        private readonly IFluxReporter _reporter;
        private readonly CancellationToken _cancellation;
        private readonly Dictionary<string, string> _machineVariables = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);

        public WindowsPersistenceSource(PersistenceScanOptions options, PathMapper mapper, IFluxReporter reporter, CancellationToken cancellation)
        {
            _options = options;
            _mapper = mapper;
            _reporter = reporter;
            _cancellation = cancellation;
        }

        private bool Offline => _options.Root is not null;

        /// <summary>One registry root the sources read: HKLM\SOFTWARE, HKLM\SYSTEM, or one user's hive.</summary>
        private sealed class RegistryRoot
        {
            public RegistryRoot(IRegistryKeyView key, string prefix, string? hivePath)
            {
                Key = key;
                Prefix = prefix;
                HivePath = hivePath;
            }

            public IRegistryKeyView Key { get; }

            /// <summary>The path of this root as users and remediation name it: HKLM\SOFTWARE, HKU\S-1-5-21-…</summary>
            public string Prefix { get; }
            public string? HivePath { get; }
        }

        private sealed class UserProfile
        {
            public string Name { get; set; } = string.Empty;
            public string? Sid { get; set; }
            public string ProfilePath { get; set; } = string.Empty;
            public RegistryRoot? Hive { get; set; }
            public Dictionary<string, string> Variables { get; } = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        }

        public IEnumerable<AutorunEntry> Entries()
        {
            RegistryRoot? software = OpenMachineHive("SOFTWARE");
            RegistryRoot? system = OpenMachineHive("SYSTEM");
            BuildMachineVariables(system);
            List<UserProfile> users = FindUsers(software);

            var machineApproved = software is null ? null : StartupApproved(software.Key);
            if (software is not null)
            {
                foreach (AutorunEntry e in RunKeys(software, "Machine", _machineVariables, machineApproved))
                {
                    yield return e;
                }

                foreach (AutorunEntry e in MachineOnly(software))
                {
                    yield return e;
                }
            }

            if (system is not null)
            {
                foreach (AutorunEntry e in Services(system))
                {
                    yield return e;
                }

                foreach (AutorunEntry e in BootExecute(system))
                {
                    yield return e;
                }
            }

            foreach (AutorunEntry e in WmiConsumers())
            {
                yield return e;
            }

            foreach (AutorunEntry e in StartupFolder(_machineVariables["ProgramData"] + @"\Microsoft\Windows\Start Menu\Programs\Startup", "Machine", _machineVariables, machineApproved))
            {
                yield return e;
            }

            foreach (AutorunEntry e in Tasks())
            {
                yield return e;
            }

            foreach (UserProfile user in users)
            {
                _cancellation.ThrowIfCancellationRequested();
                string scope = user.Name;
                Dictionary<string, string>? approved = user.Hive is null ? null : StartupApproved(user.Hive.Key);
                if (user.Hive is not null)
                {
                    foreach (AutorunEntry e in RunKeys(user.Hive, scope, user.Variables, approved))
                    {
                        yield return e;
                    }

                    foreach (AutorunEntry e in UserOnly(user.Hive, scope, user.Variables))
                    {
                        yield return e;
                    }
                }

                foreach (AutorunEntry e in ComHijacks(user, software))
                {
                    yield return e;
                }

                foreach (AutorunEntry e in StartupFolder(user.ProfilePath + @"\AppData\Roaming\Microsoft\Windows\Start Menu\Programs\Startup", scope, user.Variables, approved))
                {
                    yield return e;
                }
            }
        }

        private RegistryRoot? OpenMachineHive(string name)
        {
            if (!Offline)
            {
                IRegistryKeyView? hklm = Win32KeyView.OpenBase("HKLM", _reporter);
                IRegistryKeyView? key = hklm?.Open(name);
                return key is null ? null : new RegistryRoot(key, @"HKLM\" + name, null);
            }

            string? path = _mapper.ToLocal(@"C:\Windows\System32\config\" + name);
            if (path is null || !File.Exists(path))
            {
                _reporter.Warning($"No {name} hive under '{_options.Root}' (looked for Windows\\System32\\config\\{name}).");
                return null;
            }

            RegistryHive? hive = LoadHive(path);
            return hive?.Root is null ? null : new RegistryRoot(new HiveKeyView(hive.Root), @"HKLM\" + name, path);
        }

        private RegistryHive? LoadHive(string path)
        {
            try
            {
                RegistryHive hive = RegistryHive.Load(path, applyLogs: true);
                if (hive.Root is null)
                {
                    _reporter.Error(new FluxError("RegistryHiveUnreadable", FluxErrorCategory.InvalidData, path,
                        $"'{path}' is not a readable registry hive: {(hive.Issues.Count > 0 ? hive.Issues[0].Message : "no root key")}"));
                    return null;
                }

                if (hive.Recovery is { Recovered: true } recovery)
                {
                    _reporter.Verbose($"'{path}' was dirty: {recovery.Summary}.");
                }

                // The base-block issues are known now; the rest are reported as the walk meets them, a few per hive.
                int reported = 0;
                foreach (ParseIssue issue in hive.Issues.Take(MaxIssuesPerHive))
                {
                    _reporter.Issue(issue);
                    reported++;
                }

                hive.IssueFound = issue =>
                {
                    if (++reported <= MaxIssuesPerHive)
                    {
                        _reporter.Issue(issue);
                    }
                    else if (reported == MaxIssuesPerHive + 1)
                    {
                        _reporter.Warning($"'{path}' has more damage than shown; further parse issues of this hive are not reported.");
                    }
                };

                return hive;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                _reporter.Error(new FluxError("RegistryHiveUnreadable", FluxErrorCategory.ReadError, path, $"Cannot read hive '{path}': {e.Message}", e));
                return null;
            }
        }

        private void BuildMachineVariables(RegistryRoot? system)
        {
            var v = _machineVariables;
            if (!Offline)
            {
                foreach (System.Collections.DictionaryEntry pair in Environment.GetEnvironmentVariables(EnvironmentVariableTarget.Machine))
                {
                    v[(string)pair.Key] = (string?)pair.Value ?? string.Empty;
                }
            }

            void Default(string name, string value)
            {
                if (!v.ContainsKey(name))
                {
                    v[name] = value;
                }
            }

            string systemRoot = Offline ? @"C:\Windows" : Environment.GetFolderPath(Environment.SpecialFolder.Windows);
            if (string.IsNullOrEmpty(systemRoot))
            {
                systemRoot = @"C:\Windows";
            }

            Default("SystemRoot", systemRoot);
            Default("windir", systemRoot);
            Default("SystemDrive", systemRoot.Substring(0, 2));
            Default("ProgramFiles", @"C:\Program Files");
            Default("ProgramFiles(x86)", @"C:\Program Files (x86)");
            Default("ProgramW6432", @"C:\Program Files");
            Default("CommonProgramFiles", @"C:\Program Files\Common Files");
            Default("CommonProgramFiles(x86)", @"C:\Program Files (x86)\Common Files");
            Default("ProgramData", @"C:\ProgramData");
            Default("ALLUSERSPROFILE", @"C:\ProgramData");
            Default("PUBLIC", @"C:\Users\Public");
            Default("ComSpec", systemRoot + @"\system32\cmd.exe");
            if (system is not null && Offline)
            {
                // The machine environment of the offline system (TEMP, Path, custom variables).
                IRegistryKeyView? env = ControlSet(system)?.Open(@"Control\Session Manager\Environment");
                foreach (RegistryValueData value in env?.Values() ?? Array.Empty<RegistryValueData>())
                {
                    if (value.IsString && !v.ContainsKey(value.Name))
                    {
                        v[value.Name] = CommandLine.Expand(value.Text, v);
                    }
                }
            }

            Default("TEMP", systemRoot + @"\TEMP");
            Default("TMP", systemRoot + @"\TEMP");
        }

        private List<UserProfile> FindUsers(RegistryRoot? software)
        {
            var users = new List<UserProfile>();
            var profileList = software?.Key.Open(@"Microsoft\Windows NT\CurrentVersion\ProfileList");
            var sidByPath = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
            foreach (string sid in profileList?.SubkeyNames() ?? Array.Empty<string>())
            {
                string? path = profileList!.Open(sid)?.Values().FirstOrDefault(x => string.Equals(x.Name, "ProfileImagePath", StringComparison.OrdinalIgnoreCase))?.Text;
                if (path is not null && sid.StartsWith("S-1-5-21-", StringComparison.OrdinalIgnoreCase))
                {
                    sidByPath[CommandLine.Expand(path, _machineVariables).TrimEnd('\\')] = sid;
                }
            }

            IRegistryKeyView? hku = Offline ? null : Win32KeyView.OpenBase("HKU", _reporter);
            string? usersDir = _mapper.ToLocal(@"C:\Users");
            var profilePaths = new List<string>(sidByPath.Keys);
            if (Offline && usersDir is not null && Directory.Exists(usersDir))
            {
                foreach (string dir in Directory.EnumerateDirectories(usersDir).OrderBy(d => d, StringComparer.Ordinal))
                {
                    string windowsPath = @"C:\Users\" + Path.GetFileName(dir);
                    if (!profilePaths.Contains(windowsPath, StringComparer.OrdinalIgnoreCase))
                    {
                        profilePaths.Add(windowsPath);
                    }
                }
            }

            foreach (string profile in profilePaths)
            {
                _cancellation.ThrowIfCancellationRequested();
                string name = profile.Substring(profile.LastIndexOf('\\') + 1);
                if (string.Equals(name, "Public", StringComparison.OrdinalIgnoreCase) || string.Equals(name, "All Users", StringComparison.OrdinalIgnoreCase) ||
                    string.Equals(name, "Default User", StringComparison.OrdinalIgnoreCase))
                {
                    continue;
                }

                sidByPath.TryGetValue(profile, out string? sid);
                var user = new UserProfile { Name = name, Sid = sid, ProfilePath = profile };
                IRegistryKeyView? live = sid is null ? null : hku?.Open(sid);
                if (live is not null)
                {
                    user.Hive = new RegistryRoot(live, @"HKU\" + sid, null);
                }
                else
                {
                    string? ntuser = _mapper.ToLocal(profile + @"\NTUSER.DAT");
                    if (ntuser is not null && File.Exists(ntuser))
                    {
                        RegistryHive? hive = LoadHive(ntuser);
                        if (hive?.Root is not null)
                        {
                            user.Hive = new RegistryRoot(new HiveKeyView(hive.Root), sid is null ? @"HKU\" + name : @"HKU\" + sid, ntuser);
                        }
                    }
                    else if (!Offline && sid is null)
                    {
                        continue;
                    }
                }

                foreach (var pair in _machineVariables)
                {
                    user.Variables[pair.Key] = pair.Value;
                }

                user.Variables["USERPROFILE"] = profile;
                user.Variables["HOMEDRIVE"] = profile.Substring(0, 2);
                user.Variables["HOMEPATH"] = profile.Substring(2);
                user.Variables["USERNAME"] = name;
                user.Variables["APPDATA"] = profile + @"\AppData\Roaming";
                user.Variables["LOCALAPPDATA"] = profile + @"\AppData\Local";
                user.Variables["TEMP"] = profile + @"\AppData\Local\Temp";
                user.Variables["TMP"] = profile + @"\AppData\Local\Temp";
                foreach (RegistryValueData value in user.Hive?.Key.Open("Environment")?.Values() ?? Array.Empty<RegistryValueData>())
                {
                    if (value.IsString)
                    {
                        user.Variables[value.Name] = CommandLine.Expand(value.Text, user.Variables);
                    }
                }

                users.Add(user);
            }

            return users;
        }

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

        /// <summary>Event consumers in the WMI repository (offline, or the live file when it can be read).</summary>
        private IEnumerable<AutorunEntry> WmiConsumers()
        {
            foreach (string relative in new[] { @"\System32\wbem\Repository\OBJECTS.DATA", @"\System32\wbem\Repository\FS\OBJECTS.DATA" })
            {
                string windowsPath = _machineVariables["SystemRoot"] + relative;
                string? local = _mapper.ToLocal(windowsPath);
                if (local is null || !File.Exists(local))
                {
                    continue;
                }

                byte[] bytes;
                try
                {
                    using var stream = new FileStream(local, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
                    if (stream.Length > MaxWmiRepository)
                    {
                        _reporter.Warning($"'{local}' is {stream.Length} bytes; over the {MaxWmiRepository} cap, WMI consumers not read.");
                        continue;
                    }

                    bytes = new byte[stream.Length];
                    int read = 0;
                    while (read < bytes.Length)
                    {
                        int n = stream.Read(bytes, read, bytes.Length - read);
                        if (n <= 0)
                        {
                            break;
                        }

                        read += n;
                    }
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    if (Offline)
                    {
                        _reporter.Error(new FluxError("WmiRepositoryUnreadable", FluxErrorCategory.ReadError, local, $"Cannot read the WMI repository '{local}': {e.Message}", e));
                    }
                    else
                    {
                        // The running WMI service may hold the file; that is the machine working normally, not a failure.
                        _reporter.Warning($"Cannot read the live WMI repository '{local}' ({e.Message}); its event subscriptions are not examined here (the root/subscription namespace lists them, and a copy of the repository can be analysed offline).");
                    }

                    continue;
                }

                WmiRepository repository = WmiRepository.Parse(bytes, local);
                foreach (ParseIssue issue in repository.Issues)
                {
                    _reporter.Issue(issue);
                }

                foreach (WmiEventConsumer c in repository.Consumers)
                {
                    string? script = c.ScriptText;
                    yield return new AutorunEntry
                    {
                        Location = windowsPath,
                        Name = c.Name,
                        Command = c.CommandLineTemplate ?? c.ScriptFileName ?? script ?? string.Empty,
                        Scope = "Machine",
                        LastWriteTime = null,
                        Enabled = c.IsBound,
                        EntryType = AutorunEntryType.WmiEventConsumer,
                        EntryPath = Offline ? local : windowsPath,
                        EntryText = c.CommandLineTemplate ?? (c.ScriptingEngine + ": " + (c.ScriptFileName ?? script)),
                        NameIsLabel = true,
                        IsWindows = true,
                        Variables = _machineVariables,
                        // Inline script runs inside scrcons.exe; what it starts is the file it names, when it names one.
                        ResolvedTarget = script is null ? null : FirstPathIn(script) ?? _machineVariables["SystemRoot"] + @"\System32\wbem\scrcons.exe",
                        IsBound = c.IsBound,
                        Detail = c.ClassName + (c.IsBound ? $" bound to filter '{c.FilterName}'" + (c.FilterQuery is null ? string.Empty : $" ({c.FilterQuery})") : " not bound to any filter"),
                    };
                }
            }
        }

        private static readonly System.Text.RegularExpressions.Regex ScriptPath = new System.Text.RegularExpressions.Regex(
            @"[A-Za-z]:\\[^""'\r\n<>|*?]*?\.(?:exe|dll|scr|com|bat|cmd|vbs|vbe|js|jse|ps1|hta)\b",
            System.Text.RegularExpressions.RegexOptions.IgnoreCase | System.Text.RegularExpressions.RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));

        internal static string? FirstPathIn(string script)
        {
            try
            {
                System.Text.RegularExpressions.Match m = ScriptPath.Match(script);
                return m.Success ? m.Value : null;
            }
            catch (System.Text.RegularExpressions.RegexMatchTimeoutException)
            {
                return null;
            }
        }

        /// <summary>Per-user COM registrations (HKCU\Software\Classes, i.e. NTUSER.DAT and UsrClass.dat) of a CLSID whose
        /// InprocServer32 or LocalServer32 the machine registers too: the user's wins, which is the hijack.</summary>
        private IEnumerable<AutorunEntry> ComHijacks(UserProfile user, RegistryRoot? software)
        {
            if (software is null)
            {
                yield break;
            }

            var sources = new List<(IRegistryKeyView Clsid, string Prefix, string HiveKeyPrefix, string? HivePath)>();
            string userPrefix = user.Hive?.Prefix ?? @"HKU\" + user.Name;
            if (user.Hive?.Key.Open(@"Software\Classes\CLSID") is { } inNtuser)
            {
                sources.Add((inNtuser, userPrefix + @"\Software\Classes\CLSID", @"Software\Classes\CLSID", user.Hive.HivePath));
            }

            if (!Offline)
            {
                if (user.Sid is not null && Win32KeyView.OpenBase("HKU", _reporter)?.Open(user.Sid + @"_Classes\CLSID") is { } live)
                {
                    sources.Add((live, @"HKU\" + user.Sid + @"_Classes\CLSID", "CLSID", null));
                }
            }
            else if (_mapper.ToLocal(user.ProfilePath + @"\AppData\Local\Microsoft\Windows\UsrClass.dat") is { } usrClass && File.Exists(usrClass) &&
                LoadHive(usrClass)?.Root is { } classesRoot && new HiveKeyView(classesRoot).Open("CLSID") is { } inUsrClass)
            {
                sources.Add((inUsrClass, userPrefix + @"_Classes\CLSID", "CLSID", usrClass));
            }

            foreach (var (clsids, prefix, hiveKeyPrefix, hivePath) in sources)
            {
                foreach (string clsid in clsids.SubkeyNames())
                {
                    _cancellation.ThrowIfCancellationRequested();
                    foreach (string server in new[] { "InprocServer32", "LocalServer32" })
                    {
                        IRegistryKeyView? mine = clsids.Open(clsid + "\\" + server);
                        RegistryValueData? value = mine?.Values().FirstOrDefault(v => v.Name.Length == 0 && v.IsString && v.Text.Trim().Length > 0);
                        IRegistryKeyView? machine = software.Key.Open(@"Classes\CLSID\" + clsid + "\\" + server);
                        if (value is null || machine is null)
                        {
                            continue;
                        }

                        string? machineServer = machine.Values().FirstOrDefault(v => v.Name.Length == 0 && v.IsString)?.Text;
                        if (machineServer is not null && string.Equals(CommandLine.Expand(machineServer, _machineVariables).Trim('"'), CommandLine.Expand(value.Text, user.Variables).Trim('"'), StringComparison.OrdinalIgnoreCase))
                        {
                            // The same server registered twice is no hijack.
                            continue;
                        }

                        yield return new AutorunEntry
                        {
                            Location = prefix + "\\" + clsid + "\\" + server,
                            Name = clsid,
                            Command = value.Text,
                            Scope = user.Name,
                            LastWriteTime = mine!.LastWriteTime,
                            EntryType = AutorunEntryType.ComHijack,
                            EntryPath = prefix + "\\" + clsid + "\\" + server,
                            EntryText = value.Text,
                            HivePath = hivePath,
                            HiveKeyPath = hiveKeyPrefix + "\\" + clsid + "\\" + server,
                            IsWindows = true,
                            Variables = user.Variables,
                            RecoveredFromLog = value.RecoveredFromLog,
                            Detail = $@"shadows HKLM\SOFTWARE\Classes\CLSID\{clsid}\{server} ({machineServer ?? "no default value"})",
                        };
                    }
                }
            }
        }

        private IEnumerable<AutorunEntry> StartupFolder(string windowsFolder, string scope, IReadOnlyDictionary<string, string> variables, Dictionary<string, string>? approved)
        {
            string? local = _mapper.ToLocal(windowsFolder);
            if (local is null || !Directory.Exists(local))
            {
                yield break;
            }

            foreach (string file in PersistenceScanner.SafeFiles(local, "*", SearchOption.TopDirectoryOnly, _reporter, _options.MaxFilesPerDirectory))
            {
                string fileName = Path.GetFileName(file);
                if (fileName.Equals("desktop.ini", StringComparison.OrdinalIgnoreCase))
                {
                    continue;
                }

                string windowsPath = windowsFolder + "\\" + fileName;
                var entry = new AutorunEntry
                {
                    Location = windowsFolder,
                    Name = Path.GetFileNameWithoutExtension(fileName),
                    Command = windowsPath,
                    Scope = scope,
                    LastWriteTime = PersistenceScanner.WriteTime(file),
                    Enabled = IsEnabled(approved, "StartupFolder", fileName),
                    EntryType = AutorunEntryType.StartupFile,
                    EntryPath = Offline ? file : windowsPath,
                    EntryText = null,
                    NameIsLabel = true,
                    IsWindows = true,
                    Variables = variables,
                    ResolvedTarget = windowsPath,
                };
                if (fileName.EndsWith(".lnk", StringComparison.OrdinalIgnoreCase))
                {
                    byte[] bytes;
                    try
                    {
                        bytes = File.ReadAllBytes(file);
                    }
                    catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                    {
                        _reporter.Error(new FluxError("StartupShortcutUnreadable", FluxErrorCategory.ReadError, file, $"Cannot read '{file}': {e.Message}", e));
                        continue;
                    }

                    ShellLink link = ShellLinkFile.Parse(bytes, file);
                    foreach (ParseIssue issue in link.Issues)
                    {
                        _reporter.Issue(issue);
                    }

                    if (link.TargetPath is not null)
                    {
                        entry.Command = (link.TargetPath.IndexOf(' ') >= 0 ? "\"" + link.TargetPath + "\"" : link.TargetPath) + (string.IsNullOrEmpty(link.Arguments) ? string.Empty : " " + link.Arguments);
                        entry.ResolvedTarget = null;
                    }

                    entry.EntryText = entry.Command;
                }

                yield return entry;
            }
        }

        private IEnumerable<AutorunEntry> Tasks()
        {
            string tasksFolder = _machineVariables["SystemRoot"] + @"\System32\Tasks";
            string? local = _mapper.ToLocal(tasksFolder);
            if (local is null || !Directory.Exists(local))
            {
                yield break;
            }

            foreach (string file in PersistenceScanner.SafeFiles(local, "*", SearchOption.AllDirectories, _reporter, _options.MaxFilesPerDirectory))
            {
                _cancellation.ThrowIfCancellationRequested();
                byte[] bytes;
                try
                {
                    var info = new FileInfo(file);
                    if (info.Length > TaskXml.MaxTaskFileSize)
                    {
                        _reporter.Warning($"Task file '{file}' is {info.Length} bytes; not read.");
                        continue;
                    }

                    bytes = File.ReadAllBytes(file);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    _reporter.Error(new FluxError("TaskFileUnreadable", FluxErrorCategory.ReadError, file, $"Cannot read '{file}': {e.Message}", e));
                    continue;
                }

                TaskDefinition task = TaskXml.Parse(bytes, file);
                foreach (ParseIssue issue in task.Issues)
                {
                    _reporter.Issue(issue);
                }

                if (!task.IsValid)
                {
                    continue;
                }

                string relative = file.Substring(local.Length).Replace('/', '\\');
                string uri = task.Uri ?? relative;
                string name = uri.Substring(uri.LastIndexOf('\\') + 1);
                foreach (TaskExecAction action in task.ExecActions)
                {
                    yield return new AutorunEntry
                    {
                        Location = tasksFolder + relative.Substring(0, relative.LastIndexOf('\\') < 0 ? 0 : relative.LastIndexOf('\\')),
                        Name = name,
                        Command = action.CommandLine,
                        Scope = task.PrincipalUserIds.FirstOrDefault() ?? "Machine",
                        LastWriteTime = PersistenceScanner.WriteTime(file),
                        Enabled = task.Enabled,
                        EntryType = AutorunEntryType.ScheduledTask,
                        EntryPath = Offline ? file : tasksFolder + relative,
                        EntryText = task.Text,
                        NameIsLabel = true,
                        IsWindows = true,
                        Variables = _machineVariables,
                    };
                }
            }
        }

        private static AutorunEntry Clone(AutorunEntry e) => new AutorunEntry
        {
            Location = e.Location, Name = e.Name, Command = e.Command, Scope = e.Scope, LastWriteTime = e.LastWriteTime, Enabled = e.Enabled,
            EntryType = e.EntryType, EntryPath = e.EntryPath, EntryText = e.EntryText, LineNumber = e.LineNumber, HivePath = e.HivePath, HiveKeyPath = e.HiveKeyPath,
            NameIsLabel = e.NameIsLabel, IsWindows = e.IsWindows, Variables = e.Variables, ResolvedTarget = e.ResolvedTarget, Home = e.Home,
            RecoveredFromLog = e.RecoveredFromLog, Detail = e.Detail, IsBound = e.IsBound,
        };
    }
}
