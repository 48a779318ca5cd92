using System;
using System.Collections;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Reflection;
using FluxForensics.Model;

namespace FluxForensics.Incident
{
    /// <summary>
    /// The properties of an object that crossed a process boundary: a deserialized PowerShell object (Import-Clixml,
    /// Invoke-Command) or a JSON object. Values are plain values (string, numbers, bool, DateTime …), nested bags, or
    /// sequences of either.
    /// </summary>
    public interface IPropertyBag
    {
        /// <summary>Type names the object carried, most derived first (may be empty, as for JSON).</summary>
        IEnumerable<string> TypeNames { get; }

        bool TryGetValue(string name, out object? value);
    }

    /// <summary>
    /// Turns a property bag back into the typed model object it was made from, so findings from Import-Clixml,
    /// remoting and JSON files are joined and exported exactly like live ones. Properties the bag lacks keep their
    /// defaults; a value that cannot be converted is left out and named in <see cref="Rehydrated.Problems"/>.
    /// </summary>
    public static class FindingRehydrator
    {
        private const int MaxDepth = 16;

        private static readonly Dictionary<string, Type> ModelTypes = typeof(FluxFinding).Assembly.GetTypes()
            .Where(t => t.IsClass && !t.IsAbstract && t.Namespace == typeof(FluxFinding).Namespace && t.IsPublic)
            .ToDictionary(t => t.Name, StringComparer.OrdinalIgnoreCase);

        private static readonly ConcurrentDictionary<Type, PropertyInfo[]> Settable = new ConcurrentDictionary<Type, PropertyInfo[]>();

        /// <summary>The model type a bag stands for: its Kind property, else its type names; null when it is none of ours.</summary>
        public static Type? ModelTypeOf(IPropertyBag bag)
        {
            if (bag.TryGetValue("Kind", out var kind) && kind is string k && ModelTypes.TryGetValue(k, out var byKind))
            {
                return byKind;
            }

            foreach (string name in bag.TypeNames)
            {
                int dot = name.LastIndexOf('.');
                string shortName = dot >= 0 ? name.Substring(dot + 1) : name;
                if (name.IndexOf("FluxForensics.Model.", StringComparison.Ordinal) >= 0 && ModelTypes.TryGetValue(shortName, out var byName))
                {
                    return byName;
                }
            }

            return null;
        }

        /// <summary>The model type of that name (FluxListener, FluxIncident …), or null.</summary>
        public static Type? ModelType(string name) => ModelTypes.TryGetValue(name, out var t) ? t : null;

        /// <summary>Rebuilds the model object the bag stands for; null (with a problem) when it is not one of ours.</summary>
        public static Rehydrated Rehydrate(IPropertyBag bag)
        {
            var problems = new List<string>();
            var type = ModelTypeOf(bag);
            if (type is null)
            {
                problems.Add("not a FluxForensics object (no Kind property or FluxForensics.Model type name)");
                return new Rehydrated(null, problems);
            }

            return new Rehydrated(Build(type, bag, problems, 0), problems);
        }

        private static object? Build(Type type, IPropertyBag bag, List<string> problems, int depth)
        {
            if (depth > MaxDepth)
            {
                problems.Add($"{type.Name}: nested deeper than {MaxDepth} levels, left out");
                return null;
            }

            if (type.IsAbstract || type == typeof(object))
            {
                var concrete = ModelTypeOf(bag);
                if (concrete is null || !type.IsAssignableFrom(concrete))
                {
                    problems.Add($"an element of type {type.Name} could not be identified");
                    return null;
                }

                type = concrete;
            }

            if (type == typeof(FindingReason))
            {
                string reason = bag.TryGetValue(nameof(FindingReason.Reason), out var r) ? Convert.ToString(r, CultureInfo.InvariantCulture) ?? string.Empty : string.Empty;
                int points = bag.TryGetValue(nameof(FindingReason.Points), out var p) && TryConvert(p, typeof(int), problems, depth, out var pi) ? (int)pi! : 0;
                return new FindingReason(reason, points);
            }

            if (type == typeof(ParseIssue))
            {
                string Text(string name) => bag.TryGetValue(name, out var v) ? Convert.ToString(v, CultureInfo.InvariantCulture) ?? string.Empty : string.Empty;
                long offset = bag.TryGetValue(nameof(ParseIssue.Offset), out var o) && TryConvert(o, typeof(long), problems, depth, out var ol) ? (long)ol! : -1;
                string record = Text(nameof(ParseIssue.Record));
                return new ParseIssue(Text(nameof(ParseIssue.Source)), offset, Text(nameof(ParseIssue.Message)), record.Length == 0 ? null : record);
            }

            var ctor = type.GetConstructor(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic, null, Type.EmptyTypes, null);
            if (ctor is null)
            {
                problems.Add($"{type.Name} cannot be rebuilt");
                return null;
            }

            object instance = ctor.Invoke(null);
            foreach (var property in Settable.GetOrAdd(type, SettableProperties))
            {
                if (!bag.TryGetValue(property.Name, out var value))
                {
                    continue;
                }

                if (value is null)
                {
                    if (!property.PropertyType.IsValueType || Nullable.GetUnderlyingType(property.PropertyType) is not null)
                    {
                        property.SetValue(instance, null);
                    }

                    continue;
                }

                if (TryConvert(value, property.PropertyType, problems, depth, out var converted))
                {
                    property.SetValue(instance, converted);
                }
                else
                {
                    problems.Add($"{type.Name}.{property.Name}: '{Describe(value)}' is not a {Describe(property.PropertyType)}");
                }
            }

            return instance;
        }

        private static PropertyInfo[] SettableProperties(Type type) => type
            .GetProperties(BindingFlags.Instance | BindingFlags.Public)
            .Where(p => p.GetSetMethod(nonPublic: true) is not null && p.GetIndexParameters().Length == 0)
            .ToArray();

        private static bool TryConvert(object? value, Type target, List<string> problems, int depth, out object? result)
        {
            result = null;
            if (value is null)
            {
                return !target.IsValueType || Nullable.GetUnderlyingType(target) is not null;
            }

            var underlying = Nullable.GetUnderlyingType(target);
            if (underlying is not null)
            {
                target = underlying;
            }

            if (target.IsInstanceOfType(value) && value is not IPropertyBag)
            {
                result = value;
                return true;
            }

            var invariant = CultureInfo.InvariantCulture;
            try
            {
                if (target == typeof(string))
                {
                    result = value is DateTime dt ? dt.ToUniversalTime().ToString("o", invariant) : Convert.ToString(value, invariant);
                    return true;
                }

                if (target.IsEnum)
                {
                    return TryEnum(value, target, out result);
                }

                if (target == typeof(DateTime))
                {
                    return TryDateTime(value, out result);
                }

                if (target == typeof(TimeSpan))
                {
                    if (value is string ts && TimeSpan.TryParse(ts, invariant, out var span))
                    {
                        result = span;
                        return true;
                    }

                    if (value is IPropertyBag spanBag && spanBag.TryGetValue("Ticks", out var ticks) && TryConvert(ticks, typeof(long), problems, depth, out var t))
                    {
                        result = TimeSpan.FromTicks((long)t!);
                        return true;
                    }

                    return false;
                }

                if (target.IsArray)
                {
                    var elementType = target.GetElementType()!;
                    var items = new List<object?>();
                    if (value is string || value is IPropertyBag)
                    {
                        if (!TryConvert(value, elementType, problems, depth + 1, out var single))
                        {
                            return false;
                        }

                        items.Add(single);
                    }
                    else if (value is IEnumerable sequence)
                    {
                        foreach (var item in sequence)
                        {
                            if (TryConvert(item, elementType, problems, depth + 1, out var element))
                            {
                                items.Add(element);
                            }
                            else
                            {
                                problems.Add($"an element '{Describe(item)}' is not a {Describe(elementType)}, left out");
                            }
                        }
                    }
                    else
                    {
                        return false;
                    }

                    var array = Array.CreateInstance(elementType, items.Count);
                    for (int i = 0; i < items.Count; i++)
                    {
                        array.SetValue(items[i], i);
                    }

                    result = array;
                    return true;
                }

                if (value is IPropertyBag nested)
                {
                    if (target.IsPrimitive || target == typeof(decimal))
                    {
                        return false;
                    }

                    result = Build(target, nested, problems, depth + 1);
                    return result is not null;
                }

                if (target == typeof(FindingReason) && value is string text)
                {
                    // ConvertTo-Json's default depth writes a reason as its text, "reason (+10)".
                    result = ParseReason(text);
                    return true;
                }

                if (target == typeof(bool) && value is string b)
                {
                    if (bool.TryParse(b, out var parsed))
                    {
                        result = parsed;
                        return true;
                    }

                    return false;
                }

                if (target.IsPrimitive || target == typeof(decimal))
                {
                    result = Convert.ChangeType(value, target, invariant);
                    return true;
                }
            }
            catch (Exception e) when (e is FormatException || e is InvalidCastException || e is OverflowException || e is ArgumentException)
            {
                return false;
            }

            return false;
        }

        private static bool TryEnum(object value, Type target, out object? result)
        {
            result = null;
            if (value is string name)
            {
                try
                {
                    result = Enum.Parse(target, name.Trim(), ignoreCase: true);
                    return Enum.IsDefined(target, result) || name.IndexOf(',') >= 0;
                }
                catch (ArgumentException)
                {
                    return false;
                }
            }

            if (value is IConvertible)
            {
                try
                {
                    object number = Convert.ChangeType(value, Enum.GetUnderlyingType(target), CultureInfo.InvariantCulture);
                    result = Enum.ToObject(target, number);
                    return Enum.IsDefined(target, result);
                }
                catch (Exception e) when (e is FormatException || e is InvalidCastException || e is OverflowException)
                {
                    return false;
                }
            }

            return false;
        }

        private static bool TryDateTime(object value, out object? result)
        {
            result = null;
            switch (value)
            {
                case DateTime dt:
                    result = dt.Kind == DateTimeKind.Unspecified ? DateTime.SpecifyKind(dt, DateTimeKind.Utc) : dt.ToUniversalTime();
                    return true;
                case DateTimeOffset dto:
                    result = dto.UtcDateTime;
                    return true;
                case string s:
                    // Windows PowerShell 5.1's ConvertTo-Json writes "\/Date(1337000000000)\/".
                    if (s.StartsWith("/Date(", StringComparison.Ordinal) || s.StartsWith("\\/Date(", StringComparison.Ordinal))
                    {
                        int open = s.IndexOf('(') + 1;
                        int end = open;
                        while (end < s.Length && (char.IsDigit(s[end]) || (end == open && s[end] == '-')))
                        {
                            end++;
                        }

                        if (long.TryParse(s.Substring(open, end - open), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long ms))
                        {
                            result = new DateTime(1970, 1, 1, 0, 0, 0, DateTimeKind.Utc).AddMilliseconds(ms);
                            return true;
                        }

                        return false;
                    }

                    if (DateTime.TryParse(s, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var parsed))
                    {
                        result = DateTime.SpecifyKind(parsed, DateTimeKind.Utc);
                        return true;
                    }

                    return false;
                default:
                    return false;
            }
        }

        private static FindingReason ParseReason(string text)
        {
            int open = text.LastIndexOf(" (", StringComparison.Ordinal);
            if (open > 0 && text.EndsWith(")", StringComparison.Ordinal) &&
                int.TryParse(text.Substring(open + 2, text.Length - open - 3), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int points))
            {
                return new FindingReason(text.Substring(0, open), points);
            }

            return new FindingReason(text, 0);
        }

        private static string Describe(object? value)
        {
            string text = value is IPropertyBag ? "an object" : Convert.ToString(value, CultureInfo.InvariantCulture) ?? "null";
            return text.Length > 60 ? text.Substring(0, 57) + "..." : text;
        }

        private static string Describe(Type type) => (Nullable.GetUnderlyingType(type) ?? type).Name;
    }

    /// <summary>A rebuilt object and what could not be carried over.</summary>
    public sealed class Rehydrated
    {
        public Rehydrated(object? value, IReadOnlyList<string> problems)
        {
            Value = value;
            Problems = problems;
        }

        public object? Value { get; }
        public IReadOnlyList<string> Problems { get; }
    }
}
