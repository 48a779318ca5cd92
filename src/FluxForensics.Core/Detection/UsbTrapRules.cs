using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using FluxForensics.Formats;
using FluxForensics.Model;

namespace FluxForensics.Detection
{
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

        // What a command names is read from its text by DriveCommandText (the source needs it too, to know what to read);
        // these keep the rules' vocabulary in one place for their callers.
        public static IReadOnlyList<string> NormalHiddenFolders => DriveCommandText.NormalHiddenFolders;

        public static bool IsNormalHiddenFolder(string name) => DriveCommandText.IsNormalHiddenFolder(name);

        /// <summary>True when the path's file name is a command interpreter or script host.</summary>
        public static bool IsInterpreter(string? target) => DriveCommandText.IsInterpreter(target);

        public static bool IsProgramName(string name) => DriveCommandText.IsProgramName(name);

        public static bool IsScriptHost(string stem) => DriveCommandText.IsScriptHost(stem);

        /// <summary>See <see cref="DriveCommandText.AnalyzeArguments"/>.</summary>
        public static LauncherArguments AnalyzeArguments(string? arguments) => DriveCommandText.AnalyzeArguments(arguments);

        /// <summary>See <see cref="DriveCommandText.AnalyzeLink"/>.</summary>
        public static LauncherArguments AnalyzeLink(ShellLink link) => DriveCommandText.AnalyzeLink(link);

        public static bool IsBlankLookingName(string name) => DriveCommandText.IsBlankLookingName(name);

        public static string[] RelativeComponents(string reference) => DriveCommandText.RelativeComponents(reference);

        public static bool IsFromRoot(string reference) => DriveCommandText.IsFromRoot(reference);

        public static bool IsOtherDriveLetter(string token) => DriveCommandText.IsOtherDriveLetter(token);

        internal static bool TargetIsProgramOnDrive(ShellLink link) => DriveCommandText.TargetIsProgramOnDrive(link);

        /// <summary>A shortcut that runs an interpreter on a program from the drive it sits on: the core of the trap.
        /// True for the incident's shortcuts and for LnkParse3's <c>sample13</c>.</summary>
        public static bool IsLauncher(ShellLink link) =>
            IsInterpreter(link.TargetPath ?? link.EnvironmentTarget) && AnalyzeLink(link).StartsSomething;

        /// <summary>Whether a shortcut deserves a closer look (facts about its folder and payload) at all.</summary>
        public static bool IsCandidate(ShellLink link, bool sameNameFolderExists) =>
            IsLauncher(link) || TargetIsProgramOnDrive(link) || (sameNameFolderExists && IsInterpreter(link.TargetPath ?? link.EnvironmentTarget));

        /// <summary>Judges whatever the drive reader found: a shortcut, a program named after a folder, an autorun.inf command.
        /// Null when it is not a trap.</summary>
        public static UsbLnkTrap? Judge(UsbDriveFacts facts) => facts switch
        {
            UsbShortcutFacts shortcut => Judge(shortcut),
            UsbFolderProgramFacts program => JudgeFolderProgram(program),
            UsbAutorunFacts autorun => JudgeAutorun(autorun),
            _ => null,
        };

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
                card.Add($"the drive's content was moved into a hidden folder whose name looks blank ({DriveCommandText.CodePoints(name)})", BlankFolderPoints);
                card.AddIf(facts.VolumeLabel is not null && string.Equals(shortcutName, facts.VolumeLabel + ".lnk", StringComparison.OrdinalIgnoreCase),
                    $"shortcut is named after the volume label '{facts.VolumeLabel}', so it looks like the whole drive", VolumeLabelNamePoints);
            }

            if (interpreter)
            {
                card.Add($"target is a command interpreter or script host ({DriveCommandText.FileNameOf(target)})", InterpreterTargetPoints);
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
                ShortcutLastWriteTime = facts.ShortcutLastWriteTime,
                AutorunInfPath = facts.AutorunInfPath,
                ShortcutIssues = link.Issues.Select(i => i.ToString()).ToArray(),
            };
            return Finish(trap, payload, card);
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
                ShortcutLastWriteTime = program.LastWriteTime,
                SameBytesAs = facts.Twins.ToArray(),
            };
            return Finish(trap, program, card);
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
                ShortcutLastWriteTime = facts.AutorunFile?.LastWriteTime,
                AttributeMechanism = payload?.Mechanism ?? facts.AutorunFile?.Mechanism,
            };
            return Finish(trap, payload, card);
        }

        /// <summary>Puts the payload's facts on the trap, as its own and as the finding's file, then the score. A payload
        /// that is not on the drive leaves them empty.</summary>
        private static UsbLnkTrap Finish(UsbLnkTrap trap, UsbEntryFacts? payload, ScoreCard card)
        {
            var present = payload is { Exists: true } ? payload : null;
            trap.PayloadPath = present?.Path;
            trap.PayloadSha256 = present?.Sha256;
            trap.PayloadSize = present?.Size;
            trap.PayloadAttributes = present?.RawAttributes;
            trap.PayloadLastWriteTime = present?.LastWriteTime;
            trap.Path = trap.PayloadPath;
            trap.Sha256 = trap.PayloadSha256;
            trap.IsHidden = payload?.IsHidden == true;
            trap.SignatureStatus = present?.SignatureStatus;
            trap.Signer = present?.Signer;
            trap.SetScore(card);
            return trap;
        }

        /// <summary>Folder icons of shell32.dll (3 closed, 4 open) and imageres.dll (3, 4), or an icon file named like a folder.</summary>
        public static bool HasFolderIcon(ShellLink link)
        {
            string? icon = DriveCommandText.FileNameOf(link.IconLocation ?? link.IconEnvironmentTarget);
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

    }
}
