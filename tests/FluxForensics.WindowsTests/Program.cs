using System;
using System.Threading.Tasks;
using System.Runtime.Versioning;
using FluxForensics.WindowsTests.Support;

// Every test here is about Windows behaviour; the program is only ever published for win-x64.
[assembly: SupportedOSPlatform("windows")]

namespace FluxForensics.WindowsTests
{
    /// <summary>The test program's entry point: runs the xunit in-process runner, or, given a child-mode argument,
    /// becomes one of the small helper processes the tests start (a listener owned by another PID, for instance).</summary>
    public static class Program
    {
        public static async Task<int> Main(string[] args)
        {
            if (args.Length > 0 && args[0] == ChildListener.Verb)
            {
                return ChildListener.Run(args);
            }

            return await Xunit.Runner.InProc.SystemConsole.ConsoleRunner.Run(args).ConfigureAwait(false);
        }
    }
}
