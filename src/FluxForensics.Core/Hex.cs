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

        /// <summary>A hash as given by a user or another tool, in the form findings carry (lowercase, trimmed); null if empty.</summary>
        public static string? Normalize(string? hash)
        {
            if (hash is null)
            {
                return null;
            }

            string trimmed = hash.Trim();
            return trimmed.Length == 0 ? null : trimmed.ToLowerInvariant();
        }

        /// <summary>True for a string of exactly <paramref name="length"/> hex digits (64 for SHA-256, 32 for MD5).</summary>
        public static bool IsHex(string? text, int length)
        {
            if (text is null || text.Length != length)
            {
                return false;
            }

            foreach (char c in text)
            {
                if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')))
                {
                    return false;
                }
            }

            return true;
        }

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
