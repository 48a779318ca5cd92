using System;
using System.Linq;
using FluxForensics.Fixtures.Autorun;
using FluxForensics.Formats;

namespace FluxForensics.Tests.Autorun
{
    /// <summary>The OBJECTS.DATA consumer scan against repositories written byte by byte as the CIM repository lays them out.</summary>
    public sealed class WmiRepositoryTests
    {
        private static readonly DateTime Written = new DateTime(2026, 11, 30, 22, 0, 0, DateTimeKind.Utc);

        internal static byte[] IncidentRepository() => WmiRepositoryWriter.Write(new[]
        {
            WmiInstance.Filter("UpdaterFilter", "SELECT * FROM __InstanceModificationEvent WITHIN 60 WHERE TargetInstance ISA 'Win32_PerfFormattedData_PerfOS_System'"),
            WmiInstance.CommandLineConsumer("Updater", @"C:\Users\alice\AppData\Roaming\mobile7.exe -relay"),
            WmiInstance.Binding("CommandLineEventConsumer", "Updater", "UpdaterFilter"),
            WmiInstance.Filter("LogonFilter", "SELECT * FROM __InstanceCreationEvent WITHIN 10 WHERE TargetInstance ISA 'Win32_LogonSession'"),
            WmiInstance.ScriptConsumer("CrashReportScript", "VBScript",
                "Set s = CreateObject(\"WScript.Shell\")\r\ns.Run \"C:\\ProgramData\\crash\\saver.exe /q\", 0"),
            WmiInstance.Binding("ActiveScriptEventConsumer", "CrashReportScript", "LogonFilter"),
            WmiInstance.CommandLineConsumer("BVTConsumer", "cscript KernCap.vbs", @"C:\Windows\System32\cscript.exe"),
        }, Written);

        [Fact]
        public void FindsBothConsumerKindsWithTheirFiltersAndQueries()
        {
            byte[] bytes = IncidentRepository();
            Assert.Equal(0, bytes.Length % WmiRepositoryWriter.PageSize);
            WmiRepository repo = WmiRepository.Parse(bytes, "OBJECTS.DATA");
            Assert.Empty(repo.Issues);
            Assert.Equal(2, repo.Bindings.Count);
            Assert.Equal(3, repo.Consumers.Count);

            WmiEventConsumer updater = Assert.Single(repo.Consumers, c => c.Name == "Updater");
            Assert.Equal(WmiRepository.CommandLineConsumer, updater.ClassName);
            Assert.Equal(@"C:\Users\alice\AppData\Roaming\mobile7.exe -relay", updater.CommandLineTemplate);
            Assert.True(updater.IsBound);
            Assert.Equal("UpdaterFilter", updater.FilterName);
            Assert.StartsWith("SELECT * FROM __InstanceModificationEvent WITHIN 60", updater.FilterQuery);

            WmiEventConsumer script = Assert.Single(repo.Consumers, c => c.Name == "CrashReportScript");
            Assert.Equal(WmiRepository.ActiveScriptConsumer, script.ClassName);
            Assert.Equal("VBScript", script.ScriptingEngine);
            Assert.Contains("saver.exe /q", script.ScriptText);
            Assert.Equal("LogonFilter", script.FilterName);
            Assert.Contains("Win32_LogonSession", script.FilterQuery);

            WmiEventConsumer bvt = Assert.Single(repo.Consumers, c => c.Name == "BVTConsumer");
            Assert.False(bvt.IsBound);
            Assert.Equal("cscript KernCap.vbs", bvt.CommandLineTemplate);
            Assert.Equal(@"C:\Windows\System32\cscript.exe", bvt.ExecutablePath);
        }

        [Fact]
        public void ReadsUtf16HeapStringsToo()
        {
            var consumer = WmiInstance.CommandLineConsumer("Обновление", @"C:\Users\Пользователь\AppData\Roaming\x.exe");
            consumer.Wide = true;
            byte[] bytes = WmiRepositoryWriter.Write(new[] { consumer }, Written);
            WmiEventConsumer c = Assert.Single(WmiRepository.Parse(bytes, "OBJECTS.DATA").Consumers);
            Assert.Equal("Обновление", c.Name);
            Assert.Equal(@"C:\Users\Пользователь\AppData\Roaming\x.exe", c.CommandLineTemplate);
        }

        [Fact]
        public void TruncatedAndDamagedRepositoriesGiveWhatIsThereWithoutThrowing()
        {
            byte[] bytes = IncidentRepository();
            for (int cut = 0; cut < bytes.Length; cut += 97)
            {
                WmiRepository repo = WmiRepository.Parse(bytes.AsSpan(0, cut), "OBJECTS.DATA");
                Assert.True(repo.Consumers.Count <= 3);
            }

            var noisy = (byte[])bytes.Clone();
            var random = new Random(19);
            for (int i = 0; i < 2000; i++)
            {
                noisy[random.Next(noisy.Length)] = (byte)random.Next(256);
            }

            _ = WmiRepository.Parse(noisy, "OBJECTS.DATA");
            Assert.Empty(WmiRepository.Parse(new byte[WmiRepositoryWriter.PageSize * 4], "empty").Consumers);
        }
    }
}
