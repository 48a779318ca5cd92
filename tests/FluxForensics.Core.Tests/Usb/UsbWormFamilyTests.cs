using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using FluxForensics.Detection;
using FluxForensics.Fixtures.Usb;
using FluxForensics.Formats;
using FluxForensics.Host;
using FluxForensics.Model;

namespace FluxForensics.Tests.Usb
{
    /// <summary>The incident trap's relatives: what their shortcuts and autorun.inf say, and each family's stick on NTFS.</summary>
    public class UsbWormFamilyTests
    {
        private static ShellLink Link(string target, string? arguments, uint driveType = 3) =>
            ShellLinkFile.Parse(UsbWormLayout.Shortcut(target, arguments, driveType: driveType), "x.lnk");

        [Fact]
        public void JenxcusArgumentsRunAnEncodedScriptWithWscriptThenOpenTheFolder()
        {
            var a = UsbTrapRules.AnalyzeArguments("/c start wscript.exe /e:VBScript.Encode rkzbhcpeqm.txt & start explorer Homework & exit");
            Assert.Equal(new[] { "rkzbhcpeqm.txt" }, a.DriveRelativePrograms);
            Assert.Equal(new[] { "Homework" }, a.OpenedFolders);
            Assert.Equal("wscript", a.ScriptHost);
            Assert.Equal("VBScript.Encode", a.EncodedScriptEngine);
            Assert.True(a.ProgramBeforeFolder);
        }

        [Fact]
        public void AScriptHostAsTheTargetRunsItsFirstOperand()
        {
            var link = Link(@"C:\Windows\System32\wscript.exe", "//B \"Photos.js\"");
            Assert.True(UsbTrapRules.IsLauncher(link));
            var a = UsbTrapRules.AnalyzeLink(link);
            Assert.Equal(new[] { "Photos.js" }, a.DriveRelativePrograms);
            Assert.Equal("wscript", a.ScriptHost);
        }

        [Fact]
        public void RundllLoadsAFileOfAnyExtensionWithItsEntryPoint()
        {
            var link = Link(@"C:\Windows\system32\rundll32.exe", "~$WTrace.ini,_ShowFile@4");
            var a = UsbTrapRules.AnalyzeLink(link);
            Assert.Equal(new[] { "~$WTrace.ini" }, a.DriveRelativePrograms);
            Assert.Equal("rundll32", a.ScriptHost);
            Assert.Equal("_ShowFile@4", a.DllEntryPoint);
            Assert.True(UsbTrapRules.IsLauncher(link));
        }

        [Fact]
        public void DriveLettersOtherThanCAndDotDotNameProgramsOnTheStick()
        {
            var a = UsbTrapRules.AnalyzeArguments(@"/c start E:\svchost.exe & explorer E:\Work");
            Assert.Empty(a.DriveRelativePrograms);
            Assert.Equal(new[] { @"E:\svchost.exe" }, a.DriveLetterPrograms);
            Assert.Equal(new[] { @"E:\Work" }, a.OpenedFolders);
            Assert.True(UsbTrapRules.IsFromRoot(@"E:\svchost.exe"));
            Assert.Equal(new[] { "svchost.exe" }, UsbTrapRules.RelativeComponents(@"E:\svchost.exe"));

            var up = UsbTrapRules.AnalyzeArguments(@"/c start ..\svchost.exe & explorer 2026");
            Assert.Equal(new[] { @"..\svchost.exe" }, up.DriveRelativePrograms);
            Assert.Equal(new[] { "..", "svchost.exe" }, UsbTrapRules.RelativeComponents(up.DriveRelativePrograms[0]));

            // The system drive is never the stick.
            Assert.Empty(UsbTrapRules.AnalyzeArguments(@"/c C:\Tools\build.bat").DriveLetterPrograms);
        }

        [Theory]
        [InlineData("\u00A0", true)]
        [InlineData("\u00A0\u00A0", true)]
        [InlineData("\u200B", true)]
        [InlineData("\u3164", true)]
        [InlineData(" ", true)]
        [InlineData("_", false)]
        [InlineData("Docs", false)]
        [InlineData("a\u00A0", false)]
        public void BlankLookingNames(string name, bool blank)
        {
            Assert.Equal(blank, UsbTrapRules.IsBlankLookingName(name));
        }

        [Fact]
        public void AutorunInfCommandsAreReadFromTheAutorunSectionOnly()
        {
            string text = "; comment\r\n[Other]\r\nopen=nope.exe\r\n[AutoRun]\r\nOPEN=\"My Setup\\setup.exe\" /s\r\nicon=x.ico\r\nshell\\Explore\\command=run.exe go\r\nshell\\x\\label=Open\r\nshellexecute=a.vbs\r\nnonsense\r\n[autorun.amd64]\r\nopen=b.exe\r\n";
            var inf = AutorunInfParser.Parse(Encoding.ASCII.GetBytes(text), "autorun.inf");
            Assert.Equal(new[] { "OPEN", "shell\\Explore\\command", "shellexecute", "open" }, inf.Commands.Select(c => c.Key));
            Assert.Equal(new[] { "My Setup\\setup.exe", "run.exe", "a.vbs", "b.exe" }, inf.Commands.Select(c => c.Program));
            Assert.Equal(5, inf.Commands[0].Line);
            var issue = Assert.Single(inf.Issues);
            Assert.Contains("line 10", issue.Message);
        }

        [Fact]
        public void AutorunInfInUtf16WithBomReadsTheSame()
        {
            var bytes = new byte[] { 0xFF, 0xFE }.Concat(Encoding.Unicode.GetBytes("[autorun]\r\nopen=x\u00E9.exe\r\n")).ToArray();
            var inf = AutorunInfParser.Parse(bytes, "autorun.inf");
            Assert.Equal("x\u00E9.exe", Assert.Single(inf.Commands).Program);
            Assert.Empty(inf.Issues);
        }

        [Fact]
        public void AutorunInfThatIsHugeOrHasEndlessLinesIsCappedWithIssues()
        {
            var sb = new StringBuilder("[autorun]\n");
            sb.Append("open=").Append('a', AutorunInfParser.MaxLineLength + 10).Append('\n');
            for (int i = 0; i < 200; i++)
            {
                sb.Append("shellexecute=p").Append(i).Append(".exe\n");
            }

            sb.Append(' ', AutorunInfParser.MaxFileSize);
            var inf = AutorunInfParser.Parse(Encoding.ASCII.GetBytes(sb.ToString()), "autorun.inf");
            Assert.Equal(AutorunInfParser.MaxCommands, inf.Commands.Count);
            Assert.Contains(inf.Issues, i => i.Message.Contains("larger than"));
            Assert.Contains(inf.Issues, i => i.Message.Contains("longer than"));
            Assert.Contains(inf.Issues, i => i.Message.Contains("more than"));
        }

        [Fact]
        public void AutorunInfEveryTruncationParsesWithoutThrowing()
        {
            byte[] bytes = Encoding.Unicode.GetBytes("\uFEFF[AutoRun]\r\nopen=RECYCLER\\x.vmx\r\nshell\\open\\command=rundll32.exe RECYCLER\\x.vmx,a\r\n");
            for (int n = 0; n <= bytes.Length; n++)
            {
                var inf = AutorunInfParser.Parse(bytes.AsSpan(0, n), "autorun.inf");
                Assert.True(inf.Commands.Count <= 2);
            }
        }

        public static IEnumerable<object[]> FamilyNames() => UsbWormLayout.Families.Select(f => new object[] { f });

        [SkippableTheory]
        [MemberData(nameof(FamilyNames))]
        public void EachFamilyOnNtfsIsReportedWithPayloadAndFolderAndTheLookAlikesStayLow(string family)
        {
            string? why = ScratchMount.WhyNot("ntfs");
            Skip.If(why is not null, why);
            using var mount = ScratchMount.Ntfs();
            var layout = UsbWormLayout.Create(mount.MountPoint, family, "FLUXUSB");
            Assert.True(layout.TrySetAttributes(out string? error), error);

            var reporter = new RecordingReporter();
            var all = new UsbScanner(reporter).Scan(mount.MountPoint, recurse: true).ToList();
            Assert.Empty(reporter.Errors);
            Assert.Empty(reporter.Issues);
            var traps = all.Where(t => t.Severity >= Severity.Medium).ToList();
            Assert.Equal(layout.Traps.OrderBy(p => p, StringComparer.Ordinal), traps.Select(t => t.ShortcutPath).OrderBy(p => p, StringComparer.Ordinal));
            foreach (var benign in layout.BenignItems)
            {
                Assert.DoesNotContain(traps, t => t.ShortcutPath == benign || t.PayloadPath == benign || t.HiddenFolderPath == benign);
            }

            string expectedFamily = family switch
            {
                "gamarue" => UsbTrapRules.FamilyGamarue,
                "script" => UsbTrapRules.FamilyScriptWorm,
                "folder-exe" => UsbTrapRules.FamilyFolderProgram,
                "autorun" => UsbTrapRules.FamilyAutorun,
                _ => UsbTrapRules.FamilyShortcutLauncher,
            };
            foreach (var t in traps)
            {
                Assert.Equal(expectedFamily, t.Family);
                Assert.True(t.Severity >= Severity.High, $"{t.ShortcutPath}: {t.RiskScore} {string.Join("; ", t.Reasons.Select(r => r.ToString()))}");
                Assert.Equal(t.Reasons.Sum(r => r.Points) > 100 ? 100 : t.Reasons.Sum(r => r.Points), t.RiskScore);
                Assert.Contains(t.PayloadPath, layout.Payloads);
                Assert.Equal(Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(t.PayloadPath!))).ToLowerInvariant(), t.PayloadSha256);
                Assert.NotNull(t.PayloadLastWriteTime);
                Assert.NotNull(t.ShortcutLastWriteTime);
                Assert.Equal(FileAttributeMechanism.NtfsXattr, t.AttributeMechanism);
                if (family != "autorun")
                {
                    Assert.Contains(t.HiddenFolderPath, layout.HiddenFolders);
                    Assert.True(t.HiddenFolderIsHidden);
                }
            }

            var reasons = traps.SelectMany(t => t.Reasons.Select(r => r.Reason)).ToList();
            switch (family)
            {
                case "gamarue":
                    Assert.Contains("the drive's content was moved into a hidden folder whose name looks blank (U+00A0)", reasons);
                    Assert.Contains("arguments start a program from the drive (~$WTrace.ini) as a DLL through rundll32 (entry point _ShowFile@4)", reasons);
                    Assert.Contains("payload '~$WTrace.ini' is an executable behind a harmless-looking extension", reasons);
                    Assert.Equal(Path.Combine(mount.MountPoint, UsbWormLayout.BlankFolderName), Assert.Single(traps).HiddenFolderPath);
                    // The label is read from the NTFS volume itself ($Volume's $VOLUME_NAME), as Linux does not tell it for an ntfs-3g image.
                    Assert.Contains("shortcut is named after the volume label 'FLUXUSB', so it looks like the whole drive", reasons);
                    Assert.Equal("FLUXUSB", traps[0].VolumeLabel);
                    break;
                case "script":
                    Assert.Contains("the script is encoded (/e:VBScript.Encode), so its text cannot be read as it is", reasons);
                    Assert.Contains("arguments start a program from the drive (rkzbhcpeqm.txt) as a script through wscript", reasons);
                    Assert.Contains("arguments start a program from the drive (Photos.js) as a script through wscript", reasons);
                    Assert.Contains("payload is hidden", reasons);
                    break;
                case "folder-exe":
                    Assert.Equal(3, traps.Count);
                    Assert.All(traps, t => Assert.Equal(2, t.SameBytesAs.Length));
                    Assert.All(traps, t => Assert.Equal(t.ShortcutPath, t.PayloadPath));
                    Assert.Contains("program 'Docs.exe' is named after the hidden folder 'Docs' next to it, in its place", reasons);
                    Assert.Contains("the same bytes are the program of 2 other folders (Music.exe, Projects.exe): one worm copied once per folder", reasons);
                    Assert.DoesNotContain(all, t => t.ShortcutPath.EndsWith("setup.exe", StringComparison.Ordinal) || t.ShortcutPath.EndsWith("Tools.exe", StringComparison.Ordinal));
                    break;
                case "drive-letter":
                    Assert.All(traps, t => Assert.Equal(Path.Combine(mount.MountPoint, UsbWormLayout.DrivePayload), t.PayloadPath));
                    Assert.Contains(@"E:\svchost.exe", traps.Select(t => t.PayloadReference));
                    Assert.Contains(@"..\svchost.exe", traps.Select(t => t.PayloadReference));
                    Assert.Contains("the program is named by the drive letter the stick had (E:) and is on this drive", reasons);
                    Assert.Contains("the program is named by a path that climbs out of the shortcut's folder (..)", reasons);
                    Assert.Contains(@"target is a program on the drive itself (E:\svchost.exe)", reasons);
                    break;
                case "autorun":
                    var trap = Assert.Single(traps);
                    Assert.Equal("open, shell\\open\\command, shellexecute", trap.AutorunKey);
                    Assert.Contains("the file it starts, 'jwgkvsq.vmx', is hidden", reasons);
                    Assert.Contains("'jwgkvsq.vmx' is an executable behind a harmless-looking extension", reasons);
                    Assert.Contains("autorun.inf itself is hidden", reasons);
                    break;
            }

            // Every look-alike that is reported at all stays Info/Low.
            Assert.All(all.Except(traps), t => Assert.True(t.Severity <= Severity.Low, t.ShortcutPath));
        }

        [Fact]
        public void AVisibleSetupNamedInAutorunInfIsLow()
        {
            var facts = new UsbAutorunFacts("/m", "/m/autorun.inf", new[] { new AutorunCommand("open", "setup.exe", "setup.exe", 2) })
            {
                PayloadReference = "setup.exe",
                Payload = new UsbEntryFacts("/m/setup.exe") { Exists = true, IsHidden = false, LooksLikeExecutable = true, Sha256 = "AB" },
                AutorunFile = new UsbEntryFacts("/m/autorun.inf") { Exists = true, IsHidden = false },
            };
            var trap = UsbTrapRules.JudgeAutorun(facts)!;
            Assert.Equal(Severity.Low, trap.Severity);
            Assert.Equal(UsbTrapRules.FamilyAutorun, trap.Family);
        }

        [Fact]
        public void AProgramBesideAVisibleFolderOfTheSameNameAloneIsNoTrap()
        {
            var facts = new UsbFolderProgramFacts("/m", new UsbEntryFacts("/m/Tools.exe") { Exists = true, IsHidden = false, LooksLikeExecutable = true },
                new UsbEntryFacts("/m/Tools") { Exists = true, IsHidden = false });
            Assert.Null(UsbTrapRules.JudgeFolderProgram(facts));
            var svi = new UsbFolderProgramFacts("/m", new UsbEntryFacts("/m/System Volume Information.exe") { Exists = true },
                new UsbEntryFacts("/m/System Volume Information") { Exists = true, IsHidden = true });
            Assert.Null(UsbTrapRules.JudgeFolderProgram(svi));
        }

        [SkippableTheory]
        [InlineData("mkntfs", "-F -Q -q -L FLUXUSB")]
        [InlineData("mkfs.vfat", "-n FLUXUSB")]
        public void VolumeLabelsAreReadFromRealImages(string tool, string options)
        {
            string? path = new[] { "/usr/sbin/", "/sbin/", "/usr/bin/" }.Select(d => d + tool).FirstOrDefault(File.Exists);
            Skip.If(!OperatingSystem.IsLinux() || path is null, $"{tool} is needed to make the image (apt ntfs-3g, dosfstools)");
            string image = Path.Combine(Path.GetTempPath(), "flux-label-" + Guid.NewGuid().ToString("N") + ".img");
            try
            {
                using (var f = File.Create(image))
                {
                    f.SetLength(16 * 1024 * 1024);
                }

                var start = new System.Diagnostics.ProcessStartInfo(path!) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
                foreach (var o in options.Split(' '))
                {
                    start.ArgumentList.Add(o);
                }

                start.ArgumentList.Add(image);
                using (var p = System.Diagnostics.Process.Start(start)!)
                {
                    p.StandardOutput.ReadToEnd();
                    p.StandardError.ReadToEnd();
                    p.WaitForExit();
                    Assert.Equal(0, p.ExitCode);
                }

                CheckLabel(image, tool == "mkntfs" ? "ntfs" : "vfat");
            }
            finally
            {
                File.Delete(image);
            }
        }

        private static void CheckLabel(string image, string kind)
        {
            using var stream = new FileStream(image, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            var boot = new byte[512];
            Assert.Equal(512, stream.Read(boot, 0, 512));
            var issues = new List<ParseIssue>();
            if (kind == "vfat")
            {
                Assert.Equal("FLUXUSB", VolumeLabelReader.FatLabel(boot));
                return;
            }

            var geometry = VolumeLabelReader.ParseNtfsBootSector(boot, image, issues)!.Value;
            var record = new byte[geometry.RecordSize];
            stream.Position = geometry.RecordOffset(VolumeLabelReader.VolumeRecord);
            Assert.Equal(record.Length, stream.Read(record, 0, record.Length));
            Assert.Equal("FLUXUSB", VolumeLabelReader.NtfsVolumeName(record, image, 0, issues));
            Assert.Empty(issues);

            // A torn record (one stride's update sequence number overwritten) and every truncation are issues, never a throw.
            var torn = (byte[])record.Clone();
            torn[510] ^= 0xFF;
            Assert.Null(VolumeLabelReader.NtfsVolumeName(torn, image, 0, issues));
            Assert.Contains(issues, i => i.Message.Contains("torn"));
            for (int n = 0; n < record.Length; n += 7)
            {
                VolumeLabelReader.NtfsVolumeName(record.AsSpan(0, n), image, 0, issues);
                VolumeLabelReader.ParseNtfsBootSector(boot.AsSpan(0, Math.Min(n, 512)), image, issues);
            }
        }

        [Fact]
        public void ImplausibleNtfsBootSectorsAreIssues()
        {
            var boot = new byte[512];
            System.Text.Encoding.ASCII.GetBytes("NTFS    ").CopyTo(boot, 3);
            var issues = new List<ParseIssue>();
            System.Buffers.Binary.BinaryPrimitives.WriteUInt16LittleEndian(boot.AsSpan(0x0B), 513);
            Assert.Null(VolumeLabelReader.ParseNtfsBootSector(boot, "b", issues));
            System.Buffers.Binary.BinaryPrimitives.WriteUInt16LittleEndian(boot.AsSpan(0x0B), 512);
            boot[0x0D] = 8;
            System.Buffers.Binary.BinaryPrimitives.WriteInt64LittleEndian(boot.AsSpan(0x30), long.MaxValue);
            boot[0x40] = 0xF6;
            Assert.Null(VolumeLabelReader.ParseNtfsBootSector(boot, "b", issues));
            System.Buffers.Binary.BinaryPrimitives.WriteInt64LittleEndian(boot.AsSpan(0x30), 4);
            var g = VolumeLabelReader.ParseNtfsBootSector(boot, "b", issues)!.Value;
            Assert.Equal((4096L, 1024, 16384L + 3 * 1024), (g.ClusterSize, g.RecordSize, g.RecordOffset(3)));
            Assert.Equal(2, issues.Count);
            // Sectors a cluster above 0x80 is 2^(256 - n): 0x81 would be 2^127 (found by fuzzing: the shift overflowed).
            boot[0x0D] = 0x81;
            Assert.Null(VolumeLabelReader.ParseNtfsBootSector(boot, "b", issues));
            boot[0x0D] = 0xF4;
            Assert.Equal(4096L * 512, VolumeLabelReader.ParseNtfsBootSector(boot, "b", issues)!.Value.ClusterSize);
        }
    }
}
