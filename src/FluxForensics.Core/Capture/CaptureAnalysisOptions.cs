using System;
using System.Collections.Generic;

namespace FluxForensics.Capture
{
    /// <summary>Everything Invoke-PcapFluxAnalysis can be told; Core analysers read what they need.</summary>
    public sealed class CaptureAnalysisOptions
    {
        /// <summary>The infected/relay host when the analyst knows it; inferred otherwise.</summary>
        public IReadOnlyList<NetAddress> HostAddresses { get; set; } = Array.Empty<NetAddress>();

        /// <summary>Resolvers that are expected to answer DNS for others (lowers DnsProxy risk).</summary>
        public IReadOnlyList<NetAddress> KnownDnsServers { get; set; } = Array.Empty<NetAddress>();

        /// <summary>Optional MaxMind-format ASN database (GeoLite2-ASN.mmdb) for the Holz flux score.</summary>
        public string? AsnDatabasePath { get; set; }

        /// <summary>Optional MaxMind-format country database (GeoLite2-Country.mmdb or -City) for the country of upstream hosts.</summary>
        public string? CountryDatabasePath { get; set; }

        /// <summary>When set, carved executables are written here (with a manifest). Otherwise nothing is written.</summary>
        public string? ExtractPath { get; set; }

        /// <summary>
        /// Decode and keep every MIME part of the mail seen (attachments included) so its size and hashes can be read;
        /// off by default: no finding reports them, and relayed spam carries hundreds of thousands of attachments.
        /// </summary>
        public bool KeepMailParts { get; set; }

        /// <summary>Show secrets in clear instead of <c>********</c>.</summary>
        public bool IncludeSecret { get; set; }

        /// <summary>Cap on buffered bytes per TCP flow direction.</summary>
        public int MaxBufferedBytesPerFlow { get; set; } = 4 * 1024 * 1024;

        /// <summary>
        /// Cap on out-of-order bytes held by all TCP flows together: the per-flow cap alone lets a capture with many
        /// holed flows (lossy capture, or a hostile one) hold flows × <see cref="MaxBufferedBytesPerFlow"/>.
        /// </summary>
        public long MaxBufferedBytesTotal { get; set; } = 64 * 1024 * 1024;

        /// <summary>
        /// Flow workers (threads) the packets are spread over by address pair; 1 runs everything on the calling thread.
        /// The findings are the same for any number.
        /// </summary>
        public int Workers { get; set; } = 1;

        /// <summary>Idle time after which a flow is expired.</summary>
        public TimeSpan FlowTimeout { get; set; } = TimeSpan.FromMinutes(5);
    }
}
