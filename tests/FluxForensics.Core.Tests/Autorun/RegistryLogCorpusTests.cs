using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Security.Cryptography;
using FluxForensics.Formats;
using FluxForensics.Tests.Usb;

namespace FluxForensics.Tests.Autorun
{
    /// <summary>Transaction-log recovery against the dirty hives of yarp and regipy, whose oracles are the hives Windows
    /// itself recovered (yarp) and the counts regipy's own test asserts (corpus EXPECTED.md, MANIFEST.tsv).</summary>
    public sealed class RegistryLogCorpusTests
    {
        private static string Yarp(string relative)
        {
            string path = Corpus.Artifacts("msuhanov__yarp/hives_for_tests/" + relative);
            Skip.If(Corpus.Root is null || !File.Exists(path), $"corpus file {relative} is not present");
            return path;
        }

        private static RegistryTransactionLog Log(string path) => RegistryTransactionLog.Parse(File.ReadAllBytes(path), path);

        [SkippableFact]
        public void NewDirtyHiveRecoversByteForByteToWhatWindows10Wrote()
        {
            string primary = Yarp("NewDirtyHive1/NewDirtyHive");
            byte[] before = File.ReadAllBytes(primary);
            RegistryHive hive = RegistryHive.Load(primary, applyLogs: true);

            Assert.NotNull(hive.Recovery);
            Assert.True(hive.Recovery!.Recovered, hive.Recovery.Summary);
            Assert.Equal(RegistryLogFormat.LogEntries, hive.Recovery.Format);
            Assert.Equal(4, hive.Recovery.EntriesApplied);
            Assert.Equal(new[] { "NewDirtyHive.LOG1", "NewDirtyHive.LOG2" }, hive.Recovery.AppliedLogs.Select(Path.GetFileName));
            Assert.Equal(5u, hive.Recovery.SequenceNumber);
            Assert.False(hive.IsDirty);
            Assert.True(hive.ChecksumValid);

            // yarp's test_dirty_new1: everything after the base block equals the hive Windows 10 recovered.
            byte[] windows = File.ReadAllBytes(Yarp("NewDirtyHive1/RecoveredHive_Windows10"));
            Assert.Equal(windows.Length, hive.Recovery.Data.Length);
            Assert.True(windows.AsSpan(4096).SequenceEqual(hive.Recovery.Data.AsSpan(4096)), "hive bins differ from RecoveredHive_Windows10");

            Assert.Null(hive.OpenKey("Key1"));
            Assert.Null(hive.OpenKey(@"Key2\Key2_1"));
            Assert.NotNull(hive.OpenKey(@"Key3\Key3_1"));
            Assert.NotNull(hive.OpenKey(@"key3\key3_3"));
            RegistryValue key3 = hive.OpenKey("Key3")!.Value(string.Empty)!;
            Assert.Equal(1441, key3.RawString.Length);
            Assert.Equal(new string('1', 1440), key3.String);

            // The primary alone still has the old tree, and the evidence file was not touched.
            Assert.NotNull(hive.Original!.OpenKey("Key1"));
            Assert.Equal(6001, hive.Original.OpenKey("Key1")!.Value(string.Empty)!.RawString.Length);
            Assert.True(before.AsSpan().SequenceEqual(File.ReadAllBytes(primary)));
        }

        [SkippableFact]
        public void NewDirtyHiveGivesTheSameResultWhicheverOrderTheLogsComeIn()
        {
            string primary = Yarp("NewDirtyHive1/NewDirtyHive");
            byte[] bytes = File.ReadAllBytes(primary);
            var log1 = Log(Yarp("NewDirtyHive1/NewDirtyHive.LOG1"));
            var log2 = Log(Yarp("NewDirtyHive1/NewDirtyHive.LOG2"));
            RegistryHive forward = RegistryHive.ParseWithLogs(bytes, primary, new[] { log1, log2 });
            RegistryHive reverse = RegistryHive.ParseWithLogs(bytes, primary, new[] { log2, log1 });
            Assert.Equal(4, reverse.Recovery!.EntriesApplied);
            Assert.True(forward.Recovery!.Data.AsSpan().SequenceEqual(reverse.Recovery.Data));
        }

        [SkippableFact]
        public void NewDirtyHiveWithACorruptedEntryStopsBeforeItAndSaysSo()
        {
            string primary = Yarp("NewDirtyHive1/NewDirtyHive");
            byte[] log2 = File.ReadAllBytes(Yarp("NewDirtyHive1/NewDirtyHive.LOG2"));
            // The second entry of LOG2 (sequence 4) starts at 8192; damage one byte of its dirty page.
            log2[8192 + 4000] ^= 0x5A;
            var logs = new[] { Log(Yarp("NewDirtyHive1/NewDirtyHive.LOG1")), RegistryTransactionLog.Parse(log2, "NewDirtyHive.LOG2") };
            Assert.Single(logs[1].Entries);
            RegistryHive hive = RegistryHive.ParseWithLogs(File.ReadAllBytes(primary), primary, logs);
            Assert.Equal(2, hive.Recovery!.EntriesApplied);
            Assert.Equal(3u, hive.Recovery.SequenceNumber);
            Assert.Contains(hive.Issues, i => i.Source == "NewDirtyHive.LOG2" && i.Offset == 8192 + 24 && i.Message.Contains("Marvin32"));
            byte[] windows = File.ReadAllBytes(Yarp("NewDirtyHive1/RecoveredHive_Windows10"));
            Assert.False(windows.AsSpan(4096).SequenceEqual(hive.Recovery.Data.AsSpan(4096)));
        }

        [SkippableFact]
        public void OldDirtyHiveRecoversKeyForKeyToWhatWindows7Wrote()
        {
            string primary = Yarp("OldDirtyHive/OldDirtyHive");
            RegistryHive hive = RegistryHive.Load(primary, applyLogs: true);
            Assert.True(hive.Recovery!.Recovered, hive.Recovery.Summary);
            Assert.Equal(RegistryLogFormat.DirtyVector, hive.Recovery.Format);
            Assert.Equal(new[] { "OldDirtyHive.LOG1" }, hive.Recovery.AppliedLogs.Select(Path.GetFileName));

            Assert.NotNull(hive.Original!.OpenKey(@"key_with_many_subkeys\1"));
            Assert.Null(hive.Original.OpenKey(@"key_with_many_subkeys\5000\find_me_in_log"));
            Assert.Null(hive.OpenKey(@"key_with_many_subkeys\1"));
            RegistryKey found = hive.OpenKey(@"key_with_many_subkeys\5000\find_me_in_log")!;
            Assert.NotNull(found);
            Assert.Equal(new[] { "a", "bb", "ccc" }, hive.OpenKey(@"key_with_many_subkeys\4500")!.Value("V")!.MultiString);

            RegistryHive windows = RegistryHive.Load(Yarp("OldDirtyHive/RecoveredHive_Windows7"));
            Assert.Equal(windows.OpenKey(@"key_with_many_subkeys\5000\find_me_in_log")!.LastWrittenFileTime, found.LastWrittenFileTime);
            Assert.Equal(Tree(windows), Tree(hive));
        }

        [SkippableFact]
        public void BadBaseBlockIsRecoveredFromTheLogsBaseBlock()
        {
            string primary = Yarp("BadBaseBlockHive/BadBaseBlockHive");
            Assert.False(RegistryHive.Load(primary).ChecksumValid);
            RegistryHive hive = RegistryHive.Load(primary, applyLogs: true);
            Assert.True(hive.Recovery!.Recovered, hive.Recovery.Summary);
            Assert.Equal(new[] { "BadBaseBlockHive.LOG1" }, hive.Recovery.AppliedLogs.Select(Path.GetFileName));
            Assert.Equal(3u, hive.MinorVersion);
            Assert.True(hive.ChecksumValid);
            Assert.NotNull(hive.OpenKey("key_with_many_subkeys"));
        }

        [SkippableFact]
        public void DirtyHiveWithoutLogsIsReadAsItIsAndSaysSo()
        {
            RegistryHive hive = RegistryHive.Load(Yarp("TruncatedDirtyHive"), applyLogs: true);
            Assert.False(hive.Recovery!.Recovered);
            Assert.Contains(hive.Issues, i => i.Message.Contains("no transaction log was found"));
        }

        /// <summary>regipy's test_ntuser_apply_transaction_logs: 132 dirty pages from LOG1, then compare_hives finds 527
        /// new keys and 60 new values. The counts are computed the way regdiff.py counts them.</summary>
        [SkippableFact]
        public void RegipyTransactionsNtuserGains527KeysAnd60Values()
        {
            string dir = Corpus.Artifacts("mkorman90__regipy/regipy_tests/data");
            Skip.If(Corpus.Root is null || !File.Exists(Path.Combine(dir, "transactions_NTUSER.DAT.xz")), "regipy transaction hives are not present");
            byte[] primary = Xz(Path.Combine(dir, "transactions_NTUSER.DAT.xz"));
            var log1 = RegistryTransactionLog.Parse(Xz(Path.Combine(dir, "transactions_ntuser.dat.log1.xz")), "transactions_ntuser.dat.log1");
            var log2 = RegistryTransactionLog.Parse(Xz(Path.Combine(dir, "transactions_ntuser.dat.log2.xz")), "transactions_ntuser.dat.log2");
            Assert.Empty(log1.Issues);
            Assert.Equal(23, log1.Entries.Count);

            RegistryHive hive = RegistryHive.ParseWithLogs(primary, "transactions_NTUSER.DAT", new[] { log1, log2 });
            // LOG2 starts at 562, before the hive's 566: Windows applies LOG1 alone, all of it.
            Assert.Equal(new[] { "transactions_ntuser.dat.log1" }, hive.Recovery!.AppliedLogs);
            Assert.Equal(132, hive.Recovery.PagesApplied);
            Assert.Equal(588u, hive.Recovery.SequenceNumber);

            RegistryHive before = RegistryHive.Parse(primary, "transactions_NTUSER.DAT");
            var keysBefore = Keys(before);
            var keysAfter = Keys(hive);
            int newKeys = keysAfter.Keys.Except(keysBefore.Keys).Count() + keysBefore.Keys.Except(keysAfter.Keys).Count();
            Assert.Equal(527, newKeys);

            int newValues = 0;
            foreach (var (path, key) in keysBefore)
            {
                if (!keysAfter.TryGetValue(path, out RegistryKey? after) || after.LastWrittenFileTime == key.LastWrittenFileTime)
                {
                    continue;
                }

                var a = ValueTuples(key);
                var b = ValueTuples(after);
                if (a.SetEquals(b))
                {
                    continue;
                }

                var namesA = a.Select(t => t.Name).ToHashSet();
                var namesB = b.Select(t => t.Name).ToHashSet();
                newValues += a.Count(t => !namesB.Contains(t.Name)) + b.Count(t => !namesA.Contains(t.Name));
            }

            Assert.Equal(60, newValues);
        }

        /// <summary>regdiff.py's value tuples: (name, data), a multi-string one tuple per string, empty data left out.</summary>
        private static HashSet<(string Name, string Data)> ValueTuples(RegistryKey key)
        {
            var set = new HashSet<(string, string)>();
            foreach (RegistryValue v in key.Values())
            {
                if (v.MultiString is { } m)
                {
                    foreach (string s in m.Where(s => s.Length > 0))
                    {
                        set.Add((v.Name, s));
                    }

                    continue;
                }

                string text = v.Type is RegistryValueType.DWord or RegistryValueType.QWord or RegistryValueType.DWordBigEndian
                    ? (v.Number == 0 ? string.Empty : v.Text)
                    : v.String ?? (v.Data.Length == 0 ? string.Empty : Convert.ToHexString(v.Data));
                if (text.Length > 0)
                {
                    set.Add((v.Name, text));
                }
            }

            return set;
        }

        private static Dictionary<string, RegistryKey> Keys(RegistryHive hive)
        {
            var map = new Dictionary<string, RegistryKey>(StringComparer.Ordinal);
            foreach (RegistryKey k in hive.Root!.Descendants().Skip(1))
            {
                map[k.Path] = k;
            }

            return map;
        }

        /// <summary>Every key with its last-written time and every value with its type and data, in walk order.</summary>
        private static List<string> Tree(RegistryHive hive)
        {
            var lines = new List<string>();
            foreach (RegistryKey k in hive.Root!.Descendants())
            {
                lines.Add($"{k.Path} @{k.LastWrittenFileTime}");
                foreach (RegistryValue v in k.Values())
                {
                    lines.Add($"{k.Path} :{v.Name} {v.RawType} {Convert.ToHexString(SHA256.HashData(v.Data))}");
                }
            }

            return lines;
        }

        /// <summary>The corpus keeps regipy's files xz-compressed as upstream does; xz decompresses them into memory.</summary>
        private static byte[] Xz(string path)
        {
            var psi = new ProcessStartInfo("xz", $"-dc \"{path}\"") { RedirectStandardOutput = true, UseShellExecute = false };
            Process? p = null;
            try
            {
                p = Process.Start(psi);
            }
            catch (System.ComponentModel.Win32Exception)
            {
            }

            Skip.If(p is null, "xz is not installed");
            using var ms = new MemoryStream();
            p!.StandardOutput.BaseStream.CopyTo(ms);
            p.WaitForExit();
            Assert.Equal(0, p.ExitCode);
            return ms.ToArray();
        }
    }
}
