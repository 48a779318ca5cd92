using System;
using System.Collections;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Reflection;
using System.Security.Cryptography;
using System.Threading;

namespace FluxForensics.Incident
{
    /// <summary>
    /// How the indicator collector sees an object: live .NET objects through reflection, PowerShell's deserialized
    /// objects (Import-Clixml, remoting) through their property bags, which the cmdlet supplies.
    /// </summary>
    public interface IReputationObjectView
    {
        /// <summary>The object to walk: an adapter unwraps wrappers around live objects and collections.</summary>
        object Unwrap(object value);

        /// <summary>The object's readable properties by name, or null when it is not an object worth walking.</summary>
        IEnumerable<KeyValuePair<string, object?>>? Properties(object value);
    }

    /// <summary>Reflection over FluxForensics' own types, dictionaries by key: what a live finding looks like.</summary>
    public class ReflectionObjectView : IReputationObjectView
    {
        public static readonly ReflectionObjectView Instance = new ReflectionObjectView();

        public virtual object Unwrap(object value) => value;

        public virtual IEnumerable<KeyValuePair<string, object?>>? Properties(object value)
        {
            if (value is IDictionary dictionary)
            {
                return DictionaryEntries(dictionary);
            }

            var type = value.GetType();
            // Only our own types are walked: a framework type (an IPAddress, a Process) carries no finding's hash, and
            // some of their getters throw.
            return type.Namespace is string ns && ns.StartsWith("FluxForensics", StringComparison.Ordinal) ? Reflect(value, type) : null;
        }

        private static IEnumerable<KeyValuePair<string, object?>> DictionaryEntries(IDictionary dictionary)
        {
            foreach (DictionaryEntry entry in dictionary)
            {
                if (entry.Key is string key)
                {
                    yield return new KeyValuePair<string, object?>(key, entry.Value);
                }
            }
        }

        private static IEnumerable<KeyValuePair<string, object?>> Reflect(object value, Type type)
        {
            foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance))
            {
                if (property.GetIndexParameters().Length != 0 || property.GetMethod is null)
                {
                    continue;
                }

                object? v;
                try
                {
                    v = property.GetValue(value);
                }
                catch (TargetInvocationException)
                {
                    // A getter that throws has no value to offer as an indicator; the finding's other properties still count.
                    continue;
                }

                yield return new KeyValuePair<string, object?>(property.Name, v);
            }
        }
    }

    /// <summary>
    /// Finds every hash a finding carries by property name (Sha256, PayloadSha256, Md5, and nested ones such as an
    /// incident's malware files), the domain of a FluxDomain finding, and normalises what users type.
    /// </summary>
    public sealed class ReputationIndicators
    {
        private const int MaxDepth = 5;
        private readonly IReputationObjectView _view;
        private readonly List<ReputationQuery> _queries = new List<ReputationQuery>();
        private readonly Dictionary<ReputationQuery, ReputationQuery> _seen = new Dictionary<ReputationQuery, ReputationQuery>();

        public ReputationIndicators(IReputationObjectView? view = null)
        {
            _view = view ?? ReflectionObjectView.Instance;
        }

        /// <summary>Distinct queries in the order first seen; an MD5 already known as the alias of a SHA-256 is dropped.</summary>
        public IReadOnlyList<ReputationQuery> Queries
        {
            get
            {
                var aliases = new HashSet<string>(StringComparer.Ordinal);
                foreach (var q in _queries)
                {
                    if (q.Md5 is not null)
                    {
                        aliases.Add(q.Md5);
                    }
                }

                var result = new List<ReputationQuery>(_queries.Count);
                foreach (var q in _queries)
                {
                    if (q.Kind != ReputationIndicatorKind.Md5 || !aliases.Contains(q.Value))
                    {
                        result.Add(q);
                    }
                }

                return result;
            }
        }

        /// <summary>Adds a SHA-256 as typed; false when it is not 64 hex digits.</summary>
        public bool AddSha256(string text)
        {
            string? hash = Hex.Normalize(text, 64);
            if (hash is null)
            {
                return false;
            }

            Add(new ReputationQuery(ReputationIndicatorKind.Sha256, hash));
            return true;
        }

        /// <summary>Adds a domain name as typed (case, trailing dot, IDN are normalised); false when it is not a name.</summary>
        public bool AddDomain(string text)
        {
            string? name = IndicatorText.Domain(text);
            if (name is null)
            {
                return false;
            }

            Add(new ReputationQuery(ReputationIndicatorKind.Domain, name));
            return true;
        }

        /// <summary>A hash as a string (64 hex: SHA-256, 32 hex: MD5); false for anything else.</summary>
        public bool AddHashText(string text)
        {
            if (Hex.Normalize(text, 64) is string sha)
            {
                Add(new ReputationQuery(ReputationIndicatorKind.Sha256, sha));
                return true;
            }

            if (Hex.Normalize(text, 32) is string md5)
            {
                Add(new ReputationQuery(ReputationIndicatorKind.Md5, md5));
                return true;
            }

            return false;
        }

        /// <summary>Hashes a file and adds its SHA-256 (and MD5, so MD5-keyed hash lists match too).</summary>
        public ReputationQuery AddFile(string path, CancellationToken cancellation)
        {
            var (sha256, md5) = HashFile(path, cancellation);
            var query = new ReputationQuery(ReputationIndicatorKind.Sha256, sha256, md5);
            return Add(query);
        }

        /// <summary>
        /// Adds every hash the object carries by property name, at any depth up to a few levels (an incident's malware
        /// files, a correlation's indicator); the number of indicators added.
        /// </summary>
        public int AddObject(object? value)
        {
            int before = _queries.Count;
            Walk(value, 0);
            return _queries.Count - before;
        }

        private void Walk(object? value, int depth)
        {
            if (value is null || depth > MaxDepth)
            {
                return;
            }

            value = _view.Unwrap(value);
            if (value is string || value is ValueType || value is Type)
            {
                return;
            }

            if (value is IEnumerable sequence && value is not IDictionary)
            {
                foreach (var item in sequence)
                {
                    Walk(item, depth);
                }

                return;
            }

            var properties = _view.Properties(value);
            if (properties is null)
            {
                return;
            }

            var nested = new List<object>();
            var sha256 = new List<string>(2);
            var md5 = new List<string>(1);
            string? kind = null;
            string? domain = null;
            string? indicator = null;
            string? indicatorType = null;
            foreach (var pair in properties)
            {
                object? v = pair.Value is null ? null : _view.Unwrap(pair.Value);
                string name = pair.Key;
                if (v is string s)
                {
                    if (EndsWith(name, "Sha256") && Hex.Normalize(s, 64) is string h)
                    {
                        sha256.Add(h);
                    }
                    else if (EndsWith(name, "Md5") && Hex.Normalize(s, 32) is string m)
                    {
                        md5.Add(m);
                    }
                    else if (Is(name, "Kind"))
                    {
                        kind = s;
                    }
                    else if (Is(name, "Domain"))
                    {
                        domain = s;
                    }
                    else if (Is(name, "Indicator"))
                    {
                        indicator = s;
                    }
                    else if (Is(name, "IndicatorType"))
                    {
                        indicatorType = s;   // deserialized enums arrive as their names
                    }
                }
                else if (pair.Value is not null && Is(name, "IndicatorType"))
                {
                    // The wrapper's text: a deserialized enum unwraps to its number but prints its name.
                    indicatorType = pair.Value.ToString();
                }
                else if (v is not null && v is not ValueType)
                {
                    nested.Add(v);
                }
            }

            // A finding with one SHA-256 and an MD5 names one file: the MD5 rides along for MD5-keyed hash lists.
            string? pairedMd5 = sha256.Count == 1 && md5.Count == 1 ? md5[0] : null;
            foreach (var h in sha256)
            {
                Add(new ReputationQuery(ReputationIndicatorKind.Sha256, h, pairedMd5));
            }

            if (pairedMd5 is null)
            {
                foreach (var m in md5)
                {
                    Add(new ReputationQuery(ReputationIndicatorKind.Md5, m));
                }
            }

            if (domain is not null && string.Equals(kind, "FluxDomain", StringComparison.Ordinal) && IndicatorText.Domain(domain) is string d)
            {
                Add(new ReputationQuery(ReputationIndicatorKind.Domain, d));
            }

            if (indicator is not null && indicatorType is not null)
            {
                if (indicatorType == "Sha256" && Hex.Normalize(indicator, 64) is string ih)
                {
                    Add(new ReputationQuery(ReputationIndicatorKind.Sha256, ih));
                }
                else if (indicatorType == "Domain" && IndicatorText.Domain(indicator) is string id)
                {
                    Add(new ReputationQuery(ReputationIndicatorKind.Domain, id));
                }
            }

            foreach (var n in nested)
            {
                Walk(n, depth + 1);
            }
        }

        private ReputationQuery Add(ReputationQuery query)
        {
            if (_seen.TryGetValue(query, out var existing))
            {
                existing.Md5 ??= query.Md5;
                return existing;
            }

            _seen.Add(query, query);
            _queries.Add(query);
            return query;
        }

        private static bool EndsWith(string name, string suffix) => name.EndsWith(suffix, StringComparison.OrdinalIgnoreCase);

        private static bool Is(string name, string expected) => string.Equals(name, expected, StringComparison.OrdinalIgnoreCase);

        /// <summary>SHA-256 and MD5 of a file in one read, as lowercase hex.</summary>
        public static (string Sha256, string Md5) HashFile(string path, CancellationToken cancellation)
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1 << 16, FileOptions.SequentialScan);
            using var sha = SHA256.Create();
            using var md5 = MD5.Create();
            var buffer = new byte[1 << 16];
            int read;
            while ((read = stream.Read(buffer, 0, buffer.Length)) > 0)
            {
                cancellation.ThrowIfCancellationRequested();
                sha.TransformBlock(buffer, 0, read, null, 0);
                md5.TransformBlock(buffer, 0, read, null, 0);
            }

            sha.TransformFinalBlock(buffer, 0, 0);
            md5.TransformFinalBlock(buffer, 0, 0);
            return (Hex.Lower(sha.Hash!), Hex.Lower(md5.Hash!));
        }
    }
}
