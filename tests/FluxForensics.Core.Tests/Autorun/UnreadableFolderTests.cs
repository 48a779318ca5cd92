using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading;
using FluxForensics.Host;
using Xunit;

namespace FluxForensics.Tests.Autorun
{
    /// <summary>
    /// Folders that exist but cannot be listed are said, not taken for empty ones. Tests run as root, which reads any
    /// folder of its own: a link to PID 1's map_files (refused even to root without the capability to inspect PID 1)
    /// stands in for an unreadable folder where the machine refuses it.
    /// </summary>
    public sealed class UnreadableFolderTests : IDisposable
    {
        private const string Refused = "/proc/1/map_files";
        private readonly string _root = Path.Combine(Path.GetTempPath(), "flux-unreadable-" + Guid.NewGuid().ToString("n"));

        public UnreadableFolderTests() => Directory.CreateDirectory(_root);

        public void Dispose() => Directory.Delete(_root, recursive: true);

        private static string? WhyNot()
        {
            if (!OperatingSystem.IsLinux())
            {
                return "uses /proc";
            }

            try
            {
                Directory.EnumerateFileSystemEntries(Refused).Take(1).ToList();
                return $"{Refused} can be listed here, so it cannot stand in for an unreadable folder";
            }
            catch (UnauthorizedAccessException)
            {
                return null;
            }
            catch (IOException e)
            {
                return $"{Refused}: {e.Message}";
            }
        }

        private string Write(string relative, string text)
        {
            string path = Path.Combine(_root, relative.TrimStart('/'));
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllText(path, text);
            return path;
        }

        [SkippableFact]
        public void AnUnreadableWantsFolderIsAWarningNotUnitsThatLookDisabled()
        {
            string? why = WhyNot();
            Skip.If(why is not null, why);
            Write("/etc/passwd", "root:x:0:0:root:/root:/bin/bash\n");
            Write("/usr/local/bin/updater", "#!/bin/sh\n");
            Write("/etc/systemd/system/updater.service", "[Service]\nExecStart=/usr/local/bin/updater\n");
            File.CreateSymbolicLink(Path.Combine(_root, "etc/systemd/system/multi-user.target.wants"), Refused);

            var reporter = new RecordingReporter();
            var found = PersistenceInspector.Inspect(new PersistenceScanOptions { Root = _root }, null, reporter, CancellationToken.None).ToList();

            Assert.Contains(found, f => f.EntryType == "SystemdUnit" && f.Name == "updater");
            Assert.Contains(reporter.Warnings, w => w.StartsWith("Cannot list the enabled units under ", StringComparison.Ordinal) && w.Contains("shown as disabled"));
        }

        [SkippableFact]
        public void AFolderOnTheDriveThatCannotBeListedIsAnErrorNotAMissingPayload()
        {
            string? why = WhyNot();
            Skip.If(why is not null, why);
            Write("autorun.inf", "[autorun]\r\nopen=sub\\payload.exe\r\n");
            File.CreateSymbolicLink(Path.Combine(_root, "sub"), Refused);

            var reporter = new RecordingReporter();
            var traps = new UsbScanner(reporter).Scan(_root, recurse: false).ToList();

            var error = Assert.Single(reporter.Errors, e => e.ErrorId == "DirectoryUnreadable");
            Assert.Equal(Path.Combine(_root, "sub"), error.Target);
            Assert.Contains("to find 'sub\\payload.exe'", error.Message);
            Assert.Single(traps);
        }
    }
}
