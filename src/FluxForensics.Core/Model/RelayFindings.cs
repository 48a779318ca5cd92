using System;

namespace FluxForensics.Model
{
    /// <summary>One conversation relayed through the infected host: client → relay → server.</summary>
    public sealed class RelaySession : FluxFinding
    {
        /// <summary>Smtp, Ftp or Http.</summary>
        public string Protocol { get; internal set; } = string.Empty;
        public string Client { get; internal set; } = string.Empty;
        public string Relay { get; internal set; } = string.Empty;
        public string Server { get; internal set; } = string.Empty;
        public string? Account { get; internal set; }

        /// <summary><c>********</c> unless the cmdlet was asked for secrets.</summary>
        public string? Secret { get; internal set; }
        public string[] Urls { get; internal set; } = Array.Empty<string>();

        public int ServerPort { get; internal set; }

        /// <summary>The name the client asked for (CONNECT target, HTTP Host), when the server is known by name.</summary>
        public string? ServerName { get; internal set; }

        /// <summary>The server's autonomous system, AS organisation and country (ISO code and English name), from
        /// -AsnDatabase / -CountryDatabase; null without a database or when it does not know the address.</summary>
        public uint? ServerAsn { get; internal set; }
        public string? ServerAsOrganization { get; internal set; }
        public string? ServerCountry { get; internal set; }
        public string? ServerCountryName { get; internal set; }

        public string? MailFrom { get; internal set; }
        public string[] Recipients { get; internal set; } = Array.Empty<string>();
        public string[] Subjects { get; internal set; } = Array.Empty<string>();

        /// <summary>Whether the server accepted the login (null when no login or no answer was seen).</summary>
        public bool? Accepted { get; internal set; }
        public long BytesToServer { get; internal set; }
        public long BytesToClient { get; internal set; }
        public DateTime Start { get; internal set; }
        public DateTime End { get; internal set; }

        private string? _pairingEvidence;
        private ILazyText? _pairingEvidenceSource;

        /// <summary>Why the inbound and outbound connections are taken to be one conversation.</summary>
        /// <remarks>
        /// Written out on first read: a relay-heavy capture yields hundreds of thousands of sessions, and this is the
        /// longest text of each; until asked for, only the few numbers it is made of are kept.
        /// </remarks>
        public string PairingEvidence
        {
            get
            {
                if (_pairingEvidence is null)
                {
                    _pairingEvidence = _pairingEvidenceSource?.Text() ?? string.Empty;
                    _pairingEvidenceSource = null;
                }

                return _pairingEvidence;
            }

            internal set
            {
                _pairingEvidence = value;
                _pairingEvidenceSource = null;
            }
        }

        /// <summary>Sets <see cref="PairingEvidence"/> to be made when first read (the source must not hold large state).</summary>
        internal void SetPairingEvidence(ILazyText source)
        {
            _pairingEvidence = null;
            _pairingEvidenceSource = source ?? throw new ArgumentNullException(nameof(source));
        }
    }

    /// <summary>An executable transferred over HTTP or FTP.</summary>
    public sealed class FluxDownload : FluxFinding
    {
        /// <summary>The address the relay reported upstream (X-My-Real-IP) when present, else the TCP client.</summary>
        public string Client { get; internal set; } = string.Empty;
        public string? Relay { get; internal set; }
        public string Server { get; internal set; } = string.Empty;
        public string? Url { get; internal set; }
        public string? FileName { get; internal set; }
        public long Size { get; internal set; }
        public string? Sha256 { get; internal set; }
        public string? Md5 { get; internal set; }

        /// <summary>Http or Ftp.</summary>
        public string Protocol { get; internal set; } = string.Empty;

        /// <summary>PE (MZ with a PE header), MZ (DOS) or ELF.</summary>
        public string FileType { get; internal set; } = string.Empty;
        public int ServerPort { get; internal set; }

        /// <summary>The server's autonomous system, AS organisation and country (ISO code and English name), from
        /// -AsnDatabase / -CountryDatabase; null without a database or when it does not know the address.</summary>
        public uint? ServerAsn { get; internal set; }
        public string? ServerAsOrganization { get; internal set; }
        public string? ServerCountry { get; internal set; }
        public string? ServerCountryName { get; internal set; }

        /// <summary>Account used to fetch it (HTTP basic or FTP), if any.</summary>
        public string? Account { get; internal set; }
        public DateTime Time { get; internal set; }

        /// <summary>Where the file was written (with a name that cannot run by double-click); null without -ExtractPath.</summary>
        public string? SavedPath { get; internal set; }
    }

    /// <summary>A cleartext login seen on the wire: an account whose password must be changed.</summary>
    public sealed class ExposedCredential : FluxFinding
    {
        public string Protocol { get; internal set; } = string.Empty;
        public string Client { get; internal set; } = string.Empty;
        public string Server { get; internal set; } = string.Empty;
        public string? Account { get; internal set; }

        /// <summary><c>********</c> unless the cmdlet was asked for secrets.</summary>
        public string? Secret { get; internal set; }

        /// <summary>True when the server accepted the login, false when it refused it, null when no answer was seen.</summary>
        public bool? Accepted { get; internal set; }

        /// <summary>LOGIN, PLAIN, USER/PASS, Basic.</summary>
        public string? Mechanism { get; internal set; }
        public int ServerPort { get; internal set; }

        /// <summary>The relay the login passed through, when it was relayed.</summary>
        public string? Relay { get; internal set; }

        /// <summary>The server's answer to the login.</summary>
        public string? Reply { get; internal set; }
        public DateTime Time { get; internal set; }
    }

    /// <summary>Shared text for redacted secrets.</summary>
    public static class Redaction
    {
        public const string Mask = "********";

        public static string? Apply(string? secret, bool includeSecret) =>
            secret is null ? null : includeSecret ? secret : Mask;
    }

    /// <summary>A text written only when first read (the source keeps the few values it is made of).</summary>
    internal interface ILazyText
    {
        string Text();
    }
}
