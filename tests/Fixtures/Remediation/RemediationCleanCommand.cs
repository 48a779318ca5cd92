using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using FluxForensics.Model;
using FluxForensics.Remediation;

namespace FluxForensics.Fixtures.Remediation
{
    /// <summary>
    /// Runs the same Core cleanup Remove-FluxInfection runs (recover, plan, execute with every action approved) on USB trap
    /// findings given on the command line, in a process that starts in a fraction of a second: the interruption test
    /// kills it (FLUXFORENSICS_REMEDIATION_CRASH_AT=N) at every journal step in turn.
    /// </summary>
    public sealed class RemediationCleanCommand : IFixtureCommand
    {
        public string Name => "remediation-clean";
        public string Usage => "remediation-clean STORE DRIVE|SHORTCUT|FOLDER|PAYLOAD… (cleans USB traps through Core; prints one line per action)";

        public int Run(string[] args)
        {
            if (args.Length < 2)
            {
                Console.Error.WriteLine("usage: " + Usage);
                return 64;
            }

            var findings = new List<RemediationInput>();
            foreach (var spec in args.Skip(1))
            {
                var f = spec.Split('|');
                if (f.Length != 4)
                {
                    throw new ArgumentException($"'{spec}' is not DRIVE|SHORTCUT|FOLDER|PAYLOAD.");
                }

                findings.Add(RemediationInput.From(new UsbLnkTrap { DriveRoot = f[0], ShortcutPath = f[1], HiddenFolderPath = f[2], PayloadPath = f[3] }));
            }

            var reporter = new RecordingReporter();
            using var store = QuarantineStore.Open(args[0], create: true)!;
            var engine = new RemediationEngine(store, RemediationEngine.DefaultProcessControl(), new InMemoryRegistry(), reporter, force: false);
            var results = engine.Recover().Concat(engine.Execute(RemediationPlanner.Plan(findings, isWindows: false), _ => true, CancellationToken.None));
            foreach (var r in results)
            {
                Console.WriteLine($"{r.Action}\t{r.Status}\t{r.Target}\t{r.QuarantineId}\t{r.Detail}");
            }

            foreach (var e in reporter.Errors)
            {
                Console.Error.WriteLine($"{e.ErrorId}: {e.Message}");
            }

            return reporter.Errors.Count == 0 ? 0 : 1;
        }
    }
}
