using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using FluxForensics.Formats;
using FluxForensics.Model;

namespace FluxForensics.Host
{
    /// <summary>
    /// Reads <see cref="FileFacts"/>: SHA-256, hidden state, location, PE version info (through <see cref="PeFile"/>, so it
    /// works on PE files seen from Linux) and signature status (WinVerifyTrust incl. catalogs on Windows; elsewhere only
    /// the embedded Authenticode signature checked by <see cref="AuthenticodeVerifier"/>). Never throws for a file it cannot read: <see cref="FileFacts.ReadError"/>.
    /// </summary>
    public static class FileFactsReader
    {
        /// <summary>Files larger than this are hashed by streaming but not parsed as PE (version info stays unknown).</summary>
        public const long MaxParsedLength = 256L * 1024 * 1024;

        private static readonly bool IsWindows = RuntimeInformation.IsOSPlatform(OSPlatform.Windows);

        /// <summary>Reads the facts of <paramref name="path"/>.</summary>
        public static FileFacts Read(string path) => Read(path, null);

        /// <summary>
        /// Reads the facts of <paramref name="path"/>, taking the bytes from <paramref name="contentPath"/> when given (e.g.
        /// <c>/proc/&lt;pid&gt;/exe</c>, which still opens a deleted image). Location and hidden state are about <paramref name="path"/>.
        /// </summary>
        public static FileFacts Read(string path, string? contentPath)
        {
            var facts = new FileFacts(path);
            var issues = new List<ParseIssue>();
            string readFrom = contentPath ?? path;

            ReadLocation(path, facts);
            ReadHidden(path, facts);

            byte[]? content = null;
            try
            {
                var info = new FileInfo(readFrom);
                if (!info.Exists)
                {
                    facts.Exists = false;
                    facts.ReadError = $"'{readFrom}' does not exist";
                    facts.SignatureStatus = SignatureStatuses.Missing;
                    facts.SignatureDetail = "the file does not exist";
                    facts.Issues = issues;
                    return facts;
                }

                facts.Exists = true;
                facts.Length = info.Length;
                facts.LastWriteTimeUtc = info.LastWriteTimeUtc;
                using var stream = new FileStream(readFrom, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1, FileOptions.SequentialScan);
                using var sha = SHA256.Create();
                if (stream.Length <= MaxParsedLength)
                {
                    content = ReadAll(stream);
                    facts.Length = content.Length;
                    facts.Sha256 = FluxForensics.Hex.Lower(sha.ComputeHash(content));
                }
                else
                {
                    facts.Sha256 = FluxForensics.Hex.Lower(sha.ComputeHash(new BufferedStream(stream, 1 << 20)));
                    issues.Add(new ParseIssue(path, -1, $"file larger than {MaxParsedLength / (1024 * 1024)} MiB: hashed, version info not read", "file"));
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException or ArgumentException or System.Security.SecurityException)
            {
                // Exists stays as learnt (true when FileInfo saw it): the content is what could not be read.
                facts.Exists = facts.Exists || File.Exists(readFrom);
                facts.ReadError = $"cannot read '{readFrom}': {e.Message}";
                issues.Add(new ParseIssue(path, -1, facts.ReadError, "file"));
            }

            if (content is not null)
            {
                ReadContent(path, content, facts, issues);
            }

            ReadSignature(path, readFrom, facts);
            facts.Issues = issues;
            return facts;
        }

        private static void ReadContent(string path, byte[] content, FileFacts facts, List<ParseIssue> issues)
        {
            if (content.Length >= 4 && content[0] == 0x7F && content[1] == (byte)'E' && content[2] == (byte)'L' && content[3] == (byte)'F')
            {
                facts.IsElf = true;
                return;
            }

            if (content.Length < 2 || content[0] != (byte)'M' || content[1] != (byte)'Z')
            {
                return; // a script or data file: no version info to read, and that is not an issue.
            }

            var image = PeFile.Parse(content, path);
            issues.AddRange(image.Issues);
            facts.IsPe = image.IsPe;
            if (!image.IsPe)
            {
                return;
            }

            var v = image.VersionInfo;
            facts.HasVersionInfo = v is not null;
            facts.CompanyName = v?.CompanyName;
            facts.FileDescription = v?.FileDescription;
            facts.OriginalFilename = v?.OriginalFilename;
            facts.ProductName = v?.ProductName;
            facts.FileVersion = v?.FileVersion;

            // Checked here on every platform: off Windows it is the answer; on Windows WinVerifyTrust's answer replaces the
            // status, and this still names the signer.
            var authenticode = AuthenticodeVerifier.Verify(content, image);
            facts.Authenticode = authenticode;
            facts.SignerSubject = authenticode.SignerSubject;
            facts.ChainsToMicrosoftRoot = authenticode.Status == AuthenticodeStatus.Valid && authenticode.ChainsToMicrosoftRoot;
            facts.SignatureStatus = StatusOf(authenticode.Status);
            facts.SignatureDetail = authenticode.Detail;
        }

        /// <summary>The <see cref="SignatureStatuses"/> value of an <see cref="AuthenticodeStatus"/>.</summary>
        public static string StatusOf(AuthenticodeStatus status) => status switch
        {
            AuthenticodeStatus.Valid => SignatureStatuses.Valid,
            AuthenticodeStatus.HashMismatch => SignatureStatuses.HashMismatch,
            AuthenticodeStatus.Untrusted => SignatureStatuses.Untrusted,
            AuthenticodeStatus.Invalid => SignatureStatuses.Invalid,
            AuthenticodeStatus.Malformed => SignatureStatuses.MalformedSignature,
            _ => SignatureStatuses.NotSigned,
        };

        private static void ReadSignature(string path, string readFrom, FileFacts facts)
        {
            if (!facts.Exists)
            {
                return;
            }

            if (IsWindows)
            {
                if (WindowsSignature.TryVerify(readFrom, out string status, out string detail))
                {
                    facts.SignatureStatus = status;
                    facts.SignatureDetail = detail;
                }
                else if (facts.IsPe)
                {
                    // The status stays the one checked here without WinVerifyTrust.
                    facts.SignatureDetail = "WinVerifyTrust could not run (" + detail + "); " + facts.SignatureDetail;
                }

                return;
            }

            if (!facts.IsPe)
            {
                facts.SignatureStatus = SignatureStatuses.NotChecked;
                facts.SignatureDetail = facts.IsElf
                    ? "ELF file: no code-signing scheme was checked"
                    : facts.ReadError is null ? "not a PE file: no code-signing scheme was checked" : "the content could not be read";
            }
        }

        private static byte[] ReadAll(FileStream stream)
        {
            long declared = stream.Length;
            if (declared > 0)
            {
                var buffer = new byte[declared];
                int read = 0;
                while (read < buffer.Length)
                {
                    int n = stream.Read(buffer, read, buffer.Length - read);
                    if (n == 0)
                    {
                        Array.Resize(ref buffer, read); // the file shrank while we read it.
                        break;
                    }

                    read += n;
                }

                return buffer;
            }

            // Length 0 may be a pseudo file: read until end, capped.
            using var copy = new MemoryStream();
            var chunk = new byte[81920];
            int got;
            while ((got = stream.Read(chunk, 0, chunk.Length)) > 0 && copy.Length < MaxParsedLength)
            {
                copy.Write(chunk, 0, got);
            }

            return copy.ToArray();
        }

        private static void ReadHidden(string path, FileFacts facts)
        {
            // Windows attributes (or ntfs-3g xattr / FAT ioctl on Linux) on the file itself …
            if (FileAttributeReader.TryRead(path, out var attributes, out _) && attributes is not null)
            {
                facts.IsSystem = attributes.IsSystem;
                if (attributes.IsHidden && attributes.Mechanism != FileAttributeMechanism.DotName)
                {
                    facts.IsHidden = true;
                    facts.HiddenReason = $"Hidden attribute ({attributes.Mechanism})";
                    return;
                }

                if (attributes.IsSystem && !(IsWindows && path.IndexOf("\\Windows\\", StringComparison.OrdinalIgnoreCase) >= 0))
                {
                    // System without Hidden is still hidden from Explorer's default view; genuine Windows files may carry it.
                    facts.IsHidden = true;
                    facts.HiddenReason = $"System attribute ({attributes.Mechanism})";
                    return;
                }
            }

            // … and on Unix, a dot-name anywhere in the path hides it from ls and file managers.
            if (!IsWindows)
            {
                string? dotted = DotNameInPath(path);
                if (dotted is not null)
                {
                    facts.IsHidden = true;
                    facts.HiddenReason = $"dot-name '{dotted}' in the path";
                }
            }
            else
            {
                HiddenAncestor(path, facts);
            }
        }

        /// <summary>The first component of <paramref name="path"/> that starts with a dot (not . or ..), or null.</summary>
        public static string? DotNameInPath(string path)
        {
            foreach (var part in path.Split('/'))
            {
                if (part.Length > 1 && part[0] == '.' && part != "..")
                {
                    return part;
                }
            }

            return null;
        }

        private static void HiddenAncestor(string path, FileFacts facts)
        {
            // Windows: a payload in a Hidden folder is as hidden as a Hidden file (the USB trap's "_" folder).
            try
            {
                var dir = System.IO.Path.GetDirectoryName(path);
                for (int depth = 0; dir is not null && depth < 32; depth++)
                {
                    var parent = System.IO.Path.GetDirectoryName(dir);
                    if (parent is null)
                    {
                        break; // the root itself carries Hidden|System on many drives.
                    }

                    if (FileAttributeReader.TryRead(dir, out var a, out _) && a is not null && a.IsHidden)
                    {
                        facts.IsHidden = true;
                        facts.HiddenReason = $"Hidden folder '{dir}'";
                        return;
                    }

                    dir = parent;
                }
            }
            catch (Exception e) when (e is ArgumentException or PathTooLongException)
            {
                // A malformed path has no ancestors to judge.
            }
        }

        private static void ReadLocation(string path, FileFacts facts)
        {
            string? reason = IsWindows ? WindowsLocation(path) : UnixLocation(path);
            facts.IsUserWritableLocation = reason is not null;
            facts.LocationReason = reason;
        }

        private static readonly string[] UnixTempRoots = { "/tmp/", "/var/tmp/", "/dev/shm/", "/run/user/", "/var/run/user/" };
        private static readonly string[] UnixHomeRoots = { "/home/", "/root/" };

        /// <summary>Why a Unix path is in a temporary or user-writable place, or null.</summary>
        public static string? UnixLocation(string path)
        {
            foreach (var root in UnixTempRoots)
            {
                if (path.StartsWith(root, StringComparison.Ordinal))
                {
                    return $"under {root.TrimEnd('/')} (temporary)";
                }
            }

            string? temp = Environment.GetEnvironmentVariable("TMPDIR");
            if (!string.IsNullOrEmpty(temp) && path.StartsWith(temp!.TrimEnd('/') + "/", StringComparison.Ordinal))
            {
                return $"under $TMPDIR {temp}";
            }

            foreach (var root in UnixHomeRoots)
            {
                if (path.StartsWith(root, StringComparison.Ordinal))
                {
                    return $"in a home directory ({root.TrimEnd('/')})";
                }
            }

#if NET
            // Any other place where the file or its folder can be written by everyone.
            if (OperatingSystem.IsWindows())
            {
                return null;
            }

            try
            {
                string? dir = System.IO.Path.GetDirectoryName(path);
                if (dir is not null && Directory.Exists(dir))
                {
                    var mode = File.GetUnixFileMode(dir);
                    if ((mode & UnixFileMode.OtherWrite) != 0)
                    {
                        return $"folder '{dir}' is writable by every user";
                    }
                }

                if (File.Exists(path) && (File.GetUnixFileMode(path) & UnixFileMode.OtherWrite) != 0)
                {
                    return "the file is writable by every user";
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Unknown permissions are not evidence either way.
            }
#endif
            return null;
        }

        /// <summary>Why a Windows path is in a temporary or user-writable place, or null.</summary>
        public static string? WindowsLocation(string path)
        {
            string p = path.Replace('/', '\\');
            int colon = p.IndexOf(":\\", StringComparison.Ordinal);
            string rest = colon == 1 ? p.Substring(2) : p;
            var markers = new (string Fragment, string Reason)[]
            {
                ("\\AppData\\Local\\Temp\\", "in the user's temporary folder"),
                ("\\Windows\\Temp\\", "in C:\\Windows\\Temp"),
                ("\\AppData\\", "in the user's AppData"),
                ("\\Users\\Public\\", "in C:\\Users\\Public"),
                ("\\ProgramData\\", "in C:\\ProgramData (writable by users by default)"),
                ("\\$Recycle.Bin\\", "in the Recycle Bin"),
                ("\\Downloads\\", "in a Downloads folder"),
                ("\\Desktop\\", "on a desktop"),
            };
            foreach (var (fragment, reason) in markers)
            {
                if (rest.IndexOf(fragment, StringComparison.OrdinalIgnoreCase) >= 0)
                {
                    return reason;
                }
            }

            foreach (var variable in new[] { "TEMP", "TMP" })
            {
                string? temp = Environment.GetEnvironmentVariable(variable);
                if (!string.IsNullOrEmpty(temp) && p.StartsWith(temp!.TrimEnd('\\') + "\\", StringComparison.OrdinalIgnoreCase))
                {
                    return $"under %{variable}%";
                }
            }

            if (rest.StartsWith("\\Users\\", StringComparison.OrdinalIgnoreCase))
            {
                return "in a user profile";
            }

            // Removable drives and the root of a drive (the USB trap's "_" folder) are writable by whoever plugs them in.
            if (colon == 1 && !rest.StartsWith("\\Windows\\", StringComparison.OrdinalIgnoreCase) &&
                !rest.StartsWith("\\Program Files", StringComparison.OrdinalIgnoreCase))
            {
                try
                {
                    var drive = new DriveInfo(p.Substring(0, 1));
                    if (drive.DriveType == DriveType.Removable)
                    {
                        return $"on removable drive {drive.Name}";
                    }
                }
                catch (Exception e) when (e is ArgumentException or IOException or UnauthorizedAccessException)
                {
                    // Not a drive we can ask about.
                }
            }

            return null;
        }

        /// <summary>A small cache so that many processes of one image read it once (keyed on path, length and write time).
        /// Safe to use from several threads.</summary>
        public sealed class Cache
        {
            private readonly object _gate = new object();

            private readonly Dictionary<string, (long Length, DateTime Written, FileFacts Facts)> _entries = new Dictionary<string, (long, DateTime, FileFacts)>(StringComparer.Ordinal);

            public FileFacts Read(string path, string? contentPath = null)
            {
                long length = -1;
                DateTime written = default;
                try
                {
                    var info = new FileInfo(contentPath ?? path);
                    if (info.Exists)
                    {
                        length = info.Length;
                        written = info.LastWriteTimeUtc;
                    }
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
                {
                    length = -2;
                }

                lock (_gate)
                {
                    if (length >= 0 && _entries.TryGetValue(path, out var hit) && hit.Length == length && hit.Written == written && hit.Facts.ReadError is null)
                    {
                        return hit.Facts;
                    }
                }

                // Two threads may read the same new file once each; both results are equal, the last one is kept.
                var facts = FileFactsReader.Read(path, contentPath);
                if (length >= 0)
                {
                    lock (_gate)
                    {
                        _entries[path] = (length, written, facts);
                    }
                }

                return facts;
            }
        }
    }
}
