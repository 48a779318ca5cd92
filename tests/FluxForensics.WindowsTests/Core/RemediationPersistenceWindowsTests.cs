using System;
using System.IO;
using System.Linq;
using System.Threading;
using FluxForensics.Host;
using FluxForensics.Model;
using FluxForensics.Remediation;
using FluxForensics.WindowsTests.Support;
using Microsoft.Win32;

namespace FluxForensics.WindowsTests.Core
{
    /// <summary>The Windows half of remediating the kinds beyond Run values: AppInit_DLLs and BootExecute edited one
    /// element at a time, an Active Setup StubPath, and a per-user COM server key exported, deleted and imported, all
    /// through Win32RegistryAccess on the live registry; and the cmdlets doing the same from Get-SuspiciousAutorun.</summary>
    [Collection(LiveRegistry.Name)]
    public sealed class RemediationPersistenceWindowsTests
    {
        private const string WindowsKey = @"SOFTWARE\Microsoft\Windows NT\CurrentVersion\Windows";
        private const string SessionManager = @"SYSTEM\CurrentControlSet\Control\Session Manager";

        private static object? Read(RegistryKey hive, string path, string name)
        {
            using var key = hive.OpenSubKey(path);
            return key?.GetValue(name, null, RegistryValueOptions.DoNotExpandEnvironmentNames);
        }

        private static RegistryValueKind KindOf(RegistryKey hive, string path, string name)
        {
            using var key = hive.OpenSubKey(path)!;
            return key.GetValueKind(name);
        }

        [Fact]
        public void KeyTreeIsExportedDeletedAndImportedExactly()
        {
            TestHost.RequireWindows();
            string path = @"SOFTWARE\FluxForensics.WindowsTests\" + LiveRegistry.UniqueName("Tree");
            using (var root = Registry.CurrentUser.CreateSubKey(path + @"\InprocServer32")!)
            {
                root.SetValue(string.Empty, @"%APPDATA%\thumbcache.dll", RegistryValueKind.ExpandString);
                root.SetValue("ThreadingModel", "Both", RegistryValueKind.String);
                root.SetValue("Flags", new byte[] { 0, 1, 255 }, RegistryValueKind.Binary);
                root.CreateSubKey("Empty")!.Dispose();
            }

            try
            {
                var registry = new Win32RegistryAccess();
                string keyPath = @"HKCU\" + path + @"\InprocServer32";
                var export = registry.ExportKey(keyPath);
                Assert.NotNull(export);
                Assert.Contains("Empty", export!.Keys);
                Assert.Equal(3, export.Values.Count);

                Assert.True(registry.DeleteKeyTree(keyPath));
                Assert.Null(registry.ExportKey(keyPath));
                Assert.False(registry.DeleteKeyTree(keyPath));

                registry.ImportKey(keyPath, export);
                Assert.Equal(@"%APPDATA%\thumbcache.dll", Read(Registry.CurrentUser, path + @"\InprocServer32", string.Empty));
                Assert.Equal(RegistryValueKind.ExpandString, KindOf(Registry.CurrentUser, path + @"\InprocServer32", string.Empty));
                Assert.Equal(new byte[] { 0, 1, 255 }, Read(Registry.CurrentUser, path + @"\InprocServer32", "Flags"));
                using var empty = Registry.CurrentUser.OpenSubKey(path + @"\InprocServer32\Empty");
                Assert.NotNull(empty);
            }
            finally
            {
                Registry.CurrentUser.DeleteSubKeyTree(path, throwOnMissingSubKey: false);
            }
        }

        [Fact]
        public void TheEngineTakesEachKindOutOfTheLiveRegistryAndPutsItBack()
        {
            TestHost.RequireWindows();
            TestHost.RequireDisposableMachine();
            string dll = @"C:\ProgramData\" + LiveRegistry.UniqueName("hook") + ".dll";
            string appInit = @"C:\Vendor\shim64.dll," + dll;
            string program = "autocheck " + LiveRegistry.UniqueName("boot").ToLowerInvariant() + ".exe /q";
            string component = @"SOFTWARE\Microsoft\Active Setup\Installed Components\{" + Guid.NewGuid().ToString().ToUpperInvariant() + "}";
            string clsid = "{" + Guid.NewGuid().ToString().ToUpperInvariant() + "}";
            string userServer = @"Software\Classes\CLSID\" + clsid + @"\InprocServer32";
            using var appInitValue = LiveRegistry.Set(RegistryHive.LocalMachine, RegistryView.Registry64, WindowsKey, "AppInit_DLLs", appInit, RegistryValueKind.String);
            using var boot = LiveRegistry.Set(RegistryHive.LocalMachine, RegistryView.Registry64, SessionManager, "BootExecute", new[] { "autocheck autochk *", program }, RegistryValueKind.MultiString);
            using var stub = LiveRegistry.Set(RegistryHive.LocalMachine, RegistryView.Registry64, component, "StubPath", @"%PUBLIC%\stub.exe /install", RegistryValueKind.ExpandString);
            using (var created = Registry.CurrentUser.CreateSubKey(userServer)!)
            {
                // Not through LiveRegistry.Set: the removal deletes this key, so no handle to it may outlive the test body.
                created.SetValue(string.Empty, @"C:\Users\Public\hijack.dll", RegistryValueKind.String);
            }

            using var temp = new TempDirectory();
            try
            {
                var findings = new FluxFinding[]
                {
                    new SuspiciousAutorun { EntryType = AutorunEntryType.AppInitDll, EntryPath = @"HKLM\" + WindowsKey, Name = "AppInit_DLLs", Command = dll },
                    new SuspiciousAutorun { EntryType = AutorunEntryType.BootExecute, EntryPath = @"HKLM\" + SessionManager, Name = "BootExecute", EntryText = program },
                    new SuspiciousAutorun { EntryType = AutorunEntryType.ActiveSetup, EntryPath = @"HKLM\" + component, Name = "Crash Report" },
                    new SuspiciousAutorun { EntryType = AutorunEntryType.ComHijack, EntryPath = @"HKCU\" + userServer, Name = clsid },
                };

                var registry = new Win32RegistryAccess();
                using var store = QuarantineStore.Open(Path.Combine(temp.Path, "store"), create: true)!;
                var reporter = new RecordingReporter();
                var engine = new RemediationEngine(store, RemediationEngine.DefaultProcessControl(), registry, reporter, force: false) { VerifyDelay = TimeSpan.Zero };
                var results = engine.Execute(RemediationPlanner.Plan(findings.Select(RemediationInput.From), isWindows: true), _ => true, CancellationToken.None);

                Assert.Empty(reporter.Errors);
                Assert.Equal(4, results.Count(r => r.Action == "RemoveAutorun" && r.Status == "Done"));
                Assert.Equal(@"C:\Vendor\shim64.dll", Read(Registry.LocalMachine, WindowsKey, "AppInit_DLLs"));
                Assert.Equal(new[] { "autocheck autochk *" }, Read(Registry.LocalMachine, SessionManager, "BootExecute"));
                Assert.Null(Read(Registry.LocalMachine, component, "StubPath"));
                using (var gone = Registry.CurrentUser.OpenSubKey(@"Software\Classes\CLSID\" + clsid))
                {
                    Assert.Null(gone);
                }

                var ids = engine.Items().Where(i => i.IsRestorable).Select(i => i.Id).ToList();
                var restored = engine.Restore(ids, (_, _) => true, CancellationToken.None);
                Assert.Empty(reporter.Errors);
                Assert.Equal(4, restored.Count(r => r.Status == "Restored"));
                Assert.Equal(appInit, Read(Registry.LocalMachine, WindowsKey, "AppInit_DLLs"));
                Assert.Equal(new[] { "autocheck autochk *", program }, Read(Registry.LocalMachine, SessionManager, "BootExecute"));
                Assert.Equal(RegistryValueKind.MultiString, KindOf(Registry.LocalMachine, SessionManager, "BootExecute"));
                Assert.Equal(@"%PUBLIC%\stub.exe /install", Read(Registry.LocalMachine, component, "StubPath"));
                Assert.Equal(RegistryValueKind.ExpandString, KindOf(Registry.LocalMachine, component, "StubPath"));
                Assert.Equal(@"C:\Users\Public\hijack.dll", Read(Registry.CurrentUser, userServer, string.Empty));
            }
            finally
            {
                Registry.CurrentUser.DeleteSubKeyTree(@"Software\Classes\CLSID\" + clsid, throwOnMissingSubKey: false);
            }
        }

        [Fact]
        public void RemoveFluxInfectionTakesAnAppInitDllAndAnActiveSetupStubOutAndRestoreFluxQuarantinePutsThemBack()
        {
            string manifest = ModuleHost.RequireBuiltModule();
            TestHost.RequireDisposableMachine();
            using var temp = new TempDirectory();
            string dll = temp.File(LiveRegistry.UniqueName("hook") + ".dll", "MZ hook");
            string appInit = @"C:\Vendor\shim64.dll " + dll;
            string component = @"SOFTWARE\Microsoft\Active Setup\Installed Components\{" + Guid.NewGuid().ToString().ToUpperInvariant() + "}";
            string label = LiveRegistry.UniqueName("Setup");
            string store = Path.Combine(temp.Path, "quarantine");
            using var appInitValue = LiveRegistry.Set(RegistryHive.LocalMachine, RegistryView.Registry64, WindowsKey, "AppInit_DLLs", appInit, RegistryValueKind.String);
            using var load = LiveRegistry.Set(RegistryHive.LocalMachine, RegistryView.Registry64, WindowsKey, "LoadAppInit_DLLs", 1, RegistryValueKind.DWord);
            using var name = LiveRegistry.Set(RegistryHive.LocalMachine, RegistryView.Registry64, component, string.Empty, label, RegistryValueKind.String);
            using var stub = LiveRegistry.Set(RegistryHive.LocalMachine, RegistryView.Registry64, component, "StubPath", @"C:\Users\Public\stub.exe /install", RegistryValueKind.String);
            // The component key stays (empty) in the disposable prefix, as LivePersistenceKindsTests leaves its own.
            string select = $"Get-SuspiciousAutorun -All | Where-Object {{ ($_.EntryType -eq 'AppInitDll' -and $_.Command -eq '{dll}') -or ($_.EntryType -eq 'ActiveSetup' -and $_.Name -eq '{label}') }}";
            var (whatIf, whatIfErrors) = ModuleHost.Run(manifest, $"{select} | Remove-FluxInfection -QuarantinePath '{store}' -WhatIf -PassThru");
            Assert.Empty(whatIfErrors);
            var planned = whatIf.Select(o => o.BaseObject).OfType<FluxRemediation>().ToList();
            Assert.Equal(2, planned.Count(r => r.Action == "RemoveAutorun"));
            Assert.All(planned, r => Assert.Equal("WhatIf", r.Status));
            Assert.Equal(appInit, Read(Registry.LocalMachine, WindowsKey, "AppInit_DLLs"));
            Assert.False(Directory.Exists(store));

            var (removed, removeErrors) = ModuleHost.Run(manifest, $"{select} | Remove-FluxInfection -QuarantinePath '{store}' -Force -PassThru -Confirm:$false");
            Assert.Empty(removeErrors);
            var results = removed.Select(o => o.BaseObject).OfType<FluxRemediation>().ToList();
            TestContext.Current.SendDiagnosticMessage(string.Join(" | ", results.Select(r => $"{r.Action} {r.Status} {r.Target} {r.Detail}")));
            Assert.Equal(2, results.Count(r => r.Action == "RemoveAutorun" && r.Status == "Done"));
            Assert.Equal(@"C:\Vendor\shim64.dll", Read(Registry.LocalMachine, WindowsKey, "AppInit_DLLs"));
            Assert.Null(Read(Registry.LocalMachine, component, "StubPath"));
            Assert.False(File.Exists(dll));

            var (restored, restoreErrors) = ModuleHost.Run(manifest,
                $"Get-FluxQuarantine -QuarantinePath '{store}' | Restore-FluxQuarantine -QuarantinePath '{store}' -PassThru -Confirm:$false");
            Assert.Empty(restoreErrors);
            Assert.NotEmpty(restored);
            Assert.Equal(appInit, Read(Registry.LocalMachine, WindowsKey, "AppInit_DLLs"));
            Assert.Equal(@"C:\Users\Public\stub.exe /install", Read(Registry.LocalMachine, component, "StubPath"));
            Assert.True(File.Exists(dll));
        }
    }
}
