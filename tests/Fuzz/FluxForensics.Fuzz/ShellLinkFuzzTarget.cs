using System;
using System.Linq;
using System.Collections.Generic;
using FluxForensics.Detection;
using FluxForensics.Formats;

namespace FluxForensics.Fuzz
{
    /// <summary>The MS-SHLLINK reader, and the trap rules' reading of whatever arguments it returns.</summary>
    public sealed class ShellLinkFuzzTarget : IFuzzTarget
    {
        public string Name => "shelllink";

        public IEnumerable<string> SeedFiles(FuzzPaths paths) => paths.CorpusFiles("*.lnk");

        public void Run(byte[] input)
        {
            var link = ShellLinkFile.Parse(input, "fuzz.lnk", 1252);
            UsbTrapRules.IsLauncher(link);
            UsbTrapRules.HasFolderIcon(link);
        }
    }
}

namespace FluxForensics.Fuzz
{
    /// <summary>autorun.inf on a stick: the INI reader in every encoding, then the reading of each command line.</summary>
    public sealed class AutorunInfFuzzTarget : IFuzzTarget, IGeneratedSeeds
    {
        public string Name => "autorun-inf";

        public IEnumerable<string> SeedFiles(FuzzPaths paths) => paths.CorpusFiles("autorun.inf", "*.inf");

        public IEnumerable<byte[]> GeneratedSeeds(FuzzPaths paths)
        {
            const string conficker = "[AutoRun]\r\nopen=RECYCLER\\S-1-5-21-1482476501\\jwgkvsq.vmx\r\nicon=%SystemRoot%\\system32\\SHELL32.dll,4\r\n" +
                "shell\\open\\command=rundll32.exe RECYCLER\\S-1-5-21-1482476501\\jwgkvsq.vmx,ahaezedrn\r\nshellexecute=\"x y.exe\" /a\r\n";
            yield return System.Text.Encoding.ASCII.GetBytes(conficker);
            yield return new byte[] { 0xFF, 0xFE }.Concat(System.Text.Encoding.Unicode.GetBytes(conficker)).ToArray();
            yield return new byte[] { 0xEF, 0xBB, 0xBF }.Concat(System.Text.Encoding.UTF8.GetBytes("; c\n[autorun.amd64]\nopen=cmd /c start wscript.exe /e:VBScript.Encode a.txt & start explorer \u00A0\n")).ToArray();
        }

        public void Run(byte[] input)
        {
            var inf = AutorunInfParser.Parse(input, "fuzz.inf");
            foreach (var command in inf.Commands)
            {
                var arguments = UsbTrapRules.AnalyzeArguments(command.Value);
                foreach (var reference in arguments.DriveRelativePrograms.Concat(arguments.DriveLetterPrograms))
                {
                    UsbTrapRules.RelativeComponents(reference);
                    UsbTrapRules.IsFromRoot(reference);
                }
            }
        }
    }
}

namespace FluxForensics.Fuzz
{
    /// <summary>The volume label reader: a boot sector (NTFS or FAT) followed by the $Volume MFT record.</summary>
    public sealed class VolumeLabelFuzzTarget : IFuzzTarget, IGeneratedSeeds
    {
        public string Name => "volume-label";

        public IEnumerable<string> SeedFiles(FuzzPaths paths) => Enumerable.Empty<string>();

        /// <summary>An NTFS boot sector with a 1 KiB $Volume record holding $VOLUME_NAME "STICK" (update sequence applied),
        /// and a FAT32 boot sector labelled STICK.</summary>
        public IEnumerable<byte[]> GeneratedSeeds(FuzzPaths paths)
        {
            var ntfs = new byte[512 + 1024];
            System.Text.Encoding.ASCII.GetBytes("NTFS    ").CopyTo(ntfs, 3);
            System.Buffers.Binary.BinaryPrimitives.WriteUInt16LittleEndian(ntfs.AsSpan(0x0B), 512);
            ntfs[0x0D] = 8;
            System.Buffers.Binary.BinaryPrimitives.WriteInt64LittleEndian(ntfs.AsSpan(0x30), 4);
            ntfs[0x40] = 0xF6;
            var r = ntfs.AsSpan(512);
            System.Text.Encoding.ASCII.GetBytes("FILE").CopyTo(r);
            System.Buffers.Binary.BinaryPrimitives.WriteUInt16LittleEndian(r.Slice(4), 0x30);
            System.Buffers.Binary.BinaryPrimitives.WriteUInt16LittleEndian(r.Slice(6), 3);
            System.Buffers.Binary.BinaryPrimitives.WriteUInt16LittleEndian(r.Slice(0x30), 7);
            System.Buffers.Binary.BinaryPrimitives.WriteUInt16LittleEndian(r.Slice(510), 7);
            System.Buffers.Binary.BinaryPrimitives.WriteUInt16LittleEndian(r.Slice(1022), 7);
            System.Buffers.Binary.BinaryPrimitives.WriteUInt16LittleEndian(r.Slice(0x14), 0x38);
            System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(r.Slice(0x38), 0x60);
            System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(r.Slice(0x3C), 0x28);
            System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(r.Slice(0x38 + 0x10), 10);
            System.Buffers.Binary.BinaryPrimitives.WriteUInt16LittleEndian(r.Slice(0x38 + 0x14), 0x18);
            System.Text.Encoding.Unicode.GetBytes("STICK").CopyTo(r.Slice(0x38 + 0x18));
            System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(r.Slice(0x60), 0xFFFFFFFF);
            yield return ntfs;

            var fat = new byte[512];
            fat[0x42] = 0x29;
            System.Text.Encoding.ASCII.GetBytes("STICK      FAT32   ").CopyTo(fat, 0x47);
            fat[510] = 0x55;
            fat[511] = 0xAA;
            yield return fat;
        }

        public void Run(byte[] input)
        {
            var issues = new List<FluxForensics.Model.ParseIssue>();
            var boot = input.AsSpan(0, System.Math.Min(input.Length, VolumeLabelReader.BootSectorSize));
            VolumeLabelReader.FatLabel(boot);
            if (VolumeLabelReader.ParseNtfsBootSector(boot, "fuzz", issues) is not null && input.Length > 512)
            {
                VolumeLabelReader.NtfsVolumeName(input.AsSpan(512), "fuzz", 512, issues);
            }
        }
    }
}
