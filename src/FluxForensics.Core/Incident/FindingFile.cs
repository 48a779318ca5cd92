using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;
using System.Text.Json;

namespace FluxForensics.Incident
{
    /// <summary>
    /// Reads findings written to JSON earlier: a <c>ConvertTo-Json</c> array or object, or JSON Lines (one finding per
    /// line, as sweeps write them). A line or element that is not JSON costs that record only.
    /// </summary>
    public static class FindingFile
    {
        /// <summary>Largest JSON file read whole; JSON Lines are read line by line at any size.</summary>
        private const long MaxDocumentBytes = 1L << 30;

        public static IEnumerable<JsonRecord> ReadJson(string path) => IsJsonLines(path) ? ReadLines(path) : ReadDocument(path);

        /// <summary>JSON Lines when the first line with content is a whole object on its own.</summary>
        private static bool IsJsonLines(string path)
        {
            foreach (string line in File.ReadLines(path))
            {
                string trimmed = line.Trim().TrimStart('\uFEFF');
                if (trimmed.Length == 0)
                {
                    continue;
                }

                if (trimmed[0] != '{')
                {
                    return false;
                }

                try
                {
                    using var _ = JsonDocument.Parse(trimmed);
                    return true;
                }
                catch (JsonException)
                {
                    return false;
                }
            }

            return false;
        }

        private static IEnumerable<JsonRecord> ReadLines(string path)
        {
            long number = 0;
            foreach (string line in File.ReadLines(path))
            {
                number++;
                string trimmed = line.Trim().TrimStart('\uFEFF');
                if (trimmed.Length == 0)
                {
                    continue;
                }

                JsonElement? element = null;
                string? error = null;
                try
                {
                    using var doc = JsonDocument.Parse(trimmed);
                    element = doc.RootElement.Clone();
                }
                catch (JsonException e)
                {
                    error = e.Message;
                }

                yield return element is { ValueKind: JsonValueKind.Object } e2
                    ? new JsonRecord(new JsonBag(e2), null)
                    : new JsonRecord(null, $"line {number}: {error ?? "not a JSON object"}");
            }
        }

        private static IEnumerable<JsonRecord> ReadDocument(string path)
        {
            var info = new FileInfo(path);
            if (info.Length > MaxDocumentBytes)
            {
                yield return new JsonRecord(null, $"{info.Length} bytes is larger than the {MaxDocumentBytes} bytes read as one JSON document; write JSON Lines instead");
                yield break;
            }

            JsonDocument doc;
            string? error = null;
            try
            {
                using var stream = File.OpenRead(path);
                doc = JsonDocument.Parse(stream, new JsonDocumentOptions { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip, MaxDepth = 256 });
            }
            catch (JsonException e)
            {
                doc = null!;
                error = e.Message;
            }

            if (error is not null)
            {
                yield return new JsonRecord(null, $"not JSON: {error}");
                yield break;
            }

            using (doc)
            {
                if (doc.RootElement.ValueKind == JsonValueKind.Array)
                {
                    int index = 0;
                    foreach (var element in doc.RootElement.EnumerateArray())
                    {
                        yield return element.ValueKind == JsonValueKind.Object
                            ? new JsonRecord(new JsonBag(element.Clone()), null)
                            : new JsonRecord(null, $"element {index} is a {element.ValueKind}, not an object");
                        index++;
                    }
                }
                else if (doc.RootElement.ValueKind == JsonValueKind.Object)
                {
                    yield return new JsonRecord(new JsonBag(doc.RootElement.Clone()), null);
                }
                else
                {
                    yield return new JsonRecord(null, $"the document is a {doc.RootElement.ValueKind}, not an object or an array");
                }
            }
        }
    }

    /// <summary>One record of a JSON file: its object, or why it could not be read.</summary>
    public sealed class JsonRecord
    {
        public JsonRecord(IPropertyBag? bag, string? error)
        {
            Bag = bag;
            Error = error;
        }

        public IPropertyBag? Bag { get; }
        public string? Error { get; }
    }

    /// <summary>A JSON object as a property bag (property names compared case-insensitively, as PowerShell does).</summary>
    internal sealed class JsonBag : IPropertyBag
    {
        private readonly JsonElement _element;

        public JsonBag(JsonElement element) => _element = element;

        public IEnumerable<string> TypeNames =>
            _element.TryGetProperty("PSTypeName", out var t) && t.ValueKind == JsonValueKind.String ? new[] { t.GetString()! } : Array.Empty<string>();

        public bool TryGetValue(string name, out object? value)
        {
            foreach (var property in _element.EnumerateObject())
            {
                if (string.Equals(property.Name, name, StringComparison.OrdinalIgnoreCase))
                {
                    value = Convert(property.Value);
                    return true;
                }
            }

            value = null;
            return false;
        }

        private static object? Convert(JsonElement e) => e.ValueKind switch
        {
            JsonValueKind.Object => new JsonBag(e),
            JsonValueKind.Array => e.EnumerateArray().Select(Convert).ToList(),
            JsonValueKind.String => e.GetString(),
            JsonValueKind.Number => e.TryGetInt64(out long l) ? l : e.GetDouble(),
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => null,
        };
    }
}
