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
    /// Writes the incident as one self-contained HTML report (inline CSS and SVG, no script, nothing from the network).
    /// Takes a FluxIncident, or findings that it joins into one first; live or deserialized.
    /// </summary>
    [Cmdlet(VerbsData.Export, "FluxReport", SupportsShouldProcess = true, DefaultParameterSetName = PathSet)]
    [OutputType(typeof(FileInfo))]
    public sealed class ExportFluxReportCommand : FluxCmdlet
    {
        private const string PathSet = "Path";
        private const string LiteralPathSet = "LiteralPath";

        private readonly List<FluxFinding> _findings = new List<FluxFinding>();
        private readonly List<FluxQuarantineItem> _quarantine = new List<FluxQuarantineItem>();
        private FluxIncident? _incident;
        private int _incidents;

        [Parameter(Mandatory = true, ValueFromPipeline = true)]
        public PSObject? InputObject { get; set; }

        /// <summary>The HTML file to write.</summary>
        [Parameter(Mandatory = true, Position = 0, ParameterSetName = PathSet)]
        [ValidateNotNullOrEmpty]
        public string Path { get; set; } = string.Empty;

        [Parameter(Mandatory = true, ParameterSetName = LiteralPathSet)]
        [Alias("PSPath", "LP")]
        [ValidateNotNullOrEmpty]
        public string LiteralPath { get; set; } = string.Empty;

        /// <summary>The report's title; the incident's title when not given.</summary>
        [Parameter]
        public string? Title { get; set; }

        /// <summary>Hosts drawn per role in the network picture before the rest fold into "+N more".</summary>
        [Parameter]
        [ValidateRange(2, 1000)]
        public int MaxNodesPerRole { get; set; } = 12;

        /// <summary>Overwrite an existing file.</summary>
        [Parameter]
        public SwitchParameter Force { get; set; }

        /// <summary>Return the written file.</summary>
        [Parameter]
        public SwitchParameter PassThru { get; set; }

        protected override void ProcessRecord()
        {
            if (InputObject is null)
            {
                return;
            }

            if (!FindingInput.TryConvert(InputObject, out object? value, out string? error))
            {
                WriteError(new ErrorRecord(new ArgumentException(error ?? "Not a FluxForensics finding or incident."), "NotAFinding", ErrorCategory.InvalidArgument, InputObject));
                return;
            }

            if (error is not null)
            {
                WriteWarning($"Read with problems: {error}");
            }

            switch (value)
            {
                case FluxIncident incident:
                    _incident = incident;
                    _incidents++;
                    break;
                case FluxFinding finding:
                    _findings.Add(finding);
                    break;
                case FluxQuarantineItem item:
                    _quarantine.Add(item);
                    break;
                default:
                    WriteError(new ErrorRecord(new ArgumentException("Not a FluxForensics finding or incident."), "NotAFinding", ErrorCategory.InvalidArgument, InputObject));
                    break;
            }
        }

        protected override void EndProcessing()
        {
            FluxIncident incident;
            if (_incident is not null)
            {
                if (_incidents > 1 || _findings.Count > 0)
                {
                    WriteWarning($"{_incidents} incidents and {_findings.Count} findings were piped in; the report is of the last incident only. Pipe findings alone to have them joined into one incident.");
                }

                incident = _incident;
            }
            else if (_findings.Count > 0)
            {
                // Findings are joined as New-FluxIncident joins them, so the report has correlations and a timeline.
                var builder = new IncidentBuilder(new IncidentOptions { Title = Title, Reporter = Reporter });
                foreach (var finding in _findings)
                {
                    builder.Add(finding);
                }

                foreach (var item in _quarantine)
                {
                    builder.Add(item);
                }

                try
                {
                    incident = builder.Build(CancellationToken);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
            else
            {
                ThrowTerminating("NoInput", ErrorCategory.InvalidData, null, "No finding or incident was piped in; nothing to report.");
                return;
            }

            string path = ParameterSetName == LiteralPathSet
                ? SessionState.Path.GetUnresolvedProviderPathFromPSPath(LiteralPath)
                : ResolveOutputPath(Path);
            if (File.Exists(path) && !Force)
            {
                ThrowTerminating("FileExists", ErrorCategory.ResourceExists, path, $"{path} exists; use -Force to overwrite it.");
                return;
            }

            if (!ShouldProcess(path, "Write the incident report"))
            {
                base.EndProcessing();
                return;
            }

            try
            {
                ReportWriter.Write(path, incident, new ReportOptions { Title = Title, MaxNodesPerRole = MaxNodesPerRole });
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                ThrowTerminating("CannotWriteReport", ErrorCategory.WriteError, path, $"Cannot write {path}: {e.Message}", e);
                return;
            }

            WriteVerbose($"Wrote {path}.");
            if (PassThru)
            {
                WriteObject(new FileInfo(path));
            }

            base.EndProcessing();
        }

        /// <summary>-Path may name a file that does not exist yet; a wildcard must match exactly one existing file.</summary>
        private string ResolveOutputPath(string path)
        {
            if (WildcardPattern.ContainsWildcardCharacters(path))
            {
                var matches = SessionState.Path.GetResolvedProviderPathFromPSPath(path, out _);
                if (matches.Count != 1)
                {
                    ThrowTerminating("AmbiguousPath", ErrorCategory.InvalidArgument, path, $"{path} matches {matches.Count} files; name one file (or use -LiteralPath).");
                }

                return matches[0];
            }

            return SessionState.Path.GetUnresolvedProviderPathFromPSPath(path);
        }
    }
}
