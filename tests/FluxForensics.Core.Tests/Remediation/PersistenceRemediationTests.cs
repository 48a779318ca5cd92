using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading;
using FluxForensics.Host;
using FluxForensics.Model;
using FluxForensics.Remediation;
using RegistryValueData = FluxForensics.Remediation.RegistryValueData;

namespace FluxForensics.Tests.Remediation
{
    /// <summary>
    /// The persistence kinds beyond Run values (AppInit_DLLs, BootExecute, Active Setup, COM hijacks, services) removed
    /// and put back exactly through the registry interface; -WhatIf; offline refusals one item at a time. The live Win32
    /// half of the same paths runs in the Wine lane (RemediationWindowsTests).
    /// </summary>
    public sealed class PersistenceRemediationTests : IDisposable
    {
        private const string Sid = "S-1-5-21-1-2-3-1001";
        private const string Windows = @"HKLM\SOFTWARE\Microsoft\Windows NT\CurrentVersion\Windows";
        private const string SessionManager = @"HKLM\SYSTEM\CurrentControlSet\Control\Session Manager";
        private const string Component = @"HKLM\SOFTWARE\Microsoft\Active Setup\Installed Components\{A2B3C4D5-0000-4000-8000-000000000019}";
        private const string Clsid = "{0E5AAE11-A475-4C5B-AB00-C66DE400274E}";
        private static readonly string UserClsid = $@"HKU\{Sid}\Software\Classes\CLSID\{Clsid}";
        private readonly string _temp = Path.Combine(Path.GetTempPath(), "ff-prem-" + Guid.NewGuid().ToString("N"));

        public PersistenceRemediationTests() => Directory.CreateDirectory(_temp);

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

        private string Store => Path.Combine(_temp, "store");

        private static RemediationEngine Engine(QuarantineStore? store, IRegistryAccess registry, RecordingReporter? reporter = null) =>
            new RemediationEngine(store, RemediationEngine.DefaultProcessControl(), registry, reporter ?? new RecordingReporter(), force: false) { VerifyDelay = TimeSpan.Zero };

        private static List<FluxRemediation> Run(RemediationEngine engine, IEnumerable<FluxFinding> findings, bool whatIf = false) =>
            engine.Execute(RemediationPlanner.Plan(findings.Select(RemediationInput.From), isWindows: true), _ => true, whatIf, CancellationToken.None);

        private static List<FluxRemediation> RestoreAll(QuarantineStore store, IRegistryAccess registry, RecordingReporter? reporter = null)
        {
            var ids = Engine(store, registry).Items().Where(i => i.IsRestorable).Select(i => i.Id).ToList();
            return Engine(store, registry, reporter).Restore(ids, (_, _) => true, CancellationToken.None);
        }

        /// <summary>A machine with one of each: a hooked AppInit_DLLs beside a legitimate DLL, an extra BootExecute
        /// program, an Active Setup StubPath, a per-user COM server shadowing the machine's, and a service.</summary>
        private static InMemoryRegistry Planted()
        {
            var registry = new InMemoryRegistry();
            registry.SetValue(Windows, "AppInit_DLLs", new RegistryValueData("String", @"C:\Vendor\shim64.dll, C:\ProgramData\Hook\hook64.dll C:\ProgramData\Hook\hook32.dll"));
            registry.SetValue(Windows, "LoadAppInit_DLLs", new RegistryValueData("DWord", "1"));
            registry.SetValue(SessionManager, "BootExecute", new RegistryValueData("MultiString", "autocheck autochk *\0autocheck bootguard.exe /silent"));
            registry.SetValue(SessionManager, "ObjectDirectories", new RegistryValueData("MultiString", @"\Windows\0\RPC Control"));
            registry.SetValue(Component, string.Empty, new RegistryValueData("String", "Crash Report"));
            registry.SetValue(Component, "StubPath", new RegistryValueData("ExpandString", @"%PUBLIC%\crash\stub.exe /install"));
            registry.SetValue(Component, "IsInstalled", new RegistryValueData("DWord", "1"));
            registry.CreateKey($@"HKU\{Sid}\Software\Classes\CLSID");
            registry.SetValue(UserClsid + @"\InprocServer32", string.Empty, new RegistryValueData("ExpandString", @"%APPDATA%\thumbcache.dll"));
            registry.SetValue(UserClsid + @"\InprocServer32", "ThreadingModel", new RegistryValueData("String", "Both"));
            registry.SetValue(@"HKLM\SOFTWARE\Classes\CLSID\" + Clsid + @"\InprocServer32", string.Empty, new RegistryValueData("ExpandString", @"%SystemRoot%\System32\thumbcache.dll"));
            return registry;
        }

        private static SuspiciousAutorun[] Findings() => new[]
        {
            new SuspiciousAutorun { EntryType = AutorunEntryType.AppInitDll, EntryPath = Windows, Name = "AppInit_DLLs", Command = @"C:\ProgramData\Hook\hook64.dll" },
            new SuspiciousAutorun { EntryType = AutorunEntryType.AppInitDll, EntryPath = Windows, Name = "AppInit_DLLs", Command = @"C:\ProgramData\Hook\hook32.dll" },
            new SuspiciousAutorun { EntryType = AutorunEntryType.BootExecute, EntryPath = SessionManager, Name = "BootExecute", EntryText = "autocheck bootguard.exe /silent" },
            new SuspiciousAutorun { EntryType = AutorunEntryType.ActiveSetup, EntryPath = Component, Name = "Crash Report" },
            new SuspiciousAutorun { EntryType = AutorunEntryType.ComHijack, EntryPath = UserClsid + @"\InprocServer32", Name = Clsid },
        };

        [Fact]
        public void EachKindIsTakenOutAloneAndEverythingElseStays()
        {
            var registry = Planted();
            using var store = QuarantineStore.Open(Store, create: true)!;
            var reporter = new RecordingReporter();
            var results = Run(Engine(store, registry, reporter), Findings());

            Assert.Empty(reporter.Errors);
            Assert.Equal(5, results.Count(r => r.Action == "RemoveAutorun" && r.Status == "Done" && r.QuarantineId is not null));
            Assert.Contains(results, r => r.Action == "Verify" && r.Status == "Done");

            // Two DLLs of one list in one run: both go, the vendor's shim stays, as written.
            Assert.Equal(@"C:\Vendor\shim64.dll", registry.GetValue(Windows, "AppInit_DLLs")!.Data);
            Assert.Equal("1", registry.GetValue(Windows, "LoadAppInit_DLLs")!.Data);
            Assert.Equal("autocheck autochk *", registry.GetValue(SessionManager, "BootExecute")!.Data);
            Assert.Equal("MultiString", registry.GetValue(SessionManager, "BootExecute")!.Kind);
            Assert.Null(registry.GetValue(Component, "StubPath"));
            Assert.Equal("Crash Report", registry.GetValue(Component, string.Empty)!.Data);

            // The per-user server key goes, with the CLSID key it leaves empty; the machine's registration answers again.
            Assert.Null(registry.ExportKey(UserClsid));
            Assert.NotNull(registry.ExportKey($@"HKU\{Sid}\Software\Classes\CLSID"));
            Assert.NotNull(registry.GetValue(@"HKLM\SOFTWARE\Classes\CLSID\" + Clsid + @"\InprocServer32", string.Empty));

            var items = Engine(store, registry).Items().Select(RemediationEngine.Describe).ToList();
            var key = Assert.Single(items, i => i.Kind == ItemKinds.RegistryKey);
            Assert.True(File.Exists(key.StorePath), "the exported key is in the store");
            var issues = new List<ParseIssue>();
            var saved = RegistryKeyExport.Parse(File.ReadAllText(key.StorePath!), key.StorePath!, issues);
            Assert.Empty(issues);
            Assert.Contains(saved.Values, v => v.Key.Length == 0 && v.Name.Length == 0 && v.Value.Kind == "ExpandString" && v.Value.Data == @"%APPDATA%\thumbcache.dll");
            Assert.Contains(items, i => i.RemovedText == @"C:\ProgramData\Hook\hook32.dll");
        }

        [Fact]
        public void RestoreQuarantinePutsEveryKindBackExactly()
        {
            var registry = Planted();
            string values = registry.Snapshot();
            string keys = registry.KeySnapshot();
            using var store = QuarantineStore.Open(Store, create: true)!;
            Run(Engine(store, registry), Findings());
            Assert.NotEqual(values, registry.Snapshot());

            var reporter = new RecordingReporter();
            var restored = RestoreAll(store, registry, reporter);
            Assert.Empty(reporter.Errors);
            Assert.Equal(5, restored.Count(r => r.Status == "Restored"));
            Assert.Equal(values, registry.Snapshot());
            Assert.Equal(keys, registry.KeySnapshot());
            Assert.All(Engine(store, registry).Items(), i => Assert.Equal(ItemStates.Restored, i.State));
        }

        [Fact]
        public void AListChangedSinceTheCleanupGetsItsElementBackAndKeepsTheChange()
        {
            var registry = Planted();
            using var store = QuarantineStore.Open(Store, create: true)!;
            Run(Engine(store, registry), Findings().Where(f => f.EntryType == AutorunEntryType.BootExecute));

            // An administrator adds a program after the cleanup: restore puts the removed one back where it stood.
            registry.SetValue(SessionManager, "BootExecute", new RegistryValueData("MultiString", "autocheck autochk *\0sdnclean64.exe"));
            var reporter = new RecordingReporter();
            var restored = RestoreAll(store, registry, reporter);
            Assert.Equal("Restored", Assert.Single(restored).Status);
            Assert.Equal("autocheck autochk *\0autocheck bootguard.exe /silent\0sdnclean64.exe", registry.GetValue(SessionManager, "BootExecute")!.Data);
            Assert.Contains(reporter.Warnings, w => w.Contains("changed after the cleanup"));
        }

        [Fact]
        public void ARecreatedComKeyIsNotOverwrittenWithoutForce()
        {
            var registry = Planted();
            using var store = QuarantineStore.Open(Store, create: true)!;
            Run(Engine(store, registry), Findings().Where(f => f.EntryType == AutorunEntryType.ComHijack));
            registry.SetValue(UserClsid + @"\InprocServer32", string.Empty, new RegistryValueData("String", @"C:\Users\alice\again.dll"));

            var reporter = new RecordingReporter();
            var restored = RestoreAll(store, registry, reporter);
            Assert.Equal("Failed", Assert.Single(restored).Status);
            Assert.Contains(reporter.Errors, e => e.ErrorId == "RestoreTargetOccupied");
            Assert.Equal(@"C:\Users\alice\again.dll", registry.GetValue(UserClsid + @"\InprocServer32", string.Empty)!.Data);
        }

        [Fact]
        public void AnExportChangedInTheStoreIsNotImported()
        {
            var registry = Planted();
            using var store = QuarantineStore.Open(Store, create: true)!;
            Run(Engine(store, registry), Findings().Where(f => f.EntryType == AutorunEntryType.ComHijack));
            var item = Engine(store, registry).Items().Single();
            string export = RemediationEngine.Describe(item).StorePath!;
            File.SetAttributes(export, FileAttributes.Normal);
            File.AppendAllText(export, "Key=\tName=evil\tValueKind=String\tValueData=x\n");

            var reporter = new RecordingReporter();
            var restored = RestoreAll(store, registry, reporter);
            Assert.Equal("Failed", Assert.Single(restored).Status);
            Assert.Contains(reporter.Errors, e => e.ErrorId == "RestoreFailed" && e.Message.Contains("SHA-256"));
            Assert.Null(registry.ExportKey(UserClsid));
        }

        [Fact]
        public void AServiceWithAUserWritableImageIsDisabledAndItsImageQuarantined()
        {
            string image = Path.Combine(_temp, "ProgramData", "CrashSaver", "saver.exe");
            Directory.CreateDirectory(Path.GetDirectoryName(image)!);
            File.WriteAllBytes(image, new byte[] { 0x4d, 0x5a, 0x90, 0 });
            const string service = @"HKLM\SYSTEM\CurrentControlSet\Services\CrashSaverSvc";
            var registry = new InMemoryRegistry();
            registry.SetValue(service, "Start", new RegistryValueData("DWord", "2"));
            registry.SetValue(service, "ImagePath", new RegistryValueData("ExpandString", image));
            string before = registry.Snapshot();

            using var store = QuarantineStore.Open(Store, create: true)!;
            var finding = new SuspiciousAutorun { EntryType = AutorunEntryType.Service, EntryPath = service, Name = "CrashSaverSvc", ImagePath = image };
            var results = Run(Engine(store, registry), new[] { finding });
            Assert.Equal("4", registry.GetValue(service, "Start")!.Data);
            Assert.Contains(results, r => r.Action == "QuarantineFile" && r.Status == "Done");
            Assert.False(File.Exists(image));

            RestoreAll(store, registry);
            Assert.Equal(before, registry.Snapshot());
            Assert.Equal(new byte[] { 0x4d, 0x5a, 0x90, 0 }, File.ReadAllBytes(image));
        }

        [Fact]
        public void WhatIfAsksForEachActionAndChangesNothingNotEvenTheStore()
        {
            var registry = Planted();
            string before = registry.Snapshot();
            var asked = new List<string>();
            var reporter = new RecordingReporter();
            var offline = new SuspiciousAutorun { EntryType = AutorunEntryType.AppInitDll, EntryPath = Windows, Name = "AppInit_DLLs", Command = "x.dll", Root = "/mnt/evidence" };
            var plan = RemediationPlanner.Plan(Findings().Append(offline).Select(RemediationInput.From), isWindows: true);
            var results = Engine(null, registry, reporter).Execute(plan, a => { asked.Add(a.Target); return false; }, whatIf: true, CancellationToken.None);

            Assert.Equal(5, asked.Count);
            Assert.Equal(5, results.Count);
            Assert.All(results, r => Assert.Equal("WhatIf", r.Status));
            Assert.Contains(reporter.Errors, e => e.ErrorId == "OfflineRegistryNotSupported");
            Assert.Equal(before, registry.Snapshot());
            Assert.False(Directory.Exists(Store));
        }

        [Fact]
        public void OfflineAndWmiRefusalsCostOnlyTheirOwnItem()
        {
            var registry = Planted();
            string repository = Path.Combine(_temp, "Windows", "System32", "wbem", "Repository", "OBJECTS.DATA");
            var findings = new FluxFinding[]
            {
                new SuspiciousAutorun { EntryType = AutorunEntryType.ActiveSetup, EntryPath = Component, Name = "Crash Report", Root = _temp },
                new SuspiciousAutorun { EntryType = AutorunEntryType.WmiEventConsumer, EntryPath = repository, Name = "SCM Event Log Consumer", Root = _temp },
                new SuspiciousAutorun { EntryType = AutorunEntryType.WmiEventConsumer, EntryPath = @"C:\Windows\System32\wbem\Repository\OBJECTS.DATA", Name = "BVTConsumer" },
                Findings()[2],
            };

            using var store = QuarantineStore.Open(Store, create: true)!;
            var reporter = new RecordingReporter();
            var results = Run(Engine(store, registry, reporter), findings);

            Assert.Equal(new[] { "AutorunNotRemovable", "AutorunNotRemovable", "OfflineRegistryNotSupported" }, reporter.Errors.Select(e => e.ErrorId).OrderBy(e => e));
            Assert.Contains(reporter.Errors, e => e.Message.Contains("Remove-CimInstance") && e.Message.Contains(_temp));
            Assert.Equal(3, results.Count(r => r.Status == "Failed"));
            Assert.Contains(results, r => r.Status == "Done" && r.Target == SessionManager + @"\BootExecute");
            Assert.Equal("autocheck autochk *", registry.GetValue(SessionManager, "BootExecute")!.Data);
            Assert.NotNull(registry.GetValue(Component, "StubPath"));
        }

        [Fact]
        public void ListElementsAreMatchedAsWindowsReadsThem()
        {
            var list = new RegistryValueData("String", "a.dll,B.DLL  c.dll");
            Assert.Equal("a.dll,c.dll", RegistryList.Without(list, "b.dll")!.Data);
            Assert.Equal("a.dll,B.DLL", RegistryList.Without(list, "C.dll")!.Data);
            Assert.Null(RegistryList.Without(list, "d.dll"));
            var multi = new RegistryValueData("MultiString", "autocheck autochk *\0autocheck  x.exe   /q");
            Assert.Equal("autocheck autochk *", RegistryList.Without(multi, "autocheck x.exe /q")!.Data);
            Assert.Equal("x\0autocheck autochk *", RegistryList.With(new RegistryValueData("MultiString", "autocheck autochk *"), "x", new RegistryValueData("MultiString", "x\0autocheck autochk *")).Data);
        }
    }
}
