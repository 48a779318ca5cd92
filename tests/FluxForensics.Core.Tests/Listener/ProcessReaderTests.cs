using System;
using System.Diagnostics;
using System.IO;
using FluxForensics.Host;

namespace FluxForensics.Tests.Listener
{
    public class ProcessReaderTests
    {
        [SkippableFact]
        public void AnImageDeletedAfterStartIsSeenAndStillHashedThroughProcExe()
        {
            Skip.IfNot(OperatingSystem.IsLinux(), "reads /proc");
            Skip.IfNot(File.Exists("/bin/sleep"), "needs /bin/sleep to copy");
            string dir = Path.Combine(Path.GetTempPath(), "ff-proc-" + Guid.NewGuid().ToString("N"), ".hidden");
            Directory.CreateDirectory(dir);
            string image = Path.Combine(dir, "sleeper");
            // Copied by cp, not File.Copy: under Mono a file this process has open for writing leaks into children forked
            // meanwhile by parallel tests, and exec of the copy then fails with ETXTBSY (the child exits at once).
            using (var copy = Process.Start(new ProcessStartInfo("/bin/cp", $"/bin/sleep {image}") { UseShellExecute = false })!)
            {
                copy.WaitForExit();
                Assert.Equal(0, copy.ExitCode);
            }

            if (OperatingSystem.IsLinux())
            {
                File.SetUnixFileMode(image, UnixFileMode.UserRead | UnixFileMode.UserExecute | UnixFileMode.UserWrite);
            }
            string expectedHash = FileFactsReader.Read(image).Sha256!;
            using var process = Process.Start(new ProcessStartInfo(image, "30") { UseShellExecute = false })!;
            try
            {
                // Wait until the kernel shows the new image (exec done), then delete it. Up to 10 s: under Mono on a loaded
                // machine the fork-and-exec of Process.Start took longer than the 2 s this waited before.
                for (int i = 0; i < 500 && !(File.Exists($"/proc/{process.Id}/exe") && new LinuxProcessReader("/proc").Read(process.Id).ImagePath == image); i++)
                {
                    System.Threading.Thread.Sleep(20);
                }

                File.Delete(image);
                var facts = new LinuxProcessReader("/proc").Read(process.Id);
                Assert.Equal(image, facts.ImagePath);
                Assert.True(facts.ImageDeleted);
                Assert.Equal("sleeper", facts.Name);
                Assert.Equal(image + " 30", facts.CommandLine);
                Assert.Equal(Environment.ProcessId, facts.ParentProcessId);
                Assert.NotNull(facts.User);
                Assert.InRange(facts.StartTimeUtc!.Value, DateTime.UtcNow.AddMinutes(-1), DateTime.UtcNow.AddMinutes(1));

                var owner = SocketOwnerScanner.Examine(process.Id, new LinuxProcessReader("/proc"), new FileFactsReader.Cache());
                Assert.Equal(expectedHash, owner.Image!.Sha256);
                Assert.True(owner.Image.IsHidden);
            }
            finally
            {
                process.Kill();
                process.WaitForExit();
                Directory.Delete(Path.GetDirectoryName(dir)!, recursive: true);
            }
        }

        [SkippableFact]
        public void AProcessThatExitedIsSaidToHaveExited()
        {
            Skip.IfNot(OperatingSystem.IsLinux(), "reads /proc");
            using var process = Process.Start(new ProcessStartInfo("/bin/true") { UseShellExecute = false })!;
            process.WaitForExit();
            int pid = process.Id;
            var facts = new LinuxProcessReader("/proc").Read(pid);
            Assert.True(facts.Exited);
            Assert.Contains(facts.ReadErrors, e => e.Contains("exited"));
        }

        [SkippableFact]
        public void AProcEntryThatVanishesHalfwayKeepsWhatWasRead()
        {
            Skip.IfNot(OperatingSystem.IsLinux(), "models a /proc tree");
            string root = Path.Combine(Path.GetTempPath(), "ff-proc-" + Guid.NewGuid().ToString("N"));
            try
            {
                // Only status survived: stat, cmdline and exe vanished between reads.
                Directory.CreateDirectory(Path.Combine(root, "77"));
                File.WriteAllText(Path.Combine(root, "77", "status"), "Name:\tmobile7\nPPid:\t1\nUid:\t0\t0\t0\t0\n");
                var facts = new LinuxProcessReader(root).Read(77);
                Assert.Equal("mobile7", facts.Name);
                Assert.Equal(1, facts.ParentProcessId);
                Assert.Equal(0, facts.UserId);
                Assert.Null(facts.ImagePath);
                Assert.Null(facts.CommandLine);
                Assert.True(facts.Exited);
                Assert.Contains(facts.ReadErrors, e => e.Contains("exited during the scan"));
            }
            finally
            {
                Directory.Delete(root, recursive: true);
            }
        }

        [SkippableFact]
        public void AnUnreadableBootTimeIsSaidOnEachProcessNotLeftBlank()
        {
            Skip.IfNot(OperatingSystem.IsLinux(), "models a /proc tree");
            string root = Path.Combine(Path.GetTempPath(), "ff-proc-" + Guid.NewGuid().ToString("N"));
            try
            {
                // A directory where /proc/stat should be cannot be read as a file (as root too).
                Directory.CreateDirectory(Path.Combine(root, "stat"));
                Directory.CreateDirectory(Path.Combine(root, "77"));
                File.WriteAllText(Path.Combine(root, "77", "status"), "Name:\tmobile7\nPPid:\t1\nUid:\t0\t0\t0\t0\n");
                File.WriteAllText(Path.Combine(root, "77", "stat"), "77 (mobile7) S 1 77 77 0 -1 4194560 100 0 0 0 1 1 0 0 20 0 1 0 12345 1000 100\n");
                var facts = new LinuxProcessReader(root).Read(77);
                Assert.Null(facts.StartTimeUtc);
                Assert.Contains(facts.ReadErrors, e => e.StartsWith("start time: the boot time in ", StringComparison.Ordinal) && e.Contains("could not be read"));
            }
            finally
            {
                Directory.Delete(root, recursive: true);
            }
        }

        [Fact]
        public void HostedProgramOfADotnetHostIsTheDllOnTheCommandLine()
        {
            string dir = Path.Combine(Path.GetTempPath(), "ff-host-" + Guid.NewGuid().ToString("N"));
            Directory.CreateDirectory(dir);
            try
            {
                File.WriteAllText(Path.Combine(dir, "relay.dll"), "x");
                var facts = new ProcessFacts(1) { Name = "dotnet", Arguments = new[] { "dotnet", "exec", "relay.dll", "--port", "80" }, WorkingDirectory = dir };
                Assert.Equal(Path.Combine(dir, "relay.dll"), SocketOwnerScanner.HostedProgramPath(facts));
                var inline = new ProcessFacts(2) { Name = "python3", Arguments = new[] { "python3", "-c", "print(1)" }, WorkingDirectory = dir };
                Assert.Null(SocketOwnerScanner.HostedProgramPath(inline));
                var plain = new ProcessFacts(3) { Name = "nginx", Arguments = new[] { "nginx", "relay.dll" }, WorkingDirectory = dir };
                Assert.Null(SocketOwnerScanner.HostedProgramPath(plain));
            }
            finally
            {
                Directory.Delete(dir, recursive: true);
            }
        }
    }
}
