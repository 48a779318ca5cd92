using System;

namespace FluxForensics
{
    /// <summary>
    /// Hex text of hashes. Every hash a finding carries is lowercase, as VirusTotal, Zeek's files.log and MISP write
    /// them, so that findings of different kinds join on the same string.
    /// </summary>
    public static class Hex
    {
        private const string LowerDigits = "0123456789abcdef";
        private const string UpperDigits = "0123456789ABCDEF";

        public static string Lower(ReadOnlySpan<byte> bytes) => Encode(bytes, LowerDigits);

        /// <summary>Uppercase, only where a Windows API wants it so (catalog member tags).</summary>
        public static string Upper(ReadOnlySpan<byte> bytes) => Encode(bytes, UpperDigits);

        /// <summary>Lowercase hex of exactly <paramref name="length"/> digits, surrounding blanks ignored; null otherwise.</summary>
        public static string? Normalize(string? text, int length)
        {
            if (text is null)
            {
                return null;
            }

            var span = text.AsSpan().Trim();
            if (span.Length != length)
            {
                return null;
            }

            var chars = new char[length];
            for (int i = 0; i < span.Length; i++)
            {
                char c = span[i];
                if (c >= '0' && c <= '9' || c >= 'a' && c <= 'f')
                {
                    chars[i] = c;
                }
                else if (c >= 'A' && c <= 'F')
                {
                    chars[i] = (char)(c + 32);
                }
                else
                {
                    return null;
                }
            }

            return new string(chars);
        }

        /// <summary>A SHA-256 (64 digits) or MD5 (32 digits) as findings carry it; null when it is neither.</summary>
        public static string? Normalize(string? text) => Normalize(text, 64) ?? Normalize(text, 32);

        private static string Encode(ReadOnlySpan<byte> bytes, string digits)
        {
            var chars = new char[bytes.Length * 2];
            for (int i = 0; i < bytes.Length; i++)
            {
                chars[2 * i] = digits[bytes[i] >> 4];
                chars[2 * i + 1] = digits[bytes[i] & 0xF];
            }

            return new string(chars);
        }
    }
}
