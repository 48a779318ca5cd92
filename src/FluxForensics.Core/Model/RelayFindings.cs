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
    }

    /// <summary>Shared text for redacted secrets.</summary>
    public static class Redaction
    {
        public const string Mask = "********";

        public static string? Apply(string? secret, bool includeSecret) =>
            secret is null ? null : includeSecret ? secret : Mask;
    }
}
