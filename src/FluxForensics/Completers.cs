using System;
using System.Collections;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Management.Automation;
using System.Management.Automation.Language;
using FluxForensics.Capture;
using FluxForensics.Model;
using FluxForensics.Remediation;

namespace FluxForensics.Commands
{
    /// <summary>What the completers share: matching the typed prefix and quoting what needs it.</summary>
    internal static class Completion
    {
        public static IEnumerable<CompletionResult> Matching(string? wordToComplete, IEnumerable<(string Value, string ToolTip)> candidates)
        {
            string prefix = Unquote(wordToComplete ?? string.Empty);
            var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
            foreach (var (value, toolTip) in candidates)
            {
                if (string.IsNullOrEmpty(value) || !value.StartsWith(prefix, StringComparison.OrdinalIgnoreCase) || !seen.Add(value))
                {
                    continue;
                }

                yield return new CompletionResult(Quote(value), value, CompletionResultType.ParameterValue, string.IsNullOrEmpty(toolTip) ? value : toolTip);
            }
        }

        /// <summary>A value typed by hand is taken by PowerShell's own rules: quote it when it holds a space or a special character.</summary>
        public static string Quote(string value) =>
            value.IndexOfAny(new[] { ' ', '\t', '\'', '"', '`', '$', ';', ',', '(', ')', '{', '}', '@', '&', '#', '|', '<', '>' }) >= 0
                ? "'" + value.Replace("'", "''") + "'"
                : value;

        private static string Unquote(string word) =>
            word.Length > 0 && (word[0] == '\'' || word[0] == '"') ? word.Substring(1).TrimEnd(word[0]) : word;

        private static readonly ScriptBlock ResolveInSession =
            ScriptBlock.Create("$ExecutionContext.SessionState.Path.GetUnresolvedProviderPathFromPSPath($args[0])");

        /// <summary>The path as the session sees it (relative to the current location, PSDrives), else as given.</summary>
        public static string? ResolvePath(object? value)
        {
            string? path = value is PSObject p ? p.BaseObject as string : value as string;
            if (string.IsNullOrEmpty(path))
            {
                return null;
            }

            try
            {
                // Completion runs inside a pipeline, where the runspace's SessionStateProxy refuses calls; a script block
                // invoked here runs in the same session state.
                var resolved = ResolveInSession.Invoke(path);
                return resolved.Count == 1 && resolved[0]?.BaseObject is string s ? s : path;
            }
            catch (RuntimeException)
            {
                return path;
            }
        }
    }

    /// <summary>-InterfaceName: the interfaces libpcap/Npcap can capture on now (none when the library is missing).</summary>
    public sealed class CaptureInterfaceCompleter : IArgumentCompleter
    {
        public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete, CommandAst commandAst, IDictionary fakeBoundParameters)
        {
            IReadOnlyList<CaptureInterface> interfaces;
            try
            {
                interfaces = LiveCapture.GetInterfaces();
            }
            catch (CaptureLibraryMissingException)
            {
                return Array.Empty<CompletionResult>();
            }

            // The device name always works; on Windows the friendly name ("Ethernet") is accepted too and is what people type.
            var candidates = interfaces.Select(i => (i.Name, i.ToString()))
                .Concat(interfaces.Where(i => !string.IsNullOrEmpty(i.FriendlyName) && i.FriendlyName != i.Name).Select(i => (i.FriendlyName!, i.ToString())));
            return Completion.Matching(wordToComplete, candidates).ToList();
        }
    }

    /// <summary>-Root: the mounted volumes (Windows drives; Linux mount points of disk, removable, network and optical file systems).</summary>
    public sealed class MountedVolumeCompleter : IArgumentCompleter
    {
        public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete, CommandAst commandAst, IDictionary fakeBoundParameters)
        {
            var candidates = new List<(string, string)>();
            foreach (var listed in DriveInfo.GetDrives())
            {
                try
                {
                    // .NET lists Linux mount points as /proc/self/mountinfo writes them (a space is \040), and then
                    // cannot query them: read the volume again under its real name.
                    string name = UnescapeMountPoint(listed.Name);
                    var drive = name == listed.Name ? listed : new DriveInfo(name);
                    // Ram covers proc, sysfs, tmpfs and cgroup on Linux; Unknown and NoRootDirectory are not volumes to analyse.
                    if (drive.DriveType is DriveType.Fixed or DriveType.Removable or DriveType.Network or DriveType.CDRom && drive.IsReady)
                    {
                        candidates.Add((drive.Name, $"{drive.Name} ({drive.DriveType}, {drive.DriveFormat})"));
                    }
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    // A volume that cannot be queried is not offered.
                }
            }

            return Completion.Matching(wordToComplete, candidates).ToList();
        }

        private static string UnescapeMountPoint(string name)
        {
            if (name.IndexOf('\\') < 0 || Path.DirectorySeparatorChar == '\\')
            {
                return name;
            }

            var sb = new System.Text.StringBuilder(name.Length);
            for (int i = 0; i < name.Length; i++)
            {
                if (name[i] == '\\' && i + 3 < name.Length && IsOctal(name[i + 1]) && IsOctal(name[i + 2]) && IsOctal(name[i + 3]))
                {
                    sb.Append((char)(((name[i + 1] - '0') * 64) + ((name[i + 2] - '0') * 8) + (name[i + 3] - '0')));
                    i += 3;
                }
                else
                {
                    sb.Append(name[i]);
                }
            }

            return sb.ToString();
        }

        private static bool IsOctal(char c) => c >= '0' && c <= '7';
    }

    /// <summary>Quarantine -Id and -RunId: what the store (-QuarantinePath, else the default one) holds.</summary>
    public sealed class QuarantineCompleter : IArgumentCompleter
    {
        public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete, CommandAst commandAst, IDictionary fakeBoundParameters)
        {
            var items = new List<FluxQuarantineItem>();
            try
            {
                using var store = QuarantineStore.Open(Completion.ResolvePath(fakeBoundParameters?["QuarantinePath"]), create: false);
                if (store is null)
                {
                    return Array.Empty<CompletionResult>();
                }

                items.AddRange(store.Runs().SelectMany(r => r.Items).Select(RemediationEngine.Describe));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Not readable (the store is root/Administrators only): nothing to offer.
                return Array.Empty<CompletionResult>();
            }

            if (string.Equals(parameterName, "RunId", StringComparison.OrdinalIgnoreCase))
            {
                var runs = items.GroupBy(i => i.RunId, StringComparer.OrdinalIgnoreCase)
                    .OrderByDescending(g => g.Key, StringComparer.Ordinal)
                    .Select(g => (g.Key, $"{g.Key}: {g.Count()} item(s), {g.Count(i => i.State == ItemStates.Quarantined)} quarantined"));
                return Completion.Matching(wordToComplete, runs).ToList();
            }

            var ids = items.OrderByDescending(i => i.QuarantineId, StringComparer.Ordinal)
                .Select(i => (i.QuarantineId, $"{i.QuarantineId}: {i.Kind} {i.OriginalPath} ({i.State})"));
            return Completion.Matching(wordToComplete, ids).ToList();
        }
    }
}
