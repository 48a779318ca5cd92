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

        /// <summary>Outbound connections grouped by remote port, most servers first (the port-80 counts above are one of them).</summary>
        public FluxFanOut[] FanOut { get; internal set; } = Array.Empty<FluxFanOut>();

        /// <summary>Sockets in TIME_WAIT on this listener's local port. Their owner is gone (PID 0, "unknown" in TCPView):
        /// they are attributed to the process that listens on the port.</summary>
        public int TimeWaitCount { get; internal set; }

        /// <summary>Sockets in CLOSE_WAIT on this listener's local port, owned by its process or by no visible process.</summary>
        public int CloseWaitCount { get; internal set; }

        /// <summary>Distinct remote addresses of the TIME_WAIT and CLOSE_WAIT sockets: the clients of recent short connections.</summary>
        public int ClosedConnectionClientCount { get; internal set; }

        /// <summary>The service whose well-known port this is (SMTP for TCP 25), or null for a port no service is known by.</summary>
        public string? LocalPortService { get; internal set; }

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

    /// <summary>One process's outbound connections to one remote port.</summary>
    public sealed class FluxFanOut
    {
        public int RemotePort { get; internal set; }

        /// <summary>The service of the port (SMTP, HTTP …), or null when the port is not a well-known one.</summary>
        public string? Service { get; internal set; }
        public int ConnectionCount { get; internal set; }

        /// <summary>Distinct remote addresses: the servers talked to.</summary>
        public int ServerCount { get; internal set; }

        /// <summary>Distinct /16 (IPv6: /48) networks of those servers.</summary>
        public int NetworkCount { get; internal set; }

        public override string ToString() =>
            $"{Service ?? "port " + RemotePort.ToString(System.Globalization.CultureInfo.InvariantCulture)}: {ServerCount} servers, {NetworkCount} networks, {ConnectionCount} connections";
    }
}
