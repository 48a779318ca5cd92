using System;

namespace FluxForensics.Model
{
    /// <summary>What an indicator is; the join key of a <see cref="FluxCorrelation"/>.</summary>
    public enum IndicatorType
    {
        Sha256,
        Md5,
        Domain,
        Address,
        Account,
        Url,
    }

    /// <summary>The part a computer or an address played in the incident.</summary>
    public enum HostRole
    {
        /// <summary>A computer whose own findings (listener, autorun, USB trap) show the malware.</summary>
        InfectedHost,

        /// <summary>An address relaying SMTP/FTP/HTTP or answering DNS for others in a capture.</summary>
        Relay,

        /// <summary>A client of a relay (a bot of the botnet).</summary>
        Bot,

        /// <summary>An address handed out in the answers of a flux domain.</summary>
        FluxAgent,

        /// <summary>An upstream host the relay fetched executables from.</summary>
        MalwareHost,

        MailServer,
        FtpServer,
    }

    /// <summary>What a reputation source says of a file or a name.</summary>
    public enum ReputationVerdict
    {
        Unknown,
        Harmless,
        Suspicious,
        Malicious,
    }

    /// <summary>One piece of evidence behind an indicator: which finding saw it, where and when.</summary>
    public sealed class CorrelationEvidence
    {
        /// <summary>The finding's kind (FluxListener, SuspiciousAutorun, UsbLnkTrap, FluxDownload …).</summary>
        public string Kind { get; internal set; } = string.Empty;

        /// <summary>The computer the finding was made on.</summary>
        public string ComputerName { get; internal set; } = string.Empty;

        /// <summary>A path, an address:port, a registry key or a URL: where the indicator was seen.</summary>
        public string? Location { get; internal set; }

        /// <summary>When it was seen or written (UTC), when the finding has a time.</summary>
        public DateTime? Time { get; internal set; }

        /// <summary>What the finding says of the indicator in a few words ("listener image", "Run value target" …).</summary>
        public string Role { get; internal set; } = string.Empty;

        public Severity Severity { get; internal set; }
        public int RiskScore { get; internal set; }

        /// <summary>Index of the finding in <see cref="FluxIncident.Findings"/>; negative for a quarantine item given as evidence
        /// (-1 the first, -2 the second …), which is not a finding.</summary>
        public int FindingIndex { get; internal set; }

        public override string ToString() => $"{Kind} on {ComputerName}: {Location}";
    }

    /// <summary>An indicator seen in more than one piece of evidence, scored.</summary>
    public sealed class FluxCorrelation : FluxFinding
    {
        public string Indicator { get; internal set; } = string.Empty;
        public IndicatorType IndicatorType { get; internal set; }

        /// <summary>Every finding that named the indicator.</summary>
        public CorrelationEvidence[] Evidence { get; internal set; } = Array.Empty<CorrelationEvidence>();

        /// <summary>The distinct kinds of the evidence, in the order first seen.</summary>
        public string[] EvidenceKinds { get; internal set; } = Array.Empty<string>();

        /// <summary>The distinct computers the evidence came from.</summary>
        public string[] ComputerNames { get; internal set; } = Array.Empty<string>();

        /// <summary>File names a hash was seen under (mobile7.exe, click.exe …), or the names an address answered for.</summary>
        public string[] Names { get; internal set; } = Array.Empty<string>();

        /// <summary>What a reputation source said of the indicator, when a <see cref="FluxReputation"/> was given.</summary>
        public FluxReputation? Reputation { get; internal set; }

        public DateTime? FirstSeen { get; internal set; }
        public DateTime? LastSeen { get; internal set; }
    }

    /// <summary>One moment of the incident, from the times the findings carry.</summary>
    public sealed class FluxTimelineEvent
    {
        /// <summary>UTC.</summary>
        public DateTime Time { get; internal set; }
        public string ComputerName { get; internal set; } = string.Empty;

        /// <summary>The kind of the finding the event comes from.</summary>
        public string Kind { get; internal set; } = string.Empty;

        /// <summary>One line, e.g. "Run value CrashReportSaver written".</summary>
        public string Event { get; internal set; } = string.Empty;
        public string? Location { get; internal set; }
        public Severity Severity { get; internal set; }

        /// <summary>Index of the finding in <see cref="FluxIncident.Findings"/>; negative for a quarantine item given as evidence
        /// (-1 the first, -2 the second …), which is not a finding.</summary>
        public int FindingIndex { get; internal set; }

        public override string ToString() => $"{Time:yyyy-MM-ddTHH:mm:ssZ} {ComputerName} {Event}";
    }

    /// <summary>A computer or an address in the incident, with the roles it played.</summary>
    public sealed class FluxIncidentHost
    {
        /// <summary>A computer name (for findings made on it) or an address (seen in a capture).</summary>
        public string Name { get; internal set; } = string.Empty;

        /// <summary>True for a computer that findings were made on; false for an address seen on the wire.</summary>
        public bool IsComputer { get; internal set; }

        /// <summary>Addresses known to belong to the computer (from -ComputerAddress or its findings).</summary>
        public string[] Addresses { get; internal set; } = Array.Empty<string>();

        public HostRole[] Roles { get; internal set; } = Array.Empty<HostRole>();
        public Severity MaxSeverity { get; internal set; }
        public int MaxRiskScore { get; internal set; }

        /// <summary>Findings made on the computer or naming the address.</summary>
        public int FindingCount { get; internal set; }

        public DateTime? FirstSeen { get; internal set; }
        public DateTime? LastSeen { get; internal set; }

        /// <summary>Autonomous system of an address, when the capture was analysed with -AsnDatabase.</summary>
        public uint? Asn { get; internal set; }
        public string? AsOrganization { get; internal set; }

        /// <summary>ISO 3166 country code of an address, when the capture was analysed with -CountryDatabase.</summary>
        public string? Country { get; internal set; }
        public string? CountryName { get; internal set; }

        public override string ToString() => $"{Name} ({string.Join(", ", Roles)})";
    }

    /// <summary>An account whose password crossed the wire in clear: what the mail and FTP admins must reset.</summary>
    public sealed class FluxExposedAccount
    {
        public string Account { get; internal set; } = string.Empty;

        /// <summary>Smtp, Ftp, Http.</summary>
        public string Protocol { get; internal set; } = string.Empty;
        public string Server { get; internal set; } = string.Empty;
        public int ServerPort { get; internal set; }

        /// <summary>True when any login with it was accepted; null when no answer was seen.</summary>
        public bool? Accepted { get; internal set; }
        public DateTime? FirstSeen { get; internal set; }

        /// <summary>Logins seen with this account on this server.</summary>
        public int Sessions { get; internal set; }

        /// <summary>The secret as the finding carried it: <c>********</c> unless -IncludeSecret was used upstream.</summary>
        public string? Secret { get; internal set; }
    }

    /// <summary>A distinct malware file of the incident: one hash, every name and place it was seen.</summary>
    public sealed class FluxMalwareFile
    {
        public string Sha256 { get; internal set; } = string.Empty;
        public string? Md5 { get; internal set; }
        public string[] Names { get; internal set; } = Array.Empty<string>();
        public long? Size { get; internal set; }

        /// <summary>Paths and URLs it was seen at.</summary>
        public string[] Locations { get; internal set; } = Array.Empty<string>();
        public string[] ComputerNames { get; internal set; } = Array.Empty<string>();
        public string[] EvidenceKinds { get; internal set; } = Array.Empty<string>();
        public DateTime? FirstSeen { get; internal set; }
        public FluxReputation? Reputation { get; internal set; }
    }

    /// <summary>A flux domain ranked by the queries answered for it.</summary>
    public sealed class FluxRankedDomain
    {
        public string Domain { get; internal set; } = string.Empty;
        public long QueryCount { get; internal set; }
        public double FluxScore { get; internal set; }
        public bool IsDoubleFlux { get; internal set; }
        public int AddressCount { get; internal set; }
        public int RiskScore { get; internal set; }
        public DateTime? FirstSeen { get; internal set; }
        public DateTime? LastSeen { get; internal set; }
    }

    /// <summary>
    /// The incident: every finding given, joined by indicator across sources and computers, with its timeline, hosts and
    /// the summary a responder reports. Its own score is that of its worst correlation or finding.
    /// </summary>
    public sealed class FluxIncident : FluxFinding
    {
        public string Title { get; internal set; } = string.Empty;
        public DateTime? FirstSeen { get; internal set; }
        public DateTime? LastSeen { get; internal set; }

        /// <summary>Computers that findings were made on.</summary>
        public string[] ComputerNames { get; internal set; } = Array.Empty<string>();
        public int FindingCount { get; internal set; }

        /// <summary>Relay addresses (relaying SMTP/FTP/HTTP or proxying DNS), with the computers that own them where known.</summary>
        public string[] Relays { get; internal set; } = Array.Empty<string>();

        /// <summary>Distinct relay clients.</summary>
        public int BotCount { get; internal set; }
        public int FluxDomainCount { get; internal set; }

        /// <summary>Flux domains, most queried first.</summary>
        public FluxRankedDomain[] FluxDomains { get; internal set; } = Array.Empty<FluxRankedDomain>();
        public int MailServerCount { get; internal set; }
        public int FtpServerCount { get; internal set; }

        /// <summary>Upstream hosts executables were fetched from.</summary>
        public string[] MalwareHosts { get; internal set; } = Array.Empty<string>();
        public FluxExposedAccount[] ExposedAccounts { get; internal set; } = Array.Empty<FluxExposedAccount>();
        public FluxMalwareFile[] MalwareFiles { get; internal set; } = Array.Empty<FluxMalwareFile>();

        public FluxCorrelation[] Correlations { get; internal set; } = Array.Empty<FluxCorrelation>();
        public FluxTimelineEvent[] Timeline { get; internal set; } = Array.Empty<FluxTimelineEvent>();
        public FluxIncidentHost[] Hosts { get; internal set; } = Array.Empty<FluxIncidentHost>();

        /// <summary>Reputation findings given with the evidence.</summary>
        public FluxReputation[] Reputations { get; internal set; } = Array.Empty<FluxReputation>();

        /// <summary>Every finding the incident was built from; evidence and timeline events refer to them by index.</summary>
        public FluxFinding[] Findings { get; internal set; } = Array.Empty<FluxFinding>();
    }

    /// <summary>
    /// What a reputation source says of a file hash or a domain. <see cref="FluxFinding.Source"/> names the source:
    /// VirusTotal, the hash list's file name, or Cache.
    /// </summary>
    public sealed class FluxReputation : FluxFinding
    {
        public string? Sha256 { get; internal set; }
        public string? Domain { get; internal set; }

        /// <summary>The file's MD5 when the source gave it, or the MD5 looked up when a finding carried no SHA-256.</summary>
        public string? Md5 { get; internal set; }

        /// <summary>The hash or the name looked up.</summary>
        public string Indicator => Sha256 ?? Md5 ?? Domain ?? string.Empty;

        public ReputationVerdict Verdict { get; internal set; }

        /// <summary>Engines that said malicious; null when the source does not count engines (a hash list).</summary>
        public int? Malicious { get; internal set; }

        /// <summary>Engines that gave any verdict.</summary>
        public int? Total { get; internal set; }

        /// <summary>"29/57"; null when not counted.</summary>
        public string? Ratio { get; internal set; }

        /// <summary>Threat label (VirusTotal's suggested label, or the hash list's signature column).</summary>
        public string? Label { get; internal set; }
        public string[] Names { get; internal set; } = Array.Empty<string>();
        public DateTime? FirstSeen { get; internal set; }
        public DateTime? LastAnalysis { get; internal set; }

        /// <summary>The VirusTotal page of the file or domain.</summary>
        public string? Link { get; internal set; }
    }
}
