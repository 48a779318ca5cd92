using System;
using System.Diagnostics;
using System.IO;
using System.Linq;
using FluxForensics.Formats;
using FluxForensics.Tests.Usb;

namespace FluxForensics.Tests.Autorun
{
    /// <summary>The hive reader against the hives of plaso, regipy and yarp, with the values their own tests assert
    /// (corpus EXPECTED.md §8–11).</summary>
    public sealed class RegistryHiveCorpusTests
    {
        private static RegistryHive Load(string relative)
        {
            string path = Corpus.Artifacts(relative);
            Skip.If(Corpus.Root is null || !File.Exists(path), $"corpus file {relative} is not present");
            return RegistryHive.Load(path);
        }

        private static string Yarp(string name) => "msuhanov__yarp/hives_for_tests/" + name;

        [SkippableFact]
        public void PlasoRunTestsHasRunAndRunOnceWithLastWrittenTime()
        {
            RegistryHive hive = Load("log2timeline__plaso/test_data/NTUSER-RunTests.DAT");
            RegistryKey run = hive.OpenKey(@"Software\Microsoft\Windows\CurrentVersion\Run")!;
            Assert.NotNull(run);
            RegistryValue sidebar = Assert.Single(run.Values());
            Assert.Equal("Sidebar", sidebar.Name);
            Assert.Equal(RegistryValueType.ExpandString, sidebar.Type);
            Assert.Equal(@"%ProgramFiles%\Windows Sidebar\Sidebar.exe /autoRun", sidebar.String);
            Assert.Equal(new DateTime(2012, 4, 5, 17, 3, 53, DateTimeKind.Utc).AddTicks(9920616), run.LastWriteTime);

            RegistryKey runOnce = hive.OpenKey(@"Software\Microsoft\Windows\CurrentVersion\RunOnce")!;
            RegistryValue mct = Assert.Single(runOnce.Values());
            Assert.Equal("mctadmin", mct.Name);
            Assert.Equal(RegistryValueType.String, mct.Type);
            Assert.Equal(@"C:\Windows\System32\mctadmin.exe", mct.String);
            Assert.Equal(new DateTime(2012, 4, 5, 17, 3, 53, DateTimeKind.Utc).AddTicks(9920616), runOnce.LastWriteTime);
        }

        [SkippableFact]
        public void RegipyNtuserHeaderRunValueAndTotals()
        {
            RegistryHive hive = Load("mkorman90__regipy/_decompressed/regipy_tests/data/NTUSER.DAT");
            Assert.Equal(749u, hive.PrimarySequenceNumber);
            Assert.Equal(129782982453388850ul, hive.LastWrittenFileTime);
            Assert.Equal(733184u, hive.HiveBinsDataSize);
            Assert.Equal(@"?\C:\Users\vibranium\ntuser.dat", hive.FileName);
            Assert.Equal(476614345u, hive.Checksum);
            Assert.True(hive.ChecksumValid);
            Assert.Equal("CMI-CreateHive{6A1C4018-979D-4291-A7DC-7AED1C75B67C}", hive.Root!.Name);
            Assert.Equal(11u, hive.Root.SubkeyCount);

            RegistryKey run = hive.OpenKey(@"Software\Microsoft\Windows\CurrentVersion\Run")!;
            Assert.Equal(129779615948377168ul, run.LastWrittenFileTime);
            RegistryValue first = run.Values()[0];
            Assert.Equal("Sidebar", first.Name);
            Assert.Equal(RegistryValueType.ExpandString, first.Type);
            Assert.Equal(@"%ProgramFiles%\Windows Sidebar\Sidebar.exe /autoRun", first.String);

            var all = hive.Root.Descendants().ToList();
            Assert.Equal(1812, all.Count);
            var values = all.SelectMany(k => k.Values()).ToList();
            Assert.Equal(4094, values.Count);
            var byType = values.GroupBy(v => v.Type).ToDictionary(g => g.Key, g => g.Count());
            Assert.Equal(531, byType[RegistryValueType.Binary]);
            Assert.Equal(1336, byType[RegistryValueType.DWord]);
            Assert.Equal(93, byType[RegistryValueType.ExpandString]);
            Assert.Equal(303, byType[RegistryValueType.MultiString]);
            Assert.Equal(141, byType[RegistryValueType.None]);
            Assert.Equal(54, byType[RegistryValueType.QWord]);
            Assert.Equal(1636, byType[RegistryValueType.String]);
            Assert.Empty(hive.Issues);
        }

        [SkippableFact]
        public void RegipyCorruptedSystemHiveStillEnumeratesServices()
        {
            RegistryHive hive = Load("mkorman90__regipy/_decompressed/regipy_tests/data/corrupted_system_hive");
            Assert.Equal("$$$PROTO.HIV", hive.Root!.Name);
            RegistryKey services = hive.OpenKey(@"ControlSet001\Services")!;
            Assert.NotNull(services);
            RegistryKey abiosdsk = services.Subkeys()[0];
            Assert.Equal("Abiosdsk", abiosdsk.Name);
            // regipy prints microseconds through a float; one microsecond of difference is rounding.
            Assert.InRange((abiosdsk.LastWriteTime!.Value - new DateTime(2008, 10, 21, 17, 48, 29, DateTimeKind.Utc).AddTicks(3281240)).Ticks, -10, 10);
            Assert.Equal(0ul, abiosdsk.Value("ErrorControl")!.Number);
            Assert.Equal(RegistryValueType.DWord, abiosdsk.Value("ErrorControl")!.Type);
            Assert.Equal("Primary disk", abiosdsk.Value("Group")!.String);
            Assert.Equal(4ul, abiosdsk.Value("Start")!.Number);
            Assert.Equal(3ul, abiosdsk.Value("Tag")!.Number);
            Assert.Equal(1ul, abiosdsk.Value("Type")!.Number);
            Assert.True(services.Subkeys().Count > 100);
        }

        [SkippableFact]
        public void ArtemisWin10NtuserHeaderTypedUrlsAndKeyCount()
        {
            RegistryHive hive = Load("puffyCid__artemis/forensics/tests/test_data/windows/registry/win10/NTUSER.DAT");
            Assert.Equal(20u, hive.PrimarySequenceNumber);
            Assert.Equal(5u, hive.MinorVersion);
            Assert.Equal(32u, hive.RootCellOffset);
            Assert.Equal(196608u, hive.HiveBinsDataSize);
            Assert.Equal(@"\??\C:\Users\Default\NTUSER.DAT", hive.FileName);
            Assert.Equal(89477030u, hive.Checksum);
            Assert.True(hive.ChecksumValid);
            RegistryKey typed = hive.OpenKey(@"SOFTWARE\Microsoft\Internet Explorer\TypedURLs")!;
            RegistryValue url1 = typed.Value("url1")!;
            Assert.Equal(RegistryValueType.String, url1.Type);
            Assert.Equal("http://go.microsoft.com/fwlink/p/?LinkId=255141", url1.String);
            Assert.Equal(new DateTime(2019, 12, 7, 9, 16, 14, 599, DateTimeKind.Utc), new DateTime(typed.LastWriteTime!.Value.Ticks - typed.LastWriteTime.Value.Ticks % TimeSpan.TicksPerMillisecond, DateTimeKind.Utc));
            Assert.Equal(666, hive.Root!.Descendants().Count());
        }

        [SkippableFact]
        public void YarpEmptyHive()
        {
            RegistryHive hive = Load(Yarp("EmptyHive"));
            Assert.Equal(0u, hive.Root!.SubkeyCount);
            Assert.Empty(hive.Root.Subkeys());
            Assert.Equal(new DateTime(2017, 3, 4, 16, 37, 31, DateTimeKind.Utc), Truncate(hive.Root.LastWriteTime!.Value));
        }

        [SkippableFact]
        public void YarpBigDataHive()
        {
            RegistryKey key = Load(Yarp("BigDataHive")).OpenKey("key_with_bigdata")!;
            Assert.Equal(2u, key.ValueCount);
            RegistryValue def = key.Value("")!;
            Assert.Equal(16345, def.Data.Length);
            Assert.All(def.Data, b => Assert.Equal((byte)'1', b));
            RegistryValue v = key.Value("V")!;
            Assert.Equal(81725, v.Data.Length);
            Assert.All(v.Data, b => Assert.Equal((byte)'2', b));
        }

        [SkippableFact]
        public void YarpManySubkeysHiveUsesIndexRootAndFindsNestedKey()
        {
            RegistryHive hive = Load(Yarp("ManySubkeysHive"));
            RegistryKey key = hive.OpenKey("key_with_many_subkeys")!;
            Assert.Equal(5000u, key.SubkeyCount);
            Assert.Equal(5000, key.Subkeys().Count);
            RegistryKey found = hive.OpenKey(@"\key_with_maNY_sUBkeys\2119\Find_me")!;
            Assert.Equal(@"key_with_many_subkeys\2119\find_me", found.Path);
            Assert.Empty(hive.Issues);
        }

        [SkippableFact]
        public void YarpUnicodeHive()
        {
            RegistryHive hive = Load(Yarp("UnicodeHive"));
            Assert.Equal("Привет\\Ключ", hive.OpenKey("ПриВет\\КлюЧ")!.Path);
            Assert.Equal(144, hive.Root!.SecurityDescriptor!.Length);
        }

        [SkippableFact]
        public void YarpExtendedAsciiHiveCompressedNames()
        {
            RegistryHive hive = Load(Yarp("ExtendedASCIIHive"));
            RegistryKey key = hive.OpenKey("ëigenaardig")!;
            Assert.Equal("ëigenaardig", key.Name);
            Assert.Equal("ëigenaardig\0", key.Value("ëigenaardig")!.RawString);
        }

        [SkippableFact]
        public void YarpMultiSzHive()
        {
            RegistryKey key = Load(Yarp("MultiSzHive")).Root!.Subkeys()[0];
            Assert.Empty(key.Value("1")!.MultiString!);
            Assert.Equal(new[] { "привет", "как дела?" }, key.Value("2")!.MultiString!);
            Assert.Null(key.Value(""));
        }

        [SkippableFact]
        public void YarpStringValuesHive()
        {
            RegistryKey key = Load(Yarp("StringValuesHive")).Root!.Subkeys()[0];
            Assert.Equal("test тест\0", key.Value("")!.RawString);
            Assert.Equal("test"u8.ToArray(), key.Value("1")!.Data);
            Assert.Equal("test тест \0", key.Value("3")!.RawString);
        }

        [SkippableFact]
        public void YarpBogusKeyNames()
        {
            var names = Load(Yarp("BogusKeyNamesHive")).Root!.Subkeys().Select(k => k.Name).OrderBy(n => n, StringComparer.Ordinal).ToArray();
            Assert.Equal(new[] { "testnew\r\nne", "testnu\0l" }, names);
        }

        [SkippableTheory]
        [InlineData("BadSubkeyHive")]
        [InlineData("DuplicateSubkeysHive")]
        [InlineData("WrongOrderHive")]
        [InlineData("TruncatedNameHive")]
        public void YarpDamagedHivesGiveAParseIssueNotACrash(string name)
        {
            RegistryHive hive = Load(Yarp(name));
            Assert.NotNull(hive.Root);
            _ = hive.Root!.Descendants().SelectMany(k => k.Values()).Count();
            Assert.NotEmpty(hive.Issues);
        }

        [SkippableFact]
        public void IssuesMetDuringTheWalkReachTheCallback()
        {
            RegistryHive hive = Load(Yarp("BadSubkeyHive"));
            int before = hive.Issues.Count;
            var seen = new System.Collections.Generic.List<FluxForensics.Model.ParseIssue>();
            hive.IssueFound = seen.Add;
            _ = hive.Root!.Descendants().Count();
            Assert.NotEmpty(seen);
            Assert.Equal(hive.Issues.Count - before, seen.Count);
        }

        [SkippableFact]
        public void YarpGarbageAndEffectiveSize()
        {
            RegistryHive garbage = Load(Yarp("GarbageHive"));
            Assert.Equal(4096u, garbage.HiveBinsDataSize);
            Assert.Equal(1, garbage.HiveBinCount);
            RegistryHive effective = Load(Yarp("EffectiveSizeHive"));
            Assert.Equal(487424u, effective.EffectiveHiveBinsDataSize);
            Assert.NotEqual(effective.HiveBinsDataSize, effective.EffectiveHiveBinsDataSize);
        }

        [SkippableFact]
        public void YarpTruncatedHiveGivesAPartialTree()
        {
            RegistryHive hive = Load(Yarp("TruncatedHive"));
            Assert.NotEmpty(hive.Issues);
            var names = hive.Root is null ? new string[0] : hive.Root.Descendants().Select(k => k.Name).ToArray();
            Assert.Contains(names, n => n == "{6214ff27-7b1b-41a3-9ae4-5fb851ffed63}" || n == "key_with_many_subkeys" || n.All(char.IsDigit));
        }

        /// <summary>Every corpus hive, damaged or not, is read to the end quickly and without an exception.</summary>
        [SkippableFact]
        public void EveryCorpusHiveIsWalkedWithoutCrashOrHang()
        {
            Skip.If(Corpus.Root is null, "corpus is not present");
            var files = Directory.GetFiles(Corpus.Artifacts("msuhanov__yarp/hives_for_tests"), "*", SearchOption.AllDirectories)
                .Concat(Directory.GetFiles(Corpus.Artifacts("mkorman90__regipy/_decompressed"), "*", SearchOption.AllDirectories))
                .Where(f => !f.Contains(".LOG", StringComparison.OrdinalIgnoreCase)).ToList();
            Assert.True(files.Count > 20);
            foreach (string file in files)
            {
                var watch = Stopwatch.StartNew();
                RegistryHive hive = RegistryHive.Load(file);
                if (hive.Root is not null)
                {
                    foreach (RegistryKey k in hive.Root.Descendants())
                    {
                        foreach (RegistryValue v in k.Values())
                        {
                            _ = v.Text;
                        }
                    }
                }

                Assert.True(hive.Root is not null || hive.Issues.Count > 0, file);
                Assert.True(watch.Elapsed < TimeSpan.FromSeconds(10), file);
            }
        }

        private static DateTime Truncate(DateTime t) => new DateTime(t.Ticks - t.Ticks % TimeSpan.TicksPerSecond, DateTimeKind.Utc);
    }
}
