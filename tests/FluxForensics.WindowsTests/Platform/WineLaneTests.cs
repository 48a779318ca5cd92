using System;
using FluxForensics.WindowsTests.Support;

namespace FluxForensics.WindowsTests.Platform
{
    /// <summary>The lane itself: the program runs as a Windows program and knows whether Wine hosts it.</summary>
    public sealed class WineLaneTests
    {
        [Fact]
        public void RunsAsAWindowsProgram()
        {
            Assert.True(OperatingSystem.IsWindows());
            Assert.Equal(System.Runtime.InteropServices.Architecture.X64, System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture);
            TestContext.Current.SendDiagnosticMessage($"Wine: {TestHost.WineVersion ?? "no (real Windows)"}");
        }

        [Fact]
        public void UnderWineJitCodeIsNotDoubleMapped()
        {
            // build/Invoke-WineTests.ps1 sets DOTNET_EnableWriteXorExecute=0; without it a hosted PowerShell crashes the
            // runtime from the finalizer thread (see docs/WINDOWS-PLATFORM-NOTES.md).
            Assert.SkipUnless(TestHost.IsWine, "only Wine needs W^X off");
            Assert.Equal("0", Environment.GetEnvironmentVariable("DOTNET_EnableWriteXorExecute"));
        }

        [Fact]
        public void ReflectionInvokeIsEmittedSoAFailingTestCannotHangTheRun()
        {
            // The lane depends on this switch (see the project file and docs/WINDOWS-PLATFORM-NOTES.md).
            Assert.True(AppContext.TryGetSwitch("Switch.System.Reflection.ForceEmitInvoke", out bool emit) && emit);
        }
    }
}
