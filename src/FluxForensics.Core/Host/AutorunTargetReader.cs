using System;
using System.Collections.Generic;
using System.IO;
using System.Threading;
using FluxForensics.Model;

namespace FluxForensics.Host
{
    /// <summary>
    /// Reads persistence entries and what each finally runs: follows the command through its launchers, finds the file in
    /// the analysed system, and reads that file's facts (hash, hidden, version info, signature). Reads only; judging is the
    /// autorun rules'.
    /// </summary>
    public static class AutorunTargetReader
    {
        private static readonly string[] PosixPath = { "/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin" };

        /// <summary>The activity progress records of an autorun scan carry.</summary>
        public const string ProgressActivity = "Reading autostart locations";

        /// <summary>Every entry of the live system or the offline root, observed. An entry whose target cannot be read is a
        /// per-item error.</summary>
        public static IEnumerable<ObservedAutorun> Read(PersistenceScanOptions options, IFluxReporter reporter, CancellationToken cancellation)
        {
            bool windows = options.Root is null ? PersistenceScanner.IsWindowsHost : options.RootIsWindows ?? PersistenceScanner.LooksLikeWindowsRoot(options.Root);
            options.RootIsWindows = windows;
            var mapper = new PathMapper(options.Root, windows, reporter);
            var cache = new FileFactsReader.Cache();
            int count = 0;
            foreach (AutorunEntry entry in PersistenceScanner.Scan(options, reporter, cancellation))
            {
                cancellation.ThrowIfCancellationRequested();
                reporter.Progress(ProgressActivity, entry.Location, double.NaN);
                ObservedAutorun observed;
                try
                {
                    observed = Observe(entry, options.Root, windows, mapper, cache);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
                {
                    reporter.Error(new FluxError("AutorunEntryUnreadable", FluxErrorCategory.ReadError, entry.EntryPath ?? entry.Location,
                        $"Cannot evaluate '{entry.Name}' at {entry.Location}: {e.Message}", e));
                    continue;
                }

                count++;
                yield return observed;
            }

            reporter.Verbose($"{count} autostart entries read from {(options.Root ?? "the live system")}.");
        }

        /// <summary>One entry: what it finally runs, where that is here, and the facts of that file.</summary>
        public static ObservedAutorun Observe(AutorunEntry entry, string? root, bool windows, PathMapper mapper, FileFactsReader.Cache cache)
        {
            ParsedCommandLine parsed;
            string? stated;
            if (windows)
            {
                Func<string, bool> exists = p => mapper.ToLocal(p) is { } l && File.Exists(l);
                parsed = CommandLine.ParseWindows(entry.Command, entry.Variables, exists);
                stated = entry.ResolvedTarget is null ? parsed.FinalImage : CommandLine.Expand(entry.ResolvedTarget, entry.Variables);
                if (stated is not null)
                {
                    stated = CommandLine.Expand(stated, entry.Variables);
                    stated = SearchWindows(stated, entry.Variables, mapper);
                }
            }
            else
            {
                parsed = CommandLine.ParsePosix(entry.Command);
                stated = entry.ResolvedTarget ?? parsed.FinalImage;
                if (stated is not null)
                {
                    stated = ExpandHome(stated, entry.Home);
                    stated = SearchPosix(stated, mapper);
                }
            }

            bool isUrl = stated is not null && stated.IndexOf("://", StringComparison.Ordinal) > 0;
            string? local = isUrl ? null : mapper.ToLocal(stated);
            FileFacts? facts = local is null ? null : cache.Read(local);
            bool hidden = facts?.IsHidden ?? false;
            string? hiddenReason = facts?.HiddenReason;
            if (root is not null && hidden && hiddenReason is not null && hiddenReason.StartsWith("dot-name", StringComparison.Ordinal))
            {
                // The root's own path may hold dot-names; only the path inside the analysed system counts.
                string? dotted = windows || stated is null ? null : FileFactsReader.DotNameInPath(stated);
                hidden = dotted is not null;
                hiddenReason = dotted is null ? null : $"dot-name '{dotted}' in the path";
            }

            string? writable = stated is null || isUrl ? null : windows ? FileFactsReader.WindowsLocation(stated) : root is null ? facts?.LocationReason : PosixLocation(stated);
            return new ObservedAutorun(entry)
            {
                Root = root,
                IsWindows = windows,
                ImagePath = stated,
                IsUrl = isUrl,
                LocalPath = local,
                File = facts,
                IsHidden = hidden,
                HiddenReason = hiddenReason,
                UserWritableReason = writable,
                FinalArguments = parsed.FinalArguments,
                Launchers = parsed.Launchers,
                DecodedCommand = parsed.DecodedCommand,
            };
        }

        private static string? PosixLocation(string path)
        {
            foreach (string prefix in new[] { "/tmp/", "/var/tmp/", "/dev/shm/", "/run/user/" })
            {
                if (path.StartsWith(prefix, StringComparison.Ordinal))
                {
                    return $"under {prefix.TrimEnd('/')} (temporary)";
                }
            }

            return path.StartsWith("/home/", StringComparison.Ordinal) || path.StartsWith("/root/", StringComparison.Ordinal) ? "in a home directory" : null;
        }

        private static string ExpandHome(string path, string? home)
        {
            if (home is null)
            {
                return path;
            }

            if (path.StartsWith("~/", StringComparison.Ordinal))
            {
                return home + path.Substring(1);
            }

            return path.Replace("${HOME}", home).Replace("$HOME", home);
        }

        private static string SearchPosix(string path, PathMapper mapper)
        {
            if (path.IndexOf('/') >= 0 || path.Length == 0)
            {
                return path;
            }

            foreach (string dir in PosixPath)
            {
                string candidate = dir + "/" + path;
                if (mapper.ToLocal(candidate) is { } l && File.Exists(l))
                {
                    return candidate;
                }
            }

            return path;
        }

        /// <summary>A bare program name is found the way CreateProcess/LoadLibrary would: System32, then Windows; a name
        /// without extension gets .exe.</summary>
        private static string SearchWindows(string path, IReadOnlyDictionary<string, string>? variables, PathMapper mapper)
        {
            if (path.IndexOf("://", StringComparison.Ordinal) > 0)
            {
                return path;
            }

            bool hasDirectory = path.IndexOf('\\') >= 0 || path.IndexOf('/') >= 0;
            bool hasExtension = System.IO.Path.GetExtension(path.Replace('\\', '/')).Length > 0;
            if (hasDirectory)
            {
                if (!hasExtension && !(mapper.ToLocal(path) is { } l0 && File.Exists(l0)) && mapper.ToLocal(path + ".exe") is { } l1 && File.Exists(l1))
                {
                    return path + ".exe";
                }

                return path;
            }

            string systemRoot = variables is not null && variables.TryGetValue("SystemRoot", out string? sr) ? sr : @"C:\Windows";
            string name = hasExtension ? path : path + ".exe";
            foreach (string dir in new[] { systemRoot + @"\System32", systemRoot, systemRoot + @"\System32\wbem", systemRoot + @"\SysWOW64" })
            {
                string candidate = dir + "\\" + name;
                if (mapper.ToLocal(candidate) is { } l && File.Exists(l))
                {
                    return candidate;
                }
            }

            return systemRoot + @"\System32\" + name;
        }
    }
}
