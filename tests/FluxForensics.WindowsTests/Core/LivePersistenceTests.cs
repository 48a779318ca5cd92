using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using FluxForensics.Host;
using FluxForensics.WindowsTests.Support;
using Microsoft.Win32;

namespace FluxForensics.WindowsTests.Core
{
    /// <summary>Core's live Windows ASEP reader (PersistenceScanner on the live registry through Win32KeyView) against
    /// Run, RunOnce, WOW6432Node, StartupApproved and Winlogon values the test writes and removes again.</summary>
    [Collection(LiveRegistry.Name)]
    public sealed class LivePersistenceTests
    {
        private const string RunPath = @"SOFTWARE\Microsoft\Windows\CurrentVersion\Run";
        private const string RunOncePath = @"SOFTWARE\Microsoft\Windows\CurrentVersion\RunOnce";
        private const string WinlogonPath = @"SOFTWARE\Microsoft\Windows NT\CurrentVersion\Winlogon";

        private static List<AutorunEntry> Scan(out RecordingReporter reporter)
        {
            reporter = new RecordingReporter();
            return PersistenceScanner.Scan(new PersistenceScanOptions(), reporter, CancellationToken.None).ToList();
        }

        [Fact]
        public void MachineRunValueIsReadWithItsRawCommand()
        {
            TestHost.RequireWindows();
            TestHost.RequireDisposableMachine();
            string name = LiveRegistry.UniqueName("CrashReportSaver");
            const string command = @"%TEMP%\mobile7.exe -silent";
            using var value = LiveRegistry.Set(RegistryHive.LocalMachine, RegistryView.Registry64, RunPath, name, command, RegistryValueKind.ExpandString);

            var entry = Assert.Single(Scan(out var reporter), e => e.Name == name);

            Assert.Empty(reporter.Errors);
            Assert.Equal(@"HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Run", entry.Location, ignoreCase: true);
            Assert.Equal(command, entry.Command);
            Assert.Equal(command, entry.EntryText);
            Assert.Equal("Machine", entry.Scope);
            Assert.Equal(AutorunEntryType.RegistryValue, entry.EntryType);
            Assert.Equal(entry.Location, entry.EntryPath);
            Assert.True(entry.Enabled);
            Assert.True(entry.IsWindows);
            Assert.NotNull(entry.LastWriteTime);
            Assert.InRange((DateTime.UtcNow - entry.LastWriteTime!.Value).Duration(), TimeSpan.Zero, TimeSpan.FromMinutes(5));
        }

        [Fact]
        public void ThirtyTwoBitRunValueIsFoundUnderWow6432Node()
        {
            TestHost.RequireWindows();
            TestHost.RequireDisposableMachine();
            string name = LiveRegistry.UniqueName("Wow");
            // Written through the 32-bit view, as a 32-bit installer would; the reader finds it by its 64-bit path.
            using var value = LiveRegistry.Set(RegistryHive.LocalMachine, RegistryView.Registry32, RunPath, name, @"C:\Program Files (x86)\x\x.exe", RegistryValueKind.String);

            var entry = Assert.Single(Scan(out _), e => e.Name == name);

            Assert.Equal(@"HKLM\SOFTWARE\Wow6432Node\Microsoft\Windows\CurrentVersion\Run", entry.Location, ignoreCase: true);
            Assert.Equal(@"C:\Program Files (x86)\x\x.exe", entry.Command);
        }

        [Fact]
        public void RunOnceValueIsRead()
        {
            TestHost.RequireWindows();
            TestHost.RequireDisposableMachine();
            string name = LiveRegistry.UniqueName("Once");
            using var value = LiveRegistry.Set(RegistryHive.LocalMachine, RegistryView.Registry64, RunOncePath, name, @"C:\Windows\System32\mctadmin.exe", RegistryValueKind.String);

            var entry = Assert.Single(Scan(out _), e => e.Name == name);

            Assert.Equal(@"HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\RunOnce", entry.Location, ignoreCase: true);
        }

        [Fact]
        public void UserRunValueIsReadThroughTheUsersHiveWithTheUserAsScope()
        {
            TestHost.RequireWindows();
            string name = LiveRegistry.UniqueName("UserRun");
            using var value = LiveRegistry.Set(RegistryHive.CurrentUser, RegistryView.Registry64, RunPath, name, @"%APPDATA%\svc\svc.exe", RegistryValueKind.ExpandString);

            var entries = Scan(out var reporter);
            var entry = entries.SingleOrDefault(e => e.Name == name);

            TestHost.SkipOnWineGap(entry is null,
                "the current user's hive is not reachable through ProfileList + HKU\\<SID> (" + LiveRegistry.ProfileListSummary() + ")");
            Assert.NotNull(entry);
            Assert.StartsWith(@"HKU\S-1-5-21-", entry!.Location, StringComparison.OrdinalIgnoreCase);
            Assert.EndsWith(@"\Software\Microsoft\Windows\CurrentVersion\Run", entry.Location, StringComparison.OrdinalIgnoreCase);
            Assert.Equal(Environment.UserName, entry.Scope, ignoreCase: true);
            Assert.Equal(@"%APPDATA%\svc\svc.exe", entry.Command);
            Assert.NotNull(entry.Variables);
            Assert.True(entry.Variables!.ContainsKey("APPDATA"));
        }

        [Fact]
        public void StartupApprovedRecordDisablesAUserRunValue()
        {
            TestHost.RequireWindows();
            string name = LiveRegistry.UniqueName("Disabled");
            using var value = LiveRegistry.Set(RegistryHive.CurrentUser, RegistryView.Registry64, RunPath, name, @"C:\x\disabled.exe", RegistryValueKind.String);
            // Task Manager's "Disable": a 12-byte record whose first byte is 3 (odd = disabled).
            using var approval = LiveRegistry.Set(RegistryHive.CurrentUser, RegistryView.Registry64,
                @"SOFTWARE\Microsoft\Windows\CurrentVersion\Explorer\StartupApproved\Run", name,
                new byte[] { 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 }, RegistryValueKind.Binary);

            var entry = Scan(out _).SingleOrDefault(e => e.Name == name);

            TestHost.SkipOnWineGap(entry is null, "the current user's hive is not reachable through ProfileList + HKU\\<SID>");
            Assert.False(entry!.Enabled);
        }

        [Fact]
        public void WinlogonShellAndUserinitAreRead()
        {
            TestHost.RequireWindows();
            TestHost.RequireDisposableMachine();
            string shell = @"explorer.exe " + LiveRegistry.UniqueName("shell") + ".exe";
            using var shellValue = LiveRegistry.Set(RegistryHive.LocalMachine, RegistryView.Registry64, WinlogonPath, "Shell", shell, RegistryValueKind.String);
            using var userinit = LiveRegistry.Set(RegistryHive.LocalMachine, RegistryView.Registry64, WinlogonPath, "Userinit",
                @"C:\Windows\system32\userinit.exe,C:\x\second.exe,", RegistryValueKind.String);

            var winlogon = Scan(out _).Where(e => e.Location.EndsWith(@"\Winlogon", StringComparison.OrdinalIgnoreCase) && e.Scope == "Machine").ToList();

            var shellEntry = Assert.Single(winlogon, e => e.Name == "Shell");
            Assert.Equal(shell, shellEntry.Command);
            var userinitEntry = Assert.Single(winlogon, e => e.Name == "Userinit");
            Assert.Equal(@"C:\Windows\system32\userinit.exe", userinitEntry.Command);
            Assert.Equal(@"C:\Windows\system32\userinit.exe,C:\x\second.exe,", userinitEntry.EntryText);
        }
    }

    /// <summary>Tests that write the machine's real autorun keys run one at a time and put back what was there.</summary>
    [CollectionDefinition(Name, DisableParallelization = true)]
    public sealed class LiveRegistry
    {
        public const string Name = "Live registry";

        public static string UniqueName(string stem) => "FluxWinTest" + stem + Guid.NewGuid().ToString("N").Substring(0, 8);

        /// <summary>Sets a value and, on dispose, restores the previous value (or deletes it when there was none).</summary>
        public static IDisposable Set(RegistryHive hive, RegistryView view, string path, string name, object data, RegistryValueKind kind)
        {
            var baseKey = RegistryKey.OpenBaseKey(hive, view);
            var key = baseKey.CreateSubKey(path, writable: true);
            object? previous = key.GetValue(name, null, RegistryValueOptions.DoNotExpandEnvironmentNames);
            RegistryValueKind previousKind = previous is null ? RegistryValueKind.Unknown : key.GetValueKind(name);
            key.SetValue(name, data, kind);
            return new Restore(() =>
            {
                if (previous is null)
                {
                    key.DeleteValue(name, throwOnMissingValue: false);
                }
                else
                {
                    key.SetValue(name, previous, previousKind);
                }

                key.Dispose();
                baseKey.Dispose();
            });
        }

        public static string ProfileListSummary()
        {
            using var list = Registry.LocalMachine.OpenSubKey(@"SOFTWARE\Microsoft\Windows NT\CurrentVersion\ProfileList");
            string sids = list is null ? "no ProfileList" : "ProfileList: " + string.Join(", ", list.GetSubKeyNames());
            return sids + "; HKU: " + string.Join(", ", Registry.Users.GetSubKeyNames());
        }

        private sealed class Restore : IDisposable
        {
            private readonly Action _undo;

            public Restore(Action undo) => _undo = undo;

            public void Dispose() => _undo();
        }
    }
}
