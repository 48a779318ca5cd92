using System;

namespace FluxForensics.Model
{
    /// <summary>A process listening on a socket (or, with -IncludeOutbound, one with heavy fan-out), scored.</summary>
    public sealed class FluxListener : FileFinding
    {
        /// <summary>Tcp, Udp, Tcp6, Udp6 style: "Tcp" or "Udp" plus the address family in <see cref="LocalAddress"/>.</summary>
        public string Protocol { get; internal set; } = "Tcp";
        public string LocalAddress { get; internal set; } = string.Empty;
        public int LocalPort { get; internal set; }
        public int ProcessId { get; internal set; }
        public string? ProcessName { get; internal set; }
        public string? CommandLine { get; internal set; }
        public int OutboundConnectionCount { get; internal set; }
        public int DistinctRemoteNetworkCount { get; internal set; }

        /// <summary>When the process started (UTC); remediation checks it so a reused PID is never stopped.</summary>
        public DateTime? ProcessStartTime { get; internal set; }

        /// <summary>False for a process reported by -IncludeOutbound that listens on nothing (then the local fields are empty).</summary>
        public bool IsListening { get; internal set; } = true;

        /// <summary>The remote ports of the process's outbound connections, ascending.</summary>
        public int[] RemotePorts { get; internal set; } = Array.Empty<int>();

        /// <summary>Distinct remote addresses of the outbound connections.</summary>
        public int DistinctRemoteAddressCount { get; internal set; }

        /// <summary>Outbound connections (established or opening) to remote port 80.</summary>
        public int Port80ConnectionCount { get; internal set; }

        public string? User { get; internal set; }
        public int? ParentProcessId { get; internal set; }

        /// <summary>Windows: the services hosted by the process (comma-separated for shared hosts such as svchost).</summary>
        public string? ServiceName { get; internal set; }

        public string? OriginalFilename { get; internal set; }
        public string? ProductName { get; internal set; }
        public string? FileVersion { get; internal set; }

        /// <summary>The image was deleted (or moved away) after the process started.</summary>
        public bool ImageDeleted { get; internal set; }

        /// <summary>The image lies in a temporary, per-user or otherwise user-writable place.</summary>
        public bool IsUserWritableLocation { get; internal set; }

        /// <summary>What was checked to arrive at <see cref="FileFinding.SignatureStatus"/>.</summary>
        public string? SignatureDetail { get; internal set; }

        /// <summary>For runtime hosts (dotnet, python, java …): the program file named on the command line.</summary>
        public string? HostedProgramPath { get; internal set; }

        /// <summary>What could not be read about this process or its image (exited mid-scan, permission, corrupt PE).</summary>
        public string[] ReadErrors { get; internal set; } = Array.Empty<string>();
    }
}
