using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Security.Cryptography;
using System.Text;
using FluxForensics.Model;

namespace FluxForensics.Export
{
    /// <summary>
    /// Writes an <see cref="IndicatorSet"/> as a STIX 2.1 bundle: the producer's identity, one indicator per value with a
    /// STIX pattern, the malware family with an <c>indicates</c> relationship from each indicator, and the TLP 2.0 marking
    /// (the OASIS-published object, by its published id) on every object.
    /// </summary>
    /// <remarks>
    /// Ids are name-based (UUIDv5) in <see cref="ProjectNamespace"/>, so the same indicator exported again keeps its id and
    /// a consumer updates it (newer <c>modified</c>) instead of adding a duplicate.
    /// </remarks>
    public static class StixBundleWriter
    {
        /// <summary>
        /// The namespace of FluxForensics' STIX ids: UUIDv5 of the URL namespace (RFC 4122 appendix C) and
        /// "https://github.com/fluxforensics/FluxForensics/stix". Names within it are "indicator|&lt;type&gt;|&lt;value&gt;",
        /// "identity|&lt;producer&gt;", "malware|&lt;family&gt;" and "relationship|indicates|&lt;source id&gt;|&lt;target id&gt;".
        /// </summary>
        public static readonly Guid ProjectNamespace = new Guid("4758a59f-3471-5ff7-9732-9c64a2acc26b");

        /// <summary>STIX 2.1's own namespace for deterministic cyber-observable ids (spec section 2.9).</summary>
        public static readonly Guid StixObservableNamespace = new Guid("00abedb4-aa42-466c-9c01-fed23315a9b7");

        /// <summary>The TLP 2.0 extension definition published by the OASIS CTI TC (cti-stix-common-objects, tlp-2.0).</summary>
        public const string Tlp2ExtensionId = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d";

        /// <summary>The "created" of every published TLP 2.0 marking definition.</summary>
        public const string Tlp2Created = "2022-10-01T00:00:00.000Z";

        /// <summary>
        /// The producer identity is one constant object: the same id and timestamps in every export, because a changing
        /// <c>created</c> under one id would make each export a conflicting version of it.
        /// </summary>
        private static readonly DateTime ProducerCreated = new DateTime(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc);

        /// <summary>The published id, name and tlp_2_0 value of a TLP 2.0 level.</summary>
        public static (string Id, string Name, string Value) TlpMarking(TlpLevel level) => level switch
        {
            TlpLevel.Clear => ("marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487", "TLP:CLEAR", "clear"),
            TlpLevel.Green => ("marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb", "TLP:GREEN", "green"),
            TlpLevel.Amber => ("marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421", "TLP:AMBER", "amber"),
            TlpLevel.AmberStrict => ("marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003", "TLP:AMBER+STRICT", "amber+strict"),
            TlpLevel.Red => ("marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1", "TLP:RED", "red"),
            _ => throw new ArgumentOutOfRangeException(nameof(level)),
        };

        /// <summary>A STIX identifier: type, "--", and the UUIDv5 of the name in <see cref="ProjectNamespace"/>.</summary>
        public static string Id(string type, string name) => type + "--" + NameBasedUuid(ProjectNamespace, name).ToString("D");

        public static string IndicatorId(IndicatorType type, string value) => Id("indicator", "indicator|" + type.ToString() + "|" + value);

        /// <summary>RFC 4122 section 4.3 name-based UUID with SHA-1 (version 5).</summary>
        public static Guid NameBasedUuid(Guid ns, string name)
        {
            byte[] nsBytes = ns.ToByteArray();
            // Guid.ToByteArray is little-endian in its first three fields; RFC 4122 hashes network order.
            SwapGuidByteOrder(nsBytes);
            byte[] nameBytes = Encoding.UTF8.GetBytes(name);
            byte[] input = new byte[nsBytes.Length + nameBytes.Length];
            Buffer.BlockCopy(nsBytes, 0, input, 0, nsBytes.Length);
            Buffer.BlockCopy(nameBytes, 0, input, nsBytes.Length, nameBytes.Length);
            byte[] hash;
            using (var sha1 = SHA1.Create())
            {
                hash = sha1.ComputeHash(input);
            }

            byte[] uuid = new byte[16];
            Array.Copy(hash, uuid, 16);
            uuid[6] = (byte)((uuid[6] & 0x0F) | 0x50);
            uuid[8] = (byte)((uuid[8] & 0x3F) | 0x80);
            SwapGuidByteOrder(uuid);
            return new Guid(uuid);
        }

        private static void SwapGuidByteOrder(byte[] b)
        {
            (b[0], b[3]) = (b[3], b[0]);
            (b[1], b[2]) = (b[2], b[1]);
            (b[4], b[5]) = (b[5], b[4]);
            (b[6], b[7]) = (b[7], b[6]);
        }

        /// <summary>A string literal of the STIX patterning language: quotes and backslashes escaped (spec 9.3).</summary>
        public static string PatternLiteral(string value) => "'" + value.Replace("\\", "\\\\").Replace("'", "\\'") + "'";

        /// <summary>The STIX pattern that matches the indicator.</summary>
        public static string Pattern(ExportedIndicator indicator) => indicator.Type switch
        {
            IndicatorType.Sha256 => "[file:hashes.'SHA-256' = " + PatternLiteral(indicator.Value) + "]",
            IndicatorType.Md5 => "[file:hashes.MD5 = " + PatternLiteral(indicator.Value) + "]",
            IndicatorType.Domain => "[domain-name:value = " + PatternLiteral(indicator.Value) + "]",
            IndicatorType.Address => (indicator.Value.IndexOf(':') >= 0 ? "[ipv6-addr:value = " : "[ipv4-addr:value = ") + PatternLiteral(indicator.Value) + "]",
            IndicatorType.Url => "[url:value = " + PatternLiteral(indicator.Value) + "]",
            _ => throw new ArgumentOutOfRangeException(nameof(indicator), "no STIX pattern for " + indicator.Type),
        };

        /// <summary>STIX timestamps: UTC, millisecond precision, 'Z'.</summary>
        public static string Timestamp(DateTime time) =>
            Millis(time).ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

        private static DateTime Millis(DateTime time)
        {
            var utc = time.Kind == DateTimeKind.Local ? time.ToUniversalTime() : DateTime.SpecifyKind(time, DateTimeKind.Utc);
            return new DateTime(utc.Ticks - (utc.Ticks % TimeSpan.TicksPerMillisecond), DateTimeKind.Utc);
        }

        public static void Write(IndicatorSet set, IndicatorExportOptions options, TextWriter output)
        {
            if (set is null)
            {
                throw new ArgumentNullException(nameof(set));
            }

            if (options is null)
            {
                throw new ArgumentNullException(nameof(options));
            }

            DateTime now = Millis(options.ExportTime);
            var marking = TlpMarking(options.Tlp);
            string producer = string.IsNullOrWhiteSpace(options.Producer) ? "FluxForensics" : options.Producer.Trim();
            string identityId = Id("identity", "identity|" + producer);
            string malwareId = Id("malware", "malware|" + set.FamilyName.ToLowerInvariant());
            DateTime fallbackFirst = Millis(set.FirstSeen ?? set.Indicators.Select(i => i.FirstSeen).Where(t => t.HasValue).Select(t => t!.Value).DefaultIfEmpty(now).Min());

            var objects = new List<(string Id, string Modified, Action<JsonWriter> Body)>();
            objects.Add((marking.Id, Tlp2Created, w => WriteMarking(w, marking)));
            objects.Add((identityId, Timestamp(ProducerCreated), w =>
            {
                w.Property("type", "identity");
                w.Property("spec_version", "2.1");
                w.Property("id", identityId);
                w.Property("created", Timestamp(ProducerCreated));
                w.Property("modified", Timestamp(ProducerCreated));
                w.Property("name", producer);
                w.Property("description", "Producer of indicators exported by FluxForensics (Export-FluxIndicator).");
                Markings(w, marking.Id);
            }));

            DateTime familyFirst = Earliest(set.Indicators.Select(i => i.FirstSeen), fallbackFirst);
            DateTime familyModified = Later(now, familyFirst);
            objects.Add((malwareId, Timestamp(familyModified), w =>
            {
                w.Property("type", "malware");
                w.Property("spec_version", "2.1");
                w.Property("id", malwareId);
                w.Property("created_by_ref", identityId);
                w.Property("created", Timestamp(familyFirst));
                w.Property("modified", Timestamp(familyModified));
                w.Property("name", set.FamilyName);
                w.Property("description", "Fast-flux botnet relay: the infected host proxies DNS, SMTP, FTP and HTTP for the botnet and serves flux domains.");
                w.Property("is_family", true);
                w.StringArray("malware_types", new[] { "bot" });
                if (set.FirstSeen is { } fs)
                {
                    w.Property("first_seen", Timestamp(fs));
                }

                if (set.LastSeen is { } ls)
                {
                    w.Property("last_seen", Timestamp(ls));
                }

                Markings(w, marking.Id);
            }));

            var relationships = new List<(string Id, string Modified, Action<JsonWriter> Body)>();
            foreach (var indicator in set.Indicators)
            {
                string id = IndicatorId(indicator.Type, indicator.Value);
                DateTime created = indicator.FirstSeen is { } first ? Millis(first) : fallbackFirst;
                DateTime modified = Later(now, created);
                var local = indicator;
                objects.Add((id, Timestamp(modified), w =>
                {
                    w.Property("type", "indicator");
                    w.Property("spec_version", "2.1");
                    w.Property("id", id);
                    w.Property("created_by_ref", identityId);
                    w.Property("created", Timestamp(created));
                    w.Property("modified", Timestamp(modified));
                    w.Property("name", IndicatorName(local));
                    if (local.Context.Length > 0)
                    {
                        w.Property("description", local.Context);
                    }

                    w.StringArray("indicator_types", new[] { local.Role is "FluxAgent" or "AnalyzedHost" ? "compromised" : "malicious-activity" });
                    w.Property("pattern", Pattern(local));
                    w.Property("pattern_type", "stix");
                    w.Property("pattern_version", "2.1");
                    w.Property("valid_from", Timestamp(created));
                    if (local.RiskScore > 0)
                    {
                        w.Property("confidence", Math.Min(100, local.RiskScore));
                    }

                    w.StringArray("labels", new[] { Label(local.Role) });
                    if (local.Link is { } link && Uri.TryCreate(link, UriKind.Absolute, out _))
                    {
                        w.Name("external_references");
                        w.BeginArray();
                        w.BeginObject();
                        w.Property("source_name", string.IsNullOrEmpty(local.LinkSource) ? "reputation" : local.LinkSource!);
                        w.Property("url", link);
                        w.EndObject();
                        w.EndArray();
                    }

                    Markings(w, marking.Id);
                }));

                string relId = Id("relationship", "relationship|indicates|" + id + "|" + malwareId);
                relationships.Add((relId, Timestamp(modified), w =>
                {
                    w.Property("type", "relationship");
                    w.Property("spec_version", "2.1");
                    w.Property("id", relId);
                    w.Property("created_by_ref", identityId);
                    w.Property("created", Timestamp(created));
                    w.Property("modified", Timestamp(modified));
                    w.Property("relationship_type", "indicates");
                    w.Property("source_ref", id);
                    w.Property("target_ref", malwareId);
                    Markings(w, marking.Id);
                }));
            }

            objects.AddRange(relationships);

            // The bundle is only a transport; its id follows what it carries, so the same export gives the same file.
            string bundleId = Id("bundle", "bundle|" + string.Join(",", objects.Select(o => o.Id + "@" + o.Modified)));
            var json = new JsonWriter(output);
            json.BeginObject();
            json.Property("type", "bundle");
            json.Property("id", bundleId);
            json.Name("objects");
            json.BeginArray();
            foreach (var o in objects)
            {
                json.BeginObject();
                o.Body(json);
                json.EndObject();
            }

            json.EndArray();
            json.EndObject();
            output.Write('\n');
        }

        private static void WriteMarking(JsonWriter w, (string Id, string Name, string Value) marking)
        {
            // Exactly the object OASIS publishes: consumers recognise the marking by this id and content.
            w.Property("type", "marking-definition");
            w.Property("spec_version", "2.1");
            w.Property("id", marking.Id);
            w.Property("created", Tlp2Created);
            w.Property("name", marking.Name);
            w.Name("extensions");
            w.BeginObject();
            w.Name(Tlp2ExtensionId);
            w.BeginObject();
            w.Property("extension_type", "property-extension");
            w.Property("tlp_2_0", marking.Value);
            w.EndObject();
            w.EndObject();
        }

        private static void Markings(JsonWriter w, string markingId) => w.StringArray("object_marking_refs", new[] { markingId });

        private static DateTime Earliest(IEnumerable<DateTime?> times, DateTime fallback)
        {
            var known = times.Where(t => t.HasValue).Select(t => Millis(t!.Value)).ToList();
            return known.Count == 0 ? fallback : known.Min();
        }

        private static DateTime Later(DateTime a, DateTime b) => a >= b ? a : b;

        private static string Label(string role) => role switch
        {
            "FluxDomain" => "fast-flux-domain",
            "MalwareFile" => "malware-file",
            "MalwareHost" => "malware-host",
            "FluxAgent" => "fast-flux-agent",
            "PhishingUrl" => "phishing-url",
            "DownloadUrl" => "malware-download-url",
            "AnalyzedHost" => "infected-relay",
            _ => "fast-flux-incident",
        };

        private static string IndicatorName(ExportedIndicator i) => i.Type switch
        {
            IndicatorType.Sha256 => "SHA-256 of malware file " + i.Value,
            IndicatorType.Md5 => "MD5 of malware file " + i.Value,
            IndicatorType.Domain when i.Role == "FluxDomain" => "Fast-flux domain " + i.Value,
            IndicatorType.Domain => "Malware host " + i.Value,
            IndicatorType.Address when i.Role == "FluxAgent" => "Fast-flux agent " + i.Value,
            IndicatorType.Address when i.Role == "AnalyzedHost" => "Infected relay " + i.Value,
            IndicatorType.Address => "Malware host " + i.Value,
            IndicatorType.Url when i.Role == "PhishingUrl" => "Phishing URL " + i.Value,
            IndicatorType.Url when i.Role == "DownloadUrl" => "Malware download URL " + i.Value,
            _ => i.Type + " " + i.Value,
        };
    }

    /// <summary>
    /// A small indented JSON writer (RFC 8259), so Core writes STIX without a JSON library on .NET Framework: strings are
    /// escaped ('"', '\', control characters, U+2028/U+2029), everything else is written as given.
    /// </summary>
    internal sealed class JsonWriter
    {
        private readonly TextWriter _out;
        private readonly Stack<bool> _hasItems = new Stack<bool>();
        private bool _afterName;

        public JsonWriter(TextWriter output) => _out = output;

        public void BeginObject() => Open('{');

        public void EndObject() => Close('}');

        public void BeginArray() => Open('[');

        public void EndArray() => Close(']');

        public void Name(string name)
        {
            Separate();
            WriteString(name);
            _out.Write(": ");
            _afterName = true;
        }

        public void Property(string name, string value)
        {
            Name(name);
            Value(value);
        }

        public void Property(string name, bool value)
        {
            Name(name);
            Raw(value ? "true" : "false");
        }

        public void Property(string name, int value)
        {
            Name(name);
            Raw(value.ToString(CultureInfo.InvariantCulture));
        }

        public void StringArray(string name, IEnumerable<string> values)
        {
            Name(name);
            BeginArray();
            foreach (var v in values)
            {
                Value(v);
            }

            EndArray();
        }

        public void Value(string value)
        {
            Separate();
            WriteString(value);
        }

        private void Raw(string text)
        {
            Separate();
            _out.Write(text);
        }

        private void Open(char bracket)
        {
            Separate();
            _out.Write(bracket);
            _hasItems.Push(false);
        }

        private void Close(char bracket)
        {
            bool had = _hasItems.Pop();
            if (had)
            {
                NewLine();
            }

            _out.Write(bracket);
        }

        /// <summary>Comma and line break before a value, unless it follows its property name.</summary>
        private void Separate()
        {
            if (_afterName)
            {
                _afterName = false;
                return;
            }

            if (_hasItems.Count == 0)
            {
                return;
            }

            if (_hasItems.Peek())
            {
                _out.Write(',');
            }
            else
            {
                _hasItems.Pop();
                _hasItems.Push(true);
            }

            NewLine();
        }

        private void NewLine()
        {
            _out.Write('\n');
            _out.Write(new string(' ', 2 * _hasItems.Count));
        }

        private void WriteString(string s)
        {
            _out.Write('"');
            foreach (char c in s)
            {
                switch (c)
                {
                    case '"': _out.Write("\\\""); break;
                    case '\\': _out.Write("\\\\"); break;
                    case '\n': _out.Write("\\n"); break;
                    case '\r': _out.Write("\\r"); break;
                    case '\t': _out.Write("\\t"); break;
                    case '\b': _out.Write("\\b"); break;
                    case '\f': _out.Write("\\f"); break;
                    default:
                        if (c < 0x20 || c == '\u2028' || c == '\u2029')
                        {
                            _out.Write("\\u");
                            _out.Write(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                        }
                        else
                        {
                            _out.Write(c);
                        }

                        break;
                }
            }

            _out.Write('"');
        }
    }
}
