using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Net;
using System.Text;
using FluxForensics.Capture;
using FluxForensics.Model;

namespace FluxForensics.Tests.Relay
{
    internal delegate void PacketSink(in DecodedPacket packet);

    /// <summary>Builds TCP conversations packet by packet and feeds them to an analyser as DecodedPacket values.</summary>
    internal sealed class TcpScript
    {
        private readonly PacketSink _feed;
        private uint _clientSeq;
        private uint _serverSeq;

        public TcpScript(PacketSink feed, string client, ushort clientPort, string server, ushort serverPort, DateTime start,
            uint clientIsn = 1000, uint serverIsn = 5000)
        {
            _feed = feed;
            Client = NetAddress.FromIPAddress(IPAddress.Parse(client));
            Server = NetAddress.FromIPAddress(IPAddress.Parse(server));
            ClientPort = clientPort;
            ServerPort = serverPort;
            Time = start;
            _clientSeq = clientIsn;
            _serverSeq = serverIsn;
        }

        public NetAddress Client { get; }
        public NetAddress Server { get; }
        public ushort ClientPort { get; }
        public ushort ServerPort { get; }
        public DateTime Time { get; set; }
        public uint ClientSeq => _clientSeq;
        public uint ServerSeq => _serverSeq;

        public TcpScript Handshake()
        {
            Send(true, TcpFlags.Syn, _clientSeq, Array.Empty<byte>());
            _clientSeq++;
            Send(false, TcpFlags.Syn | TcpFlags.Ack, _serverSeq, Array.Empty<byte>());
            _serverSeq++;
            Send(true, TcpFlags.Ack, _clientSeq, Array.Empty<byte>());
            return this;
        }

        public TcpScript C(string text) => Data(true, Encoding.ASCII.GetBytes(text));

        public TcpScript S(string text) => Data(false, Encoding.ASCII.GetBytes(text));

        public TcpScript Data(bool fromClient, byte[] data, int segment = 1400)
        {
            for (int i = 0; i < data.Length; i += segment)
            {
                var piece = data.AsSpan(i, Math.Min(segment, data.Length - i)).ToArray();
                uint seq = fromClient ? _clientSeq : _serverSeq;
                Send(fromClient, TcpFlags.Ack | TcpFlags.Psh, seq, piece);
                if (fromClient) _clientSeq += (uint)piece.Length; else _serverSeq += (uint)piece.Length;
            }

            return this;
        }

        /// <summary>Sends bytes at an explicit sequence number without moving the script's own position.</summary>
        public TcpScript Raw(bool fromClient, uint seq, byte[] data, TcpFlags flags = TcpFlags.Ack | TcpFlags.Psh)
        {
            Send(fromClient, flags, seq, data);
            return this;
        }

        public TcpScript Skip(bool fromClient, int bytes)
        {
            if (fromClient) _clientSeq += (uint)bytes; else _serverSeq += (uint)bytes;
            return this;
        }

        public TcpScript Close()
        {
            Send(true, TcpFlags.Fin | TcpFlags.Ack, _clientSeq, Array.Empty<byte>());
            _clientSeq++;
            Send(false, TcpFlags.Fin | TcpFlags.Ack, _serverSeq, Array.Empty<byte>());
            _serverSeq++;
            Send(true, TcpFlags.Ack, _clientSeq, Array.Empty<byte>());
            return this;
        }

        public TcpScript Reset(bool fromClient)
        {
            Send(fromClient, TcpFlags.Rst, fromClient ? _clientSeq : _serverSeq, Array.Empty<byte>());
            return this;
        }

        private void Send(bool fromClient, TcpFlags flags, uint seq, byte[] payload)
        {
            Time = Time.AddMilliseconds(1);
            var packet = fromClient
                ? new DecodedPacket(Time.Ticks, Client, Server, ClientPort, ServerPort, TransportProtocol.Tcp, flags, seq, 0, payload, payload.Length + 54, false)
                : new DecodedPacket(Time.Ticks, Server, Client, ServerPort, ClientPort, TransportProtocol.Tcp, flags, seq, 0, payload, payload.Length + 54, false);
            _feed(in packet);
        }
    }

    /// <summary>Collects what a stream handler receives, for reassembly tests.</summary>
    internal sealed class RecordingStreamHandler : ITcpStreamHandler
    {
        public MemoryStream FromClient { get; } = new MemoryStream();
        public MemoryStream FromServer { get; } = new MemoryStream();
        public List<(bool FromClient, long Missing)> Gaps { get; } = new List<(bool, long)>();
        public List<TcpCloseReason> Closes { get; } = new List<TcpCloseReason>();
        public List<TcpFlow> Opened { get; } = new List<TcpFlow>();

        public void OnOpen(TcpFlow flow) => Opened.Add(flow);

        public void OnData(TcpFlow flow, bool fromClient, ReadOnlySpan<byte> data, long ticks) =>
            (fromClient ? FromClient : FromServer).Write(data.ToArray(), 0, data.Length);

        public void OnGap(TcpFlow flow, bool fromClient, long missing, long ticks) => Gaps.Add((fromClient, missing));

        public void OnClosing(TcpFlow flow)
        {
        }

        public void OnClose(TcpFlow flow, TcpCloseReason reason) => Closes.Add(reason);

        public string ClientText => Encoding.ASCII.GetString(FromClient.ToArray());
        public string ServerText => Encoding.ASCII.GetString(FromServer.ToArray());
    }

    /// <summary>Runs the relay analyser alone over scripted packets or a corpus capture.</summary>
    internal sealed class RelayRun
    {
        public RelayRun(CaptureAnalysisOptions? options = null, string source = "test")
        {
            Reporter = new RecordingReporter();
            Context = new CaptureAnalysisContext(options ?? new CaptureAnalysisOptions(), Reporter, source);
            Analyzer = new RelayAnalyzer(Context);
        }

        public RecordingReporter Reporter { get; }
        public CaptureAnalysisContext Context { get; }
        public RelayAnalyzer Analyzer { get; }
        public List<FluxFinding> Findings { get; } = new List<FluxFinding>();

        public void Feed(in DecodedPacket packet) => Analyzer.OnPacket(in packet);

        public TcpScript Tcp(string client, ushort clientPort, string server, ushort serverPort, DateTime start, uint clientIsn = 1000, uint serverIsn = 5000) =>
            new TcpScript(Feed, client, clientPort, server, serverPort, start, clientIsn, serverIsn);

        public RelayRun Complete()
        {
            Findings.AddRange(Analyzer.Complete());
            return this;
        }

        public IEnumerable<T> Of<T>() where T : FluxFinding => Findings.OfType<T>();

        public static RelayRun FromPcap(string path, CaptureAnalysisOptions? options = null)
        {
            var run = new RelayRun(options, path);
            var result = CaptureReader.Read(new[] { path }, run.Feed, run.Context.AddIssue, run.Reporter, default);
            Assert.True(result.Completed);
            return run.Complete();
        }
    }

    internal static class Corpus
    {
        public static string? Root
        {
            get
            {
                var dir = new DirectoryInfo(AppContext.BaseDirectory);
                while (dir is not null)
                {
                    var candidate = Path.Combine(dir.FullName, "..", "shared", "corpus", "captures");
                    if (Directory.Exists(candidate) && File.Exists(Path.Combine(dir.FullName, "FluxForensics.sln")))
                    {
                        return Path.GetFullPath(candidate);
                    }

                    dir = dir.Parent;
                }

                return null;
            }
        }

        public static string Zeek(string relative) => Path.Combine(Root ?? string.Empty, "zeek__zeek", "testing", "btest", relative);

        public static string Suricata(string relative) => Path.Combine(Root ?? string.Empty, "OISF__suricata-verify", "tests", relative);

        /// <summary>Rows of a Zeek ASCII log as name → value maps.</summary>
        public static List<Dictionary<string, string>> ZeekLog(string path)
        {
            var rows = new List<Dictionary<string, string>>();
            string[]? fields = null;
            foreach (var line in File.ReadAllLines(path))
            {
                if (line.StartsWith("#fields", StringComparison.Ordinal))
                {
                    fields = line.Split('\t').Skip(1).ToArray();
                }
                else if (!line.StartsWith("#", StringComparison.Ordinal) && fields is not null && line.Length > 0)
                {
                    var values = line.Split('\t');
                    rows.Add(fields.Zip(values, (f, v) => (f, v)).ToDictionary(p => p.f, p => p.v));
                }
            }

            return rows;
        }
    }
}
