using System;
using System.Runtime.CompilerServices;
using System.Collections.Generic;
using FluxForensics.Formats;
using FluxForensics.Model;

namespace FluxForensics.Capture
{
    /// <summary>
    /// A worker's TCP side: one reassembler, and for every connection a <see cref="RelayConversation"/> that recognises
    /// SMTP, FTP (control and data) or HTTP by content and drives that protocol's parser. A conversation is handed to
    /// the correlators when its flow closes, with its transactions parsed and its files carved and hashed; nothing
    /// here looks at other workers' flows. FTP control and data connections of one client and server meet on the
    /// same worker because packets are spread by address pair.
    /// </summary>
    internal sealed class TcpSessionAnalyzer : ITcpStreamHandler, IConnectionServices
    {
        private const int MaxExpectedChannels = 10_000;
        private const int MaxKeptExecutables = 10_000;
        private const int MaxKeptOtherFiles = 10_000;

        private readonly CaptureAnalysisOptions _options;
        private readonly string _source;
        private readonly ICaptureTransactions _sink;
        private readonly TcpReassembler _reassembler;
        private readonly CarvedHashCache _hashCache;
        private readonly Dictionary<(NetAddress Address, ushort Port), (RelayConversation Control, FtpDataChannel Channel, long Ticks)> _expected =
            new Dictionary<(NetAddress, ushort), (RelayConversation, FtpDataChannel, long)>();
        private readonly long _expiresAfterTicks;
        private readonly List<RelayCarvedFile> _files = new List<RelayCarvedFile>();
        private int _keptExecutables;
        private int _keptOtherFiles;

        /// <param name="options">What the analysis was told.</param>
        /// <param name="source">The capture the parse issues name.</param>
        /// <param name="sink">Where finished conversations, late files and issues go.</param>
        /// <param name="hashCache">Hashes of recent carved files, shared by the workers of one analysis (the two legs of a relayed download).</param>
        public TcpSessionAnalyzer(CaptureAnalysisOptions options, string source, ICaptureTransactions sink, CarvedHashCache? hashCache = null)
        {
            _hashCache = hashCache ?? new CarvedHashCache();
            _options = options ?? throw new ArgumentNullException(nameof(options));
            _source = source;
            _sink = sink ?? throw new ArgumentNullException(nameof(sink));
            _reassembler = new TcpReassembler(options, this);
            _expiresAfterTicks = Math.Max(TimeSpan.TicksPerSecond, options.FlowTimeout.Ticks);
        }

        internal TcpReassembler Reassembler => _reassembler;

        /// <summary>TCP connections opened (counted once each, for the capture summary).</summary>
        public long FlowCount { get; private set; }

        /// <summary>Whether relayed mail keeps its decoded MIME parts (for their hashes).</summary>
        public bool KeepMailParts => _options.KeepMailParts;

        public int MaxBuffered => Math.Max(1024, _options.MaxBufferedBytesPerFlow);

        /// <summary>Files carved: the first 10,000 executables and the first 10,000 others, for tests and tools.</summary>
        internal IReadOnlyList<RelayCarvedFile> CarvedFiles => _files;

        /// <summary>Carved files whose hashes were taken from an identical earlier one instead of hashing again.</summary>
        internal long HashCacheHits => _hashCache.Hits;

        /// <summary>Whether a finished file that is not an executable would still be kept (the first few, for tests and tools).</summary>
        public bool KeepsOtherFiles => _keptOtherFiles < MaxKeptOtherFiles;

        [MethodImpl(Jit.Hot)]
        public void OnPacket(in DecodedPacket packet, long packetIndex)
        {
            _reassembler.PacketIndex = packetIndex;
            _reassembler.OnPacket(in packet);
        }

        /// <summary>Closes the flows idle for longer than the flow timeout at capture time <paramref name="now"/>.</summary>
        public void ExpireIdle(long now) => _reassembler.ExpireIdle(now);

        /// <summary>End of the capture: every open flow is flushed and closed, oldest first.</summary>
        public void CloseAll()
        {
            _reassembler.CloseAll(TcpCloseReason.EndOfCapture);
            _expected.Clear();
        }

        void ITcpStreamHandler.OnOpen(TcpFlow flow)
        {
            FlowCount++;
            var conversation = new RelayConversation(this, flow);
            flow.State = conversation;
            if (_expected.Count > 0 &&
                (TakeExpected(flow.Server, flow.ServerPort, flow, out var expected) || TakeExpected(flow.Client, flow.ClientPort, flow, out expected)))
            {
                conversation.MarkFtpData(expected.Control, expected.Channel);
            }
        }

        /// <summary>
        /// The announcement a new connection answers: the announced address and port, between the two hosts of the control
        /// connection (a connection from a third host to the same port is not the transfer), within the flow timeout.
        /// </summary>
        private bool TakeExpected(NetAddress address, ushort port, TcpFlow flow, out (RelayConversation Control, FtpDataChannel Channel, long Ticks) expected)
        {
            if (!_expected.TryGetValue((address, port), out expected))
            {
                return false;
            }

            var control = expected.Control;
            bool samePair = (flow.Client == control.Client && flow.Server == control.Server) || (flow.Client == control.Server && flow.Server == control.Client);
            if (!samePair)
            {
                return false;
            }

            _expected.Remove((address, port));
            return flow.StartTicks - expected.Ticks <= _expiresAfterTicks;
        }

        void ITcpStreamHandler.OnData(TcpFlow flow, bool fromClient, ReadOnlySpan<byte> data, long ticks)
        {
            var conversation = (RelayConversation)flow.State!;
            if (conversation.Protocol != RelayProtocol.Ignored)
            {
                conversation.OnData(fromClient, data, ticks);
            }
        }

        void ITcpStreamHandler.OnGap(TcpFlow flow, bool fromClient, long missing, long ticks)
        {
            ((RelayConversation)flow.State!).OnGap(fromClient, missing);
        }

        // A close delivers held segments and reports holes before OnClose: all of it is that flow's close.
        void ITcpStreamHandler.OnClosing(TcpFlow flow) => _sink.ClosingFlow(flow.Id);

        void ITcpStreamHandler.OnClose(TcpFlow flow, TcpCloseReason reason)
        {
            var conversation = (RelayConversation)flow.State!;
            flow.State = null;
            conversation.OnClose(reason, flow.LastTicks);
            HandOver(conversation);
            if (conversation.Tunnel is not null)
            {
                HandOver(conversation.Tunnel);
            }
        }

        private void HandOver(RelayConversation conversation)
        {
            if (conversation.Protocol is RelayProtocol.Ignored or RelayProtocol.Unknown or RelayProtocol.FtpData)
            {
                return;
            }

            conversation.HandedOver = true;
            _sink.Conversation(conversation);
        }

        public RelayCarvedFile NewFile(string protocol, bool gzip) =>
            new RelayCarvedFile(protocol, gzip, _options.ExtractPath, MaxBuffered, _hashCache);

        /// <summary>Keeps a finished file with its conversation (or hands it over on its own); false when nothing holds on to it.</summary>
        public bool AddFile(RelayConversation owner, RelayCarvedFile file, RelayConversation carrier)
        {
            if (file.Size == 0 && file.MissingBytes == 0)
            {
                return false;
            }

            if (file.Issue is not null && carrier.Protocol == RelayProtocol.FtpData)
            {
                Issue(carrier.Describe(false), -1, file.Issue, "FTP data");
            }

            if (file.ExecutableType is null)
            {
                // Not an executable: no finding comes of it. A few are kept for tests and tools; the conversation does not
                // hold them, so a long keep-alive connection with thousands of responses costs nothing per response.
                if (_keptOtherFiles < MaxKeptOtherFiles)
                {
                    _keptOtherFiles++;
                    _files.Add(file);
                    return true;
                }

                return false;
            }

            if (owner.HandedOver)
            {
                // An FTP control connection that ended before its data connection: the correlators decide whether the
                // file joins the conversation's findings or is reported on its own.
                _sink.LateFile(owner, file);
            }
            else
            {
                owner.AddFile(file);
            }

            if (_keptExecutables < MaxKeptExecutables)
            {
                _keptExecutables++;
                _files.Add(file);
            }

            return true;
        }

        public void ExpectFtpData(RelayConversation control, FtpDataChannel channel)
        {
            var address = channel.Address ?? (channel.Passive ? control.Server : control.Client);
            if (address != control.Server && address != control.Client)
            {
                // A transfer between other hosts (FXP, a proxy): its packets travel between another pair of addresses,
                // which the engine spreads independently of this connection's, so it is not followed, whatever the spread.
                Issue(control.Describe(!channel.Passive), -1, $"FTP data channel announced on a third host {address}:{channel.Port}; not followed", "FTP");
                return;
            }

            if (_expected.Count >= MaxExpectedChannels)
            {
                long now = control.EndTicks;
                var stale = new List<(NetAddress, ushort)>();
                foreach (var pair in _expected)
                {
                    if (now - pair.Value.Ticks > _expiresAfterTicks)
                    {
                        stale.Add(pair.Key);
                    }
                }

                foreach (var key in stale)
                {
                    _expected.Remove(key);
                }

                if (_expected.Count >= MaxExpectedChannels)
                {
                    Issue(control.Describe(true), -1, $"more than {MaxExpectedChannels} FTP data channels announced and not opened within the flow timeout; they are forgotten", "FTP");
                    _expected.Clear();
                }
            }

            _expected[(address, channel.Port)] = (control, channel, control.EndTicks);
        }

        public void Issue(string where, long offset, string message, string record)
        {
            _sink.Issue(new ParseIssue(_source, -1, offset >= 0 ? $"{where} @ {offset}: {message}" : $"{where}: {message}", record));
        }
    }
}
