using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;
using System.Threading;
using FluxForensics.Model;
using FluxForensics.Remediation;

#pragma warning disable CA1416 // The Unix-mode tests skip off Linux before calling the Unix-only APIs.

namespace FluxForensics.Tests.Remediation
{
    /// <summary>The store, journal, recovery, planner and guards on real files in a temp directory; the registry in memory.</summary>
    public sealed class RemediationTests : IDisposable
    {
        private readonly string _temp = Path.Combine(Path.GetTempPath(), "ff-rem-" + Guid.NewGuid().ToString("N"));

        public RemediationTests()
        {
            Directory.CreateDirectory(_temp);
        }

        public void Dispose()
        {
            if (Directory.Exists(_temp))
            {
                foreach (var f in Directory.EnumerateFiles(_temp, "*", SearchOption.AllDirectories))
                {
                    File.SetAttributes(f, FileAttributes.Normal);
                }

                Directory.Delete(_temp, recursive: true);
            }
        }

        private static bool IsLinux => RuntimeInformation.IsOSPlatform(OSPlatform.Linux);

        private string Store => Path.Combine(_temp, "store");

        private RemediationEngine Engine(QuarantineStore store, IRegistryAccess? registry = null, RecordingReporter? reporter = null, bool force = false) =>
            new RemediationEngine(store, RemediationEngine.DefaultProcessControl(), registry ?? new InMemoryRegistry(), reporter ?? new RecordingReporter(), force) { VerifyDelay = TimeSpan.Zero };

        private static List<FluxRemediation> Run(RemediationEngine engine, IEnumerable<FluxFinding> findings, bool windows = false) =>
            engine.Execute(RemediationPlanner.Plan(findings.Select(RemediationInput.From), windows), _ => true, CancellationToken.None);

        [Fact]
        public void RecordRoundTripsTabsNewlinesAndBackslashes()
        {
            var r = new RemediationRecord().Set("Line", "a\tb\nc\\d\r\0e").Set("N", 42L);
            var back = RemediationRecord.Parse(r.Serialize())!;
            Assert.Equal("a\tb\nc\\d\r\0e", back["Line"]);
            Assert.Equal(42L, back.Long("N"));
            Assert.Null(RemediationRecord.Parse("Line=broken\\"));
        }

        [SkippableFact]
        public void CronLineIsRemovedAndPutBackByteForByte()
        {
            Skip.IfNot(IsLinux, "Unix modes and lines are the Linux lane");
            string root = Path.Combine(_temp, "root");
            string crontab = Path.Combine(root, "etc", "crontab");
            Directory.CreateDirectory(Path.GetDirectoryName(crontab)!);
            string original = "SHELL=/bin/sh\r\n@reboot root /opt/.x/mobile7\r\n17 * * * * root run-parts /etc/cron.hourly\r\n@reboot root /opt/.x/mobile7\r\n";
            File.WriteAllText(crontab, original);
            File.SetLastWriteTimeUtc(crontab, new DateTime(2025, 1, 2, 3, 4, 5, DateTimeKind.Utc));
            var finding = new SuspiciousAutorun { EntryType = "CronLine", EntryPath = crontab, EntryText = "@reboot root /opt/.x/mobile7", LineNumber = 4, Root = root };

            using var store = QuarantineStore.Open(Store, create: true)!;
            var results = Run(Engine(store), new[] { finding });
            Assert.Contains(results, r => r.Action == "RemoveAutorun" && r.Status == "Done");

            // Only line 4 goes: the identical line 2 is another entry the finding did not name.
            Assert.Equal("SHELL=/bin/sh\r\n@reboot root /opt/.x/mobile7\r\n17 * * * * root run-parts /etc/cron.hourly\r\n", File.ReadAllText(crontab));

            var item = Engine(store).Items().Single(i => i.Kind == ItemKinds.Line);
            Engine(store).Restore(new[] { item.Id }, (_, _) => true, CancellationToken.None);
            Assert.Equal(original, File.ReadAllText(crontab));
            Assert.Equal(new DateTime(2025, 1, 2, 3, 4, 5, DateTimeKind.Utc), File.GetLastWriteTimeUtc(crontab));
        }

        [Fact]
        public void RegistryRunValueAndServiceAreRemovedAndRestoredThroughTheInterface()
        {
            var registry = new InMemoryRegistry();
            const string run = @"HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Run";
            const string service = @"HKLM\SYSTEM\CurrentControlSet\Services\mobile7svc";
            registry.SetValue(run, "CrashReportSaver", new RegistryValueData("String", @"C:\Users\a\AppData\Roaming\mobile7.exe"));
            registry.SetValue(run, "OneDrive", new RegistryValueData("String", @"C:\Program Files\OneDrive.exe"));
            registry.SetValue(service, "Start", new RegistryValueData("DWord", "2"));
            string before = registry.Snapshot();

            var findings = new FluxFinding[]
            {
                new SuspiciousAutorun { EntryType = "RegistryValue", EntryPath = run, Name = "CrashReportSaver" },
                new SuspiciousAutorun { EntryType = "Service", EntryPath = service, Name = "mobile7svc" },
            };

            using var store = QuarantineStore.Open(Store, create: true)!;
            var results = Run(Engine(store, registry), findings, windows: true);
            Assert.Equal(2, results.Count(r => r.Status == "Done" && r.Action == "RemoveAutorun"));
            Assert.Null(registry.GetValue(run, "CrashReportSaver"));
            Assert.NotNull(registry.GetValue(run, "OneDrive"));
            Assert.Equal("4", registry.GetValue(service, "Start")!.Data);
            Assert.Contains(results, r => r.Action == "Verify" && r.Status == "Done");

            // Something puts the value back: restore refuses to overwrite it without -Force.
            registry.SetValue(run, "CrashReportSaver", new RegistryValueData("String", "other"));
            var reporter = new RecordingReporter();
            var ids = Engine(store, registry).Items().Select(i => i.Id).ToList();
            var refused = Engine(store, registry, reporter).Restore(ids, (_, _) => true, CancellationToken.None);
            Assert.Contains(reporter.Errors, e => e.ErrorId == "RestoreTargetOccupied");
            registry.DeleteValue(run, "CrashReportSaver");
            Engine(store, registry).Restore(ids, (_, _) => true, CancellationToken.None);
            Assert.Equal(before, registry.Snapshot());
        }

        [Fact]
        public void RegistryFindingsAreRefusedOffWindowsAndFromOfflineHives()
        {
            var plan = RemediationPlanner.Plan(new[]
            {
                RemediationInput.From(new SuspiciousAutorun { EntryType = "RegistryValue", EntryPath = @"HKLM\Run", Name = "x" }),
                RemediationInput.From(new SuspiciousAutorun { EntryType = "RegistryValue", EntryPath = @"HKLM\Run", Name = "y", Root = "/mnt/evidence" }),
            }, isWindows: false);
            Assert.Equal(new[] { "RegistryNotAvailable", "OfflineRegistryNotSupported" }, plan.Select(a => a.RefusalId));
        }

        [Fact]
        public void PlanRunsInSafeOrderAndQuarantinesEachImageOnce()
        {
            var inputs = new FluxFinding[]
            {
                new UsbLnkTrap { DriveRoot = "/media/stick", ShortcutPath = "/media/stick/photos.lnk", PayloadPath = "/media/stick/click.exe", HiddenFolderPath = "/media/stick/photos" },
                new SuspiciousAutorun { EntryType = "CronLine", EntryPath = "/etc/crontab", EntryText = "@reboot root /opt/.x/m", LineNumber = 3, ImagePath = "/opt/.x/m" },
                new FluxListener { ProcessId = 4242, ProcessName = "m", Path = "/opt/.x/m" },
            }.Select(RemediationInput.From);
            var plan = RemediationPlanner.Plan(inputs, isWindows: false);
            Assert.Equal(new[] { "StopProcess", "RemoveAutorun", "QuarantineFile", "QuarantineFile", "QuarantineFile", "ClearAttributes" }, plan.Select(a => a.Action));
            Assert.Single(plan, a => a.Target == "/opt/.x/m");
        }

        [SkippableFact]
        public void PathGuardRefusesDotDotLinksAndEscapes()
        {
            Skip.IfNot(IsLinux, "symbolic links without privileges are the Linux lane");
            string drive = Path.Combine(_temp, "drive");
            Directory.CreateDirectory(drive);
            File.WriteAllText(Path.Combine(_temp, "outside"), "x");
            File.CreateSymbolicLink(Path.Combine(drive, "link"), _temp);
            File.CreateSymbolicLink(Path.Combine(drive, "leaf.lnk"), Path.Combine(_temp, "outside"));

            Assert.NotNull(PathGuard.Refusal(drive + "/../outside", drive, false));
            Assert.NotNull(PathGuard.Refusal(Path.Combine(drive, "link", "outside"), drive, false));
            Assert.NotNull(PathGuard.Refusal(Path.Combine(drive, "leaf.lnk"), drive, false));
            Assert.NotNull(PathGuard.Refusal(Path.Combine(_temp, "outside"), drive, false));
            Assert.NotNull(PathGuard.Refusal("relative/file", null, false));
            Assert.Null(PathGuard.Refusal(Path.Combine(drive, "photos.lnk"), drive, false));
        }

        [Fact]
        public void ProcessGuardProtectsSystemSelfAndSharedHosts()
        {
            var self = new HashSet<int> { 777, 700 };
            Assert.NotNull(ProcessGuard.Refusal(new ProcessIdentity { ProcessId = 1, Name = "bash" }, self, true));
            Assert.NotNull(ProcessGuard.Refusal(new ProcessIdentity { ProcessId = 4, Name = "System" }, self, true));
            Assert.NotNull(ProcessGuard.Refusal(new ProcessIdentity { ProcessId = 700, Name = "pwsh" }, self, true));
            Assert.NotNull(ProcessGuard.Refusal(new ProcessIdentity { ProcessId = 900, Name = "lsass.exe" }, self, true));
            Assert.NotNull(ProcessGuard.Refusal(new ProcessIdentity { ProcessId = 901, Name = "kworker/0:1", IsKernelThread = true }, self, true));
            Assert.NotNull(ProcessGuard.Refusal(new ProcessIdentity { ProcessId = 902, Name = "svchost.exe" }, self, false));
            Assert.Null(ProcessGuard.Refusal(new ProcessIdentity { ProcessId = 902, Name = "svchost.exe" }, self, true));
            Assert.Null(ProcessGuard.Refusal(new ProcessIdentity { ProcessId = 903, Name = "mobile7.exe" }, self, false));
            Assert.False(ProcessGuard.SameStart(new DateTime(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc), new DateTime(2026, 1, 1, 0, 0, 5, DateTimeKind.Utc)));
        }

        [SkippableFact]
        public void StopsARealProcessTreeButNotAReusedPid()
        {
            Skip.IfNot(IsLinux, "the process lane runs on Linux");
            using var sh = Process.Start(new ProcessStartInfo("/bin/sh", "-c \"sleep 60 & sleep 60; wait\"") { UseShellExecute = false })!;
            Thread.Sleep(300);
            var control = new LinuxProcessControl();
            var me = control.Get(sh.Id)!;
            var children = control.Snapshot().Where(p => p.ParentProcessId == sh.Id).ToList();
            Assert.NotEmpty(children);

            using var store = QuarantineStore.Open(Store, create: true)!;
            var reporter = new RecordingReporter();
            var stale = new FluxListener { ProcessId = sh.Id, ProcessName = "sh", ProcessStartTime = me.StartTimeUtc!.Value.AddMinutes(-5) };
            Run(Engine(store, reporter: reporter), new[] { stale });
            Assert.Contains(reporter.Errors, e => e.ErrorId == "ProcessIdReused");
            Assert.False(sh.HasExited);

            var results = Run(Engine(store), new[] { new FluxListener { ProcessId = sh.Id, ProcessName = "sh", ProcessStartTime = me.StartTimeUtc } });
            Assert.Contains(results, r => r.Action == "StopProcess" && r.Status == "Done");
            Assert.True(sh.WaitForExit(5000));
            Assert.All(children, c => Assert.True(control.Get(c.ProcessId) is null or { IsZombie: true }));
        }

        [SkippableFact]
        public void InterruptedQuarantineIsSettledFromTheMachineState()
        {
            Skip.IfNot(IsLinux, "rename(2) semantics are checked on Linux");
            string drive = Path.Combine(_temp, "drive");
            Directory.CreateDirectory(drive);
            string moved = Path.Combine(drive, "a.lnk");
            string untouched = Path.Combine(drive, "b.lnk");
            File.WriteAllText(moved, "A");
            File.WriteAllText(untouched, "B");

            using (var store = QuarantineStore.Open(Store, create: true)!)
            {
                // A run that wrote both intents, did the first move, and died before marking anything.
                var run = store.NewRun();
                RemediationRecord Intent(int seq, string path) => new RemediationRecord()
                    .Set("Seq", seq).Set("Op", StoreOps.Quarantine).Set("Kind", ItemKinds.File).Set("Target", path)
                    .Set("Data", run.DataPath(seq)).Set("Method", "rename").Set("Sha256", RemediationFileSystem.Sha256Of(path));
                run.Add(Intent(1, moved));
                run.Add(Intent(2, untouched));
                run.Flush();
                RemediationFileSystem.Rename(moved, run.DataPath(1));
                File.AppendAllText(run.JournalPath, "M\tSeq=2\tOp=Quar");   // a torn last line
                run.Dispose();

                var settled = Engine(store).Recover();
                Assert.Equal(2, settled.Count);
                var items = Engine(store).Items();
                Assert.Equal(ItemStates.Quarantined, items.Single(i => i.Target == moved).State);
                Assert.Equal(ItemStates.NotDone, items.Single(i => i.Target == untouched).State);
                Assert.DoesNotContain(items, i => i.InDoubt);
                Assert.Equal("400", Convert.ToString((int)File.GetUnixFileMode(run.DataPath(1)), 8));
            }

            Assert.True(File.Exists(untouched));
            Assert.False(File.Exists(moved));
        }

        [SkippableFact]
        public void FileKeepsModeOwnerTimesAndIsInertInTheStore()
        {
            Skip.IfNot(IsLinux, "Unix modes are the Linux lane");
            string drive = Path.Combine(_temp, "drive");
            Directory.CreateDirectory(drive);
            string payload = Path.Combine(drive, "click.exe");
            File.WriteAllBytes(payload, new byte[] { 0x4d, 0x5a, 1, 2, 3 });
            File.SetUnixFileMode(payload, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupExecute);
            File.SetLastWriteTimeUtc(payload, new DateTime(2024, 5, 6, 7, 8, 9, 123, DateTimeKind.Utc));

            using var store = QuarantineStore.Open(Store, create: true)!;
            var results = Run(Engine(store), new[] { new UsbLnkTrap { DriveRoot = drive, ShortcutPath = payload } });
            Assert.Contains(results, r => r.Status == "Done" && r.QuarantineId is not null);
            var item = Engine(store).Items().Single();
            var described = RemediationEngine.Describe(item);
            Assert.Equal("0710", described.Mode);
            Assert.Equal(UnixFileMode.UserRead, File.GetUnixFileMode(described.StorePath!));
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(store.Root));
            Assert.Contains(".quarantine", described.StorePath);

            // A second run on the same finding has nothing to do and says where the file went.
            var again = Run(Engine(store), new[] { new UsbLnkTrap { DriveRoot = drive, ShortcutPath = payload } });
            Assert.Contains(again, r => r.Status == "Skipped" && r.QuarantineId == item.Id);

            Engine(store).Restore(new[] { item.Id }, (_, _) => true, CancellationToken.None);
            Assert.Equal(new byte[] { 0x4d, 0x5a, 1, 2, 3 }, File.ReadAllBytes(payload));
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupExecute, File.GetUnixFileMode(payload));
            Assert.Equal(new DateTime(2024, 5, 6, 7, 8, 9, 123, DateTimeKind.Utc), File.GetLastWriteTimeUtc(payload));
            Assert.Equal(ItemStates.Restored, Engine(store).Items().Single().State);
        }
    }
}
