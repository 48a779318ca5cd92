using System;
using System.Diagnostics;
using System.IO;
using System.Linq;
using FluxForensics.Export;
using FluxForensics.Fixtures.Usb;
using FluxForensics.Model;
using FluxForensics.Sweep;
using FluxForensics.WindowsTests.Support;
using Microsoft.Win32;

namespace FluxForensics.WindowsTests.Module
{
    /// <summary>Invoke-FluxSweep -EventLog: the source registered under HKLM, one entry per finding with the severity's event
    /// ID, written through advapi32 (RegisterEventSource/ReportEvent) in this process.</summary>
    [Collection(Core.LiveRegistry.Name)]
    public sealed class SweepEventLogTests
    {
        private const string SourceKey = @"SYSTEM\CurrentControlSet\Services\EventLog\Application\FluxForensics";

        [Fact]
        public void InvokeFluxSweepRegistersTheSourceAndWritesEveryFindingToTheApplicationLog()
        {
            string manifest = ModuleHost.RequireBuiltModule();
            TestHost.RequireDisposableMachine();
            Registry.LocalMachine.DeleteSubKeyTree(SourceKey, throwOnMissingSubKey: false);
            using var temp = new TempDirectory();
            string stick = Path.Combine(temp.Path, "stick");
            UsbTrapLayout.Create(stick);

            var (output, errors) = ModuleHost.Run(manifest, $"Invoke-FluxSweep -Check Usb -UsbPath '{stick}' -EventLog");

            Assert.Empty(errors);
            var traps = output.Select(o => o.BaseObject).OfType<UsbLnkTrap>().ToList();
            Assert.NotEmpty(traps);
            var result = Assert.Single(output.Select(o => o.BaseObject).OfType<FluxSweepResult>());
            Assert.Equal(SweepStatus.Completed, result.Status);
            Assert.Equal(traps.Count, result.FindingCount);
            Assert.Empty(result.Errors);

            // Registering the source is what needs the administrator (the Wine prefix's user is one).
            using (var key = Registry.LocalMachine.OpenSubKey(SourceKey))
            {
                Assert.NotNull(key);
                Assert.Equal(7, (int)key!.GetValue("TypesSupported")!);
            }

        }

        [Fact]
        public void SweepEntriesReadBackFromTheApplicationLogWithTheSeverityEventId()
        {
            string manifest = ModuleHost.RequireBuiltModule();
            TestHost.RequireDisposableMachine();
            using var temp = new TempDirectory();
            string stick = Path.Combine(temp.Path, "stick");
            UsbTrapLayout.Create(stick);
            var started = DateTime.Now.AddSeconds(-2);

            var (output, errors) = ModuleHost.Run(manifest, $"Invoke-FluxSweep -Check Usb -UsbPath '{stick}' -EventLog");

            Assert.Empty(errors);
            var traps = output.Select(o => o.BaseObject).OfType<UsbLnkTrap>().ToList();
            Assert.NotEmpty(traps);

            // Read the entries back where the platform keeps them; Wine's event log only traces ReportEvent's strings.
            EventLogEntry[] entries;
            try
            {
                using var log = new EventLog("Application");
                entries = log.Entries.Cast<EventLogEntry>().Where(e => e.Source == WindowsEventLog.SourceName && e.TimeGenerated >= started).ToArray();
            }
            catch (Exception e) when (e is InvalidOperationException or System.ComponentModel.Win32Exception or IOException)
            {
                entries = Array.Empty<EventLogEntry>();
            }

            TestHost.SkipOnWineGap(entries.Length == 0, "ReadEventLog returns no entries: Wine's event log does not store what ReportEvent wrote");
            foreach (var trap in traps)
            {
                string summary = FindingSummary.Of(FindingRecord.From(trap));
                var entry = Assert.Single(entries, e => e.Message.Contains(summary, StringComparison.Ordinal));
                Assert.Equal(WindowsEventLog.EventIdOf(trap.Severity), (int)entry.InstanceId);
                Assert.Contains(trap.Reasons[0].Reason, entry.Message, StringComparison.Ordinal);
            }
        }

        [Fact]
        public void EventLogWriterReportsOneEntryPerSeverity()
        {
            TestHost.RequireWindows();
            TestHost.RequireDisposableMachine();
            using var log = WindowsEventLog.Open();
            foreach (Severity severity in Enum.GetValues(typeof(Severity)))
            {
                var autorun = new SuspiciousAutorun { Name = "FluxEventLogProbe-" + severity, Location = @"HKCU\Software\Microsoft\Windows\CurrentVersion\Run", Command = "probe.exe" };
                autorun.SetScore(new ScoreCard().Add("probe at " + severity, Scoring.MinimumScoreOf(severity)));
                Assert.Equal(severity, autorun.Severity);
                log.Write(FindingRecord.From(autorun));
            }

            Assert.Equal(5, log.Written);
            Assert.True(WindowsEventLog.SourceExists());
        }
    }
}
