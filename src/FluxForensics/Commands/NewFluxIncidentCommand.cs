using System;
using System.Collections;
using System.Collections.Generic;
using System.Collections.ObjectModel;
using System.IO;
using System.Linq;
using System.Management.Automation;
using FluxForensics.Incident;
using FluxForensics.Model;

namespace FluxForensics.Commands
{
    /// <summary>
    /// Joins findings from the pipeline and from files written earlier (CliXml, JSON, JSON Lines), from any number of
    /// computers, into one incident: correlations by file hash, domain, address and account; a timeline; hosts and roles.
    /// </summary>
    [Cmdlet(VerbsCommon.New, "FluxIncident", DefaultParameterSetName = PipelineSet, HelpUri = HelpRoot + "New-FluxIncident.md")]
    [OutputType(typeof(FluxIncident))]
    public sealed class NewFluxIncidentCommand : FluxCmdlet
    {
        private const string PipelineSet = "Pipeline";
        private const string PathSet = "Path";
        private const string LiteralPathSet = "LiteralPath";

        private IncidentBuilder? _builder;
        private int _ignored;

        /// <summary>Findings, live or deserialized, a FluxIncident (its findings are joined again), quarantine items.</summary>
        [Parameter(ValueFromPipeline = true)]
        public PSObject? InputObject { get; set; }

        /// <summary>CliXml (Export-Clixml) or JSON (ConvertTo-Json, JSON Lines) files of findings.</summary>
        [Parameter(ParameterSetName = PathSet, Mandatory = true, Position = 0)]
        [SupportsWildcards]
        public string[]? Path { get; set; }

        [Parameter(ParameterSetName = LiteralPathSet, Mandatory = true)]
        [Alias("PSPath")]
        public string[]? LiteralPath { get; set; }

        /// <summary>Addresses of computers: @{ pc17 = '140.127.1.77' }, so a relay in a capture joins the computer that owns it.</summary>
        [Parameter]
        public Hashtable? ComputerAddress { get; set; }

        [Parameter]
        public string? Title { get; set; }

        protected override void BeginProcessing()
        {
            base.BeginProcessing();
            var options = new IncidentOptions { Title = Title, Reporter = Reporter };
            foreach (DictionaryEntry entry in ComputerAddress ?? new Hashtable())
            {
                string computer = Convert.ToString(entry.Key, System.Globalization.CultureInfo.InvariantCulture) ?? string.Empty;
                var value = entry.Value is PSObject p ? p.BaseObject : entry.Value;
                string[] addresses = value is string s ? new[] { s }
                    : value is IEnumerable e ? e.Cast<object?>().Select(x => Convert.ToString(x is PSObject px ? px.BaseObject : x, System.Globalization.CultureInfo.InvariantCulture) ?? string.Empty).ToArray()
                    : new[] { Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture) ?? string.Empty };
                options.ComputerAddresses[computer] = addresses;
            }

            _builder = new IncidentBuilder(options);
        }

        protected override void ProcessRecord()
        {
            if (InputObject is not null)
            {
                Take(InputObject, "the pipeline");
            }
        }

        protected override void EndProcessing()
        {
            try
            {
                foreach (string file in Files())
                {
                    ReadFile(file);
                }

                if (_ignored > 0)
                {
                    WriteWarning($"{_ignored} input object(s) were not FluxForensics findings and were left out (see the errors above).");
                }

                if (_builder!.Count == 0)
                {
                    WriteWarning("No findings were given; the incident is empty.");
                }

                WriteObject(_builder.Build(CancellationToken));
            }
            catch (OperationCanceledException)
            {
                // Ctrl+C: nothing half-joined is written.
            }

            base.EndProcessing();
        }

        private void Take(PSObject input, string origin)
        {
            // A collection that arrived as one object (a deserialized ArrayList, `,$findings | ...`) is its items.
            if (input.BaseObject is IEnumerable items && !(input.BaseObject is string) && !(input.BaseObject is IDictionary))
            {
                foreach (object? item in items)
                {
                    if (item is not null)
                    {
                        Take(item as PSObject ?? PSObject.AsPSObject(item), origin);
                    }
                }

                return;
            }

            if (!FindingInput.TryConvert(input, out object? value, out string? error))
            {
                _ignored++;
                WriteError(new ErrorRecord(new ArgumentException($"Not a FluxForensics finding ({origin}): {error}"), "NotAFinding", ErrorCategory.InvalidData, input));
                return;
            }

            if (error is not null)
            {
                WriteVerbose($"{origin}: part of a {value!.GetType().Name} could not be read back: {error}");
            }

            Add(value!, origin);
        }

        /// <summary>Joins a model object, from the pipeline or a file.</summary>
        private void Add(object value, string origin)
        {
            switch (value)
            {
                case FluxFinding finding:
                    _builder!.Add(finding);
                    break;
                case FluxQuarantineItem item:
                    _builder!.Add(item);
                    break;
                default:
                    // Remediation records say what was done, not what was found.
                    WriteVerbose($"{origin}: a {value.GetType().Name} carries no evidence; left out.");
                    break;
            }
        }

        private IEnumerable<string> Files()
        {
            if (ParameterSetName == PathSet)
            {
                foreach (string path in Path ?? Array.Empty<string>())
                {
                    Collection<string> resolved;
                    try
                    {
                        resolved = SessionState.Path.GetResolvedProviderPathFromPSPath(path, out _);
                    }
                    catch (ItemNotFoundException e)
                    {
                        WriteError(new ErrorRecord(e, "PathNotFound", ErrorCategory.ObjectNotFound, path));
                        continue;
                    }

                    foreach (string file in resolved)
                    {
                        yield return file;
                    }
                }
            }
            else if (ParameterSetName == LiteralPathSet)
            {
                foreach (string path in LiteralPath ?? Array.Empty<string>())
                {
                    string file = SessionState.Path.GetUnresolvedProviderPathFromPSPath(path);
                    if (!File.Exists(file))
                    {
                        WriteError(new ErrorRecord(new FileNotFoundException($"No file at '{file}'.", file), "PathNotFound", ErrorCategory.ObjectNotFound, path));
                        continue;
                    }

                    yield return file;
                }
            }
        }

        private void ReadFile(string file)
        {
            int first;
            try
            {
                using var reader = new StreamReader(file, detectEncodingFromByteOrderMarks: true);
                do
                {
                    first = reader.Read();
                }
                while (first >= 0 && char.IsWhiteSpace((char)first));
            }
            catch (Exception e) when (e is IOException || e is UnauthorizedAccessException)
            {
                WriteError(new ErrorRecord(e, "FileUnreadable", ErrorCategory.ReadError, file));
                return;
            }

            WriteVerbose($"Reading findings from {file}");
            if (first == '<')
            {
                ReadCliXml(file);
            }
            else if (first == '[' || first == '{')
            {
                foreach (var record in FindingFile.ReadJson(file))
                {
                    CancellationToken.ThrowIfCancellationRequested();
                    if (record.Bag is null)
                    {
                        _ignored++;
                        WriteError(new ErrorRecord(new InvalidDataException($"{file}: {record.Error}"), "JsonRecordUnreadable", ErrorCategory.InvalidData, file));
                        continue;
                    }

                    var rebuilt = FindingRehydrator.Rehydrate(record.Bag);
                    if (rebuilt.Value is null)
                    {
                        _ignored++;
                        WriteError(new ErrorRecord(new InvalidDataException($"{file}: {string.Join("; ", rebuilt.Problems)}"), "NotAFinding", ErrorCategory.InvalidData, file));
                        continue;
                    }

                    Add(rebuilt.Value, file);
                }
            }
            else
            {
                WriteError(new ErrorRecord(new InvalidDataException($"'{file}' is neither CliXml (Export-Clixml) nor JSON."), "UnknownFileFormat", ErrorCategory.InvalidData, file));
            }
        }

        private void ReadCliXml(string file)
        {
            IEnumerable objects;
            try
            {
                objects = PSSerializer.DeserializeAsList(File.ReadAllText(file));
            }
            catch (Exception e) when (e is IOException || e is UnauthorizedAccessException || e is System.Xml.XmlException || e is InvalidOperationException)
            {
                WriteError(new ErrorRecord(new InvalidDataException($"'{file}' could not be read as CliXml: {e.Message}", e), "CliXmlUnreadable", ErrorCategory.InvalidData, file));
                return;
            }

            foreach (object o in objects)
            {
                CancellationToken.ThrowIfCancellationRequested();
                Take(o as PSObject ?? PSObject.AsPSObject(o), file);
            }
        }
    }
}
