using System;
using System.Collections.Generic;
using System.Linq;
using FluxForensics.Model;

namespace FluxForensics.Detection
{
    /// <summary>What the joiner learnt about one indicator seen in several pieces of evidence (no judgement).</summary>
    public sealed class CorrelationFacts
    {
        public IndicatorType Type { get; set; }
        public string Indicator { get; set; } = string.Empty;

        /// <summary>The distinct roles it was seen in ("listener image", "relay", "bot" …).</summary>
        public IReadOnlyCollection<string> Roles { get; set; } = Array.Empty<string>();
        public int EvidenceCount { get; set; }

        /// <summary>Computers whose host findings (listener, autorun, USB, quarantine) named it.</summary>
        public IReadOnlyCollection<string> HostComputers { get; set; } = Array.Empty<string>();

        /// <summary>Distinct relays a bot address used.</summary>
        public int RelayCount { get; set; }

        /// <summary>Distinct servers an account logged in to.</summary>
        public int ServerCount { get; set; }
        public bool AnyAccepted { get; set; }
        public Severity MaxEvidenceSeverity { get; set; }
        public FluxReputation? Reputation { get; set; }
    }

    /// <summary>Scores correlations and the incident. Pure: every point has a reason.</summary>
    public static class IncidentRules
    {
        // The same file in each of these places is one more independent witness that it is the malware.
        public const int ListenerImagePoints = 25;
        public const int AutorunTargetPoints = 25;
        public const int UsbPayloadPoints = 25;
        public const int DownloadPoints = 20;
        public const int QuarantinedPoints = 10;
        public const int SpreadPoints = 15;

        public const int FluxDomainPoints = 30;
        public const int OtherDomainUsePoints = 20;

        public const int RelayOwnedByComputerPoints = 50;
        public const int BotOfSeveralRelaysPoints = 30;
        public const int MalwareHostPoints = 25;
        public const int MalwareHostAlsoFluxAgentPoints = 20;
        public const int OtherAddressRolePoints = 10;

        public const int AccountOnSeveralServersPoints = 20;
        public const int AccountSeenAgainPoints = 10;
        public const int AccountAcceptedPoints = 10;

        public const int UrlPoints = 15;
        public const int UrlSpreadPoints = 10;

        public const int EvidenceHighPoints = 10;
        public const int EvidenceCriticalPoints = 15;
        public const int MaliciousPoints = 30;
        public const int SuspiciousPoints = 15;
        public const int HarmlessPoints = -30;

        public static ScoreCard Score(CorrelationFacts f)
        {
            var card = new ScoreCard();
            switch (f.Type)
            {
                case IndicatorType.Sha256:
                case IndicatorType.Md5:
                    card.AddIf(f.Roles.Contains("listener image"), "the image of a listening process", ListenerImagePoints);
                    card.AddIf(f.Roles.Any(r => r.EndsWith(" target", StringComparison.Ordinal)), $"the target of an autorun ({string.Join(", ", f.Roles.Where(r => r.EndsWith(" target", StringComparison.Ordinal)))})", AutorunTargetPoints);
                    card.AddIf(f.Roles.Contains("USB payload"), "the payload of a USB shortcut trap", UsbPayloadPoints);
                    card.AddIf(f.Roles.Any(r => r.EndsWith(" download", StringComparison.Ordinal)), "carried over the network as an executable download", DownloadPoints);
                    card.AddIf(f.Roles.Contains("quarantined file"), "quarantined by an earlier cleanup", QuarantinedPoints);
                    card.AddIf(f.HostComputers.Count >= 2, $"on {f.HostComputers.Count} computers ({string.Join(", ", f.HostComputers.Take(5))}{(f.HostComputers.Count > 5 ? ", …" : string.Empty)}): how it spread", SpreadPoints);
                    break;
                case IndicatorType.Domain:
                    card.AddIf(f.Roles.Contains("flux domain"), "a fast-flux domain", FluxDomainPoints);
                    foreach (string role in f.Roles.Where(r => r != "flux domain" && r != "answered name"))
                    {
                        card.Add($"also the {role}", OtherDomainUsePoints);
                    }

                    break;
                case IndicatorType.Address:
                    bool relay = f.Roles.Contains("relay") || f.Roles.Contains("DNS proxy");
                    bool owned = f.Roles.Any(r => r.StartsWith("address ", StringComparison.Ordinal));
                    card.AddIf(relay && owned, "a relay in the capture is a computer with host findings: the infected host", RelayOwnedByComputerPoints);
                    card.AddIf(f.RelayCount >= 2, $"a bot using {f.RelayCount} relays", BotOfSeveralRelaysPoints);
                    bool malwareHost = f.Roles.Contains("malware host");
                    card.AddIf(malwareHost, "an upstream host executables were fetched from", MalwareHostPoints);
                    card.AddIf(malwareHost && f.Roles.Contains("flux agent"), "also handed out as a flux agent", MalwareHostAlsoFluxAgentPoints);
                    int others = f.Roles.Count(r => !(r == "relay" || r == "DNS proxy" || r == "malware host" || r.StartsWith("address ", StringComparison.Ordinal) || (malwareHost && r == "flux agent")));
                    card.AddIf(others >= 2 || (others >= 1 && (relay || malwareHost || owned)),
                        $"seen as {string.Join(", ", f.Roles)}", OtherAddressRolePoints);
                    break;
                case IndicatorType.Account:
                    card.AddIf(f.ServerCount >= 2, $"used on {f.ServerCount} servers", AccountOnSeveralServersPoints);
                    card.AddIf(f.ServerCount < 2, "seen in several logins", AccountSeenAgainPoints);
                    card.AddIf(f.AnyAccepted, "a server accepted the login: the password works and must be reset", AccountAcceptedPoints);
                    break;
                case IndicatorType.Url:
                    card.Add($"in {f.EvidenceCount} pieces of evidence", UrlPoints);
                    card.AddIf(f.EvidenceCount >= 10, "spread widely", UrlSpreadPoints);
                    break;
            }

            card.AddIf(f.MaxEvidenceSeverity == Severity.Critical, "a Critical finding names it", EvidenceCriticalPoints);
            card.AddIf(f.MaxEvidenceSeverity == Severity.High, "a High finding names it", EvidenceHighPoints);
            if (f.Reputation is { } rep)
            {
                string said = $"{rep.Source}: {rep.Verdict}{(rep.Ratio is null ? string.Empty : $" ({rep.Ratio})")}{(rep.Label is null ? string.Empty : $", {rep.Label}")}";
                card.AddIf(rep.Verdict == ReputationVerdict.Malicious, said, MaliciousPoints);
                card.AddIf(rep.Verdict == ReputationVerdict.Suspicious, said, SuspiciousPoints);
                card.AddIf(rep.Verdict == ReputationVerdict.Harmless, said, HarmlessPoints);
            }

            return card;
        }

        /// <summary>The incident is as bad as its worst correlation or finding; the reasons say which.</summary>
        public static ScoreCard ScoreIncident(FluxCorrelation? worstCorrelation, FluxFinding? worstFinding, int correlationCount, int findingCount)
        {
            var card = new ScoreCard();
            int correlation = worstCorrelation?.RiskScore ?? 0;
            int finding = worstFinding?.RiskScore ?? 0;
            if (worstCorrelation is not null && correlation >= finding)
            {
                card.Add($"worst correlation: {worstCorrelation.IndicatorType} {worstCorrelation.Indicator} in {string.Join(", ", worstCorrelation.EvidenceKinds)}", correlation);
            }
            else if (worstFinding is not null)
            {
                card.Add($"worst finding: {worstFinding.Kind} ({worstFinding.Severity}) on {worstFinding.ComputerName}", finding);
            }

            card.Add($"{correlationCount} correlations over {findingCount} findings", 0);
            return card;
        }
    }
}
