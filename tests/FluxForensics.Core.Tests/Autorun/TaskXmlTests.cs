using System.IO;
using System.Linq;
using System.Text;
using FluxForensics.Formats;
using FluxForensics.Tests.Usb;

namespace FluxForensics.Tests.Autorun
{
    /// <summary>Task XML against the artemis task files (corpus EXPECTED.md §14) and files whose declared encoding lies.</summary>
    public sealed class TaskXmlTests
    {
        private static TaskDefinition Load(string relative)
        {
            string path = Corpus.Artifacts("puffyCid__artemis/forensics/tests/test_data/windows/tasks/" + relative);
            Skip.If(Corpus.Root is null || !File.Exists(path), $"corpus task {relative} is not present");
            return TaskXml.Parse(File.ReadAllBytes(path), path);
        }

        [SkippableFact]
        public void VsixAutoUpdate()
        {
            TaskDefinition t = Load("win10/VSIX Auto Update");
            Assert.True(t.IsValid);
            Assert.Equal(@"\Microsoft\VisualStudio\VSIX Auto Update", t.Uri);
            Assert.Equal("Microsoft VisualStudio", t.Author);
            TaskExecAction exec = Assert.Single(t.ExecActions);
            Assert.Equal(@"C:\Program Files (x86)\Microsoft Visual Studio\Installer\resources\app\ServiceHub\Services\Microsoft.VisualStudio.Setup.Service\VSIXAutoUpdate.exe", exec.Command);
            Assert.Empty(t.Issues);
        }

        [SkippableFact]
        public void MobilityManager()
        {
            TaskDefinition t = Load("win11/MobilityManager");
            Assert.Equal(@"Microsoft\Windows\Ras\MobilityManager", t.Uri);
            Assert.Equal("S-1-5-19", t.PrincipalUserIds[0]);
            Assert.Single(t.ComHandlers);
            Assert.Empty(t.ExecActions);
            Assert.Contains("&lt;QueryList&gt;", t.Text);
        }

        [SkippableFact]
        public void LegacyJobFileIsAnIssueNotACrash()
        {
            TaskDefinition t = Load("win10/At1.job");
            Assert.False(t.IsValid);
            Assert.NotEmpty(t.Issues);
        }

        [Theory]
        [InlineData("utf-8", "UTF-16")]
        [InlineData("utf-16", "UTF-8")]
        [InlineData("utf-16-nobom", "UTF-8")]
        public void DeclaredEncodingThatDoesNotMatchTheBytesIsIgnored(string actual, string declared)
        {
            string xml = $"<?xml version=\"1.0\" encoding=\"{declared}\"?><Task xmlns=\"http://schemas.microsoft.com/windows/2004/02/mit/task\">" +
                "<RegistrationInfo><URI>\\Привет</URI></RegistrationInfo><Actions><Exec><Command>C:\\a b\\x.exe</Command><Arguments>-q \"1 2\"</Arguments></Exec></Actions></Task>";
            byte[] bytes = actual switch
            {
                "utf-8" => Encoding.UTF8.GetBytes(xml),
                "utf-16" => Encoding.Unicode.GetPreamble().Concat(Encoding.Unicode.GetBytes(xml)).ToArray(),
                _ => Encoding.Unicode.GetBytes(xml),
            };
            TaskDefinition t = TaskXml.Parse(bytes, "mem");
            Assert.True(t.IsValid, string.Join("; ", t.Issues));
            Assert.Equal("\\Привет", t.Uri);
            Assert.Equal("\"C:\\a b\\x.exe\" -q \"1 2\"", t.ExecActions[0].CommandLine);
        }

        [Fact]
        public void GarbageAndEntitiesAreRefusedCleanly()
        {
            Assert.NotEmpty(TaskXml.Parse(Encoding.UTF8.GetBytes("<Task><Actions>"), "x").Issues);
            Assert.NotEmpty(TaskXml.Parse(Encoding.UTF8.GetBytes("<!DOCTYPE t [<!ENTITY a \"aaaa\">]><Task>&a;</Task>"), "x").Issues);
            Assert.NotEmpty(TaskXml.Parse(new byte[] { 1, 2, 3 }, "x").Issues);
        }
    }
}
