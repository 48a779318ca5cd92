using FluxForensics.Model;

namespace FluxForensics.Detection
{
    /// <summary>How much each relay finding weighs, and why. Pure: reads the finding, returns reasons.</summary>
    internal static class RelayRules
    {
        /// <summary>A relay serving this many clients is a relay for others, not one host's proxy.</summary>
        public const int ManyClients = 2;

        /// <summary>A relay reaching this many servers is fanning out (the report's relay mailed about 900).</summary>
        public const int ManyServers = 5;

        /// <summary>
        /// Whether a relay's counts already earn every point they can: from then on more clients or servers do not change
        /// a session's score, so its sessions can be reported as they pair.
        /// </summary>
        public static bool RelayCountsSettled(int relayClients, int relayServers) => relayClients >= ManyClients && relayServers >= ManyServers;

        public static ScoreCard ScoreSession(RelaySession session, int relayClients, int relayServers, bool relayNamedByAnalyst)
        {
            var card = new ScoreCard()
                .Add("inbound and outbound connections carry the same bytes", 40)
                .AddIf(relayNamedByAnalyst, "relay is the host the analyst named", 10)
                .AddIf(relayClients >= ManyClients, $"relay serves {relayClients} clients", 10)
                .AddIf(relayServers >= ManyServers, $"relay reaches {relayServers} servers", 10)
                .AddIf(session.Protocol == "Smtp", "mail sent through another host", 15)
                .AddIf(session.Protocol == "Smtp" && session.ServerPort == 25, "outbound leg goes to SMTP port 25", 5)
                .AddIf(session.Account is not null, "a login travels through the relay", 10)
                .AddIf(session.Urls.Length > 0 && session.Protocol == "Smtp", "the mail carries URLs", 5)
                .AddIf(session.Recipients.Length >= 5, $"{session.Recipients.Length} recipients", 5);
            return card;
        }

        public static ScoreCard ScoreTunnel(RelaySession session) =>
            new ScoreCard()
                .Add("HTTP CONNECT tunnel through a proxy", 30)
                .AddIf(session.Protocol == "Smtp", "SMTP spoken inside the tunnel (spam relay)", 35)
                .AddIf(session.ServerPort == 25, "tunnel to SMTP port 25", 10)
                .AddIf(session.Account is not null, "a login travels through the tunnel", 10);

        public static ScoreCard ScoreCredential(ExposedCredential credential) =>
            new ScoreCard()
                .Add($"{credential.Protocol} login sent in cleartext", 30)
                .AddIf(credential.Accepted == true, "the server accepted it", 25)
                .AddIf(credential.Accepted == false, "the server refused it", -10)
                .AddIf(credential.Relay is not null, "the login went through a relay", 20);

        public static ScoreCard ScoreDownload(FluxDownload download, bool complete, bool relayed) =>
            new ScoreCard()
                .Add($"{download.FileType} executable transferred over {download.Protocol}", 40)
                .AddIf(relayed, "fetched through a relay", 25)
                .AddIf(download.Relay is not null && !relayed, "a proxy reported the real client upstream", 15)
                .AddIf(download.Account is not null, "fetched with a login", 10)
                .AddIf(!complete, "transfer incomplete: hash is of a partial file", -10);
    }
}
