using System;
using System.Collections.Generic;
using System.Linq;

namespace FluxForensics.Formats
{
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
    /// What a command on a removable drive names, read from text alone: the programs and folders a shortcut's or
    /// autorun.inf's arguments start or open, relative to the drive, and what kind of program a name is. The USB source
    /// uses it to know which files to read, the USB rules to say what the command does.
    /// </summary>
    public static class DriveCommandText
    {
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

        public static bool TargetIsProgramOnDrive(ShellLink link)
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

        public static string? FileNameOf(string? path)
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
