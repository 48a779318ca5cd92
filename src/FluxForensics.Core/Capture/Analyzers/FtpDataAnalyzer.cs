using System;
using FluxForensics.Formats;

namespace FluxForensics.Capture
{
    /// <summary>
    /// An FTP data connection the control connection announced: its bytes are the file, carved and hashed, named from
    /// the control connection's transfer and login, and handed to the control conversation when the connection ends.
    /// </summary>
    internal sealed class FtpDataAnalyzer : IApplicationAnalyzer
    {
        private readonly RelayConversation _conversation;
        private readonly IConnectionServices _owner;
        private RelayCarvedFile? _file;

        public FtpDataAnalyzer(RelayConversation conversation, IConnectionServices owner)
        {
            _conversation = conversation;
            _owner = owner;
        }

        public void OnData(bool fromClient, ReadOnlySpan<byte> data, long ticks)
        {
            if (_file is null)
            {
                _file = _owner.NewFile("Ftp", gzip: false);
                _file.TimeTicks = ticks;
            }

            _file.Append(data);
        }

        public void OnGap(bool fromClient, long missing)
        {
            _owner.Issue(_conversation.Describe(fromClient), _conversation.BytesFromClient + _conversation.BytesFromServer,
                $"{missing} bytes missing from the FTP data stream; the carved file is incomplete", "FTP data");
            if (_file is not null)
            {
                _file.MissingBytes += missing;
            }
        }

        public void OnClose(TcpCloseReason reason, long ticks)
        {
            if (_file is null)
            {
                return;
            }

            var channel = _conversation.FtpChannel;
            _file.FileName = channel?.FileName;
            _file.Finish(reason == TcpCloseReason.Fin || reason == TcpCloseReason.Reset);
            var control = _conversation.FtpControl ?? _conversation;
            if (channel?.FileName is not null && control.Smtp is null)
            {
                _file.Url = $"ftp://{control.Server}/{channel.FileName.TrimStart('/')}";
            }

            var login = control.Ftp?.Logins.Count > 0 ? control.Ftp.Logins[control.Ftp.Logins.Count - 1] : null;
            _file.Account = login?.Account;
            _owner.AddFile(control, _file, _conversation);
            _file = null;
        }
    }
}
