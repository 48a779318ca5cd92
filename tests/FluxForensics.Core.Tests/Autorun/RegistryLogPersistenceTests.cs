using System;
using System.IO;
using System.Linq;
using System.Security.Cryptography;
using System.Threading;
using FluxForensics.Fixtures.Autorun;
using FluxForensics.Formats;
using FluxForensics.Host;
using FluxForensics.Model;

namespace FluxForensics.Tests.Autorun
{
    /// <summary>A Run value written moments before the disk was imaged: only NTUSER.DAT.LOG1 holds it. Hives and log are
    /// built byte by byte (RegfWriter, RegfLogWriter) and read from a real folder laid out as a Windows volume.</summary>
    public sealed class RegistryLogPersistenceTests : IDisposable
    {
        private readonly string _root = Path.Combine(Path.GetTempPath(), "flux-regflog-" + Guid.NewGuid().ToString("n"));

        public RegistryLogPersistenceTests() => Directory.CreateDirectory(_root);

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

        private static RegfKey UserHive(bool withPayload)
        {
            var ntuser = new RegfKey("CMI-CreateHive{6A1C4018-979D-4291-A7DC-7AED1C75B67C}") { LastWritten = new DateTime(2024, 3, 1, 8, 0, 0, DateTimeKind.Utc) };
            RegfKey run = ntuser.Key(@"Software\Microsoft\Windows\CurrentVersion\Run");
            run.String("OneDrive", @"C:\Users\alice\AppData\Local\Microsoft\OneDrive\OneDrive.exe /background");
            if (withPayload)
            {
                run.String("CrashReportSaver", "\"C:\\Users\\alice\\AppData\\Roaming\\mobile7.exe\"");
                run.LastWritten = new DateTime(2026, 11, 30, 23, 58, 0, DateTimeKind.Utc);
            }

            return ntuser;
        }

        private void PlantMachine()
        {
            var software = new RegfKey("CMI-CreateHive{199DAFC2-6F16-4946-BF90-5A3FC3A60902}");
            software.Key(@"Microsoft\Windows NT\CurrentVersion\ProfileList\S-1-5-21-1-2-3-1001").String("ProfileImagePath", @"%SystemDrive%\Users\alice", expand: true);
            RegfWriter.WriteFile(Local("Windows/System32/config/SOFTWARE"), software);
            var system = new RegfKey("ROOT");
            system.Key("Select").DWord("Current", 1);
            system.Key(@"ControlSet001\Control\Session Manager").String("Dummy", "x");
            RegfWriter.WriteFile(Local("Windows/System32/config/SYSTEM"), system);
            File.WriteAllBytes(Local("Users/alice/AppData/Roaming/mobile7.exe"), AutorunTreeCommand.SmallPe("mobile7"));
        }

        [Fact]
        public void RunValueOnlyInTheLogIsFoundAndSaysWhichLog()
        {
            PlantMachine();
            byte[] before = RegfWriter.Write(UserHive(false), @"\??\C:\Users\alice\ntuser.dat");
            byte[] after = RegfWriter.Write(UserHive(true), @"\??\C:\Users\alice\ntuser.dat");
            var (primary, log) = RegfLogWriter.NewFormat(before, after, 41);
            string ntuser = Local("Users/alice/NTUSER.DAT");
            File.WriteAllBytes(ntuser, primary);
            File.WriteAllBytes(ntuser + ".LOG1", log);
            File.WriteAllBytes(ntuser + ".LOG2", Array.Empty<byte>());
            byte[] hashBefore = SHA256.HashData(File.ReadAllBytes(ntuser));

            // Without the log the hive file shows only OneDrive.
            RegistryHive plain = RegistryHive.Load(ntuser);
            Assert.True(plain.IsDirty);
            Assert.Null(plain.OpenKey(@"Software\Microsoft\Windows\CurrentVersion\Run")!.Value("CrashReportSaver"));

            var reporter = new RecordingReporter();
            var found = PersistenceInspector.Inspect(new PersistenceScanOptions { Root = _root }, null, reporter, CancellationToken.None).ToList();
            SuspiciousAutorun crash = Assert.Single(found, f => f.Name == "CrashReportSaver");
            Assert.Equal("NTUSER.DAT.LOG1", crash.RecoveredFromLog);
            Assert.Equal(@"C:\Users\alice\AppData\Roaming\mobile7.exe", crash.ImagePath);
            Assert.True(crash.ImageExists);
            Assert.Contains(crash.Reasons, r => r.Points == Detection.AutorunRules.RecoveredFromLogPoints && r.Reason.Contains("NTUSER.DAT.LOG1"));
            Assert.Equal(new DateTime(2026, 11, 30, 23, 58, 0, DateTimeKind.Utc), crash.LastWriteTime);

            SuspiciousAutorun oneDrive = Assert.Single(found, f => f.Name == "OneDrive");
            Assert.Null(oneDrive.RecoveredFromLog);
            Assert.DoesNotContain(reporter.Issues, i => i.Message.Contains("dirty"));

            // The evidence was only read.
            Assert.Equal(hashBefore, SHA256.HashData(File.ReadAllBytes(ntuser)));
        }

        [Fact]
        public void OldFormatDirtyVectorLogNamedDotLogIsAppliedToo()
        {
            PlantMachine();
            // Same size before and after: the Run value replaces a padding value of equal length, as a rewrite in place would.
            RegfKey before = UserHive(false);
            before.Key(@"Software\Microsoft\Windows\CurrentVersion\Run").LastWritten = new DateTime(2026, 11, 30, 23, 58, 0, DateTimeKind.Utc);
            before.Key(@"Software\Microsoft\Windows\CurrentVersion\Run").String("CrashReportSaver", "\"C:\\Users\\alice\\AppData\\Roaming\\notepad.exe\"");
            byte[] beforeBytes = RegfWriter.Write(before, @"\??\C:\Users\alice\ntuser.dat");
            byte[] afterBytes = RegfWriter.Write(UserHive(true), @"\??\C:\Users\alice\ntuser.dat");
            var (primary, log) = RegfLogWriter.OldFormat(beforeBytes, afterBytes, 77);
            string ntuser = Local("Users/alice/NTUSER.DAT");
            File.WriteAllBytes(ntuser, primary);
            File.WriteAllBytes(ntuser + ".LOG", log);

            RegistryHive hive = RegistryHive.Load(ntuser, applyLogs: true);
            Assert.Equal(RegistryLogFormat.DirtyVector, hive.Recovery!.Format);
            Assert.True(hive.Recovery.Recovered, hive.Recovery.Summary);
            Assert.Equal(77u, hive.Recovery.SequenceNumber);
            Assert.Equal(afterBytes.AsSpan(4096).ToArray(), hive.Recovery.Data.AsSpan(4096).ToArray());

            var found = PersistenceInspector.Inspect(new PersistenceScanOptions { Root = _root }, null, new RecordingReporter(), CancellationToken.None).ToList();
            SuspiciousAutorun crash = Assert.Single(found, f => f.Name == "CrashReportSaver");
            Assert.Equal(@"C:\Users\alice\AppData\Roaming\mobile7.exe", crash.ImagePath);
            Assert.Equal("NTUSER.DAT.LOG", crash.RecoveredFromLog);
        }

        [Fact]
        public void ALogWithABrokenHashIsNotAppliedAndIsReported()
        {
            PlantMachine();
            byte[] before = RegfWriter.Write(UserHive(false), @"\??\C:\Users\alice\ntuser.dat");
            byte[] after = RegfWriter.Write(UserHive(true), @"\??\C:\Users\alice\ntuser.dat");
            var (primary, log) = RegfLogWriter.NewFormat(before, after, 41);
            log[log.Length - 100] ^= 0xFF;
            string ntuser = Local("Users/alice/NTUSER.DAT");
            File.WriteAllBytes(ntuser, primary);
            File.WriteAllBytes(ntuser + ".LOG1", log);

            var reporter = new RecordingReporter();
            var found = PersistenceInspector.Inspect(new PersistenceScanOptions { Root = _root }, null, reporter, CancellationToken.None).ToList();
            Assert.DoesNotContain(found, f => f.Name == "CrashReportSaver");
            Assert.Contains(found, f => f.Name == "OneDrive" && f.RecoveredFromLog is null);
            Assert.Contains(reporter.Issues, i => i.Source.EndsWith("NTUSER.DAT.LOG1", StringComparison.Ordinal) && i.Offset == 512 + 24 && i.Message.Contains("Marvin32"));
            Assert.Contains(reporter.Issues, i => i.Message.Contains("no transaction log was applied"));
        }
    }
}
