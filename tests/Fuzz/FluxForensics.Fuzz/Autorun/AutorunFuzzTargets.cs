using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using FluxForensics.Formats;
using FluxForensics.Host;

namespace FluxForensics.Fuzz.Autorun
{
    /// <summary>The regf reader: parse, walk every key and read every value.</summary>
    public sealed class RegistryHiveTarget : IFuzzTarget
    {
        public string Name => "regf";

        public IEnumerable<string> SeedFiles(FuzzPaths paths) =>
            paths.CorpusFiles("*Hive", "NTUSER*.DAT", "corrupted_system_hive").Where(f => !f.Contains(".LOG"));

        public void Run(byte[] input)
        {
            RegistryHive hive = RegistryHive.Parse(input, "fuzz");
            if (hive.Root is null)
            {
                return;
            }

            foreach (RegistryKey key in hive.Root.Descendants())
            {
                _ = key.ClassName;
                _ = key.SecurityDescriptor;
                foreach (RegistryValue value in key.Values())
                {
                    _ = value.Text;
                    _ = value.MultiString;
                }
            }
        }
    }

    /// <summary>
    /// Single cells: the input becomes the root key cell (and whatever it points at, in the same bin) of an otherwise
    /// valid hive, so mutations reach the nk/vk/sk/list/big-data decoders instead of dying in the base block.
    /// </summary>
    public sealed class RegistryCellTarget : IFuzzTarget, IGeneratedSeeds
    {
        private const int BaseBlock = 4096;
        private const int BinHeader = 0x20;

        public string Name => "regf-cell";

        public IEnumerable<string> SeedFiles(FuzzPaths paths) => Enumerable.Empty<string>();

        /// <summary>The root cells of the corpus hives (size field stripped): real nk cells to start from.</summary>
        public IEnumerable<byte[]> GeneratedSeeds(FuzzPaths paths)
        {
            foreach (string file in new RegistryHiveTarget().SeedFiles(paths))
            {
                byte[] bytes = File.ReadAllBytes(file);
                if (bytes.Length < BaseBlock + BinHeader + 8 || bytes[0] != (byte)'r')
                {
                    continue;
                }

                long root = BaseBlock + System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(36));
                if (root + 4 > bytes.Length)
                {
                    continue;
                }

                int size = -System.Buffers.Binary.BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan((int)root));
                // The root cell and the cells after it in its bin (its lists and values are usually near).
                int take = (int)Math.Min(bytes.Length - root - 4, Math.Max(size, 0) + 2048);
                if (take > 0)
                {
                    yield return bytes.AsSpan((int)root + 4, take).ToArray();
                }
            }

            // A minimal nk cell: "nk", flags root, no subkeys, no values, name "R".
            var nk = new byte[0x4C + 1];
            nk[0] = (byte)'n';
            nk[1] = (byte)'k';
            nk[2] = 0x2C;
            nk[0x48] = 1;
            nk[0x4C] = (byte)'R';
            yield return nk;
        }

        public void Run(byte[] input) => new RegistryHiveTarget().Run(Wrap(input));

        /// <summary>A base block with a correct checksum, one hive bin, the input as the first cell of the bin.</summary>
        public static byte[] Wrap(byte[] cell)
        {
            int cellSize = (4 + cell.Length + 7) & ~7;
            int binSize = ((BinHeader + cellSize + 8 + 4095) / 4096) * 4096;
            var hive = new byte[BaseBlock + binSize];
            var d = hive.AsSpan();
            "regf"u8.CopyTo(d);
            System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(d.Slice(4), 1);
            System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(d.Slice(8), 1);
            System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(d.Slice(20), 1);
            System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(d.Slice(24), 5);
            System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(d.Slice(36), BinHeader);
            System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(d.Slice(40), (uint)binSize);
            uint sum = 0;
            for (int i = 0; i < 508; i += 4)
            {
                sum ^= System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(d.Slice(i));
            }

            System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(d.Slice(508), sum == 0 ? 1 : sum == uint.MaxValue ? uint.MaxValue - 1 : sum);
            var bin = d.Slice(BaseBlock);
            "hbin"u8.CopyTo(bin);
            System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(bin.Slice(8), (uint)binSize);
            System.Buffers.Binary.BinaryPrimitives.WriteInt32LittleEndian(bin.Slice(BinHeader), -cellSize);
            cell.CopyTo(bin.Slice(BinHeader + 4));
            // The rest of the bin is one free cell, as a real hive's would be.
            int free = binSize - BinHeader - cellSize;
            System.Buffers.Binary.BinaryPrimitives.WriteInt32LittleEndian(bin.Slice(BinHeader + cellSize), free);
            return hive;
        }
    }

    /// <summary>Task XML, whatever encoding the bytes are in.</summary>
    public sealed class TaskXmlTarget : IFuzzTarget
    {
        public string Name => "taskxml";

        public IEnumerable<string> SeedFiles(FuzzPaths paths) =>
            Directory.Exists(Path.Combine(paths.Corpus, "artifacts", "puffyCid__artemis"))
                ? Directory.EnumerateFiles(Path.Combine(paths.Corpus, "artifacts", "puffyCid__artemis"), "*", SearchOption.AllDirectories).Where(f => f.Contains("/tasks/"))
                : Enumerable.Empty<string>();

        public void Run(byte[] input)
        {
            TaskDefinition task = TaskXml.Parse(input, "fuzz");
            foreach (TaskExecAction action in task.ExecActions)
            {
                _ = CommandLine.ParseWindows(action.CommandLine);
            }
        }
    }

    /// <summary>Command lines as stored in Run values and unit files.</summary>
    public sealed class CommandLineTarget : IFuzzTarget, IGeneratedSeeds
    {
        public string Name => "cmdline";

        public IEnumerable<string> SeedFiles(FuzzPaths paths) => Enumerable.Empty<string>();

        /// <summary>
        /// Command lines of the shapes the autorun and USB code meet (afl-fuzz refuses an empty seed set, which is all a
        /// target without files would otherwise give it).
        /// </summary>
        public IEnumerable<byte[]> GeneratedSeeds(FuzzPaths paths) => new[]
        {
            @"""C:\Users\victim\AppData\Roaming\mobile7.exe""",
            @"C:\WINDOWS\system32\cmd.exe /c ""start %cd%\click.exe && %windir%\explorer %cd%\sources""",
            @"rundll32.exe ""C:\Program Files\x\a b.dll"",EntryPoint /q",
            @"%SystemRoot%\system32\svchost.exe -k netsvcs -p",
            @"C:\Program Files\Vendor App\app.exe --minimized ""quoted arg"" \""escaped\"" %A%",
            @"powershell.exe -NoP -W Hidden -Enc SQBFAFgA",
            "/usr/bin/env bash -c 'nohup /tmp/.x/mobile7 >/dev/null 2>&1 &'",
            "ExecStart=/opt/app/bin/run \"a b\" 'c d' e\\ f",
        }.Select(System.Text.Encoding.UTF8.GetBytes);

        public void Run(byte[] input)
        {
            string text = System.Text.Encoding.UTF8.GetString(input);
            _ = CommandLine.ParseWindows(text, new Dictionary<string, string> { ["A"] = "%A%%A%" }, p => p.Length % 3 == 0);
            _ = CommandLine.ParsePosix(text);
        }
    }
}

namespace FluxForensics.Fuzz.Autorun
{
    /// <summary>
    /// Transaction logs (.LOG1/.LOG2, HvLE and dirty-vector): the input is a log, applied to a small dirty hive whose
    /// sequence numbers follow the log's, and the recovered hive is walked. Each input runs twice: as it is (so the
    /// checksum and hash checks themselves are fuzzed) and with its base-block checksum and every HvLE hash repaired (so
    /// mutations reach the page references, the sequence chain, the recovery and the hive reader behind it).
    /// </summary>
    public sealed class RegistryLogTarget : IFuzzTarget
    {
        public string Name => "regf-log";

        public IEnumerable<string> SeedFiles(FuzzPaths paths) =>
            paths.CorpusFiles("*.LOG1", "*.LOG2", "*.LOG").Where(f => new FileInfo(f).Length > 0);

        public void Run(byte[] input)
        {
            Apply(input);
            byte[] repaired = (byte[])input.Clone();
            Repair(repaired);
            Apply(repaired);
        }

        private static void Apply(byte[] log)
        {
            var parsed = RegistryTransactionLog.Parse(log, "fuzz.LOG1");
            byte[] primary = RegistryCellTarget.Wrap(new byte[] { (byte)'n', (byte)'k', 0x2C, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF });
            uint sequence = log.Length >= 8 ? System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(log.AsSpan(4)) : 1;
            System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(primary.AsSpan(4), unchecked(sequence + 1));
            System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(primary.AsSpan(8), sequence);
            RegistryHive hive = RegistryHive.ParseWithLogs(primary, "fuzz", new[] { parsed });
            if (hive.Root is null)
            {
                return;
            }

            foreach (RegistryKey key in hive.Root.Descendants().Take(5000))
            {
                foreach (RegistryValue value in key.Values())
                {
                    _ = value.Text;
                    _ = hive.LogSourceOf(key, value);
                }
            }
        }

        /// <summary>Fixes what a mutation almost never gets right by chance: the XOR-32 checksum, equal sequence numbers
        /// and the Marvin32 hashes of each HvLE entry that fits the file.</summary>
        internal static void Repair(byte[] log)
        {
            if (log.Length < 512)
            {
                return;
            }

            var d = log.AsSpan();
            System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(d.Slice(8), System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(d.Slice(4)));
            uint sum = 0;
            for (int i = 0; i < 508; i += 4)
            {
                sum ^= System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(d.Slice(i));
            }

            System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(d.Slice(508), sum == 0 ? 1 : sum == uint.MaxValue ? uint.MaxValue - 1 : sum);
            long pos = 512;
            while (pos + 40 <= log.Length && d[(int)pos] == (byte)'H' && d[(int)pos + 1] == (byte)'v')
            {
                uint size = System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(d.Slice((int)pos + 4));
                if (size < 40 || size > log.Length - pos)
                {
                    return;
                }

                var entry = d.Slice((int)pos, (int)size);
                System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(entry.Slice(24), RegistryTransactionLog.Marvin32(entry.Slice(40), 0x82EF4D887A4E55C5));
                System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(entry.Slice(32), RegistryTransactionLog.Marvin32(entry.Slice(0, 32), 0x82EF4D887A4E55C5));
                pos += Math.Max(size, 512);
            }
        }
    }
}

namespace FluxForensics.Fuzz.Autorun
{
    /// <summary>The WMI repository scan (OBJECTS.DATA): consumer instances, bindings and filter queries.</summary>
    public sealed class WmiRepositoryTarget : IFuzzTarget, IGeneratedSeeds
    {
        public string Name => "wmi-objects";

        public IEnumerable<string> SeedFiles(FuzzPaths paths) => paths.CorpusFiles("OBJECTS.DATA");

        /// <summary>Heap-shaped records: a filter, both consumer kinds (ASCII and UTF-16 strings) and their bindings.</summary>
        public IEnumerable<byte[]> GeneratedSeeds(FuzzPaths paths)
        {
            static byte[] Heap(bool wide, params string[] strings)
            {
                var ms = new MemoryStream();
                ms.Write(new byte[24], 0, 24);
                for (int i = 0; i < strings.Length; i++)
                {
                    bool w = wide && i > 0;
                    ms.WriteByte(w ? (byte)1 : (byte)0);
                    byte[] b = w ? System.Text.Encoding.Unicode.GetBytes(strings[i] + "\0") : System.Text.Encoding.ASCII.GetBytes(strings[i] + "\0");
                    ms.Write(b, 0, b.Length);
                }

                return ms.ToArray();
            }

            foreach (bool wide in new[] { false, true })
            {
                yield return Heap(false, "__EventFilter", "F", "SELECT * FROM __InstanceCreationEvent WITHIN 5", "WQL")
                    .Concat(Heap(wide, "CommandLineEventConsumer", @"C:\x\a.exe -q", @"C:\x\a.exe", "C"))
                    .Concat(Heap(false, "__FilterToConsumerBinding", "CommandLineEventConsumer.Name=\"C\"", "__EventFilter.Name=\"F\""))
                    .Concat(Heap(wide, "ActiveScriptEventConsumer", "S", "VBScript", "CreateObject(\"WScript.Shell\").Run \"C:\\x\\b.exe\""))
                    .Concat(Heap(false, "__FilterToConsumerBinding", "ActiveScriptEventConsumer.Name=\"S\"", "__EventFilter.Name=\"F\""))
                    .ToArray();
            }
        }

        public void Run(byte[] input)
        {
            WmiRepository repo = WmiRepository.Parse(input, "fuzz");
            foreach (WmiEventConsumer c in repo.Consumers)
            {
                _ = c.ToString();
            }
        }
    }
}
