using System.Globalization;
using FluxForensics.Incident;
using FluxForensics.Model;

namespace FluxForensics.Detection
{
    /// <summary>
    /// How much a reputation answer weighs, and why. Pure: reads the answer, returns the verdict and reasons.
    /// <para>
    /// The verdict follows the engines: a few engines flag plenty of clean installers (packers, adware heuristics), so
    /// one or two detections are Suspicious and <see cref="MaliciousEngines"/> or more are Malicious. A hash list of
    /// known malware (MalwareBazaar and the like) is a deliberate, curated listing: Malicious on its own.
    /// </para>
    /// </summary>
    internal static class ReputationRules
    {
        /// <summary>Engines that must say malicious for the Malicious verdict.</summary>
        public const int MaliciousEngines = 3;

        /// <summary>Engines at which the detection is broad rather than a few vendors' opinion.</summary>
        public const int ManyEngines = 10;

        public const int ManyEnginesPoints = 85;
        public const int SeveralEnginesPoints = 65;
        public const int FewEnginesPoints = 35;
        public const int SuspiciousOnlyPoints = 20;
        public const int ListedPoints = 75;
        public const int ThreatLabelPoints = 5;

        public static ReputationVerdict VerdictOf(ReputationAnswer answer)
        {
            if (answer.SourceKind == ReputationSourceKind.HashList)
            {
                return ReputationVerdict.Malicious;
            }

            if (!answer.Known || answer.Total is null or 0)
            {
                return ReputationVerdict.Unknown;
            }

            int malicious = answer.Malicious ?? 0;
            if (malicious >= MaliciousEngines)
            {
                return ReputationVerdict.Malicious;
            }

            return malicious > 0 || (answer.Suspicious ?? 0) > 0 ? ReputationVerdict.Suspicious : ReputationVerdict.Harmless;
        }

        public static ScoreCard Score(ReputationAnswer answer, ReputationVerdict verdict)
        {
            var card = new ScoreCard();
            string what = answer.Query.IsFile ? "file" : "domain";
            if (answer.SourceKind == ReputationSourceKind.None)
            {
                return card.Add($"no source knows this {what}{(answer.Unanswered is null ? string.Empty : ": " + answer.Unanswered)}", 0);
            }

            if (answer.SourceKind == ReputationSourceKind.HashList)
            {
                card.Add($"listed in the hash list {answer.SourceName}", ListedPoints)
                    .AddIf(answer.Label is not null, $"listed as {answer.Label}", ThreatLabelPoints)
                    .AddIf(answer.ListedPercent is not null, $"the list gives {answer.ListedPercent?.ToString("0.##", CultureInfo.InvariantCulture)} % detection", 0);
                return card;
            }

            if (!answer.Known)
            {
                card.Add($"VirusTotal has never seen this {what}", 0);
            }
            else
            {
                int malicious = answer.Malicious ?? 0;
                int suspicious = answer.Suspicious ?? 0;
                string ratio = $"{malicious}/{answer.Total ?? 0}";
                if (malicious >= ManyEngines)
                {
                    card.Add($"{ratio} engines call it malicious", ManyEnginesPoints);
                }
                else if (malicious >= MaliciousEngines)
                {
                    card.Add($"{ratio} engines call it malicious", SeveralEnginesPoints);
                }
                else if (malicious > 0)
                {
                    card.Add($"{ratio} engines call it malicious (too few for a verdict)", FewEnginesPoints);
                }
                else if (suspicious > 0)
                {
                    card.Add($"{suspicious} engines call it suspicious, none malicious", SuspiciousOnlyPoints);
                }
                else if (verdict == ReputationVerdict.Harmless)
                {
                    card.Add($"no engine flags it ({ratio})", 0);
                }
                else
                {
                    card.Add("VirusTotal knows it but has no engine results", 0);
                }

                card.AddIf(answer.Label is not null && verdict != ReputationVerdict.Harmless, $"labelled {answer.Label}", ThreatLabelPoints);
            }

            if (answer.SourceKind == ReputationSourceKind.Cache && answer.CachedAt is { } at)
            {
                card.Add($"VirusTotal's answer from the cache, {at.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture)}", 0);
            }

            return card;
        }
    }
}
