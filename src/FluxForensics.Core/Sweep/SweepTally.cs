using System;
using System.Collections.Generic;
using System.Diagnostics;
using FluxForensics.Model;

namespace FluxForensics.Sweep
{
    /// <summary>
    /// Counts what one computer's sweep returned, as it arrives, and turns it into a <see cref="FluxSweepResult"/>.
    /// </summary>
    public sealed class SweepTally
    {
        private readonly int[] _counts = new int[5];
        private readonly List<string> _errors = new List<string>();
        private readonly Stopwatch _clock = Stopwatch.StartNew();
        private readonly DateTime _startedAt = DateTime.UtcNow;
        private Severity? _max;

        public SweepTally(string computerName, string transport)
        {
            ComputerName = computerName;
            Transport = transport;
        }

        public string ComputerName { get; set; }

        public string Transport { get; }

        public SweepStatus Status { get; set; } = SweepStatus.Completed;

        public int FindingCount { get; private set; }

        public IReadOnlyList<string> Errors => _errors;

        public void AddFinding(Severity severity)
        {
            int i = (int)severity;
            if (i < 0 || i >= _counts.Length)
            {
                i = 0;
            }

            _counts[i]++;
            FindingCount++;
            if (_max is null || severity > _max.Value)
            {
                _max = severity;
            }
        }

        public void AddError(string error) => _errors.Add(error);

        /// <summary>The result as of now (the clock stops here).</summary>
        public FluxSweepResult ToResult() => new FluxSweepResult(ComputerName)
        {
            Status = Status,
            Duration = _clock.Elapsed,
            StartedAt = _startedAt,
            Transport = Transport,
            FindingCount = FindingCount,
            InfoCount = _counts[(int)Severity.Info],
            LowCount = _counts[(int)Severity.Low],
            MediumCount = _counts[(int)Severity.Medium],
            HighCount = _counts[(int)Severity.High],
            CriticalCount = _counts[(int)Severity.Critical],
            MaxSeverity = _max,
            Errors = _errors.ToArray(),
        };
    }

    /// <summary>
    /// The exit code a scheduler sees: 0 nothing at or above the threshold, 1 something at or above it (this wins over
    /// errors: "infected" matters more than "could not look everywhere"), 2 errors only.
    /// </summary>
    public sealed class SweepOutcome
    {
        public const int Clean = 0;
        public const int FindingsAtOrAboveThreshold = 1;
        public const int ErrorsOnly = 2;

        private readonly Severity _failOn;
        private bool _hit;
        private bool _error;

        public SweepOutcome(Severity failOn)
        {
            _failOn = failOn;
        }

        public void AddFinding(Severity severity) => _hit |= severity >= _failOn;

        public void AddError() => _error = true;

        /// <summary>Takes in one computer's result: not Completed, or any error recorded, counts as a sweep error.</summary>
        public void AddResult(FluxSweepResult result)
        {
            if (result.Status != SweepStatus.Completed || result.Errors.Length > 0)
            {
                _error = true;
            }

            if (result.MaxSeverity is { } max && max >= _failOn)
            {
                _hit = true;
            }
        }

        public int ExitCode => _hit ? FindingsAtOrAboveThreshold : _error ? ErrorsOnly : Clean;
    }
}
