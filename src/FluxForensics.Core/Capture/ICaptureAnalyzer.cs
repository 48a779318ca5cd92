using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using FluxForensics.Model;

namespace FluxForensics.Capture
{
    /// <summary>
    /// One analysis over the packet stream (DNS flux, relay reconstruction …). Every non-abstract implementation in
    /// Core with a public constructor taking <see cref="CaptureAnalysisContext"/> is run by the capture analysis, so
    /// adding an analyser never edits a shared list.
    /// </summary>
    public interface ICaptureAnalyzer
    {
        /// <summary>Lower runs first at the end: the relay analyser (10) publishes relay hosts before DNS (20) scores.</summary>
        int Order { get; }

        /// <summary>Called for every decoded packet, in capture time order, on one thread. Must not allocate per packet.</summary>
        void OnPacket(in DecodedPacket packet);

        /// <summary>End of the capture (or Ctrl+C): turn what was seen into findings. May read what earlier analysers published in the context.</summary>
        IEnumerable<FluxFinding> Complete();
    }

    /// <summary>What analysers share during one capture analysis.</summary>
    public sealed class CaptureAnalysisContext
    {
        private readonly List<ParseIssue> _issues = new List<ParseIssue>();

        public CaptureAnalysisContext(CaptureAnalysisOptions options, IFluxReporter reporter, string source, CancellationToken cancellationToken = default)
        {
            Options = options ?? throw new ArgumentNullException(nameof(options));
            Reporter = reporter ?? NullReporter.Instance;
            Source = source;
            CancellationToken = cancellationToken;
        }

        public CaptureAnalysisOptions Options { get; }
        public IFluxReporter Reporter { get; }
        public CancellationToken CancellationToken { get; }

        /// <summary>The capture path(s) findings name as their Source.</summary>
        public string Source { get; }

        /// <summary>Hosts seen acting as a relay, published by the relay analyser for the DNS rules.</summary>
        public HashSet<NetAddress> RelayHosts { get; } = new HashSet<NetAddress>();

        /// <summary>Hosts seen answering DNS for others, published by the DNS analyser.</summary>
        public HashSet<NetAddress> DnsAnswerers { get; } = new HashSet<NetAddress>();

        /// <summary>Flows seen (TCP and UDP 5-tuples), maintained by whoever tracks flows.</summary>
        public long FlowCount { get; set; }

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

        /// <summary>Creates every analyser Core defines, in <see cref="ICaptureAnalyzer.Order"/>.</summary>
        public IReadOnlyList<ICaptureAnalyzer> CreateAnalyzers()
        {
            return typeof(ICaptureAnalyzer).Assembly.GetTypes()
                .Where(t => typeof(ICaptureAnalyzer).IsAssignableFrom(t) && !t.IsAbstract && !t.IsInterface)
                .Select(t => t.GetConstructor(new[] { typeof(CaptureAnalysisContext) }))
                .Where(c => c is not null)
                .Select(c => (ICaptureAnalyzer)c!.Invoke(new object[] { this }))
                .OrderBy(a => a.Order)
                .ToList();
        }
    }
}
