using System;
using System.Buffers.Binary;
using System.IO;
using System.Text;
using FluxForensics.Fixtures.Usb;
using FluxForensics.Host;

namespace FluxForensics.Fixtures.Autorun
{
    /// <summary>
    /// Plants the incident's persistence in a folder laid out like an offline system, for the demo, the Pester tests and
    /// the remoting tests. Windows: an NTUSER.DAT whose Run value CrashReportSaver starts a hidden mobile7.exe, plus a
    /// task, a Startup shortcut, a service and ordinary entries. Linux: a cron line, a systemd unit, an XDG autostart
    /// file and a profile line starting a hidden binary. <c>--clean</c> plants only the ordinary entries.
    /// Prints one line per planted item: <c>kind&lt;TAB&gt;path</c>.
    /// </summary>
    public sealed class AutorunTreeCommand : IFixtureCommand
    {
        public const string UserSid = "S-1-5-21-3623811015-3361044348-30300820-1001";
        public const string UserName = "alice";
        public const string PayloadWindowsPath = @"C:\Users\alice\AppData\Roaming\mobile7.exe";
        public const string PayloadLinuxPath = "/home/alice/.cache/.mobile7";

        public string Name => "autorun-tree";
        public string Usage => "autorun-tree ROOT [--windows|--linux] [--clean] [--users N] [--no-attributes] [--dirty] [--wmi] [--malware FILE] (plants persistence for Get-SuspiciousAutorun; --dirty leaves alice's Run value only in NTUSER.DAT.LOG1, --wmi adds a WMI consumer bound to a filter)";

        public int Run(string[] args)
        {
            if (args.Length < 1)
            {
                throw new ArgumentException("usage: " + Usage);
            }

            string root = Path.GetFullPath(args[0]);
            bool linux = Array.IndexOf(args, "--linux") >= 0;
            bool clean = Array.IndexOf(args, "--clean") >= 0;
            bool attributes = Array.IndexOf(args, "--no-attributes") < 0;
            bool dirty = Array.IndexOf(args, "--dirty") >= 0;
            bool wmi = Array.IndexOf(args, "--wmi") >= 0;
            int users = 1;
            int at = Array.IndexOf(args, "--users");
            if (at >= 0 && at + 1 < args.Length)
            {
                users = int.Parse(args[at + 1], System.Globalization.CultureInfo.InvariantCulture);
            }

            Directory.CreateDirectory(root);
            if (linux)
            {
                PlantLinux(root, clean, SharedMalware.Read(args));
            }
            else
            {
                PlantWindows(root, clean, attributes, users, dirty, wmi, SharedMalware.Read(args));
            }

            return 0;
        }

        private static string Local(string root, string windowsOrPosix)
        {
            string rel = windowsOrPosix.Length >= 3 && windowsOrPosix[1] == ':' ? windowsOrPosix.Substring(3) : windowsOrPosix.TrimStart('/');
            return Path.Combine(root, rel.Replace('\\', '/'));
        }

        private static string WriteFile(string root, string path, byte[] bytes, string kind)
        {
            string local = Local(root, path);
            Directory.CreateDirectory(Path.GetDirectoryName(local)!);
            File.WriteAllBytes(local, bytes);
            Console.WriteLine($"{kind}\t{local}");
            return local;
        }

        private static string WriteText(string root, string path, string text, string kind) => WriteFile(root, path, Encoding.UTF8.GetBytes(text), kind);

        /// <summary>A small valid PE image (PE32, one section) with no version resource and no signature, unlike the
        /// random payload bytes of the USB fixture; <paramref name="tag"/> makes each one's hash distinct.</summary>
        public static byte[] SmallPe(string tag)
        {
            var b = new byte[1024];
            b[0] = (byte)'M';
            b[1] = (byte)'Z';
            BinaryPrimitives.WriteInt32LittleEndian(b.AsSpan(0x3C), 0x80);
            Encoding.ASCII.GetBytes("PE\0\0").CopyTo(b, 0x80);
            int coff = 0x84;
            BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(coff), 0x14C);
            BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(coff + 2), 1);
            BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(coff + 16), 0xE0);
            BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(coff + 18), 0x102);
            int opt = coff + 20;
            BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(opt), 0x10B);
            BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(opt + 16), 0x1000); // entry point
            BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(opt + 28), 0x400000); // image base
            BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(opt + 32), 0x1000); // section alignment
            BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(opt + 36), 0x200); // file alignment
            BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(opt + 40), 6);
            BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(opt + 56), 0x2000); // size of image
            BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(opt + 60), 0x200); // size of headers
            BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(opt + 68), 2); // GUI subsystem
            BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(opt + 92), 16); // data directories
            int section = opt + 0xE0;
            Encoding.ASCII.GetBytes(".text\0\0\0").CopyTo(b, section);
            BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(section + 8), 0x200);
            BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(section + 12), 0x1000);
            BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(section + 16), 0x200);
            BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(section + 20), 0x200);
            BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(section + 36), 0x60000020);
            b[0x200] = 0xC3;
            Encoding.ASCII.GetBytes(tag).CopyTo(b, 0x210);
            return b;
        }

        private static void PlantWindows(string root, bool clean, bool attributes, int userCount, bool dirty = false, bool wmi = false, byte[]? malware = null)
        {
            DateTime old = new DateTime(2024, 3, 1, 8, 0, 0, DateTimeKind.Utc);
            DateTime incident = DateTime.UtcNow.AddDays(-1);

            var software = new RegfKey("CMI-CreateHive{199DAFC2-6F16-4946-BF90-5A3FC3A60902}") { LastWritten = old };
            software.Key(@"Microsoft\Windows\CurrentVersion\Run").String("SecurityHealth", @"%windir%\system32\SecurityHealthSystray.exe", expand: true);
            software.Key(@"Microsoft\Windows NT\CurrentVersion\Winlogon").String("Shell", "explorer.exe").String("Userinit", @"C:\Windows\system32\userinit.exe,");
            RegfKey profiles = software.Key(@"Microsoft\Windows NT\CurrentVersion\ProfileList");
            for (int i = 0; i < userCount; i++)
            {
                string name = i == 0 ? UserName : $"user{i:000}";
                profiles.Key(UserSidFor(i)).String("ProfileImagePath", @"%SystemDrive%\Users\" + name, expand: true);
            }

            RegfWriter.WriteFile(Local(root, @"C:\Windows\System32\config\SOFTWARE"), software);
            Console.WriteLine($"hive\t{Local(root, @"C:\Windows\System32\config\SOFTWARE")}");

            var system = new RegfKey("ROOT") { LastWritten = old };
            system.Key("Select").DWord("Current", 1);
            system.Key(@"ControlSet001\Services\Dnscache").String("ImagePath", @"%SystemRoot%\system32\svchost.exe -k NetworkService -p", expand: true).DWord("Start", 2).DWord("Type", 0x20);
            system.Key(@"ControlSet001\Services\Dnscache\Parameters").String("ServiceDll", @"%SystemRoot%\System32\dnsrslvr.dll", expand: true);
            system.Key(@"ControlSet001\Control\Session Manager\Environment").String("TEMP", @"%SystemRoot%\TEMP", expand: true);
            RegfWriter.WriteFile(Local(root, @"C:\Windows\System32\config\SYSTEM"), system);
            Console.WriteLine($"hive\t{Local(root, @"C:\Windows\System32\config\SYSTEM")}");

            foreach (string program in new[] { @"C:\Windows\System32\SecurityHealthSystray.exe", @"C:\Windows\explorer.exe", @"C:\Windows\System32\userinit.exe",
                @"C:\Windows\System32\svchost.exe", @"C:\Windows\System32\dnsrslvr.dll", @"C:\Windows\System32\cmd.exe" })
            {
                WriteFile(root, program, SmallPe(program), "system-file");
            }

            for (int i = 0; i < userCount; i++)
            {
                string name = i == 0 ? UserName : $"user{i:000}";
                RegfKey ntuser = UserHive(i, clean, old, incident);
                string hivePath = Local(root, $@"C:\Users\{name}\NTUSER.DAT");
                if (i == 0 && !clean && dirty)
                {
                    // Imaged moments after the Run value was written: the hive file is the state before it, the
                    // value is only in the transaction log Windows had not reconciled yet.
                    byte[] before = RegfWriter.Write(UserHive(i, clean: true, old, incident), $@"\??\C:\Users\{name}\ntuser.dat");
                    byte[] after = RegfWriter.Write(ntuser, $@"\??\C:\Users\{name}\ntuser.dat");
                    var (primary, log) = RegfLogWriter.NewFormat(before, after, 1200);
                    Directory.CreateDirectory(Path.GetDirectoryName(hivePath)!);
                    File.WriteAllBytes(hivePath, primary);
                    File.WriteAllBytes(hivePath + ".LOG1", log);
                    File.WriteAllBytes(hivePath + ".LOG2", Array.Empty<byte>());
                    Console.WriteLine($"hive-log\t{hivePath}.LOG1");
                }
                else
                {
                    RegfWriter.WriteFile(hivePath, ntuser, $@"\??\C:\Users\{name}\ntuser.dat");
                }

                Console.WriteLine($"hive\t{hivePath}");
                Directory.CreateDirectory(Local(root, $@"C:\Users\{name}\AppData\Roaming\Microsoft\Windows\Start Menu\Programs\Startup"));
            }

            if (wmi && !clean)
            {
                WriteFile(root, @"C:\Windows\System32\wbem\Repository\OBJECTS.DATA", WmiRepositoryWriter.Write(new[]
                {
                    WmiInstance.Filter("CrashReportFilter", "SELECT * FROM __InstanceModificationEvent WITHIN 60 WHERE TargetInstance ISA 'Win32_PerfFormattedData_PerfOS_System'"),
                    WmiInstance.CommandLineConsumer("CrashReportSaver", "\"" + PayloadWindowsPath + "\" -relay"),
                    WmiInstance.Binding("CommandLineEventConsumer", "CrashReportSaver", "CrashReportFilter"),
                }, incident), "wmi");
            }

            Directory.CreateDirectory(Local(root, @"C:\ProgramData\Microsoft\Windows\Start Menu\Programs\Startup"));
            Directory.CreateDirectory(Local(root, @"C:\Windows\System32\Tasks"));
            if (clean)
            {
                return;
            }

            PlantIncidentFiles(root, attributes, malware);
        }

        private static RegfKey UserHive(int i, bool clean, DateTime old, DateTime incident)
        {
            {
                var ntuser = new RegfKey("CMI-CreateHive{6A1C4018-979D-4291-A7DC-7AED1C75B67C}") { LastWritten = old };
                RegfKey run = ntuser.Key(@"Software\Microsoft\Windows\CurrentVersion\Run");
                ntuser.Key("Environment").String("TEMP", @"%USERPROFILE%\AppData\Local\Temp", expand: true);
                if (i == 0 && !clean)
                {
                    run.LastWritten = incident;
                    run.String("CrashReportSaver", "\"" + PayloadWindowsPath + "\"");

                    // A value the user switched off in Task Manager: StartupApproved holds 03 00 00 00 + FILETIME. The
                    // incident's value has no record there, which means enabled.
                    run.String("OneDriveSetup", @"C:\Windows\SysWOW64\OneDriveSetup.exe /thfirstsetup");
                    var disabled = new byte[12];
                    disabled[0] = 3;
                    BinaryPrimitives.WriteInt64LittleEndian(disabled.AsSpan(4), old.ToFileTimeUtc());
                    ntuser.Key(@"Software\Microsoft\Windows\CurrentVersion\Explorer\StartupApproved\Run").Binary("OneDriveSetup", disabled);
                }

                return ntuser;
            }
        }

        private static void PlantIncidentFiles(string root, bool attributes, byte[]? malware)
        {
            string payload = WriteFile(root, PayloadWindowsPath, malware ?? UsbTrapLayout.PayloadBytes(), "payload");
            if (attributes && !FileAttributeReader.TrySetHiddenSystem(payload, hidden: true, system: true, out string? error))
            {
                Console.WriteLine($"note\tpayload not hidden: {error}");
            }

            // A task that starts the payload through cmd /c, its XML declaring UTF-16 while stored as UTF-8 (as some real
            // task files are).
            string task = "<?xml version=\"1.0\" encoding=\"UTF-16\"?>\r\n" +
                "<Task version=\"1.2\" xmlns=\"http://schemas.microsoft.com/windows/2004/02/mit/task\">\r\n" +
                "  <RegistrationInfo><URI>\\CrashReportSaver</URI><Author>alice</Author></RegistrationInfo>\r\n" +
                "  <Triggers><LogonTrigger><Enabled>true</Enabled></LogonTrigger></Triggers>\r\n" +
                "  <Settings><Enabled>true</Enabled><Hidden>true</Hidden></Settings>\r\n" +
                "  <Actions Context=\"Author\"><Exec><Command>%ComSpec%</Command><Arguments>/c start \"\" \"%APPDATA%\\..\\Roaming\\mobile7.exe\"</Arguments></Exec></Actions>\r\n" +
                "</Task>\r\n";
            task = task.Replace("%APPDATA%\\..\\Roaming", @"C:\Users\alice\AppData\Roaming");
            WriteText(root, @"C:\Windows\System32\Tasks\CrashReportSaver", task, "task");

            byte[] lnk = ShellLinkWriter.Write(new ShellLinkSpec
            {
                TargetPath = PayloadWindowsPath,
                Arguments = "-relay",
                WorkingDirectory = @"C:\Users\alice\AppData\Roaming",
                ShowCommand = 7,
            });
            WriteFile(root, @"C:\Users\alice\AppData\Roaming\Microsoft\Windows\Start Menu\Programs\Startup\Windows Update Helper.lnk", lnk, "startup");
        }

        public static string UserSidFor(int i) => i == 0 ? UserSid : $"S-1-5-21-3623811015-3361044348-30300820-{1001 + i}";

        private static void PlantLinux(string root, bool clean, byte[]? malware)
        {
            DateTime old = new DateTime(2024, 3, 1, 8, 0, 0, DateTimeKind.Utc);
            void Age(string path) => File.SetLastWriteTimeUtc(path, old);

            Age(WriteText(root, "/etc/passwd", "root:x:0:0:root:/root:/bin/bash\nalice:x:1000:1000:Alice:/home/alice:/bin/bash\n", "system-file"));
            foreach (string program in new[] { "/usr/bin/run-parts", "/usr/sbin/cron", "/usr/bin/true", "/usr/lib/systemd/systemd-timesyncd", "/usr/bin/nm-applet" })
            {
                string p = WriteText(root, program, "#!/bin/sh\nexit 0\n", "system-file");
                Age(p);
            }

            Age(WriteText(root, "/etc/crontab", "SHELL=/bin/sh\nPATH=/usr/local/sbin:/usr/local/bin:/sbin:/bin:/usr/sbin:/usr/bin\n# m h dom mon dow user\tcommand\n17 *\t* * *\troot\tcd / && run-parts --report /etc/cron.hourly\n", "cron"));
            Age(WriteText(root, "/usr/lib/systemd/system/systemd-timesyncd.service", "[Unit]\nDescription=Network Time Synchronization\n\n[Service]\nExecStart=!!/usr/lib/systemd/systemd-timesyncd\n", "unit"));
            Age(WriteText(root, "/etc/xdg/autostart/nm-applet.desktop", "[Desktop Entry]\nName=Network\nExec=nm-applet\nType=Application\n", "xdg"));
            Age(WriteText(root, "/etc/profile", "if [ \"$PS1\" ]; then\n  PS1='\\h:\\w\\$ '\nfi\nexport PATH\n", "profile"));
            Age(WriteText(root, "/home/alice/.bashrc", "# ~/.bashrc\nalias ll='ls -l'\nexport EDITOR=vi\n", "profile"));
            if (clean)
            {
                return;
            }

            string payload = WriteFile(root, PayloadLinuxPath, malware ?? Encoding.ASCII.GetBytes("\u007fELF\u0002\u0001\u0001 mobile7 relay fixture\n"), "payload");
            if (!OperatingSystem.IsWindows())
            {
                File.SetUnixFileMode(payload, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            }
            WriteText(root, "/etc/cron.d/crashreport", $"*/5 * * * * alice {PayloadLinuxPath} --relay >/dev/null 2>&1\n", "cron");
            WriteText(root, "/etc/systemd/system/crashreportsaver.service",
                $"[Unit]\nDescription=Crash report saver\n\n[Service]\nExecStart={PayloadLinuxPath} --relay\nRestart=always\n\n[Install]\nWantedBy=multi-user.target\n", "unit");
            string wants = Local(root, "/etc/systemd/system/multi-user.target.wants");
            Directory.CreateDirectory(wants);
            File.CreateSymbolicLink(Path.Combine(wants, "crashreportsaver.service"), "/etc/systemd/system/crashreportsaver.service");
            WriteText(root, "/home/alice/.config/autostart/crashreport.desktop",
                $"[Desktop Entry]\nType=Application\nName=CrashReportSaver\nExec={PayloadLinuxPath} --relay\nX-GNOME-Autostart-enabled=true\n", "xdg");
            File.AppendAllText(Local(root, "/home/alice/.bashrc"), $"nohup {PayloadLinuxPath} --relay >/dev/null 2>&1 &\n");
            Console.WriteLine($"profile-line\t{Local(root, "/home/alice/.bashrc")}:4");
        }
    }
}
