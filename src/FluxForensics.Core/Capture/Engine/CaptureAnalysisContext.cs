using System;
using System.Collections.Generic;
using FluxForensics.Model;

namespace FluxForensics.Capture
{
    /// <summary>What the correlators of one capture analysis share: the options, the reporter, the source and the parse issues.</summary>
    public sealed class CaptureAnalysisContext
    {
        private readonly List<ParseIssue> _issues = new List<ParseIssue>();

        public CaptureAnalysisContext(CaptureAnalysisOptions options, IFluxReporter reporter, string source)
        {
            Options = options ?? throw new ArgumentNullException(nameof(options));
            Reporter = reporter ?? NullReporter.Instance;
            Source = source;
        }

        public CaptureAnalysisOptions Options { get; }
        public IFluxReporter Reporter { get; }

        /// <summary>The capture path(s) findings name as their Source.</summary>
        public string Source { get; }

        public IReadOnlyList<ParseIssue> Issues => _issues;

        /// <summary>Caps the list so a hostile capture cannot fill memory with issues; the count keeps going.</summary>
        public long IssueCount { get; private set; }

        public const int MaxKeptIssues = 1000;

        public void AddIssue(ParseIssue issue)
        {
            IssueCount++;
            if (_issues.Count < MaxKeptIssues)
            {
                _issues.Add(issue);
                Reporter.Issue(issue);
            }
        }
    }
}
