using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Management.Automation;
using FluxForensics.Capture;
using FluxForensics.Model;

namespace FluxForensics.Commands
{
    /// <summary>Reads captures (or a live interface) and reports the DNS proxy, flux domains and relay (issues 3, 4).</summary>
    [Cmdlet(VerbsLifecycle.Invoke, "PcapFluxAnalysis", DefaultParameterSetName = PathSet, HelpUri = HelpRoot + "Invoke-PcapFluxAnalysis.md")]
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
        [ArgumentCompleter(typeof(CaptureInterfaceCompleter))]
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

        /// <summary>A MaxMind-format ASN database for the Holz flux score and the ASN of upstream and mail servers.</summary>
        [Parameter]
        public string? AsnDatabase { get; set; }

        /// <summary>A MaxMind-format country (or city) database for the country of upstream and mail servers.</summary>
        [Parameter]
        public string? CountryDatabase { get; set; }

        /// <summary>Write carved executables here (non-executable names, plus a manifest).</summary>
        [Parameter]
        public string? ExtractPath { get; set; }

        /// <summary>Show passwords instead of ********.</summary>
        [Parameter]
        public SwitchParameter IncludeSecret { get; set; }

        /// <summary>Flow workers (threads) the packets are spread over; the findings are the same for any number. Default: the number of processors.</summary>
        [Parameter]
        [ValidateRange(1, 64)]
        public int ThrottleLimit { get; set; }

        private readonly List<string> _files = new List<string>();
        private int _unreadable;

        protected override void ProcessRecord()
        {
            if (ParameterSetName == LiveSet)
            {
                return;
            }

            bool literal = ParameterSetName == LiteralPathSet;
            foreach (string item in (literal ? LiteralPath : Path) ?? Array.Empty<string>())
            {
                try
                {
                    if (literal)
                    {
                        string resolved = SessionState.Path.GetUnresolvedProviderPathFromPSPath(item);
                        if (Directory.Exists(resolved))
                        {
                            AddFolder(resolved, item);
                        }
                        else if (File.Exists(resolved))
                        {
                            _files.Add(resolved);
                        }
                        else
                        {
                            throw new ItemNotFoundException($"Cannot find capture file '{item}'.");
                        }
                    }
                    else
                    {
                        var resolved = SessionState.Path.GetResolvedProviderPathFromPSPath(item, out var provider);
                        if (provider.Name != "FileSystem")
                        {
                            throw new ItemNotFoundException($"'{item}' is not a file-system path.");
                        }

                        int before = _files.Count;
                        foreach (string r in resolved)
                        {
                            if (Directory.Exists(r))
                            {
                                AddFolder(r, item);
                            }
                            else if (File.Exists(r))
                            {
                                _files.Add(r);
                            }
                        }

                        if (_files.Count == before && !resolved.Any(Directory.Exists))
                        {
                            throw new ItemNotFoundException($"Cannot find capture file '{item}'.");
                        }
                    }
                }
                catch (Exception e) when (e is ItemNotFoundException or System.Management.Automation.DriveNotFoundException or ProviderNotFoundException or ArgumentException or NotSupportedException or IOException)
                {
                    _unreadable++;
                    WriteError(new ErrorRecord(e, "CaptureFileNotFound", ErrorCategory.ObjectNotFound, item));
                }
            }
        }

        /// <summary>
        /// A folder of rotated files: every capture file in it (by magic number, not extension); other files are
        /// skipped with a verbose line. Reading orders them by first packet time.
        /// </summary>
        private void AddFolder(string folder, string item)
        {
            IReadOnlyList<string> captures;
            try
            {
                captures = CaptureReader.CaptureFilesIn(folder, WriteVerbose);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or System.Security.SecurityException)
            {
                _unreadable++;
                WriteError(new ErrorRecord(e, "CaptureFolderUnreadable", ErrorCategory.ReadError, item));
                return;
            }

            if (captures.Count == 0)
            {
                _unreadable++;
                WriteError(new ErrorRecord(new ItemNotFoundException($"The folder '{item}' holds no capture file."), "CaptureFileNotFound", ErrorCategory.ObjectNotFound, item));
                return;
            }

            WriteVerbose($"{captures.Count} capture file(s) in '{folder}'.");
            _files.AddRange(captures);
        }

        protected override void EndProcessing()
        {
            var options = new CaptureAnalysisOptions
            {
                KnownDnsServers = ParseAddresses(KnownDnsServer, nameof(KnownDnsServer)),
                HostAddresses = ParseAddresses(HostAddress, nameof(HostAddress)),
                AsnDatabasePath = AsnDatabase is null ? null : SessionState.Path.GetUnresolvedProviderPathFromPSPath(AsnDatabase),
                CountryDatabasePath = CountryDatabase is null ? null : SessionState.Path.GetUnresolvedProviderPathFromPSPath(CountryDatabase),
                ExtractPath = ExtractPath is null ? null : SessionState.Path.GetUnresolvedProviderPathFromPSPath(ExtractPath),
                IncludeSecret = IncludeSecret.IsPresent,
            };

            if (options.AsnDatabasePath is not null && !File.Exists(options.AsnDatabasePath))
            {
                ThrowTerminating("AsnDatabaseNotFound", ErrorCategory.ObjectNotFound, AsnDatabase, $"Cannot find the ASN database '{AsnDatabase}'.");
            }

            if (options.CountryDatabasePath is not null && !File.Exists(options.CountryDatabasePath))
            {
                ThrowTerminating("CountryDatabaseNotFound", ErrorCategory.ObjectNotFound, CountryDatabase, $"Cannot find the country database '{CountryDatabase}'.");
            }

            options.Workers = MyInvocation.BoundParameters.ContainsKey(nameof(ThrottleLimit)) ? ThrottleLimit : Environment.ProcessorCount;
            var analysis = new CaptureAnalysis(options, Reporter);
            CaptureSummary summary;
            try
            {
                // Each finding is written as soon as it is final; after Ctrl+C, what was written stays with the caller.
                if (ParameterSetName == LiveSet)
                {
                    var live = new LiveCaptureOptions
                    {
                        InterfaceName = InterfaceName!,
                        Duration = Duration > TimeSpan.Zero ? Duration : (TimeSpan?)null,
                        PacketCount = PacketCount > 0 ? PacketCount : (long?)null,
                        SavePath = SavePath is null ? null : SessionState.Path.GetUnresolvedProviderPathFromPSPath(SavePath),
                    };
                    if (live.Duration is null && live.PacketCount is null)
                    {
                        WriteWarning("Neither -Duration nor -PacketCount was given: capturing until Ctrl+C.");
                    }

                    summary = analysis.AnalyzeLive(live, WriteObject, CancellationToken);
                }
                else
                {
                    if (_files.Count == 0)
                    {
                        ThrowTerminating("NoCaptureFile", ErrorCategory.ObjectNotFound, Path ?? LiteralPath,
                            "None of the given capture files exists; nothing to analyse.");
                    }

                    summary = analysis.AnalyzeFiles(_files, WriteObject, CancellationToken);
                }
            }
            catch (CaptureLibraryMissingException e)
            {
                ThrowTerminating("CaptureLibraryMissing", ErrorCategory.NotInstalled, InterfaceName, e.Message, e);
                return;
            }
            catch (CaptureInterfaceNotFoundException e)
            {
                ThrowTerminating("CaptureInterfaceNotFound", ErrorCategory.ObjectNotFound, InterfaceName, e.Message, e);
                return;
            }
            catch (InvalidOperationException e) when (ParameterSetName == LiveSet)
            {
                ThrowTerminating("CaptureInterfaceUnavailable", ErrorCategory.ResourceUnavailable, InterfaceName, e.Message, e);
                return;
            }

            if (!summary.Completed && CancellationToken.IsCancellationRequested && !Stopping)
            {
                WriteWarning("Stopped before the end of the capture: the findings cover what was read.");
            }

            base.EndProcessing();
        }

        private NetAddress[] ParseAddresses(string[]? values, string parameter)
        {
            var list = new List<NetAddress>();
            foreach (var v in values ?? Array.Empty<string>())
            {
                if (NetAddress.TryParse(v, out var a))
                {
                    list.Add(a);
                }
                else
                {
                    ThrowTerminating("InvalidAddress", ErrorCategory.InvalidArgument, v, $"-{parameter}: '{v}' is not an IPv4 or IPv6 address.");
                }
            }

            return list.ToArray();
        }
    }
}
