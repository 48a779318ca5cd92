using System;
using System.IO;
using System.Linq;
using System.Net;
using System.Net.Sockets;
using FluxForensics.Fixtures.Usb;
using FluxForensics.Model;
using FluxForensics.WindowsTests.Support;

namespace FluxForensics.WindowsTests.Module
{
    /// <summary>The built module in a PowerShell 7 engine hosted by this program: import, help, and the cmdlets whose
    /// Windows paths exist, run against things the test set up.</summary>
    [Collection(Core.LiveRegistry.Name)]
    public sealed class ModuleUnderWindowsTests
    {
        [Fact]
        public void BuiltModuleImportsWithEveryCmdletAndItsHelp()
        {
            string manifest = ModuleHost.RequireBuiltModule();

            var (output, errors) = ModuleHost.Run(manifest, @"
                (Get-Command -Module FluxForensics).Name | Sort-Object
                (Get-Help Get-FluxListener -Full).Synopsis
                @((Get-Help Get-FluxListener -Examples).examples.example).Count");

            Assert.Empty(errors);
            var lines = output.Select(o => o.ToString()).ToList();
            Assert.Contains("Get-FluxListener", lines);
            Assert.Contains("Find-UsbLnkTrap", lines);
            Assert.Contains("Remove-FluxInfection", lines);
            Assert.Contains(lines, l => l.StartsWith("Lists every listening socket", StringComparison.Ordinal));
            Assert.True(int.Parse(lines.Last(), System.Globalization.CultureInfo.InvariantCulture) >= 2, "fewer than two help examples");
        }

        [Fact]
        public void GetFluxListenerReportsAListenerTheTestOpened()
        {
            string manifest = ModuleHost.RequireBuiltModule();
            using var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            int port = ((IPEndPoint)listener.LocalEndpoint).Port;

            var (output, errors) = ModuleHost.Run(manifest, $"Get-FluxListener | Where-Object LocalPort -eq {port}");

            Assert.Empty(errors);
            var found = Assert.Single(output.Select(o => o.BaseObject).OfType<FluxListener>());
            Assert.Equal("Tcp", found.Protocol);
            Assert.Equal("127.0.0.1", found.LocalAddress);
            Assert.Equal(Environment.MachineName, found.ComputerName, ignoreCase: true);
            Assert.Equal("Live", found.Source);
            TestHost.SkipOnWineGap(found.ProcessId == 0, "GetExtendedTcpTable reports owner PID 0, so Get-FluxListener names no owner");
            Assert.Equal(Environment.ProcessId, found.ProcessId);
            Assert.Equal(Environment.ProcessPath, found.Path, ignoreCase: true);
        }

        [Fact]
        public void GetSuspiciousAutorunReportsTheIncidentRunValueFromTheLiveRegistry()
        {
            string manifest = ModuleHost.RequireBuiltModule();
            // The incident's persistence: a Run value named like a crash reporter starting an image from %TEMP%.
            using var temp = new TempDirectory();
            string image = temp.File("mobile7.exe", "MZ");
            string name = Core.LiveRegistry.UniqueName("CrashReportSaver");
            using var value = Core.LiveRegistry.Set(Microsoft.Win32.RegistryHive.CurrentUser, Microsoft.Win32.RegistryView.Registry64,
                @"SOFTWARE\Microsoft\Windows\CurrentVersion\Run", name, "\"" + image + "\" -silent", Microsoft.Win32.RegistryValueKind.String);

            var (output, errors) = ModuleHost.Run(manifest, $"Get-SuspiciousAutorun -All | Where-Object Name -eq '{name}'");

            Assert.Empty(errors);
            var entry = Assert.Single(output.Select(o => o.BaseObject).OfType<SuspiciousAutorun>());
            Assert.EndsWith(@"\Software\Microsoft\Windows\CurrentVersion\Run", entry.Location, StringComparison.OrdinalIgnoreCase);
            Assert.Equal(image, entry.ImagePath, ignoreCase: true);
            Assert.True(entry.ImageExists);
            Assert.Equal(Environment.UserName, entry.Scope, ignoreCase: true);
            Assert.True(entry.RiskScore > 0, "an image in %TEMP% started by a Run value scores");
            Assert.NotEmpty(entry.Reasons);
        }

        [Fact]
        public void UsbTrapCleanupClearsHiddenSystemAndRestoreSetsThemBack()
        {
            string manifest = ModuleHost.RequireBuiltModule();
            string? root = Environment.GetEnvironmentVariable("FLUX_WINDOWS_TESTS_REMOVABLE");
            Assert.SkipWhen(string.IsNullOrEmpty(root), "no removable drive to write to (the Wine lane maps one)");
            using var temp = new TempDirectory();
            string store = Path.Combine(temp.Path, "quarantine");
            // A stick of its own in a folder of E:, scanned by path so the root-level test is not disturbed.
            string stick = Path.Combine(root!, "FluxWinClean-" + Guid.NewGuid().ToString("N").Substring(0, 8));
            var layout = UsbTrapLayout.Create(stick);
            try
            {
                Assert.True(layout.TrySetAttributes(out string? error), error);
                var before = layout.HiddenFolders.ToDictionary(f => f, f => Native.GetFileAttributesW(f));

                var (removed, removeErrors) = ModuleHost.Run(manifest,
                    $"Find-UsbLnkTrap -LiteralPath '{stick}' | Remove-FluxInfection -QuarantinePath '{store}' -Force -PassThru -Confirm:$false");

                Assert.Empty(removeErrors);
                var results = removed.Select(o => o.BaseObject).OfType<FluxRemediation>().ToList();
                TestContext.Current.SendDiagnosticMessage(string.Join(" | ", results.Select(r => $"{r.Action} {r.Status} {r.Target}")));
                Assert.DoesNotContain(results, r => r.Status == "Failed");
                foreach (string folder in layout.HiddenFolders)
                {
                    Assert.Equal(0u, Native.GetFileAttributesW(folder) & (FluxForensics.Host.FileAttributeBits.Hidden | FluxForensics.Host.FileAttributeBits.System));
                }

                Assert.All(layout.TrapShortcuts, lnk => Assert.False(File.Exists(lnk), lnk + " still there"));
                Assert.False(File.Exists(layout.PayloadPath));

                var (_, restoreErrors) = ModuleHost.Run(manifest,
                    $"Get-FluxQuarantine -QuarantinePath '{store}' | Restore-FluxQuarantine -QuarantinePath '{store}' -Force -Confirm:$false");

                Assert.Empty(restoreErrors);
                foreach (var (folder, attributes) in before)
                {
                    Assert.Equal(attributes, Native.GetFileAttributesW(folder));
                }

                Assert.All(layout.TrapShortcuts, lnk => Assert.True(File.Exists(lnk), lnk + " not restored"));
                Assert.True(File.Exists(layout.PayloadPath));
            }
            finally
            {
                if (Directory.Exists(stick))
                {
                    foreach (string entry in Directory.EnumerateFileSystemEntries(stick, "*", SearchOption.AllDirectories))
                    {
                        File.SetAttributes(entry, FileAttributes.Normal);
                    }

                    Directory.Delete(stick, recursive: true);
                }
            }
        }

        [Fact]
        public void FindUsbLnkTrapFindsTheIncidentTrapOnTheRemovableDrive()
        {
            string manifest = ModuleHost.RequireBuiltModule();
            string? root = Environment.GetEnvironmentVariable("FLUX_WINDOWS_TESTS_REMOVABLE");
            Assert.SkipWhen(string.IsNullOrEmpty(root), "no removable drive to write to (the Wine lane maps one)");
            // The trap lives in the drive's root, where the cmdlet looks without -Recurse.
            var layout = UsbTrapLayout.Create(root!);
            try
            {
                Assert.True(layout.TrySetAttributes(out string? error), error);

                var (output, errors) = ModuleHost.Run(manifest, "Find-UsbLnkTrap");

                Assert.Empty(errors);
                var traps = output.Select(o => o.BaseObject).OfType<UsbLnkTrap>().ToList();
                Assert.Equal(UsbTrapLayout.TrapFolders.Length, traps.Count);
                Assert.All(traps, t => Assert.Equal(root, t.DriveRoot, ignoreCase: true));
                Assert.All(traps, t => Assert.True(t.HiddenFolderIsHidden));
                Assert.All(traps, t => Assert.Equal(layout.PayloadPath, t.PayloadPath, ignoreCase: true));
                Assert.All(traps, t => Assert.True(t.RiskScore > 0));
            }
            finally
            {
                foreach (string path in layout.TrapShortcuts.Concat(layout.HiddenSystemPaths).Concat(layout.BenignItems).Append(layout.PayloadPath).Append(Path.Combine(root!, "readme.txt")))
                {
                    if (File.Exists(path))
                    {
                        File.SetAttributes(path, FileAttributes.Normal);
                        File.Delete(path);
                    }
                    else if (Directory.Exists(path))
                    {
                        foreach (string entry in Directory.EnumerateFileSystemEntries(path, "*", SearchOption.AllDirectories))
                        {
                            File.SetAttributes(entry, FileAttributes.Normal);
                        }

                        File.SetAttributes(path, FileAttributes.Directory);
                        Directory.Delete(path, recursive: true);
                    }
                }
            }
        }
    }
}
