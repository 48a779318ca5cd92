using System;
using System.Collections.Generic;
using System.Net;

namespace FluxForensics.Fixtures.Capture
{
    /// <summary>
    /// A part of the incident sample capture (DNS flux, SMTP/FTP/HTTP relay, benign background). The incident
    /// generator runs every implementation in this assembly, in <see cref="Order"/>, then writes all frames sorted by
    /// time. Adding a part never edits the generator.
    /// </summary>
    public interface IIncidentTraffic
    {
        int Order { get; }

        void Generate(IncidentScenario scenario, IList<CapturedFrame> frames);
    }

    /// <summary>An Ethernet frame and when it was seen.</summary>
    public readonly struct CapturedFrame
    {
        public CapturedFrame(DateTime timestampUtc, byte[] ethernetFrame)
        {
            TimestampUtc = timestampUtc;
            EthernetFrame = ethernetFrame;
        }

        public DateTime TimestampUtc { get; }
        public byte[] EthernetFrame { get; }
    }

    /// <summary>The cast of the incident: who is the relay, who are the bots, when it starts. Deterministic from the seed.</summary>
    public sealed class IncidentScenario
    {
        public IncidentScenario(int seed, int scale, byte[]? malware = null)
        {
            Random = new Random(seed);
            Scale = Math.Max(1, scale);
            Malware = malware;
        }

        /// <summary>When given, the bytes relayed as mobile7.exe (the rest of the capture stays as the seed makes it).</summary>
        public byte[]? Malware { get; }

        /// <summary>
        /// Extra bytes added to each relayed EXE (each keeps its drawn size on top). 0, the sample's own, keeps the
        /// downloads at 12–52 KB; the relay-mix benchmark sets it so most bytes are downloads, as in the real incident.
        /// </summary>
        public int ExeExtraBytes { get; set; }

        /// <summary>
        /// When above 0, every accepted relayed mail carries an attachment of this many bytes (base64 in the message):
        /// spam with a payload. 0, the sample's own, sends the short phishing text only.
        /// </summary>
        public int MailAttachmentBytes { get; set; }

        /// <summary>Deterministic randomness: every part draws from it in order.</summary>
        public Random Random { get; }

        /// <summary>1 for the demo sample; larger for benchmarks.</summary>
        public int Scale { get; }

        public DateTime Start { get; } = new DateTime(2012, 5, 14, 9, 0, 0, DateTimeKind.Utc);

        /// <summary>The infected host (mobile7.exe) on the campus network.</summary>
        public IPAddress Relay { get; } = IPAddress.Parse("140.127.1.77");

        /// <summary>The infected host's own resolver.</summary>
        public IPAddress Resolver { get; } = IPAddress.Parse("140.127.1.1");
    }
}
