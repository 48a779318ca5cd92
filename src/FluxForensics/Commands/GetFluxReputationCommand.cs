using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Management.Automation;
using System.Security;
using System.Threading;
using FluxForensics.Incident;
using FluxForensics.Model;

namespace FluxForensics.Commands
{
    /// <summary>
    /// What hash lists and VirusTotal say of the files and domains of findings: one FluxReputation per source that
    /// knows an indicator. The key is read from -ApiKey or $env:VT_API_KEY and never written anywhere.
    /// </summary>
    [Cmdlet(VerbsCommon.Get, "FluxReputation", HelpUri = HelpRoot + "Get-FluxReputation.md")]
    [OutputType(typeof(FluxReputation))]
    public sealed class GetFluxReputationCommand : FluxCmdlet
    {
        /// <summary>The environment variable read when -ApiKey is not given.</summary>
        public const string ApiKeyVariable = "VT_API_KEY";

        /// <summary>Findings (live or deserialized), files (FileInfo), or hashes and domain names as text.</summary>
        [Parameter(ValueFromPipeline = true)]
        public PSObject[]? InputObject { get; set; }

        [Parameter]
        [ValidateNotNullOrEmpty]
        public string[]? Sha256 { get; set; }

        /// <summary>Files to hash and look up (wildcards allowed).</summary>
        [Parameter]
        [SupportsWildcards]
        [ValidateNotNullOrEmpty]
        public string[]? Path { get; set; }

        [Parameter]
        [Alias("PSPath")]
        [ValidateNotNullOrEmpty]
        public string[]? LiteralPath { get; set; }

        [Parameter]
        [ValidateNotNullOrEmpty]
        public string[]? Domain { get; set; }

        /// <summary>Files of known-bad hashes: plain lines, or CSV/TSV with a sha256 column (MalwareBazaar's export as is).</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string[]? HashList { get; set; }

        [Parameter]
        public SecureString? ApiKey { get; set; }

        [Parameter]
        public Uri ApiUri { get; set; } = VirusTotalClient.DefaultApiUri;

        /// <summary>At most this many VirusTotal requests in any minute (the public API allows 4).</summary>
        [Parameter]
        [ValidateRange(1, 100000)]
        public int RequestsPerMinute { get; set; } = 4;

        [Parameter]
        [ValidateNotNullOrEmpty]
        public string? CachePath { get; set; }

        /// <summary>Cached VirusTotal answers younger than this are used instead of asking again.</summary>
        [Parameter]
        public TimeSpan MaxAge { get; set; } = TimeSpan.FromDays(1);

        /// <summary>Answer from the cache and the hash lists only; send nothing.</summary>
        [Parameter]
        public SwitchParameter Offline { get; set; }

        private readonly ReputationIndicators _indicators = new ReputationIndicators(new PSObjectView());
        private bool _namedDone;

        protected override void ProcessRecord()
        {
            if (!_namedDone)
            {
                // Named inputs bind once; taking them here keeps them first in the output, before piped findings.
                _namedDone = true;
                AddNamed();
            }

            foreach (var input in InputObject ?? Array.Empty<PSObject>())
            {
                if (input is null)
                {
                    continue;
                }

                object value = input.BaseObject;
                switch (value)
                {
                    case FileInfo file:
                        AddFile(file.FullName, file.FullName);
                        break;
                    case string text:
                        if (!_indicators.AddHashText(text) && !_indicators.AddDomain(text))
                        {
                            WriteError(new ErrorRecord(new ArgumentException($"'{text}' is neither a SHA-256, an MD5 nor a domain name."),
                                "NotAnIndicator", ErrorCategory.InvalidArgument, text));
                        }

                        break;
                    default:
                        if (_indicators.AddObject(input) == 0)
                        {
                            WriteVerbose($"{Describe(input)} carries no hash or flux domain not already given.");
                        }

                        break;
                }
            }
        }

        private void AddNamed()
        {
            foreach (var s in Sha256 ?? Array.Empty<string>())
            {
                if (!_indicators.AddSha256(s))
                {
                    WriteError(new ErrorRecord(new ArgumentException($"'{s}' is not a SHA-256 (64 hexadecimal digits)."), "InvalidSha256", ErrorCategory.InvalidArgument, s));
                }
            }

            foreach (var d in Domain ?? Array.Empty<string>())
            {
                if (!_indicators.AddDomain(d))
                {
                    WriteError(new ErrorRecord(new ArgumentException($"'{d}' is not a domain name."), "InvalidDomain", ErrorCategory.InvalidArgument, d));
                }
            }

            foreach (var item in Path ?? Array.Empty<string>())
            {
                foreach (var file in Resolve(item, literal: false))
                {
                    AddFile(file, item);
                }
            }

            foreach (var item in LiteralPath ?? Array.Empty<string>())
            {
                foreach (var file in Resolve(item, literal: true))
                {
                    AddFile(file, item);
                }
            }
        }

        private IEnumerable<string> Resolve(string item, bool literal)
        {
            var files = new List<string>();
            try
            {
                if (literal)
                {
                    string resolved = SessionState.Path.GetUnresolvedProviderPathFromPSPath(item);
                    if (!File.Exists(resolved))
                    {
                        throw new ItemNotFoundException($"Cannot find the file '{item}'.");
                    }

                    files.Add(resolved);
                }
                else
                {
                    var resolved = SessionState.Path.GetResolvedProviderPathFromPSPath(item, out var provider);
                    if (provider.Name != "FileSystem")
                    {
                        throw new ItemNotFoundException($"'{item}' is not a file-system path.");
                    }

                    files.AddRange(resolved.Where(File.Exists));
                    if (files.Count == 0)
                    {
                        throw new ItemNotFoundException($"Cannot find a file at '{item}'.");
                    }
                }
            }
            catch (Exception e) when (e is ItemNotFoundException or System.Management.Automation.DriveNotFoundException or ProviderNotFoundException or ArgumentException or NotSupportedException or IOException)
            {
                WriteError(new ErrorRecord(e, "FileNotFound", ErrorCategory.ObjectNotFound, item));
            }

            return files;
        }

        private void AddFile(string path, string shown)
        {
            try
            {
                Reporter.Progress("Get-FluxReputation", $"Hashing {path}", double.NaN);
                _indicators.AddFile(path, CancellationToken);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                WriteError(new ErrorRecord(e, "FileUnreadable", ErrorCategory.ReadError, shown));
            }
            catch (OperationCanceledException)
            {
                // Ctrl+C: PowerShell is already stopping the pipeline.
            }
        }

        protected override void EndProcessing()
        {
            if (!_namedDone)
            {
                _namedDone = true;
                AddNamed();
            }

            var queries = _indicators.Queries;
            if (queries.Count == 0)
            {
                WriteVerbose("Nothing to look up: no hash or domain was given or found in the input.");
                base.EndProcessing();
                return;
            }

            if (!ApiUri.IsAbsoluteUri || (ApiUri.Scheme != Uri.UriSchemeHttps && ApiUri.Scheme != Uri.UriSchemeHttp))
            {
                ThrowTerminating("InvalidApiUri", ErrorCategory.InvalidArgument, ApiUri, $"-ApiUri must be an absolute http or https address, not '{ApiUri}'.");
            }

            string? key = Offline ? null : ReadKey();
            if (key is not null && ApiUri.Scheme == Uri.UriSchemeHttp && !ApiUri.IsLoopback)
            {
                WriteWarning($"-ApiUri {ApiUri} is plain http: the VirusTotal key travels unencrypted to {ApiUri.Host}.");
            }

            var options = new ReputationOptions
            {
                ApiKey = key,
                ApiUri = ApiUri,
                RequestsPerMinute = RequestsPerMinute,
                CachePath = CachePath is null ? ReputationCache.DefaultPath : SessionState.Path.GetUnresolvedProviderPathFromPSPath(CachePath),
                MaxAge = MaxAge,
                Offline = Offline.IsPresent,
                HashLists = LoadHashLists(),
            };
            WriteVerbose($"Looking up {queries.Count} indicator(s): {options.HashLists.Count} hash list(s), cache {options.CachePath}, " +
                         (options.Offline ? "offline." : options.ApiKey is null ? "no VirusTotal key." : $"VirusTotal at {ApiUri} ({RequestsPerMinute} requests a minute)."));

            if (ReputationLookup.OnlyTheCacheCanAnswer(options))
            {
                WriteWarning("No -ApiKey, $env:VT_API_KEY or -HashList was given: only the cache can answer.");
            }

            var lookup = new ReputationLookup(options, Reporter);
            try
            {
                foreach (var finding in lookup.Lookup(queries, CancellationToken))
                {
                    WriteObject(finding);
                }
            }
            catch (ReputationAuthenticationException e)
            {
                ThrowTerminating("VirusTotalWrongCredentials", ErrorCategory.AuthenticationError, ApiUri,
                    $"VirusTotal refused the API key ({e.ErrorCode}). Check the key given with -ApiKey or $env:VT_API_KEY; nothing was looked up at {ApiUri}.");
            }
            catch (OperationCanceledException)
            {
                // Ctrl+C: what was answered has been written.
            }
            finally
            {
                options.ApiKey = null;
            }

            WriteVerbose($"{lookup.RequestsSent} VirusTotal request(s) sent.");
            base.EndProcessing();
        }

        private string? ReadKey()
        {
            if (ApiKey is not null)
            {
                string plain = new System.Net.NetworkCredential(string.Empty, ApiKey).Password;
                return plain.Length == 0 ? null : plain;
            }

            string? fromEnvironment = Environment.GetEnvironmentVariable(ApiKeyVariable);
            return string.IsNullOrWhiteSpace(fromEnvironment) ? null : fromEnvironment!.Trim();
        }

        private IReadOnlyList<ReputationHashList> LoadHashLists()
        {
            var lists = new List<ReputationHashList>();
            foreach (var item in HashList ?? Array.Empty<string>())
            {
                foreach (var file in Resolve(item, literal: false))
                {
                    try
                    {
                        var list = ReputationHashList.Load(file, Reporter, CancellationToken);
                        WriteVerbose($"Hash list {file}: {list.Count} hash(es).");
                        lists.Add(list);
                    }
                    catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                    {
                        WriteError(new ErrorRecord(e, "HashListUnreadable", ErrorCategory.ReadError, item));
                    }
                }
            }

            return lists;
        }

        private static string Describe(PSObject input)
        {
            string type = input.TypeNames.Count > 0 ? input.TypeNames[0] : input.BaseObject.GetType().FullName ?? "The input";
            return type;
        }

        /// <summary>Lets Core walk PowerShell objects: live findings by reflection, deserialized ones by their properties.</summary>
        private sealed class PSObjectView : ReflectionObjectView
        {
            public override object Unwrap(object value)
            {
                while (value is PSObject wrapped)
                {
                    if (wrapped.BaseObject is PSCustomObject)
                    {
                        return wrapped;   // a deserialized object or a [pscustomobject]: its properties are its notes
                    }

                    value = wrapped.BaseObject;
                }

                return value;
            }

            public override IEnumerable<KeyValuePair<string, object?>>? Properties(object value) =>
                value is PSObject wrapped ? Notes(wrapped) : base.Properties(value);

            private static IEnumerable<KeyValuePair<string, object?>> Notes(PSObject wrapped)
            {
                foreach (var property in wrapped.Properties)
                {
                    if (!property.IsGettable)
                    {
                        continue;
                    }

                    object? v;
                    try
                    {
                        v = property.Value;
                    }
                    catch (Exception e) when (e is GetValueException or ExtendedTypeSystemException)
                    {
                        continue;
                    }

                    yield return new KeyValuePair<string, object?>(property.Name, v);
                }
            }
        }
    }
}
