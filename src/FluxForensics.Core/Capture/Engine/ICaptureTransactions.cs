using System;
using FluxForensics.Model;

namespace FluxForensics.Capture
{
    /// <summary>
    /// What the per-flow analysers of a worker hand to the correlators, in the worker's packet order: one DNS message,
    /// one finished TCP application conversation (its SMTP, FTP or HTTP transactions, logins and carved files), an
    /// FTP data file whose control connection was already handed over, a parse issue. Spans are valid only during the
    /// call.
    /// </summary>
    internal interface ICaptureTransactions
    {
        /// <summary>One DNS message (a UDP datagram's payload or one length-framed message of a TCP stream).</summary>
        void DnsMessage(ReadOnlySpan<byte> message, NetAddress source, NetAddress destination, long ticks, bool truncated, string? file, long offset);

        /// <summary>A TCP application conversation that ended: nothing more will change in it on the worker's side.</summary>
        void Conversation(RelayConversation conversation);

        /// <summary>An executable carved from an FTP data connection whose control conversation was handed over already.</summary>
        void LateFile(RelayConversation control, RelayCarvedFile file);

        void Issue(ParseIssue issue);

        /// <summary>
        /// While a worker closes flows for a time sweep or the end of the capture (every worker at the same point), the
        /// flow whose close is being reported: what orders those transactions the same way for any number of workers.
        /// </summary>
        void ClosingFlow(long flowId);
    }
}
