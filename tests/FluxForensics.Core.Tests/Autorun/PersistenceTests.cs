using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading;
using FluxForensics.Host;
using FluxForensics.Model;
using FluxForensics.Tests.Usb;

namespace FluxForensics.Tests.Autorun
{
    /// <summary>Persistence planted in real temp folders laid out as offline systems, read with -Root semantics.</summary>
    public sealed class PersistenceTests : IDisposable
    {
        private readonly string _root = Path.Combine(Path.GetTempPath(), "flux-autorun-" + Guid.NewGuid().ToString("n"));

        public PersistenceTests() => Directory.CreateDirectory(_root);

        public void Dispose()
        {
            if (Directory.Exists(_root))
            {
                Directory.Delete(_root, recursive: true);
            }
        }

        private string Write(string relative, string text, DateTime? written = null)
        {
            string path = Path.Combine(_root, relative.TrimStart('/'));
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllText(path, text);
            File.SetLastWriteTimeUtc(path, written ?? new DateTime(2024, 1, 1, 0, 0, 0, DateTimeKind.Utc));
            return path;
        }

        private List<SuspiciousAutorun> Scan(RecordingReporter? reporter = null) =>
            PersistenceInspector.Inspect(new PersistenceScanOptions { Root = _root }, null, reporter ?? new RecordingReporter(), CancellationToken.None).ToList();

        private void PlantCleanLinux()
        {
            Write("/etc/passwd", "root:x:0:0:root:/root:/bin/bash\nbob:x:1000:1000::/home/bob:/bin/bash\n");
            Write("/usr/bin/run-parts", "#!/bin/sh\n");
            Write("/usr/lib/systemd/systemd-resolved", "#!/bin/sh\n");
            Write("/etc/crontab", "SHELL=/bin/sh\n17 * * * * root cd / && run-parts --report /etc/cron.hourly\n");
            Write("/usr/lib/systemd/system/systemd-resolved.service", "[Service]\nExecStart=!!/usr/lib/systemd/systemd-resolved\n");
            Write("/etc/profile", "if [ -d /etc/profile.d ]; then\n  for i in /etc/profile.d/*.sh; do . $i; done\nfi\nexport PATH\n");
            Write("/home/bob/.bashrc", "alias ll='ls -l'\nexport EDITOR=vi\n");
        }

        [Fact]
        public void CleanLinuxRootYieldsNothingAboveLow()
        {
            PlantCleanLinux();
            var found = Scan();
            Assert.Contains(found, f => f.EntryType == "CronLine" && f.ImagePath == "/usr/bin/run-parts" && f.ImageExists);
            Assert.Contains(found, f => f.EntryType == "SystemdUnit" && f.Name == "systemd-resolved");
            Assert.All(found, f => Assert.True(f.RiskScore < 30, $"{f.Name}: {string.Join("; ", f.Reasons.Select(r => r.ToString()))}"));
        }

        [Fact]
        public void PlantedLinuxPersistencePointingAtAHiddenBinaryIsFound()
        {
            PlantCleanLinux();
            const string payload = "/home/bob/.local/.mobile7";
            Write(payload, "\u007fELF relay");
            string cron = Write("/var/spool/cron/crontabs/bob", "# m h dom mon dow command\n@reboot " + payload + " --relay\n", DateTime.UtcNow);
            string unit = Write("/home/bob/.config/systemd/user/crashreportsaver.service", "[Service]\nExecStart=" + payload + "\n", DateTime.UtcNow);
            string xdg = Write("/home/bob/.config/autostart/crash.desktop", "[Desktop Entry]\nName=CrashReportSaver\nExec=sh -c \"" + payload + " -q\"\n", DateTime.UtcNow);
            string profile = Write("/home/bob/.bashrc", "alias ll='ls -l'\n(" + payload + " &)\nnohup ~/.local/.mobile7 >/dev/null 2>&1 &\n", DateTime.UtcNow);
            Write("/etc/ld.so.preload", "/tmp/.libhide.so\n", DateTime.UtcNow);

            var found = Scan().Where(f => f.RiskScore >= 30).ToList();
            SuspiciousAutorun cronHit = Assert.Single(found, f => f.EntryType == "CronLine");
            Assert.Equal(cron, cronHit.EntryPath);
            Assert.Equal(2, cronHit.LineNumber);
            Assert.Equal("@reboot " + payload + " --relay", cronHit.EntryText);
            Assert.Equal("bob", cronHit.Scope);
            Assert.True(cronHit.IsHidden);
            Assert.Equal(_root, cronHit.Root);

            SuspiciousAutorun unitHit = Assert.Single(found, f => f.EntryType == "SystemdUnit");
            Assert.Equal(unit, unitHit.EntryPath);
            Assert.Contains(unitHit.Reasons, r => r.Reason.StartsWith("entry name 'crashreportsaver' is unrelated", StringComparison.Ordinal));
            Assert.Equal(payload, Assert.Single(found, f => f.EntryType == "XdgAutostart").ImagePath);
            Assert.Equal(xdg, found.Single(f => f.EntryType == "XdgAutostart").EntryPath);

            var profileHits = found.Where(f => f.EntryType == "ProfileLine").ToList();
            Assert.Equal(new int?[] { 3 }, profileHits.Select(f => f.LineNumber).ToArray());
            Assert.All(profileHits, f => Assert.Equal(profile, f.EntryPath));
            Assert.All(profileHits, f => Assert.Equal(payload, f.ImagePath));

            SuspiciousAutorun preload = Assert.Single(found, f => f.EntryType == "LdPreload");
            Assert.Equal("/tmp/.libhide.so", preload.ImagePath);
            Assert.False(preload.ImageExists);
            Assert.All(found.Where(f => f.ImagePath == payload), f => Assert.Equal(found.First(f => f.ImagePath == payload).Sha256, f.Sha256));
        }

        [Fact]
        public void SystemdTimerRunsTheCommandOfItsService()
        {
            PlantCleanLinux();
            Write("/tmp/.x/beacon", "payload");
            Write("/etc/systemd/system/logrotate-extra.service", "[Service]\nType=oneshot\nExecStart=/tmp/.x/beacon --once\n");
            string timer = Write("/etc/systemd/system/logrotate-extra.timer", "[Timer]\nOnCalendar=hourly\nUnit=logrotate-extra.service\n");
            SuspiciousAutorun t = Assert.Single(Scan(), f => f.EntryPath == timer);
            Assert.Equal("SystemdUnit", t.EntryType);
            Assert.Equal("/tmp/.x/beacon --once", t.Command);
            Assert.Equal("/tmp/.x/beacon", t.ImagePath);
            Assert.True(t.IsHidden);
            Assert.Contains(t.Reasons, r => r.Reason.Contains("/tmp"));
        }

        [Fact]
        public void AbsoluteLinksInsideAnOfflineRootStayInsideTheRoot()
        {
            PlantCleanLinux();
            Write("/lib/systemd/system/updater.service", "[Service]\nExecStart=/usr/local/bin/updater\n");
            Directory.CreateDirectory(Path.Combine(_root, "etc/systemd/system"));
            File.CreateSymbolicLink(Path.Combine(_root, "etc/systemd/system/updater.service"), "/lib/systemd/system/updater.service");
            Write("/var/tmp/.u/updater", "payload inside the root");
            Directory.CreateDirectory(Path.Combine(_root, "usr/local/bin"));
            File.CreateSymbolicLink(Path.Combine(_root, "usr/local/bin/updater"), "/var/tmp/.u/updater");

            SuspiciousAutorun unit = Assert.Single(Scan(), f => f.EntryType == "SystemdUnit" && f.Name == "updater" && f.Location == "/etc/systemd/system");
            Assert.Equal("[Service]\nExecStart=/usr/local/bin/updater\n", unit.EntryText);
            Assert.True(unit.ImageExists);
            Assert.Equal(Path.Combine(_root, "var/tmp/.u/updater"), unit.Path);
        }

        [SkippableFact]
        public void WindowsTreeFromCorpusHivesTasksAndShortcuts()
        {
            Skip.If(Corpus.Root is null, "corpus is not present");
            void Copy(string corpusRelative, string target)
            {
                string src = Corpus.Artifacts(corpusRelative);
                Skip.If(!File.Exists(src), $"corpus file {corpusRelative} is not present");
                string dst = Path.Combine(_root, target);
                Directory.CreateDirectory(Path.GetDirectoryName(dst)!);
                File.Copy(src, dst);
            }

            Copy("mkorman90__regipy/_decompressed/regipy_tests/data/corrupted_system_hive", "Windows/System32/config/SYSTEM");
            Copy("log2timeline__plaso/test_data/NTUSER-RunTests.DAT", "Users/plaso/NTUSER.DAT");
            Copy("mkorman90__regipy/_decompressed/regipy_tests/data/NTUSER.DAT", "Users/vibranium/NTUSER.DAT");
            Copy("puffyCid__artemis/forensics/tests/test_data/windows/tasks/win10/VSIX Auto Update", "Windows/System32/Tasks/Microsoft/VisualStudio/VSIX Auto Update");
            Copy("puffyCid__artemis/forensics/tests/test_data/windows/tasks/win11/MobilityManager", "Windows/System32/Tasks/Microsoft/Windows/Ras/MobilityManager");
            Copy("puffyCid__artemis/forensics/tests/test_data/windows/tasks/win10/At1.job", "Windows/System32/Tasks/At1.job");
            Copy("Matmaus__LnkParse3/_decoded/tests/samples/sample13.lnk", "Users/plaso/AppData/Roaming/Microsoft/Windows/Start Menu/Programs/Startup/sample13.lnk");
            Directory.CreateDirectory(Path.Combine(_root, "Windows/System32/config"));

            var reporter = new RecordingReporter();
            var all = Scan(reporter);

            SuspiciousAutorun sidebar = Assert.Single(all, f => f.Scope == "plaso" && f.Name == "Sidebar");
            Assert.Equal(@"HKU\plaso\Software\Microsoft\Windows\CurrentVersion\Run", sidebar.EntryPath);
            Assert.Equal("RegistryValue", sidebar.EntryType);
            Assert.Equal(@"%ProgramFiles%\Windows Sidebar\Sidebar.exe /autoRun", sidebar.EntryText);
            Assert.Equal(@"C:\Program Files\Windows Sidebar\Sidebar.exe", sidebar.ImagePath);
            Assert.Equal("/autoRun", sidebar.Arguments);
            Assert.Equal(new DateTime(2012, 4, 5, 17, 3, 53, DateTimeKind.Utc).AddTicks(9920616), sidebar.LastWriteTime);
            Assert.Equal(Path.Combine(_root, "Users/plaso/NTUSER.DAT"), sidebar.HivePath);

            SuspiciousAutorun mct = Assert.Single(all, f => f.Scope == "plaso" && f.Name == "mctadmin");
            Assert.Equal(@"HKU\plaso\Software\Microsoft\Windows\CurrentVersion\RunOnce", mct.EntryPath);
            Assert.Equal(@"C:\Windows\System32\mctadmin.exe", mct.ImagePath);

            Assert.Contains(all, f => f.Scope == "vibranium" && f.Name == "Sidebar");

            var services = all.Where(f => f.EntryType == "Service").ToList();
            Assert.True(services.Count > 100, $"{services.Count} services");
            SuspiciousAutorun abios = Assert.Single(services, f => f.Name == "Abiosdsk");
            Assert.Equal(@"HKLM\SYSTEM\ControlSet001\Services\Abiosdsk", abios.EntryPath);
            Assert.Contains(reporter.Issues, i => i.Source.EndsWith("SYSTEM", StringComparison.Ordinal));

            SuspiciousAutorun vsix = Assert.Single(all, f => f.EntryType == "ScheduledTask");
            Assert.Equal("VSIX Auto Update", vsix.Name);
            Assert.Equal(@"C:\Program Files (x86)\Microsoft Visual Studio\Installer\resources\app\ServiceHub\Services\Microsoft.VisualStudio.Setup.Service\VSIXAutoUpdate.exe", vsix.ImagePath);
            Assert.Contains(reporter.Issues, i => i.Source.EndsWith("At1.job", StringComparison.Ordinal));

            SuspiciousAutorun lnk = Assert.Single(all, f => f.EntryType == "StartupFile");
            Assert.Equal(@"C:\Windows\System32\cmd.exe", lnk.Launcher);
            Assert.Equal(@"_\DeviceManager.exe", lnk.ImagePath);
            Assert.False(lnk.ImageExists);
        }
    }
}
