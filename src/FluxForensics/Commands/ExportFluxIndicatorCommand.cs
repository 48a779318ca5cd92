using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Management.Automation;
using FluxForensics.Export;
using FluxForensics.Incident;
using FluxForensics.Model;

namespace FluxForensics.Commands
{
    /// <summary>
    /// Writes the incident's indicators for the teams that block and watch: STIX 2.1 for other CERTs, a Zeek intel file,
    /// CSV, a DNS response policy zone, plain lists, and the exposed accounts for mail and FTP admins.
    /// </summary>
    [Cmdlet(VerbsData.Export, "FluxIndicator", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium, HelpUri = HelpRoot + "Export-FluxIndicator.md")]
    [OutputType(typeof(FileInfo))]
    public sealed class ExportFluxIndicatorCommand : FluxCmdlet
    {
        private readonly IncidentInput _input = new IncidentInput();
        private string _resolvedPath = string.Empty;

        [Parameter(Mandatory = true, Position = 0)]
        public IndicatorFormat Format { get; set; }

        [Parameter(Mandatory = true, Position = 1)]
        [Alias("PSPath", "LiteralPath")]
        [ValidateNotNullOrEmpty]
        public string? Path { get; set; }

        /// <summary>A FluxIncident (New-FluxIncident) or findings, live or deserialized; findings are joined into an incident.</summary>
        [Parameter(Mandatory = true, ValueFromPipeline = true)]
        public PSObject? InputObject { get; set; }

        [Parameter]
        [ValidateNotNullOrEmpty]
        public string Producer { get; set; } = "FluxForensics";

        [Parameter]
        public TlpLevel Tlp { get; set; } = TlpLevel.Amber;

        [Parameter]
        public SwitchParameter IncludeFluxAgents { get; set; }

        [Parameter]
        public SwitchParameter IncludeAnalyzedHost { get; set; }

        [Parameter]
        public string[] ExcludeDomain { get; set; } = Array.Empty<string>();

        [Parameter]
        public string[] KnownDnsServer { get; set; } = Array.Empty<string>();

        [Parameter]
        public string[] AnalyzedHostAddress { get; set; } = Array.Empty<string>();

        [Parameter]
        [ValidateNotNullOrEmpty]
        public string? FamilyName { get; set; }

        [Parameter]
        [ValidatePattern(@"^[A-Za-z0-9_-]{1,63}(\.[A-Za-z0-9_-]{1,63})*\.?$")]
        public string RpzOrigin { get; set; } = "rpz.local";

        [Parameter]
        public SwitchParameter Force { get; set; }

        [Parameter]
        public SwitchParameter PassThru { get; set; }

        protected override void BeginProcessing()
        {
            base.BeginProcessing();
            string resolved;
            try
            {
                resolved = SessionState.Path.GetUnresolvedProviderPathFromPSPath(Path!, out var provider, out _);
                if (!string.Equals(provider.Name, "FileSystem", StringComparison.OrdinalIgnoreCase))
                {
                    ThrowTerminating("NotAFileSystemPath", ErrorCategory.InvalidArgument, Path, $"'{Path}' is not a file system path.");
                    return;
                }
            }
            catch (Exception e) when (e is ItemNotFoundException || e is System.Management.Automation.DriveNotFoundException || e is ProviderNotFoundException || e is ArgumentException)
            {
                ThrowTerminating("InvalidPath", ErrorCategory.InvalidArgument, Path, $"'{Path}' is not a path a file can be written to: {e.Message}", e);
                return;
            }

            string? directory = System.IO.Path.GetDirectoryName(resolved);
            if (!string.IsNullOrEmpty(directory) && !Directory.Exists(directory))
            {
                ThrowTerminating("DirectoryNotFound", ErrorCategory.ObjectNotFound, directory, $"The folder {directory} does not exist.");
            }

            _resolvedPath = resolved;
            // Refuse before reading the pipeline, so a long upstream command is not run for nothing.
            CheckOverwrite();
        }

        protected override void ProcessRecord()
        {
            if (InputObject?.BaseObject is null)
            {
                return;
            }

            // A live incident is exported as it was built (with its -ComputerAddress joins); anything else is read back
            // into model objects (Import-Clixml, Invoke-Command, ConvertFrom-Json) and joined again.
            if (!_input.Take(InputObject, out string? error, out string? problems))
            {
                WriteError(new ErrorRecord(new ArgumentException($"Not a FluxForensics finding or incident: {error}"), "NotAFinding", ErrorCategory.InvalidData, InputObject));
                return;
            }

            if (problems is not null)
            {
                WriteVerbose($"Part of an input object could not be read back: {problems}");
            }
        }

        protected override void EndProcessing()
        {
            try
            {
                var incident = Incident();
                if (incident is null)
                {
                    return;
                }

                var options = new IndicatorExportOptions
                {
                    Producer = Producer,
                    Tlp = Tlp,
                    IncludeFluxAgents = IncludeFluxAgents,
                    IncludeAnalyzedHost = IncludeAnalyzedHost,
                    ExcludeDomains = ExcludeDomain.ToList(),
                    KnownDnsServers = KnownDnsServer.ToList(),
                    AnalyzedHostAddresses = AnalyzedHostAddress.ToList(),
                    FamilyName = FamilyName,
                    RpzOrigin = RpzOrigin.TrimEnd('.'),
                };
                var set = IndicatorSet.From(incident, options);
                var targets = IndicatorExport.TargetPaths(Format, _resolvedPath);
                string what = Format switch
                {
                    IndicatorFormat.Accounts => $"Write {set.Accounts.Length} exposed accounts",
                    IndicatorFormat.Rpz => $"Write {set.OfType(IndicatorType.Domain).Count()} domains as a response policy zone",
                    _ => $"Write {set.Indicators.Count} indicators as {Format}",
                };
                if (!ShouldProcess(string.Join(", ", targets), what))
                {
                    return;
                }

                CheckOverwrite();
                IReadOnlyList<string> written;
                try
                {
                    written = IndicatorExport.Write(set, Format, _resolvedPath, options, Force, Reporter);
                }
                catch (IOException e) when (!Force && IndicatorExport.Existing(Format, _resolvedPath).Count > 0)
                {
                    ThrowTerminating("FileExists", ErrorCategory.ResourceExists, _resolvedPath, e.Message + " Use -Force to overwrite it.", e);
                    return;
                }
                catch (Exception e) when (e is IOException || e is UnauthorizedAccessException)
                {
                    ThrowTerminating("WriteFailed", ErrorCategory.WriteError, _resolvedPath, $"Could not write {_resolvedPath}: {e.Message}", e);
                    return;
                }

                WriteVerbose($"{what}: {string.Join(", ", written)}");
                if (PassThru)
                {
                    foreach (var file in written)
                    {
                        WriteObject(new FileInfo(file));
                    }
                }
            }
            catch (OperationCanceledException)
            {
                // Ctrl+C while joining: nothing is written.
            }
            finally
            {
                base.EndProcessing();
            }
        }

        private void CheckOverwrite()
        {
            if (Force)
            {
                return;
            }

            var existing = IndicatorExport.Existing(Format, _resolvedPath);
            if (existing.Count > 0)
            {
                ThrowTerminating("FileExists", ErrorCategory.ResourceExists, existing[0],
                    $"{string.Join(", ", existing)} already exists; nothing was written. Use -Force to overwrite it.");
            }
        }

        /// <summary>The incident to export: the one live incident piped in, or the join of everything piped in.</summary>
        private FluxIncident? Incident()
        {
            if (_input.IsEmpty)
            {
                WriteWarning("No FluxIncident or finding was piped in; nothing was written.");
                return null;
            }

            return _input.Incident(new IncidentOptions { Reporter = Reporter }, CancellationToken);
        }
    }
}
