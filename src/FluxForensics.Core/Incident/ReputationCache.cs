using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Text;
using System.Text.Json;

namespace FluxForensics.Incident
{
    /// <summary>
    /// VirusTotal's answers on disk, one small JSON file per hash or name, so scheduled sweeps that look up the same
    /// files again do not spend the API quota. "Never seen" answers are kept too. Nothing secret is written: the file
    /// holds what VirusTotal said and when, never the request.
    /// </summary>
    public sealed class ReputationCache
    {
        private const int FormatVersion = 1;

        public ReputationCache(string directory, TimeSpan maxAge)
        {
            Directory = directory;
            MaxAge = maxAge;
        }

        /// <summary>FluxForensics/reputation-cache under the per-user LocalApplicationData folder.</summary>
        public static string DefaultPath =>
            System.IO.Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData, Environment.SpecialFolderOption.DoNotVerify), "FluxForensics", "reputation-cache");

        public string Directory { get; }

        public TimeSpan MaxAge { get; }

        /// <summary>The file that holds a query's answer.</summary>
        public string PathOf(ReputationQuery query) =>
            System.IO.Path.Combine(Directory, (query.Kind == ReputationIndicatorKind.Domain ? "domain-" : "file-") + query.Value + ".json");

        /// <summary>
        /// The cached answer when there is one younger than <see cref="MaxAge"/>. A file that does not read is a miss
        /// (and is overwritten by the next answer); <paramref name="problem"/> says why.
        /// </summary>
        public ReputationAnswer? TryGet(ReputationQuery query, DateTime nowUtc, out string? problem)
        {
            problem = null;
            string path = PathOf(query);
            byte[] bytes;
            try
            {
                if (!File.Exists(path))
                {
                    return null;
                }

                bytes = File.ReadAllBytes(path);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                problem = $"the cache file {path} cannot be read: {e.Message}";
                return null;
            }

            try
            {
                using var document = JsonDocument.Parse(bytes);
                var root = document.RootElement;
                if (root.ValueKind != JsonValueKind.Object || Int(root, "FormatVersion") != FormatVersion)
                {
                    problem = $"the cache file {path} is not in this version's format";
                    return null;
                }

                var cachedAt = Date(root, "CachedAt");
                if (cachedAt is null)
                {
                    problem = $"the cache file {path} has no CachedAt";
                    return null;
                }

                if (nowUtc - cachedAt.Value > MaxAge || cachedAt.Value - nowUtc > TimeSpan.FromMinutes(5))
                {
                    return null;
                }

                var answer = new ReputationAnswer(query, ReputationSourceKind.Cache, "Cache")
                {
                    Known = root.TryGetProperty("Known", out var known) && known.ValueKind == JsonValueKind.True,
                    Sha256 = Str(root, "Sha256"),
                    Md5 = Str(root, "Md5"),
                    Domain = Str(root, "Domain"),
                    Malicious = Int(root, "Malicious"),
                    Suspicious = Int(root, "Suspicious"),
                    Harmless = Int(root, "Harmless"),
                    Undetected = Int(root, "Undetected"),
                    Total = Int(root, "Total"),
                    Label = Str(root, "Label"),
                    FirstSeen = Date(root, "FirstSeen"),
                    LastAnalysis = Date(root, "LastAnalysis"),
                    CachedAt = cachedAt,
                };
                if (root.TryGetProperty("Names", out var names) && names.ValueKind == JsonValueKind.Array)
                {
                    var list = new List<string>();
                    foreach (var n in names.EnumerateArray())
                    {
                        if (n.ValueKind == JsonValueKind.String && n.GetString() is string s)
                        {
                            list.Add(s);
                        }
                    }

                    answer.Names = list.ToArray();
                }

                return answer;
            }
            catch (JsonException e)
            {
                problem = $"the cache file {path} is not valid JSON: {e.Message}";
                return null;
            }
        }

        /// <summary>Keeps VirusTotal's answer (written to a temporary file, then moved, so readers never see half).</summary>
        public void Put(ReputationAnswer answer, DateTime nowUtc)
        {
            System.IO.Directory.CreateDirectory(Directory);
            string path = PathOf(answer.Query);
            string temp = path + "." + Guid.NewGuid().ToString("N") + ".tmp";
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write))
            using (var writer = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
            {
                writer.WriteStartObject();
                writer.WriteNumber("FormatVersion", FormatVersion);
                writer.WriteString("Source", "VirusTotal");
                writer.WriteString("IndicatorKind", answer.Query.Kind.ToString());
                writer.WriteString("Indicator", answer.Query.Value);
                writer.WriteString("CachedAt", Iso(nowUtc));
                writer.WriteBoolean("Known", answer.Known);
                WriteOptional(writer, "Sha256", answer.Sha256);
                WriteOptional(writer, "Md5", answer.Md5);
                WriteOptional(writer, "Domain", answer.Domain);
                WriteOptional(writer, "Malicious", answer.Malicious);
                WriteOptional(writer, "Suspicious", answer.Suspicious);
                WriteOptional(writer, "Harmless", answer.Harmless);
                WriteOptional(writer, "Undetected", answer.Undetected);
                WriteOptional(writer, "Total", answer.Total);
                WriteOptional(writer, "Label", answer.Label);
                writer.WriteStartArray("Names");
                foreach (var n in answer.Names)
                {
                    writer.WriteStringValue(n);
                }

                writer.WriteEndArray();
                if (answer.FirstSeen is { } first)
                {
                    writer.WriteString("FirstSeen", Iso(first));
                }

                if (answer.LastAnalysis is { } last)
                {
                    writer.WriteString("LastAnalysis", Iso(last));
                }

                writer.WriteEndObject();
            }

            try
            {
#if NET
                File.Move(temp, path, overwrite: true);
#else
                if (File.Exists(path))
                {
                    File.Replace(temp, path, null);
                }
                else
                {
                    File.Move(temp, path);
                }
#endif
            }
            catch
            {
                TryDelete(temp);
                throw;
            }
        }

        private static void TryDelete(string path)
        {
            try
            {
                File.Delete(path);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // A stray temporary file costs nothing; the original error is the one to report.
            }
        }

        private static string Iso(DateTime utc) => utc.ToUniversalTime().ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);

        private static void WriteOptional(Utf8JsonWriter writer, string name, string? value)
        {
            if (value is not null)
            {
                writer.WriteString(name, value);
            }
        }

        private static void WriteOptional(Utf8JsonWriter writer, string name, int? value)
        {
            if (value is { } v)
            {
                writer.WriteNumber(name, v);
            }
        }

        private static string? Str(JsonElement root, string name) =>
            root.TryGetProperty(name, out var e) && e.ValueKind == JsonValueKind.String ? e.GetString() : null;

        private static int? Int(JsonElement root, string name) =>
            root.TryGetProperty(name, out var e) && e.ValueKind == JsonValueKind.Number && e.TryGetInt32(out int v) ? v : null;

        private static DateTime? Date(JsonElement root, string name) =>
            Str(root, name) is string s && DateTime.TryParseExact(s, "yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture,
                DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var d) ? d : null;
    }
}
