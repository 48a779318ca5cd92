using System;
using System.Globalization;
using FluxForensics.Model;

namespace FluxForensics.Detection
{
    /// <summary>What the capture showed about one name; the input of <see cref="FluxRules.JudgeDomain"/>.</summary>
    public sealed class FluxEvidence
    {
        public string Domain { get; set; } = string.Empty;

        /// <summary>Distinct addresses in answers for the name over the capture (nA in Holz et al.).</summary>
        public int AddressCount { get; set; }

        /// <summary>Distinct /16 (IPv4) or /48 (IPv6) networks of those addresses.</summary>
        public int NetworkCount { get; set; }

        /// <summary>Distinct autonomous systems of those addresses, when an ASN database was available.</summary>
        public int? AsnCount { get; set; }

        /// <summary>Lowest TTL seen on the name's address records (seconds).</summary>
        public int MinTtl { get; set; }
        public int AnswerChangeCount { get; set; }

        /// <summary>Distinct name servers seen for the name or its zone.</summary>
        public int NameServerCount { get; set; }

        /// <summary>Distinct addresses of those name servers.</summary>
        public int NameServerAddressCount { get; set; }
        public int NameServerNetworkCount { get; set; }

        /// <summary>Lowest TTL seen on the NS records or the name servers' address records; int.MaxValue when none.</summary>
        public int NameServerMinTtl { get; set; } = int.MaxValue;

        /// <summary>One of the addresses is a host seen acting as a relay (or named by the analyst as the infected host).</summary>
        public bool ResolvesToRelay { get; set; }
        public string? RelayAddress { get; set; }

        /// <summary>
        /// The most names resolving to one of this name's addresses, among addresses that also answer DNS for
        /// others; 0 when none of its addresses answers DNS.
        /// </summary>
        public int NamesOnDnsAnsweringHost { get; set; }
        public string? DnsAnsweringHost { get; set; }
    }

    /// <summary>The rules' judgement of a name.</summary>
    public sealed class FluxVerdict
    {
        internal FluxVerdict(double fluxScore, bool passesPrefilter, bool isFastFlux, bool isDoubleFlux, ScoreCard card)
        {
            FluxScore = fluxScore;
            PassesPrefilter = passesPrefilter;
            IsFastFlux = isFastFlux;
            IsDoubleFlux = isDoubleFlux;
            Card = card;
        }

        public double FluxScore { get; }
        public bool PassesPrefilter { get; }
        public bool IsFastFlux { get; }
        public bool IsDoubleFlux { get; }
        public bool IsFlux => IsFastFlux || IsDoubleFlux;
        public ScoreCard Card { get; }
    }

    /// <summary>What the capture showed about one host answering DNS; the input of <see cref="FluxRules.JudgeProxy"/>.</summary>
    public sealed class DnsProxyEvidence
    {
        public string Address { get; set; } = string.Empty;
        public int ClientCount { get; set; }
        public int OutsideClientCount { get; set; }
        public int DomainCount { get; set; }
        public int FluxDomainCount { get; set; }
        public bool IsKnownResolver { get; set; }
        public bool IsRelay { get; set; }

        /// <summary>Names it answered that resolve to itself (a flux agent serving its own records).</summary>
        public int SelfResolvingDomainCount { get; set; }
    }

    /// <summary>
    /// Fast-flux and double-flux rules from the published work. Pure: numbers in, verdict and reasons out.
    /// <list type="bullet">
    /// <item>Holz, Gorecki, Rieck, Freiling: "Measuring and Detecting Fast-Flux Service Networks", NDSS 2008 — the flux
    /// score f = 1.32·nA + 18.54·nASN − 142.38, fast flux when f &gt; 0.</item>
    /// <item>Perdisci, Corona, Dagon, Lee: "Detecting Malicious Flux Service Networks through Passive Analysis of
    /// Recursive DNS Traces", ACSAC 2009 — the pre-filter: short TTL (≤ 10800 s) and /16 diversity ≥ 0.5.</item>
    /// <item>The Honeynet Project: "Know Your Enemy: Fast-Flux Service Networks", 2007 — double flux: the name
    /// servers flux too, and flux agents answer DNS themselves.</item>
    /// </list>
    /// </summary>
    public static class FluxRules
    {
        public const double HolzAddressWeight = 1.32;
        public const double HolzAsnWeight = 18.54;
        public const double HolzBias = 142.38;
        public const int PerdisciMaxTtl = 10800;
        public const double PerdisciMinNetworkDiversity = 0.5;

        /// <summary>Name servers spread over at least this many networks (with more addresses than names) rotate.</summary>
        public const int MinNameServerNetworks = 3;

        /// <summary>At least this many names resolving to one DNS-answering host make that host a double-flux agent.</summary>
        public const int MinNamesOnDnsAnsweringHost = 5;

        public const string Holz = "Holz et al., NDSS 2008";
        public const string Perdisci = "Perdisci et al., ACSAC 2009";
        public const string Honeynet = "Honeynet Project, KYE: Fast-Flux Service Networks, 2007";

        public static double HolzScore(int addressCount, int asnCount) =>
            Math.Round(HolzAddressWeight * addressCount + HolzAsnWeight * asnCount - HolzBias, 2);

        public static FluxVerdict JudgeDomain(FluxEvidence e)
        {
            if (e is null)
            {
                throw new ArgumentNullException(nameof(e));
            }

            var card = new ScoreCard();
            int networksForAsn = e.AsnCount ?? e.NetworkCount;
            double f = HolzScore(e.AddressCount, networksForAsn);
            string asnText = e.AsnCount.HasValue
                ? $"nASN={e.AsnCount.Value} from the ASN database"
                : $"nASN≈{e.NetworkCount} distinct /16 networks standing in (no -AsnDatabase)";

            double diversity = e.AddressCount == 0 ? 0 : (double)e.NetworkCount / e.AddressCount;
            bool shortTtl = e.AddressCount > 0 && e.MinTtl <= PerdisciMaxTtl;
            bool diverse = e.AddressCount > 1 && diversity >= PerdisciMinNetworkDiversity;
            bool prefilter = shortTtl && diverse;
            string diversityText = diversity.ToString("0.00", CultureInfo.InvariantCulture);

            bool fastFlux = prefilter && f > 0;
            string fText = f.ToString("0.00", CultureInfo.InvariantCulture);
            if (fastFlux)
            {
                card.Add($"flux score f = 1.32·{e.AddressCount} + 18.54·{networksForAsn} − 142.38 = {fText} > 0 ({asnText}; {Holz})", 55);
                card.Add($"TTL {e.MinTtl} s ≤ {PerdisciMaxTtl} s and /16 diversity {diversityText} ≥ 0.5 ({Perdisci} pre-filter)", 10);
            }
            else if (prefilter)
            {
                card.Add($"flux score f = {fText} ≤ 0: too few addresses or networks for fast flux ({asnText}; {Holz})", 0);
            }
            else if (e.AddressCount > 1)
            {
                string why = !shortTtl
                    ? $"TTL {e.MinTtl} s > {PerdisciMaxTtl} s"
                    : $"/16 diversity {diversityText} < 0.5 ({e.AddressCount} addresses in {e.NetworkCount} network(s): a CDN or load balancer pattern)";
                card.Add($"not fast flux: {why} ({Perdisci} pre-filter)", 0);
            }

            bool nsRotate = e.NameServerNetworkCount >= MinNameServerNetworks &&
                            e.NameServerAddressCount > e.NameServerCount &&
                            e.NameServerMinTtl <= PerdisciMaxTtl;
            if (nsRotate)
            {
                card.Add($"name servers rotate: {e.NameServerCount} NS name(s) over {e.NameServerAddressCount} addresses in {e.NameServerNetworkCount} networks, TTL {e.NameServerMinTtl} s (double flux, {Honeynet})", 25);
            }

            bool agentHost = e.NamesOnDnsAnsweringHost >= MinNamesOnDnsAnsweringHost;
            if (agentHost)
            {
                card.Add($"resolves to {e.DnsAnsweringHost}, which answers DNS for others and is the address of {e.NamesOnDnsAnsweringHost} names (double flux: flux agents serve DNS, {Honeynet})", 25);
            }

            bool doubleFlux = nsRotate || agentHost;
            if (e.ResolvesToRelay)
            {
                card.Add($"resolves to {e.RelayAddress}, a host seen relaying traffic (flux agent as redirector, {Honeynet})", 15);
            }

            if ((fastFlux || doubleFlux) && e.AnswerChangeCount >= 2)
            {
                card.Add($"answer set changed {e.AnswerChangeCount} times during the capture (rotation, {Holz})", 5);
            }

            return new FluxVerdict(f, prefilter, fastFlux, doubleFlux, card);
        }

        public static ScoreCard JudgeProxy(DnsProxyEvidence p)
        {
            if (p is null)
            {
                throw new ArgumentNullException(nameof(p));
            }

            var card = new ScoreCard();
            if (p.OutsideClientCount > 0)
            {
                card.Add($"answers DNS for {p.OutsideClientCount} client(s) outside its network (flux agents proxy DNS for bots, {Honeynet})", p.OutsideClientCount >= 10 ? 35 : 20);
            }

            if (p.FluxDomainCount > 0)
            {
                card.Add($"answers {p.FluxDomainCount} flux domain(s) ({Holz} flux score, {Perdisci} pre-filter)", p.FluxDomainCount >= 10 ? 35 : 25);
            }

            if (p.SelfResolvingDomainCount >= FluxRules.MinNamesOnDnsAnsweringHost)
            {
                card.Add($"answers {p.SelfResolvingDomainCount} names with its own address (double-flux agent, {Honeynet})", 10);
            }

            if (p.IsRelay)
            {
                card.Add($"also relays SMTP/FTP/HTTP traffic (flux agent as redirector, {Honeynet})", 15);
            }

            if (p.IsKnownResolver)
            {
                card.Add("listed with -KnownDnsServer as an expected resolver", -40);
            }
            else
            {
                card.Add($"not a known resolver (not in -KnownDnsServer): answering DNS for others is a flux-agent role ({Honeynet})", 10);
            }

            return card;
        }
    }
}
