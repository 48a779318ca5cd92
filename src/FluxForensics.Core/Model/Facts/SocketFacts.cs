using System;
using System.Collections.Generic;
using System.Net;

namespace FluxForensics.Model
{
    public enum SocketProtocol
    {
        Tcp,
        Udp,
    }

    /// <summary>TCP states under the names both platforms share (Linux /proc/net/tcp and Windows MIB_TCP_STATE).</summary>
    public enum TcpState
    {
        Unknown = 0,
        Closed,
        Listen,
        SynSent,
        SynReceived,
        Established,
        FinWait1,
        FinWait2,
        CloseWait,
        Closing,
        LastAck,
        TimeWait,
        DeleteTcb,
        NewSynReceived,
    }

    /// <summary>One socket as the operating system's table lists it, with its owner when known.</summary>
    public sealed class SocketEntry
    {
        public SocketEntry(SocketProtocol protocol, IPAddress localAddress, int localPort, IPAddress remoteAddress, int remotePort, TcpState state)
        {
            Protocol = protocol;
            LocalAddress = localAddress;
            LocalPort = localPort;
            RemoteAddress = remoteAddress;
            RemotePort = remotePort;
            State = state;
        }

        public SocketProtocol Protocol { get; }
        public IPAddress LocalAddress { get; }
        public int LocalPort { get; }
        public IPAddress RemoteAddress { get; }
        public int RemotePort { get; }
        public TcpState State { get; }

        public bool IsIPv6 => LocalAddress.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6;

        /// <summary>Owning process id; null when it could not be determined (other users' processes, kernel sockets).</summary>
        public int? ProcessId { get; internal set; }

        /// <summary>Linux: the socket inode that links the table to /proc/&lt;pid&gt;/fd. 0 elsewhere.</summary>
        public long Inode { get; internal set; }

        /// <summary>Linux: the uid that created the socket (from the table, visible even when the owner is not).</summary>
        public int? UserId { get; internal set; }

        /// <summary>A TCP socket in LISTEN, or a UDP socket bound without a connected peer.</summary>
        public bool IsListening => Protocol == SocketProtocol.Tcp ? State == TcpState.Listen : RemotePort == 0;

        /// <summary>A TCP connection that is established or being opened.</summary>
        public bool IsOpenConnection => Protocol == SocketProtocol.Tcp && (State == TcpState.Established || State == TcpState.SynSent) && RemotePort != 0;

        /// <summary>"Tcp", "Udp", "Tcp6" or "Udp6".</summary>
        public string ProtocolName => (Protocol == SocketProtocol.Tcp ? "Tcp" : "Udp") + (IsIPv6 ? "6" : string.Empty);

        public override string ToString() => $"{ProtocolName} {LocalAddress}:{LocalPort} {RemoteAddress}:{RemotePort} {State} pid {ProcessId}";
    }

    /// <summary>Every socket of the machine with its owner where it could be seen, and what could not be seen.</summary>
    public sealed class SocketSnapshot
    {
        public List<SocketEntry> Sockets { get; } = new List<SocketEntry>();
        public List<ParseIssue> Issues { get; } = new List<ParseIssue>();

        /// <summary>Processes whose sockets could not be attributed (other users' processes when not root/elevated).</summary>
        public int ProcessesNotVisible { get; internal set; }

        /// <summary>True when the reader ran with the rights to see every owner (root, elevated administrator).</summary>
        public bool Privileged { get; internal set; }

        /// <summary>Why the snapshot is incomplete, in words, for one warning.</summary>
        public List<string> BlindSpots { get; } = new List<string>();
    }
}
