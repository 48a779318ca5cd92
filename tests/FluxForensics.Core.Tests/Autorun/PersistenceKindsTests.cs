using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using System.Threading;
using FluxForensics.Detection;
using FluxForensics.Fixtures.Autorun;
using FluxForensics.Host;
using FluxForensics.Model;
using FluxForensics.Remediation;

namespace FluxForensics.Tests.Autorun
{
    /// <summary>The other places the same malware could persist in, planted in hives, a WMI repository and files written
    /// byte by byte below a folder laid out as an offline Windows volume.</summary>
    public sealed class PersistenceKindsTests : IDisposable
    {
        private const string HijackedClsid = "{0E5AAE11-A475-4C5B-AB00-C66DE400274E}";
        private const string LocalServerClsid = "{9BA05972-F6A8-11CF-A442-00A0C90A8F39}";
        private const string UntouchedClsid = "{20D04FE0-3AEA-1069-A2D8-08002B30309D}";
        private readonly string _root = Path.Combine(Path.GetTempPath(), "flux-kinds-" + Guid.NewGuid().ToString("n"));

        public PersistenceKindsTests() => Directory.CreateDirectory(_root);

        public void Dispose()
        {
            if (Directory.Exists(_root))
            {
                Directory.Delete(_root, recursive: true);
            }
        }

        private string Local(string relative)
        {
            string path = Path.Combine(_root, relative);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            return path;
        }

        private void Pe(string windowsPath) =>
            File.WriteAllBytes(Local(windowsPath.Substring(3).Replace('\\', '/')), AutorunTreeCommand.SmallPe(windowsPath));

        private static void MultiString(RegfKey key, string name, params string[] strings) =>
            key.Values.Add((name, 7u, Encoding.Unicode.GetBytes(string.Join("\0", strings) + "\0\0")));

        private List<SuspiciousAutorun> Plant(bool withWmi = true)
        {
            var old = new DateTime(2024, 3, 1, 8, 0, 0, DateTimeKind.Utc);
            var software = new RegfKey("CMI-CreateHive{199DAFC2-6F16-4946-BF90-5A3FC3A60902}") { LastWritten = old };
            software.Key(@"Microsoft\Windows NT\CurrentVersion\ProfileList\S-1-5-21-1-2-3-1001").String("ProfileImagePath", @"%SystemDrive%\Users\alice", expand: true);
            software.Key($@"Classes\CLSID\{HijackedClsid}\InprocServer32").String(string.Empty, @"%SystemRoot%\System32\thumbcache.dll", expand: true);
            software.Key($@"Classes\CLSID\{LocalServerClsid}\LocalServer32").String(string.Empty, @"C:\Program Files\Common Files\microsoft shared\MSInfo\msinfo32.exe");
            software.Key($@"Classes\CLSID\{UntouchedClsid}\InprocServer32").String(string.Empty, @"%SystemRoot%\System32\shell32.dll", expand: true);
            software.Key(@"Microsoft\Windows NT\CurrentVersion\Windows").String("AppInit_DLLs", @"C:\ProgramData\Hook\hook64.dll").DWord("LoadAppInit_DLLs", 1);
            software.Key(@"Microsoft\Active Setup\Installed Components\{44BBA840-CC51-11CF-AAFA-00AA00B6015C}")
                .String(string.Empty, "Windows Mail").String("StubPath", @"%ProgramFiles%\Windows Mail\WinMail.exe OCInstallUserConfigOE", expand: true).DWord("IsInstalled", 1);
            software.Key(@"Microsoft\Active Setup\Installed Components\{A2B3C4D5-0000-4000-8000-000000000019}")
                .String(string.Empty, "Crash Report").String("StubPath", @"C:\Users\Public\crash\stub.exe /install").DWord("IsInstalled", 1);
            RegfWriter.WriteFile(Local("Windows/System32/config/SOFTWARE"), software);

            var system = new RegfKey("ROOT") { LastWritten = old };
            system.Key("Select").DWord("Current", 1);
            MultiString(system.Key(@"ControlSet001\Control\Session Manager"), "BootExecute", "autocheck autochk *", "autocheck bootguard.exe /silent");
            system.Key(@"ControlSet001\Services\CrashSaverSvc").String("ImagePath", @"C:\ProgramData\CrashSaver\crashsvc.exe -service").DWord("Start", 2).DWord("Type", 0x10);
            system.Key(@"ControlSet001\Services\Dnscache").String("ImagePath", @"%SystemRoot%\system32\svchost.exe -k NetworkService -p", expand: true).DWord("Start", 2).DWord("Type", 0x20);
            RegfWriter.WriteFile(Local("Windows/System32/config/SYSTEM"), system);

            var ntuser = new RegfKey("CMI-CreateHive{6A1C4018-979D-4291-A7DC-7AED1C75B67C}") { LastWritten = old };
            ntuser.Key($@"Software\Classes\CLSID\{HijackedClsid}\InprocServer32").String(string.Empty, @"C:\Users\alice\AppData\Roaming\Microsoft\thumbs.dll").String("ThreadingModel", "Apartment");
            RegfWriter.WriteFile(Local("Users/alice/NTUSER.DAT"), ntuser, @"\??\C:\Users\alice\ntuser.dat");

            var usrClass = new RegfKey("S-1-5-21-1-2-3-1001_Classes") { LastWritten = old };
            usrClass.Key($@"CLSID\{LocalServerClsid}\LocalServer32").String(string.Empty, @"C:\Users\alice\AppData\Local\Temp\msinfo.exe");
            usrClass.Key($@"CLSID\{UntouchedClsid}\InprocServer32").String(string.Empty, @"%SystemRoot%\System32\shell32.dll", expand: true);
            RegfWriter.WriteFile(Local("Users/alice/AppData/Local/Microsoft/Windows/UsrClass.dat"), usrClass, @"\??\C:\Users\alice\AppData\Local\Microsoft\Windows\UsrClass.dat");

            if (withWmi)
            {
                File.WriteAllBytes(Local("Windows/System32/wbem/Repository/OBJECTS.DATA"), WmiRepositoryTests.IncidentRepository());
            }

            foreach (string pe in new[] { @"C:\Windows\System32\thumbcache.dll", @"C:\Users\alice\AppData\Roaming\Microsoft\thumbs.dll", @"C:\Users\alice\AppData\Local\Temp\msinfo.exe",
                @"C:\ProgramData\Hook\hook64.dll", @"C:\Users\Public\crash\stub.exe", @"C:\Windows\System32\bootguard.exe", @"C:\ProgramData\CrashSaver\crashsvc.exe",
                @"C:\Windows\System32\svchost.exe", @"C:\Users\alice\AppData\Roaming\mobile7.exe", @"C:\ProgramData\crash\saver.exe", @"C:\Windows\System32\cscript.exe",
                @"C:\Windows\System32\wbem\scrcons.exe" })
            {
                Pe(pe);
            }

            var reporter = new RecordingReporter();
            var found = PersistenceInspector.Inspect(new PersistenceScanOptions { Root = _root }, null, reporter, CancellationToken.None).ToList();
            Assert.Empty(reporter.Errors);
            return found;
        }

        private static string Why(SuspiciousAutorun f) => $"{f.Name}: {f.RiskScore} {string.Join("; ", f.Reasons.Select(r => r.ToString()))}";

        [Fact]
        public void WmiCommandLineAndScriptConsumersAreFindings()
        {
            var found = Plant().Where(f => f.EntryType == AutorunEntryType.WmiEventConsumer).ToList();
            Assert.Equal(3, found.Count);

            SuspiciousAutorun updater = Assert.Single(found, f => f.Name == "Updater");
            Assert.Equal(@"C:\Users\alice\AppData\Roaming\mobile7.exe", updater.ImagePath);
            Assert.Equal("-relay", updater.Arguments);
            Assert.True(updater.Enabled);
            Assert.Equal(@"C:\Windows\System32\wbem\Repository\OBJECTS.DATA", updater.Location);
            Assert.Contains("UpdaterFilter", updater.Detail);
            Assert.Contains("__InstanceModificationEvent", updater.Detail);
            Assert.Contains(updater.Reasons, r => r.Points == AutorunRules.WmiConsumerPoints && r.Reason.Contains("WMI event subscription"));
            Assert.True(updater.Severity >= Severity.High, Why(updater));

            SuspiciousAutorun script = Assert.Single(found, f => f.Name == "CrashReportScript");
            Assert.Equal(@"C:\ProgramData\crash\saver.exe", script.ImagePath);
            Assert.Contains("VBScript", script.EntryText);
            Assert.Contains(script.Reasons, r => r.Points == AutorunRules.WmiInlineScriptPoints);
            Assert.True(script.Severity >= Severity.High, Why(script));

            SuspiciousAutorun bvt = Assert.Single(found, f => f.Name == "BVTConsumer");
            Assert.False(bvt.Enabled);
            Assert.Contains(bvt.Reasons, r => r.Reason.Contains("well-known Windows consumer") && r.Points == 0);
            Assert.True(bvt.RiskScore < updater.RiskScore, Why(bvt));
        }

        [Fact]
        public void ComHijacksInNtuserAndUsrClassShadowingHklmAreFound()
        {
            var hijacks = Plant(withWmi: false).Where(f => f.EntryType == AutorunEntryType.ComHijack).ToList();
            Assert.Equal(2, hijacks.Count);

            SuspiciousAutorun inproc = Assert.Single(hijacks, f => f.Name == HijackedClsid);
            Assert.Equal($@"HKU\S-1-5-21-1-2-3-1001\Software\Classes\CLSID\{HijackedClsid}\InprocServer32", inproc.EntryPath);
            Assert.Equal(@"C:\Users\alice\AppData\Roaming\Microsoft\thumbs.dll", inproc.ImagePath);
            Assert.Equal("alice", inproc.Scope);
            Assert.Contains(@"%SystemRoot%\System32\thumbcache.dll", inproc.Detail);
            Assert.Contains(inproc.Reasons, r => r.Points == AutorunRules.ComHijackPoints);
            Assert.True(inproc.Severity >= Severity.High, Why(inproc));

            SuspiciousAutorun local = Assert.Single(hijacks, f => f.Name == LocalServerClsid);
            Assert.Equal($@"HKU\S-1-5-21-1-2-3-1001_Classes\CLSID\{LocalServerClsid}\LocalServer32", local.EntryPath);
            Assert.EndsWith("UsrClass.dat", local.HivePath);
            Assert.Equal(@"C:\Users\alice\AppData\Local\Temp\msinfo.exe", local.ImagePath);

            // The same server registered for the user as for the machine is not a hijack.
            Assert.DoesNotContain(hijacks, f => f.Name == UntouchedClsid);
        }

        [Fact]
        public void AppInitActiveSetupBootExecuteAndWritableServicesHaveTheirOwnTypesAndReasons()
        {
            var found = Plant(withWmi: false);

            SuspiciousAutorun appInit = Assert.Single(found, f => f.EntryType == AutorunEntryType.AppInitDll);
            Assert.Equal(@"C:\ProgramData\Hook\hook64.dll", appInit.ImagePath);
            Assert.True(appInit.Enabled);
            Assert.Contains(appInit.Reasons, r => r.Points == AutorunRules.AppInitPoints);

            var activeSetup = found.Where(f => f.EntryType == AutorunEntryType.ActiveSetup).ToList();
            Assert.Equal(2, activeSetup.Count);
            SuspiciousAutorun stub = Assert.Single(activeSetup, f => f.Name == "Crash Report");
            Assert.Equal(@"C:\Users\Public\crash\stub.exe", stub.ImagePath);
            Assert.Contains(stub.Reasons, r => r.Points == AutorunRules.ActiveSetupPoints);
            SuspiciousAutorun mail = Assert.Single(activeSetup, f => f.Name == "Windows Mail");
            Assert.True(mail.RiskScore < stub.RiskScore, Why(mail) + " / " + Why(stub));

            SuspiciousAutorun boot = Assert.Single(found, f => f.EntryType == AutorunEntryType.BootExecute);
            Assert.Equal("bootguard.exe /silent", boot.Command);
            Assert.Equal("autocheck bootguard.exe /silent", boot.EntryText);
            Assert.Equal(@"C:\Windows\System32\bootguard.exe", boot.ImagePath);
            Assert.Equal(@"HKLM\SYSTEM\ControlSet001\Control\Session Manager", boot.EntryPath);
            Assert.Contains(boot.Reasons, r => r.Points == AutorunRules.BootExecutePoints);

            SuspiciousAutorun service = Assert.Single(found, f => f.Name == "CrashSaverSvc");
            Assert.Equal(AutorunEntryType.Service, service.EntryType);
            Assert.Contains(service.Reasons, r => r.Points == AutorunRules.WritableServicePoints && r.Reason.Contains("ProgramData"));
            SuspiciousAutorun dns = Assert.Single(found, f => f.Name == "Dnscache");
            Assert.DoesNotContain(dns.Reasons, r => r.Points == AutorunRules.WritableServicePoints);
        }

        [Fact]
        public void RemediationNamesTheNewKindsForAPersonInsteadOfDeletingAnything()
        {
            // These findings come from an offline volume: its WMI repository and hives are not edited in place, each
            // refused on its own with what to do instead.
            var found = Plant();
            foreach (string kind in new[] { AutorunEntryType.WmiEventConsumer, AutorunEntryType.ComHijack, AutorunEntryType.AppInitDll, AutorunEntryType.ActiveSetup, AutorunEntryType.BootExecute })
            {
                SuspiciousAutorun f = found.First(x => x.EntryType == kind);
                var actions = RemediationPlanner.Plan(new[] { RemediationInput.From(f) }, isWindows: true);
                RemediationAction remove = Assert.Single(actions, a => a.Action == "RemoveAutorun");
                Assert.Equal(kind == AutorunEntryType.WmiEventConsumer ? "AutorunNotRemovable" : "OfflineRegistryNotSupported", remove.RefusalId);
                Assert.Contains(_root, remove.Refusal);
            }
        }
    }
}
