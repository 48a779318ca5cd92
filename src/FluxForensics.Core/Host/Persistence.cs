using System;
using System.Collections.Generic;
using System.IO;
using System.Runtime.InteropServices;
using System.Threading;
using FluxForensics.Model;

namespace FluxForensics.Host
{
    /// <summary>What to scan: the live system or an offline root.</summary>
    public sealed class PersistenceScanOptions
    {
        /// <summary>The offline root (a mounted Windows volume or a Linux root); null for the live system.</summary>
        public string? Root { get; set; }

        /// <summary>Windows or Linux for an offline root; detected from its layout when null.</summary>
        public bool? RootIsWindows { get; set; }

        public int MaxFilesPerDirectory { get; set; } = 20000;
    }

    /// <summary>Maps a path as an entry states it (<c>C:\Users\x\a.exe</c>, <c>/usr/bin/x</c>) to a path that can be
    /// opened here: itself on the live system, the matching file below an offline root (case-insensitively for
    /// Windows volumes mounted on Linux).</summary>
    public sealed class PathMapper
    {
        private readonly string? _root;
        private readonly bool _windows;
        private readonly Dictionary<string, string?> _cache = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);

        private readonly IFluxReporter _reporter;

        public PathMapper(string? root, bool windows, IFluxReporter? reporter = null)
        {
            _root = root is null ? null : Path.GetFullPath(root);
            _windows = windows;
            _reporter = reporter ?? NullReporter.Instance;
        }

        public bool IsOffline => _root is not null;

        /// <summary>The local path, or null when the path cannot name a file of this system (a URL, another drive, empty).</summary>
        public string? ToLocal(string? statedPath)
        {
            if (string.IsNullOrWhiteSpace(statedPath))
            {
                return null;
            }

            string p = statedPath!.Trim().Trim('"');
            if (_root is null)
            {
                return p.IndexOf("://", StringComparison.Ordinal) > 0 ? null : p;
            }

            if (!_windows)
            {
                if (!p.StartsWith("/", StringComparison.Ordinal))
                {
                    return null;
                }

                return Resolve(p.Substring(1).Split(new[] { '/' }, StringSplitOptions.RemoveEmptyEntries), false);
            }

            if (p.StartsWith(@"\??\", StringComparison.Ordinal) || p.StartsWith(@"\\?\", StringComparison.Ordinal))
            {
                p = p.Substring(4);
            }

            if (p.StartsWith(@"\SystemRoot\", StringComparison.OrdinalIgnoreCase))
            {
                p = @"C:\Windows\" + p.Substring(12);
            }
            else if (p.StartsWith(@"System32\", StringComparison.OrdinalIgnoreCase) || p.StartsWith(@"SysWOW64\", StringComparison.OrdinalIgnoreCase))
            {
                p = @"C:\Windows\" + p;
            }

            if (p.Length >= 3 && char.IsLetter(p[0]) && p[1] == ':' && (p[2] == '\\' || p[2] == '/'))
            {
                if (char.ToUpperInvariant(p[0]) != 'C')
                {
                    return null;
                }

                return Resolve(p.Substring(3).Split(new[] { '\\', '/' }, StringSplitOptions.RemoveEmptyEntries), true);
            }

            return null;
        }

        private string? Resolve(string[] parts, bool caseInsensitive)
        {
            string key = string.Join("/", parts);
            if (_cache.TryGetValue(key, out string? hit))
            {
                return hit;
            }

            string current = _root!;
            var pending = new Queue<string>(parts);
            int links = 0;
            while (pending.Count > 0)
            {
                string part = pending.Dequeue();
                if (part == "." || part.Length == 0)
                {
                    continue;
                }

                if (part == "..")
                {
                    current = Path.GetDirectoryName(current) ?? current;
                    if (!current.StartsWith(_root!, StringComparison.Ordinal))
                    {
                        current = _root!;
                    }

                    continue;
                }

                string exact = Path.Combine(current, part);
                string? linkTarget = LinkTarget(exact);
                if (linkTarget is not null && links++ < 40)
                {
                    // A link inside evidence points into the evidence, never at this machine: re-root absolute targets.
                    string[] rest = pending.ToArray();
                    pending.Clear();
                    if (linkTarget.StartsWith("/", StringComparison.Ordinal))
                    {
                        current = _root!;
                    }

                    foreach (string p in linkTarget.Split(new[] { '/', '\\' }, StringSplitOptions.RemoveEmptyEntries))
                    {
                        pending.Enqueue(p);
                    }

                    foreach (string p in rest)
                    {
                        pending.Enqueue(p);
                    }

                    continue;
                }

                if (!caseInsensitive || File.Exists(exact) || Directory.Exists(exact))
                {
                    current = exact;
                    continue;
                }

                string? found = null;
                try
                {
                    if (Directory.Exists(current))
                    {
                        foreach (string entry in Directory.EnumerateFileSystemEntries(current))
                        {
                            if (string.Equals(Path.GetFileName(entry), part, StringComparison.OrdinalIgnoreCase))
                            {
                                found = entry;
                                break;
                            }
                        }
                    }
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    _reporter.Warning($"Cannot list '{current}' to find '{part}' in any case ({e.Message}); the path is taken as written.");
                }

                current = found ?? exact;
            }

            _cache[key] = current;
            return current;
        }

        private static string? LinkTarget(string path)
        {
#if NET
            try
            {
                var info = new FileInfo(path);
                return info.Exists || Directory.Exists(path) ? info.LinkTarget : null;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Not readable as a link: the path is then used as it is, and reading it says what fails.
                return null;
            }
#else
            return null;
#endif
        }
    }

    /// <summary>Enumerates persistence entries of the live system or an offline root, on either OS.</summary>
    public static class PersistenceScanner
    {
        public static bool IsWindowsHost => RuntimeInformation.IsOSPlatform(OSPlatform.Windows);

        /// <summary>Windows when the root holds <c>Windows\System32\config</c>.</summary>
        public static bool LooksLikeWindowsRoot(string root)
        {
            var mapper = new PathMapper(root, true);
            string? config = mapper.ToLocal(@"C:\Windows\System32\config");
            return config is not null && Directory.Exists(config);
        }

        public static IEnumerable<AutorunEntry> Scan(PersistenceScanOptions options, IFluxReporter reporter, CancellationToken cancellation)
        {
            bool windows = options.Root is null ? IsWindowsHost : options.RootIsWindows ?? LooksLikeWindowsRoot(options.Root);
            var mapper = new PathMapper(options.Root, windows, reporter);
            return windows
                ? new WindowsPersistenceSource(options, mapper, reporter, cancellation).Entries()
                : new LinuxPersistenceSource(options, mapper, reporter, cancellation).Entries();
        }

        internal static IEnumerable<string> SafeFiles(string directory, string pattern, SearchOption option, IFluxReporter reporter, int cap)
        {
            if (!Directory.Exists(directory))
            {
                return Array.Empty<string>();
            }

            var files = new List<string>();
            var pending = new Stack<string>();
            pending.Push(directory);
            while (pending.Count > 0 && files.Count < cap)
            {
                string dir = pending.Pop();
                try
                {
                    foreach (string f in Directory.EnumerateFiles(dir, pattern))
                    {
                        files.Add(f);
                        if (files.Count >= cap)
                        {
                            reporter.Warning($"More than {cap} files under '{directory}'; the rest were not read.");
                            break;
                        }
                    }

                    if (option == SearchOption.AllDirectories)
                    {
                        foreach (string d in Directory.EnumerateDirectories(dir))
                        {
                            // Do not follow directory symlinks: a loop would never end.
                            if ((File.GetAttributes(d) & FileAttributes.ReparsePoint) == 0)
                            {
                                pending.Push(d);
                            }
                        }
                    }
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    reporter.Error(new FluxError("PersistenceLocationUnreadable", FluxErrorCategory.ReadError, dir, $"Cannot list '{dir}': {e.Message}", e));
                }
            }

            files.Sort(StringComparer.Ordinal);
            return files;
        }

        internal static string? ReadText(string path, IFluxReporter reporter, long cap = 4 << 20)
        {
            try
            {
                var info = new FileInfo(path);
                if (info.Length > cap)
                {
                    reporter.Warning($"'{path}' is {info.Length} bytes; over the {cap} cap, not read.");
                    return null;
                }

                return File.ReadAllText(path);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                reporter.Error(new FluxError("PersistenceFileUnreadable", FluxErrorCategory.ReadError, path, $"Cannot read '{path}': {e.Message}", e));
                return null;
            }
        }

        internal static DateTime? WriteTime(string path)
        {
            try
            {
                return File.Exists(path) ? File.GetLastWriteTimeUtc(path) : null;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Only the time is unknown; the entry is still read and judged (a missing time adds no points).
                return null;
            }
        }
    }
}
