using System;
using System.Collections.Generic;
using System.IO;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using FluxForensics.Model;

namespace FluxForensics.Export
{
    /// <summary>
    /// Writes findings as JSON Lines: one JSON object per line, UTF-8 without a BOM, each line flushed as it is written
    /// so a reader (or a SIEM shipper tailing the file) never sees half a record and an interrupted sweep keeps every
    /// line written so far. Field names are the .NET property names: Kind, ComputerName, ObservedAt, Severity,
    /// RiskScore, Source, Reasons ([{"Reason","Points"}]) first, then the type's own properties. Enums are their
    /// names, times ISO 8601 UTC with a trailing Z.
    /// </summary>
    public sealed class FindingJsonLines : IDisposable
    {
        private static readonly JsonWriterOptions Options = new JsonWriterOptions
        {
            // Paths and command lines stay readable (no \u0027 for quotes); the output is a log file, not HTML.
            Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
            Indented = false,
        };

        private static readonly byte[] NewLine = { (byte)'\n' };
        private readonly Stream _stream;
        private readonly bool _ownsStream;
        private readonly object _gate = new object();

        public FindingJsonLines(Stream stream, bool ownsStream = false)
        {
            _stream = stream ?? throw new ArgumentNullException(nameof(stream));
            _ownsStream = ownsStream;
        }

        /// <summary>Opens (creates, or appends to with <paramref name="append"/>) a JSON Lines file.</summary>
        public static FindingJsonLines Open(string path, bool append)
        {
            var stream = new FileStream(path, append ? FileMode.Append : FileMode.Create, FileAccess.Write, FileShare.Read);
            return new FindingJsonLines(stream, ownsStream: true);
        }

        public int Count { get; private set; }

        public void Write(FluxFinding finding) => Write(FindingRecord.From(finding));

        public void Write(FindingRecord record)
        {
            byte[] line = ToUtf8(record);
            lock (_gate)
            {
                _stream.Write(line, 0, line.Length);
                _stream.Write(NewLine, 0, 1);
                _stream.Flush();
                Count++;
            }
        }

        /// <summary>One record as its JSON line (without the newline).</summary>
        public static string ToJson(FindingRecord record) => Encoding.UTF8.GetString(ToUtf8(record));

        public static byte[] ToUtf8(FindingRecord record)
        {
            using var buffer = new MemoryStream();
            using (var writer = new Utf8JsonWriter(buffer, Options))
            {
                writer.WriteStartObject();
                writer.WriteString("Kind", record.Kind);
                writer.WriteString("ComputerName", record.ComputerName);
                writer.WriteString("ObservedAt", FindingRecord.IsoUtc(record.ObservedAt));
                writer.WriteString("Severity", record.Severity.ToString());
                writer.WriteNumber("RiskScore", record.RiskScore);
                writer.WriteString("Source", record.Source);
                writer.WriteStartArray("Reasons");
                foreach (var reason in record.Reasons)
                {
                    writer.WriteStartObject();
                    writer.WriteString("Reason", reason.Reason);
                    writer.WriteNumber("Points", reason.Points);
                    writer.WriteEndObject();
                }

                writer.WriteEndArray();
                foreach (var property in record.Properties)
                {
                    writer.WritePropertyName(property.Key);
                    WriteValue(writer, property.Value);
                }

                writer.WriteEndObject();
            }

            return buffer.ToArray();
        }

        private static void WriteValue(Utf8JsonWriter writer, object? value)
        {
            switch (value)
            {
                case null:
                    writer.WriteNullValue();
                    break;
                case string s:
                    writer.WriteStringValue(s);
                    break;
                case bool b:
                    writer.WriteBooleanValue(b);
                    break;
                case long l:
                    writer.WriteNumberValue(l);
                    break;
                case int i:
                    writer.WriteNumberValue(i);
                    break;
                case double d:
                    if (double.IsNaN(d) || double.IsInfinity(d))
                    {
                        writer.WriteNullValue();
                    }
                    else
                    {
                        writer.WriteNumberValue(d);
                    }

                    break;
                case decimal m:
                    writer.WriteNumberValue(m);
                    break;
                case IReadOnlyList<KeyValuePair<string, object?>> map:
                    writer.WriteStartObject();
                    foreach (var pair in map)
                    {
                        writer.WritePropertyName(pair.Key);
                        WriteValue(writer, pair.Value);
                    }

                    writer.WriteEndObject();
                    break;
                case IEnumerable<object?> list:
                    writer.WriteStartArray();
                    foreach (var item in list)
                    {
                        WriteValue(writer, item);
                    }

                    writer.WriteEndArray();
                    break;
                default:
                    // Not a plain value (a caller built the record by hand): write it as FindingRecord would.
                    var plain = FindingRecord.Plain(value);
                    if (plain is null || plain.GetType() == value.GetType())
                    {
                        writer.WriteStringValue(value.ToString());
                    }
                    else
                    {
                        WriteValue(writer, plain);
                    }

                    break;
            }
        }

        public void Dispose()
        {
            if (_ownsStream)
            {
                _stream.Dispose();
            }
        }
    }
}
