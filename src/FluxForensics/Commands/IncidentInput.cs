using System;
using System.Collections.Generic;
using System.Management.Automation;
using System.Threading;
using FluxForensics.Incident;
using FluxForensics.Model;

namespace FluxForensics.Commands
{
    /// <summary>
    /// What the exporting cmdlets take from the pipeline: one incident, or findings (live or deserialized) to join into
    /// one, as New-FluxIncident joins them.
    /// </summary>
    internal sealed class IncidentInput
    {
        private readonly List<FluxIncident> _incidents = new List<FluxIncident>();
        private readonly List<FluxFinding> _findings = new List<FluxFinding>();
        private readonly List<FluxQuarantineItem> _quarantine = new List<FluxQuarantineItem>();

        public bool IsEmpty => _incidents.Count == 0 && _findings.Count == 0 && _quarantine.Count == 0;

        /// <summary>
        /// Keeps what <paramref name="input"/> is; false with the reason when it is no FluxForensics object.
        /// <paramref name="problems"/> names what of a deserialized object could not be read back, or why an object was
        /// left out.
        /// </summary>
        public bool Take(PSObject input, out string? error, out string? problems)
        {
            problems = null;
            if (!FindingInput.TryConvert(input, out object? value, out error))
            {
                return false;
            }

            problems = error;
            error = null;
            switch (value)
            {
                case FluxIncident incident:
                    _incidents.Add(incident);
                    return true;
                case FluxFinding finding:
                    _findings.Add(finding);
                    return true;
                case FluxQuarantineItem item:
                    _quarantine.Add(item);
                    return true;
                default:
                    // A remediation record or a sweep result says what was done, not what was found.
                    problems = $"a {value?.GetType().Name ?? "null"} carries no evidence; left out";
                    return true;
            }
        }

        /// <summary>
        /// The one incident piped in, as it was built (with its -ComputerAddress joins and title); otherwise everything
        /// piped in (the findings of several incidents included) joined into one.
        /// </summary>
        public FluxIncident Incident(IncidentOptions options, CancellationToken cancellation)
        {
            if (_incidents.Count == 1 && _findings.Count == 0 && _quarantine.Count == 0)
            {
                return _incidents[0];
            }

            var builder = new IncidentBuilder(options);
            foreach (var incident in _incidents)
            {
                builder.Add(incident);
            }

            foreach (var finding in _findings)
            {
                builder.Add(finding);
            }

            foreach (var item in _quarantine)
            {
                builder.Add(item);
            }

            options.Reporter?.Verbose($"Joining {builder.Count} findings into one incident.");
            return builder.Build(cancellation);
        }
    }
}
