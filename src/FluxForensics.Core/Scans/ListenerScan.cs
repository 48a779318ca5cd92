using System;
using System.Collections.Generic;
using System.Threading;
using FluxForensics.Detection;
using FluxForensics.Host;
using FluxForensics.Model;

namespace FluxForensics.Scans
{
    /// <summary>What a listener scan is asked to do.</summary>
    public sealed class ListenerScanOptions
    {
        /// <summary>Process names (with or without .exe), service names or image paths that are expected to listen; * and ? match.</summary>
        public IReadOnlyList<string> ExpectedListeners { get; set; } = Array.Empty<string>();

        /// <summary>Also report processes with heavy outbound fan-out that listen on nothing.</summary>
        public bool IncludeOutbound { get; set; }

        public int MinimumRiskScore { get; set; }

        /// <summary>The socket table source; the reader of this platform when null.</summary>
        public ISocketReader? Sockets { get; set; }

        /// <summary>The process source; the reader of this platform when null.</summary>
        public IProcessReader? Processes { get; set; }
    }

    /// <summary>What a listener scan found, and what it could not see.</summary>
    public sealed class ListenerScanResult
    {
        internal ListenerScanResult(IReadOnlyList<FluxListener> findings, IReadOnlyList<string> blindSpots, bool noSocketTableRead)
        {
            Findings = findings;
            BlindSpots = blindSpots;
            NoSocketTableRead = noSocketTableRead;
        }

        public IReadOnlyList<FluxListener> Findings { get; }

        /// <summary>Why the picture is incomplete, in words (tables or owners that could not be read).</summary>
        public IReadOnlyList<string> BlindSpots { get; }

        /// <summary>No socket table could be read at all: nothing was examined.</summary>
        public bool NoSocketTableRead { get; }
    }

    /// <summary>
    /// The listener feature from source to findings: read the socket tables, let the rules choose the owners worth reading,
    /// read them, judge. Parse issues of the tables go to the reporter as they are found.
    /// </summary>
    public static class ListenerScan
    {
        public static ListenerScanResult Run(ListenerScanOptions options, IFluxReporter reporter, CancellationToken cancellationToken)
        {
            reporter.Progress(SocketOwnerScanner.ProgressActivity, "Reading socket tables", 0);
            var snapshot = (options.Sockets ?? SocketReader.ForThisPlatform()).Read(cancellationToken);
            var pids = ListenerRules.OwnersToExamine(snapshot, options.IncludeOutbound);
            var owners = SocketOwnerScanner.ExamineOwners(pids, options.Processes ?? ProcessReader.ForThisPlatform(), reporter, cancellationToken);
            foreach (var issue in snapshot.Issues)
            {
                reporter.Issue(issue);
            }

            var findings = ListenerRules.Evaluate(new ListenerFacts(snapshot, owners), new ListenerRuleOptions
            {
                ExpectedListeners = options.ExpectedListeners,
                IncludeOutbound = options.IncludeOutbound,
                MinimumRiskScore = options.MinimumRiskScore,
            });
            return new ListenerScanResult(findings, snapshot.BlindSpots.ToArray(), snapshot.Sockets.Count == 0 && snapshot.BlindSpots.Count > 0);
        }
    }
}
