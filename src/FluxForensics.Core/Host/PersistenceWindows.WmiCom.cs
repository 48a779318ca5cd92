using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading;
using FluxForensics.Formats;
using FluxForensics.Model;

namespace FluxForensics.Host
{
    /// <summary>Persistence outside the autostart keys: WMI event consumers in the repository and per-user COM hijacks.</summary>
    internal sealed partial class WindowsPersistenceSource
    {
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
    }
}
