using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text;
using FluxForensics.Model;

namespace FluxForensics.Detection
{
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

        /// <summary>Judges one observed entry: the finding with its score and reasons. <paramref name="correlated"/> maps
        /// lowercase SHA-256 to what else was seen running it (a listener image, a USB payload).</summary>
        public static SuspiciousAutorun Judge(ObservedAutorun o, IReadOnlyDictionary<string, string>? correlated, DateTime now)
        {
            string? correlation = null;
            if (o.File?.Sha256 is { } sha && correlated is not null && correlated.TryGetValue(sha, out string? seenAs))
            {
                correlation = seenAs;
            }

            var ruleFacts = new AutorunFacts
            {
                Name = o.Entry.Name,
                EntryType = o.Entry.EntryType,
                NameIsLabel = o.Entry.NameIsLabel,
                IsWindows = o.IsWindows,
                Enabled = o.Entry.Enabled,
                ImagePath = o.ImagePath,
                ImageExists = o.File?.Exists ?? false,
                IsUrl = o.IsUrl,
                IsHidden = o.IsHidden,
                HiddenReason = o.HiddenReason,
                UserWritableReason = o.UserWritableReason,
                IsPe = o.File?.IsPe ?? false,
                HasVersionInfo = o.File?.HasVersionInfo ?? false,
                CompanyName = o.File?.CompanyName,
                FileDescription = o.File?.FileDescription,
                OriginalFilename = o.File?.OriginalFilename,
                SignatureStatus = o.File?.SignatureStatus,
                Signer = o.File?.SignerSubject,
                ChainsToMicrosoftRoot = o.File?.ChainsToMicrosoftRoot ?? false,
                Launchers = o.Launchers,
                LastWritten = o.Entry.LastWriteTime ?? o.File?.LastWriteTimeUtc,
                CorrelatedWith = correlation,
                RecoveredFromLog = o.Entry.RecoveredFromLog,
                Detail = o.Entry.Detail,
                IsBound = o.Entry.IsBound,
                IsInlineScript = o.Entry.EntryType == AutorunEntryType.WmiEventConsumer && o.Entry.EntryText is not null && o.Entry.ResolvedTarget is not null,
                Now = now,
            };

            var finding = new SuspiciousAutorun
            {
                Location = o.Entry.Location,
                Name = o.Entry.Name,
                Command = o.Entry.Command,
                ImagePath = o.ImagePath,
                ImageExists = ruleFacts.ImageExists,
                Arguments = o.FinalArguments,
                Launcher = o.Launchers.Count > 0 ? o.Launchers[0] : null,
                DecodedCommand = o.DecodedCommand,
                Scope = o.Entry.Scope,
                LastWriteTime = o.Entry.LastWriteTime,
                Enabled = o.Entry.Enabled,
                EntryType = o.Entry.EntryType,
                EntryPath = o.Entry.EntryPath,
                EntryText = o.Entry.EntryText,
                LineNumber = o.Entry.LineNumber,
                HivePath = o.Entry.HivePath,
                HiveKeyPath = o.Entry.HiveKeyPath,
                Root = o.Root,
                Source = o.Root ?? "Live",
                Path = o.LocalPath,
                Sha256 = o.File?.Sha256,
                IsHidden = o.IsHidden,
                CompanyName = o.File?.CompanyName,
                FileDescription = o.File?.FileDescription,
                SignatureStatus = o.File?.SignatureStatus ?? (o.IsUrl ? null : SignatureStatuses.Missing),
                Signer = o.File?.SignerSubject,
                CorrelatedWith = correlation,
                RecoveredFromLog = o.Entry.RecoveredFromLog,
                Detail = o.Entry.Detail,
            };
            finding.SetScore(Score(ruleFacts));
            return finding;
        }

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
