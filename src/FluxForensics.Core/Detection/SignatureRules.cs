using System;

namespace FluxForensics.Detection
{
    /// <summary>
    /// How a file's signature and its claim to be Microsoft's weigh, shared by the listener and autorun rules. A Microsoft
    /// name in the version info is worth nothing by itself (anyone can write it): only a signature that holds and is
    /// Microsoft's lowers a score; a Microsoft claim whose signature fails, is untrusted or is someone else's raises it.
    /// Genuine Windows files are mostly catalog-signed and carry no embedded signature (the corpus's winml.dll): without
    /// WinVerifyTrust such a file is <c>NotSigned</c>, and that is held against it only outside the system folders.
    /// </summary>
    public static class SignatureRules
    {
        /// <summary>Points for a file that claims Microsoft without a Microsoft signature that holds.</summary>
        public const int FalseMicrosoftClaimPoints = 25;

        /// <summary>Points for a file changed after signing (the Authenticode digest differs).</summary>
        public const int HashMismatchPoints = 30;

        /// <summary>Whether the version info names Microsoft as the company.</summary>
        public static bool ClaimsMicrosoft(string? companyName) =>
            companyName is not null && companyName.IndexOf("Microsoft", StringComparison.OrdinalIgnoreCase) >= 0;

        /// <summary>Whether the signature that was checked holds and is Microsoft's: WinVerifyTrust's Signed with a Microsoft
        /// signer, a system catalog (only Windows components are catalog-signed by default), or an embedded signature checked
        /// here whose chain ends at a pinned Microsoft root.</summary>
        public static bool IsMicrosoftSigned(string? status, string? signerSubject, bool chainsToMicrosoftRoot) => status switch
        {
            "CatalogSigned" => true,
            "Signed" => signerSubject is null || IsMicrosoftSubject(signerSubject),
            "Valid" => chainsToMicrosoftRoot && signerSubject is not null && IsMicrosoftSubject(signerSubject),
            _ => false,
        };

        /// <summary>
        /// The reason (and points) when a file claims Microsoft without a Microsoft signature that holds, or null. A file
        /// without an embedded signature inside a system folder is let be when catalogs could not be asked (NotSigned).
        /// </summary>
        public static (string Reason, int Points)? FalseMicrosoftClaim(string? companyName, string? status, string? signerSubject, bool chainsToMicrosoftRoot, bool inSystemDirectory)
        {
            if (!ClaimsMicrosoft(companyName) || status is null || IsMicrosoftSigned(status, signerSubject, chainsToMicrosoftRoot))
            {
                return null;
            }

            string why = status switch
            {
                "NotSigned" when inSystemDirectory => string.Empty,
                "NotSigned" => "no embedded signature outside the system folders",
                "Unsigned" => "neither an embedded nor a catalog signature",
                "HashMismatch" => "the file was changed after signing",
                "Invalid" => "its signature is invalid",
                "MalformedSignature" => "its signature directory is malformed",
                "Untrusted" => "its signature's chain is not trusted",
                "Valid" or "Signed" => $"it is signed by '{signerSubject}'",
                _ => string.Empty,
            };

            return why.Length == 0 ? null : ($"claims to be Microsoft's ('{companyName}') but {why} ({status})", FalseMicrosoftClaimPoints);
        }

        private static bool IsMicrosoftSubject(string subject) =>
            subject.IndexOf("O=Microsoft Corporation", StringComparison.OrdinalIgnoreCase) >= 0;
    }
}
