using System;
using FluxForensics.Formats;

namespace FluxForensics.Capture
{
    /// <summary>SMTP: a client opening with EHLO, HELO or MAIL.</summary>
    internal sealed class SmtpProtocol : IApplicationProtocol
    {
        public RelayProtocol Protocol => RelayProtocol.Smtp;

        public bool RecognisesClient(ReadOnlySpan<byte> first, bool serverGreeted) =>
            ApplicationProtocols.StartsWithWord(first, "EHLO") || ApplicationProtocols.StartsWithWord(first, "HELO") ||
            ApplicationProtocols.StartsWithWord(first, "MAIL");

        public bool RecognisesServer(ReadOnlySpan<byte> first) => false;

        public IApplicationAnalyzer Start(RelayConversation conversation, IConnectionServices owner) => new SmtpAnalyzer(conversation, owner);
    }

    /// <summary>
    /// SMTP on one connection: <see cref="SmtpSession"/> reads the logins, envelopes and messages (MIME-parsed when
    /// their DATA ends) into the conversation's <see cref="RelayConversation.Smtp"/>.
    /// </summary>
    internal sealed class SmtpAnalyzer : LineAnalyzer
    {
        private readonly SmtpSession _session;

        public SmtpAnalyzer(RelayConversation conversation, IConnectionServices owner)
            : base(conversation, owner)
        {
            _session = new SmtpSession(owner.MaxBuffered, (offset, message) => owner.Issue(conversation.Describe(true), offset, message, "SMTP"), owner.KeepMailParts);
            conversation.Smtp = _session;
        }

        protected override string RecordName => "SMTP";

        protected override void ClientLine(ReadOnlySpan<byte> line, long offset) => _session.ClientLine(line, offset);

        protected override void ServerLine(ReadOnlySpan<byte> line, long offset) => _session.ServerLine(line);

        public override void OnClose(TcpCloseReason reason, long ticks)
        {
            _session.End(ClientOffset, reason != TcpCloseReason.Fin);
            base.OnClose(reason, ticks);
        }
    }
}
