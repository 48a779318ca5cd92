using System;
using System.Buffers.Binary;
using System.IO;
using System.Linq;
using FluxForensics.Detection;
using FluxForensics.Fixtures.Usb;
using FluxForensics.Formats;
using FluxForensics.Host;
using FluxForensics.Model;

namespace FluxForensics.Tests.Usb
{
    public class UsbTrapTests
    {
        private static byte[] IncidentShortcut(string folder) => ShellLinkWriter.Write(new ShellLinkSpec
        {
            TargetPath = UsbTrapLayout.InterpreterTarget,
            Arguments = UsbTrapLayout.TrapArguments(folder),
            IconLocation = @"%SystemRoot%\System32\SHELL32.dll",
            IconIndex = 3,
            MachineId = "tacert-victim",
        });

        [Fact]
        public void FixtureShortcutReadsBackAsWritten()
        {
            var link = ShellLinkFile.Parse(IncidentShortcut("sources"), "sources.lnk");
            Assert.Empty(link.Issues);
            Assert.Equal(UsbTrapLayout.InterpreterTarget, link.TargetPath);
            Assert.Equal(UsbTrapLayout.InterpreterTarget, link.IdListPath);
            Assert.Equal("/c \"start %cd%\\click.exe && %windir%\\explorer %cd%\\sources\"", link.Arguments);
            Assert.Equal("tacert-victim", link.MachineId);
            Assert.True(UsbTrapRules.IsLauncher(link));
            Assert.True(UsbTrapRules.HasFolderIcon(link));
        }

        [Fact]
        public void WormShortcutWithCmdOnlyInTheIdListStillHasItsTarget()
        {
            byte[] bytes = ShellLinkWriter.Write(new ShellLinkSpec
            {
                TargetPath = UsbTrapLayout.InterpreterTarget,
                Arguments = UsbTrapLayout.TrapArguments("sources"),
                WriteLinkInfo = false,
            });
            var link = ShellLinkFile.Parse(bytes, "sources.lnk");
            Assert.Equal(ShellLinkTargetSource.IdList, link.TargetSource);
            Assert.Equal(UsbTrapLayout.InterpreterTarget, link.TargetPath);
            Assert.True(UsbTrapRules.IsLauncher(link));
        }

        [Fact]
        public void ArgumentsOfTheIncidentStartThePayloadThenOpenTheFolder()
        {
            var a = UsbTrapRules.AnalyzeArguments(UsbTrapLayout.TrapArguments("Documents 2026"));
            Assert.Equal(new[] { @"%cd%\click.exe" }, a.DriveRelativePrograms);
            Assert.Equal(new[] { @"%cd%\Documents 2026" }, a.OpenedFolders);
            Assert.True(a.UsesStart);
            Assert.True(a.ProgramBeforeFolder);
            Assert.Equal(new[] { "Documents 2026" }, UsbTrapRules.RelativeComponents(a.OpenedFolders[0]));
        }

        [Theory]
        [InlineData(@"C:\Windows\System32\notepad.exe", @"C:\notes.txt")]
        [InlineData(@"C:\Windows\System32\cmd.exe", @"/k cd C:\Users")]
        [InlineData(@"C:\Windows\System32\cmd.exe", @"/c C:\Tools\build.bat")]
        [InlineData(@"C:\Program Files\Office\WINWORD.EXE", @"%cd%\report.docx")]
        public void OrdinaryShortcutsAreNotLaunchers(string target, string arguments)
        {
            var link = ShellLinkFile.Parse(ShellLinkWriter.Write(new ShellLinkSpec { TargetPath = target, Arguments = arguments }), "x.lnk");
            Assert.False(UsbTrapRules.IsLauncher(link));
            Assert.False(UsbTrapRules.IsCandidate(link, sameNameFolderExists: false));
        }

        [Fact]
        public void TruncatedShortcutIsAParseIssueAtEveryLength()
        {
            byte[] bytes = IncidentShortcut("sources");
            for (int length = 0; length < bytes.Length - 4; length++)
            {
                var link = ShellLinkFile.Parse(bytes.AsSpan(0, length), "cut.lnk");
                Assert.NotEmpty(link.Issues);
            }
        }

        [Theory]
        [InlineData("IDListSize")]
        [InlineData("LinkInfoSize")]
        [InlineData("ArgumentsCount")]
        [InlineData("ExtraBlockSize")]
        [InlineData("VolumeLabelOffset")]
        public void LengthsPointingPastTheEndAreParseIssues(string field)
        {
            byte[] bytes = IncidentShortcut("sources");
            var good = ShellLinkFile.Parse(bytes, "good.lnk");
            int idListSize = BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(0x4C));
            int linkInfo = 0x4C + 2 + idListSize;
            int strings = linkInfo + (int)BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(linkInfo));
            switch (field)
            {
                case "IDListSize":
                    BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(0x4C), 0xFFF0);
                    break;
                case "LinkInfoSize":
                    BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(linkInfo), 0x7FFFFFF0);
                    break;
                case "ArgumentsCount":
                    BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(strings), 0xFFFF);
                    break;
                case "ExtraBlockSize":
                    int extra = strings;
                    extra += 2 + 2 * BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(extra));
                    extra += 2 + 2 * BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(extra));
                    BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(extra), 0xFFFFFF00);
                    break;
                case "VolumeLabelOffset":
                    int volume = linkInfo + (int)BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(linkInfo + 12));
                    BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(volume + 12), 0x10000);
                    break;
            }

            var link = ShellLinkFile.Parse(bytes, "bad.lnk");
            Assert.Empty(good.Issues);
            Assert.NotEmpty(link.Issues);
            Assert.All(link.Issues, i => Assert.Equal("bad.lnk", i.Source));
            Assert.True(link.Issues[0].Offset >= 0 && link.Issues[0].Offset < bytes.Length);
        }

        [Fact]
        public void OverlongArgumentsAreFlaggedAndOverlongPathsNeverBecomeTheTarget()
        {
            string longPath = @"C:\" + string.Join(@"\", Enumerable.Repeat("abcdefghij", 30)) + @"\cmd.exe";
            var link = ShellLinkFile.Parse(ShellLinkWriter.Write(new ShellLinkSpec
            {
                TargetPath = longPath,
                WriteIdList = false,
                WorkingDirectory = new string('w', 300),
                EnvironmentTarget = @"%windir%\system32\cmd.exe",
            }), "long.lnk");
            Assert.Contains("LinkInfoPath", link.OverlongFields);
            Assert.Contains("WorkingDirectory", link.OverlongFields);
            Assert.Equal(ShellLinkTargetSource.EnvironmentVariables, link.TargetSource);
            Assert.Equal(@"%windir%\system32\cmd.exe", link.TargetPath);
        }

        [Fact]
        public void JudgeGivesEveryPointAReasonAndRespectsUnknownHiddenState()
        {
            var link = ShellLinkFile.Parse(IncidentShortcut("sources"), "/media/usb/sources.lnk");
            var known = new UsbShortcutFacts("/media/usb", "/media/usb/sources.lnk", link)
            {
                SameNameFolder = new UsbEntryFacts("/media/usb/sources") { Exists = true, IsHidden = true, IsSystem = true, Mechanism = FileAttributeMechanism.NtfsXattr, RawAttributes = 0x16 },
                Payload = new UsbEntryFacts("/media/usb/click.exe") { Exists = true, IsHidden = true, Sha256 = "AB", LooksLikeExecutable = true },
                PayloadReference = @"%cd%\click.exe",
            };
            var trap = UsbTrapRules.Judge(known)!;
            Assert.Equal(Severity.Critical, trap.Severity);
            Assert.Equal(trap.Reasons.Sum(r => r.Points) > 100 ? 100 : trap.Reasons.Sum(r => r.Points), trap.RiskScore);
            Assert.Contains(trap.Reasons, r => r.Reason.Contains("hidden folder 'sources'"));
            Assert.Contains(trap.Reasons, r => r.Reason.Contains("cmd.exe"));
            Assert.Contains(trap.Reasons, r => r.Reason.Contains("folder icon"));
            Assert.Equal("/media/usb/click.exe", trap.Path);
            Assert.Equal(trap.PayloadSha256, trap.Sha256);
            Assert.True(trap.IsHidden);

            known.SameNameFolder = new UsbEntryFacts("/media/usb/sources") { Exists = true, IsHidden = null, Mechanism = FileAttributeMechanism.DotName };
            var unknown = UsbTrapRules.Judge(known)!;
            Assert.Contains(unknown.Reasons, r => r.Reason.Contains("hidden state is unknown"));
            Assert.Null(unknown.HiddenFolderIsHidden);
        }

        [Fact]
        public void NormalHiddenFoldersAreNeverTheTrapFolder()
        {
            var link = ShellLinkFile.Parse(ShellLinkWriter.Write(new ShellLinkSpec { TargetPath = @"C:\Windows\explorer.exe" }), "x.lnk");
            var facts = new UsbShortcutFacts("/m", "/m/System Volume Information.lnk", link)
            {
                SameNameFolder = new UsbEntryFacts("/m/System Volume Information") { Exists = true, IsHidden = true, IsSystem = true },
            };
            Assert.Null(UsbTrapRules.Judge(facts));
        }

        [Fact]
        public void PlainFileSystemTrapIsFoundWithItsHiddenStateUnknown()
        {
            string root = NewTempDirectory();
            try
            {
                var layout = UsbTrapLayout.Create(root);
                var reporter = new RecordingReporter();
                var traps = new UsbScanner(reporter).Scan(root, recurse: false).ToList();
                Assert.Equal(layout.TrapShortcuts.OrderBy(p => p, StringComparer.Ordinal), traps.Select(t => t.ShortcutPath).OrderBy(p => p, StringComparer.Ordinal));
                Assert.Empty(reporter.Errors);
                Assert.All(traps, t =>
                {
                    Assert.Equal(layout.PayloadPath, t.PayloadPath);
                    Assert.Null(t.HiddenFolderIsHidden);
                    Assert.Equal(FileAttributeMechanism.DotName, t.AttributeMechanism);
                    Assert.Contains(t.Reasons, r => r.Reason.Contains("hidden state is unknown"));
                    Assert.Equal(Path.Combine(root, Path.GetFileNameWithoutExtension(t.ShortcutPath)), t.HiddenFolderPath);
                });
            }
            finally
            {
                Directory.Delete(root, true);
            }
        }

        [SkippableFact]
        public void NtfsTrapIsFoundExactlyWithHiddenSystemFoldersAndPayloadHash()
        {
            string? why = ScratchMount.WhyNot("ntfs");
            Skip.If(why is not null, why);
            using var mount = ScratchMount.Ntfs();
            var layout = UsbTrapLayout.Create(mount.MountPoint);
            Assert.True(layout.TrySetAttributes(out string? error), error);

            // Below the root, a second trap in a subfolder is found only with recursion.
            var nested = UsbTrapLayout.Create(Path.Combine(mount.MountPoint, "Music", "backup"));
            Assert.True(nested.TrySetAttributes(out error), error);

            var reporter = new RecordingReporter();
            var traps = new UsbScanner(reporter).Scan(mount.MountPoint, recurse: false).ToList();
            Assert.Equal(layout.TrapShortcuts.OrderBy(p => p, StringComparer.Ordinal), traps.Select(t => t.ShortcutPath).OrderBy(p => p, StringComparer.Ordinal));
            Assert.Empty(reporter.Errors);
            string expectedHash = Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(UsbTrapLayout.PayloadBytes())).ToLowerInvariant();
            Assert.All(traps, t =>
            {
                Assert.True(t.HiddenFolderIsHidden);
                Assert.True(t.HiddenFolderIsSystem);
                Assert.True(t.IsHidden);
                Assert.Equal(FileAttributeMechanism.NtfsXattr, t.AttributeMechanism);
                Assert.Equal(FileAttributeBits.Hidden | FileAttributeBits.System, t.PayloadAttributes!.Value & 0x6);
                Assert.Equal(FileAttributeBits.Directory, t.HiddenFolderAttributes!.Value & FileAttributeBits.Directory);
                Assert.Equal(expectedHash, t.PayloadSha256);
                Assert.Equal("tacert-victim", t.MachineId);
                Assert.Equal(Severity.Critical, t.Severity);
            });

            var all = new UsbScanner(reporter).Scan(mount.MountPoint, recurse: true).Select(t => t.ShortcutPath).OrderBy(p => p, StringComparer.Ordinal).ToList();
            Assert.Equal(layout.TrapShortcuts.Concat(nested.TrapShortcuts).OrderBy(p => p, StringComparer.Ordinal), all);
        }

        [Fact]
        public void DamagedShortcutsAndVanishedFoldersDoNotStopTheScan()
        {
            string root = NewTempDirectory();
            try
            {
                var layout = UsbTrapLayout.Create(root);
                byte[] good = File.ReadAllBytes(layout.TrapShortcuts[0]);
                File.WriteAllBytes(Path.Combine(root, "cut.lnk"), good.AsSpan(0, 100).ToArray());
                File.WriteAllBytes(Path.Combine(root, "notalink.lnk"), new byte[] { 1, 2, 3 });
                for (int i = 0; i < 5; i++)
                {
                    Directory.CreateDirectory(Path.Combine(root, "z" + i, "deeper"));
                }

                // The reporter removes a queued folder while the scan runs: that folder is an error, the rest goes on.
                var reporter = new VanishingReporter(Path.Combine(root, "z3"), atProgress: 2);
                var traps = new UsbScanner(reporter).Scan(root, recurse: true).ToList();
                Assert.Equal(layout.TrapShortcuts.Count, traps.Count);
                Assert.Contains(reporter.Issues, i => i.Source.EndsWith("cut.lnk", StringComparison.Ordinal));
                Assert.Contains(reporter.Issues, i => i.Source.EndsWith("notalink.lnk", StringComparison.Ordinal));
                var vanished = Assert.Single(reporter.Errors);
                Assert.Equal("DirectoryVanished", vanished.ErrorId);
                Assert.Equal(Path.Combine(root, "z3"), vanished.Target);
            }
            finally
            {
                Directory.Delete(root, true);
            }
        }

        [Fact]
        public void RemovedDriveEndsThatRootWithAnError()
        {
            string root = NewTempDirectory();
            UsbTrapLayout.Create(Path.Combine(root, "sub"));
            var reporter = new VanishingReporter(root);
            var traps = new UsbScanner(reporter).Scan(root, recurse: true).ToList();
            Assert.Empty(traps);
            var error = Assert.Single(reporter.Errors);
            Assert.Equal("DriveRemoved", error.ErrorId);
            Assert.Equal(root, error.Target);
            Assert.False(Directory.Exists(root));
        }

        [Fact]
        public void RemovableDrivesComeFromMountInfoAndTheSysfsRemovableFlag()
        {
            string sys = NewTempDirectory();
            try
            {
                // sdb is a removable stick with partition sdb1; sda a fixed disk; loop0 an image.
                Directory.CreateDirectory(Path.Combine(sys, "block", "sdb", "sdb1"));
                File.WriteAllText(Path.Combine(sys, "block", "sdb", "removable"), "1\n");
                File.WriteAllText(Path.Combine(sys, "block", "sdb", "sdb1", "partition"), "1\n");
                Directory.CreateDirectory(Path.Combine(sys, "block", "sda", "sda2"));
                File.WriteAllText(Path.Combine(sys, "block", "sda", "removable"), "0\n");
                File.WriteAllText(Path.Combine(sys, "block", "sda", "sda2", "partition"), "2\n");
                Directory.CreateDirectory(Path.Combine(sys, "class", "block"));
                Directory.CreateSymbolicLink(Path.Combine(sys, "class", "block", "sdb1"), Path.Combine(sys, "block", "sdb", "sdb1"));
                Directory.CreateSymbolicLink(Path.Combine(sys, "class", "block", "sda2"), Path.Combine(sys, "block", "sda", "sda2"));
                string mountInfo =
                    "22 1 8:2 / / rw,relatime shared:1 - ext4 /dev/sda2 rw\n" +
                    "40 22 8:17 / /media/alice/KINGSTON\\040USB rw,nosuid,nodev shared:20 - fuseblk /dev/sdb1 rw,user_id=0\n" +
                    "41 22 0:5 / /proc rw - proc proc rw\n";
                var drives = RemovableDrives.FromMountInfo(mountInfo, sys);
                var drive = Assert.Single(drives);
                Assert.Equal("/media/alice/KINGSTON USB", drive.Root);
                Assert.Equal("/dev/sdb1", drive.Device);
                Assert.Equal("fuseblk", drive.FileSystem);
            }
            finally
            {
                Directory.Delete(sys, true);
            }
        }

        [SkippableFact]
        public void AnUnreadableRemovableFlagIsAWarningNotASilentlyFixedDisk()
        {
            Skip.IfNot(OperatingSystem.IsLinux(), "reads /proc/self/mem to get a file that exists and cannot be read, as root too");
            string sys = NewTempDirectory();
            try
            {
                Directory.CreateDirectory(Path.Combine(sys, "block", "sdc"));
                File.CreateSymbolicLink(Path.Combine(sys, "block", "sdc", "removable"), "/proc/self/mem");
                var reporter = new RecordingReporter();
                var drives = RemovableDrives.FromMountInfo("40 22 8:32 / /media/stick rw - vfat /dev/sdc rw\n", sys, reporter);
                Assert.Empty(drives);
                var warning = Assert.Single(reporter.Warnings);
                Assert.Contains("Cannot read whether 'sdc' is removable", warning);
            }
            finally
            {
                Directory.Delete(sys, true);
            }
        }

        [SkippableFact]
        public void UnmountedStickMidScanIsDriveRemoved()
        {
            string? why = ScratchMount.WhyNot("ntfs");
            Skip.If(why is not null, why);
            using var mount = ScratchMount.Ntfs();
            UsbTrapLayout.Create(mount.MountPoint);
            for (int i = 0; i < 4; i++)
            {
                Directory.CreateDirectory(Path.Combine(mount.MountPoint, "folder" + i, "inner"));
            }

            // The root is listed, then the stick goes away: its mount point stays behind, empty.
            var reporter = new CallbackReporter(2, mount.Detach);
            var traps = new UsbScanner(reporter).Scan(mount.MountPoint, recurse: true).ToList();
            Assert.Equal(UsbTrapLayout.TrapFolders.Length, traps.Count); // the root's traps were reported before removal
            var error = Assert.Single(reporter.Errors);
            Assert.Equal("DriveRemoved", error.ErrorId);
            Assert.Equal(mount.MountPoint, error.Target);
        }

        private sealed class CallbackReporter : IFluxReporter
        {
            private readonly RecordingReporter _inner = new RecordingReporter();
            private readonly Action _action;
            private int _countdown;

            public CallbackReporter(int atProgress, Action action)
            {
                _countdown = atProgress;
                _action = action;
            }

            public System.Collections.Generic.List<FluxError> Errors => _inner.Errors;

            public void Progress(string activity, string status, double fraction)
            {
                if (--_countdown == 0)
                {
                    _action();
                }
            }

            public void Warning(string message) => _inner.Warning(message);
            public void Verbose(string message) => _inner.Verbose(message);
            public void Issue(ParseIssue issue) => _inner.Issue(issue);
            public void Error(FluxError error) => _inner.Error(error);
        }

        private static string NewTempDirectory()
        {
            string dir = Path.Combine(Path.GetTempPath(), "flux-usb-" + Guid.NewGuid().ToString("N"));
            Directory.CreateDirectory(dir);
            return dir;
        }

        /// <summary>Deletes a folder on the first progress report, as a user pulling a stick (or a cleaner) would.</summary>
        private sealed class VanishingReporter : IFluxReporter
        {
            private readonly RecordingReporter _inner = new RecordingReporter();
            private string? _victim;
            private int _countdown;

            public VanishingReporter(string victim, int atProgress = 1)
            {
                _victim = victim;
                _countdown = atProgress;
            }

            public System.Collections.Generic.List<ParseIssue> Issues => _inner.Issues;
            public System.Collections.Generic.List<FluxError> Errors => _inner.Errors;

            public void Progress(string activity, string status, double fraction)
            {
                if (_victim is not null && --_countdown == 0)
                {
                    Directory.Delete(_victim, true);
                    _victim = null;
                }
            }

            public void Warning(string message) => _inner.Warning(message);
            public void Verbose(string message) => _inner.Verbose(message);
            public void Issue(ParseIssue issue) => _inner.Issue(issue);
            public void Error(FluxError error) => _inner.Error(error);
        }
    }
}
