using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text;
using FluxForensics.Export;

namespace FluxForensics.Sweep
{
    /// <summary>
    /// One line that says what a finding is about, for the event log and syslog where a reader sees text, not objects:
    /// "High (70) FluxListener on pc17: Tcp 0.0.0.0:80 mobile7.exe (pid 4242) C:\...\mobile7.exe".
    /// </summary>
    public static class FindingSummary
    {
        public static string Of(FindingRecord record)
        {
            string subject = Subject(record);
            return $"{record.Severity} ({record.RiskScore.ToString(CultureInfo.InvariantCulture)}) {record.Kind} on {record.ComputerName}" +
                (subject.Length > 0 ? ": " + subject : string.Empty);
        }

        /// <summary>The summary, then one line per reason with its points.</summary>
        public static string WithReasons(FindingRecord record, string newLine = "\n", string indent = "  ")
        {
            var text = new StringBuilder(Of(record));
            foreach (var reason in record.Reasons)
            {
                text.Append(newLine).Append(indent);
                text.Append(reason.Points >= 0 ? "+" : string.Empty).Append(reason.Points.ToString(CultureInfo.InvariantCulture)).Append(' ');
                text.Append(reason.Reason);
            }

            return text.ToString();
        }

        private static string Subject(FindingRecord r)
        {
            switch (r.Kind)
            {
                case "FluxListener":
                    return Join(T(r, "Protocol"), Endpoint(T(r, "LocalAddress"), T(r, "LocalPort")), T(r, "ProcessName"), Wrap("pid ", T(r, "ProcessId")), T(r, "Path"));
                case "SuspiciousAutorun":
                    return Join(T(r, "Name"), Wrap("in ", T(r, "Location")), Wrap("runs ", T(r, "ImagePath") ?? T(r, "Command")));
                case "UsbLnkTrap":
                    return Join(T(r, "ShortcutPath"), Wrap("-> ", T(r, "TargetPath")), Wrap("payload ", T(r, "PayloadPath")), T(r, "PayloadSha256"));
                case "FluxDomain":
                    return Join(T(r, "Domain"), Wrap("networks ", T(r, "NetworkCount")), Wrap("flux score ", T(r, "FluxScore")));
                case "DnsProxy":
                    return Join(T(r, "Address"), Wrap("clients ", T(r, "ClientCount")), Wrap("domains ", T(r, "DomainCount")));
                case "RelaySession":
                    return Join(T(r, "Protocol"), Path(T(r, "Client"), T(r, "Relay"), T(r, "Server")), Wrap("account ", T(r, "Account")));
                case "FluxDownload":
                    return Join(T(r, "Url") ?? T(r, "FileName"), Path(T(r, "Client"), T(r, "Relay"), T(r, "Server")), T(r, "Sha256"));
                case "ExposedCredential":
                    return Join(T(r, "Protocol"), Wrap("account ", T(r, "Account")), Wrap("at ", T(r, "Server")));
                default:
                    return r.Source == "Live" ? string.Empty : r.Source;
            }
        }

        private static string? T(FindingRecord r, string name) => r[name] switch
        {
            null => null,
            string s => s.Length == 0 ? null : s,
            IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
            object o => o.ToString(),
        };

        private static string? Wrap(string prefix, string? value) => value is null ? null : prefix + value;

        private static string? Endpoint(string? address, string? port) =>
            address is null ? null : port is null ? address : (address.IndexOf(':') >= 0 ? $"[{address}]:{port}" : $"{address}:{port}");

        private static string? Path(params string?[] hops)
        {
            var present = new List<string>();
            foreach (var hop in hops)
            {
                if (hop is not null)
                {
                    present.Add(hop);
                }
            }

            return present.Count == 0 ? null : string.Join(" -> ", present);
        }

        private static string Join(params string?[] parts)
        {
            var present = new List<string>();
            foreach (var part in parts)
            {
                if (!string.IsNullOrEmpty(part))
                {
                    present.Add(part!);
                }
            }

            return string.Join(" ", present);
        }
    }
}
