using System;
using System.Collections;
using System.Collections.Generic;
using System.Globalization;
using System.Reflection;
using FluxForensics.Model;

namespace FluxForensics.Export
{
    /// <summary>
    /// A finding reduced to plain values (string, bool, long, double, decimal, lists and name/value maps), in the order
    /// the writers emit them. Made from a live finding here, or from a deserialized one by the cmdlets, so findings
    /// that came back over remoting are written exactly like local ones.
    /// </summary>
    public sealed class FindingRecord
    {
        /// <summary>The properties every finding has, first in every record, in this order.</summary>
        public static readonly string[] CommonProperties = { "Kind", "ComputerName", "ObservedAt", "Severity", "RiskScore", "Source", "Reasons" };

        private const int MaxDepth = 4;

        public FindingRecord(string kind, string computerName, Severity severity, int riskScore, string source, DateTime observedAt,
            IReadOnlyList<FindingReason> reasons, IReadOnlyList<KeyValuePair<string, object?>> properties)
        {
            Kind = kind;
            ComputerName = computerName;
            Severity = severity;
            RiskScore = riskScore;
            Source = source;
            ObservedAt = observedAt.Kind == DateTimeKind.Local ? observedAt.ToUniversalTime() : DateTime.SpecifyKind(observedAt, DateTimeKind.Utc);
            Reasons = reasons;
            Properties = properties;
        }

        public string Kind { get; }
        public string ComputerName { get; }
        public Severity Severity { get; }
        public int RiskScore { get; }
        public string Source { get; }
        public DateTime ObservedAt { get; }
        public IReadOnlyList<FindingReason> Reasons { get; }

        /// <summary>The type's own properties (not the common ones), values already plain (see <see cref="Plain"/>).</summary>
        public IReadOnlyList<KeyValuePair<string, object?>> Properties { get; }

        /// <summary>The value of a type-specific property, or null.</summary>
        public object? this[string name]
        {
            get
            {
                foreach (var p in Properties)
                {
                    if (string.Equals(p.Key, name, StringComparison.Ordinal))
                    {
                        return p.Value;
                    }
                }

                return null;
            }
        }

        /// <summary>A live finding, every public property in declaration order (most derived type first).</summary>
        public static FindingRecord From(FluxFinding finding)
        {
            if (finding is null)
            {
                throw new ArgumentNullException(nameof(finding));
            }

            var properties = new List<KeyValuePair<string, object?>>();
            foreach (var property in PublicProperties(finding.GetType()))
            {
                if (Array.IndexOf(CommonProperties, property.Name) >= 0)
                {
                    continue;
                }

                properties.Add(new KeyValuePair<string, object?>(property.Name, Plain(property.GetValue(finding), 0)));
            }

            return new FindingRecord(finding.Kind, finding.ComputerName, finding.Severity, finding.RiskScore, finding.Source, finding.ObservedAt, finding.Reasons, properties);
        }

        /// <summary>
        /// A .NET value as the writers keep it: null, string, bool, long, double, decimal, a list, or a list of
        /// name/value pairs. Enums become their names, times ISO 8601 UTC with a trailing Z, bytes lowercase hex,
        /// framework types (addresses and the like) their text.
        /// </summary>
        public static object? Plain(object? value, int depth = 0)
        {
            switch (value)
            {
                case null:
                    return null;
                case string s:
                    return s;
                case bool b:
                    return b;
                case Enum e:
                    return e.ToString();
                case DateTime t:
                    return IsoUtc(t);
                case DateTimeOffset o:
                    return IsoUtc(o.UtcDateTime);
                case TimeSpan span:
                    return span.ToString("c", CultureInfo.InvariantCulture);
                case byte[] bytes:
                    return Hex(bytes);
                case sbyte or byte or short or ushort or int or uint or long:
                    return Convert.ToInt64(value, CultureInfo.InvariantCulture);
                case ulong u:
                    return u <= long.MaxValue ? (object)(long)u : (decimal)u;
                case float f:
                    return (double)f;
                case double d:
                    return d;
                case decimal m:
                    return m;
                case char c:
                    return c.ToString();
                case Guid g:
                    return g.ToString("D");
                case FindingReason r:
                    return new List<KeyValuePair<string, object?>> { new("Reason", r.Reason), new("Points", (long)r.Points) };
            }

            if (depth >= MaxDepth)
            {
                return value.ToString();
            }

            if (value is IDictionary dictionary)
            {
                var map = new List<KeyValuePair<string, object?>>();
                foreach (DictionaryEntry entry in dictionary)
                {
                    map.Add(new KeyValuePair<string, object?>(Convert.ToString(entry.Key, CultureInfo.InvariantCulture) ?? string.Empty, Plain(entry.Value, depth + 1)));
                }

                return map;
            }

            if (value is IEnumerable sequence)
            {
                var list = new List<object?>();
                foreach (var item in sequence)
                {
                    list.Add(Plain(item, depth + 1));
                }

                return list;
            }

            var type = value.GetType();
            if (type.Namespace is { } ns && (ns == "System" || ns.StartsWith("System.", StringComparison.Ordinal)))
            {
                // IPAddress, Version, Uri …: their text is what a reader wants, not their internals.
                return value.ToString();
            }

            var fields = new List<KeyValuePair<string, object?>>();
            foreach (var property in PublicProperties(type))
            {
                fields.Add(new KeyValuePair<string, object?>(property.Name, Plain(property.GetValue(value), depth + 1)));
            }

            return fields;
        }

        public static string IsoUtc(DateTime time)
        {
            var utc = time.Kind == DateTimeKind.Local ? time.ToUniversalTime() : DateTime.SpecifyKind(time, DateTimeKind.Utc);
            return utc.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", CultureInfo.InvariantCulture);
        }

        private static string Hex(byte[] bytes)
        {
            var chars = new char[bytes.Length * 2];
            const string digits = "0123456789abcdef";
            for (int i = 0; i < bytes.Length; i++)
            {
                chars[2 * i] = digits[bytes[i] >> 4];
                chars[(2 * i) + 1] = digits[bytes[i] & 0xF];
            }

            return new string(chars);
        }

        private static IEnumerable<PropertyInfo> PublicProperties(Type type)
        {
            // Most derived first, then each base type's own, so a record reads like the type's declaration.
            var chain = new List<Type>();
            for (var t = type; t is not null && t != typeof(object); t = t.BaseType)
            {
                chain.Add(t);
            }

            foreach (var t in chain)
            {
                foreach (var property in t.GetProperties(BindingFlags.Public | BindingFlags.Instance | BindingFlags.DeclaredOnly))
                {
                    if (property.GetIndexParameters().Length == 0 && property.GetGetMethod() is not null)
                    {
                        yield return property;
                    }
                }
            }
        }
    }
}
