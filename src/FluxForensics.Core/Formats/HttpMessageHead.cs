using System;
using System.Runtime.CompilerServices;
using System.Collections.Generic;
using System.Text;

namespace FluxForensics.Formats
{
    /// <summary>The start line and the headers the analysis needs of one HTTP/1.x message.</summary>
    internal sealed class HttpMessageHead
    {
        public bool IsRequest { get; set; }
        public string Method { get; set; } = string.Empty;
        public string Target { get; set; } = string.Empty;
        public string Version { get; set; } = string.Empty;
        public int StatusCode { get; set; }
        public string? Reason { get; set; }
        public string? Host { get; set; }
        public string? Authorization { get; set; }
        public string? ProxyAuthorization { get; set; }
        public string? ContentType { get; set; }
        public string? ContentEncoding { get; set; }
        public string? ContentDisposition { get; set; }
        public string? UserAgent { get; set; }
        public long ContentLength { get; set; } = -1;
        public bool Chunked { get; set; }

        /// <summary>Client-address headers a proxy adds: name and value, in order seen.</summary>
        public List<KeyValuePair<string, string>>? ClientAddressHeaders { get; set; }

        /// <summary>Clears every field, so that a parser can reuse the object for its next message.</summary>
        internal void Reset()
        {
            IsRequest = false;
            Method = Target = Version = string.Empty;
            StatusCode = 0;
            Reason = Host = Authorization = ProxyAuthorization = ContentType = ContentEncoding = ContentDisposition = UserAgent = null;
            ContentLength = -1;
            Chunked = false;
            ClientAddressHeaders = null;
        }

        private static readonly string[] ClientAddressHeaderOrder = { "X-My-Real-IP", "X-Real-IP", "X-Forwarded-For", "Forwarded" };

        /// <summary>The first address a relay/proxy reports for the real client (X-My-Real-IP first, then the others).</summary>
        public string? ReportedClient
        {
            get
            {
                if (ClientAddressHeaders is null)
                {
                    return null;
                }

                foreach (var name in ClientAddressHeaderOrder)
                {
                    foreach (var pair in ClientAddressHeaders)
                    {
                        if (string.Equals(pair.Key, name, StringComparison.OrdinalIgnoreCase))
                        {
                            string? address = ClientAddressFrom(pair.Key, pair.Value);
                            if (address is not null)
                            {
                                return address;
                            }
                        }
                    }
                }

                return null;
            }
        }

        internal static string? ClientAddressFrom(string header, string value)
        {
            string first = value.Split(',')[0].Trim();
            if (string.Equals(header, "Forwarded", StringComparison.OrdinalIgnoreCase))
            {
                // Forwarded: for=192.0.2.60;proto=http;by=203.0.113.43 (RFC 7239); IPv6 is quoted and bracketed.
                string? forValue = null;
                foreach (var piece in first.Split(';'))
                {
                    int eq = piece.IndexOf('=');
                    if (eq > 0 && string.Equals(piece.Substring(0, eq).Trim(), "for", StringComparison.OrdinalIgnoreCase))
                    {
                        forValue = piece.Substring(eq + 1).Trim().Trim('"');
                    }
                }

                if (forValue is null)
                {
                    return null;
                }

                first = forValue.StartsWith("[", StringComparison.Ordinal) ? forValue.Substring(1, Math.Max(0, forValue.IndexOf(']') - 1)) : forValue.Split(':')[0];
            }

            return NetAddress.TryParse(first, out var address) ? address.ToString() : null;
        }
    }

    /// <summary>What a parsed HTTP stream tells its owner.</summary>
    internal interface IHttpStreamEvents
    {
        /// <summary>Request headers complete.</summary>
        void OnRequest(HttpMessageHead head);

        /// <summary>Response headers complete; the owner says whether a body follows (HEAD, CONNECT) and if the stream becomes a tunnel.</summary>
        HttpBodyMode OnResponse(HttpMessageHead head);

        void OnBody(bool request, ReadOnlySpan<byte> data);

        /// <summary>The message body ended; <paramref name="complete"/> false when the stream ended or broke first.</summary>
        void OnBodyEnd(bool request, bool complete);

        /// <summary>After a CONNECT, bytes of the tunnel (their own protocol).</summary>
        void OnTunnel(bool request, ReadOnlySpan<byte> data);

        void OnIssue(bool request, long offset, string message);
    }

    internal enum HttpBodyMode
    {
        /// <summary>By Content-Length, chunked, or until close.</summary>
        Normal,

        /// <summary>No body (HEAD, 1xx, 204, 304).</summary>
        None,

        /// <summary>A tunnel follows (2xx to CONNECT).</summary>
        Tunnel,
    }
}
