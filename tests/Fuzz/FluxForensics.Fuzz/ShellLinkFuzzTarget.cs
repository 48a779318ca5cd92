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
