using System;

namespace FluxForensics.Model
{
    /// <summary>A host that answers DNS queries for other hosts.</summary>
    public sealed class DnsProxy : FluxFinding
    {
        public string Address { get; internal set; } = string.Empty;

        /// <summary>Distinct hosts it answered.</summary>
        public int ClientCount { get; internal set; }

        /// <summary>Of <see cref="ClientCount"/>, the clients outside its own network (/16 for IPv4, /48 for IPv6).</summary>
        public int OutsideClientCount { get; internal set; }

        /// <summary>Distinct names it answered for.</summary>
        public int DomainCount { get; internal set; }

        /// <summary>Queries seen addressed to it, or its responses when the queries were not captured (whichever is more).</summary>
        public long QueryCount { get; internal set; }

        /// <summary>Responses seen from it.</summary>
        public long ResponseCount { get; internal set; }

        /// <summary>How many of the names it answered for were judged flux.</summary>
        public int FluxDomainCount { get; internal set; }

        /// <summary>Some of the flux names it answered, for the report.</summary>
        public string[] SampleFluxDomains { get; internal set; } = Array.Empty<string>();

        /// <summary>Listed in -KnownDnsServer.</summary>
        public bool IsKnownResolver { get; internal set; }

        /// <summary>Seen relaying SMTP/FTP/HTTP too (published by the relay analyser), or named with -HostAddress.</summary>
        public bool IsRelay { get; internal set; }

        public DateTime? FirstSeen { get; internal set; }
        public DateTime? LastSeen { get; internal set; }
    }

    /// <summary>A domain whose answers look fast-flux or double-flux, with the evidence.</summary>
    public sealed class FluxDomain : FluxFinding
    {
        public string Domain { get; internal set; } = string.Empty;

        /// <summary>Addresses seen in answers for the name over the whole capture (capped, see <see cref="AddressCount"/>).</summary>
        public string[] Addresses { get; internal set; } = Array.Empty<string>();

        /// <summary>Distinct addresses seen (may exceed the length of <see cref="Addresses"/> when capped).</summary>
        public int AddressCount { get; internal set; }

        /// <summary>Distinct /16 (IPv4) or /48 (IPv6) networks of the addresses.</summary>
        public int NetworkCount { get; internal set; }

        /// <summary>Distinct autonomous systems, when an ASN database was given; otherwise null.</summary>
        public int? AsnCount { get; internal set; }
        public int MinTtl { get; internal set; }
        public int MaxTtl { get; internal set; }

        /// <summary>Name servers seen for the name (NS records of the name or its zone).</summary>
        public string[] NameServers { get; internal set; } = Array.Empty<string>();

        /// <summary>Addresses of those name servers seen in the capture.</summary>
        public string[] NameServerAddresses { get; internal set; } = Array.Empty<string>();

        /// <summary>Distinct networks of <see cref="NameServerAddresses"/>.</summary>
        public int NameServerNetworkCount { get; internal set; }

        /// <summary>Times the answer set differed from the previous answer for the name.</summary>
        public int AnswerChangeCount { get; internal set; }

        /// <summary>Responses seen for the name.</summary>
        public long ResponseCount { get; internal set; }

        /// <summary>
        /// Queries for the name that the capture saw answered: one per response whose question is the name, so a query
        /// whose answer was not captured does not count. Flux names are ranked by it.
        /// </summary>
        public long QueryCount { get; internal set; }

        /// <summary>Holz et al. (NDSS 2008): 1.32·nA + 18.54·nASN − 142.38, with the /16 count standing in for nASN without an ASN database.</summary>
        public double FluxScore { get; internal set; }
        public bool IsFastFlux { get; internal set; }
        public bool IsDoubleFlux { get; internal set; }

        /// <summary>The name resolves to a host seen acting as a relay (or named with -HostAddress).</summary>
        public bool ResolvesToRelay { get; internal set; }

        /// <summary>DNS servers seen answering for the name.</summary>
        public string[] AnsweredBy { get; internal set; } = Array.Empty<string>();

        public DateTime? FirstSeen { get; internal set; }
        public DateTime? LastSeen { get; internal set; }
    }

    /// <summary>What a capture analysis read, always emitted last.</summary>
    public sealed class CaptureSummary : FluxFinding
    {
        public string[] Files { get; internal set; } = Array.Empty<string>();
        public long PacketCount { get; internal set; }
        public long ByteCount { get; internal set; }
        public DateTime? FirstPacketTime { get; internal set; }
        public DateTime? LastPacketTime { get; internal set; }

        /// <summary>Capture time covered (last minus first packet).</summary>
        public TimeSpan? TimeSpan { get; internal set; }
        /// <summary>
        /// Flows seen: TCP connections the reassembler followed (a SYN, or data of a connection picked up mid-stream) plus
        /// UDP and other 5-tuples (a 5-tuple idle longer than the flow timeout counts again when it comes back).
        /// </summary>
        public long FlowCount { get; internal set; }

        /// <summary>DNS messages read (UDP and TCP).</summary>
        public long DnsMessageCount { get; internal set; }

        /// <summary>Packets read per second of wall-clock time during the analysis.</summary>
        public double PacketsPerSecond { get; internal set; }

        /// <summary>Wall-clock time the analysis took.</summary>
        public TimeSpan Elapsed { get; internal set; }

        /// <summary>False when the analysis was stopped (Ctrl+C) before the end of the input.</summary>
        public bool Completed { get; internal set; } = true;

        /// <summary>Every parse issue (file, offset, what), up to the kept cap; see <see cref="ParseIssueCount"/>.</summary>
        public ParseIssue[] ParseIssues { get; internal set; } = Array.Empty<ParseIssue>();

        /// <summary>All parse issues counted, including those beyond the kept cap.</summary>
        public long ParseIssueCount { get; internal set; }
    }
}
