using System;

namespace FluxForensics.Model
{
    /// <summary>A host that answers DNS queries for other hosts.</summary>
    public sealed class DnsProxy : FluxFinding
    {
        public string Address { get; internal set; } = string.Empty;
        public int ClientCount { get; internal set; }
        public int DomainCount { get; internal set; }
        public long QueryCount { get; internal set; }
    }

    /// <summary>A domain whose answers look fast-flux or double-flux, with the evidence.</summary>
    public sealed class FluxDomain : FluxFinding
    {
        public string Domain { get; internal set; } = string.Empty;
        public string[] Addresses { get; internal set; } = Array.Empty<string>();
        public int NetworkCount { get; internal set; }
        public int MinTtl { get; internal set; }
        public double FluxScore { get; internal set; }
        public bool IsFastFlux { get; internal set; }
        public bool IsDoubleFlux { get; internal set; }
    }

    /// <summary>What a capture analysis read, always emitted last.</summary>
    public sealed class CaptureSummary : FluxFinding
    {
        public string[] Files { get; internal set; } = Array.Empty<string>();
        public long PacketCount { get; internal set; }
        public long ByteCount { get; internal set; }
        public DateTime? FirstPacketTime { get; internal set; }
        public DateTime? LastPacketTime { get; internal set; }
        public long FlowCount { get; internal set; }
        public double PacketsPerSecond { get; internal set; }
        public bool Completed { get; internal set; } = true;
        public ParseIssue[] ParseIssues { get; internal set; } = Array.Empty<ParseIssue>();
    }
}
