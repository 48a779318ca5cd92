using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using FluxForensics.Host;

namespace FluxForensics.Fixtures.Usb
{
    /// <summary>
    /// The incident's USB trap laid out in a folder: a hidden <c>click.exe</c> in the root, folders made Hidden+System,
    /// one shortcut per folder named after it running <c>cmd.exe /c "start %cd%\click.exe &amp;&amp; %windir%\explorer %cd%\&lt;folder&gt;"</c>
    /// with a folder icon; plus benign items that must not be reported.
    /// </summary>
    public sealed class UsbTrapLayout
    {
        public const string PayloadName = "click.exe";
        public const string InterpreterTarget = @"C:\WINDOWS\system32\cmd.exe";
        public static readonly string[] TrapFolders = { "sources", "photos", "Documents 2026" };

        public string Root { get; private set; } = string.Empty;
        public string PayloadPath { get; private set; } = string.Empty;
        public List<string> TrapShortcuts { get; } = new List<string>();
        public List<string> HiddenFolders { get; } = new List<string>();
        public List<string> BenignItems { get; } = new List<string>();

        /// <summary>Paths whose Hidden/System attributes the layout wants set (folders, payload, System Volume Information).</summary>
        public List<string> HiddenSystemPaths { get; } = new List<string>();

        public static string TrapArguments(string folder) => $"/c \"start %cd%\\{PayloadName} && %windir%\\explorer %cd%\\{folder}\"";

        /// <summary>A deterministic file that looks like a PE image (MZ, DOS stub text, PE signature), 64 KiB.</summary>
        public static byte[] PayloadBytes()
        {
            var bytes = new byte[64 * 1024];
            uint state = 0x7A3C0D1Eu;
            for (int i = 0; i < bytes.Length; i++)
            {
                state = state * 1664525u + 1013904223u;
                bytes[i] = (byte)(state >> 24);
            }

            bytes[0] = (byte)'M';
            bytes[1] = (byte)'Z';
            BitConverter.GetBytes(0x80).CopyTo(bytes, 0x3C);
            Encoding.ASCII.GetBytes("This program cannot be run in DOS mode.\r\r\n$").CopyTo(bytes, 0x4E);
            Encoding.ASCII.GetBytes("PE\0\0").CopyTo(bytes, 0x80);
            return bytes;
        }

        public static UsbTrapLayout Create(string root, byte[]? payload = null)
        {
            var layout = new UsbTrapLayout { Root = root };
            Directory.CreateDirectory(root);

            layout.PayloadPath = Path.Combine(root, PayloadName);
            File.WriteAllBytes(layout.PayloadPath, payload ?? PayloadBytes());
            layout.HiddenSystemPaths.Add(layout.PayloadPath);

            foreach (var folder in TrapFolders)
            {
                string dir = Path.Combine(root, folder);
                Directory.CreateDirectory(dir);
                File.WriteAllText(Path.Combine(dir, "notes.txt"), $"The real contents of {folder}.\n");
                layout.HiddenFolders.Add(dir);
                layout.HiddenSystemPaths.Add(dir);

                string lnk = Path.Combine(root, folder + ".lnk");
                File.WriteAllBytes(lnk, ShellLinkWriter.Write(new ShellLinkSpec
                {
                    TargetPath = InterpreterTarget,
                    Arguments = TrapArguments(folder),
                    IconLocation = @"%SystemRoot%\System32\SHELL32.dll",
                    IconIndex = 3,
                    ShowCommand = 7,
                    EnvironmentTarget = @"%windir%\system32\cmd.exe",
                    MachineId = "tacert-victim",
                    VolumeLabel = "OS",
                    TargetSize = 302592,
                }));
                layout.TrapShortcuts.Add(lnk);
            }

            // Benign: an ordinary shortcut to a document, a visible folder with a shortcut that opens it, and the hidden
            // System Volume Information Windows keeps on every NTFS/FAT stick.
            string report = Path.Combine(root, "Quarterly report.lnk");
            File.WriteAllBytes(report, ShellLinkWriter.Write(new ShellLinkSpec
            {
                TargetPath = @"C:\Users\alice\Documents\Quarterly report.docx",
                WorkingDirectory = @"C:\Users\alice\Documents",
                RelativePath = @"..\..\..\Users\alice\Documents\Quarterly report.docx",
                MachineId = "alice-laptop",
                TargetSize = 48213,
            }));
            layout.BenignItems.Add(report);

            string music = Path.Combine(root, "Music");
            Directory.CreateDirectory(music);
            File.WriteAllText(Path.Combine(music, "playlist.m3u"), "#EXTM3U\n");
            layout.BenignItems.Add(music);
            string musicLink = Path.Combine(root, "Music.lnk");
            File.WriteAllBytes(musicLink, ShellLinkWriter.Write(new ShellLinkSpec
            {
                TargetPath = @"E:\Music",
                TargetIsDirectory = true,
                DriveType = 2,
                MachineId = "alice-laptop",
            }));
            layout.BenignItems.Add(musicLink);

            string svi = Path.Combine(root, "System Volume Information");
            Directory.CreateDirectory(svi);
            File.WriteAllText(Path.Combine(svi, "IndexerVolumeGuid"), "{5A4F2C10-8E3B-4D21-9C7A-0B1E2D3F4A5B}");
            layout.BenignItems.Add(svi);
            layout.HiddenSystemPaths.Add(svi);

            File.WriteAllText(Path.Combine(root, "readme.txt"), "A stick that met the fast-flux relay host.\n");
            return layout;
        }

        /// <summary>Sets Hidden+System on every path that should have them; false with the first failure.</summary>
        public bool TrySetAttributes(out string? error)
        {
            foreach (var path in HiddenSystemPaths)
            {
                if (!FileAttributeReader.TrySetHiddenSystem(path, hidden: true, system: true, out error))
                {
                    return false;
                }
            }

            error = null;
            return true;
        }
    }

    /// <summary><c>usb-trap &lt;root&gt; [--no-attributes]</c>: lays out the incident's USB trap.</summary>
    public sealed class UsbTrapCommand : IFixtureCommand
    {
        public string Name => "usb-trap";
        public string Usage => "usb-trap ROOT [--no-attributes] [--malware FILE] (the incident's shortcut trap + benign items; Hidden+System unless --no-attributes)";

        public int Run(string[] args)
        {
            byte[]? malware = SharedMalware.Read(args);
            int malwareAt = Array.IndexOf(args, SharedMalware.OptionName);
            string? root = args.Where((a, i) => malwareAt < 0 || (i != malwareAt && i != malwareAt + 1)).FirstOrDefault(a => !a.StartsWith("--", StringComparison.Ordinal));
            bool noAttributes = args.Contains("--no-attributes");
            if (root is null || args.Any(a => a.StartsWith("--", StringComparison.Ordinal) && a != "--no-attributes" && a != SharedMalware.OptionName))
            {
                Console.Error.WriteLine("usage: " + Usage);
                return 64;
            }

            var layout = UsbTrapLayout.Create(Path.GetFullPath(root), malware);
            if (!noAttributes && !layout.TrySetAttributes(out string? error))
            {
                Console.Error.WriteLine($"usb-trap: cannot set Hidden/System ({error}). On a file system without DOS attributes use --no-attributes.");
                return 1;
            }

            foreach (var s in layout.TrapShortcuts)
            {
                Console.WriteLine($"trap\t{s}");
            }

            Console.WriteLine($"payload\t{layout.PayloadPath}");
            foreach (var b in layout.BenignItems)
            {
                Console.WriteLine($"benign\t{b}");
            }

            return 0;
        }
    }
}
