using System;
using System.Management.Automation;
using FluxForensics.Model;

namespace FluxForensics.Commands
{
    /// <summary>Reads captures (or a live interface) and reports the DNS proxy, flux domains and relay (issues 3, 4).</summary>
    [Cmdlet(VerbsLifecycle.Invoke, "PcapFluxAnalysis", DefaultParameterSetName = PathSet)]
    [OutputType(typeof(DnsProxy), typeof(FluxDomain), typeof(RelaySession), typeof(FluxDownload), typeof(ExposedCredential), typeof(CaptureSummary))]
    public sealed class InvokePcapFluxAnalysisCommand : FluxCmdlet
    {
        private const string PathSet = "Path";
        private const string LiteralPathSet = "LiteralPath";
        private const string LiveSet = "Live";

        [Parameter(ParameterSetName = PathSet, Position = 0, Mandatory = true, ValueFromPipeline = true)]
        [SupportsWildcards]
        public string[]? Path { get; set; }

        [Parameter(ParameterSetName = LiteralPathSet, Mandatory = true, ValueFromPipelineByPropertyName = true)]
        [Alias("PSPath")]
        public string[]? LiteralPath { get; set; }

        [Parameter(ParameterSetName = LiveSet, Mandatory = true)]
        public string? InterfaceName { get; set; }

        [Parameter(ParameterSetName = LiveSet)]
        public TimeSpan Duration { get; set; }

        [Parameter(ParameterSetName = LiveSet)]
        [ValidateRange(1, long.MaxValue)]
        public long PacketCount { get; set; }

        /// <summary>Save what the live capture saw (pcapng).</summary>
        [Parameter(ParameterSetName = LiveSet)]
        public string? SavePath { get; set; }

        [Parameter]
        public string[]? KnownDnsServer { get; set; }

        /// <summary>The infected host's address(es), when known; inferred otherwise.</summary>
        [Parameter]
        public string[]? HostAddress { get; set; }

        /// <summary>A MaxMind-format ASN database for the Holz flux score.</summary>
        [Parameter]
        public string? AsnDatabase { get; set; }

        /// <summary>Write carved executables here (non-executable names, plus a manifest).</summary>
        [Parameter]
        public string? ExtractPath { get; set; }

        /// <summary>Show passwords instead of ********.</summary>
        [Parameter]
        public SwitchParameter IncludeSecret { get; set; }

        protected override void EndProcessing()
        {
            ThrowNotImplemented("issue 3");
        }
    }
}
