using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Security.Cryptography;
using System.Threading;
using FluxForensics.Detection;
using FluxForensics.Formats;
using FluxForensics.Model;

namespace FluxForensics.Host
{
    /// <summary>
    /// Walks a drive root (and, on request, the folders below it), reads each shortcut and the facts around it (the folder
    /// of the same name, the payload its arguments start, autorun.inf), and lets <see cref="UsbTrapRules"/> judge.
    /// A folder that cannot be read or vanishes is a per-item error; the scan goes on. A root that vanishes (drive
    /// removed) ends that root's scan with an error.
    /// </summary>
    public sealed class UsbScanner
    {
        /// <summary>Payloads larger than this are not hashed (the finding says so).</summary>
        public const long MaxHashedPayload = 512L * 1024 * 1024;

        private readonly IFluxReporter _reporter;
        private readonly int _ansiCodePage;
        private readonly CancellationToken _cancellation;

        public UsbScanner(IFluxReporter reporter, int ansiCodePage = 1252, CancellationToken cancellation = default)
        {
            _reporter = reporter ?? throw new ArgumentNullException(nameof(reporter));
            _ansiCodePage = ansiCodePage;
            _cancellation = cancellation;
        }

        /// <summary>Number of directories and entries looked at so far (for benchmarks and progress).</summary>
        public int DirectoriesScanned { get; private set; }
        public long EntriesSeen { get; private set; }

        /// <summary>Yields the traps under <paramref name="root"/>; the trap itself lives in the root, <paramref name="recurse"/> looks below.</summary>
        public IEnumerable<UsbLnkTrap> Scan(string root, bool recurse)
        {
            // On Linux an unmounted stick leaves its (empty) mount point behind: remember whether the root was a
            // mount point, so that its disappearance from the mount table counts as the drive being removed.
            _rootWasMountPoint = IsMountPoint(root);
            var pending = new Queue<string>();
            pending.Enqueue(root);
            while (pending.Count > 0)
            {
                if (_cancellation.IsCancellationRequested)
                {
                    yield break;
                }

                string directory = pending.Dequeue();
                _reporter.Progress("Find-UsbLnkTrap", $"{root}: {directory}", double.NaN);
                var entries = ReadDirectory(root, directory, out bool rootGone);
                if (rootGone)
                {
                    yield break;
                }

                if (entries is null)
                {
                    continue;
                }

                DirectoriesScanned++;
                EntriesSeen += entries.Count;
                foreach (var trap in ScanDirectory(root, directory, entries))
                {
                    yield return trap;
                }

                if (recurse)
                {
                    foreach (var sub in entries)
                    {
                        // Symbolic links and junctions are not followed: they can leave the drive or loop.
                        if (sub is DirectoryInfo && (sub.Attributes & FileAttributes.ReparsePoint) == 0)
                        {
                            pending.Enqueue(sub.FullName);
                        }
                    }
                }
            }
        }

        private bool _rootWasMountPoint;

        private static bool IsMountPoint(string path)
        {
            if (!System.Runtime.InteropServices.RuntimeInformation.IsOSPlatform(System.Runtime.InteropServices.OSPlatform.Linux))
            {
                return false;
            }

            try
            {
                string full = Path.GetFullPath(path).TrimEnd('/');
                foreach (var mount in RemovableDrives.ParseMountInfo(File.ReadAllText("/proc/self/mountinfo")))
                {
                    if (string.Equals(mount.MountPoint.TrimEnd('/'), full, StringComparison.Ordinal) && full.Length > 0)
                    {
                        return true;
                    }
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
            }

            return false;
        }

        private List<FileSystemInfo>? ReadDirectory(string root, string directory, out bool rootGone)
        {
            rootGone = false;
            try
            {
                var list = new DirectoryInfo(directory).EnumerateFileSystemInfos().ToList();
                list.Sort((a, b) => string.CompareOrdinal(a.Name, b.Name));
                return list;
            }
            catch (UnauthorizedAccessException e)
            {
                _reporter.Error(new FluxError("DirectoryUnreadable", FluxErrorCategory.PermissionDenied, directory, $"Cannot read '{directory}': {e.Message}", e));
                return null;
            }
            catch (Exception e) when (e is IOException or System.Security.SecurityException)
            {
                if (!Directory.Exists(root) || (_rootWasMountPoint && !IsMountPoint(root)))
                {
                    rootGone = true;
                    _reporter.Error(new FluxError("DriveRemoved", FluxErrorCategory.ResourceUnavailable, root,
                        $"'{root}' is no longer available (drive removed or unmounted during the scan): {e.Message}", e));
                    return null;
                }

                _reporter.Error(new FluxError(Directory.Exists(directory) ? "DirectoryUnreadable" : "DirectoryVanished", FluxErrorCategory.ReadError, directory,
                    $"Cannot read '{directory}': {e.Message}", e));
                return null;
            }
        }

        private IEnumerable<UsbLnkTrap> ScanDirectory(string root, string directory, List<FileSystemInfo> entries)
        {
            Dictionary<string, string>? folders = null;
            string? autorun = null;
            foreach (var e in entries)
            {
                if (e is FileInfo && string.Equals(e.Name, "autorun.inf", StringComparison.OrdinalIgnoreCase))
                {
                    autorun = e.FullName;
                }
            }

            foreach (var entry in entries)
            {
                if (entry is not FileInfo file || !file.Name.EndsWith(".lnk", StringComparison.OrdinalIgnoreCase))
                {
                    continue;
                }

                byte[]? bytes = ReadShortcut(file.FullName);
                if (bytes is null)
                {
                    continue;
                }

                var link = ShellLinkFile.Parse(bytes, file.FullName, _ansiCodePage);
                foreach (var issue in link.Issues)
                {
                    _reporter.Issue(issue);
                }

                if (!link.IsValid)
                {
                    continue;
                }

                folders ??= entries.Where(x => x is DirectoryInfo).GroupBy(x => x.Name, StringComparer.OrdinalIgnoreCase)
                    .ToDictionary(g => g.Key, g => g.First().FullName, StringComparer.OrdinalIgnoreCase);
                string name = file.Name.Substring(0, file.Name.Length - 4);
                folders.TryGetValue(name, out string? sameNameFolder);
                if (!UsbTrapRules.IsCandidate(link, sameNameFolder is not null))
                {
                    continue;
                }

                var facts = new UsbShortcutFacts(root, file.FullName, link)
                {
                    SameNameFolder = sameNameFolder is null ? null : ReadEntry(sameNameFolder, hash: false),
                    AutorunInfPath = autorun,
                    ShortcutLastWriteTime = file.LastWriteTimeUtc,
                };

                var arguments = UsbTrapRules.AnalyzeArguments(link.Arguments);
                foreach (var reference in arguments.DriveRelativePrograms)
                {
                    facts.PayloadReference ??= reference;
                    string? resolved = Resolve(directory, UsbTrapRules.RelativeComponents(reference));
                    if (resolved is not null)
                    {
                        facts.PayloadReference = reference;
                        facts.Payload = ReadEntry(resolved, hash: true);
                        break;
                    }
                }

                if (sameNameFolder is null)
                {
                    foreach (var reference in arguments.OpenedFolders)
                    {
                        string? resolved = Resolve(directory, UsbTrapRules.RelativeComponents(reference));
                        if (resolved is not null && Directory.Exists(resolved))
                        {
                            facts.OpenedFolder = ReadEntry(resolved, hash: false);
                            break;
                        }
                    }
                }

                var trap = UsbTrapRules.Judge(facts);
                if (trap is not null)
                {
                    yield return trap;
                }
            }
        }

        private byte[]? ReadShortcut(string path)
        {
            try
            {
                using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 4096, FileOptions.SequentialScan);
                long length = Math.Min(stream.Length, ShellLinkFile.MaxFileSize + 1L);
                var buffer = new byte[length];
                int total = 0;
                while (total < buffer.Length)
                {
                    int read = stream.Read(buffer, total, buffer.Length - total);
                    if (read == 0)
                    {
                        break;
                    }

                    total += read;
                }

                return total == buffer.Length ? buffer : buffer.AsSpan(0, total).ToArray();
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                _reporter.Error(new FluxError("ShortcutUnreadable", e is UnauthorizedAccessException ? FluxErrorCategory.PermissionDenied : FluxErrorCategory.ReadError, path,
                    $"Cannot read shortcut '{path}': {e.Message}", e));
                return null;
            }
        }

        /// <summary>Finds a drive-relative path component by component, ignoring case as Windows would.</summary>
        private static string? Resolve(string directory, string[] components)
        {
            if (components.Length == 0 || components.Any(c => c == ".."))
            {
                return null;
            }

            string current = directory;
            foreach (var component in components)
            {
                string exact = Path.Combine(current, component);
                if (File.Exists(exact) || Directory.Exists(exact))
                {
                    current = exact;
                    continue;
                }

                string? match = null;
                try
                {
                    match = Directory.EnumerateFileSystemEntries(current)
                        .FirstOrDefault(p => string.Equals(Path.GetFileName(p), component, StringComparison.OrdinalIgnoreCase));
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    return null;
                }

                if (match is null)
                {
                    return null;
                }

                current = match;
            }

            return current;
        }

        private static UsbEntryFacts ReadEntry(string path, bool hash)
        {
            var facts = new UsbEntryFacts(path);
            if (!FileAttributeReader.TryRead(path, out var info, out string? error))
            {
                facts.Exists = File.Exists(path) || Directory.Exists(path);
                facts.Error = error;
                return facts;
            }

            facts.Exists = true;
            facts.Mechanism = info!.Mechanism;
            facts.RawAttributes = info.RawAttributes;
            facts.IsHidden = info.AttributesKnown || info.IsHidden ? info.IsHidden : null;
            facts.IsSystem = info.AttributesKnown ? info.IsSystem : null;
            try
            {
                facts.LastWriteTime = Directory.Exists(path) ? Directory.GetLastWriteTimeUtc(path) : File.GetLastWriteTimeUtc(path);
            }
            catch (Exception e) when (e is IOException || e is UnauthorizedAccessException)
            {
                facts.Error ??= $"last write time: {e.Message}";
            }
            if (hash && File.Exists(path))
            {
                try
                {
                    using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 81920, FileOptions.SequentialScan);
                    facts.Size = stream.Length;
                    var head = new byte[2];
                    facts.LooksLikeExecutable = stream.Read(head, 0, 2) == 2 && head[0] == (byte)'M' && head[1] == (byte)'Z';
                    if (stream.Length <= MaxHashedPayload)
                    {
                        stream.Position = 0;
                        using var sha = SHA256.Create();
                        facts.Sha256 = FluxForensics.Hex.Lower(sha.ComputeHash(stream));
                    }
                    else
                    {
                        facts.Error = $"larger than {MaxHashedPayload} bytes, not hashed";
                    }
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    facts.Error = e.Message;
                }

                if (facts.LooksLikeExecutable && facts.Sha256 is not null)
                {
                    var file = FileFactsReader.Read(path);
                    facts.SignatureStatus = file.SignatureStatus;
                    facts.Signer = file.SignerSubject;
                }
            }

            return facts;
        }
    }
}
