using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Management.Automation;
using FluxForensics.Host;
using FluxForensics.Model;
using FluxForensics.Scans;

namespace FluxForensics.Commands
{
    /// <summary>Persistence entries on this machine or an offline root, scored (issue 6).</summary>
    [Cmdlet(VerbsCommon.Get, "SuspiciousAutorun", HelpUri = HelpRoot + "Get-SuspiciousAutorun.md")]
    [OutputType(typeof(SuspiciousAutorun))]
    public sealed class GetSuspiciousAutorunCommand : FluxCmdlet
    {
        private readonly Dictionary<string, string> _correlated = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);

        /// <summary>A mounted Windows volume or a Linux root to analyse offline.</summary>
        [Parameter(Position = 0)]
        [ValidateNotNullOrEmpty]
        [ArgumentCompleter(typeof(MountedVolumeCompleter))]
        public string? Root { get; set; }

        /// <summary>Every entry, not only those at or above Low.</summary>
        [Parameter]
        public SwitchParameter All { get; set; }

        [Parameter]
        [ValidateRange(0, 100)]
        public int MinimumRiskScore { get; set; }

        /// <summary>Listener or USB findings whose SHA-256 raises the score of an autorun running the same file.</summary>
        [Parameter]
        public PSObject[]? CorrelateWith { get; set; }

        /// <summary>Findings piped in for correlation.</summary>
        [Parameter(ValueFromPipeline = true)]
        public PSObject? InputObject { get; set; }

        protected override void BeginProcessing()
        {
            base.BeginProcessing();
            foreach (PSObject item in CorrelateWith ?? Array.Empty<PSObject>())
            {
                AddCorrelation(item);
            }
        }

        protected override void ProcessRecord()
        {
            if (InputObject is not null)
            {
                AddCorrelation(InputObject);
            }
        }

        protected override void EndProcessing()
        {
            string? root = null;
            if (Root is not null)
            {
                root = SessionState.Path.GetUnresolvedProviderPathFromPSPath(Root);
                if (!Directory.Exists(root))
                {
                    ThrowTerminating("RootNotFound", ErrorCategory.ObjectNotFound, Root, $"The root '{Root}' is not a directory.");
                }
            }

            int threshold = MyInvocation.BoundParameters.ContainsKey(nameof(MinimumRiskScore)) ? MinimumRiskScore
                : All.IsPresent ? 0 : Scoring.MinimumScoreOf(Severity.Low);
            var findings = new List<SuspiciousAutorun>();
            try
            {
                foreach (SuspiciousAutorun finding in AutorunScan.Run(new PersistenceScanOptions { Root = root }, _correlated, Reporter, CancellationToken))
                {
                    if (finding.RiskScore >= threshold)
                    {
                        findings.Add(finding);
                    }
                }
            }
            catch (OperationCanceledException)
            {
                base.EndProcessing();
                return;
            }

            // Highest risk first; the scan is quick, so sorting costs no responsiveness.
            foreach (SuspiciousAutorun finding in findings.OrderByDescending(f => f.RiskScore).ThenBy(f => f.Location, StringComparer.OrdinalIgnoreCase).ThenBy(f => f.Name, StringComparer.OrdinalIgnoreCase))
            {
                WriteObject(finding);
            }

            base.EndProcessing();
        }

        /// <summary>Takes the SHA-256 of a listener image (Sha256) or a USB payload (PayloadSha256), live or deserialized.</summary>
        private void AddCorrelation(PSObject item)
        {
            object? baseObject = item.BaseObject;
            string kind = item.Properties["Kind"]?.Value as string ?? baseObject?.GetType().Name ?? "finding";
            string? Property(string name) => item.Properties[name]?.Value as string;
            string? sha = Hex.Normalize(Property("PayloadSha256") ?? Property("Sha256"), 64);
            if (sha is null)
            {
                if (Hex.Normalize(baseObject as string, 64) is { } text)
                {
                    sha = text;
                    kind = "hash";
                }
                else
                {
                    WriteVerbose($"Ignoring a {kind} without a SHA-256 for correlation.");
                    return;
                }
            }

            string description = kind switch
            {
                "FluxListener" => $"a listener image (Get-FluxListener: {Property("ProcessName") ?? Property("Path")} {Property("Protocol")} {item.Properties["LocalPort"]?.Value})".Replace("  ", " ").Replace(" )", ")"),
                "UsbLnkTrap" => $"a USB shortcut-trap payload (Find-UsbLnkTrap: {Property("PayloadPath") ?? Property("Path")})",
                _ => $"a {kind} given for correlation",
            };
            _correlated[sha] = description;
        }
    }
}
