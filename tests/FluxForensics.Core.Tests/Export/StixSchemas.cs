using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.Json.Nodes;
using FluxForensics.Tests.Listener;
using Json.Schema;

namespace FluxForensics.Tests.Export
{
    /// <summary>
    /// The official OASIS STIX 2.1 JSON schemas from the shared corpus, every file registered under its own $id so the
    /// schemas' relative $refs (../common/core.json) resolve among them, as they do on the schemas' home.
    /// </summary>
    internal sealed class StixSchemas
    {
        private static readonly Lazy<StixSchemas> Loaded = new Lazy<StixSchemas>(() => new StixSchemas());

        /// <summary>One loaded set for all tests (loading and the first evaluations are the slow part).</summary>
        public static StixSchemas Shared => Loaded.Value;

        public static string Root => Path.Combine(Corpus.Root, "standards", "oasis-open__cti-stix2-json-schemas", "schemas");

        public static string? WhyMissing => Directory.Exists(Root) ? null : $"the OASIS STIX schemas are absent ({Root})";

        private readonly Dictionary<string, JsonSchema> _byRelativePath = new Dictionary<string, JsonSchema>(StringComparer.Ordinal);

        private StixSchemas()
        {
            var build = new BuildOptions { SchemaRegistry = new SchemaRegistry() };
            Options = new EvaluationOptions { OutputFormat = OutputFormat.Flag };
            foreach (var file in Directory.EnumerateFiles(Root, "*.json", SearchOption.AllDirectories))
            {
                // Built under its own $id (the schemas' home), so "../common/core.json" resolves to the file registered
                // under that id.
                var id = new Uri(JsonNode.Parse(File.ReadAllText(file))!["$id"]!.GetValue<string>());
                var schema = JsonSchema.FromText(File.ReadAllText(file), build, id);
                build.SchemaRegistry.Register(id, schema);
                _byRelativePath[Path.GetRelativePath(Root, file).Replace('\\', '/')] = schema;
            }
        }

        public EvaluationOptions Options { get; }

        public int Count => _byRelativePath.Count;

        public JsonSchema Bundle => _byRelativePath["common/bundle.json"];

        /// <summary>The schema of a STIX object type (SDO, SRO or marking definition).</summary>
        public JsonSchema ForType(string type)
        {
            foreach (var folder in new[] { "sdos", "sros", "common", "observables" })
            {
                if (_byRelativePath.TryGetValue($"{folder}/{type}.json", out var schema))
                {
                    return schema;
                }
            }

            throw new KeyNotFoundException($"no STIX schema for type '{type}'");
        }

        /// <summary>Evaluates and returns the errors (empty when valid), with their instance and schema locations.</summary>
        public IReadOnlyList<string> Errors(JsonSchema schema, JsonNode? instance)
        {
            // A yes/no evaluation first (fast); the detailed one only to say why when it fails.
            var element = System.Text.Json.JsonSerializer.SerializeToElement(instance);
            if (schema.Evaluate(element, Options).IsValid)
            {
                return Array.Empty<string>();
            }

            Options.OutputFormat = OutputFormat.List;
            EvaluationResults result;
            try
            {
                result = schema.Evaluate(element, Options);
            }
            finally
            {
                Options.OutputFormat = OutputFormat.Flag;
            }

            var errors = ((IEnumerable<EvaluationResults>?)result.Details ?? Array.Empty<EvaluationResults>()).Concat(new[] { result })
                .Where(d => d.Errors is { Count: > 0 })
                .SelectMany(d => d.Errors!.Select(e => $"{d.InstanceLocation} ({d.EvaluationPath}): {e.Key}: {e.Value}"))
                .Distinct().ToList();
            return errors.Count > 0 ? errors : new[] { "invalid (no error details)" };
        }
    }
}
