using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text;
using FluxForensics.Model;

namespace FluxForensics.Detection
{
    /// <summary>Everything the autorun rules look at, gathered by the sources beforehand. No I/O past this point.</summary>
    public sealed class AutorunFacts
    {
        public string Name { get; set; } = string.Empty;
        public string EntryType { get; set; } = string.Empty;

        /// <summary>True when the name is a label someone chose (a Run value, task, unit, shortcut).</summary>
        public bool NameIsLabel { get; set; }
        public bool IsWindows { get; set; }
        public bool Enabled { get; set; } = true;

        /// <summary>What finally runs, as the entry states it (after unwrapping launchers).</summary>
        public string? ImagePath { get; set; }
        public bool ImageExists { get; set; }
        public bool IsUrl { get; set; }
        public bool IsHidden { get; set; }
        public string? HiddenReason { get; set; }

        /// <summary>Why the target's place is user-writable or temporary, or null.</summary>
        public string? UserWritableReason { get; set; }
        public bool IsPe { get; set; }
        public bool HasVersionInfo { get; set; }
        public string? CompanyName { get; set; }
        public string? FileDescription { get; set; }
        public string? OriginalFilename { get; set; }
        public string? SignatureStatus { get; set; }

        /// <summary>The embedded signature's signer subject, and whether it was checked here to chain to a Microsoft root.</summary>
        public string? Signer { get; set; }
        public bool ChainsToMicrosoftRoot { get; set; }

        /// <summary>The launchers passed through (cmd.exe, powershell.exe, rundll32.exe …), outermost first.</summary>
        public IReadOnlyList<string> Launchers { get; set; } = Array.Empty<string>();

        /// <summary>When the entry (key, file) or the target was last written, whichever is later.</summary>
        public DateTime? LastWritten { get; set; }

        /// <summary>What else was seen running the same SHA-256 (a listener image, a USB payload), or null.</summary>
        public string? CorrelatedWith { get; set; }

        /// <summary>The transaction log(s) the entry exists in while the hive file does not hold it yet, or null.</summary>
        public string? RecoveredFromLog { get; set; }

        /// <summary>What the entry's kind adds (the WMI filter, the machine registration a COM hijack shadows).</summary>
        public string? Detail { get; set; }

        /// <summary>For a WMI consumer: whether a binding connects it to a filter.</summary>
        public bool? IsBound { get; set; }

        /// <summary>For a WMI ActiveScriptEventConsumer: the script runs inline (no file on disk holds it).</summary>
        public bool IsInlineScript { get; set; }
        public DateTime Now { get; set; } = DateTime.UtcNow;
    }

    /// <summary>
    /// Scores a persistence entry. Each reason carries its points; the total is the RiskScore. An entry like the
    /// incident's (Run value CrashReportSaver starting a hidden, unsigned mobile7.exe without version information from
    /// the user's profile) lands in High or Critical; a Microsoft-signed target is capped in Low, never dropped.
    /// </summary>
    public static class AutorunRules
    {
        public const int HiddenPoints = 30;
        public const int MissingPoints = 15;
        public const int UrlPoints = 15;
        public const int UserWritablePoints = 20;
        public const int NoVersionInfoPoints = 10;
        public const int UnsignedPoints = 10;
        public const int UnrelatedNamePoints = 15;
        public const int RecentPoints = 10;
        public const int LauncherPoints = 15;
        public const int CorrelatedPoints = 30;
        public const int RecoveredFromLogPoints = 10;
        public const int WmiConsumerPoints = 25;
        public const int WmiUnboundPoints = 5;
        public const int WmiInlineScriptPoints = 10;
        public const int ComHijackPoints = 30;
        public const int AppInitPoints = 20;
        public const int ActiveSetupPoints = 5;
        public const int BootExecutePoints = 30;
        public const int WritableServicePoints = 15;
        public const int MicrosoftCap = 25;
        public static readonly TimeSpan RecentWindow = TimeSpan.FromDays(7);

        public static ScoreCard Score(AutorunFacts f)
        {
            var card = new ScoreCard();
            string shown = f.ImagePath ?? "(nothing)";
            card.AddIf(f.IsHidden, $"target is hidden ({f.HiddenReason ?? "hidden"})", HiddenPoints);
            card.AddIf(f.IsUrl, $"runs from a URL ({shown})", UrlPoints);
            card.AddIf(!f.IsUrl && !f.ImageExists && f.ImagePath is not null, $"target {shown} does not exist", MissingPoints);
            card.AddIf(f.UserWritableReason is not null, $"target is {f.UserWritableReason}", UserWritablePoints);
            if (f.IsWindows && f.ImageExists && f.IsPe)
            {
                card.AddIf(string.IsNullOrWhiteSpace(f.CompanyName) && string.IsNullOrWhiteSpace(f.FileDescription),
                    "no company or description in its version information", NoVersionInfoPoints);
                card.AddIf(IsUnsigned(f), $"not signed ({f.SignatureStatus})", UnsignedPoints);
                card.AddIf(f.SignatureStatus == "HashMismatch", "target was changed after signing (HashMismatch)", SignatureRules.HashMismatchPoints);
            }

            if (f.ImageExists && f.IsPe && f.ImagePath is not null &&
                SignatureRules.FalseMicrosoftClaim(f.CompanyName, f.SignatureStatus, f.Signer, f.ChainsToMicrosoftRoot, InSystemDirectory(f.ImagePath)) is { } claim)
            {
                card.Add("target " + claim.Reason, claim.Points);
            }

            if (f.NameIsLabel && f.ImagePath is not null && !f.IsUrl && !InSystemDirectory(f.ImagePath) && !NameRelated(f.Name, f.ImagePath, f.CompanyName, f.FileDescription, f.OriginalFilename))
            {
                card.Add($"entry name '{f.Name}' is unrelated to the file it runs ({FileName(f.ImagePath)})", UnrelatedNamePoints);
            }

            if (f.LastWritten is DateTime written && written <= f.Now.AddHours(1) && f.Now - written < RecentWindow)
            {
                card.Add($"written recently ({written.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture)} UTC)", RecentPoints);
            }

            if (f.IsWindows && f.Launchers.Count > 0 && f.UserWritableReason is not null)
            {
                card.Add($"signed launcher {FileName(f.Launchers[0])} runs something {f.UserWritableReason}", LauncherPoints);
            }

            card.AddIf(f.CorrelatedWith is not null, $"same SHA-256 as {f.CorrelatedWith}", CorrelatedPoints);
            KindReasons(f, card);
            card.AddIf(f.RecoveredFromLog is not null,
                $"recovered from the hive's transaction log ({f.RecoveredFromLog}): written shortly before the disk was imaged, not yet in the hive file", RecoveredFromLogPoints);
            card.AddIf(!f.Enabled, "entry is disabled", 0);

            if (IsMicrosoftSigned(f) && f.CorrelatedWith is null && card.Total > MicrosoftCap)
            {
                // Not hidden the way Autoruns hides Microsoft entries (that is how a signed LOLBin gets overlooked); capped low.
                card.Add($"target is Microsoft-signed ({f.SignatureStatus}); capped at {MicrosoftCap}", MicrosoftCap - card.Total);
            }

            return card;
        }

        /// <summary>What each kind of persistence means by itself, beyond the file it runs.</summary>
        private static void KindReasons(AutorunFacts f, ScoreCard card)
        {
            switch (f.EntryType)
            {
                case "WmiEventConsumer":
                    if (IsWellKnownWmiConsumer(f))
                    {
                        card.Add($"well-known Windows consumer '{f.Name}' ({f.Detail})", 0);
                    }
                    else if (f.IsBound == true)
                    {
                        card.Add($"WMI event subscription runs it whenever its filter fires ({f.Detail})", WmiConsumerPoints);
                    }
                    else
                    {
                        card.Add($"WMI event consumer without a binding: it does not run until one is added ({f.Detail})", WmiUnboundPoints);
                    }

                    card.AddIf(f.IsInlineScript && !IsWellKnownWmiConsumer(f), "script text stored inside the WMI repository, run by scrcons.exe: no file on disk holds it", WmiInlineScriptPoints);
                    break;
                case "ComHijack":
                    card.Add($"per-user COM registration {f.Detail}: every program that creates this object as the user loads it instead", ComHijackPoints);
                    break;
                case "AppInitDll":
                    card.Add(f.Enabled
                        ? "AppInit_DLLs loads it into every process that loads user32.dll"
                        : "listed in AppInit_DLLs, but LoadAppInit_DLLs is 0", f.Enabled ? AppInitPoints : 0);
                    break;
                case "ActiveSetup":
                    card.Add("Active Setup StubPath: runs once for each user at their next logon", ActiveSetupPoints);
                    break;
                case "BootExecute":
                    card.Add("BootExecute runs it as a native program before Windows starts (the default is only autocheck autochk *)", BootExecutePoints);
                    break;
                case "Service":
                    card.AddIf(f.UserWritableReason is not null, $"service runs under a system account from a place users can write ({f.UserWritableReason})", WritableServicePoints);
                    break;
            }
        }

        /// <summary>BVTConsumer (KernCap.vbs) ships with older Windows; it is not a reason for alarm by its own.</summary>
        public static bool IsWellKnownWmiConsumer(AutorunFacts f) =>
            string.Equals(f.Name, "BVTConsumer", StringComparison.OrdinalIgnoreCase) && f.ImagePath is not null &&
            (f.ImagePath.EndsWith("KernCap.vbs", StringComparison.OrdinalIgnoreCase) || f.ImagePath.EndsWith("cscript.exe", StringComparison.OrdinalIgnoreCase));

        /// <summary>Program folders only administrators write to: there an unrelated label is how units and services are
        /// named anyway (getty-static → systemctl); elsewhere it is how malware hides (CrashReportSaver → mobile7.exe).</summary>
        public static bool InSystemDirectory(string path)
        {
            string p = path.Replace('/', '\\');
            if (p.Length >= 3 && p[1] == ':')
            {
                p = p.Substring(2);
            }

            foreach (string prefix in new[] { @"\Windows\", @"\Program Files\", @"\Program Files (x86)\", @"\usr\", @"\bin\", @"\sbin\", @"\lib\", @"\lib64\", @"\etc\", @"\opt\", @"\snap\" })
            {
                if (p.StartsWith(prefix, StringComparison.OrdinalIgnoreCase) && p.IndexOf(@"\Temp\", StringComparison.OrdinalIgnoreCase) < 0)
                {
                    return true;
                }
            }

            return false;
        }

        public static bool IsMicrosoftSigned(AutorunFacts f) =>
            SignatureRules.ClaimsMicrosoft(f.CompanyName) && SignatureRules.IsMicrosoftSigned(f.SignatureStatus, f.Signer, f.ChainsToMicrosoftRoot);

        private static bool IsUnsigned(AutorunFacts f) => f.SignatureStatus switch
        {
            "Unsigned" or "Invalid" or "MalformedSignature" or "Untrusted" => true,
            // Off Windows catalogs cannot be asked: genuine Windows files are catalog-signed and have no embedded signature,
            // so a Microsoft-branded file without one is judged by SignatureRules.FalseMicrosoftClaim instead (corpus winml.dll).
            "NotSigned" => !SignatureRules.ClaimsMicrosoft(f.CompanyName),
            _ => false,
        };

        /// <summary>Whether an entry's name has to do with the file it runs: a word of the name appears in the file name,
        /// its folder, or its version information (Sidebar → Windows Sidebar\Sidebar.exe), or they share a prefix.</summary>
        public static bool NameRelated(string name, string imagePath, string? company, string? description, string? originalFilename)
        {
            string nameFlat = Flat(name);
            if (nameFlat.Length < 3 || Guid.TryParse(name.Trim('{', '}'), out _))
            {
                return true;
            }

            string file = FileName(imagePath);
            int dot = file.LastIndexOf('.');
            string stem = Flat(dot > 0 ? file.Substring(0, dot) : file);
            var hay = new StringBuilder(stem);
            string[] parts = imagePath.Split('\\', '/');
            for (int i = Math.Max(0, parts.Length - 3); i < parts.Length - 1; i++)
            {
                hay.Append(' ').Append(Flat(parts[i]));
            }

            hay.Append(' ').Append(Flat(description ?? string.Empty)).Append(' ').Append(Flat(originalFilename ?? string.Empty)).Append(' ').Append(Flat(company ?? string.Empty));
            string haystack = hay.ToString();
            if (Flat(file) == nameFlat || (stem.Length >= 3 && (nameFlat.Contains(stem) || stem.Contains(nameFlat))))
            {
                return true;
            }

            if (CommonPrefix(nameFlat, stem) >= 4)
            {
                return true;
            }

            foreach (string token in Tokens(name))
            {
                if (token.Length >= 3 && haystack.Contains(token))
                {
                    return true;
                }
            }

            return false;
        }

        private static int CommonPrefix(string a, string b)
        {
            int n = 0;
            while (n < a.Length && n < b.Length && a[n] == b[n])
            {
                n++;
            }

            return n;
        }

        private static string Flat(string s)
        {
            var sb = new StringBuilder(s.Length);
            foreach (char c in s)
            {
                if (char.IsLetterOrDigit(c))
                {
                    sb.Append(char.ToLowerInvariant(c));
                }
            }

            return sb.ToString();
        }

        /// <summary>Words of a label: split at non-letters and camel-case humps (CrashReportSaver → crash, report, saver).</summary>
        internal static List<string> Tokens(string s)
        {
            var tokens = new List<string>();
            var current = new StringBuilder();
            for (int i = 0; i < s.Length; i++)
            {
                char c = s[i];
                bool boundary = !char.IsLetter(c) || (char.IsUpper(c) && i > 0 && char.IsLower(s[i - 1]));
                if (boundary && current.Length > 0)
                {
                    tokens.Add(current.ToString().ToLowerInvariant());
                    current.Clear();
                }

                if (char.IsLetter(c))
                {
                    current.Append(c);
                }
            }

            if (current.Length > 0)
            {
                tokens.Add(current.ToString().ToLowerInvariant());
            }

            return tokens;
        }

        private static string FileName(string path) => PathText.Leaf(path) ?? string.Empty;
    }
}
