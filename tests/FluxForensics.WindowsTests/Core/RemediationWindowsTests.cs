using System;
using System.IO;
using System.Linq;
using System.Security.Cryptography;
using FluxForensics.Remediation;
using FluxForensics.WindowsTests.Support;
using Microsoft.Win32;

namespace FluxForensics.WindowsTests.Core
{
    /// <summary>The Windows half of remediation: Win32RegistryAccess saves a value exactly, deletes it and puts it back;
    /// and the cmdlets remove a live Run entry and restore it from the quarantine.</summary>
    [Collection(LiveRegistry.Name)]
    public sealed class RemediationWindowsTests
    {
        public static TheoryData<RegistryValueKind, object, string, string> Values() => new TheoryData<RegistryValueKind, object, string, string>
        {
            { RegistryValueKind.String, @"C:\x\mobile7.exe -silent", "String", @"C:\x\mobile7.exe -silent" },
            { RegistryValueKind.ExpandString, @"%TEMP%\mobile7.exe", "ExpandString", @"%TEMP%\mobile7.exe" },
            { RegistryValueKind.MultiString, new[] { "a", "b c" }, "MultiString", "a\0b c" },
            { RegistryValueKind.DWord, unchecked((int)0xFFFFFFFE), "DWord", "4294967294" },
            { RegistryValueKind.QWord, 1L << 40, "QWord", "1099511627776" },
            { RegistryValueKind.Binary, new byte[] { 0, 1, 254, 255 }, "Binary", "AAH+/w==" },
        };

        [Theory]
        [MemberData(nameof(Values))]
        public void ValueIsSavedDeletedAndRestoredExactly(RegistryValueKind kind, object data, string expectedKind, string expectedData)
        {
            TestHost.RequireWindows();
            string name = LiveRegistry.UniqueName("Remediate");
            string keyPath = @"HKCU\SOFTWARE\Microsoft\Windows\CurrentVersion\Run";
            using var value = LiveRegistry.Set(RegistryHive.CurrentUser, RegistryView.Registry64, @"SOFTWARE\Microsoft\Windows\CurrentVersion\Run", name, data, kind);
            var registry = new Win32RegistryAccess();

            var saved = registry.GetValue(keyPath, name);
            Assert.NotNull(saved);
            Assert.Equal(expectedKind, saved!.Kind);
            Assert.Equal(expectedData, saved.Data);

            Assert.True(registry.DeleteValue(keyPath, name));
            Assert.Null(registry.GetValue(keyPath, name));
            Assert.False(registry.DeleteValue(keyPath, name));

            registry.SetValue(keyPath, name, saved);
            using var run = Registry.CurrentUser.OpenSubKey(@"SOFTWARE\Microsoft\Windows\CurrentVersion\Run")!;
            Assert.Equal(kind, run.GetValueKind(name));
            Assert.Equal(data, run.GetValue(name, null, RegistryValueOptions.DoNotExpandEnvironmentNames));
            Assert.True(saved.SameAs(registry.GetValue(keyPath, name)));
        }

        [Fact]
        public void MissingKeyOrValueReadsAsNull()
        {
            TestHost.RequireWindows();
            var registry = new Win32RegistryAccess();

            Assert.Null(registry.GetValue(@"HKCU\SOFTWARE\FluxForensics.WindowsTests\" + Guid.NewGuid().ToString("N"), "x"));
            Assert.Null(registry.GetValue(@"HKCU\SOFTWARE\Microsoft\Windows\CurrentVersion\Run", LiveRegistry.UniqueName("Absent")));
        }

        [Fact]
        public void RemoveFluxInfectionRemovesALiveRunEntryAndRestoreFluxQuarantinePutsItBack()
        {
            string manifest = ModuleHost.RequireBuiltModule();
            using var temp = new TempDirectory();
            string image = temp.File("mobile7.exe", "MZ fake relay");
            File.SetAttributes(image, FileAttributes.Hidden | FileAttributes.System);
            string imageHash = Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(image)));
            string store = Path.Combine(temp.Path, "quarantine");
            string name = LiveRegistry.UniqueName("CrashReportSaver");
            string command = "\"" + image + "\" -silent";
            using var value = LiveRegistry.Set(RegistryHive.CurrentUser, RegistryView.Registry64,
                @"SOFTWARE\Microsoft\Windows\CurrentVersion\Run", name, command, RegistryValueKind.String);

            var (removed, removeErrors) = ModuleHost.Run(manifest,
                $"Get-SuspiciousAutorun -All | Where-Object Name -eq '{name}' | Remove-FluxInfection -QuarantinePath '{store}' -Force -PassThru -Confirm:$false");

            Assert.Empty(removeErrors);
            var results = removed.Select(o => o.BaseObject).OfType<FluxForensics.Model.FluxRemediation>().ToList();
            Assert.NotEmpty(results);
            TestContext.Current.SendDiagnosticMessage(string.Join(" | ", results.Select(r => $"{r.Action} {r.Status} {r.Target} {r.Detail}")));
            using (var run = Registry.CurrentUser.OpenSubKey(@"SOFTWARE\Microsoft\Windows\CurrentVersion\Run")!)
            {
                Assert.Null(run.GetValue(name));
            }

            var (restored, restoreErrors) = ModuleHost.Run(manifest,
                $"Get-FluxQuarantine -QuarantinePath '{store}' | Restore-FluxQuarantine -QuarantinePath '{store}' -Force -PassThru -Confirm:$false");

            Assert.Empty(restoreErrors);
            Assert.NotEmpty(restored);
            using (var run = Registry.CurrentUser.OpenSubKey(@"SOFTWARE\Microsoft\Windows\CurrentVersion\Run")!)
            {
                Assert.Equal(RegistryValueKind.String, run.GetValueKind(name));
                Assert.Equal(command, run.GetValue(name));
            }

            Assert.True(File.Exists(image));
            Assert.Equal(imageHash, Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(image))));
            Assert.Equal(FileAttributes.Hidden | FileAttributes.System, File.GetAttributes(image) & (FileAttributes.Hidden | FileAttributes.System));
        }
    }
}
