using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using FluxForensics.Host;

namespace FluxForensics.Fixtures.Usb
{
    /// <summary>
    /// The relatives of the incident's trap, each laid out on a stick of its own as the worm leaves it: Gamarue/Andromeda,
    /// a Jenxcus-style script worm, a folder-icon EXE worm, shortcuts naming their payload by drive letter or "..", and an
    /// autorun.inf worm. Each layout says which files are the traps, the payloads and the hidden folders, and which benign
    /// look-alikes must stay below Medium.
    /// </summary>
    public sealed class UsbWormLayout
    {
        public static readonly string[] Families = { "gamarue", "script", "folder-exe", "drive-letter", "autorun" };

        /// <summary>The folder Gamarue moves the stick's content into: a no-break space, which Explorer shows as a blank name.</summary>
        public const string BlankFolderName = "\u00A0";
        public const string GamaruePayload = "~$WTrace.ini";
        public const string GamarueEntryPoint = "_ShowFile@4";
        public const string VolumeLabel = "STICK";
        public const string ScriptPayload = "rkzbhcpeqm.txt";
        public const string ScriptPayloadJs = "Photos.js";
        public const string DrivePayload = "svchost.exe";
        public const string AutorunPayload = @"RECYCLER\S-1-5-21-1482476501-1644491937-682003330-1013\jwgkvsq.vmx";
        public const string AutorunEntryPoint = "ahaezedrn";

        public string Family { get; private set; } = string.Empty;
        public string Root { get; private set; } = string.Empty;
        public string Label { get; private set; } = VolumeLabel;

        /// <summary>The files Find-UsbLnkTrap reports (ShortcutPath): .lnk, folder-named .exe or autorun.inf.</summary>
        public List<string> Traps { get; } = new List<string>();
        public List<string> Payloads { get; } = new List<string>();
        public List<string> HiddenFolders { get; } = new List<string>();

        /// <summary>What must not be reported at Medium or above and must survive cleanup untouched.</summary>
        public List<string> BenignItems { get; } = new List<string>();
        public List<string> HiddenSystemPaths { get; } = new List<string>();

        /// <summary>A deterministic PE-looking file; <paramref name="seed"/> varies the bytes.</summary>
        public static byte[] ProgramBytes(uint seed, int size = 48 * 1024)
        {
            var bytes = new byte[size];
            uint state = seed;
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

        public static byte[] Shortcut(string target, string? arguments, string? icon = null, int iconIndex = 0, uint driveType = 3, uint show = 7, bool isDirectory = false) =>
            ShellLinkWriter.Write(new ShellLinkSpec
            {
                TargetPath = target,
                TargetIsDirectory = isDirectory,
                Arguments = arguments,
                IconLocation = icon,
                IconIndex = iconIndex,
                ShowCommand = show,
                DriveType = driveType,
                MachineId = "lab-pc-07",
                TargetSize = 0,
            });

        /// <param name="volumeLabel">The label the stick's file system was made with: Gamarue's shortcut is named after it.</param>
        public static UsbWormLayout Create(string root, string family, string volumeLabel = VolumeLabel)
        {
            var layout = new UsbWormLayout { Root = root, Family = family, Label = volumeLabel };
            Directory.CreateDirectory(root);
            switch (family)
            {
                case "gamarue":
                    layout.Gamarue();
                    break;
                case "script":
                    layout.Script();
                    break;
                case "folder-exe":
                    layout.FolderExe();
                    break;
                case "drive-letter":
                    layout.DriveLetter();
                    break;
                case "autorun":
                    layout.Autorun();
                    break;
                default:
                    throw new ArgumentException("unknown family " + family, nameof(family));
            }

            // Every NTFS stick Windows has seen keeps these two hidden system folders.
            string svi = Path.Combine(root, "System Volume Information");
            Directory.CreateDirectory(svi);
            File.WriteAllText(Path.Combine(svi, "IndexerVolumeGuid"), "{5A4F2C10-8E3B-4D21-9C7A-0B1E2D3F4A5B}");
            layout.BenignItems.Add(svi);
            layout.HiddenSystemPaths.Add(svi);
            string bin = Path.Combine(root, "$RECYCLE.BIN");
            Directory.CreateDirectory(bin);
            File.WriteAllText(Path.Combine(bin, "desktop.ini"), "[.ShellClassInfo]\r\nCLSID={645FF040-5081-101B-9F08-00AA002F954E}\r\n");
            layout.BenignItems.Add(bin);
            layout.HiddenSystemPaths.Add(bin);
            return layout;
        }

        private string Folder(string relative, bool hidden)
        {
            string dir = Path.Combine(Root, relative);
            Directory.CreateDirectory(dir);
            File.WriteAllText(Path.Combine(dir, "notes.txt"), $"The real contents of {relative}.\n");
            if (hidden)
            {
                HiddenFolders.Add(dir);
                HiddenSystemPaths.Add(dir);
            }

            return dir;
        }

        private string File_(string relative, byte[] bytes, bool hidden, List<string>? into = null)
        {
            string path = Path.Combine(Root, relative.Replace('\\', Path.DirectorySeparatorChar));
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllBytes(path, bytes);
            if (hidden)
            {
                HiddenSystemPaths.Add(path);
            }

            into?.Add(path);
            return path;
        }

        /// <summary>Gamarue/Andromeda: everything moved into a hidden folder named U+00A0; one shortcut named after the volume
        /// label runs <c>rundll32.exe ~$WTrace.ini,_ShowFile@4</c>, a hidden DLL with a harmless-looking extension.</summary>
        private void Gamarue()
        {
            string blank = Folder(BlankFolderName, hidden: true);
            Directory.CreateDirectory(Path.Combine(blank, "Documents"));
            File.WriteAllText(Path.Combine(blank, "Documents", "thesis.docx"), "not really a document\n");
            File_(GamaruePayload, ProgramBytes(0xA11D0E5u), hidden: true, Payloads);
            File_(Label + ".lnk", Shortcut(@"C:\Windows\system32\rundll32.exe", $"{GamaruePayload},{GamarueEntryPoint}", @"%SystemRoot%\system32\SHELL32.dll", 7), hidden: false, Traps);
        }

        /// <summary>Jenxcus/Dunihi: <c>cmd /c start wscript.exe /e:VBScript.Encode &lt;script&gt; &amp; start explorer &lt;folder&gt;</c>, and a
        /// shortcut whose target is wscript.exe itself with a hidden .js. A user's shortcut to a document stays quiet.</summary>
        private void Script()
        {
            Folder("Homework", hidden: true);
            Folder("Photos", hidden: true);
            File_(ScriptPayload, Encoding.ASCII.GetBytes("#@~^XhMAAA==@#@&W!x^DkW\tPfbdl(VnjKm3+D`b@#@&+U9P6E\x7FmOrKx@#@&kw0AAA==^#~@"), hidden: true, Payloads);
            File_(ScriptPayloadJs, Encoding.ASCII.GetBytes("var s = WScript.CreateObject('WScript.Shell'); s.Run('explorer Photos');\r\n"), hidden: true, Payloads);
            File_("Homework.lnk", Shortcut(@"C:\Windows\System32\cmd.exe", $"/c start wscript.exe /e:VBScript.Encode {ScriptPayload} & start explorer Homework & exit",
                @"%SystemRoot%\System32\SHELL32.dll", 4), hidden: false, Traps);
            File_("Photos.lnk", Shortcut(@"C:\Windows\System32\wscript.exe", $"//B \"{ScriptPayloadJs}\"", @"%SystemRoot%\System32\imageres.dll", 3), hidden: false, Traps);
            BenignItems.Add(File_("Quarterly report.lnk", ShellLinkWriter.Write(new ShellLinkSpec
            {
                TargetPath = @"C:\Users\alice\Documents\Quarterly report.docx",
                WorkingDirectory = @"C:\Users\alice\Documents",
                MachineId = "alice-laptop",
                TargetSize = 48213,
            }), hidden: false));
            BenignItems.Add(File_("todo.vbs", Encoding.ASCII.GetBytes("MsgBox \"water the plants\"\r\n"), hidden: false));
        }

        /// <summary>A folder-icon EXE worm: <c>Docs.exe</c>, <c>Music.exe</c>, <c>Projects.exe</c> with the same bytes beside the
        /// hidden folders they pose as, no shortcut. A user's <c>setup.exe</c> and <c>Tools.exe</c> beside a visible <c>Tools</c> stay quiet.</summary>
        private void FolderExe()
        {
            byte[] worm = ProgramBytes(0xF01DE5u);
            foreach (var name in new[] { "Docs", "Music", "Projects" })
            {
                Folder(name, hidden: true);
                string exe = File_(name + ".exe", worm, hidden: false, Traps);
                Payloads.Add(exe);
            }

            BenignItems.Add(File_("setup.exe", ProgramBytes(0x5E7u), hidden: false));
            BenignItems.Add(Folder("Tools", hidden: false));
            BenignItems.Add(File_("Tools.exe", ProgramBytes(0x7001u), hidden: false));
        }

        /// <summary>Payloads named by the drive letter the stick had (<c>E:\svchost.exe</c>) or by <c>..</c> from a subfolder,
        /// and a shortcut whose target is the payload itself. A user's shortcut to a program on the stick stays quiet.</summary>
        private void DriveLetter()
        {
            Folder("Work", hidden: true);
            Folder("Slides", hidden: true);
            Folder(Path.Combine("Reports", "2026"), hidden: true);
            File_(DrivePayload, ProgramBytes(0xD21u), hidden: true, Payloads);
            File_("Work.lnk", Shortcut(@"C:\Windows\System32\cmd.exe", $@"/c start E:\{DrivePayload} & explorer E:\Work", @"%SystemRoot%\System32\SHELL32.dll", 3), hidden: false, Traps);
            File_(Path.Combine("Reports", "2026.lnk"), Shortcut(@"C:\Windows\System32\cmd.exe", $@"/c start ..\{DrivePayload} & explorer 2026", @"%SystemRoot%\System32\SHELL32.dll", 3),
                hidden: false, Traps);
            File_("Slides.lnk", Shortcut($@"E:\{DrivePayload}", null, @"%SystemRoot%\System32\SHELL32.dll", 3, driveType: 2), hidden: false, Traps);
            BenignItems.Add(File_("PortableApp.exe", ProgramBytes(0xA99u), hidden: false));
            BenignItems.Add(File_("PortableApp.lnk", Shortcut(@"E:\PortableApp.exe", null, driveType: 2, show: 1), hidden: false));
        }

        /// <summary>A Conficker-style autorun.inf (hidden, System) whose open=, shellexecute= and shell\open\command= all start a
        /// hidden DLL with a harmless-looking extension in RECYCLER.</summary>
        private void Autorun()
        {
            File_(AutorunPayload, ProgramBytes(0xC0F1u), hidden: true, Payloads);
            HiddenSystemPaths.Add(Path.Combine(Root, "RECYCLER"));
            string inf = string.Join("\r\n", new[]
            {
                "; a harmless comment",
                "[AutoRun]",
                $"open={AutorunPayload}",
                "icon=%SystemRoot%\\system32\\SHELL32.dll,4",
                "action=Open folder to view files",
                $"shell\\open\\command=rundll32.exe {AutorunPayload},{AutorunEntryPoint}",
                "shell\\open\\default=1",
                $"shellexecute={AutorunPayload}",
                "",
            });
            File_("autorun.inf", Encoding.ASCII.GetBytes(inf), hidden: true, Traps);
            BenignItems.Add(Folder("Lectures", hidden: false));
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

    /// <summary><c>usb-worm FAMILY ROOT [--no-attributes]</c>: lays out one worm family's stick.</summary>
    public sealed class UsbWormCommand : IFixtureCommand
    {
        public string Name => "usb-worm";
        public string Usage => "usb-worm FAMILY ROOT [--label STICK] [--no-attributes] (FAMILY: " + string.Join(", ", UsbWormLayout.Families) + ")";

        public int Run(string[] args)
        {
            int labelAt = Array.IndexOf(args, "--label");
            string label = labelAt >= 0 && labelAt + 1 < args.Length ? args[labelAt + 1] : UsbWormLayout.VolumeLabel;
            var positional = args.Where((a, i) => !a.StartsWith("--", StringComparison.Ordinal) && !(labelAt >= 0 && i == labelAt + 1)).ToList();
            bool noAttributes = args.Contains("--no-attributes");
            if (positional.Count != 2 || !UsbWormLayout.Families.Contains(positional[0]))
            {
                Console.Error.WriteLine("usage: " + Usage);
                return 64;
            }

            var layout = UsbWormLayout.Create(Path.GetFullPath(positional[1]), positional[0], label);
            if (!noAttributes && !layout.TrySetAttributes(out string? error))
            {
                Console.Error.WriteLine($"usb-worm: cannot set Hidden/System ({error}). On a file system without DOS attributes use --no-attributes.");
                return 1;
            }

            foreach (var t in layout.Traps)
            {
                Console.WriteLine($"trap\t{t}");
            }

            foreach (var p in layout.Payloads)
            {
                Console.WriteLine($"payload\t{p}");
            }

            foreach (var f in layout.HiddenFolders)
            {
                Console.WriteLine($"folder\t{f}");
            }

            foreach (var b in layout.BenignItems)
            {
                Console.WriteLine($"benign\t{b}");
            }

            return 0;
        }
    }
}
