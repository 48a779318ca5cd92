using System;
using System.Runtime.CompilerServices;
using System.Collections.Generic;
using System.Security.Cryptography;
using System.Text;

namespace FluxForensics.Formats
{
    /// <summary>
    /// One leaf entity of a MIME message, decoded (base64 / quoted-printable undone) when the parser was asked to keep
    /// parts; otherwise only its type, name and encoding (no finding reports part hashes, and relayed spam carries
    /// hundreds of thousands of attachments: the capture analysis keeps them only when told to).
    /// </summary>
    internal sealed class MimePart
    {
        private readonly byte[]? _decoded;
        private string? _md5;
        private string? _sha256;

        public MimePart(byte[]? decoded)
        {
            _decoded = decoded;
        }

        public string ContentType { get; set; } = "text/plain";
        public string? FileName { get; set; }
        public string? TransferEncoding { get; set; }

        /// <summary>Decoded size in bytes; -1 when the part was not kept.</summary>
        public long Size => _decoded?.Length ?? -1;

        /// <summary>Whether the part's bytes were kept (and can be hashed).</summary>
        public bool IsKept => _decoded is not null;

        // Hashed when asked; null when the part was not kept.
        public string? Md5 => _decoded is null ? null : _md5 ??= FluxForensics.Hex.Lower(MimeMessage.MD5Hash(_decoded));
        public string? Sha256 => _decoded is null ? null : _sha256 ??= FluxForensics.Hex.Lower(MimeMessage.Sha256Hash(_decoded));
    }

    /// <summary>What a mail message says: headers the report needs, its parts with hashes, and every URL in its text.</summary>
    internal sealed class MimeMessage
    {
        private const int MaxDepth = 8;
        private const int MaxParts = 200;
        private const int MaxUrls = 1000;

        public string? Subject { get; private set; }
        public string? From { get; private set; }
        public string? To { get; private set; }
        public string? Date { get; private set; }
        public string? MessageId { get; private set; }
        public List<MimePart> Parts { get; } = new List<MimePart>();

        private bool _keepParts = true;
        public List<string> Urls { get; } = new List<string>();

        /// <summary>What could not be decoded: (offset in the message, what).</summary>
        public List<(long Offset, string Message)> Issues { get; } = new List<(long, string)>();

        /// <summary>Parses a message as carried by SMTP DATA (dot-stuffing already undone). Never throws on bad input.</summary>
        /// <param name="message">The message bytes.</param>
        /// <param name="keepParts">Decode and keep every part (for hashes); false keeps text parts' URLs and every part's type, name and encoding only.</param>
        public static MimeMessage Parse(ReadOnlySpan<byte> message, bool keepParts = true)
        {
            var result = new MimeMessage { _keepParts = keepParts };
            result.ParseEntity(message, 0, 0, top: true);
            return result;
        }

        [MethodImpl(Jit.Hot)]
        private void ParseEntity(ReadOnlySpan<byte> entity, long offset, int depth, bool top)
        {
            if (depth > MaxDepth)
            {
                Issues.Add((offset, $"MIME nesting deeper than {MaxDepth}; inner parts skipped"));
                return;
            }

            SplitHeader(entity, out var header, out var body, out int bodyOffset);
            string? contentType = null, encoding = null, disposition = null;
            foreach (var (name, value) in UnfoldHeaders(header))
            {
                if (Is(name, "content-type")) contentType = value;
                else if (Is(name, "content-transfer-encoding")) encoding = value.Trim().ToLowerInvariant();
                else if (Is(name, "content-disposition")) disposition = value;
                else if (top && Is(name, "subject")) Subject ??= value.Trim();
                else if (top && Is(name, "from")) From ??= value.Trim();
                else if (top && Is(name, "to")) To ??= value.Trim();
                else if (top && Is(name, "date")) Date ??= value.Trim();
                else if (top && Is(name, "message-id")) MessageId ??= value.Trim();
            }

            string type = contentType is null ? "text/plain" : contentType.Split(';')[0].Trim().ToLowerInvariant();
            if (type.StartsWith("multipart/", StringComparison.Ordinal))
            {
                string? boundary = Parameter(contentType!, "boundary");
                if (string.IsNullOrEmpty(boundary))
                {
                    Issues.Add((offset, "multipart entity without a boundary; read as text"));
                }
                else
                {
                    ParseMultipart(body, offset + bodyOffset, boundary!, depth);
                    return;
                }
            }

            if (Parts.Count >= MaxParts)
            {
                return;
            }

            bool text = type.StartsWith("text/", StringComparison.Ordinal) || type == "message/rfc822";
            byte[]? decoded = null;
            if (_keepParts)
            {
                decoded = Decode(body, encoding, offset + bodyOffset);
            }
            else if (text)
            {
                if (encoding is "base64" or "quoted-printable")
                {
                    decoded = Decode(body, encoding, offset + bodyOffset);
                }
                else
                {
                    // Identity encodings: the URLs are read in place, nothing is copied.
                    FindUrls(body, Urls, MaxUrls);
                }
            }
            else if (encoding == "base64" && !IsBase64(body))
            {
                Issues.Add((offset + bodyOffset, "base64 part is not base64; its text is read as is"));
            }

            var part = new MimePart(_keepParts ? decoded : null)
            {
                ContentType = type,
                TransferEncoding = encoding,
                FileName = Parameter(disposition ?? string.Empty, "filename") ?? Parameter(contentType ?? string.Empty, "name"),
            };
            Parts.Add(part);
            if (text && decoded is not null)
            {
                FindUrls(decoded, Urls, MaxUrls);
            }
        }

        [MethodImpl(Jit.Hot)]
        private void ParseMultipart(ReadOnlySpan<byte> body, long offset, string boundary, int depth)
        {
            byte[] delimiter = Encoding.ASCII.GetBytes("--" + boundary);
            int pos = 0;
            int partStart = -1;
            bool closed = false;
            while (pos <= body.Length)
            {
                int lineEnd = body.Slice(pos).IndexOf((byte)'\n');
                int end = lineEnd < 0 ? body.Length : pos + lineEnd;
                var line = body.Slice(pos, end - pos);
                if (line.StartsWith(delimiter))
                {
                    var rest = line.Slice(delimiter.Length);
                    bool isClose = rest.StartsWith("--"u8);
                    if (partStart >= 0)
                    {
                        // The CR LF before a delimiter belongs to the delimiter, not to the part (RFC 2046 5.1.1).
                        int partEnd = pos;
                        if (partEnd > partStart && body[partEnd - 1] == (byte)'\n') partEnd--;
                        if (partEnd > partStart && body[partEnd - 1] == (byte)'\r') partEnd--;
                        ParseEntity(body.Slice(partStart, Math.Max(0, partEnd - partStart)), offset + partStart, depth + 1, top: false);
                    }

                    if (isClose)
                    {
                        closed = true;
                        break;
                    }

                    partStart = lineEnd < 0 ? body.Length : end + 1;
                }

                if (lineEnd < 0)
                {
                    break;
                }

                pos = end + 1;
            }

            if (!closed)
            {
                Issues.Add((offset + body.Length, "multipart body ends without its closing delimiter"));
                if (partStart >= 0 && partStart < body.Length)
                {
                    ParseEntity(body.Slice(partStart), offset + partStart, depth + 1, top: false);
                }
            }
        }

        private byte[] Decode(ReadOnlySpan<byte> body, string? encoding, long offset)
        {
            if (encoding == "base64")
            {
                if (TryDecodeBase64(body, out var bytes))
                {
                    return bytes;
                }

                Issues.Add((offset, "base64 part is not base64; its text is read as is"));
                return body.ToArray();
            }

            if (encoding == "quoted-printable")
            {
                // Decoded line by line with every hard line break kept, the last one too, as Zeek's MIME analyser
                // does: the part hashes then agree with Zeek's file analysis.
                var withBreak = new byte[body.Length + 2];
                body.CopyTo(withBreak);
                withBreak[body.Length] = (byte)'\r';
                withBreak[body.Length + 1] = (byte)'\n';
                return DecodeQuotedPrintable(withBreak);
            }

            return body.ToArray();
        }

#if NET8_0_OR_GREATER
        private static readonly System.Buffers.SearchValues<byte> Base64Text =
            System.Buffers.SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/= \r\n\t"u8);

        private static readonly System.Buffers.SearchValues<byte> PaddingText = System.Buffers.SearchValues.Create("= \r\n\t"u8);
#endif

        /// <summary>
        /// Whether <see cref="TryDecodeBase64"/> would accept the text (base64 characters and whitespace, nothing but
        /// padding and whitespace after the first '='), without decoding it.
        /// </summary>
        public static bool IsBase64(ReadOnlySpan<byte> text)
        {
#if NET8_0_OR_GREATER
            if (text.IndexOfAnyExcept(Base64Text) >= 0)
            {
                return false;
            }

            int padding = text.IndexOf((byte)'=');
            return padding < 0 || text.Slice(padding).IndexOfAnyExcept(PaddingText) < 0;
#else
            return TryDecodeBase64(text, out _);
#endif
        }

        /// <summary>Lenient base64: whitespace ignored, padding optional; any other character fails.</summary>
        public static bool TryDecodeBase64(ReadOnlySpan<byte> text, out byte[] bytes)
        {
            var output = new byte[text.Length / 4 * 3 + 3];
            int n = 0, bits = 0, value = 0;
            bool padding = false;
            foreach (byte c in text)
            {
                int v;
                if (c >= 'A' && c <= 'Z') v = c - 'A';
                else if (c >= 'a' && c <= 'z') v = c - 'a' + 26;
                else if (c >= '0' && c <= '9') v = c - '0' + 52;
                else if (c == '+') v = 62;
                else if (c == '/') v = 63;
                else if (c == '=') { padding = true; continue; }
                else if (c == '\r' || c == '\n' || c == ' ' || c == '\t') continue;
                else { bytes = Array.Empty<byte>(); return false; }

                if (padding)
                {
                    bytes = Array.Empty<byte>();
                    return false;
                }

                value = (value << 6) | v;
                bits += 6;
                if (bits >= 8)
                {
                    bits -= 8;
                    output[n++] = (byte)(value >> bits);
                    value &= (1 << bits) - 1;
                }
            }

            bytes = n == output.Length ? output : output.AsSpan(0, n).ToArray();
            return true;
        }

        public static byte[] DecodeQuotedPrintable(ReadOnlySpan<byte> text)
        {
            var output = new byte[text.Length];
            int n = 0;
            for (int i = 0; i < text.Length; i++)
            {
                byte c = text[i];
                if (c != '=')
                {
                    output[n++] = c;
                    continue;
                }

                if (i + 1 < text.Length && text[i + 1] == '\n')
                {
                    i += 1;
                }
                else if (i + 2 < text.Length && text[i + 1] == '\r' && text[i + 2] == '\n')
                {
                    i += 2;
                }
                else if (i + 2 < text.Length && HexValue(text[i + 1]) >= 0 && HexValue(text[i + 2]) >= 0)
                {
                    output[n++] = (byte)(HexValue(text[i + 1]) << 4 | HexValue(text[i + 2]));
                    i += 2;
                }
                else
                {
                    output[n++] = c;
                }
            }

            return output.AsSpan(0, n).ToArray();
        }

        /// <summary>Every http, https and ftp URL in a text (HTML included), de-duplicated, in order of appearance.</summary>
        [MethodImpl(Jit.Hot)]
        public static void FindUrls(ReadOnlySpan<byte> text, List<string> urls, int max)
        {
            int i = 0;
            while (i < text.Length && urls.Count < max)
            {
                int colon = text.Slice(i).IndexOf("://"u8);
                if (colon < 0)
                {
                    return;
                }

                colon += i;
                int start = colon;
                while (start > 0 && IsSchemeChar(text[start - 1]) && colon - start < 6)
                {
                    start--;
                }

                var scheme = Latin1(text.Slice(start, colon - start)).ToLowerInvariant();
                int end = colon + 3;
                while (end < text.Length && IsUrlChar(text[end]))
                {
                    end++;
                }

                if ((scheme == "http" || scheme == "https" || scheme == "ftp" || scheme == "hxxp") && end > colon + 3)
                {
                    int trimmed = end;
                    while (trimmed > colon + 3 && (text[trimmed - 1] == '.' || text[trimmed - 1] == ',' || text[trimmed - 1] == ';' || text[trimmed - 1] == ':' || text[trimmed - 1] == '!' || text[trimmed - 1] == '?'))
                    {
                        trimmed--;
                    }

                    string url = Latin1(text.Slice(start, trimmed - start)).Replace("&amp;", "&");
                    if (!urls.Contains(url))
                    {
                        urls.Add(url);
                    }
                }

                i = Math.Max(end, colon + 3);
            }
        }

        private static bool IsSchemeChar(byte c) => (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');

        private static bool IsUrlChar(byte c) =>
            c > 0x20 && c < 0x7F && c != '"' && c != '\'' && c != '<' && c != '>' && c != '(' && c != ')' &&
            c != '[' && c != ']' && c != '{' && c != '}' && c != '`' && c != '\\' && c != '|' && c != '^';

        private static int HexValue(byte c) =>
            c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10 : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;

        private static void SplitHeader(ReadOnlySpan<byte> entity, out ReadOnlySpan<byte> header, out ReadOnlySpan<byte> body, out int bodyOffset)
        {
            // An entity that starts with an empty line has no header.
            if (entity.StartsWith("\r\n"u8)) { header = default; body = entity.Slice(2); bodyOffset = 2; return; }
            if (entity.StartsWith("\n"u8)) { header = default; body = entity.Slice(1); bodyOffset = 1; return; }
            int crlf = entity.IndexOf("\r\n\r\n"u8);
            int lf = entity.IndexOf("\n\n"u8);
            if (crlf >= 0 && (lf < 0 || crlf < lf))
            {
                header = entity.Slice(0, crlf + 2);
                bodyOffset = crlf + 4;
            }
            else if (lf >= 0)
            {
                header = entity.Slice(0, lf + 1);
                bodyOffset = lf + 2;
            }
            else
            {
                header = entity;
                bodyOffset = entity.Length;
            }

            body = entity.Slice(bodyOffset);
        }

        /// <summary>The headers <see cref="ParseEntity"/> reads; the others are skipped without making strings of them.</summary>
        private static readonly string[] KnownHeaders =
            { "content-type", "content-transfer-encoding", "content-disposition", "subject", "from", "to", "date", "message-id" };

        /// <summary>
        /// The known headers of an entity, unfolded (a continuation line joins its header with one space), as
        /// (lower-case name, value). At most 500 header lines are read.
        /// </summary>
        private static List<(string Name, string Value)> UnfoldHeaders(ReadOnlySpan<byte> header)
        {
            var list = new List<(string, string)>();
            string? name = null;   // the known header being read; null while skipping an unknown one
            string? value = null;  // its value so far, when it has no continuation line yet
            StringBuilder? folded = null;
            bool inHeader = false; // a header line was seen (continuations of an unknown one are skipped too)
            int lines = 0;
            int pos = 0;
            while (pos < header.Length)
            {
                int nl = header.Slice(pos).IndexOf((byte)'\n');
                var line = nl < 0 ? header.Slice(pos) : header.Slice(pos, nl);
                pos = nl < 0 ? header.Length : pos + nl + 1;
                if (!line.IsEmpty && line[line.Length - 1] == (byte)'\r')
                {
                    line = line.Slice(0, line.Length - 1);
                }

                if (line.IsEmpty)
                {
                    continue;
                }

                if ((line[0] == ' ' || line[0] == '\t') && inHeader)
                {
                    if (name is not null)
                    {
                        folded ??= new StringBuilder();
                        if (value is not null)
                        {
                            folded.Clear().Append(value);
                            value = null;
                        }

                        folded.Append(' ').Append(Latin1(HttpStreamParser.TrimWhite(line)).Trim());
                    }

                    continue;
                }

                Flush();
                int colon = line.IndexOf((byte)':');
                if (colon <= 0)
                {
                    inHeader = false;
                    continue;
                }

                inHeader = true;
                name = Known(HttpStreamParser.TrimWhite(line.Slice(0, colon)));
                if (name is not null)
                {
                    value = Latin1(HttpStreamParser.TrimWhite(line.Slice(colon + 1))).Trim();
                }

                if (++lines > 500)
                {
                    break;
                }
            }

            Flush();
            return list;

            void Flush()
            {
                if (name is not null)
                {
                    list.Add((name, value ?? folded!.ToString()));
                }

                name = null;
                value = null;
            }
        }

        private static string? Known(ReadOnlySpan<byte> name)
        {
            foreach (var known in KnownHeaders)
            {
                if (HttpStreamParser.Eq(name, known))
                {
                    return known;
                }
            }

            return null;
        }

        internal static string? Parameter(string headerValue, string parameter)
        {
            if (headerValue.Length == 0)
            {
                return null;
            }

            foreach (var piece in headerValue.Split(';'))
            {
                int eq = piece.IndexOf('=');
                if (eq > 0 && string.Equals(piece.Substring(0, eq).Trim(), parameter, StringComparison.OrdinalIgnoreCase))
                {
                    return piece.Substring(eq + 1).Trim().Trim('"');
                }
            }

            return null;
        }

        private static bool Is(string name, string expected) => string.Equals(name, expected, StringComparison.OrdinalIgnoreCase);

        internal static string Latin1(ReadOnlySpan<byte> bytes) => TextDecoding.Latin1(bytes);

        internal static byte[] MD5Hash(byte[] data)
        {
#if NET
            return MD5.HashData(data);
#else
            using var md5 = MD5.Create();
            return md5.ComputeHash(data);
#endif
        }

        internal static byte[] Sha256Hash(byte[] data)
        {
#if NET
            return SHA256.HashData(data);
#else
            using var sha = SHA256.Create();
            return sha.ComputeHash(data);
#endif
        }

    }
}
