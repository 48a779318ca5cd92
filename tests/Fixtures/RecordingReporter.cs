using System.Collections.Generic;
using FluxForensics.Model;

namespace FluxForensics
{
    /// <summary>A reporter that keeps everything; for tests.</summary>
    public sealed class RecordingReporter : IFluxReporter
    {
        private readonly object _gate = new object();
        public List<string> Warnings { get; } = new List<string>();
        public List<ParseIssue> Issues { get; } = new List<ParseIssue>();
        public List<FluxError> Errors { get; } = new List<FluxError>();
        public void Progress(string activity, string status, double fraction) { }
        public void Warning(string message) { lock (_gate) Warnings.Add(message); }
        public void Verbose(string message) { }
        public void Issue(ParseIssue issue) { lock (_gate) Issues.Add(issue); }
        public void Error(FluxError error) { lock (_gate) Errors.Add(error); }
    }
}
