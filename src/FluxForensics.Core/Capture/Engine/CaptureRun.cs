using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using FluxForensics.Model;

namespace FluxForensics.Capture
{
    /// <summary>Reads packets with a handler, an issue sink, a reporter and a token; returns what was read.</summary>
    internal delegate CaptureReadResult CaptureSourceReader(
        PacketHandler onPacket, Action<ParseIssue> onIssue, IFluxReporter reporter, CancellationToken cancellationToken, CapturePosition position);

    /// <summary>
    /// One run of the capture pipeline: source → flow workers → correlators → findings. With one worker everything
    /// runs on the calling thread; with more, the source reads on a thread of its own, each worker on its own, and the
    /// correlators on the calling thread, which also receives the findings and the reporter's calls.
    /// </summary>
    internal sealed class CaptureRun
    {
        private readonly CaptureAnalysisOptions _options;
        private readonly IFluxReporter _reporter;
        private readonly string _source;
        private readonly Action<FluxFinding> _onFinding;
        private bool _emitFailed;

        public CaptureRun(CaptureAnalysisOptions options, IFluxReporter reporter, string source, Action<FluxFinding> onFinding)
        {
            _options = options;
            _reporter = reporter;
            _source = source;
            _onFinding = onFinding ?? throw new ArgumentNullException(nameof(onFinding));
        }

        public CaptureSummary Run(CaptureSourceReader read, CancellationToken cancellationToken)
        {
            var context = new CaptureAnalysisContext(_options, _reporter, _source);
            var geo = CaptureEngine.OpenGeo(_options, _reporter);
            var writer = CaptureEngine.OpenWriter(_options, _reporter);
            int workerCount = Math.Max(1, _options.Workers);
            var inline = workerCount == 1 ? new CaptureEngine(context, Emit, writer, geo) : null;
            var correlators = inline?.Input ?? new CorrelatorInput(context, new RelayCorrelator(context, Emit, writer, geo), new DnsCorrelator(context));

            CaptureReadResult? result = null;
            long flowCount = 0;
            long droppedDnsTcp = 0;
            try
            {
                try
                {
                    if (inline is not null)
                    {
                        try
                        {
                            var position = new CapturePosition();
                            void OnPacket(in DecodedPacket packet) => inline.OnPacket(in packet, position.File, position.Offset);
                            result = read(OnPacket, context.AddIssue, _reporter, cancellationToken, position);
                        }
                        finally
                        {
                            if (!_emitFailed)
                            {
                                inline.Worker.End();
                            }

                            flowCount = inline.Worker.FlowCount;
                            droppedDnsTcp = inline.Worker.Dns.DroppedTcpFlows;
                        }
                    }
                    else
                    {
                        using var workers = new ParallelFlowWorkers(workerCount, _options, _source, correlators, _reporter);
                        try
                        {
                            result = workers.Run(read, cancellationToken);
                        }
                        finally
                        {
                            flowCount = workers.FlowCount;
                            droppedDnsTcp = workers.DroppedDnsTcpFlows;
                        }
                    }
                }
                finally
                {
                    // Even when reading failed midway, judge what was seen (not when the caller stopped taking findings).
                    if (!_emitFailed)
                    {
                        foreach (var finding in correlators.Complete(droppedDnsTcp))
                        {
                            Emit(finding);
                        }

                        writer?.Complete();
                    }
                }
            }
            finally
            {
                geo?.Dispose();
            }

            bool completed = result!.Completed && !cancellationToken.IsCancellationRequested;
            var summary = new CaptureSummary
            {
                Files = result.Files.ToArray(),
                PacketCount = result.PacketCount,
                ByteCount = result.ByteCount,
                FirstPacketTime = result.First,
                LastPacketTime = result.Last,
                TimeSpan = result.First.HasValue && result.Last.HasValue ? result.Last.Value - result.First.Value : (TimeSpan?)null,
                FlowCount = flowCount,
                DnsMessageCount = correlators.Dns.MessageCount,
                PacketsPerSecond = Math.Round(result.PacketsPerSecond),
                Elapsed = result.Elapsed,
                Completed = completed,
                ParseIssues = context.Issues.ToArray(),
                ParseIssueCount = Math.Max(context.IssueCount, result.IssueCount),
                Source = _source,
            };
            var card = new ScoreCard();
            if (!completed)
            {
                card.Add("the analysis was stopped before the end of the capture: findings cover what was read", 0);
            }

            summary.SetScore(card);
            Emit(summary);
            return summary;
        }

        private void Emit(FluxFinding finding)
        {
            try
            {
                _onFinding(finding);
            }
            catch
            {
                // The caller stopped taking findings (a stopped pipeline): nothing more is judged or handed over.
                _emitFailed = true;
                throw;
            }
        }
    }

    /// <summary>Hands what workers found to the correlators (directly with one worker; after the ordered merge with more).</summary>
    internal sealed class CorrelatorInput : ICaptureTransactions
    {
        private readonly CaptureAnalysisContext _context;

        public CorrelatorInput(CaptureAnalysisContext context, RelayCorrelator relay, DnsCorrelator dns)
        {
            _context = context;
            Relay = relay;
            Dns = dns;
        }

        public RelayCorrelator Relay { get; }

        public DnsCorrelator Dns { get; }

        public void DnsMessage(ReadOnlySpan<byte> message, NetAddress source, NetAddress destination, long ticks, bool truncated, string? file, long offset) =>
            Dns.OnMessage(message, source, destination, ticks, truncated, file, offset);

        public void Conversation(RelayConversation conversation) => Relay.Add(conversation);

        public void LateFile(RelayConversation control, RelayCarvedFile file) => Relay.AddLateFile(control, file);

        public void Issue(ParseIssue issue) => _context.AddIssue(issue);

        public void ClosingFlow(long flowId)
        {
        }

        /// <summary>
        /// End of the capture, once every worker has closed its flows: completes the relay correlator (its last findings
        /// are emitted) and returns the DNS correlator's judgement, which needs the relay hosts.
        /// </summary>
        public IReadOnlyList<FluxFinding> Complete(long droppedDnsTcpFlows)
        {
            Relay.Complete();
            return Dns.Complete(Relay.RelayHosts, droppedDnsTcpFlows);
        }
    }
}
