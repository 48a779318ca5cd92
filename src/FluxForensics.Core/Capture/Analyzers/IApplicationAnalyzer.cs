using System;
using FluxForensics.Formats;

namespace FluxForensics.Capture
{
    /// <summary>
    /// One application protocol on one TCP connection: turns the connection's reassembled byte streams into that
    /// protocol's transactions (logins, mail, FTP transfers, HTTP requests and their bodies), kept on the
    /// <see cref="RelayConversation"/> for the correlators.
    /// </summary>
    internal interface IApplicationAnalyzer
    {
        /// <summary>In-order bytes of one direction; the span is valid only during the call.</summary>
        void OnData(bool fromClient, ReadOnlySpan<byte> data, long ticks);

        /// <summary>Bytes of one direction that were never seen: the stream jumps forward by <paramref name="missing"/>.</summary>
        void OnGap(bool fromClient, long missing);

        /// <summary>The connection ended (or the capture did): finish what is open.</summary>
        void OnClose(TcpCloseReason reason, long ticks);
    }

    /// <summary>
    /// What a worker offers the analysers of one connection: carving files, the FTP data connections to expect, parse
    /// issues, and the options they need. Analysers see this, not the worker.
    /// </summary>
    internal interface IConnectionServices
    {
        /// <summary>Cap on bytes one analyser buffers (a mail message, a compressed body).</summary>
        int MaxBuffered { get; }

        /// <summary>Whether relayed mail keeps its decoded MIME parts (for their hashes).</summary>
        bool KeepMailParts { get; }

        /// <summary>Whether a finished file that is not an executable would still be kept (the first few, for tests and tools).</summary>
        bool KeepsOtherFiles { get; }

        RelayCarvedFile NewFile(string protocol, bool gzip);

        /// <summary>A finished file of <paramref name="carrier"/> that belongs to <paramref name="owner"/>; false when nothing holds on to it.</summary>
        bool AddFile(RelayConversation owner, RelayCarvedFile file, RelayConversation carrier);

        /// <summary>The control connection announced a data connection (PASV/PORT).</summary>
        void ExpectFtpData(RelayConversation control, FtpDataChannel channel);

        void Issue(string where, long offset, string message, string record);
    }

    /// <summary>
    /// An application protocol the engine recognises by content (not by port: SMTP reaches the relay on port 80):
    /// from the first bytes either side sends, and how to start its analyser on a connection.
    /// </summary>
    internal interface IApplicationProtocol
    {
        RelayProtocol Protocol { get; }

        /// <summary>Whether the client's first bytes (at least one word) open this protocol; <paramref name="serverGreeted"/> when the server sent a 220 greeting first.</summary>
        bool RecognisesClient(ReadOnlySpan<byte> first, bool serverGreeted);

        /// <summary>Whether the server's first bytes open this protocol (a connection picked up after the request).</summary>
        bool RecognisesServer(ReadOnlySpan<byte> first);

        IApplicationAnalyzer Start(RelayConversation conversation, IConnectionServices owner);
    }

    /// <summary>
    /// The protocols the engine recognises, in the order they are tried. Adding a protocol is its analyser file and one
    /// line here. (FTP data connections are not recognised by content: the FTP analyser announces them.)
    /// </summary>
    internal static class ApplicationProtocols
    {
        public static readonly IApplicationProtocol[] Registered =
        {
            new HttpProtocol(),
            new SmtpProtocol(),
            new FtpProtocol(),
        };

        /// <summary>The protocol whose client opening this is, or null.</summary>
        public static IApplicationProtocol? ForClient(ReadOnlySpan<byte> first, bool serverGreeted)
        {
            foreach (var protocol in Registered)
            {
                if (protocol.RecognisesClient(first, serverGreeted))
                {
                    return protocol;
                }
            }

            return null;
        }

        /// <summary>The protocol whose server opening this is, or null.</summary>
        public static IApplicationProtocol? ForServer(ReadOnlySpan<byte> first)
        {
            foreach (var protocol in Registered)
            {
                if (protocol.RecognisesServer(first))
                {
                    return protocol;
                }
            }

            return null;
        }

        /// <summary>Whether <paramref name="data"/> starts with <paramref name="word"/> (ASCII, any case) followed by a space or a line end.</summary>
        internal static bool StartsWithWord(ReadOnlySpan<byte> data, string word)
        {
            if (data.Length < word.Length + 1)
            {
                return false;
            }

            for (int i = 0; i < word.Length; i++)
            {
                int c = data[i];
                if (c >= 'a' && c <= 'z') c -= 32;
                if (c != word[i]) return false;
            }

            byte next = data[word.Length];
            return next == ' ' || next == '\r' || next == '\n';
        }
    }
}
