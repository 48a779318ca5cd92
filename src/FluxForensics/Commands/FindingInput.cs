using System;
using System.Collections;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using FluxForensics.Incident;
using FluxForensics.Model;

namespace FluxForensics.Commands
{
    /// <summary>
    /// Turns what arrives on the pipeline back into FluxForensics model objects: live findings pass through; findings and
    /// incidents deserialized by Import-Clixml or Invoke-Command (type names <c>Deserialized.FluxForensics.Model.*</c>)
    /// and objects from ConvertFrom-Json (with a Kind) are rebuilt by <see cref="FindingRehydrator"/>.
    /// </summary>
    internal static class FindingInput
    {
        /// <summary>The model object <paramref name="input"/> stands for; false with a reason when it is none.</summary>
        public static bool TryConvert(PSObject? input, out object? value, out string? error)
        {
            value = null;
            error = null;
            if (input is null)
            {
                error = "null";
                return false;
            }

            object baseObject = input.BaseObject;
            if (baseObject is FluxFinding || baseObject is FluxQuarantineItem || baseObject is FluxRemediation)
            {
                value = baseObject;
                return true;
            }

            if (!(baseObject is PSCustomObject))
            {
                error = $"a {baseObject.GetType().Name} is not a FluxForensics finding";
                return false;
            }

            var rebuilt = FindingRehydrator.Rehydrate(new PSObjectBag(input));
            value = rebuilt.Value;
            if (value is null)
            {
                error = string.Join("; ", rebuilt.Problems);
                return false;
            }

            if (rebuilt.Problems.Count > 0)
            {
                error = string.Join("; ", rebuilt.Problems.Take(5)) + (rebuilt.Problems.Count > 5 ? $" (+{rebuilt.Problems.Count - 5} more)" : string.Empty);
            }

            return true;
        }

        /// <summary>A PSObject's properties as Core reads them: nested objects as bags, collections as lists.</summary>
        private sealed class PSObjectBag : IPropertyBag
        {
            private readonly PSObject _object;

            public PSObjectBag(PSObject o) => _object = o;

            public IEnumerable<string> TypeNames => _object.TypeNames;

            public bool TryGetValue(string name, out object? value)
            {
                var property = _object.Properties[name];
                if (property is null)
                {
                    value = null;
                    return false;
                }

                value = Plain(property.Value);
                return true;
            }

            private static object? Plain(object? value)
            {
                switch (value)
                {
                    case null:
                        return null;
                    case PSObject p when p.BaseObject is PSCustomObject:
                        return new PSObjectBag(p);
                    case PSObject p:
                        return Plain(p.BaseObject);
                    case string _:
                        return value;
                    case IDictionary _:
                        return value;
                    case IEnumerable sequence:
                        return sequence.Cast<object?>().Select(Plain).ToList();
                    default:
                        return value;
                }
            }
        }
    }
}
