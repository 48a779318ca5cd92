using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Management.Automation;
using FluxForensics.Export;
using FluxForensics.Sweep;

namespace FluxForensics.Commands.Sweep
{
    /// <summary>
    /// Where a sweep's findings go besides the pipeline: the JSON Lines file, syslog (local socket and/or a server) and
    /// the Windows event log. Each finding is written as it arrives, so an interrupted sweep keeps what it wrote. A sink
    /// that fails is reported once and then left alone; the sweep and the other sinks go on.
    /// </summary>
    internal sealed class SweepSinks : IDisposable
    {
        private readonly List<Sink> _sinks = new List<Sink>();
        private readonly int _processId = Process.GetCurrentProcess().Id;

        public bool Any => _sinks.Count > 0;

        public void AddJsonLines(string path, bool append)
        {
            var file = FindingJsonLines.Open(path, append);
            _sinks.Add(new Sink("JsonLines", path, r => file.Write(r), file));
        }

        public void AddLocalSyslog(string socketPath)
        {
            var sender = SyslogSender.Local(socketPath);
            _sinks.Add(new Sink("Syslog", socketPath, r => sender.Send(SyslogMessage.Format(r, DateTime.UtcNow, _processId)), sender));
        }

        public void AddSyslogServer(SyslogEndpoint endpoint)
        {
            var sender = SyslogSender.Network(endpoint);
            _sinks.Add(new Sink("SyslogServer", endpoint.ToString(), r => sender.Send(SyslogMessage.Format(r, DateTime.UtcNow, _processId)), sender));
        }

        public void AddEventLog()
        {
            WindowsEventLog log;
            try
            {
                log = WindowsEventLog.Open();
            }
            catch (UnauthorizedAccessException e)
            {
                throw new UnauthorizedAccessException(e.Message + " Run Register-FluxSweep (or Invoke-FluxSweep -EventLog) once as administrator.", e);
            }

            _sinks.Add(new Sink("EventLog", WindowsEventLog.LogName + "/" + WindowsEventLog.SourceName, r => log.Write(r), log));
        }

        /// <summary>Writes one finding everywhere; returns the error records of sinks that failed just now.</summary>
        public IEnumerable<ErrorRecord> Write(FindingRecord record)
        {
            foreach (var sink in _sinks)
            {
                if (sink.Failed)
                {
                    continue;
                }

                ErrorRecord? failure = null;
                try
                {
                    sink.Write(record);
                }
                catch (Exception e) when (e is System.IO.IOException or System.Net.Sockets.SocketException or UnauthorizedAccessException or System.ComponentModel.Win32Exception or ObjectDisposedException or InvalidOperationException)
                {
                    sink.Failed = true;
                    failure = new ErrorRecord(e, "SweepOutputFailed", ErrorCategory.WriteError, sink.Target)
                    {
                        ErrorDetails = new ErrorDetails($"Writing findings to {sink.Name} ({sink.Target}) failed; nothing more goes there in this sweep: {e.Message}"),
                    };
                }

                if (failure is not null)
                {
                    yield return failure;
                }
            }
        }

        public void Dispose()
        {
            foreach (var sink in _sinks)
            {
                try
                {
                    sink.Resource.Dispose();
                }
                catch (Exception e) when (e is System.IO.IOException or System.Net.Sockets.SocketException or ObjectDisposedException)
                {
                    // Closing a broken connection: what could be written was written.
                }
            }

            _sinks.Clear();
        }

        private sealed class Sink
        {
            public Sink(string name, string target, Action<FindingRecord> write, IDisposable resource)
            {
                Name = name;
                Target = target;
                Write = write;
                Resource = resource;
            }

            public string Name { get; }
            public string Target { get; }
            public Action<FindingRecord> Write { get; }
            public IDisposable Resource { get; }
            public bool Failed { get; set; }
        }
    }
}
