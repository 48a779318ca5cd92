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
    internal sealed partial class WindowsPersistenceSource
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

        private static AutorunEntry Clone(AutorunEntry e) => new AutorunEntry
        {
            Location = e.Location, Name = e.Name, Command = e.Command, Scope = e.Scope, LastWriteTime = e.LastWriteTime, Enabled = e.Enabled,
            EntryType = e.EntryType, EntryPath = e.EntryPath, EntryText = e.EntryText, LineNumber = e.LineNumber, HivePath = e.HivePath, HiveKeyPath = e.HiveKeyPath,
            NameIsLabel = e.NameIsLabel, IsWindows = e.IsWindows, Variables = e.Variables, ResolvedTarget = e.ResolvedTarget, Home = e.Home,
            RecoveredFromLog = e.RecoveredFromLog, Detail = e.Detail, IsBound = e.IsBound,
        };
    }
}
