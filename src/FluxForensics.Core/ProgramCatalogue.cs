using System;
using System.Collections.Generic;

namespace FluxForensics
{
    /// <summary>
    /// What Windows runs, in one place for the command-line parser (which follows launchers to what finally runs) and the
    /// USB rules (which ask whether a shortcut starts an interpreter, or a payload hides an executable behind another
    /// extension): two lists here once disagreed, so a .jar payload was a program to one and not to the other.
    /// </summary>
    public static class ProgramCatalogue
    {
        /// <summary>Extensions of files Windows runs or loads as code when started or opened.</summary>
        public static readonly IReadOnlyList<string> ExecutableExtensions = new[]
        {
            ".exe", ".com", ".scr", ".pif", ".bat", ".cmd", ".vbs", ".vbe", ".js", ".jse", ".wsf", ".wsh", ".hta", ".cpl", ".dll",
            ".ps1", ".jar", ".msi", ".lnk", ".sys",
        };

        /// <summary>Hosts whose first operand is a file they run whatever its extension: a script, or a DLL for rundll32 and
        /// regsvr32 (file names without extension).</summary>
        public static readonly IReadOnlyList<string> ScriptHosts = new[] { "wscript", "cscript", "mshta", "rundll32", "regsvr32" };

        /// <summary>Command interpreters and script hosts: what a trap shortcut or an autorun runs to start something else.</summary>
        public static readonly IReadOnlyList<string> Interpreters = new[] { "cmd", "powershell", "pwsh", "wscript", "cscript", "mshta", "rundll32", "regsvr32" };

        /// <summary>Programs whose arguments say what really runs: the interpreters, and what only passes a command on.</summary>
        public static readonly IReadOnlyList<string> Launchers = new[]
        {
            "cmd", "powershell", "pwsh", "rundll32", "wscript", "cscript", "mshta", "regsvr32", "conhost", "explorer", "start",
        };

        /// <summary>Whether the file name (or path) ends in one of <see cref="ExecutableExtensions"/>.</summary>
        public static bool HasExecutableExtension(string name)
        {
            foreach (string extension in ExecutableExtensions)
            {
                if (name.EndsWith(extension, StringComparison.OrdinalIgnoreCase))
                {
                    return true;
                }
            }

            return false;
        }

        public static bool IsInterpreter(string stem) => Contains(Interpreters, stem);

        public static bool IsScriptHost(string stem) => Contains(ScriptHosts, stem);

        private static bool Contains(IReadOnlyList<string> names, string stem)
        {
            foreach (string name in names)
            {
                if (string.Equals(name, stem, StringComparison.OrdinalIgnoreCase))
                {
                    return true;
                }
            }

            return false;
        }
    }
}
