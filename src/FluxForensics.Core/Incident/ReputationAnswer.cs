using System;

namespace FluxForensics.Incident
{
    /// <summary>What kind of indicator a reputation source is asked about.</summary>
    public enum ReputationIndicatorKind
    {
        Sha256,
        Md5,
        Domain,
    }

    /// <summary>Where an answer came from.</summary>
    public enum ReputationSourceKind
    {
        /// <summary>Nobody answered: the output says why.</summary>
        None,
        VirusTotal,
        HashList,
        Cache,
    }

    /// <summary>
    /// One distinct thing to look up: a lowercase SHA-256 or MD5, or a normalised domain name. A SHA-256 carries the MD5
    /// of the same file when the finding had both, so hash lists keyed by MD5 still match it.
    /// </summary>
    public sealed class ReputationQuery : IEquatable<ReputationQuery>
    {
        public ReputationQuery(ReputationIndicatorKind kind, string value, string? md5 = null)
        {
            Kind = kind;
            Value = value ?? throw new ArgumentNullException(nameof(value));
            Md5 = md5;
        }

        public ReputationIndicatorKind Kind { get; }

        public string Value { get; }

        /// <summary>The MD5 of the same file, for a SHA-256 query whose finding also carried one.</summary>
        public string? Md5 { get; internal set; }

        public bool IsFile => Kind != ReputationIndicatorKind.Domain;

        public bool Equals(ReputationQuery? other) => other is not null && other.Kind == Kind && other.Value == Value;

        public override bool Equals(object? obj) => Equals(obj as ReputationQuery);

        public override int GetHashCode() => ((int)Kind * 397) ^ StringComparer.Ordinal.GetHashCode(Value);

        public override string ToString() => Kind == ReputationIndicatorKind.Domain ? Value : $"{Kind} {Value}";
    }

    /// <summary>
    /// A source's raw answer about one query, before the rules judge it: engine counts, names, dates. Sources fill it;
    /// <see cref="Detection.ReputationRules"/> turns it into a verdict and a score.
    /// </summary>
    public sealed class ReputationAnswer
    {
        public ReputationAnswer(ReputationQuery query, ReputationSourceKind sourceKind, string sourceName)
        {
            Query = query;
            SourceKind = sourceKind;
            SourceName = sourceName;
        }

        public ReputationQuery Query { get; }

        public ReputationSourceKind SourceKind { get; internal set; }

        /// <summary>"VirusTotal", the hash list's file name, "Cache", or "None".</summary>
        public string SourceName { get; internal set; }

        /// <summary>False when the source has never seen the indicator (VirusTotal's NotFoundError).</summary>
        public bool Known { get; internal set; }

        public string? Sha256 { get; internal set; }
        public string? Md5 { get; internal set; }
        public string? Domain { get; internal set; }

        /// <summary>Engine counts of the last analysis; null when the source does not count engines.</summary>
        public int? Malicious { get; internal set; }
        public int? Suspicious { get; internal set; }
        public int? Harmless { get; internal set; }
        public int? Undetected { get; internal set; }

        /// <summary>The sum of every category of the last analysis.</summary>
        public int? Total { get; internal set; }

        public string? Label { get; internal set; }
        public string[] Names { get; internal set; } = Array.Empty<string>();
        public DateTime? FirstSeen { get; internal set; }
        public DateTime? LastAnalysis { get; internal set; }

        /// <summary>For an answer from the cache: when VirusTotal gave it (UTC).</summary>
        public DateTime? CachedAt { get; internal set; }

        /// <summary>For a hash-list answer: the list's detection percentage column (MalwareBazaar's vtpercent), when given.</summary>
        public double? ListedPercent { get; internal set; }

        /// <summary>For <see cref="ReputationSourceKind.None"/>: why no source answered.</summary>
        public string? Unanswered { get; internal set; }

        internal ReputationAnswer CloneAs(ReputationSourceKind kind, string name, DateTime? cachedAt)
        {
            var copy = (ReputationAnswer)MemberwiseClone();
            copy.SourceKind = kind;
            copy.SourceName = name;
            copy.CachedAt = cachedAt;
            return copy;
        }
    }
}
