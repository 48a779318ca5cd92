using System;
using System.Collections.Generic;
using System.Collections.ObjectModel;
using System.IO;
using System.Management.Automation;
using FluxForensics.Host;
using FluxForensics.Model;
using FluxForensics.Scans;

namespace FluxForensics.Commands
{
    /// <summary>Shortcut-virus traps on removable drives (issue 7).</summary>
    [Cmdlet(VerbsCommon.Find, "UsbLnkTrap", DefaultParameterSetName = RemovableSet, HelpUri = HelpRoot + "Find-UsbLnkTrap.md")]
    [OutputType(typeof(UsbLnkTrap))]
    public sealed class FindUsbLnkTrapCommand : FluxCmdlet
    {
        private const string RemovableSet = "Removable";
        private const string PathSet = "Path";
        private const string LiteralPathSet = "LiteralPath";

        private readonly List<string> _roots = new List<string>();

        [Parameter(ParameterSetName = PathSet, Position = 0, Mandatory = true, ValueFromPipeline = true)]
        [SupportsWildcards]
        public string[]? Path { get; set; }

        [Parameter(ParameterSetName = LiteralPathSet, Mandatory = true, ValueFromPipelineByPropertyName = true)]
        [Alias("PSPath")]
        public string[]? LiteralPath { get; set; }

        /// <summary>Look below the root too (the trap itself lives in the root).</summary>
        [Parameter]
        public SwitchParameter Recurse { get; set; }

        /// <summary>Code page for ANSI strings in shortcuts (default: the shortcut's system default, 1252).</summary>
        [Parameter]
        [ValidateRange(1, 65535)]
        public int AnsiCodePage { get; set; } = 1252;

        protected override void BeginProcessing()
        {
            base.BeginProcessing();
            try
            {
                _ = Formats.AnsiEncoding.Get(AnsiCodePage);
            }
            catch (ArgumentOutOfRangeException e)
            {
                ThrowTerminating("AnsiCodePageUnavailable", ErrorCategory.InvalidArgument, AnsiCodePage, e.Message, e);
            }
        }

        protected override void ProcessRecord()
        {
            _roots.Clear();
            if (ParameterSetName == PathSet)
            {
                foreach (var path in Path ?? Array.Empty<string>())
                {
                    ResolveWildcard(path);
                }
            }
            else if (ParameterSetName == LiteralPathSet)
            {
                foreach (var path in LiteralPath ?? Array.Empty<string>())
                {
                    ResolveLiteral(path);
                }
            }

            // Paths from the pipeline are scanned as they arrive.
            ScanRoots();
        }

        protected override void EndProcessing()
        {
            if (ParameterSetName == RemovableSet)
            {
                var drives = RemovableDrives.Enumerate(Reporter);
                if (drives.Count == 0)
                {
                    WriteWarning("No removable drive is mounted. Use -Path to examine a folder, mount point or drive letter.");
                }

                foreach (var drive in drives)
                {
                    WriteVerbose($"Removable drive {drive}");
                    _roots.Add(drive.Root);
                }
            }

            ScanRoots();
            WriteVerbose($"{_scanner?.DirectoriesScanned ?? 0} folders, {_scanner?.EntriesSeen ?? 0} entries examined");
            base.EndProcessing();
        }

        private UsbTrapScan? _scanner;

        private void ScanRoots()
        {
            var scanner = _scanner ??= new UsbTrapScan(Reporter, AnsiCodePage, CancellationToken);
            foreach (var root in _roots)
            {
                WriteVerbose($"Scanning {root}{(Recurse ? " and below" : string.Empty)}");
                foreach (var trap in scanner.Scan(root, Recurse))
                {
                    WriteObject(trap);
                }

                if (CancellationToken.IsCancellationRequested)
                {
                    break;
                }
            }

            _roots.Clear();
        }

        private void ResolveWildcard(string path)
        {
            Collection<string> resolved;
            ProviderInfo provider;
            try
            {
                resolved = SessionState.Path.GetResolvedProviderPathFromPSPath(NormalizeDriveLetter(path), out provider);
            }
            catch (ItemNotFoundException e)
            {
                WriteError(new ErrorRecord(e, "PathNotFound", ErrorCategory.ObjectNotFound, path));
                return;
            }
            catch (Exception e) when (e is System.Management.Automation.DriveNotFoundException or ProviderNotFoundException or PSArgumentException or NotSupportedException)
            {
                WriteError(new ErrorRecord(e, "PathNotFound", ErrorCategory.ObjectNotFound, path));
                return;
            }

            if (!IsFileSystem(provider, path))
            {
                return;
            }

            foreach (var p in resolved)
            {
                AddRoot(p);
            }
        }

        private void ResolveLiteral(string path)
        {
            string resolved;
            ProviderInfo provider;
            try
            {
                resolved = SessionState.Path.GetUnresolvedProviderPathFromPSPath(NormalizeDriveLetter(path), out provider, out _);
            }
            catch (Exception e) when (e is System.Management.Automation.DriveNotFoundException or ProviderNotFoundException or PSArgumentException or NotSupportedException)
            {
                WriteError(new ErrorRecord(e, "PathNotFound", ErrorCategory.ObjectNotFound, path));
                return;
            }

            if (IsFileSystem(provider, path))
            {
                AddRoot(resolved);
            }
        }

        private void AddRoot(string path)
        {
            if (!Directory.Exists(path))
            {
                WriteError(new ErrorRecord(new DirectoryNotFoundException($"'{path}' is not a folder, mount point or drive."),
                    File.Exists(path) ? "PathNotAFolder" : "PathNotFound", ErrorCategory.ObjectNotFound, path));
                return;
            }

            _roots.Add(path);
        }

        private bool IsFileSystem(ProviderInfo provider, string path)
        {
            if (provider.ImplementingType == typeof(Microsoft.PowerShell.Commands.FileSystemProvider))
            {
                return true;
            }

            WriteError(new ErrorRecord(new ArgumentException($"'{path}' is not a file system path (provider {provider.Name})."),
                "NotFileSystemPath", ErrorCategory.InvalidArgument, path));
            return false;
        }

        /// <summary><c>E:</c> alone means the current folder of drive E in PowerShell; a user naming a drive letter means its root.</summary>
        private static string NormalizeDriveLetter(string path) =>
            path.Length == 2 && path[1] == ':' && char.IsLetter(path[0]) ? path + "\\" : path;
    }
}
