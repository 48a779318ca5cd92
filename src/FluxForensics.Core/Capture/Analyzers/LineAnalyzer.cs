using System;
using System.Runtime.CompilerServices;
using FluxForensics.Formats;

namespace FluxForensics.Capture
{
    /// <summary>
    /// A line-based protocol (SMTP, FTP control): cuts both directions into lines and hands them on with their offset
    /// in the stream. After a hole, a line the hole cut is dropped up to its end; when the hole began at a line start
    /// the bytes after it are read as lines straight away (a wrong guess costs one unparseable line).
    /// </summary>
    internal abstract class LineAnalyzer : IApplicationAnalyzer
    {
        private const int MaxLine = 16 * 1024;

        private TcpLineBuffer? _clientLines;
        private TcpLineBuffer? _serverLines;
        private bool _clientSkipToNewline;
        private bool _serverSkipToNewline;

        protected LineAnalyzer(RelayConversation conversation, IConnectionServices owner)
        {
            Conversation = conversation;
            Owner = owner;
        }

        protected RelayConversation Conversation { get; }

        protected IConnectionServices Owner { get; }

        /// <summary>Offset of the next client byte in the client's stream.</summary>
        protected long ClientOffset { get; private set; }

        protected long ServerOffset { get; private set; }

        /// <summary>The record name parse issues carry ("SMTP", "FTP").</summary>
        protected abstract string RecordName { get; }

        protected abstract void ClientLine(ReadOnlySpan<byte> line, long offset);

        protected abstract void ServerLine(ReadOnlySpan<byte> line, long offset);

        [MethodImpl(Jit.Hot)]
        public void OnData(bool fromClient, ReadOnlySpan<byte> data, long ticks)
        {
            var lines = fromClient ? (_clientLines ??= new TcpLineBuffer(MaxLine)) : (_serverLines ??= new TcpLineBuffer(MaxLine));
            if (fromClient ? _clientSkipToNewline : _serverSkipToNewline)
            {
                int nl = data.IndexOf((byte)'\n');
                if (nl < 0)
                {
                    Advance(fromClient, data.Length);
                    return;
                }

                Advance(fromClient, nl + 1);
                data = data.Slice(nl + 1);
                if (fromClient) _clientSkipToNewline = false; else _serverSkipToNewline = false;
            }

            while (!data.IsEmpty)
            {
                int before = data.Length;
                bool got = lines.TryTakeLine(ref data, out var line, out bool overflowed);
                long offset = fromClient ? ClientOffset : ServerOffset;
                Advance(fromClient, before - data.Length);
                if (overflowed)
                {
                    Owner.Issue(Conversation.Describe(fromClient), offset, $"line longer than {MaxLine} bytes (skipped)", RecordName + " line");
                }

                if (!got)
                {
                    continue;
                }

                if (fromClient)
                {
                    ClientLine(line, offset);
                }
                else
                {
                    ServerLine(line, offset);
                }
            }
        }

        public void OnGap(bool fromClient, long missing)
        {
            Owner.Issue(Conversation.Describe(fromClient), fromClient ? ClientOffset : ServerOffset,
                $"{missing} bytes missing from the stream (not captured); resuming at the next line", RecordName);
            if (fromClient)
            {
                _clientSkipToNewline = _clientLines?.HasPartial == true;
                _clientLines?.Clear();
                ClientOffset += missing;
            }
            else
            {
                _serverSkipToNewline = _serverLines?.HasPartial == true;
                _serverLines?.Clear();
                ServerOffset += missing;
            }
        }

        public virtual void OnClose(TcpCloseReason reason, long ticks)
        {
            _clientLines?.Release();
            _serverLines?.Release();
            _clientLines = _serverLines = null;
        }

        private void Advance(bool fromClient, int count)
        {
            if (fromClient) ClientOffset += count; else ServerOffset += count;
        }
    }
}
