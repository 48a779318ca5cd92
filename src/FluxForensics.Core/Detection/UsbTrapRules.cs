using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using FluxForensics.Formats;
using FluxForensics.Model;

namespace FluxForensics.Detection
{
    /// <summary>What the scanner learnt about one file or folder on the drive (no judgement).</summary>
    public sealed class UsbEntryFacts
    {
        public UsbEntryFacts(string path) => Path = path;

        public string Path { get; }
        public bool Exists { get; set; }

        /// <summary>Null when the file system stores no DOS attributes and the name has no leading dot (state unknown).</summary>
        public bool? IsHidden { get; set; }
        public bool? IsSystem { get; set; }
        public uint? RawAttributes { get; set; }
        public string? Mechanism { get; set; }
        public string? Sha256 { get; set; }
        public long? Size { get; set; }
        public bool LooksLikeExecutable { get; set; }

        /// <summary>When the file or folder was last written (UTC), for the incident's timeline.</summary>
        public DateTime? LastWriteTime { get; set; }
        /// <summary>For an executable: its signature status and signer (<see cref="Host.FileFacts"/>), else null.</summary>
        public string? SignatureStatus { get; set; }
        public string? Signer { get; set; }

        /// <summary>Why a fact is missing (read error), if it is.</summary>
        public string? Error { get; set; }
    }

    /// <summary>Everything the rules need about one shortcut: the parsed link and facts about its neighbours.</summary>
    public sealed class UsbShortcutFacts
    {
        public UsbShortcutFacts(string driveRoot, string shortcutPath, ShellLink link)
        {
            DriveRoot = driveRoot;
            ShortcutPath = shortcutPath;
            Link = link;
        }

        public string DriveRoot { get; }
        public string ShortcutPath { get; }
        public ShellLink Link { get; }

        /// <summary>A folder next to the shortcut with the shortcut's name (without .lnk).</summary>
        public UsbEntryFacts? SameNameFolder { get; set; }

        /// <summary>The folder the arguments open, when it is not <see cref="SameNameFolder"/>.</summary>
        public UsbEntryFacts? OpenedFolder { get; set; }

        /// <summary>The payload the arguments start, resolved on the drive.</summary>
        public UsbEntryFacts? Payload { get; set; }
        public string? PayloadReference { get; set; }
        public string? AutorunInfPath { get; set; }

        /// <summary>When the shortcut file was last written (UTC).</summary>
        public DateTime? ShortcutLastWriteTime { get; set; }
    }

    /// <summary>What the arguments of a launcher shortcut do, read from text alone.</summary>
    public sealed class LauncherArguments
    {
        /// <summary>Programs or scripts the arguments name relative to the drive (<c>%cd%\x.exe</c>, <c>_\x.exe</c>, <c>.\x.vbs</c>), as written.</summary>
        public IReadOnlyList<string> DriveRelativePrograms { get; internal set; } = Array.Empty<string>();

        /// <summary>Folders the arguments open (explorer, or <c>start</c> of a non-program), relative to the drive, as written.</summary>
        public IReadOnlyList<string> OpenedFolders { get; internal set; } = Array.Empty<string>();

        public bool UsesStart { get; internal set; }

        /// <summary>The first drive-relative program comes before the first opened folder (run, then show the folder).</summary>
        public bool ProgramBeforeFolder { get; internal set; }
    }

    /// <summary>
    /// The shortcut-virus rules: a shortcut named after a hidden sibling folder, whose target is a command interpreter or
    /// script host and whose arguments start a program from the drive and then open the folder. Pure: no I/O.
    /// </summary>
    public static class UsbTrapRules
    {
        /// <summary>Command interpreters and script hosts a trap shortcut runs (file names without extension).</summary>
        public static readonly IReadOnlyList<string> Interpreters = new[] { "cmd", "powershell", "pwsh", "wscript", "cscript", "mshta", "rundll32" };

        /// <summary>Hidden system folders Windows itself keeps on removable drives: never the folder of a trap.</summary>
        public static readonly IReadOnlyList<string> NormalHiddenFolders = new[]
        {
            "System Volume Information", "$RECYCLE.BIN", "RECYCLER", "RECYCLED", "$Recycle.Bin", "FOUND.000", ".Trashes", ".Spotlight-V100", ".fseventsd",
        };

        private static readonly string[] ProgramExtensions =
            { ".exe", ".com", ".scr", ".pif", ".bat", ".cmd", ".vbs", ".vbe", ".js", ".jse", ".wsf", ".wsh", ".hta", ".cpl", ".dll", ".ps1", ".jar", ".msi" };

        public static bool IsNormalHiddenFolder(string name) =>
            NormalHiddenFolders.Any(n => string.Equals(n, name, StringComparison.OrdinalIgnoreCase));

        /// <summary>True when the path's file name is a command interpreter or script host.</summary>
        public static bool IsInterpreter(string? target)
        {
            string? name = FileNameOf(target);
            if (name is null)
            {
                return false;
            }

            string stem = StripExtension(name);
            return Interpreters.Any(i => string.Equals(i, stem, StringComparison.OrdinalIgnoreCase));
        }

        public static bool IsProgramName(string name) =>
            ProgramExtensions.Any(e => name.EndsWith(e, StringComparison.OrdinalIgnoreCase));

        /// <summary>Reads what the arguments of an interpreter shortcut start and open. Quotes only group; commands are
        /// split at <c>&amp;</c>, <c>&amp;&amp;</c>, <c>|</c>, <c>||</c>. <c>start X</c> and <c>explorer X</c> open X (the rest of that
        /// command, spaces included, as Explorer takes it); other drive-relative programs and scripts are started.</summary>
        public static LauncherArguments AnalyzeArguments(string? arguments)
        {
            var result = new LauncherArguments();
            if (string.IsNullOrWhiteSpace(arguments))
            {
                return result;
            }

            var programs = new List<string>();
            var folders = new List<string>();
            int order = 0, firstProgram = -1, firstFolder = -1;
            string unquoted = arguments!.Replace("\"", string.Empty);
            foreach (var command in unquoted.Split(new[] { '&', '|' }, StringSplitOptions.RemoveEmptyEntries))
            {
                var tokens = command.Split(new[] { ' ', '\t' }, StringSplitOptions.RemoveEmptyEntries).ToList();
                int first = 0;
                while (first < tokens.Count && tokens[first].StartsWith("/", StringComparison.Ordinal))
                {
                    first++; // cmd's /c /k /q, start's /b /min ...
                }

                if (first >= tokens.Count)
                {
                    continue;
                }

                string verb = tokens[first];
                string? verbName = FileNameOf(verb);
                bool isStart = string.Equals(verb, "start", StringComparison.OrdinalIgnoreCase);
                bool isExplorer = verbName is not null && StripExtension(verbName).Equals("explorer", StringComparison.OrdinalIgnoreCase);
                if (isStart || isExplorer)
                {
                    result.UsesStart |= isStart;
                    int operand = first + 1;
                    while (operand < tokens.Count && (tokens[operand].StartsWith("/", StringComparison.Ordinal) || tokens[operand].EndsWith(",", StringComparison.Ordinal)))
                    {
                        operand++;
                    }

                    if (operand >= tokens.Count)
                    {
                        continue;
                    }

                    string target = string.Join(" ", tokens.Skip(operand)).Trim();
                    string head = ProgramPart(tokens[operand]);
                    if (isStart && IsProgramName(head))
                    {
                        if (IsDriveRelative(head))
                        {
                            programs.Add(head);
                            firstProgram = firstProgram < 0 ? order : firstProgram;
                        }
                    }
                    else if (IsDriveRelative(target))
                    {
                        folders.Add(target);
                        firstFolder = firstFolder < 0 ? order : firstFolder;
                    }

                    order++;
                    continue;
                }

                foreach (var token in tokens.Skip(first))
                {
                    string program = ProgramPart(token);
                    if (IsProgramName(program) && IsDriveRelative(program) && !IsInterpreter(program))
                    {
                        programs.Add(program);
                        firstProgram = firstProgram < 0 ? order : firstProgram;
                    }
                }

                order++;
            }

            result.DriveRelativePrograms = programs.Distinct(StringComparer.OrdinalIgnoreCase).ToArray();
            result.OpenedFolders = folders.Distinct(StringComparer.OrdinalIgnoreCase).ToArray();
            result.ProgramBeforeFolder = firstProgram >= 0 && firstFolder >= 0 && firstProgram < firstFolder;
            return result;
        }

        /// <summary>A shortcut that runs an interpreter on a program from the drive it sits on: the core of the trap.
        /// True for the incident's shortcuts and for LnkParse3's <c>sample13</c>.</summary>
        public static bool IsLauncher(ShellLink link) =>
            IsInterpreter(link.TargetPath ?? link.EnvironmentTarget) && AnalyzeArguments(link.Arguments).DriveRelativePrograms.Count > 0;

        /// <summary>Whether a shortcut deserves a closer look (facts about its folder and payload) at all.</summary>
        public static bool IsCandidate(ShellLink link, bool sameNameFolderExists) =>
            IsLauncher(link) || (sameNameFolderExists && (IsInterpreter(link.TargetPath ?? link.EnvironmentTarget) || TargetIsProgramOnDrive(link)));

        /// <summary>Relative drive path as written in arguments (<c>%cd%\a\b.exe</c>) → components (<c>a</c>, <c>b.exe</c>).</summary>
        public static string[] RelativeComponents(string reference)
        {
            string r = Unquote(reference);
            if (r.StartsWith("%cd%", StringComparison.OrdinalIgnoreCase))
            {
                r = r.Substring(4);
            }

            return r.Split(new[] { '\\', '/' }, StringSplitOptions.RemoveEmptyEntries).Where(c => c != ".").ToArray();
        }

        /// <summary>Judges a candidate. Returns null for shortcuts that are not traps.</summary>
        public static UsbLnkTrap? Judge(UsbShortcutFacts facts)
        {
            var link = facts.Link;
            string? target = link.TargetPath ?? link.EnvironmentTarget;
            bool interpreter = IsInterpreter(target);
            var args = AnalyzeArguments(link.Arguments);
            bool launcher = interpreter && args.DriveRelativePrograms.Count > 0;
            var folder = facts.SameNameFolder is { Exists: true } f && !IsNormalHiddenFolder(System.IO.Path.GetFileName(f.Path)) ? f : null;

            if (!launcher && !(folder is not null && (interpreter || TargetIsProgramOnDrive(link))))
            {
                return null;
            }

            var card = new ScoreCard();
            string shortcutName = System.IO.Path.GetFileName(facts.ShortcutPath);
            if (folder is not null)
            {
                string folderName = System.IO.Path.GetFileName(folder.Path);
                if (folder.IsHidden == true)
                {
                    card.Add($"shortcut '{shortcutName}' is named after the hidden folder '{folderName}' next to it", 30);
                }
                else if (folder.IsHidden is null)
                {
                    card.Add($"shortcut '{shortcutName}' is named after the folder '{folderName}' next to it; the folder's hidden state is unknown ({folder.Mechanism ?? "no attributes"}: this file system stores no Hidden attribute)", 20);
                }
                else
                {
                    card.Add($"shortcut '{shortcutName}' is named after the visible folder '{folderName}' next to it", 5);
                }

                card.AddIf(folder.IsSystem == true, $"folder '{folderName}' is also marked System", 5);
            }

            if (interpreter)
            {
                card.Add($"target is a command interpreter or script host ({FileNameOf(target)})", 25);
            }
            else if (TargetIsProgramOnDrive(link))
            {
                card.Add($"target is a program on the drive itself ({target})", 20);
            }

            if (args.DriveRelativePrograms.Count > 0)
            {
                card.Add($"arguments start a program from the drive ({string.Join(", ", args.DriveRelativePrograms)}){(args.UsesStart ? " with 'start'" : string.Empty)}", 20);
            }

            if (args.OpenedFolders.Count > 0)
            {
                card.Add(args.ProgramBeforeFolder
                    ? $"arguments then open the folder ({string.Join(", ", args.OpenedFolders)}) so that nothing seems amiss"
                    : $"arguments open the folder ({string.Join(", ", args.OpenedFolders)}) as cover", 10);
            }

            var payload = facts.Payload;
            if (payload is { Exists: true })
            {
                card.Add($"payload '{System.IO.Path.GetFileName(payload.Path)}' is present on the drive{(payload.Sha256 is null ? string.Empty : $" (SHA-256 {payload.Sha256})")}", 10);
                if (payload.IsHidden == true)
                {
                    card.Add("payload is hidden", 10);
                }
                else if (payload.IsHidden is null)
                {
                    card.Add($"payload's hidden state is unknown ({payload.Mechanism ?? "no attributes"})", 0);
                }

                card.AddIf(payload.LooksLikeExecutable, "payload is a Windows executable (MZ header)", 5);
                card.AddIf(payload.Error is not null, $"payload could not be read completely: {payload.Error}", 0);
            }
            else if (facts.PayloadReference is not null)
            {
                card.Add($"payload '{facts.PayloadReference}' named by the arguments is not on the drive", 0);
            }

            if (HasFolderIcon(link) && (interpreter || TargetIsProgramOnDrive(link)))
            {
                card.Add($"folder icon ({link.IconLocation},{link.IconIndex}) on a shortcut to an executable", 10);
            }

            card.AddIf(link.ShowCommand == 7 || link.ShowCommand == 2, "runs minimised, so no window shows", 5);
            card.AddIf(facts.AutorunInfPath is not null, $"autorun.inf next to it ({facts.AutorunInfPath})", 10);
            foreach (var field in link.OverlongFields)
            {
                card.Add($"shortcut field {field} is longer than Windows allows (not trusted)", 5);
            }

            if (link.Issues.Count > 0)
            {
                card.Add($"shortcut is damaged: {link.Issues[0].Message}{(link.Issues.Count > 1 ? $" (+{link.Issues.Count - 1} more)" : string.Empty)}", 0);
            }

            var trap = new UsbLnkTrap
            {
                Source = facts.DriveRoot,
                DriveRoot = facts.DriveRoot,
                ShortcutPath = facts.ShortcutPath,
                HiddenFolderPath = folder?.Path ?? facts.OpenedFolder?.Path,
                HiddenFolderIsHidden = (folder ?? facts.OpenedFolder)?.IsHidden,
                HiddenFolderIsSystem = (folder ?? facts.OpenedFolder)?.IsSystem,
                HiddenFolderAttributes = (folder ?? facts.OpenedFolder)?.RawAttributes,
                AttributeMechanism = (folder ?? facts.OpenedFolder ?? payload)?.Mechanism,
                TargetPath = target,
                TargetSource = link.TargetSource.ToString(),
                Arguments = link.Arguments,
                WorkingDirectory = link.WorkingDirectory,
                IconLocation = link.IconLocation,
                IconIndex = link.IconIndex,
                MachineId = link.MachineId,
                MachineMacAddress = link.TrackerMacAddress,
                PayloadReference = facts.PayloadReference,
                PayloadPath = payload is { Exists: true } ? payload.Path : null,
                PayloadSha256 = payload is { Exists: true } ? payload.Sha256 : null,
                PayloadSize = payload is { Exists: true } ? payload.Size : null,
                PayloadAttributes = payload is { Exists: true } ? payload.RawAttributes : null,
                PayloadLastWriteTime = payload is { Exists: true } ? payload.LastWriteTime : null,
                ShortcutLastWriteTime = facts.ShortcutLastWriteTime,
                AutorunInfPath = facts.AutorunInfPath,
                ShortcutIssues = link.Issues.Select(i => i.ToString()).ToArray(),
            };
            trap.Path = trap.PayloadPath;
            trap.Sha256 = trap.PayloadSha256;
            trap.IsHidden = payload?.IsHidden == true;
            trap.SignatureStatus = payload is { Exists: true } ? payload.SignatureStatus : null;
            trap.Signer = payload is { Exists: true } ? payload.Signer : null;
            trap.SetScore(card);
            return trap;
        }

        /// <summary>Folder icons of shell32.dll (3 closed, 4 open) and imageres.dll (3, 4), or an icon file named like a folder.</summary>
        public static bool HasFolderIcon(ShellLink link)
        {
            string? icon = FileNameOf(link.IconLocation ?? link.IconEnvironmentTarget);
            if (icon is null)
            {
                return false;
            }

            int index = link.IconIndex;
            if (icon.Equals("shell32.dll", StringComparison.OrdinalIgnoreCase) || icon.Equals("imageres.dll", StringComparison.OrdinalIgnoreCase))
            {
                return index == 3 || index == 4;
            }

            return icon.IndexOf("folder", StringComparison.OrdinalIgnoreCase) >= 0;
        }

        private static bool TargetIsProgramOnDrive(ShellLink link)
        {
            string? target = link.TargetPath;
            if (target is null || !IsProgramName(target))
            {
                return false;
            }

            // A removable drive target: the volume the link was made on was removable (DRIVE_REMOVABLE), or the path is relative.
            return link.DriveType == 2 || IsDriveRelative(target);
        }

        /// <summary>Not an absolute path (drive letter, UNC) and not under a Windows variable such as %windir%.</summary>
        private static bool IsDriveRelative(string token)
        {
            string t = Unquote(token);
            if (t.Length == 0)
            {
                return false;
            }

            if (t.StartsWith("%cd%", StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }

            if (t[0] == '%' || t.StartsWith("\\\\", StringComparison.Ordinal) || (t.Length >= 2 && t[1] == ':'))
            {
                return false;
            }

            return true;
        }

        private static string ProgramPart(string token)
        {
            string t = Unquote(token);
            int comma = t.IndexOf(',');
            return comma > 0 ? t.Substring(0, comma) : t;
        }

        private static string Unquote(string token) =>
            token.Length >= 2 && token[0] == '"' && token[token.Length - 1] == '"' ? token.Substring(1, token.Length - 2) : token.Trim('"');

        internal static string? FileNameOf(string? path)
        {
            if (string.IsNullOrWhiteSpace(path))
            {
                return null;
            }

            string p = Unquote(path!.Trim());
            int comma = p.IndexOf(',');
            if (comma > 0 && p.IndexOf('.', 0, comma) >= 0)
            {
                p = p.Substring(0, comma);
            }

            int slash = Math.Max(p.LastIndexOf('\\'), p.LastIndexOf('/'));
            string name = slash >= 0 ? p.Substring(slash + 1) : p;
            return name.Length == 0 ? null : name;
        }

        private static string StripExtension(string name)
        {
            int dot = name.LastIndexOf('.');
            return dot > 0 ? name.Substring(0, dot) : name;
        }
    }
}
