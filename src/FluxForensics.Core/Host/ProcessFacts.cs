using System;
using System.Collections.Generic;
using FluxForensics.Model;

namespace FluxForensics.Host
{
    /// <summary>Reads <see cref="ProcessFacts"/> on the platform it runs on.</summary>
    public interface IProcessReader
    {
        ProcessFacts Read(int processId);
    }

    public static class ProcessReader
    {
        /// <summary>The reader for this platform.</summary>
        public static IProcessReader ForThisPlatform() =>
            System.Runtime.InteropServices.RuntimeInformation.IsOSPlatform(System.Runtime.InteropServices.OSPlatform.Windows)
                ? new WindowsProcessReader()
                : new LinuxProcessReader("/proc");
    }
}
