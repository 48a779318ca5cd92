using System;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;
using System.Text;
using System.Threading;
using FluxForensics.Model;
using FluxForensics.Remediation;

namespace FluxForensics.Tests.Remediation
{
    /// <summary>
    /// Stores written before the journal had types still restore. The journal lines here are written by hand, key for
    /// key, as the engine wrote them up to this version (one line per intent and per mark, <c>key=value</c> fields
    /// separated by tabs, the kind's fields after the common ones), so a change of the wire format breaks this test.
    /// </summary>
    public sealed class JournalCompatibilityTests : IDisposable
    {
        private const string RunId = "20261201-101500-a1b2c3";
        private readonly string _temp = Path.Combine(Path.GetTempPath(), "ff-oldjournal-" + Guid.NewGuid().ToString("N"));

        public JournalCompatibilityTests() => Directory.CreateDirectory(_temp);

        public void Dispose()
        {
            if (Directory.Exists(_temp))
            {
                Directory.Delete(_temp, recursive: true);
            }
        }

        private string RunDirectory => Path.Combine(_temp, "store", "runs", RunId);

        private static string Sha256(byte[] bytes) => RemediationFileSystem.Sha256Of(bytes);

        /// <summary>The journal's escaping of a backslash.</summary>
        private static string Esc(string text) => text.Replace("\\", "\\\\");

        [SkippableFact]
        public void AJournalOfTheUntypedFormatRestoresFilesLinesAndRegistryValues()
        {
            Skip.IfNot(RuntimeInformation.IsOSPlatform(OSPlatform.Linux), "the file half restores Unix modes and owners (the Linux lane)");
            string drive = Path.Combine(_temp, "root");
            Directory.CreateDirectory(Path.Combine(drive, "etc"));
            string payload = Path.Combine(drive, "mobile7");
            string crontab = Path.Combine(drive, "etc", "crontab");
            byte[] payloadBytes = Encoding.ASCII.GetBytes("MZ relay");
            string cronOriginal = "SHELL=/bin/sh\n@reboot root /mobile7\n# end\n";
            string cronChanged = "SHELL=/bin/sh\n# end\n";
            File.WriteAllText(crontab, cronChanged);
            var cronMeta = RemediationFileSystem.Stat(crontab);

            // What the run left on the disk: the payload renamed into data/, the crontab's original copied there.
            string data = Path.Combine(RunDirectory, "data");
            Directory.CreateDirectory(data);
            string payloadData = Path.Combine(data, "00002.quarantine");
            string cronData = Path.Combine(data, "00003.original");
            File.WriteAllBytes(payloadData, payloadBytes);
            File.WriteAllText(cronData, cronOriginal);
            var payloadMeta = RemediationFileSystem.Stat(payloadData);

            var registry = new InMemoryRegistry();
            const string run = @"HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Run";
            const string service = @"HKLM\SYSTEM\CurrentControlSet\Services\mobile7svc";
            registry.SetValue(service, "Start", new FluxForensics.Remediation.RegistryValueData("DWord", "4"));

            long at = new DateTime(2026, 12, 1, 10, 15, 0, DateTimeKind.Utc).Ticks;   // older journals wrote ticks
            string common(int seq, string kind, string action, string target) =>
                $"Seq={seq}\tOp=Quarantine\tKind={kind}\tAction={action}\tTarget={target}\tFinding=SuspiciousAutorun x\tRunId={RunId}\tBy=root\tAt={at}";
            string meta(FileMetadata m, long mode) =>
                $"Size={m.Size}\tMode={mode}\tUid={m.Uid}\tGid={m.Gid}\tATime=1700000000\tATimeNs=5\tMTime=1700000001\tMTimeNs=123456789";
            var journal = new StringBuilder()
                .Append("I\t").Append(common(1, "Process", "StopProcess", "mobile7")).Append("\tPid=4242\tStart=2026-12-01T10:14:00.0000000Z\tImage=").Append(payload).Append("\tName=mobile7\tTree=4242:0\n")
                .Append("M\tSeq=1\tOp=Quarantine\tState=Done\tDetail=1 process(es) stopped: 4242\n")
                .Append("I\t").Append(common(2, "File", "QuarantineFile", payload)).Append('\t').Append(meta(payloadMeta, 0x1ed /* 0755 */))
                .Append("\tSha256=").Append(Sha256(payloadBytes)).Append("\tData=").Append(payloadData).Append("\tMethod=rename\n")
                .Append("I\t").Append(common(3, "Line", "RemoveAutorun", crontab)).Append('\t').Append(meta(cronMeta, 0x1a4 /* 0644 */))
                .Append("\tLineText=@reboot root /mobile7\tLineNumber=2\tOriginal=").Append(cronData)
                .Append("\tOriginalSha256=").Append(Sha256(Encoding.ASCII.GetBytes(cronOriginal))).Append("\tChangedSha256=").Append(Sha256(Encoding.ASCII.GetBytes(cronChanged)))
                .Append("\tLineBytes=").Append(Convert.ToBase64String(Encoding.ASCII.GetBytes("@reboot root /mobile7\n"))).Append('\n')
                .Append("I\t").Append(common(4, "RegistryValue", "RemoveAutorun", Esc(run + @"\CrashReportSaver"))).Append("\tKey=").Append(Esc(run))
                .Append("\tValue=CrashReportSaver\tValueKind=String\tValueData=C:\\\\Users\\\\a\\\\mobile7.exe -silent\n")
                .Append("I\t").Append(common(5, "RegistryValue", "RemoveAutorun", Esc(service + @"\Start"))).Append("\tKey=").Append(Esc(service))
                .Append("\tValue=Start\tValueKind=DWord\tValueData=2\tNewKind=DWord\tNewData=4\n")
                .Append("M\tSeq=2\tOp=Quarantine\tState=Done\tDetail=8 bytes\n")
                .Append("M\tSeq=3\tOp=Quarantine\tState=Done\tDetail=line 2\n")
                .Append("M\tSeq=4\tOp=Quarantine\tState=Done\tDetail=String\n")
                .Append("M\tSeq=5\tOp=Quarantine\tState=Done\tDetail=was DWord 2\n");
            File.WriteAllText(Path.Combine(RunDirectory, "journal.log"), journal.ToString());

            using var store = QuarantineStore.Open(Path.Combine(_temp, "store"), create: true)!;
            var reporter = new RecordingReporter();
            var engine = new RemediationEngine(store, RemediationEngine.DefaultProcessControl(), registry, reporter, force: false);
            var items = engine.Items();
            Assert.Equal(new[] { "Process", "File", "Line", "RegistryValue", "RegistryValue" }, items.Select(i => i.Kind));
            Assert.All(items, i => Assert.NotNull(i.Record));
            var described = items.Select(RemediationEngine.Describe).ToList();
            Assert.Equal("0755", described[1].Mode);
            Assert.Equal(payloadData, described[1].StorePath);
            Assert.Equal("@reboot root /mobile7", described[2].RemovedText);
            Assert.Equal(new DateTime(2026, 12, 1, 10, 15, 0, DateTimeKind.Utc), described[3].QuarantinedAt);

            var restored = engine.Restore(items.Select(i => i.Id), (_, _) => true, CancellationToken.None);
            Assert.Empty(reporter.Errors);
            Assert.Equal("Skipped", restored.Single(r => r.QuarantineId == items[0].Id).Status);
            Assert.Equal(4, restored.Count(r => r.Status == "Restored"));
            Assert.Equal(payloadBytes, File.ReadAllBytes(payload));
#pragma warning disable CA1416 // skipped off Linux above
            Assert.Equal("755", Convert.ToString((int)File.GetUnixFileMode(payload), 8));
#pragma warning restore CA1416
            Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(1700000001).UtcDateTime.AddTicks(1234567), File.GetLastWriteTimeUtc(payload));
            Assert.Equal(cronOriginal, File.ReadAllText(crontab));
            Assert.Equal(@"C:\Users\a\mobile7.exe -silent", registry.GetValue(run, "CrashReportSaver")!.Data);
            Assert.Equal("2", registry.GetValue(service, "Start")!.Data);

            // The restores are journaled in the same format: the old run reads back with every item Restored.
            Assert.All(engine.Items().Skip(1), i => Assert.Equal(ItemStates.Restored, i.State));
        }

        [Fact]
        public void AKindFromANewerVersionAndAGarbledLineAreReportedNotFatal()
        {
            Directory.CreateDirectory(RunDirectory);
            File.WriteAllText(Path.Combine(RunDirectory, "journal.log"),
                $"I\tSeq=1\tOp=Quarantine\tKind=WmiInstance\tAction=RemoveAutorun\tTarget=root\\\\subscription:X\tRunId={RunId}\n" +
                "M\tSeq=1\tOp=Quarantine\tState=Done\n" +
                "garbage that is no record\n" +
                "M\tSeq=9\tOp=Quarantine\tState=Done\n");
            using var store = QuarantineStore.Open(Path.Combine(_temp, "store"), create: true)!;
            var reporter = new RecordingReporter();
            var engine = new RemediationEngine(store, RemediationEngine.DefaultProcessControl(), new InMemoryRegistry(), reporter, force: false);
            var item = Assert.Single(engine.Items());
            Assert.Null(item.Record);
            Assert.Equal("WmiInstance", RemediationEngine.Describe(item).Kind);
            Assert.Equal(2, reporter.Issues.Count);
            Assert.All(reporter.Issues, i => Assert.EndsWith("journal.log", i.Source));

            var results = engine.Restore(new[] { item.Id }, (_, _) => true, CancellationToken.None);
            Assert.Equal("Failed", Assert.Single(results).Status);
            Assert.Contains(reporter.Errors, e => e.ErrorId == "RestoreFailed" && e.Message.Contains("does not know"));
        }
    }
}
