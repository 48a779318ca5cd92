using System;
using System.Linq;
using FluxForensics.Detection;
using FluxForensics.Model;

namespace FluxForensics.Tests.Autorun
{
    public sealed class AutorunRulesTests
    {
        private static readonly DateTime Now = new DateTime(2026, 11, 28, 12, 0, 0, DateTimeKind.Utc);

        private static AutorunFacts Incident() => new AutorunFacts
        {
            Name = "CrashReportSaver",
            EntryType = "RegistryValue",
            NameIsLabel = true,
            IsWindows = true,
            ImagePath = @"C:\Users\alice\AppData\Roaming\mobile7.exe",
            ImageExists = true,
            IsHidden = true,
            HiddenReason = "Hidden attribute",
            UserWritableReason = "in the user's AppData",
            IsPe = true,
            SignatureStatus = "Unsigned",
            LastWritten = Now.AddDays(-1),
            Now = Now,
        };

        [Fact]
        public void TheIncidentEntryIsCriticalWithEveryReason()
        {
            ScoreCard card = AutorunRules.Score(Incident());
            string all = string.Join("\n", card.Reasons.Select(r => r.Reason));
            Assert.Contains("hidden", all);
            Assert.Contains("AppData", all);
            Assert.Contains("no company or description", all);
            Assert.Contains("not signed", all);
            Assert.Contains("entry name 'CrashReportSaver' is unrelated to the file it runs (mobile7.exe)", all);
            Assert.Contains("written recently", all);
            Assert.True(card.Total >= 80, card.Total.ToString());
        }

        [Fact]
        public void CorrelationWithAListenerRaisesTheScore()
        {
            AutorunFacts f = Incident();
            f.IsHidden = false;
            f.LastWritten = Now.AddYears(-1);
            int before = AutorunRules.Score(f).Total;
            f.CorrelatedWith = "a listener image";
            ScoreCard after = AutorunRules.Score(f);
            Assert.Equal(before + AutorunRules.CorrelatedPoints, after.Total);
        }

        [Fact]
        public void MicrosoftSignedIsCappedLowButNotDropped()
        {
            AutorunFacts f = Incident();
            f.IsHidden = false;
            f.CompanyName = "Microsoft Corporation";
            f.FileDescription = "Windows host process (Rundll32)";
            f.SignatureStatus = "Signed";
            ScoreCard card = AutorunRules.Score(f);
            Assert.Equal(AutorunRules.MicrosoftCap, card.Total);
            Assert.Equal(Severity.Low, Scoring.SeverityOf(card.Total));
            Assert.Contains(card.Reasons, r => r.Reason.Contains("Microsoft-signed"));
        }

        [Fact]
        public void CatalogSignedWindowsFileSeenOfflineIsNotCalledUnsigned()
        {
            var f = new AutorunFacts
            {
                Name = "winml", IsWindows = true, ImagePath = @"C:\Windows\System32\winml.dll", ImageExists = true, IsPe = true,
                CompanyName = "Microsoft Corporation", FileDescription = "Windows Machine Learning Runtime", SignatureStatus = "NotSigned", Now = Now,
            };
            Assert.Equal(0, AutorunRules.Score(f).Total);
        }

        [Fact]
        public void LauncherFromUserWritablePlaceScores()
        {
            AutorunFacts f = Incident();
            f.Launchers = new[] { @"C:\Windows\System32\cmd.exe" };
            Assert.Contains(AutorunRules.Score(f).Reasons, r => r.Reason.StartsWith("signed launcher cmd.exe runs something", StringComparison.Ordinal));
        }

        [Theory]
        [InlineData("Sidebar", @"C:\Program Files\Windows Sidebar\Sidebar.exe", true)]
        [InlineData("SecurityHealth", @"C:\Windows\system32\SecurityHealthSystray.exe", true)]
        [InlineData("OneDrive", @"C:\Users\a\AppData\Local\Microsoft\OneDrive\OneDrive.exe", true)]
        [InlineData("rc-local", "/etc/rc.local", true)]
        [InlineData("CrashReportSaver", @"C:\Users\a\AppData\Roaming\mobile7.exe", false)]
        [InlineData("Windows Update Helper", @"C:\Users\a\AppData\Roaming\mobile7.exe", false)]
        public void NameRelatedness(string name, string path, bool related)
        {
            Assert.Equal(related, AutorunRules.NameRelated(name, path, null, null, null));
        }

        [Fact]
        public void MissingTargetAndUrl()
        {
            var missing = new AutorunFacts { Name = "x", ImagePath = "/usr/bin/gone", Now = Now };
            Assert.Equal(AutorunRules.MissingPoints, AutorunRules.Score(missing).Total);
            var url = new AutorunFacts { Name = "x", ImagePath = "http://e.example/a.hta", IsUrl = true, Now = Now };
            Assert.Equal(AutorunRules.UrlPoints, AutorunRules.Score(url).Total);
        }
    }
}
