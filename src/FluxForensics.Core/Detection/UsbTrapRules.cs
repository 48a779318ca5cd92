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
        /// <summary>For an executable: its signature status and signer (<see cref="Model.FileFacts"/>), else null.</summary>
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

        /// <summary>A hidden folder in the same directory whose name looks blank (U+00A0 …): where Gamarue moves the drive's content.</summary>
        public UsbEntryFacts? BlankFolder { get; set; }

        /// <summary>The label of the volume, when the platform tells it (Gamarue names its one shortcut after it).</summary>
        public string? VolumeLabel { get; set; }
    }

    /// <summary>A program named after a folder next to it (<c>Docs.exe</c> beside <c>Docs</c>): a folder-icon EXE worm's copy.</summary>
    public sealed class UsbFolderProgramFacts
    {
        public UsbFolderProgramFacts(string driveRoot, UsbEntryFacts program, UsbEntryFacts folder)
        {
            DriveRoot = driveRoot;
            Program = program;
            Folder = folder;
        }

        public string DriveRoot { get; }
        public UsbEntryFacts Program { get; }
        public UsbEntryFacts Folder { get; }

        /// <summary>Other programs named after their folders on the drive with exactly the same bytes.</summary>
        public IReadOnlyList<string> Twins { get; set; } = Array.Empty<string>();
    }

    /// <summary>The commands of an autorun.inf (<c>open=</c>, <c>shellexecute=</c>, <c>shell\verb\command=</c>) that start one
    /// file, and that file.</summary>
    public sealed class UsbAutorunFacts
    {
        public UsbAutorunFacts(string driveRoot, string autorunPath, IReadOnlyList<AutorunCommand> commands)
        {
            DriveRoot = driveRoot;
            AutorunPath = autorunPath;
            Commands = commands;
        }

        public string DriveRoot { get; }
        public string AutorunPath { get; }
        public IReadOnlyList<AutorunCommand> Commands { get; }
        public UsbEntryFacts? AutorunFile { get; set; }
        public UsbEntryFacts? Payload { get; set; }
        public string? PayloadReference { get; set; }
    }

    /// <summary>What the arguments of a launcher shortcut do, read from text alone.</summary>
    public sealed class LauncherArguments
    {
        /// <summary>Programs or scripts the arguments name relative to the drive (<c>%cd%\x.exe</c>, <c>_\x.exe</c>, <c>.\x.vbs</c>), as written.</summary>
        public IReadOnlyList<string> DriveRelativePrograms { get; internal set; } = Array.Empty<string>();

        /// <summary>Folders the arguments open (explorer, or <c>start</c> of a non-program), relative to the drive, as written.</summary>
        public IReadOnlyList<string> OpenedFolders { get; internal set; } = Array.Empty<string>();

        public bool UsesStart { get; internal set; }

        /// <summary>Programs named by a drive letter other than C (<c>E:\x.exe</c>): the letter the stick had when the worm
        /// wrote the shortcut. They are on the drive only if the scanner finds them there.</summary>
        public IReadOnlyList<string> DriveLetterPrograms { get; internal set; } = Array.Empty<string>();

        /// <summary>The script host or loader that runs a file from the drive (wscript, cscript, mshta, rundll32, regsvr32), if any.</summary>
        public string? ScriptHost { get; internal set; }

        /// <summary>rundll32's entry point (<c>file,Export</c>).</summary>
        public string? DllEntryPoint { get; internal set; }

        /// <summary>The engine switch of an encoded script (<c>/e:VBScript.Encode</c>), whose text cannot be read as it is.</summary>
        public string? EncodedScriptEngine { get; internal set; }

        /// <summary>Whether any program or script on the drive is started (relative path or a drive letter other than C).</summary>
        public bool StartsSomething => DriveRelativePrograms.Count > 0 || DriveLetterPrograms.Count > 0;

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
        public static readonly IReadOnlyList<string> Interpreters = ProgramCatalogue.Interpreters;

        /// <summary>Hosts whose first operand is a file they run whatever its extension: a script, or a DLL for rundll32.</summary>
        public static readonly IReadOnlyList<string> ScriptHosts = ProgramCatalogue.ScriptHosts;

        /// <summary>Trap families, in <see cref="UsbLnkTrap.Family"/>.</summary>
        public const string FamilyShortcutLauncher = "ShortcutLauncher";
        public const string FamilyGamarue = "Gamarue";
        public const string FamilyScriptWorm = "ScriptWorm";
        public const string FamilyFolderProgram = "FolderProgram";
        public const string FamilyAutorun = "Autorun";

        // Points each fact adds; a shortcut or program scores their sum (capped at 100 by the score card).
        public const int HiddenSameNameFolderPoints = 30;
        public const int UnknownSameNameFolderPoints = 20;
        public const int VisibleSameNameFolderPoints = 5;
        public const int SystemFolderPoints = 5;
        public const int BlankFolderPoints = 30;
        public const int VolumeLabelNamePoints = 10;
        public const int InterpreterTargetPoints = 25;
        public const int ProgramOnDriveTargetPoints = 20;
        public const int StartsFromDrivePoints = 20;
        public const int ClimbingPathPoints = 5;
        public const int EncodedScriptPoints = 10;
        public const int CoverFolderPoints = 10;
        public const int PayloadPresentPoints = 10;
        public const int PayloadHiddenPoints = 10;
        public const int ExecutablePayloadPoints = 5;
        public const int DisguisedExecutablePoints = 15;
        public const int FolderIconPoints = 10;
        public const int MinimisedPoints = 5;
        public const int AutorunInfNearbyPoints = 10;
        public const int OverlongFieldPoints = 5;
        public const int HiddenFolderProgramPoints = 30;
        public const int UnknownFolderProgramPoints = 15;
        public const int VisibleFolderProgramPoints = 5;
        public const int TwinProgramPoints = 30;
        public const int HiddenProgramPoints = 5;
        public const int AutorunCommandPoints = 10;
        public const int HiddenAutorunPayloadPoints = 30;
        public const int SystemAutorunPayloadPoints = 5;
        public const int HiddenAutorunInfPoints = 10;

        /// <summary>Hidden system folders Windows itself keeps on removable drives: never the folder of a trap.</summary>
        public static readonly IReadOnlyList<string> NormalHiddenFolders = new[]
        {
            "System Volume Information", "$RECYCLE.BIN", "RECYCLER", "RECYCLED", "$Recycle.Bin", "FOUND.000", ".Trashes", ".Spotlight-V100", ".fseventsd",
        };

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
            return ProgramCatalogue.IsInterpreter(stem);
        }

        public static bool IsProgramName(string name) => ProgramCatalogue.HasExecutableExtension(name);

        /// <summary>Reads what the arguments of an interpreter shortcut start and open. Quotes only group; commands are
        /// split at <c>&amp;</c>, <c>&amp;&amp;</c>, <c>|</c>, <c>||</c>. <c>start X</c> and <c>explorer X</c> open X (the rest of that
        /// command, spaces included, as Explorer takes it); a script host's first operand is the file it runs, whatever its
        /// extension; other drive-relative programs and scripts are started.</summary>
        public static LauncherArguments AnalyzeArguments(string? arguments)
        {
            var result = new LauncherArguments();
            if (string.IsNullOrWhiteSpace(arguments))
            {
                return result;
            }

            var programs = new List<string>();
            var lettered = new List<string>();
            var folders = new List<string>();
            int order = 0, firstProgram = -1, firstFolder = -1;

            void Program(string reference)
            {
                if (IsDriveRelative(reference))
                {
                    programs.Add(reference);
                }
                else if (IsOtherDriveLetter(reference))
                {
                    lettered.Add(reference);
                }
                else
                {
                    return;
                }

                firstProgram = firstProgram < 0 ? order : firstProgram;
            }

            string unquoted = arguments!.Replace("\"", string.Empty);
            foreach (var command in unquoted.Split(new[] { '&', '|' }, StringSplitOptions.RemoveEmptyEntries))
            {
                var tokens = command.Split(new[] { ' ', '\t' }, StringSplitOptions.RemoveEmptyEntries).ToList();
                int first = SkipSwitches(tokens, 0); // cmd's /c /k /q ...
                if (first >= tokens.Count)
                {
                    continue;
                }

                bool isStart = string.Equals(tokens[first], "start", StringComparison.OrdinalIgnoreCase);
                if (isStart)
                {
                    result.UsesStart = true;
                    first = SkipSwitches(tokens, first + 1); // start's /b /min ...
                    if (first >= tokens.Count)
                    {
                        continue;
                    }
                }

                string verb = tokens[first];
                string? verbName = FileNameOf(verb);
                string verbStem = verbName is null ? string.Empty : StripExtension(verbName);
                if (verbStem.Equals("explorer", StringComparison.OrdinalIgnoreCase) || (isStart && !IsProgramName(ProgramPart(verb)) && !IsScriptHost(verbStem)))
                {
                    // explorer X, or start X of something that is not a program: X is opened, spaces and all.
                    int operand = verbStem.Equals("explorer", StringComparison.OrdinalIgnoreCase) ? first + 1 : first;
                    while (operand < tokens.Count && (tokens[operand].StartsWith("/", StringComparison.Ordinal) || tokens[operand].EndsWith(",", StringComparison.Ordinal)))
                    {
                        operand++;
                    }

                    if (operand < tokens.Count)
                    {
                        string target = string.Join(" ", tokens.Skip(operand)).Trim();
                        if (IsDriveRelative(target) || IsOtherDriveLetter(target))
                        {
                            folders.Add(target);
                            firstFolder = firstFolder < 0 ? order : firstFolder;
                        }
                    }
                }
                else if (IsScriptHost(verbStem))
                {
                    result.ScriptHost ??= verbStem.ToLowerInvariant();
                    int operand = first + 1;
                    while (operand < tokens.Count && tokens[operand].StartsWith("/", StringComparison.Ordinal))
                    {
                        if (tokens[operand].TrimStart('/').StartsWith("e:", StringComparison.OrdinalIgnoreCase))
                        {
                            result.EncodedScriptEngine = tokens[operand].TrimStart('/').Substring(2);
                        }

                        operand++;
                    }

                    if (operand < tokens.Count)
                    {
                        string file = tokens[operand];
                        int comma = file.IndexOf(',');
                        if (comma > 0)
                        {
                            result.DllEntryPoint ??= file.Substring(comma + 1).Trim();
                            file = file.Substring(0, comma);
                        }
                        else if (operand + 1 < tokens.Count && tokens[operand + 1].StartsWith(",", StringComparison.Ordinal))
                        {
                            result.DllEntryPoint ??= tokens[operand + 1].TrimStart(',').Trim();
                        }

                        Program(file);
                    }
                }
                else if (isStart)
                {
                    string head = ProgramPart(verb);
                    if (!IsInterpreter(head))
                    {
                        Program(head);
                    }
                }
                else
                {
                    foreach (var token in tokens.Skip(first))
                    {
                        string program = ProgramPart(token);
                        if (IsProgramName(program) && !IsInterpreter(program))
                        {
                            Program(program);
                        }
                    }
                }

                order++;
            }

            result.DriveRelativePrograms = programs.Distinct(StringComparer.OrdinalIgnoreCase).ToArray();
            result.DriveLetterPrograms = lettered.Distinct(StringComparer.OrdinalIgnoreCase).ToArray();
            result.OpenedFolders = folders.Distinct(StringComparer.OrdinalIgnoreCase).ToArray();
            result.ProgramBeforeFolder = firstProgram >= 0 && firstFolder >= 0 && firstProgram < firstFolder;
            return result;
        }

        /// <summary>What a shortcut starts: its arguments as a command line of its target. A script host or rundll32 as the
        /// target takes its arguments directly, so they are read as if the host were named first.</summary>
        public static LauncherArguments AnalyzeLink(ShellLink link)
        {
            string? name = FileNameOf(link.TargetPath ?? link.EnvironmentTarget);
            string stem = name is null ? string.Empty : StripExtension(name);
            return IsScriptHost(stem) ? AnalyzeArguments(stem + ".exe " + link.Arguments) : AnalyzeArguments(link.Arguments);
        }

        public static bool IsScriptHost(string stem) => ProgramCatalogue.IsScriptHost(stem);

        private static int SkipSwitches(List<string> tokens, int i)
        {
            while (i < tokens.Count && tokens[i].StartsWith("/", StringComparison.Ordinal))
            {
                i++;
            }

            return i;
        }

        /// <summary>A name that looks blank in Explorer: only spaces, no-break spaces (U+00A0 …), zero-width and other
        /// invisible characters. Gamarue/Andromeda moves a stick's content into a hidden folder named so.</summary>
        public static bool IsBlankLookingName(string name)
        {
            if (name.Length == 0)
            {
                return false;
            }

            foreach (char c in name)
            {
                bool invisible = char.IsWhiteSpace(c) || c == '\u00A0' || (c >= '\u2000' && c <= '\u200F') || (c >= '\u2028' && c <= '\u202F')
                    || c == '\u205F' || c == '\u2060' || c == '\u3000' || c == '\uFEFF' || c == '\u180E' || c == '\u115F' || c == '\u1160'
                    || c == '\u3164' || c == '\uFFA0' || c == '\u2800' || System.Globalization.CharUnicodeInfo.GetUnicodeCategory(c) == System.Globalization.UnicodeCategory.Format;
                if (!invisible)
                {
                    return false;
                }
            }

            return true;
        }

        /// <summary>The characters of a name as U+XXXX, for a reason that has to show a name that looks blank.</summary>
        public static string CodePoints(string name) =>
            string.Join(" ", name.Select(c => "U+" + ((int)c).ToString("X4", System.Globalization.CultureInfo.InvariantCulture)));

        /// <summary>A shortcut that runs an interpreter on a program from the drive it sits on: the core of the trap.
        /// True for the incident's shortcuts and for LnkParse3's <c>sample13</c>.</summary>
        public static bool IsLauncher(ShellLink link) =>
            IsInterpreter(link.TargetPath ?? link.EnvironmentTarget) && AnalyzeLink(link).StartsSomething;

        /// <summary>Whether a shortcut deserves a closer look (facts about its folder and payload) at all.</summary>
        public static bool IsCandidate(ShellLink link, bool sameNameFolderExists) =>
            IsLauncher(link) || TargetIsProgramOnDrive(link) || (sameNameFolderExists && IsInterpreter(link.TargetPath ?? link.EnvironmentTarget));

        /// <summary>Relative drive path as written in arguments (<c>%cd%\a\b.exe</c>) → components (<c>a</c>, <c>b.exe</c>).</summary>
        public static string[] RelativeComponents(string reference)
        {
            string r = Unquote(reference);
            if (r.StartsWith("%cd%", StringComparison.OrdinalIgnoreCase))
            {
                r = r.Substring(4);
            }
            else if (r.Length >= 2 && r[1] == ':' && char.IsLetter(r[0]))
            {
                r = r.Substring(2); // E:\x.exe: from the drive root, whatever letter the drive has now
            }

            return r.Split(new[] { '\\', '/' }, StringSplitOptions.RemoveEmptyEntries).Where(c => c != ".").ToArray();
        }

        /// <summary>Judges a candidate. Returns null for shortcuts that are not traps.</summary>
        public static UsbLnkTrap? Judge(UsbShortcutFacts facts)
        {
            var link = facts.Link;
            string? target = link.TargetPath ?? link.EnvironmentTarget;
            bool interpreter = IsInterpreter(target);
            var args = AnalyzeLink(link);
            // A program named by a drive letter is the drive's only when it was found there.
            bool startsFromDrive = args.DriveRelativePrograms.Count > 0 || (args.DriveLetterPrograms.Count > 0 && facts.Payload is { Exists: true });
            bool launcher = interpreter && startsFromDrive;
            var folder = facts.SameNameFolder is { Exists: true } f && !IsNormalHiddenFolder(System.IO.Path.GetFileName(f.Path)) ? f : null;
            var blank = facts.BlankFolder is { Exists: true, IsHidden: true } b ? b : null;
            bool targetOnDrive = TargetIsProgramOnDrive(link) && (link.DriveType == 2 || facts.Payload is { Exists: true });

            if (!launcher && !(folder is not null && (interpreter || targetOnDrive)) && !(targetOnDrive && facts.Payload is { Exists: true, IsHidden: true }))
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
                    card.Add($"shortcut '{shortcutName}' is named after the hidden folder '{folderName}' next to it", HiddenSameNameFolderPoints);
                }
                else if (folder.IsHidden is null)
                {
                    card.Add($"shortcut '{shortcutName}' is named after the folder '{folderName}' next to it; the folder's hidden state is unknown ({folder.Mechanism ?? "no attributes"}: this file system stores no Hidden attribute)", UnknownSameNameFolderPoints);
                }
                else
                {
                    card.Add($"shortcut '{shortcutName}' is named after the visible folder '{folderName}' next to it", VisibleSameNameFolderPoints);
                }

                card.AddIf(folder.IsSystem == true, $"folder '{folderName}' is also marked System", SystemFolderPoints);
            }

            if (blank is not null && (launcher || targetOnDrive))
            {
                string name = System.IO.Path.GetFileName(blank.Path);
                card.Add($"the drive's content was moved into a hidden folder whose name looks blank ({CodePoints(name)})", BlankFolderPoints);
                card.AddIf(facts.VolumeLabel is not null && string.Equals(shortcutName, facts.VolumeLabel + ".lnk", StringComparison.OrdinalIgnoreCase),
                    $"shortcut is named after the volume label '{facts.VolumeLabel}', so it looks like the whole drive", VolumeLabelNamePoints);
            }

            if (interpreter)
            {
                card.Add($"target is a command interpreter or script host ({FileNameOf(target)})", InterpreterTargetPoints);
            }
            else if (targetOnDrive)
            {
                card.Add($"target is a program on the drive itself ({target})", ProgramOnDriveTargetPoints);
            }

            if (startsFromDrive)
            {
                var started = args.DriveRelativePrograms.Concat(args.DriveLetterPrograms).ToList();
                string how = args.ScriptHost switch
                {
                    "rundll32" => $" as a DLL through rundll32{(args.DllEntryPoint is null ? string.Empty : $" (entry point {args.DllEntryPoint})")}",
                    "regsvr32" => " as a DLL through regsvr32",
                    string host => $" as a script through {host}",
                    null => args.UsesStart ? " with 'start'" : string.Empty,
                };
                card.Add($"arguments start a program from the drive ({string.Join(", ", started)}){how}", StartsFromDrivePoints);
                if (args.DriveRelativePrograms.Count == 0 && args.DriveLetterPrograms.Count > 0)
                {
                    card.Add($"the program is named by the drive letter the stick had ({args.DriveLetterPrograms[0].Substring(0, 2)}) and is on this drive", 0);
                }
                if (args.DriveRelativePrograms.Any(p => RelativeComponents(p).Contains("..")))
                {
                    card.Add("the program is named by a path that climbs out of the shortcut's folder (..)", ClimbingPathPoints);
                }
            }

            if (args.EncodedScriptEngine is not null)
            {
                card.Add($"the script is encoded (/e:{args.EncodedScriptEngine}), so its text cannot be read as it is", EncodedScriptPoints);
            }

            if (args.OpenedFolders.Count > 0)
            {
                card.Add(args.ProgramBeforeFolder
                    ? $"arguments then open the folder ({string.Join(", ", args.OpenedFolders)}) so that nothing seems amiss"
                    : $"arguments open the folder ({string.Join(", ", args.OpenedFolders)}) as cover", CoverFolderPoints);
            }

            var payload = facts.Payload;
            if (payload is { Exists: true })
            {
                card.Add($"payload '{System.IO.Path.GetFileName(payload.Path)}' is present on the drive{(payload.Sha256 is null ? string.Empty : $" (SHA-256 {payload.Sha256})")}", PayloadPresentPoints);
                if (payload.IsHidden == true)
                {
                    card.Add("payload is hidden", PayloadHiddenPoints);
                }
                else if (payload.IsHidden is null)
                {
                    card.Add($"payload's hidden state is unknown ({payload.Mechanism ?? "no attributes"})", 0);
                }

                card.AddIf(payload.LooksLikeExecutable, "payload is a Windows executable (MZ header)", ExecutablePayloadPoints);
                string payloadName = System.IO.Path.GetFileName(payload.Path);
                card.AddIf(payload.LooksLikeExecutable && !IsProgramName(payloadName),
                    $"payload '{payloadName}' is an executable behind a harmless-looking extension", DisguisedExecutablePoints);
                card.AddIf(payload.Error is not null, $"payload could not be read completely: {payload.Error}", 0);
            }
            else if (facts.PayloadReference is not null)
            {
                card.Add($"payload '{facts.PayloadReference}' named by the arguments is not on the drive", 0);
            }

            if (HasFolderIcon(link) && (interpreter || TargetIsProgramOnDrive(link)))
            {
                card.Add($"folder icon ({link.IconLocation},{link.IconIndex}) on a shortcut to an executable", FolderIconPoints);
            }

            card.AddIf(link.ShowCommand == 7 || link.ShowCommand == 2, "runs minimised, so no window shows", MinimisedPoints);
            card.AddIf(facts.AutorunInfPath is not null, $"autorun.inf next to it ({facts.AutorunInfPath})", AutorunInfNearbyPoints);
            foreach (var field in link.OverlongFields)
            {
                card.Add($"shortcut field {field} is longer than Windows allows (not trusted)", OverlongFieldPoints);
            }

            if (link.Issues.Count > 0)
            {
                card.Add($"shortcut is damaged: {link.Issues[0].Message}{(link.Issues.Count > 1 ? $" (+{link.Issues.Count - 1} more)" : string.Empty)}", 0);
            }

            var shown = folder ?? facts.OpenedFolder ?? (launcher || targetOnDrive ? blank : null);
            var trap = new UsbLnkTrap
            {
                Source = facts.DriveRoot,
                DriveRoot = facts.DriveRoot,
                ShortcutPath = facts.ShortcutPath,
                VolumeLabel = facts.VolumeLabel,
                Family = args.ScriptHost switch
                {
                    "rundll32" or "regsvr32" => FamilyGamarue,
                    "wscript" or "cscript" or "mshta" => FamilyScriptWorm,
                    _ => blank is not null && shown == blank ? FamilyGamarue : FamilyShortcutLauncher,
                },
                HiddenFolderPath = shown?.Path,
                HiddenFolderIsHidden = shown?.IsHidden,
                HiddenFolderIsSystem = shown?.IsSystem,
                HiddenFolderAttributes = shown?.RawAttributes,
                AttributeMechanism = (shown ?? payload)?.Mechanism,
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

        /// <summary>Judges a program named after a folder next to it. Null unless the folder is hidden or the same bytes sit
        /// beside other folders too: a user's <c>Tools.exe</c> next to a visible <c>Tools</c> folder is not a worm.</summary>
        public static UsbLnkTrap? JudgeFolderProgram(UsbFolderProgramFacts facts)
        {
            var program = facts.Program;
            var folder = facts.Folder;
            string folderName = System.IO.Path.GetFileName(folder.Path);
            string programName = System.IO.Path.GetFileName(program.Path);
            if (!program.Exists || !folder.Exists || IsNormalHiddenFolder(folderName) || !(folder.IsHidden == true || facts.Twins.Count > 0))
            {
                return null;
            }

            var card = new ScoreCard();
            if (folder.IsHidden == true)
            {
                card.Add($"program '{programName}' is named after the hidden folder '{folderName}' next to it, in its place", HiddenFolderProgramPoints);
            }
            else if (folder.IsHidden is null)
            {
                card.Add($"program '{programName}' is named after the folder '{folderName}' next to it; the folder's hidden state is unknown ({folder.Mechanism ?? "no attributes"})", UnknownFolderProgramPoints);
            }
            else
            {
                card.Add($"program '{programName}' is named after the visible folder '{folderName}' next to it", VisibleFolderProgramPoints);
            }

            card.AddIf(folder.IsSystem == true, $"folder '{folderName}' is also marked System", SystemFolderPoints);
            if (facts.Twins.Count > 0)
            {
                card.Add($"the same bytes are the program of {facts.Twins.Count} other folder{(facts.Twins.Count == 1 ? string.Empty : "s")} ({string.Join(", ", facts.Twins.Select(System.IO.Path.GetFileName).Take(5))}): one worm copied once per folder", TwinProgramPoints);
            }

            card.AddIf(program.LooksLikeExecutable, "program is a Windows executable (MZ header)", ExecutablePayloadPoints);
            card.AddIf(program.IsHidden == true, "program is hidden", HiddenProgramPoints);
            card.AddIf(program.Error is not null, $"program could not be read completely: {program.Error}", 0);

            var trap = new UsbLnkTrap
            {
                Source = facts.DriveRoot,
                DriveRoot = facts.DriveRoot,
                ShortcutPath = program.Path,
                Family = FamilyFolderProgram,
                HiddenFolderPath = folder.Path,
                HiddenFolderIsHidden = folder.IsHidden,
                HiddenFolderIsSystem = folder.IsSystem,
                HiddenFolderAttributes = folder.RawAttributes,
                AttributeMechanism = folder.Mechanism ?? program.Mechanism,
                TargetPath = program.Path,
                PayloadReference = programName,
                PayloadPath = program.Path,
                PayloadSha256 = program.Sha256,
                PayloadSize = program.Size,
                PayloadAttributes = program.RawAttributes,
                PayloadLastWriteTime = program.LastWriteTime,
                ShortcutLastWriteTime = program.LastWriteTime,
                SameBytesAs = facts.Twins.ToArray(),
            };
            trap.Path = trap.PayloadPath;
            trap.Sha256 = trap.PayloadSha256;
            trap.IsHidden = program.IsHidden == true;
            trap.SignatureStatus = program.SignatureStatus;
            trap.Signer = program.Signer;
            trap.SetScore(card);
            return trap;
        }

        /// <summary>Judges one command of an autorun.inf. Null when it names nothing on the drive.</summary>
        public static UsbLnkTrap? JudgeAutorun(UsbAutorunFacts facts)
        {
            var payload = facts.Payload;
            if (facts.Commands.Count == 0 || (payload is not { Exists: true } && facts.PayloadReference is null))
            {
                return null;
            }

            var command = facts.Commands[0];
            string keys = string.Join(", ", facts.Commands.Select(c => c.Key + "="));
            var card = new ScoreCard();
            string reference = facts.PayloadReference ?? command.Value;
            card.Add($"autorun.inf {keys} start{(facts.Commands.Count == 1 ? "s" : string.Empty)} '{reference}' when the drive is opened (where AutoRun is still honoured)", AutorunCommandPoints);
            if (payload is { Exists: true })
            {
                if (payload.IsHidden == true)
                {
                    card.Add($"the file it starts, '{System.IO.Path.GetFileName(payload.Path)}', is hidden", HiddenAutorunPayloadPoints);
                }
                else if (payload.IsHidden is null)
                {
                    card.Add($"the hidden state of the file it starts is unknown ({payload.Mechanism ?? "no attributes"})", 0);
                }

                card.AddIf(payload.IsSystem == true, "the file it starts is also marked System", SystemAutorunPayloadPoints);
                card.AddIf(payload.LooksLikeExecutable, "the file it starts is a Windows executable (MZ header)", ExecutablePayloadPoints);
                string name = System.IO.Path.GetFileName(payload.Path);
                card.AddIf(payload.LooksLikeExecutable && !IsProgramName(name), $"'{name}' is an executable behind a harmless-looking extension", DisguisedExecutablePoints);
                card.AddIf(payload.Error is not null, $"the file it starts could not be read completely: {payload.Error}", 0);
            }
            else
            {
                card.Add($"'{reference}' is not on the drive", 0);
            }

            card.AddIf(facts.AutorunFile?.IsHidden == true, "autorun.inf itself is hidden", HiddenAutorunInfPoints);
            var trap = new UsbLnkTrap
            {
                Source = facts.DriveRoot,
                DriveRoot = facts.DriveRoot,
                ShortcutPath = facts.AutorunPath,
                Family = FamilyAutorun,
                TargetPath = command.Program,
                Arguments = command.Value,
                AutorunInfPath = facts.AutorunPath,
                AutorunKey = string.Join(", ", facts.Commands.Select(c => c.Key)),
                PayloadReference = facts.PayloadReference,
                PayloadPath = payload is { Exists: true } ? payload.Path : null,
                PayloadSha256 = payload is { Exists: true } ? payload.Sha256 : null,
                PayloadSize = payload is { Exists: true } ? payload.Size : null,
                PayloadAttributes = payload is { Exists: true } ? payload.RawAttributes : null,
                PayloadLastWriteTime = payload is { Exists: true } ? payload.LastWriteTime : null,
                ShortcutLastWriteTime = facts.AutorunFile?.LastWriteTime,
                AttributeMechanism = payload?.Mechanism ?? facts.AutorunFile?.Mechanism,
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

        internal static bool TargetIsProgramOnDrive(ShellLink link)
        {
            string? target = link.TargetPath;
            if (target is null || !IsProgramName(target))
            {
                return false;
            }

            // A removable drive target: the volume the link was made on was removable (DRIVE_REMOVABLE), the path is
            // relative, or it names a drive other than C (on the drive only if the scanner finds it there).
            return link.DriveType == 2 || IsDriveRelative(target) || IsOtherDriveLetter(target);
        }

        /// <summary><c>E:\x.exe</c>: an absolute path on a drive other than C, the system drive a stick never is.</summary>
        public static bool IsOtherDriveLetter(string token)
        {
            string t = Unquote(token);
            return t.Length >= 3 && t[1] == ':' && (t[2] == '\\' || t[2] == '/') && char.IsLetter(t[0]) && char.ToUpperInvariant(t[0]) != 'C';
        }

        /// <summary>A reference resolved from the drive root rather than the shortcut's folder (<c>E:\x.exe</c>, <c>\x.exe</c>).</summary>
        public static bool IsFromRoot(string reference)
        {
            string t = Unquote(reference);
            return (t.Length >= 2 && t[1] == ':' && char.IsLetter(t[0])) || (t.StartsWith("\\", StringComparison.Ordinal) && !t.StartsWith("\\\\", StringComparison.Ordinal));
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

            return PathText.Leaf(p);
        }

        private static string StripExtension(string name)
        {
            int dot = name.LastIndexOf('.');
            return dot > 0 ? name.Substring(0, dot) : name;
        }
    }
}
