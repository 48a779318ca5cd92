using System;
using System.Text.RegularExpressions;
using FluxForensics.Remediation;

namespace FluxForensics.Tests.Remediation
{
    /// <summary>The journal and manifest write times as ISO 8601 UTC and still read the tick counts older stores hold.</summary>
    public sealed class JournalTimeTests
    {
        [Fact]
        public void TimesAreWrittenAsIso8601UtcAndComeBackToTheTick()
        {
            var at = new DateTime(2026, 12, 7, 22, 41, 5, DateTimeKind.Utc).AddTicks(1234567);
            var line = new RemediationRecord().Set("At", at).Serialize();
            Assert.Equal("At=2026-12-07T22:41:05.1234567Z", line);

            var back = RemediationRecord.Parse(line)!.Utc("At");
            Assert.Equal(at.Ticks, back!.Value.Ticks);
            Assert.Equal(DateTimeKind.Utc, back.Value.Kind);
        }

        [Fact]
        public void LocalTimesAreWrittenInUtc()
        {
            var local = new DateTime(2026, 6, 1, 12, 0, 0, DateTimeKind.Local);
            string text = new RemediationRecord().Set("At", local)["At"]!;
            Assert.Matches(new Regex(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}Z$"), text);
            Assert.Equal(local.ToUniversalTime().Ticks, new RemediationRecord().Set("At", local).Utc("At")!.Value.Ticks);
        }

        [Fact]
        public void TickCountsOfOlderJournalsAreStillRead()
        {
            var at = new DateTime(2025, 1, 2, 3, 4, 5, DateTimeKind.Utc);
            var old = RemediationRecord.Parse("Seq=1\tAt=" + at.Ticks.ToString(System.Globalization.CultureInfo.InvariantCulture))!;
            Assert.Equal(at, old.Utc("At"));
        }

        [Theory]
        [InlineData("yesterday")]
        [InlineData("-5")]
        [InlineData("99999999999999999999")]
        [InlineData("2026-13-45T99:00:00.0000000Z")]
        public void AnUnreadableTimeIsNullNotAnException(string text)
        {
            Assert.Null(new RemediationRecord().Set("At", text).Utc("At"));
        }
    }
}
