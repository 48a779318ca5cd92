using System.Linq;
using FluxForensics.Capture;
using FluxForensics.Model;

namespace FluxForensics.Tests
{
    public class ModelTests
    {
        [Theory]
        [InlineData(0, Severity.Info)]
        [InlineData(9, Severity.Info)]
        [InlineData(10, Severity.Low)]
        [InlineData(30, Severity.Medium)]
        [InlineData(60, Severity.High)]
        [InlineData(80, Severity.Critical)]
        [InlineData(100, Severity.Critical)]
        public void SeverityFollowsTheScoreBands(int score, Severity expected)
        {
            Assert.Equal(expected, Scoring.SeverityOf(score));
        }

        [Fact]
        public void ScoreIsTheClampedSumOfTheReasons()
        {
            var finding = new FluxListener();
            finding.SetScore(new ScoreCard().Add("listens on TCP 80", 40).Add("hidden image", 35).Add("no company", 20).Add("expected", -5));
            Assert.Equal(90, finding.RiskScore);
            Assert.Equal(Severity.Critical, finding.Severity);
            Assert.Equal(4, finding.Reasons.Length);
            Assert.Equal("hidden image (+35)", finding.Reasons[1].ToString());
            Assert.Equal("expected (-5)", finding.Reasons[3].ToString());

            finding.SetScore(new ScoreCard().Add("a", 80).Add("b", 80));
            Assert.Equal(100, finding.RiskScore);
        }

        [Fact]
        public void KindIsTheTypeName()
        {
            Assert.Equal("FluxDomain", new FluxDomain().Kind);
            Assert.Equal("UsbLnkTrap", new UsbLnkTrap().Kind);
        }

        [Fact]
        public void FindingsCarryTheLocalComputerName()
        {
            Assert.Equal(System.Environment.MachineName, new DnsProxy().ComputerName);
            Assert.True(LocalComputer.IsThis(System.Environment.MachineName.ToUpperInvariant()));
            Assert.False(LocalComputer.IsThis("some-other-host"));
        }

        [Theory]
        [InlineData("192.168.1.20", true, "192.168.0.0")]
        [InlineData("8.8.4.4", false, "8.8.0.0")]
        [InlineData("2001:db8:1234:5678::1", false, "2001:db8:1234::")]
        [InlineData("fd00::1", true, "fd00::")]
        public void NetAddressRoundTripsAndGroupsNetworks(string text, bool isPrivate, string network)
        {
            Assert.True(NetAddress.TryParse(text, out var address));
            Assert.Equal(System.Net.IPAddress.Parse(text).ToString(), address.ToString());
            Assert.Equal(isPrivate, address.IsPrivate);
            Assert.Equal(network, address.FluxNetwork.ToString());
        }

        [Fact]
        public void RedactionHidesSecretsUnlessAsked()
        {
            Assert.Equal("********", Redaction.Apply("infected", false));
            Assert.Equal("infected", Redaction.Apply("infected", true));
            Assert.Null(Redaction.Apply(null, false));
        }
    }
}
