using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using FluxForensics.Host;
using FluxForensics.WindowsTests.Support;
using Microsoft.Win32;

namespace FluxForensics.WindowsTests.Core
{
    /// <summary>The live reader of the kinds beyond Run keys (BootExecute, AppInit_DLLs, Active Setup, COM hijacks)
    /// through the real registry API, with values the test writes and puts back.</summary>
    [Collection(LiveRegistry.Name)]
    public sealed class LivePersistenceKindsTests
    {
        private static List<AutorunEntry> Scan(out RecordingReporter reporter)
        {
            reporter = new RecordingReporter();
            return PersistenceScanner.Scan(new PersistenceScanOptions(), reporter, CancellationToken.None).ToList();
        }

        [Fact]
        public void BootExecuteBeyondAutochkIsAnEntryAndTheDefaultIsNot()
        {
            TestHost.RequireWindows();
            TestHost.RequireDisposableMachine();
            string program = LiveRegistry.UniqueName("boot").ToLowerInvariant() + ".exe";
            using var value = LiveRegistry.Set(RegistryHive.LocalMachine, RegistryView.Registry64, @"SYSTEM\CurrentControlSet\Control\Session Manager",
                "BootExecute", new[] { "autocheck autochk *", "autocheck " + program + " /q" }, RegistryValueKind.MultiString);

            var boot = Scan(out var reporter).Where(e => e.EntryType == AutorunEntryType.BootExecute).ToList();

            Assert.Empty(reporter.Errors);
            var entry = Assert.Single(boot);
            Assert.Equal(program + " /q", entry.Command);
            Assert.Equal("autocheck " + program + " /q", entry.EntryText);
            Assert.Equal(@"HKLM\SYSTEM\CurrentControlSet\Control\Session Manager", entry.Location, ignoreCase: true);
        }

        [Fact]
        public void AppInitDllsAndActiveSetupStubPathAreRead()
        {
            TestHost.RequireWindows();
            TestHost.RequireDisposableMachine();
            string dll = @"C:\ProgramData\" + LiveRegistry.UniqueName("hook") + ".dll";
            using var appInit = LiveRegistry.Set(RegistryHive.LocalMachine, RegistryView.Registry64, @"SOFTWARE\Microsoft\Windows NT\CurrentVersion\Windows",
                "AppInit_DLLs", dll, RegistryValueKind.String);
            using var load = LiveRegistry.Set(RegistryHive.LocalMachine, RegistryView.Registry64, @"SOFTWARE\Microsoft\Windows NT\CurrentVersion\Windows",
                "LoadAppInit_DLLs", 1, RegistryValueKind.DWord);
            string component = @"SOFTWARE\Microsoft\Active Setup\Installed Components\{" + Guid.NewGuid().ToString().ToUpperInvariant() + "}";
            string label = LiveRegistry.UniqueName("Setup");
            using var name = LiveRegistry.Set(RegistryHive.LocalMachine, RegistryView.Registry64, component, string.Empty, label, RegistryValueKind.String);
            using var stub = LiveRegistry.Set(RegistryHive.LocalMachine, RegistryView.Registry64, component, "StubPath", @"C:\Users\Public\stub.exe /install", RegistryValueKind.String);

            var entries = Scan(out _);

            var hook = Assert.Single(entries, e => e.EntryType == AutorunEntryType.AppInitDll && e.Command == dll);
            Assert.True(hook.Enabled);
            var setup = Assert.Single(entries, e => e.EntryType == AutorunEntryType.ActiveSetup && e.Name == label);
            Assert.Equal(@"C:\Users\Public\stub.exe /install", setup.Command);
        }

        [Fact]
        public void PerUserClsidShadowingTheMachinesIsAComHijack()
        {
            TestHost.RequireWindows();
            TestHost.RequireDisposableMachine();
            string clsid = "{" + Guid.NewGuid().ToString().ToUpperInvariant() + "}";
            using var machine = LiveRegistry.Set(RegistryHive.LocalMachine, RegistryView.Registry64, @"SOFTWARE\Classes\CLSID\" + clsid + @"\InprocServer32",
                string.Empty, @"C:\Windows\System32\shell32.dll", RegistryValueKind.String);
            using var user = LiveRegistry.Set(RegistryHive.CurrentUser, RegistryView.Registry64, @"Software\Classes\CLSID\" + clsid + @"\InprocServer32",
                string.Empty, @"C:\Users\Public\hijack.dll", RegistryValueKind.String);

            var entry = Scan(out _).SingleOrDefault(e => e.EntryType == AutorunEntryType.ComHijack && e.Name == clsid);

            TestHost.SkipOnWineGap(entry is null, "the current user's hive is not reachable through ProfileList + HKU\\<SID> (" + LiveRegistry.ProfileListSummary() + ")");
            Assert.NotNull(entry);
            Assert.Equal(@"C:\Users\Public\hijack.dll", entry!.Command);
            Assert.Contains(@"C:\Windows\System32\shell32.dll", entry.Detail);
        }
    }
}
