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
    [Cmdlet(VerbsData.Export, "FluxReport", SupportsShouldProcess = true, DefaultParameterSetName = PathSet, HelpUri = HelpRoot + "Export-FluxReport.md")]
    [OutputType(typeof(FileInfo))]
    public sealed class ExportFluxReportCommand : FluxCmdlet
    {
        private const string PathSet = "Path";
        private const string LiteralPathSet = "LiteralPath";

        private readonly IncidentInput _input = new IncidentInput();

        [Parameter(Mandatory = true, ValueFromPipeline = true)]
        public PSObject? InputObject { get; set; }

        /// <summary>The HTML file to write.</summary>
        [Parameter(Mandatory = true, Position = 0, ParameterSetName = PathSet)]
        [ValidateNotNullOrEmpty]
        public string? Path { get; set; }

        [Parameter(Mandatory = true, ParameterSetName = LiteralPathSet)]
        [Alias("PSPath", "LP")]
        [ValidateNotNullOrEmpty]
        public string? LiteralPath { get; set; }

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

            if (!_input.Take(InputObject, out string? error, out string? problems))
            {
                WriteError(new ErrorRecord(new ArgumentException(error ?? "Not a FluxForensics finding or incident."), "NotAFinding", ErrorCategory.InvalidArgument, InputObject));
                return;
            }

            if (problems is not null)
            {
                WriteWarning($"Read with problems: {problems}");
            }
        }

        protected override void EndProcessing()
        {
            if (_input.IsEmpty)
            {
                ThrowTerminating("NoInput", ErrorCategory.InvalidData, null, "No finding or incident was piped in; nothing to report.");
                return;
            }

            // Findings are joined as New-FluxIncident joins them, so the report has correlations and a timeline.
            FluxIncident incident;
            try
            {
                incident = _input.Incident(new IncidentOptions { Title = Title, Reporter = Reporter }, CancellationToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            string path = ParameterSetName == LiteralPathSet
                ? SessionState.Path.GetUnresolvedProviderPathFromPSPath(LiteralPath!)
                : ResolveOutputPath(Path!);
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
