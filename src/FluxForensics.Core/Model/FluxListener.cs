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
    }
}
