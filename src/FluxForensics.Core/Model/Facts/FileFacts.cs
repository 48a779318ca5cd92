using System;
using System.Collections.Generic;

namespace FluxForensics.Model
{
    /// <summary>The values of <see cref="FileFacts.SignatureStatus"/> (and FileFinding.SignatureStatus).</summary>
    public static class SignatureStatuses
    {
        /// <summary>Windows: WinVerifyTrust accepted the embedded signature.</summary>
        public const string Signed = "Signed";

        /// <summary>Windows: no embedded signature, but a system catalog signs the file's hash (most Windows files).</summary>
        public const string CatalogSigned = "CatalogSigned";

        /// <summary>Windows: neither an embedded nor a catalog signature.</summary>
        public const string Unsigned = "Unsigned";

        /// <summary>Windows: a signature is there but WinVerifyTrust rejected it (bad digest, untrusted root, distrusted).</summary>
        public const string Invalid = "Invalid";

        /// <summary>Without WinVerifyTrust (not Windows, or it could not run): the embedded Authenticode signature was checked
        /// here (digest, PKCS#7 signature, chain to a trusted or pinned Microsoft root, revocation not checked) and holds.</summary>
        public const string Valid = "Valid";

        /// <summary>Without WinVerifyTrust: the file's Authenticode digest differs from the signed one (changed after signing).</summary>
        public const string HashMismatch = "HashMismatch";

        /// <summary>Without WinVerifyTrust: no embedded signature. Catalog signatures (most Windows files) cannot be seen this way.</summary>
        public const string NotSigned = "NotSigned";

        /// <summary>Without WinVerifyTrust: digest and PKCS#7 signature hold, but the chain ends at no root this machine trusts
        /// (or a certificate had expired and no verified timestamp says it was signed in time).</summary>
        public const string Untrusted = "Untrusted";

        /// <summary>The security directory is set but is not a readable PKCS#7 blob.</summary>
        public const string MalformedSignature = "MalformedSignature";

        /// <summary>Nothing was checked (not a PE file on a platform without code signing, or the file could not be read).</summary>
        public const string NotChecked = "NotChecked";

        /// <summary>The file does not exist (any more).</summary>
        public const string Missing = "Missing";
    }

    /// <summary>What FluxForensics knows about one file on disk. Read by <see cref="Host.FileFactsReader"/>; judged by rules.</summary>
    public sealed class FileFacts
    {
        internal FileFacts(string path) => Path = path;

        public string Path { get; }

        /// <summary>False when the file does not exist (deleted, wrong path).</summary>
        public bool Exists { get; internal set; }

        /// <summary>Why the content could not be read (permission, I/O error), or null when it was read.</summary>
        public string? ReadError { get; internal set; }

        public long? Length { get; internal set; }
        public DateTime? LastWriteTimeUtc { get; internal set; }
        public string? Sha256 { get; internal set; }

        /// <summary>Windows Hidden or System attribute (also on ntfs-3g/FAT mounts), or on Linux a dot-name in the path.</summary>
        public bool IsHidden { get; internal set; }

        /// <summary>Why <see cref="IsHidden"/> is true, e.g. <c>Hidden attribute</c> or <c>dot-name '.cache' in the path</c>.</summary>
        public string? HiddenReason { get; internal set; }

        public bool IsSystem { get; internal set; }

        /// <summary>True when the content parsed as a PE file.</summary>
        public bool IsPe { get; internal set; }

        /// <summary>True for an ELF file (no version resource, no Authenticode by design).</summary>
        public bool IsElf { get; internal set; }

        public bool HasVersionInfo { get; internal set; }
        public string? CompanyName { get; internal set; }
        public string? FileDescription { get; internal set; }
        public string? OriginalFilename { get; internal set; }
        public string? ProductName { get; internal set; }
        public string? FileVersion { get; internal set; }

        /// <summary>One of <see cref="SignatureStatuses"/>.</summary>
        public string SignatureStatus { get; internal set; } = SignatureStatuses.NotChecked;

        /// <summary>What was checked to arrive at <see cref="SignatureStatus"/> (honest about the platform's limits).</summary>
        public string SignatureDetail { get; internal set; } = "not checked";

        /// <summary>The subject of the embedded signature's signing certificate (even when the signature does not hold), or null.</summary>
        public string? SignerSubject { get; internal set; }

        /// <summary>The embedded signature was checked here and its chain ends at a pinned Microsoft root.</summary>
        public bool ChainsToMicrosoftRoot { get; internal set; }

        /// <summary>The result of checking the embedded signature without WinVerifyTrust, or null (not a PE, or unread).</summary>
        public AuthenticodeResult? Authenticode { get; internal set; }

        /// <summary>The file lies in a temporary, per-user or otherwise user-writable location.</summary>
        public bool IsUserWritableLocation { get; internal set; }

        /// <summary>Why <see cref="IsUserWritableLocation"/> is true, e.g. <c>under /tmp</c>.</summary>
        public string? LocationReason { get; internal set; }

        /// <summary>Parse issues of the PE (e.g. a corrupt resource directory) and what else could not be read.</summary>
        public IReadOnlyList<ParseIssue> Issues { get; internal set; } = Array.Empty<ParseIssue>();
    }

    /// <summary>The outcome of checking a PE's embedded Authenticode signature without WinVerifyTrust.</summary>
    public enum AuthenticodeStatus
    {
        /// <summary>No embedded signature (the security directory is empty). Catalog signatures are not seen this way.</summary>
        NotSigned = 0,

        /// <summary>The file digest matches, the PKCS#7 signature verifies and the chain ends at a trusted root.</summary>
        Valid = 1,

        /// <summary>The file's Authenticode digest differs from the one the signature vouches for: the file was changed after signing.</summary>
        HashMismatch = 2,

        /// <summary>Digest and signature are right, but the chain does not end at a root this machine (or the pinned Microsoft roots) trusts.</summary>
        Untrusted = 3,

        /// <summary>The digest matches but the PKCS#7 signature over it does not verify (forged or damaged signer info).</summary>
        Invalid = 4,

        /// <summary>The security directory holds something that is not a readable Authenticode PKCS#7 SignedData.</summary>
        Malformed = 5,
    }

    /// <summary>What <see cref="Host.AuthenticodeVerifier"/> found.</summary>
    public sealed class AuthenticodeResult
    {
        internal AuthenticodeResult(AuthenticodeStatus status, string detail) { Status = status; Detail = detail; }

        public AuthenticodeStatus Status { get; internal set; }

        /// <summary>What was checked and how it came out, in words.</summary>
        public string Detail { get; internal set; }

        /// <summary>The signing certificate's subject (RFC 2253 style, as .NET prints it), when the PKCS#7 named one.</summary>
        public string? SignerSubject { get; internal set; }

        /// <summary>The signing certificate's SHA-1 thumbprint, lowercase hex.</summary>
        public string? SignerThumbprint { get; internal set; }

        /// <summary>SHA1, SHA256 … as named by SpcIndirectDataContent.</summary>
        public string? DigestAlgorithm { get; internal set; }

        /// <summary>The digest the signature vouches for and the one computed from the file, lowercase hex.</summary>
        public string? SignedDigest { get; internal set; }
        public string? ComputedDigest { get; internal set; }

        /// <summary>The time of a verified counter-signature or RFC 3161 timestamp; the chain was checked at that time.</summary>
        public DateTime? TimestampUtc { get; internal set; }

        /// <summary>The chain ends at one of Microsoft's code-signing roots (pinned here, since Linux and macOS stores lack them).</summary>
        public bool ChainsToMicrosoftRoot { get; internal set; }

        /// <summary>The root certificate's subject the chain ended at, when a chain was built.</summary>
        public string? RootSubject { get; internal set; }
    }
}
