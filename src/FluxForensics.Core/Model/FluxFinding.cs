using System;
using System.Collections.Generic;
using System.Linq;

namespace FluxForensics.Model
{
    /// <summary>How bad a finding is; derived from <see cref="FluxFinding.RiskScore"/>.</summary>
    public enum Severity
    {
        Info = 0,
        Low = 1,
        Medium = 2,
        High = 3,
        Critical = 4,
    }

    /// <summary>One reason that contributed to a finding's score, with its points (negative lowers the score).</summary>
    public sealed class FindingReason
    {
        public FindingReason(string reason, int points)
        {
            Reason = reason ?? throw new ArgumentNullException(nameof(reason));
            Points = points;
        }

        public string Reason { get; }
        public int Points { get; }

        public override string ToString() => Points == 0 ? Reason : $"{Reason} ({(Points > 0 ? "+" : string.Empty)}{Points})";
    }

    /// <summary>
    /// Base of everything a FluxForensics cmdlet emits as a finding. Properties are the public contract of DESIGN.md:
    /// add freely, rename none.
    /// </summary>
    public abstract class FluxFinding
    {
        protected FluxFinding()
        {
            ComputerName = LocalComputer.Name;
            ObservedAt = DateTime.UtcNow;
        }

        /// <summary>The computer the finding was made on (the analysing host for capture findings).</summary>
        public string ComputerName { get; internal set; }

        /// <summary>The type's short name, kept as a plain property so JSON and CSV exports keep it.</summary>
        public string Kind => GetType().Name;

        /// <summary>0 to 100, the sum of the reasons' points, clamped.</summary>
        public int RiskScore { get; internal set; }

        public Severity Severity { get; internal set; }

        public FindingReason[] Reasons { get; internal set; } = Array.Empty<FindingReason>();

        /// <summary><c>Live</c>, or the capture file / image / root path the finding came from.</summary>
        public string Source { get; internal set; } = "Live";

        /// <summary>When the finding was made, UTC.</summary>
        public DateTime ObservedAt { get; internal set; }

        /// <summary>Sets <see cref="RiskScore"/>, <see cref="Severity"/> and <see cref="Reasons"/> from the reasons given.</summary>
        internal void SetScore(IEnumerable<FindingReason> reasons) => SetScore(reasons.ToArray());

        internal void SetScore(ScoreCard card) => SetScore(card.ToArray());

        private void SetScore(FindingReason[] reasons)
        {
            Reasons = reasons;
            int sum = 0;
            foreach (var r in reasons)
            {
                sum += r.Points;
            }

            RiskScore = Scoring.Clamp(sum);
            Severity = Scoring.SeverityOf(RiskScore);
        }
    }

    /// <summary>A finding about a file on disk: the image of a process, the target of an autorun, a USB payload.</summary>
    public abstract class FileFinding : FluxFinding
    {
        public string? Path { get; internal set; }
        public string? Sha256 { get; internal set; }
        public bool IsHidden { get; internal set; }
        public string? CompanyName { get; internal set; }
        public string? FileDescription { get; internal set; }

        /// <summary>Signed, Unsigned, Invalid, NotChecked, CatalogSigned, Missing (WinVerifyTrust on Windows), or Valid,
        /// HashMismatch, NotSigned, Untrusted, MalformedSignature (the embedded signature checked without WinVerifyTrust).</summary>
        public string? SignatureStatus { get; internal set; }

        /// <summary>The subject of the embedded signature's signing certificate, or null when there is none.</summary>
        public string? Signer { get; internal set; }
    }

    /// <summary>Maps score to severity. The bands are part of the contract users filter on.</summary>
    public static class Scoring
    {
        public static int Clamp(int score) => score < 0 ? 0 : score > 100 ? 100 : score;

        public static Severity SeverityOf(int score) =>
            score >= 80 ? Severity.Critical :
            score >= 60 ? Severity.High :
            score >= 30 ? Severity.Medium :
            score >= 10 ? Severity.Low :
            Severity.Info;

        /// <summary>The lowest score of a severity band, for -MinimumSeverity style filters.</summary>
        public static int MinimumScoreOf(Severity severity) => severity switch
        {
            Severity.Critical => 80,
            Severity.High => 60,
            Severity.Medium => 30,
            Severity.Low => 10,
            _ => 0,
        };
    }

    /// <summary>Collects reasons with points while a rule runs.</summary>
    public sealed class ScoreCard
    {
        private readonly List<FindingReason> _reasons = new List<FindingReason>(8);

        public IReadOnlyList<FindingReason> Reasons => _reasons;

        internal FindingReason[] ToArray() => _reasons.ToArray();

        public int Total => Scoring.Clamp(_reasons.Sum(r => r.Points));

        public ScoreCard Add(string reason, int points)
        {
            _reasons.Add(Shared(reason, points));
            return this;
        }

        private const int MaxSharedReasons = 4096;
        private static readonly System.Collections.Concurrent.ConcurrentDictionary<(string, int), FindingReason> SharedReasons =
            new System.Collections.Concurrent.ConcurrentDictionary<(string, int), FindingReason>();

        /// <summary>
        /// One instance per reason text and points (reasons are immutable): a capture's hundreds of thousands of
        /// findings mostly give the same few reasons, and each no longer keeps its own copies. Bounded; past the bound
        /// reasons are simply not shared.
        /// </summary>
        private static FindingReason Shared(string reason, int points)
        {
            if (SharedReasons.TryGetValue((reason, points), out var shared))
            {
                return shared;
            }

            var created = new FindingReason(reason, points);
            return SharedReasons.Count < MaxSharedReasons ? SharedReasons.GetOrAdd((reason, points), created) : created;
        }

        public ScoreCard AddIf(bool condition, string reason, int points) => condition ? Add(reason, points) : this;
    }

    /// <summary>The name findings carry as ComputerName; one place so tests and remoting agree.</summary>
    public static class LocalComputer
    {
        public static string Name { get; } = Environment.MachineName;

        public static bool IsThis(string? computerName) =>
            computerName is null || computerName.Length == 0 ||
            string.Equals(computerName, Name, StringComparison.OrdinalIgnoreCase) ||
            string.Equals(computerName, "localhost", StringComparison.OrdinalIgnoreCase) ||
            computerName == "." || computerName == "127.0.0.1" || computerName == "::1";
    }
}
