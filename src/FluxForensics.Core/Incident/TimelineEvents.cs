using System;
using System.Collections.Generic;
using FluxForensics.Model;

namespace FluxForensics.Incident
{
    /// <summary>
    /// The moments each kind of finding carries: process start, registry key write, file times, first and last DNS
    /// answer, relay session start, download time. Only times of the incident itself: when a scan ran is not one.
    /// </summary>
    internal static class TimelineEvents
    {
        public static void Read(FluxFinding finding, int index, List<FluxTimelineEvent> into)
        {
            void Add(DateTime? time, string text, string? location)
            {
                if (time is { } t && t.Year > 1601)
                {
                    into.Add(new FluxTimelineEvent
                    {
                        Time = t.Kind == DateTimeKind.Utc ? t : t.ToUniversalTime(),
                        ComputerName = finding.ComputerName,
                        Kind = finding.Kind,
                        Event = text,
                        Location = location,
                        Severity = finding.Severity,
                        FindingIndex = index,
                    });
                }
            }

            switch (finding)
            {
                case FluxListener l:
                    Add(l.ProcessStartTime, $"{l.ProcessName ?? "process " + l.ProcessId} started{(l.IsListening ? $", listens on {l.Protocol} {l.LocalPort}" : string.Empty)}", l.Path);
                    break;
                case SuspiciousAutorun a:
                    bool run = a.Location.EndsWith("\\Run", StringComparison.OrdinalIgnoreCase) || a.Location.EndsWith("\\RunOnce", StringComparison.OrdinalIgnoreCase);
                    Add(a.LastWriteTime, (a.EntryType == "RegistryValue"
                        ? $"{(run ? "Run" : "registry")} value {a.Name} written"
                        : $"{IndicatorSightings.Words(a.EntryType.Length == 0 ? "Autorun" : a.EntryType)} {a.Name} written")
                        + (a.RecoveredFromLog is null ? string.Empty : $" (only in the transaction log {a.RecoveredFromLog})"), a.EntryPath ?? a.Location);
                    break;
                case UsbLnkTrap u:
                    Add(u.PayloadLastWriteTime, $"{PathText.Leaf(u.PayloadPath) ?? "payload"} written to the stick", u.PayloadPath);
                    Add(u.ShortcutLastWriteTime, $"shortcut {PathText.Leaf(u.ShortcutPath)} written to the stick", u.ShortcutPath);
                    break;
                case FluxDomain d:
                    Add(d.FirstSeen, $"first DNS answer for {d.Domain}", string.Join(", ", d.AnsweredBy));
                    Add(d.LastSeen, $"last DNS answer for {d.Domain}", string.Join(", ", d.AnsweredBy));
                    break;
                case DnsProxy p:
                    Add(p.FirstSeen, $"{p.Address} first answers DNS for other hosts", p.Address);
                    Add(p.LastSeen, $"{p.Address} last answers DNS for other hosts", p.Address);
                    break;
                case RelaySession r:
                    Add(r.Start, $"{r.Protocol.ToUpperInvariant()} relayed from {r.Client} through {r.Relay} to {r.Server}{(r.Account is null ? string.Empty : $" (login {r.Account})")}", $"{r.Server}:{r.ServerPort}");
                    break;
                case FluxDownload d:
                    Add(d.Time, d.Relay is null
                        ? $"{d.FileName ?? "executable"} downloaded by {d.Client} from {d.Server}"
                        : $"{d.FileName ?? "executable"} relayed to {d.Client} from {d.Server}", d.Url);
                    break;
                case ExposedCredential c:
                    Add(c.Time, $"{c.Protocol.ToUpperInvariant()} login of {c.Account} to {c.Server} in clear text{(c.Accepted == true ? ", accepted" : c.Accepted == false ? ", refused" : string.Empty)}", $"{c.Server}:{c.ServerPort}");
                    break;
                case CaptureSummary s:
                    Add(s.FirstPacketTime, $"capture starts ({string.Join(", ", s.Files)})", string.Join(", ", s.Files));
                    Add(s.LastPacketTime, "capture ends", string.Join(", ", s.Files));
                    break;
                case FluxReputation rep:
                    Add(rep.FirstSeen, $"{rep.Indicator} first seen by {rep.Source}", rep.Link);
                    break;
            }
        }

        public static void Read(FluxQuarantineItem item, int index, List<FluxTimelineEvent> into)
        {
            if (item.QuarantinedAt.Year > 1601)
            {
                into.Add(new FluxTimelineEvent
                {
                    Time = item.QuarantinedAt.Kind == DateTimeKind.Utc ? item.QuarantinedAt : item.QuarantinedAt.ToUniversalTime(),
                    ComputerName = item.ComputerName,
                    Kind = nameof(FluxQuarantineItem),
                    Event = $"{item.OriginalPath} quarantined ({item.Action})",
                    Location = item.OriginalPath,
                    FindingIndex = index,
                });
            }
        }

        /// <summary>Time order, then a fixed order for events of the same moment, so two builds agree.</summary>
        public static int Compare(FluxTimelineEvent a, FluxTimelineEvent b)
        {
            int c = a.Time.CompareTo(b.Time);
            if (c == 0)
            {
                c = string.CompareOrdinal(a.ComputerName, b.ComputerName);
            }

            if (c == 0)
            {
                c = a.FindingIndex.CompareTo(b.FindingIndex);
            }

            return c == 0 ? string.CompareOrdinal(a.Event, b.Event) : c;
        }
    }
}
