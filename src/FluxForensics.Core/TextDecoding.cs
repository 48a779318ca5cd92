using System;
using System.Buffers.Binary;
using System.Text;

namespace FluxForensics
{
    /// <summary>
    /// The two byte-to-text decodings the binary formats share. UTF-16LE keeps code units as they are (an unpaired
    /// surrogate in a registry or shortcut name is what was stored, and must survive to be compared); Latin-1 maps each
    /// byte to the character of the same number (compressed registry names, WMI's narrow strings, protocol headers).
    /// </summary>
    internal static class TextDecoding
    {
        /// <summary>UTF-16LE code units, unvalidated; a trailing odd byte is dropped.</summary>
        public static string Utf16(ReadOnlySpan<byte> bytes)
        {
            var chars = new char[bytes.Length / 2];
            for (int i = 0; i < chars.Length; i++)
            {
                chars[i] = (char)BinaryPrimitives.ReadUInt16LittleEndian(bytes.Slice(i * 2));
            }

            return new string(chars);
        }

        /// <summary>A NUL-terminated UTF-16LE string; <paramref name="used"/> counts the NUL, or exceeds the span length by 2
        /// when there was none.</summary>
        public static string Utf16Z(ReadOnlySpan<byte> bytes, out int used)
        {
            int i = 0;
            while (i + 1 < bytes.Length && (bytes[i] != 0 || bytes[i + 1] != 0))
            {
                i += 2;
            }

            used = i + 1 < bytes.Length ? i + 2 : bytes.Length + 2;
            return Utf16(bytes.Slice(0, Math.Min(i, bytes.Length & ~1)));
        }

        /// <summary>One character per byte, U+0000–U+00FF.</summary>
        public static string Latin1(ReadOnlySpan<byte> bytes)
        {
#if NET
            // One allocation (the string), not a char[] and then a string.
            return Encoding.Latin1.GetString(bytes);
#else
            var chars = new char[bytes.Length];
            for (int i = 0; i < bytes.Length; i++)
            {
                chars[i] = (char)bytes[i];
            }

            return new string(chars);
#endif
        }
    }
}
