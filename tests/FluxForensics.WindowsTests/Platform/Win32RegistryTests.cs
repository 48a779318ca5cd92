using System;
using FluxForensics.WindowsTests.Support;
using Microsoft.Win32;

namespace FluxForensics.WindowsTests.Platform
{
    /// <summary>The live registry behaviour the ASEP reader and the registry remediation rely on: value kinds and raw
    /// (unexpanded) data survive a round trip, the 32-bit view lands in WOW6432Node, and a deleted value is gone.</summary>
    public sealed class Win32RegistryTests
    {
        [Fact]
        public void RunValueRoundTripsWithItsKindAndUnexpandedData()
        {
            TestHost.RequireWindows();
            using var scratch = RegistryScratch.Create(RegistryHive.CurrentUser, RegistryView.Registry64);

            scratch.Key.SetValue("Expand", @"%ProgramFiles%\Windows Sidebar\Sidebar.exe /autoRun", RegistryValueKind.ExpandString);
            scratch.Key.SetValue("Plain", @"C:\Windows\System32\mctadmin.exe", RegistryValueKind.String);

            Assert.Equal(RegistryValueKind.ExpandString, scratch.Key.GetValueKind("Expand"));
            Assert.Equal(@"%ProgramFiles%\Windows Sidebar\Sidebar.exe /autoRun",
                scratch.Key.GetValue("Expand", null, RegistryValueOptions.DoNotExpandEnvironmentNames));
            Assert.DoesNotContain("%", (string)scratch.Key.GetValue("Expand")!);
            Assert.Equal(RegistryValueKind.String, scratch.Key.GetValueKind("Plain"));
            Assert.Equal(new[] { "Expand", "Plain" }, scratch.Key.GetValueNames());

            scratch.Key.DeleteValue("Plain");
            Assert.Null(scratch.Key.GetValue("Plain"));
        }

        [Fact]
        public void ThirtyTwoBitViewOfSoftwareIsStoredUnderWow6432Node()
        {
            TestHost.RequireWindows();
            TestHost.RequireDisposableMachine();
            using var scratch = RegistryScratch.Create(RegistryHive.LocalMachine, RegistryView.Registry32);
            scratch.Key.SetValue("Marker", "thirty-two");

            using var hklm64 = RegistryKey.OpenBaseKey(RegistryHive.LocalMachine, RegistryView.Registry64);
            using var redirected = hklm64.OpenSubKey(@"SOFTWARE\WOW6432Node\" + scratch.SubKeyPath);
            using var native = hklm64.OpenSubKey(@"SOFTWARE\" + scratch.SubKeyPath);

            Assert.NotNull(redirected);
            Assert.Equal("thirty-two", redirected!.GetValue("Marker"));
            Assert.Null(native);
        }

        [Fact]
        public void BinaryAndMultiStringValuesRoundTrip()
        {
            TestHost.RequireWindows();
            using var scratch = RegistryScratch.Create(RegistryHive.CurrentUser, RegistryView.Registry64);
            byte[] blob = { 0, 1, 2, 255 };
            string[] lines = { "a", "b c", string.Empty, "d" };

            scratch.Key.SetValue("Blob", blob, RegistryValueKind.Binary);
            scratch.Key.SetValue("Multi", lines, RegistryValueKind.MultiString);

            Assert.Equal(blob, (byte[])scratch.Key.GetValue("Blob")!);
            Assert.Equal(lines, (string[])scratch.Key.GetValue("Multi")!);
            Assert.Equal(RegistryValueKind.MultiString, scratch.Key.GetValueKind("Multi"));
        }
    }

    /// <summary>A uniquely named key under SOFTWARE in the given hive and view, deleted with everything under it.</summary>
    internal sealed class RegistryScratch : IDisposable
    {
        private readonly RegistryKey baseKey;

        private RegistryScratch(RegistryKey baseKey, string subKeyPath)
        {
            this.baseKey = baseKey;
            SubKeyPath = subKeyPath;
            Key = baseKey.CreateSubKey(@"SOFTWARE\" + subKeyPath, writable: true);
        }

        /// <summary>Path below SOFTWARE, e.g. <c>FluxForensics.WindowsTests\0123…</c>.</summary>
        public string SubKeyPath { get; }

        public RegistryKey Key { get; }

        public static RegistryScratch Create(RegistryHive hive, RegistryView view) =>
            new RegistryScratch(RegistryKey.OpenBaseKey(hive, view), @"FluxForensics.WindowsTests\" + Guid.NewGuid().ToString("N"));

        public void Dispose()
        {
            Key.Dispose();
            baseKey.DeleteSubKeyTree(@"SOFTWARE\" + SubKeyPath, throwOnMissingSubKey: false);
            baseKey.Dispose();
        }
    }
}
