using System;
using System.Collections.Generic;
using System.Collections.ObjectModel;
using System.IO;
using System.Linq;
using System.Management.Automation;
using System.Management.Automation.Runspaces;

namespace FluxForensics.WindowsTests.Support
{
    /// <summary>PowerShell 7 hosted in the test program (the SDK engine), with the built module imported: the cmdlets run
    /// their Windows paths in this process, under Wine on the build machine.</summary>
    internal static class ModuleHost
    {
        private static readonly object Gate = new object();

        /// <summary>The built manifest, <c>&lt;repo&gt;/out/FluxForensics/&lt;version&gt;/FluxForensics.psd1</c> (FLUX_MODULE_MANIFEST overrides).</summary>
        public static string RequireBuiltModule()
        {
            TestHost.RequireWindows();
            string? manifest = Environment.GetEnvironmentVariable("FLUX_MODULE_MANIFEST");
            if (string.IsNullOrEmpty(manifest))
            {
                string? repo = TestHost.RepositoryRoot;
                string moduleRoot = repo is null ? string.Empty : Path.Combine(repo, "out", "FluxForensics");
                manifest = Directory.Exists(moduleRoot)
                    ? Directory.GetDirectories(moduleRoot).OrderByDescending(d => d, StringComparer.Ordinal)
                        .Select(d => Path.Combine(d, "FluxForensics.psd1")).FirstOrDefault(File.Exists)
                    : null;
            }

            Assert.SkipWhen(string.IsNullOrEmpty(manifest) || !File.Exists(manifest),
                "the built module (out/FluxForensics/<version>/FluxForensics.psd1) is not there; build.ps1 Build makes it");
            return manifest!;
        }

        /// <summary>Runs <paramref name="script"/> in a fresh runspace that imported the module; returns output and errors.</summary>
        public static (Collection<PSObject> Output, IReadOnlyList<ErrorRecord> Errors) Run(string manifest, string script)
        {
            lock (Gate)
            {
                // The SDK ships the built-in modules (Utility, Management …) under runtimes\win\lib\<tfm>\Modules, not
                // beside the engine where $PSHOME\Modules would find them.
                string builtIn = Directory.GetDirectories(Path.Combine(AppContext.BaseDirectory, "runtimes", "win", "lib"))
                    .Select(d => Path.Combine(d, "Modules")).First(Directory.Exists);
                string? modulePath = Environment.GetEnvironmentVariable("PSModulePath");
                if (modulePath is null || !modulePath.Contains(builtIn, StringComparison.OrdinalIgnoreCase))
                {
                    Environment.SetEnvironmentVariable("PSModulePath", builtIn + (string.IsNullOrEmpty(modulePath) ? string.Empty : ";" + modulePath));
                }
            }

            var state = InitialSessionState.CreateDefault2();
            state.ExecutionPolicy = Microsoft.PowerShell.ExecutionPolicy.Bypass;
            using var runspace = RunspaceFactory.CreateRunspace(state);
            runspace.Open();
            using var shell = PowerShell.Create(runspace);
            shell.AddCommand("Import-Module").AddParameter("Name", manifest).AddParameter("ErrorAction", "Stop").AddStatement();
            shell.AddScript(script);
            Collection<PSObject> output = shell.Invoke();
            return (output, shell.Streams.Error.ToList());
        }
    }
}
