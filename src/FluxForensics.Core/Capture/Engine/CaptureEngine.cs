using System;
using System.Runtime.CompilerServices;
using System.Collections.Generic;
using FluxForensics.Model;

namespace FluxForensics.Capture
{
    /// <summary>
    /// The pipeline with one worker, fed packet by packet on the calling thread: one flow worker, the correlators,
    /// and the engine's time sweeps. What <see cref="CaptureAnalysis"/> runs with one worker, and what a caller that
    /// has packets from elsewhere (a fuzzer, a generator) feeds directly.
    /// </summary>
    internal sealed class CaptureEngine
    {
        private readonly SweepClock _clock;
        private long _index;

        /// <summary>An engine whose findings are collected in <see cref="Findings"/>; it opens the extraction folder and databases the options name.</summary>
        public CaptureEngine(CaptureAnalysisOptions options, IFluxReporter? reporter = null, string source = "capture")
            : this(new CaptureAnalysisContext(options, reporter ?? NullReporter.Instance, source))
        {
        }

        /// <summary>As above, over an existing context.</summary>
        public CaptureEngine(CaptureAnalysisContext context)
            : this(context, null, OpenWriter(context.Options, context.Reporter), OpenGeo(context.Options, context.Reporter))
        {
        }

        public CaptureEngine(CaptureAnalysisContext context, Action<FluxFinding>? emit, CarvedFileWriter? writer, GeoLookup? geo)
        {
            Context = context ?? throw new ArgumentNullException(nameof(context));
            Writer = writer;
            Geo = geo;
            Relay = new RelayCorrelator(context, emit ?? Findings.Add, writer, geo);
            Dns = new DnsCorrelator(context);
            Input = new CorrelatorInput(context, Relay, Dns);
            Worker = new FlowWorker(context.Options, context.Source, Input);
            _clock = new SweepClock(context.Options.FlowTimeout);
        }

        public CaptureAnalysisContext Context { get; }
        public FlowWorker Worker { get; }
        public RelayCorrelator Relay { get; }
        public DnsCorrelator Dns { get; }
        public CorrelatorInput Input { get; }
        public CarvedFileWriter? Writer { get; }
        public GeoLookup? Geo { get; }

        /// <summary>Findings, when the engine was made without an emit callback.</summary>
        public List<FluxFinding> Findings { get; } = new List<FluxFinding>();

        /// <summary>Packets fed so far.</summary>
        public long PacketCount => _index;

        public void OnPacket(in DecodedPacket packet) => OnPacket(in packet, null, -1);

        [MethodImpl(Jit.Hot)]
        public void OnPacket(in DecodedPacket packet, string? file, long offset)
        {
            long index = ++_index;
            if (_clock.Due(packet.TimestampTicks))
            {
                Worker.ExpireIdle(packet.TimestampTicks);
            }

            Worker.OnPacket(in packet, index, file, offset);
        }

        /// <summary>Closes every flow and completes the relay correlator (its findings are emitted).</summary>
        public void EndFlows()
        {
            Worker.End();
            Relay.Complete();
        }

        /// <summary>End of the capture: closes the flows, completes the correlators and the writer; returns <see cref="Findings"/>.</summary>
        public IReadOnlyList<FluxFinding> Complete()
        {
            Worker.End();
            Findings.AddRange(Input.Complete(Worker.Dns.DroppedTcpFlows));
            Writer?.Complete();
            Geo?.Dispose();
            return Findings;
        }

        /// <summary>The writer of carved files, when the options ask for extraction.</summary>
        internal static CarvedFileWriter? OpenWriter(CaptureAnalysisOptions options, IFluxReporter reporter) =>
            options.ExtractPath is null ? null : new CarvedFileWriter(options.ExtractPath, reporter);

        /// <summary>The ASN/country lookup of the databases the options name; null (with an error reported) when they cannot be read.</summary>
        internal static GeoLookup? OpenGeo(CaptureAnalysisOptions options, IFluxReporter reporter)
        {
            if (string.IsNullOrEmpty(options.AsnDatabasePath) && string.IsNullOrEmpty(options.CountryDatabasePath))
            {
                return null;
            }

            try
            {
                return new GeoLookup(options.AsnDatabasePath, options.CountryDatabasePath);
            }
            catch (Exception e) when (e is System.IO.IOException or UnauthorizedAccessException or MaxMind.Db.InvalidDatabaseException or ArgumentException)
            {
                string path = options.CountryDatabasePath ?? options.AsnDatabasePath!;
                reporter.Error(new FluxError("GeoDatabaseUnreadable", FluxErrorCategory.ReadError, path,
                    $"The ASN or country database could not be read ({e.Message}); relay sessions and downloads carry no ASN or country.", e));
                return null;
            }
        }
    }
}
