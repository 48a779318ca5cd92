using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Net;
using FluxForensics.Model;

namespace FluxForensics.Export
{
    /// <summary>The files Export-FluxIndicator writes.</summary>
    public enum IndicatorFormat
    {
        Stix,
        ZeekIntel,
        Csv,
        Rpz,
        Text,
        Accounts,
    }

    /// <summary>Traffic Light Protocol 2.0 levels (FIRST), as the STIX marking definitions name them.</summary>
    public enum TlpLevel
    {
        Clear,
        Green,
        Amber,
        AmberStrict,
        Red,
    }

    /// <summary>What goes into an indicator export and how it is labelled.</summary>
    public sealed class IndicatorExportOptions
    {
        /// <summary>Who produced the indicators: the STIX identity's name and Zeek's meta.source.</summary>
        public string Producer { get; set; } = "FluxForensics";

        public TlpLevel Tlp { get; set; } = TlpLevel.Amber;

        /// <summary>Export the addresses flux names resolved to (compromised machines of other people, often on home networks).</summary>
        public bool IncludeFluxAgents { get; set; }

        /// <summary>Export the relay and the analysed computers' own addresses as indicators too.</summary>
        public bool IncludeAnalyzedHost { get; set; }

        /// <summary>Names (and their subdomains) never exported: the analyst's own and partner domains, CDNs.</summary>
        public IList<string> ExcludeDomains { get; set; } = new List<string>();

        /// <summary>The analyst's own resolvers: never exported, even when they answered flux names.</summary>
        public IList<string> KnownDnsServers { get; set; } = new List<string>();

        /// <summary>Further addresses of the analysed host (besides the relays and computers the incident knows).</summary>
        public IList<string> AnalyzedHostAddresses { get; set; } = new List<string>();

        /// <summary>The malware family's name; by default the reputation label, else named after the malware files.</summary>
        public string? FamilyName { get; set; }

        /// <summary>Origin of the RPZ zone; names are written relative to it.</summary>
        public string RpzOrigin { get; set; } = "rpz.local";

        /// <summary>The export's time (STIX modified, RPZ serial); the current time when null.</summary>
        public DateTime? Now { get; set; }

        internal DateTime ExportTime => (Now ?? DateTime.UtcNow).ToUniversalTime();
    }

    /// <summary>One indicator as it is exported: what to block or watch for, and why.</summary>
    public sealed class ExportedIndicator
    {
        internal ExportedIndicator(IndicatorType type, string value)
        {
            Type = type;
            Value = value;
        }

        public IndicatorType Type { get; }
        public string Value { get; }

        /// <summary>Why it is an indicator, in a few words ("fast-flux domain, flux score 412", "malware host serving mobile7.exe").</summary>
        public string Context { get; internal set; } = string.Empty;

        /// <summary>The part the thing played: FluxDomain, MalwareFile, MalwareHost, FluxAgent, PhishingUrl, DownloadUrl, AnalyzedHost.</summary>
        public string Role { get; internal set; } = string.Empty;

        public DateTime? FirstSeen { get; internal set; }
        public DateTime? LastSeen { get; internal set; }
        public int RiskScore { get; internal set; }
        public Severity Severity { get; internal set; }

        /// <summary>Where it was seen: the capture files, images or computers of the evidence.</summary>
        public string Source { get; internal set; } = string.Empty;

        /// <summary>VirusTotal (or other) page of the indicator, when a reputation source gave one.</summary>
        public string? Link { get; internal set; }

        /// <summary>The source that gave <see cref="Link"/> (VirusTotal, a hash list).</summary>
        public string? LinkSource { get; internal set; }

        /// <summary>The reputation label (malware family) a source gave, when one did.</summary>
        public string? Label { get; internal set; }

        public override string ToString() => $"{Type} {Value}";
    }

    /// <summary>
    /// The indicators of an incident worth sharing, judged once for every format: flux names the capture analysis itself
    /// called flux, malware hashes, upstream malware hosts, URLs of relayed phishing mail and, when asked, flux agents and
    /// the analysed host. Never: names the analysis did not call flux, the analyst's excluded names and known resolvers,
    /// harmless-rated files, the analysed host (unless asked), or any secret.
    /// </summary>
    public sealed partial class IndicatorSet
    {
        private IndicatorSet(IReadOnlyList<ExportedIndicator> indicators, FluxExposedAccount[] accounts, string familyName, DateTime? firstSeen, DateTime? lastSeen, string title)
        {
            Indicators = indicators;
            Accounts = accounts;
            FamilyName = familyName;
            FirstSeen = firstSeen;
            LastSeen = lastSeen;
            Title = title;
        }

        public IReadOnlyList<ExportedIndicator> Indicators { get; }

        /// <summary>Exposed accounts (no secret is ever written from these).</summary>
        public FluxExposedAccount[] Accounts { get; }

        public string FamilyName { get; }
        public DateTime? FirstSeen { get; }
        public DateTime? LastSeen { get; }
        public string Title { get; }

        public IEnumerable<ExportedIndicator> OfType(IndicatorType type) => Indicators.Where(i => i.Type == type);

        public static IndicatorSet From(FluxIncident incident, IndicatorExportOptions options)
        {
            if (incident is null)
            {
                throw new ArgumentNullException(nameof(incident));
            }

            if (options is null)
            {
                throw new ArgumentNullException(nameof(options));
            }

            return new Collector(incident, options).Collect();
        }

        /// <summary>Lowercase, no trailing dot, trimmed; null when nothing is left.</summary>
        internal static string? NormalizeName(string? name)
        {
            if (name is null)
            {
                return null;
            }

            string n = name.Trim().TrimEnd('.').ToLowerInvariant();
            return n.Length == 0 ? null : n;
        }

        /// <summary>
        /// A URL without the password of its user information (ftp://user:secret@host/ → ftp://user@host/), trimmed; null when
        /// it is no absolute URL. Downloads fetched with a login carry it in the URL, and passwords are never exported.
        /// </summary>
        internal static string? CleanUrl(string? url)
        {
            if (url is null)
            {
                return null;
            }

            string u = url.Trim();
            int scheme = u.IndexOf("://", StringComparison.Ordinal);
            if (scheme <= 0 || u.Length == scheme + 3 || u.Any(c => c <= ' ' || c == '\u007f'))
            {
                return null;
            }

            int authorityStart = scheme + 3;
            int authorityEnd = u.IndexOfAny(new[] { '/', '?', '#' }, authorityStart);
            if (authorityEnd < 0)
            {
                authorityEnd = u.Length;
            }

            int at = u.LastIndexOf('@', authorityEnd - 1, authorityEnd - authorityStart);
            if (at >= authorityStart)
            {
                int colon = u.IndexOf(':', authorityStart, at - authorityStart);
                if (colon >= 0)
                {
                    u = u.Substring(0, colon) + u.Substring(at);
                }
            }

            return u;
        }

        /// <summary>The host part of a URL (name or address), normalised; null when there is none.</summary>
        internal static string? UrlHost(string url)
        {
            int scheme = url.IndexOf("://", StringComparison.Ordinal);
            if (scheme < 0)
            {
                return null;
            }

            int start = scheme + 3;
            int end = url.IndexOfAny(new[] { '/', '?', '#' }, start);
            string authority = end < 0 ? url.Substring(start) : url.Substring(start, end - start);
            int at = authority.LastIndexOf('@');
            if (at >= 0)
            {
                authority = authority.Substring(at + 1);
            }

            if (authority.StartsWith("[", StringComparison.Ordinal))
            {
                int close = authority.IndexOf(']');
                return close > 0 ? IndicatorText.Address(authority.Substring(1, close - 1)) : null;
            }

            int port = authority.LastIndexOf(':');
            if (port >= 0)
            {
                authority = authority.Substring(0, port);
            }

            return IndicatorText.Address(authority) ?? NormalizeName(authority);
        }
    }
}
