using System;
using System.Collections.Generic;
using System.Security.Cryptography;
using System.Text;

namespace FluxForensics.Formats
{
    /// <summary>The file digest an Authenticode signature vouches for (SpcIndirectDataContent.messageDigest).</summary>
    public sealed class SpcIndirectData
    {
        internal SpcIndirectData(string dataType, string digestAlgorithmOid, byte[] digest)
        {
            DataType = dataType;
            DigestAlgorithmOid = digestAlgorithmOid;
            Digest = digest;
        }

        /// <summary>SpcAttributeTypeAndOptionalValue.type: 1.3.6.1.4.1.311.2.1.15 (SPC_PE_IMAGE_DATAOBJ) for a PE file.</summary>
        public string DataType { get; }

        /// <summary>The digest algorithm as a dotted OID (1.3.14.3.2.26 SHA-1, 2.16.840.1.101.3.4.2.1 SHA-256 …).</summary>
        public string DigestAlgorithmOid { get; }

        /// <summary>The digest's name (SHA1, SHA256, SHA384, SHA512, MD5), or null for an algorithm not known here.</summary>
        public string? DigestAlgorithmName => Authenticode.AlgorithmName(DigestAlgorithmOid);

        public byte[] Digest { get; }
    }

    /// <summary>
    /// The parts of Authenticode (Windows Authenticode Portable Executable Signature Format) that are plain byte work: the
    /// SpcIndirectDataContent of the PKCS#7 content and the PE image digest. Verifying the PKCS#7 signature and the chain is
    /// Host's <c>AuthenticodeVerifier</c>.
    /// </summary>
    public static class Authenticode
    {
        public const string SpcIndirectDataOid = "1.3.6.1.4.1.311.2.1.4";
        public const string SpcPeImageDataOid = "1.3.6.1.4.1.311.2.1.15";
        public const string Sha1Oid = "1.3.14.3.2.26";
        public const string Sha256Oid = "2.16.840.1.101.3.4.2.1";
        public const string Sha384Oid = "2.16.840.1.101.3.4.2.2";
        public const string Sha512Oid = "2.16.840.1.101.3.4.2.3";
        public const string Md5Oid = "1.2.840.113549.2.5";

        private const int MaxOidArcs = 32;

        /// <summary>The .NET name of a digest OID, or null.</summary>
        public static string? AlgorithmName(string oid) => oid switch
        {
            Sha1Oid => "SHA1",
            Sha256Oid => "SHA256",
            Sha384Oid => "SHA384",
            Sha512Oid => "SHA512",
            Md5Oid => "MD5",
            _ => null,
        };

        /// <summary>
        /// Reads SpcIndirectDataContent ::= SEQUENCE { data SpcAttributeTypeAndOptionalValue, messageDigest DigestInfo }.
        /// Accepts the encoded SEQUENCE or only its contents (SignedCms hands back one or the other depending on the
        /// framework). Never throws: false with <paramref name="error"/> for anything else.
        /// </summary>
        public static bool TryParseSpcIndirectData(ReadOnlySpan<byte> der, out SpcIndirectData? result, out string? error)
        {
            result = null;
            ReadOnlySpan<byte> body = der;
            if (Der.TryRead(der, out byte tag, out var contents, out int used) && tag == Der.Sequence && used == der.Length)
            {
                body = contents;
            }

            // data: SEQUENCE { type OBJECT IDENTIFIER, value ANY OPTIONAL }
            if (!Der.TryRead(body, out tag, out var data, out used) || tag != Der.Sequence)
            {
                error = "SpcIndirectDataContent does not start with the SpcAttributeTypeAndOptionalValue SEQUENCE";
                return false;
            }

            body = body.Slice(used);
            if (!Der.TryRead(data, out tag, out var typeOid, out _) || tag != Der.ObjectIdentifier || !Der.TryDecodeOid(typeOid, out string dataType))
            {
                error = "SpcAttributeTypeAndOptionalValue has no readable type OID";
                return false;
            }

            // messageDigest: DigestInfo ::= SEQUENCE { digestAlgorithm AlgorithmIdentifier, digest OCTET STRING }
            if (!Der.TryRead(body, out tag, out var digestInfo, out _) || tag != Der.Sequence)
            {
                error = "SpcIndirectDataContent has no DigestInfo SEQUENCE";
                return false;
            }

            if (!Der.TryRead(digestInfo, out tag, out var algorithm, out used) || tag != Der.Sequence)
            {
                error = "DigestInfo has no AlgorithmIdentifier";
                return false;
            }

            if (!Der.TryRead(algorithm, out tag, out var algorithmOid, out _) || tag != Der.ObjectIdentifier || !Der.TryDecodeOid(algorithmOid, out string digestOid))
            {
                error = "the digest AlgorithmIdentifier has no readable OID";
                return false;
            }

            if (!Der.TryRead(digestInfo.Slice(used), out tag, out var digest, out _) || tag != Der.OctetString || digest.Length == 0 || digest.Length > 64)
            {
                error = "DigestInfo has no digest OCTET STRING of 1 to 64 bytes";
                return false;
            }

            result = new SpcIndirectData(dataType, digestOid, digest.ToArray());
            error = null;
            return true;
        }

        /// <summary>
        /// The Authenticode digest of a PE file: everything up to the certificate table except the optional header's
        /// CheckSum and the Certificate Table data-directory entry. Bytes after the certificate table are not covered
        /// (<paramref name="uncoveredTail"/> says how many there are). False when the image lacks the offsets needed.
        /// </summary>
        public static bool TryComputeDigest(ReadOnlySpan<byte> file, PeImage image, HashAlgorithm hash, out byte[]? digest, out long uncoveredTail, out string? error)
        {
            digest = null;
            uncoveredTail = 0;
            int checksum = image.CheckSumFileOffset;
            int entry = image.SecurityDirectoryEntryFileOffset;
            if (!image.IsPe || checksum < 0 || entry < 0 || checksum + 4 > entry || entry + 8 > file.Length)
            {
                error = "the PE headers lack the CheckSum field or the Certificate Table entry";
                return false;
            }

            long certStart = image.SecurityDirectoryOffset;
            long certEnd = certStart + image.SecurityDirectorySize;
            if (image.SecurityDirectoryOffset == 0 && image.SecurityDirectorySize == 0)
            {
                certStart = certEnd = file.Length;
            }

            if (certStart < entry + 8 || certEnd > file.Length)
            {
                error = $"the certificate table 0x{image.SecurityDirectoryOffset:X}+0x{image.SecurityDirectorySize:X} overlaps the headers or runs past the end of the file";
                return false;
            }

            hash.Initialize();
            Feed(hash, file.Slice(0, checksum));
            Feed(hash, file.Slice(checksum + 4, entry - (checksum + 4)));
            Feed(hash, file.Slice(entry + 8, (int)certStart - (entry + 8)));
            hash.TransformFinalBlock(Array.Empty<byte>(), 0, 0);
            digest = hash.Hash;
            uncoveredTail = file.Length - certEnd;
            error = null;
            return true;
        }

        private static void Feed(HashAlgorithm hash, ReadOnlySpan<byte> part)
        {
            // HashAlgorithm takes arrays on net472: feed in chunks so a large image is not copied whole.
            var buffer = new byte[Math.Min(part.Length, 1 << 16)];
            while (!part.IsEmpty)
            {
                int n = Math.Min(buffer.Length, part.Length);
                part.Slice(0, n).CopyTo(buffer);
                hash.TransformBlock(buffer, 0, n, null, 0);
                part = part.Slice(n);
            }
        }

        /// <summary>A minimal DER reader: single-byte tags, definite lengths up to 4 length bytes, every length checked.</summary>
        internal static class Der
        {
            public const byte Sequence = 0x30;
            public const byte ObjectIdentifier = 0x06;
            public const byte OctetString = 0x04;

            public static bool TryRead(ReadOnlySpan<byte> data, out byte tag, out ReadOnlySpan<byte> contents, out int used)
            {
                tag = 0;
                contents = default;
                used = 0;
                if (data.Length < 2 || (data[0] & 0x1F) == 0x1F)
                {
                    return false; // too short, or a multi-byte tag Authenticode never uses.
                }

                tag = data[0];
                int at = 2;
                long length = data[1];
                if (length == 0x80)
                {
                    return false; // indefinite length: BER, not DER.
                }

                if (length > 0x80)
                {
                    int count = (int)(length & 0x7F);
                    if (count > 4 || data.Length < 2 + count)
                    {
                        return false;
                    }

                    length = 0;
                    for (int i = 0; i < count; i++)
                    {
                        length = (length << 8) | data[2 + i];
                    }

                    at += count;
                }

                if (length > data.Length - at)
                {
                    return false;
                }

                contents = data.Slice(at, (int)length);
                used = at + (int)length;
                return true;
            }

            public static bool TryDecodeOid(ReadOnlySpan<byte> encoded, out string oid)
            {
                oid = string.Empty;
                if (encoded.IsEmpty || encoded[encoded.Length - 1] >= 0x80)
                {
                    return false;
                }

                var arcs = new List<ulong>();
                ulong value = 0;
                int bytesInArc = 0;
                foreach (byte b in encoded)
                {
                    if (++bytesInArc > 9 || arcs.Count >= MaxOidArcs)
                    {
                        return false; // larger than 63 bits, or absurdly long.
                    }

                    value = (value << 7) | (uint)(b & 0x7F);
                    if ((b & 0x80) == 0)
                    {
                        arcs.Add(value);
                        value = 0;
                        bytesInArc = 0;
                    }
                }

                var text = new StringBuilder();
                ulong first = arcs[0];
                ulong top = first < 40 ? 0UL : first < 80 ? 1UL : 2UL;
                text.Append(top).Append('.').Append(first - top * 40);
                for (int i = 1; i < arcs.Count; i++)
                {
                    text.Append('.').Append(arcs[i]);
                }

                oid = text.ToString();
                return true;
            }
        }
    }
}
