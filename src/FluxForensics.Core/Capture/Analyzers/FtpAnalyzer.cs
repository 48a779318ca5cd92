using System;
using FluxForensics.Formats;

namespace FluxForensics.Capture
{
    /// <summary>FTP control: a client opening with USER, or with SYST, FEAT or OPTS after a 220 greeting.</summary>
    internal sealed class FtpProtocol : IApplicationProtocol
    {
        public RelayProtocol Protocol => RelayProtocol.Ftp;

        public bool RecognisesClient(ReadOnlySpan<byte> first, bool serverGreeted) =>
            ApplicationProtocols.StartsWithWord(first, "USER") ||
            (serverGreeted && (ApplicationProtocols.StartsWithWord(first, "SYST") || ApplicationProtocols.StartsWithWord(first, "FEAT") ||
                               ApplicationProtocols.StartsWithWord(first, "OPTS")));

        public bool RecognisesServer(ReadOnlySpan<byte> first) => false;

        public IApplicationAnalyzer Start(RelayConversation conversation, IConnectionServices owner) => new FtpAnalyzer(conversation, owner);
    }

    /// <summary>
    /// FTP control on one connection: <see cref="FtpSession"/> reads the logins and transfers into the conversation's
    /// <see cref="RelayConversation.Ftp"/>, and each PASV/PORT announcement tells the worker which connection will carry
    /// the data (analysed by <see cref="FtpDataAnalyzer"/>).
    /// </summary>
    internal sealed class FtpAnalyzer : LineAnalyzer
    {
        private readonly FtpSession _session;

        public FtpAnalyzer(RelayConversation conversation, IConnectionServices owner)
            : base(conversation, owner)
        {
            _session = new FtpSession(channel => owner.ExpectFtpData(conversation, channel), (offset, message) => owner.Issue(conversation.Describe(true), offset, message, "FTP"));
            conversation.Ftp = _session;
        }

        protected override string RecordName => "FTP";

        protected override void ClientLine(ReadOnlySpan<byte> line, long offset) => _session.ClientLine(line, offset);

        protected override void ServerLine(ReadOnlySpan<byte> line, long offset) => _session.ServerLine(line, offset);
    }
}
