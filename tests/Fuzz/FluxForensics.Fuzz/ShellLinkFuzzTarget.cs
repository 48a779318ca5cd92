using System.Linq;
using System.Collections.Generic;
using FluxForensics.Detection;
using FluxForensics.Formats;

namespace FluxForensics.Fuzz
{
    /// <summary>The MS-SHLLINK reader, and the trap rules' reading of whatever arguments it returns.</summary>
    public sealed class ShellLinkFuzzTarget : IFuzzTarget
    {
        public string Name => "shelllink";

        public IEnumerable<string> SeedFiles(FuzzPaths paths) => paths.CorpusFiles("*.lnk");

        public void Run(byte[] input)
        {
            var link = ShellLinkFile.Parse(input, "fuzz.lnk", 1252);
            UsbTrapRules.IsLauncher(link);
            UsbTrapRules.HasFolderIcon(link);
        }
    }
}

namespace FluxForensics.Fuzz
{
    /// <summary>autorun.inf on a stick: the INI reader in every encoding, then the reading of each command line.</summary>
    public sealed class AutorunInfFuzzTarget : IFuzzTarget, IGeneratedSeeds
    {
        public string Name => "autorun-inf";

        public IEnumerable<string> SeedFiles(FuzzPaths paths) => paths.CorpusFiles("autorun.inf", "*.inf");

        public IEnumerable<byte[]> GeneratedSeeds(FuzzPaths paths)
        {
            const string conficker = "[AutoRun]\r\nopen=RECYCLER\\S-1-5-21-1482476501\\jwgkvsq.vmx\r\nicon=%SystemRoot%\\system32\\SHELL32.dll,4\r\n" +
                "shell\\open\\command=rundll32.exe RECYCLER\\S-1-5-21-1482476501\\jwgkvsq.vmx,ahaezedrn\r\nshellexecute=\"x y.exe\" /a\r\n";
            yield return System.Text.Encoding.ASCII.GetBytes(conficker);
            yield return new byte[] { 0xFF, 0xFE }.Concat(System.Text.Encoding.Unicode.GetBytes(conficker)).ToArray();
            yield return new byte[] { 0xEF, 0xBB, 0xBF }.Concat(System.Text.Encoding.UTF8.GetBytes("; c\n[autorun.amd64]\nopen=cmd /c start wscript.exe /e:VBScript.Encode a.txt & start explorer \u00A0\n")).ToArray();
        }

        public void Run(byte[] input)
        {
            var inf = AutorunInfParser.Parse(input, "fuzz.inf");
            foreach (var command in inf.Commands)
            {
                var arguments = UsbTrapRules.AnalyzeArguments(command.Value);
                foreach (var reference in arguments.DriveRelativePrograms.Concat(arguments.DriveLetterPrograms))
                {
                    UsbTrapRules.RelativeComponents(reference);
                    UsbTrapRules.IsFromRoot(reference);
                }
            }
        }
    }
}
