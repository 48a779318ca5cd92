using System.Management.Automation;
using FluxForensics.Model;

namespace FluxForensics.Commands
{
    /// <summary>Shortcut-virus traps on removable drives (issue 7).</summary>
    [Cmdlet(VerbsCommon.Find, "UsbLnkTrap", DefaultParameterSetName = RemovableSet)]
    [OutputType(typeof(UsbLnkTrap))]
    public sealed class FindUsbLnkTrapCommand : FluxCmdlet
    {
        private const string RemovableSet = "Removable";
        private const string PathSet = "Path";
        private const string LiteralPathSet = "LiteralPath";

        [Parameter(ParameterSetName = PathSet, Position = 0, Mandatory = true, ValueFromPipeline = true)]
        [SupportsWildcards]
        public string[]? Path { get; set; }

        [Parameter(ParameterSetName = LiteralPathSet, Mandatory = true, ValueFromPipelineByPropertyName = true)]
        [Alias("PSPath")]
        public string[]? LiteralPath { get; set; }

        /// <summary>Look below the root too (the trap itself lives in the root).</summary>
        [Parameter]
        public SwitchParameter Recurse { get; set; }

        /// <summary>Code page for ANSI strings in shortcuts (default: the shortcut's system default, 1252).</summary>
        [Parameter]
        public int AnsiCodePage { get; set; } = 1252;

        protected override void EndProcessing()
        {
            ThrowNotImplemented("issue 7");
        }
    }
}
