using System;
using System.Collections;
using System.Collections.Generic;
using System.Management.Automation;
using FluxForensics.Export;
using FluxForensics.Model;

namespace FluxForensics.Commands.Sweep
{
    /// <summary>
    /// Reads findings as they come back over remoting (Deserialized.FluxForensics.Model.* property bags) into the same
    /// <see cref="FindingRecord"/> a live finding makes, so the JSON Lines file, syslog and the event log see one shape.
    /// </summary>
    internal static class DeserializedFinding
    {
        /// <summary>Properties remoting adds to every object; not part of the finding.</summary>
        private static readonly HashSet<string> RemotingProperties = new HashSet<string>(StringComparer.OrdinalIgnoreCase)
        {
            "PSComputerName", "RunspaceId", "PSShowComputerName", "PSSourceJobInstanceId",
        };

        public static bool IsFinding(PSObject item)
        {
            if (item.BaseObject is FluxFinding)
            {
                return true;
            }

            foreach (var name in item.TypeNames)
            {
                if (name.StartsWith("Deserialized.FluxForensics.Model.", StringComparison.Ordinal) && item.Properties["RiskScore"] is not null && item.Properties["Kind"] is not null)
                {
                    return true;
                }
            }

            return false;
        }

        public static bool IsType(PSObject item, string fullName)
        {
            foreach (var name in item.TypeNames)
            {
                if (name == fullName || name == "Deserialized." + fullName)
                {
                    return true;
                }
            }

            return false;
        }

        public static FindingRecord ToRecord(PSObject item)
        {
            if (item.BaseObject is FluxFinding live)
            {
                return FindingRecord.From(live);
            }

            var properties = new List<KeyValuePair<string, object?>>();
            foreach (var property in item.Properties)
            {
                if (RemotingProperties.Contains(property.Name) || Array.IndexOf(FindingRecord.CommonProperties, property.Name) >= 0)
                {
                    continue;
                }

                object? value;
                try
                {
                    value = property.Value;
                }
                catch (GetValueException)
                {
                    continue;
                }

                properties.Add(new KeyValuePair<string, object?>(property.Name, Plain(value, 0)));
            }

            return new FindingRecord(
                Text(item, "Kind") ?? item.TypeNames[0],
                Text(item, "ComputerName") ?? Text(item, "PSComputerName") ?? string.Empty,
                SeverityOf(Value(item, "Severity")),
                ToInt(Value(item, "RiskScore")),
                Text(item, "Source") ?? string.Empty,
                Value(item, "ObservedAt") is DateTime t ? t : DateTime.UtcNow,
                Reasons(Value(item, "Reasons")),
                properties);
        }

        public static Severity SeverityOf(object? value)
        {
            value = Unwrap(value, out var wrapper);
            string? name = wrapper?.ToString() ?? value?.ToString();
            if (name is not null && Enum.TryParse(name, ignoreCase: true, out Severity parsed) && Enum.IsDefined(typeof(Severity), parsed))
            {
                return parsed;
            }

            int number = ToInt(value);
            return number >= 0 && number <= (int)Severity.Critical ? (Severity)number : Severity.Info;
        }

        public static object? Value(PSObject item, string name)
        {
            try
            {
                return item.Properties[name]?.Value;
            }
            catch (GetValueException)
            {
                return null;
            }
        }

        public static string? Text(PSObject item, string name) => Unwrap(Value(item, name), out _)?.ToString();

        public static int ToInt(object? value)
        {
            value = Unwrap(value, out _);
            try
            {
                return value is null ? 0 : LanguagePrimitives.ConvertTo<int>(value);
            }
            catch (PSInvalidCastException)
            {
                return 0;
            }
        }

        public static IEnumerable<string> Strings(object? value)
        {
            value = Unwrap(value, out _);
            if (value is null)
            {
                yield break;
            }

            if (value is string single)
            {
                yield return single;
                yield break;
            }

            if (value is IEnumerable sequence)
            {
                foreach (var item in sequence)
                {
                    var text = Unwrap(item, out _)?.ToString();
                    if (text is not null)
                    {
                        yield return text;
                    }
                }
            }
        }

        private static FindingReason[] Reasons(object? value)
        {
            var reasons = new List<FindingReason>();
            value = Unwrap(value, out _);
            if (value is IEnumerable sequence && value is not string)
            {
                foreach (var item in sequence)
                {
                    if (item is FindingReason live)
                    {
                        reasons.Add(live);
                    }
                    else if (item is PSObject bag)
                    {
                        if (bag.BaseObject is FindingReason wrapped)
                        {
                            reasons.Add(wrapped);
                        }
                        else
                        {
                            reasons.Add(new FindingReason(Text(bag, "Reason") ?? bag.ToString(), ToInt(Value(bag, "Points"))));
                        }
                    }
                    else if (item is not null)
                    {
                        reasons.Add(new FindingReason(item.ToString() ?? string.Empty, 0));
                    }
                }
            }

            return reasons.ToArray();
        }

        /// <summary>A deserialized value as FindingRecord keeps values: enums by name, property bags as name/value lists.</summary>
        private static object? Plain(object? value, int depth)
        {
            object? inner = Unwrap(value, out var wrapper);
            if (wrapper is not null && inner is not null && IsEnum(wrapper))
            {
                // A deserialized enum is its number with the name as its text.
                return wrapper.ToString();
            }

            if (inner is PSCustomObject || (wrapper is not null && inner is PSObject))
            {
                if (depth >= 4)
                {
                    return wrapper!.ToString();
                }

                var map = new List<KeyValuePair<string, object?>>();
                foreach (var property in wrapper!.Properties)
                {
                    object? v;
                    try
                    {
                        v = property.Value;
                    }
                    catch (GetValueException)
                    {
                        continue;
                    }

                    map.Add(new KeyValuePair<string, object?>(property.Name, Plain(v, depth + 1)));
                }

                return map;
            }

            if (inner is IDictionary dictionary)
            {
                var map = new List<KeyValuePair<string, object?>>();
                foreach (DictionaryEntry entry in dictionary)
                {
                    map.Add(new KeyValuePair<string, object?>(entry.Key?.ToString() ?? string.Empty, Plain(entry.Value, depth + 1)));
                }

                return map;
            }

            if (inner is IEnumerable sequence && inner is not string && inner is not byte[])
            {
                var list = new List<object?>();
                foreach (var item in sequence)
                {
                    list.Add(Plain(item, depth + 1));
                }

                return list;
            }

            return FindingRecord.Plain(inner, depth);
        }

        private static bool IsEnum(PSObject wrapper)
        {
            foreach (var name in wrapper.TypeNames)
            {
                if (name == "Deserialized.System.Enum" || name == "System.Enum")
                {
                    return true;
                }
            }

            return false;
        }

        private static object? Unwrap(object? value, out PSObject? wrapper)
        {
            wrapper = value as PSObject;
            return wrapper is null ? value : wrapper.BaseObject;
        }
    }
}
