using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using FluxForensics.Model;

namespace FluxForensics.Remediation
{
    /// <summary>
    /// What remediation needs from a finding, read either from a live model object or by property name from a deserialized
    /// one (Import-Clixml, remoting), so both act the same.
    /// </summary>
    public sealed class RemediationInput
    {
        public string Kind { get; set; } = string.Empty;
        public string? ComputerName { get; set; }
        public string Summary { get; set; } = string.Empty;

        public int? ProcessId { get; set; }
        public DateTime? ProcessStartTime { get; set; }
        public string? ProcessName { get; set; }
        public string? Path { get; set; }

        public string? EntryType { get; set; }
        public string? EntryPath { get; set; }
        public string? EntryText { get; set; }

        /// <summary>What the entry runs (for an AppInit_DLLs entry: the one DLL of the list).</summary>
        public string? Command { get; set; }
        public int? LineNumber { get; set; }
        public string? Name { get; set; }
        public string? ImagePath { get; set; }
        public string? Root { get; set; }

        public string? DriveRoot { get; set; }
        public string? ShortcutPath { get; set; }
        public string? HiddenFolderPath { get; set; }
        public string? PayloadPath { get; set; }

        public static RemediationInput From(FluxFinding finding) =>
            FromProperties(finding.GetType().Name, name => finding.GetType().GetProperty(name)?.GetValue(finding));

        /// <summary>Reads the properties by name; <paramref name="kind"/> is FluxListener, SuspiciousAutorun or UsbLnkTrap.</summary>
        public static RemediationInput FromProperties(string kind, Func<string, object?> get)
        {
            string? S(string n) => get(n) is object o ? Convert.ToString(o, CultureInfo.InvariantCulture) : null;
            int? I(string n) => get(n) is object o && int.TryParse(Convert.ToString(o, CultureInfo.InvariantCulture), NumberStyles.Integer, CultureInfo.InvariantCulture, out int v) ? v : null;
            DateTime? T(string n) => get(n) switch
            {
                DateTime d => d.ToUniversalTime(),
                DateTimeOffset o => o.UtcDateTime,
                string s when DateTime.TryParse(s, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var d) => d,
                _ => null,
            };

            var input = new RemediationInput
            {
                Kind = kind,
                ComputerName = S("ComputerName"),
                ProcessId = I("ProcessId"),
                ProcessStartTime = T("ProcessStartTime"),
                ProcessName = S("ProcessName"),
                Path = S("Path"),
                EntryType = S("EntryType"),
                EntryPath = S("EntryPath"),
                EntryText = S("EntryText"),
                Command = S("Command"),
                LineNumber = I("LineNumber"),
                Name = S("Name"),
                ImagePath = S("ImagePath"),
                Root = S("Root"),
                DriveRoot = S("DriveRoot"),
                ShortcutPath = S("ShortcutPath"),
                HiddenFolderPath = S("HiddenFolderPath"),
                PayloadPath = S("PayloadPath"),
            };
            input.Summary = kind switch
            {
                "FluxListener" => $"FluxListener {input.ProcessName} (PID {input.ProcessId}) {input.Path}",
                "SuspiciousAutorun" => $"SuspiciousAutorun {input.EntryType} {input.Name} in {input.EntryPath}",
                "UsbLnkTrap" => $"UsbLnkTrap {input.ShortcutPath}",
                _ => kind,
            };
            return input;
        }
    }

    /// <summary>The order actions run in: processes first so nothing respawns, persistence next, then images, then drives.</summary>
    internal enum RemediationStage
    {
        StopProcesses = 0,
        RemovePersistence = 1,
        QuarantineImages = 2,
        CleanDrives = 3,
    }

    /// <summary>One planned action: what, on what, because of which finding.</summary>
    internal sealed class RemediationAction
    {
        public RemediationStage Stage { get; set; }

        /// <summary>StopProcess, RemoveAutorun, QuarantineFile, ClearAttributes.</summary>
        public string Action { get; set; } = string.Empty;

        /// <summary>One of <see cref="ItemKinds"/>.</summary>
        public string Kind { get; set; } = string.Empty;
        public string Target { get; set; } = string.Empty;
        public string Finding { get; set; } = string.Empty;

        /// <summary>A path the target must stay inside (the drive root, the offline root), or null.</summary>
        public string? Container { get; set; }

        public int ProcessId { get; set; }
        public DateTime? ProcessStartTime { get; set; }
        public string? ExpectedImage { get; set; }

        public string? LineText { get; set; }
        public int? LineNumber { get; set; }

        public string? KeyPath { get; set; }
        public string? ValueName { get; set; }

        /// <summary>For registry values: the data to set instead of deleting (a service's Start=4), or null to delete.</summary>
        public RegistryValueData? Replacement { get; set; }

        /// <summary>For list values Windows needs (AppInit_DLLs, BootExecute): the one element to take out; the rest stays.</summary>
        public string? ListElement { get; set; }

        /// <summary>For registry keys: also delete the parent when the removal leaves it empty (a per-user CLSID key).</summary>
        public bool RemoveEmptyParent { get; set; }

        /// <summary>Shared-host processes and protected system files need -Force; say so instead of acting.</summary>
        public bool NeedsForce { get; set; }

        /// <summary>Set when planning already knows the action must not run: the error id and why.</summary>
        public string? RefusalId { get; set; }
        public string? Refusal { get; set; }

        public string Description => Action switch
        {
            "StopProcess" => $"Stop process {ProcessId} ({Target}) and its children",
            "RemoveAutorun" when Kind == ItemKinds.Line => $"Remove line {LineNumber} from {Target}",
            "RemoveAutorun" when Kind == ItemKinds.RegistryValue && ListElement is not null => $"Take '{ListElement}' out of registry value {Target}",
            "RemoveAutorun" when Kind == ItemKinds.RegistryValue => Replacement is null ? $"Delete registry value {Target}" : $"Set {Target} to {Replacement.Data} (disable)",
            "RemoveAutorun" when Kind == ItemKinds.RegistryKey => $"Move registry key {Target} into the quarantine",
            "RemoveAutorun" when Kind == ItemKinds.Link => $"Remove the enabling link {Target}",
            "RemoveAutorun" => $"Quarantine {Target}",
            "QuarantineFile" => $"Quarantine {Target}",
            "ClearAttributes" => $"Clear Hidden and System on {Target}",
            _ => Action + " " + Target,
        };
    }

    /// <summary>Turns findings into an ordered, de-duplicated list of actions. Reads the disk only to find systemd enabling links.</summary>
    internal static class RemediationPlanner
    {
        private static readonly string[] ProtectedUnix = { "/usr/", "/bin/", "/sbin/", "/lib/", "/lib32/", "/lib64/", "/libx32/", "/boot/", "/proc/", "/sys/", "/dev/" };

        public static List<RemediationAction> Plan(IEnumerable<RemediationInput> inputs, bool isWindows, IFluxReporter? reporter = null)
        {
            var actions = new List<RemediationAction>();
            foreach (var input in inputs)
            {
                switch (input.Kind)
                {
                    case "FluxListener":
                        PlanListener(input, actions);
                        break;
                    case "SuspiciousAutorun":
                        PlanAutorun(input, actions, isWindows, reporter);
                        break;
                    case "UsbLnkTrap":
                        PlanTrap(input, actions);
                        break;
                    default:
                        actions.Add(new RemediationAction { Action = "None", Target = input.Kind, Finding = input.Summary, RefusalId = "UnsupportedFinding", Refusal = $"Remove-FluxInfection acts on FluxListener, SuspiciousAutorun and UsbLnkTrap findings, not {input.Kind}." });
                        break;
                }
            }

            // One action per target: the same image found by a listener and two autoruns is quarantined once.
            return actions
                .GroupBy(a => (a.Action == "RemoveAutorun" && a.Kind == ItemKinds.File ? "QuarantineFile" : a.Action, a.Kind, Key(a)))
                .Select(g => g.OrderBy(a => a.Stage).First())
                .OrderBy(a => a.Stage)
                .ThenBy(a => a.Stage == RemediationStage.CleanDrives ? a.Container : null, StringComparer.Ordinal)
                .ToList();
        }

        private static string Key(RemediationAction a) => a.Kind switch
        {
            ItemKinds.Process => a.ProcessId.ToString(CultureInfo.InvariantCulture),
            ItemKinds.Line => a.Target + "\n" + a.LineText,
            ItemKinds.RegistryValue when a.ListElement is not null => a.Target.ToUpperInvariant() + "\n" + a.ListElement.ToUpperInvariant(),
            _ => RemediationFileSystem.IsWindows ? a.Target.ToUpperInvariant() : a.Target,
        };

        private static void PlanListener(RemediationInput input, List<RemediationAction> actions)
        {
            if (input.ProcessId is int pid && pid > 0)
            {
                actions.Add(new RemediationAction
                {
                    Stage = RemediationStage.StopProcesses, Action = "StopProcess", Kind = ItemKinds.Process,
                    Target = input.ProcessName ?? pid.ToString(CultureInfo.InvariantCulture), Finding = input.Summary,
                    ProcessId = pid, ProcessStartTime = input.ProcessStartTime, ExpectedImage = input.Path,
                });
            }

            if (!string.IsNullOrEmpty(input.Path))
            {
                actions.Add(Image(input.Path!, input.Summary, null));
            }
        }

        private static RemediationAction Image(string path, string finding, string? container) => new RemediationAction
        {
            Stage = RemediationStage.QuarantineImages, Action = "QuarantineFile", Kind = ItemKinds.File, Target = path,
            Finding = finding, Container = container, NeedsForce = IsProtectedSystemFile(path, container),
        };

        private static void PlanAutorun(RemediationInput input, List<RemediationAction> actions, bool isWindows, IFluxReporter? reporter)
        {
            string entryType = input.EntryType ?? string.Empty;
            string? entryPath = input.EntryPath;
            var action = new RemediationAction
            {
                Stage = RemediationStage.RemovePersistence, Action = "RemoveAutorun", Finding = input.Summary, Container = input.Root,
                Target = entryPath ?? string.Empty,
            };

            if (string.IsNullOrEmpty(entryPath))
            {
                action.RefusalId = "AutorunLocationUnknown";
                action.Refusal = $"The finding names no entry path for '{input.Name}'; nothing can be removed safely.";
            }
            else if (entryType == "WmiEventConsumer")
            {
                // The repository (OBJECTS.DATA with its index and mapping files) is one database with its own checksums;
                // editing it in place is not safe, live or offline, and CIM is not reachable from here.
                action.RefusalId = "AutorunNotRemovable";
                action.Refusal = input.Root is not null
                    ? $"WMI consumer '{input.Name}' was read from the repository '{entryPath}' under {input.Root}; the repository is not edited offline (its index and checksums would no longer agree). Boot that system and remove the consumer, its __EventFilter and __FilterToConsumerBinding from root\\subscription with Remove-CimInstance."
                    : $"WMI consumer '{input.Name}' is removed with Remove-CimInstance (its __FilterToConsumerBinding, __EventFilter and the consumer in root\\subscription; export them with Get-CimInstance | Export-Clixml first); Remove-FluxInfection does not edit the WMI repository.";
            }
            else if (entryType is "RegistryValue" or "Service" or "ComHijack" or "AppInitDll" or "ActiveSetup" or "BootExecute")
            {
                PlanRegistry(input, entryType, entryPath!, action);
                if (input.Root is not null)
                {
                    action.RefusalId = "OfflineRegistryNotSupported";
                    action.Refusal = $"'{action.Target}' was read from an offline hive under {input.Root}; offline hives are not edited (their logs and checksums would no longer agree). Boot that system and run the removal there.";
                }
                else if (!isWindows)
                {
                    action.RefusalId = "RegistryNotAvailable";
                    action.Refusal = $"'{action.Target}' is a Windows registry {(action.Kind == ItemKinds.RegistryKey ? "key" : "value")}; this is not Windows.";
                }
            }
            else if (input.LineNumber is not null || entryType is "CronLine" or "ProfileLine" or "LdPreload")
            {
                action.Kind = ItemKinds.Line;
                action.LineText = input.EntryText;
                action.LineNumber = input.LineNumber;
                if (string.IsNullOrEmpty(input.EntryText))
                {
                    action.RefusalId = "AutorunTextUnknown";
                    action.Refusal = $"The finding does not carry the line stored in '{entryPath}'; the line cannot be identified safely.";
                }
            }
            else
            {
                action.Kind = ItemKinds.File;
                if (entryType == "SystemdUnit")
                {
                    PlanUnitLinks(entryPath!, input, actions, reporter);
                }
            }

            actions.Add(action);
            if (!string.IsNullOrEmpty(input.ImagePath) && MapImage(input.ImagePath!, input.Root) is string image)
            {
                actions.Add(Image(image, input.Summary, input.Root));
            }
        }

        /// <summary>
        /// What a registry entry's removal is: a Run value is deleted; a service is disabled (Start=4); an Active Setup
        /// component loses its StubPath; a COM hijack's per-user server key is moved into the store (the machine's
        /// registration answers again); one DLL is taken out of AppInit_DLLs and one program out of BootExecute, the rest
        /// of those lists staying as they are.
        /// </summary>
        private static void PlanRegistry(RemediationInput input, string entryType, string entryPath, RemediationAction action)
        {
            action.Kind = ItemKinds.RegistryValue;
            action.KeyPath = entryPath;
            action.ValueName = input.Name;
            switch (entryType)
            {
                case "Service":
                    action.ValueName = "Start";
                    action.Replacement = new RegistryValueData("DWord", "4");
                    break;
                case "ActiveSetup":
                    action.ValueName = "StubPath";
                    break;
                case "AppInitDll":
                    action.ValueName = "AppInit_DLLs";
                    action.ListElement = input.Command;
                    break;
                case "BootExecute":
                    action.ListElement = input.EntryText;
                    break;
                case "ComHijack":
                    action.Kind = ItemKinds.RegistryKey;
                    action.ValueName = null;
                    action.RemoveEmptyParent = true;
                    action.Target = entryPath;
                    return;
            }

            action.Target = entryPath + "\\" + action.ValueName;
            if (entryType is "AppInitDll" or "BootExecute" && string.IsNullOrEmpty(action.ListElement))
            {
                action.RefusalId = "AutorunTextUnknown";
                action.Refusal = $"The finding does not carry the element of '{action.Target}' to take out; it cannot be identified safely.";
            }
        }

        /// <summary>The links that enable a unit (<c>*.wants/</c>, <c>*.requires/</c>) in the unit directories of the same root.</summary>
        private static void PlanUnitLinks(string unitPath, RemediationInput input, List<RemediationAction> actions, IFluxReporter? reporter)
        {
            string unitName = System.IO.Path.GetFileName(unitPath);
            var dirs = new List<string>();
            if (System.IO.Path.GetDirectoryName(unitPath) is string own)
            {
                dirs.Add(own);
            }

            string etc = input.Root is null ? "/etc/systemd/system" : System.IO.Path.Combine(input.Root, "etc/systemd/system");
            dirs.Add(etc);
            foreach (var dir in dirs.Distinct(StringComparer.Ordinal).Where(Directory.Exists))
            {
                IEnumerable<string> subdirs;
                try
                {
                    subdirs = Directory.GetDirectories(dir).Where(d => d.EndsWith(".wants", StringComparison.Ordinal) || d.EndsWith(".requires", StringComparison.Ordinal)).ToList();
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    reporter?.Warning($"'{dir}' could not be read to find the links that enable {unitName} ({e.Message}); links there are left in place.");
                    continue;
                }

                foreach (var sub in subdirs)
                {
                    string link = System.IO.Path.Combine(sub, unitName);
                    if (RemediationFileSystem.TryStat(link, out var meta) && meta!.IsSymbolicLink)
                    {
                        actions.Add(new RemediationAction
                        {
                            Stage = RemediationStage.RemovePersistence, Action = "RemoveAutorun", Kind = ItemKinds.Link, Target = link,
                            Finding = input.Summary, Container = input.Root,
                        });
                    }
                }
            }
        }

        private static string? MapImage(string image, string? root)
        {
            if (root is null)
            {
                return image;
            }

            string fullRoot = System.IO.Path.GetFullPath(root);
            if (image.StartsWith(fullRoot, StringComparison.Ordinal))
            {
                return image;
            }

            return image.StartsWith("/", StringComparison.Ordinal) ? System.IO.Path.Combine(fullRoot, image.TrimStart('/')) : null;
        }

        private static bool IsProtectedSystemFile(string path, string? root)
        {
            if (RemediationFileSystem.IsWindows)
            {
                string windows = Environment.GetFolderPath(Environment.SpecialFolder.Windows);
                return windows.Length > 0 && path.StartsWith(windows.TrimEnd('\\') + "\\", StringComparison.OrdinalIgnoreCase);
            }

            string relative = root is not null && path.StartsWith(root, StringComparison.Ordinal) ? "/" + path.Substring(root.Length).TrimStart('/') : path;
            return ProtectedUnix.Any(p => relative.StartsWith(p, StringComparison.Ordinal));
        }

        private static void PlanTrap(RemediationInput input, List<RemediationAction> actions)
        {
            string? drive = string.IsNullOrEmpty(input.DriveRoot) ? null : input.DriveRoot;
            if (drive is null)
            {
                actions.Add(new RemediationAction { Action = "QuarantineFile", Target = input.ShortcutPath ?? string.Empty, Finding = input.Summary, RefusalId = "DriveRootUnknown", Refusal = "The trap names no drive root; its files cannot be checked to be on the drive." });
                return;
            }

            void Add(string action, string kind, string? path)
            {
                if (!string.IsNullOrEmpty(path))
                {
                    actions.Add(new RemediationAction { Stage = RemediationStage.CleanDrives, Action = action, Kind = kind, Target = path!, Finding = input.Summary, Container = drive });
                }
            }

            Add("QuarantineFile", ItemKinds.File, input.ShortcutPath);
            Add("QuarantineFile", ItemKinds.File, input.PayloadPath ?? input.Path);
            Add("ClearAttributes", ItemKinds.Attributes, input.HiddenFolderPath);
        }
    }

    /// <summary>Only what the findings name is touched: absolute, no <c>..</c>, inside its container, no link or junction on the way.</summary>
    internal static class PathGuard
    {
        /// <summary>Null when the path may be acted on; else why not.</summary>
        public static string? Refusal(string path, string? container, bool leafMayBeLink)
        {
            if (string.IsNullOrEmpty(path) || !System.IO.Path.IsPathRooted(path))
            {
                return $"'{path}' is not an absolute path.";
            }

            var segments = path.Split('/', '\\');
            if (segments.Any(s => s == ".." || s == "."))
            {
                return $"'{path}' contains '.' or '..' segments.";
            }

            string full = System.IO.Path.GetFullPath(path);
            string normalized = path.Length > 1 ? path.TrimEnd('/', '\\') : path;
            if (!string.Equals(full.TrimEnd('/', '\\'), normalized, RemediationFileSystem.IsWindows ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal))
            {
                return $"'{path}' resolves to '{full}'.";
            }

            string? start = null;
            if (container is not null)
            {
                string root = System.IO.Path.GetFullPath(container).TrimEnd('/', '\\');
                var comparison = RemediationFileSystem.IsWindows ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal;
                if (!full.StartsWith(root + System.IO.Path.DirectorySeparatorChar, comparison) && !full.StartsWith(root + "/", comparison))
                {
                    return $"'{path}' is outside '{container}', which the finding names.";
                }

                start = root;
            }

            // Every directory between the container (or the file system root) and the leaf must be a real directory.
            string? dir = System.IO.Path.GetDirectoryName(full);
            while (dir is not null && (start is null || dir.Length > start.Length))
            {
                if (RemediationFileSystem.TryStat(dir, out var meta) && meta!.IsSymbolicLink)
                {
                    return $"'{dir}' on the way to '{path}' is a link or junction.";
                }

                dir = System.IO.Path.GetDirectoryName(dir);
            }

            if (!leafMayBeLink && RemediationFileSystem.TryStat(full, out var leaf) && leaf!.IsSymbolicLink)
            {
                return $"'{path}' is a link or junction; its target is not what the finding names.";
            }

            return null;
        }
    }
}
