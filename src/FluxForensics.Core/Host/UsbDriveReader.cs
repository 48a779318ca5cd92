using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Security.Cryptography;
using System.Threading;
using FluxForensics.Formats;
using FluxForensics.Model;

namespace FluxForensics.Host
{
    /// <summary>
    /// Walks a drive root (and, on request, the folders below it), reads each shortcut and the facts around it (the folder
    /// of the same name, the payload its arguments start, autorun.inf), programs named after folders, and the root's
    /// autorun.inf commands, and yields those facts; judging them is the USB rules'. A folder that cannot be read or
    /// vanishes is a per-item error; the reading goes on. A root that vanishes (drive removed) ends that root with an error.
    /// </summary>
    public sealed partial class UsbDriveReader
    {
        /// <summary>Payloads larger than this are not hashed (the finding says so).</summary>
        public const long MaxHashedPayload = 512L * 1024 * 1024;

        private readonly IFluxReporter _reporter;
        private readonly int _ansiCodePage;
        private readonly CancellationToken _cancellation;

        /// <summary>The activity progress records of a drive scan carry.</summary>
        public const string ProgressActivity = "Looking for shortcut traps";

        public UsbDriveReader(IFluxReporter reporter, int ansiCodePage = 1252, CancellationToken cancellation = default)
        {
            _reporter = reporter ?? throw new ArgumentNullException(nameof(reporter));
            _ansiCodePage = ansiCodePage;
            _cancellation = cancellation;
        }

        /// <summary>Which shortcuts deserve reading the facts around them (their folder, their payload): the rules choose; a
        /// shortcut passed over costs no more reads. Every valid shortcut when null. The second argument says whether a folder
        /// of the shortcut's name is next to it.</summary>
        public Func<ShellLink, bool, bool>? ShortcutFilter { get; set; }

        /// <summary>Number of directories and entries looked at so far (for benchmarks and progress).</summary>
        public int DirectoriesScanned { get; private set; }
        public long EntriesSeen { get; private set; }

        /// <summary>Yields the facts under <paramref name="root"/>; <paramref name="recurse"/> looks below it too.</summary>
        public IEnumerable<UsbDriveFacts> Read(string root, bool recurse)
        {
            // On Linux an unmounted stick leaves its (empty) mount point behind: remember whether the root was a
            // mount point, so that its disappearance from the mount table counts as the drive being removed.
            _rootWasMountPoint = IsMountPoint(root, _reporter);
            _volumeLabel = null;
            var pending = new Queue<string>();
            pending.Enqueue(root);
            while (pending.Count > 0)
            {
                if (_cancellation.IsCancellationRequested)
                {
                    yield break;
                }

                string directory = pending.Dequeue();
                _reporter.Progress(ProgressActivity, $"{root}: {directory}", double.NaN);
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
                foreach (var facts in ReadDirectoryFacts(root, directory, entries))
                {
                    yield return facts;
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

        /// <summary>The label of the root being scanned, read once ("" when unknown).</summary>
        private string? _volumeLabel;

        private static bool IsMountPoint(string path, IFluxReporter? reporter = null)
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
                reporter?.Warning($"Cannot read /proc/self/mountinfo ({e.Message}): whether '{path}' is a mounted drive, and so its volume label and its removal mid-scan, is not known.");
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

        private IEnumerable<UsbDriveFacts> ReadDirectoryFacts(string root, string directory, List<FileSystemInfo> entries)
        {
            bool atRoot = SamePath(root, directory);
            string? autorun = null;
            foreach (var e in entries)
            {
                if (e is FileInfo && string.Equals(e.Name, "autorun.inf", StringComparison.OrdinalIgnoreCase))
                {
                    autorun = e.FullName;
                }
            }

            var folders = entries.Where(x => x is DirectoryInfo).GroupBy(x => x.Name, StringComparer.OrdinalIgnoreCase)
                .ToDictionary(g => g.Key, g => g.First().FullName, StringComparer.OrdinalIgnoreCase);

            // Gamarue moves everything into a hidden folder whose name looks blank; read such folders once per directory.
            UsbEntryFacts? blank = null;
            foreach (var pair in folders)
            {
                if (DriveCommandText.IsBlankLookingName(pair.Key))
                {
                    var facts = ReadEntry(pair.Value, hash: false);
                    if (facts.IsHidden == true)
                    {
                        blank = facts;
                        break;
                    }
                }
            }

            string? label = atRoot ? _volumeLabel ??= VolumeLabelOf(root) ?? string.Empty : null;
            label = string.IsNullOrEmpty(label) ? null : label;
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

                string name = file.Name.Substring(0, file.Name.Length - 4);
                folders.TryGetValue(name, out string? sameNameFolder);
                if (ShortcutFilter is { } filter && !filter(link, sameNameFolder is not null))
                {
                    continue;
                }

                var facts = new UsbShortcutFacts(root, file.FullName, link)
                {
                    SameNameFolder = sameNameFolder is null ? null : ReadEntry(sameNameFolder, hash: false),
                    AutorunInfPath = autorun,
                    BlankFolder = blank,
                    VolumeLabel = label,
                    ShortcutLastWriteTime = file.LastWriteTimeUtc,
                };

                var arguments = DriveCommandText.AnalyzeLink(link);
                foreach (var reference in arguments.DriveRelativePrograms.Concat(arguments.DriveLetterPrograms))
                {
                    facts.PayloadReference ??= reference;
                    string? resolved = Resolve(root, directory, reference);
                    if (resolved is not null && File.Exists(resolved))
                    {
                        facts.PayloadReference = reference;
                        facts.Payload = ReadEntry(resolved, hash: true);
                        break;
                    }
                }

                // A shortcut straight to a program on the stick (E:\x.exe, ..\x.exe): the target is the payload.
                if (facts.Payload is null && DriveCommandText.TargetIsProgramOnDrive(link) && link.TargetPath is string target)
                {
                    string reference = DriveCommandText.IsFromRoot(target) || link.RelativePath is null ? target : link.RelativePath;
                    string? resolved = Resolve(root, directory, reference);
                    if (resolved is not null && File.Exists(resolved))
                    {
                        facts.PayloadReference = reference;
                        facts.Payload = ReadEntry(resolved, hash: true);
                    }
                }

                if (sameNameFolder is null)
                {
                    foreach (var reference in arguments.OpenedFolders)
                    {
                        string? resolved = Resolve(root, directory, reference);
                        if (resolved is not null && Directory.Exists(resolved))
                        {
                            facts.OpenedFolder = ReadEntry(resolved, hash: false);
                            break;
                        }
                    }
                }

                yield return facts;
            }

            foreach (var facts in ReadFolderPrograms(root, entries, folders))
            {
                yield return facts;
            }

            if (atRoot && autorun is not null)
            {
                foreach (var facts in ReadAutorun(root, autorun))
                {
                    yield return facts;
                }
            }
        }

        private static readonly string[] FolderProgramExtensions = { ".exe", ".scr", ".com", ".pif" };

        /// <summary>Folder-icon EXE worms: <c>Docs.exe</c> beside <c>Docs</c>, the same bytes for every folder, no shortcut.</summary>
        private IEnumerable<UsbDriveFacts> ReadFolderPrograms(string root, List<FileSystemInfo> entries, Dictionary<string, string> folders)
        {
            var candidates = new List<UsbFolderProgramFacts>();
            foreach (var entry in entries)
            {
                if (entry is not FileInfo file)
                {
                    continue;
                }

                string? extension = FolderProgramExtensions.FirstOrDefault(e => file.Name.EndsWith(e, StringComparison.OrdinalIgnoreCase));
                if (extension is null || file.Name.Length == extension.Length)
                {
                    continue;
                }

                string stem = file.Name.Substring(0, file.Name.Length - extension.Length);
                if (!folders.TryGetValue(stem, out string? folder) || DriveCommandText.IsNormalHiddenFolder(stem))
                {
                    continue;
                }

                candidates.Add(new UsbFolderProgramFacts(root, ReadEntry(file.FullName, hash: true), ReadEntry(folder, hash: false)));
            }

            foreach (var c in candidates)
            {
                if (c.Program.Sha256 is string hash)
                {
                    c.Twins = candidates.Where(o => o != c && string.Equals(o.Program.Sha256, hash, StringComparison.OrdinalIgnoreCase)).Select(o => o.Program.Path).ToArray();
                }

                yield return c;
            }
        }

        /// <summary>What the drive's autorun.inf starts; Windows reads it in the root only.</summary>
        private IEnumerable<UsbDriveFacts> ReadAutorun(string root, string path)
        {
            byte[]? bytes = ReadCapped(path, AutorunInfParser.MaxFileSize + 1, "AutorunUnreadable");
            if (bytes is null)
            {
                yield break;
            }

            var inf = AutorunInfParser.Parse(bytes, path);
            foreach (var issue in inf.Issues)
            {
                _reporter.Issue(issue);
            }

            // open=, shellexecute= and shell\verb\command= usually start the same file: one trap per file started.
            var started = new List<(string? Resolved, string Reference, AutorunCommand Command)>();
            foreach (var command in inf.Commands)
            {
                var arguments = DriveCommandText.AnalyzeArguments(command.Value);
                var references = arguments.DriveRelativePrograms.Concat(arguments.DriveLetterPrograms).ToList();
                if (!DriveCommandText.IsInterpreter(command.Program) && !references.Contains(command.Program, StringComparer.OrdinalIgnoreCase))
                {
                    references.Insert(0, command.Program);
                }

                string? resolved = null, named = references.FirstOrDefault();
                foreach (var reference in references)
                {
                    // autorun.inf names files relative to the drive root, wherever the scan started.
                    resolved = Resolve(root, root, reference);
                    if (resolved is not null && File.Exists(resolved))
                    {
                        named = reference;
                        break;
                    }

                    resolved = null;
                }

                if (named is not null)
                {
                    started.Add((resolved, named, command));
                }
            }

            var file = ReadEntry(path, hash: false);
            foreach (var group in started.GroupBy(s => s.Resolved ?? "?" + s.Reference, StringComparer.OrdinalIgnoreCase))
            {
                var first = group.First();
                var facts = new UsbAutorunFacts(root, path, group.Select(g => g.Command).ToArray())
                {
                    AutorunFile = file,
                    PayloadReference = first.Reference,
                    Payload = first.Resolved is null ? null : ReadEntry(first.Resolved, hash: true),
                };
                yield return facts;
            }
        }

        private static bool SamePath(string a, string b) =>
            string.Equals(Path.GetFullPath(a).TrimEnd('/', '\\'), Path.GetFullPath(b).TrimEnd('/', '\\'),
                System.Runtime.InteropServices.RuntimeInformation.IsOSPlatform(System.Runtime.InteropServices.OSPlatform.Windows) ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal);
    }
}
