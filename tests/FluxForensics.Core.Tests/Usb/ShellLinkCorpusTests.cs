using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.Json;
using FluxForensics.Formats;

namespace FluxForensics.Tests.Usb
{
    /// <summary>Every LnkParse3 and plaso shortcut of the corpus against the values its upstream project asserts.</summary>
    public class ShellLinkCorpusTests
    {
        private const string LnkParse3 = "Matmaus__LnkParse3";

        public static IEnumerable<object[]> LnkParse3Samples()
        {
            string dir = Corpus.Artifacts(Path.Combine(LnkParse3, "_decoded", "tests", "samples"));
            if (!Directory.Exists(dir))
            {
                yield return new object[] { "(corpus missing)" };
                yield break;
            }

            foreach (var file in Directory.GetFiles(dir, "*.lnk").OrderBy(f => f, StringComparer.Ordinal))
            {
                yield return new object[] { Path.GetFileNameWithoutExtension(file) };
            }
        }

        [SkippableTheory]
        [MemberData(nameof(LnkParse3Samples))]
        public void LnkParse3SampleMatchesItsUpstreamJson(string sample)
        {
            Skip.If(Corpus.Root is null, "the shared corpus (<repo>/../shared/corpus) is not present");
            string lnkPath = Corpus.Artifacts(Path.Combine(LnkParse3, "_decoded", "tests", "samples", sample + ".lnk"));
            string jsonPath = Corpus.Artifacts(Path.Combine(LnkParse3, "tests", "json", sample + ".json"));
            byte[] bytes = File.ReadAllBytes(lnkPath);
            var link = ShellLinkFile.Parse(bytes, lnkPath, 1252);
            using var json = JsonDocument.Parse(File.ReadAllText(jsonPath));
            var root = json.RootElement;

            Assert.True(link.IsValid);
            Assert.Equal(root.GetProperty("size").GetInt32(), link.Size);
            Assert.Equal(root.GetProperty("header").GetProperty("r_link_flags").GetUInt32(), (uint)link.Flags);

            var data = root.GetProperty("data");
            Assert.Equal(Str(data, "command_line_arguments"), link.Arguments);
            Assert.Equal(Str(data, "icon_location"), link.IconLocation);
            Assert.Equal(Str(data, "working_directory"), link.WorkingDirectory);
            Assert.Equal(Str(data, "relative_path"), link.RelativePath);
            Assert.Equal(Str(data, "description"), link.Name);

            var info = root.GetProperty("link_info");
            Assert.Equal(Str(info, "local_base_path"), link.LocalBasePath);
            string? suffix = Str(info, "common_path_suffix");
            if (suffix is not null && !suffix.Contains('\uFFFD'))
            {
                // LnkParse3 writes U+FFFD for bytes its code page lacks; elsewhere the suffix must agree.
                Assert.Equal(suffix == string.Empty && link.CommonPathSuffix is null ? null : suffix, link.CommonPathSuffix == string.Empty && suffix == string.Empty ? string.Empty : link.CommonPathSuffix);
            }

            if (info.TryGetProperty("location_info", out var location))
            {
                Assert.Equal(Str(location, "volume_label"), link.VolumeLabel);
                if (Str(location, "drive_serial_number") is string serial)
                {
                    Assert.Equal(Convert.ToUInt32(serial, 16), link.DriveSerialNumber);
                }

                if (location.TryGetProperty("r_drive_type", out var driveType))
                {
                    Assert.Equal(driveType.GetUInt32(), link.DriveType);
                }

                if (Str(info, "location") == "Network")
                {
                    // LnkParse3 shows the network part only when the link is a network one.
                    Assert.Equal(Str(location, "net_name"), link.NetworkName);
                    Assert.Equal(Str(location, "device_name"), link.DeviceName);
                }
            }

            var extra = root.GetProperty("extra");
            if (extra.TryGetProperty("DISTRIBUTED_LINK_TRACKER_BLOCK", out var tracker))
            {
                Assert.Equal(Str(tracker, "machine_identifier"), link.MachineId);
                Assert.Equal(Str(tracker, "droid_volume_identifier"), Upper(link.DroidVolumeId));
                Assert.Equal(Str(tracker, "droid_file_identifier"), Upper(link.DroidFileId));
                Assert.Equal(Str(tracker, "birth_droid_volume_identifier"), Upper(link.BirthDroidVolumeId));
                Assert.Equal(Str(tracker, "birth_droid_file_identifier"), Upper(link.BirthDroidFileId));
            }
            else
            {
                Assert.Null(link.MachineId);
            }

            Assert.Equal(extra.TryGetProperty("ENVIRONMENTAL_VARIABLES_LOCATION_BLOCK", out var env) ? Str(env, "target_unicode") : null, link.EnvironmentTarget);
            Assert.Equal(extra.TryGetProperty("ICON_LOCATION_BLOCK", out var icon) ? Str(icon, "target_unicode") : null, link.IconEnvironmentTarget);
            Assert.Equal(extra.TryGetProperty("KNOWN_FOLDER_LOCATION_BLOCK", out var known) ? Str(known, "known_folder_id") : null, Upper(link.KnownFolderId));
            Assert.Equal(extra.TryGetProperty("SPECIAL_FOLDER_LOCATION_BLOCK", out var special) ? special.GetProperty("special_folder_id").GetUInt32() : null, link.SpecialFolderId);
            Assert.Equal(extra.TryGetProperty("CONSOLE_PROPERTIES_BLOCK", out _), link.HasConsoleBlock);
            if (extra.TryGetProperty("DARWIN_BLOCK", out var darwin))
            {
                Assert.Equal(Str(darwin, "darwin_data_unicode"), link.DarwinData);
            }
        }

        [SkippableFact]
        public void Sample13IsTheShortcutVirusLauncherWithCmdInEveryStructure()
        {
            Skip.If(Corpus.Root is null, "the shared corpus is not present");
            string lnkPath = Corpus.Artifacts(Path.Combine(LnkParse3, "_decoded", "tests", "samples", "sample13.lnk"));
            var link = ShellLinkFile.Parse(File.ReadAllBytes(lnkPath), lnkPath);
            Assert.Empty(link.Issues);
            Assert.Equal(@"C:\Windows\System32\cmd.exe", link.TargetPath);
            Assert.Equal(ShellLinkTargetSource.LinkInfo, link.TargetSource);
            Assert.Equal(@"C:\Windows\System32\cmd.exe", link.IdListPath);
            Assert.Equal(@"%windir%\system32\cmd.exe", link.EnvironmentTarget);
            Assert.Equal(@"/c start _ & _\DeviceManager.exe & exit", link.Arguments);
            Assert.Equal("w-51511", link.MachineId);
            Assert.Equal("Disk-C", link.VolumeLabel);
            Assert.Equal(0x9606dc0fu, link.DriveSerialNumber);
            Assert.Equal(7u, link.ShowCommand); // SW_SHOWMINNOACTIVE: the console window stays out of sight
            Assert.True(Detection.UsbTrapRules.IsLauncher(link));
            var arguments = Detection.UsbTrapRules.AnalyzeArguments(link.Arguments);
            Assert.Equal(new[] { @"_\DeviceManager.exe" }, arguments.DriveRelativePrograms);
            Assert.Equal(new[] { "_" }, arguments.OpenedFolders);
            var sid = Assert.Single(link.Properties);
            Assert.Equal("S-1-5-21-1650344431-3226446000-3174426739-3956", sid.Value);
        }

        [SkippableFact]
        public void Sample13OnAStickIsReportedAsATrapWithItsPayload()
        {
            Skip.If(Corpus.Root is null, "the shared corpus is not present");
            string lnk = Corpus.Artifacts(Path.Combine(LnkParse3, "_decoded", "tests", "samples", "sample13.lnk"));
            string stick = Path.Combine(Path.GetTempPath(), "flux-s13-" + Guid.NewGuid().ToString("N"));
            try
            {
                // The layout this launcher expects: everything moved into a folder "_", the payload inside it.
                Directory.CreateDirectory(Path.Combine(stick, "_"));
                File.WriteAllBytes(Path.Combine(stick, "_", "DeviceManager.exe"), new byte[] { (byte)'M', (byte)'Z', 0x90, 0 });
                File.Copy(lnk, Path.Combine(stick, "Removable Disk.lnk"));
                var reporter = new RecordingReporter();
                var trap = Assert.Single(new Host.UsbScanner(reporter).Scan(stick, recurse: false));
                Assert.Equal(Path.Combine(stick, "_", "DeviceManager.exe"), trap.PayloadPath);
                Assert.Equal(Path.Combine(stick, "_"), trap.HiddenFolderPath);
                Assert.Equal("w-51511", trap.MachineId);
                Assert.Equal(@"B:\", trap.WorkingDirectory);
                Assert.Equal(Detection.UsbTrapRules.FamilyShortcutLauncher, trap.Family);
                Assert.Empty(reporter.Errors);
            }
            finally
            {
                if (Directory.Exists(stick))
                {
                    Directory.Delete(stick, true);
                }
            }
        }

        [SkippableFact]
        public void RandomlyDamagedCorpusShortcutsNeverThrow()
        {
            Skip.If(Corpus.Root is null, "the shared corpus is not present");
            var files = Directory.GetFiles(Corpus.Artifacts(Path.Combine(LnkParse3, "_decoded", "tests", "samples")), "*.lnk")
                .Concat(Directory.GetFiles(Corpus.Artifacts(Path.Combine("log2timeline__plaso", "test_data")), "*.lnk"))
                .Where(f => new FileInfo(f).Length < 16384)
                .OrderBy(f => f, StringComparer.Ordinal)
                .ToArray();
            var random = new Random(20261128);
            int withIssues = 0;
            for (int round = 0; round < 3000; round++)
            {
                byte[] bytes = File.ReadAllBytes(files[round % files.Length]);
                // Overwrite a few bytes past the header with values that make lengths and offsets large, small or odd.
                int edits = 1 + random.Next(4);
                for (int e = 0; e < edits; e++)
                {
                    int at = ShellLinkFile.HeaderSize - 8 + random.Next(bytes.Length - ShellLinkFile.HeaderSize + 8);
                    bytes[at] = random.Next(4) switch { 0 => (byte)0xFF, 1 => (byte)0x00, 2 => (byte)0x7F, _ => (byte)random.Next(256) };
                }

                var link = ShellLinkFile.Parse(bytes, "mutated.lnk");
                withIssues += link.HasIssues ? 1 : 0;
                Assert.All(link.Issues, i => Assert.InRange(i.Offset, 0, bytes.Length));
            }

            Assert.True(withIssues > 0);
        }

        [SkippableFact]
        public void PlasoNeroInfoTool()
        {
            var link = Plaso("NeroInfoTool.lnk");
            Assert.Equal(0x70ECFA33u, link.DriveSerialNumber);
            Assert.Equal(3u, link.DriveType);
            Assert.Equal(0x20u, link.TargetAttributes);
            Assert.Equal(4635160u, link.TargetFileSize);
            Assert.Equal(@"C:\Program Files (x86)\Nero\Nero 9\Nero InfoTool\InfoTool.exe", link.LocalBasePath);
            Assert.Equal(link.LocalBasePath, link.TargetPath);
            Assert.Equal(@"..\..\..\..\..\..\..\..\Program Files (x86)\Nero\Nero 9\Nero InfoTool\InfoTool.exe", link.RelativePath);
            Assert.Equal("OS", link.VolumeLabel);
            Assert.Equal(@"C:\Program Files (x86)\Nero\Nero 9\Nero InfoTool", link.WorkingDirectory);
            Assert.Equal(new DateTime(2009, 6, 5, 20, 13, 20, DateTimeKind.Utc), link.TargetCreationTime);
            Assert.Equal("70:5a:b6:16:a5:f3", link.TrackerMacAddress);
            Assert.Equal(new Guid("958705b5-0d19-11df-9fe4-705ab616a5f3"), link.DroidFileId);
            Assert.Equal("-ScParameter=30002  ", link.Arguments);
            Assert.Empty(link.Issues);
        }

        [SkippableFact]
        public void PlasoUnpairedSurrogateIsKeptAsStored()
        {
            var link = Plaso("unpaired_surrogate.lnk");
            Assert.Equal("C:\\test\\unicode_U+0000d800_\ud800.exe", link.LocalBasePath);
            Assert.Equal(@"C:\test", link.WorkingDirectory);
            Assert.Equal(0x2CA3D1AEu, link.DriveSerialNumber);
            Assert.Equal(11264u, link.TargetFileSize);
            Assert.Contains(link.IdListItems, i => i.ShortName == "UNICOD~1.EXE");
        }

        [SkippableFact]
        public void PlasoExample()
        {
            var link = Plaso("example.lnk");
            Assert.Equal(@"@%windir%\system32\migwiz\wet.dll,-590", link.Name);
            Assert.Equal(@".\migwiz\migwiz.exe", link.RelativePath);
            Assert.Equal(@"%windir%\system32\migwiz", link.WorkingDirectory);
            Assert.Equal(@"%windir%\system32\migwiz\migwiz.exe", link.IconLocation);
            Assert.Equal(@"%windir%\system32\migwiz\migwiz.exe", link.EnvironmentTarget);
            Assert.Equal("00:1d:09:fa:5a:1c", link.TrackerMacAddress);
        }

        [SkippableFact]
        public void AnsiStringsFollowTheCodePageGiven()
        {
            Skip.If(Corpus.Root is null, "the shared corpus is not present");
            string path = Corpus.Artifacts(Path.Combine(LnkParse3, "_decoded", "tests", "samples", "sample6.lnk"));
            var link = ShellLinkFile.Parse(File.ReadAllBytes(path), path, 936);
            // LinkInfo stores the path in the writer's ANSI code page (GBK); the ID list stores the long name in UTF-16.
            Assert.Equal(link.IdListPath, link.LocalBasePath);
            Assert.EndsWith("播放器正在加载（拦截请允许）.exe", link.LocalBasePath);
        }

        [SkippableFact]
        public void ExtraDataBlockCutOffByTheEndOfFileIsAParseIssue()
        {
            Skip.If(Corpus.Root is null, "the shared corpus is not present");
            string path = Corpus.Artifacts(Path.Combine(LnkParse3, "_decoded", "tests", "samples", "extra_data.lnk"));
            var link = ShellLinkFile.Parse(File.ReadAllBytes(path), path);
            var issue = Assert.Single(link.Issues);
            Assert.Equal("ExtraData", issue.Record);
            Assert.Equal(1980, issue.Offset);
            Assert.Equal("desktop-eie2fiq", link.MachineId); // the blocks before the damage are kept
        }

        [SkippableFact]
        public void EveryCorpusShortcutCutAtEveryLengthParsesWithoutThrowing()
        {
            Skip.If(Corpus.Root is null, "the shared corpus is not present");
            var files = Directory.GetFiles(Corpus.Artifacts(Path.Combine(LnkParse3, "_decoded", "tests", "samples")), "*.lnk")
                .Concat(Directory.GetFiles(Corpus.Artifacts(Path.Combine("log2timeline__plaso", "test_data")), "*.lnk"));
            foreach (var file in files)
            {
                byte[] bytes = File.ReadAllBytes(file);
                var whole = ShellLinkFile.Parse(bytes, file);
                for (int length = 0; length < bytes.Length; length += Math.Max(1, bytes.Length / 300))
                {
                    var cut = ShellLinkFile.Parse(bytes.AsSpan(0, length), file);
                    // A cut file either loses only trailing optional data or says what it lost.
                    if (length < ShellLinkFile.HeaderSize)
                    {
                        Assert.False(cut.IsValid);
                        Assert.NotEmpty(cut.Issues);
                    }
                }

                Assert.True(whole.IsValid, file);
            }
        }

        private static ShellLink Plaso(string name)
        {
            Skip.If(Corpus.Root is null, "the shared corpus is not present");
            string path = Corpus.Artifacts(Path.Combine("log2timeline__plaso", "test_data", name));
            var link = ShellLinkFile.Parse(File.ReadAllBytes(path), path);
            Assert.True(link.IsValid);
            return link;
        }

        private static string? Str(JsonElement e, string name) =>
            e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

        private static string? Upper(Guid? g) => g?.ToString("D").ToUpperInvariant();
    }
}
