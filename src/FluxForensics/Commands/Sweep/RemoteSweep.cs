using System;
using System.Collections;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Management.Automation;
using System.Management.Automation.Runspaces;
using System.Threading;

namespace FluxForensics.Commands.Sweep
{
    /// <summary>One computer to sweep: how to reach it through Invoke-Command.</summary>
    internal sealed class SweepTarget
    {
        public SweepTarget(string name, string transport, IDictionary invokeParameters)
        {
            Name = name;
            Transport = transport;
            InvokeParameters = invokeParameters;
        }

        /// <summary>The name as given (computer name, SSH host, or the session's computer).</summary>
        public string Name { get; }

        /// <summary>WinRM, SSH or Session.</summary>
        public string Transport { get; }

        /// <summary>Invoke-Command's parameters for this one computer (ComputerName/HostName/Session, Credential, …).</summary>
        public IDictionary InvokeParameters { get; }
    }

    /// <summary>Can the SSH port of a target be reached at all? A TCP connect, closed at once.</summary>
    internal static class SshProbe
    {
        public const string ErrorId = "SshPortUnreachable";

        /// <summary>Null when the port answers; otherwise the error record saying why not.</summary>
        public static ErrorRecord? Check(SweepTarget target)
        {
            string spec = target.Name;
            int at = spec.LastIndexOf('@');
            string hostPort = at >= 0 ? spec.Substring(at + 1) : spec;
            int port = target.InvokeParameters["Port"] is int p && p > 0 ? p : 22;
            string host = hostPort;
            if (hostPort.StartsWith("[", StringComparison.Ordinal) && hostPort.IndexOf(']') is int close && close > 0)
            {
                host = hostPort.Substring(1, close - 1);
                if (close + 2 < hostPort.Length && hostPort[close + 1] == ':' && int.TryParse(hostPort.Substring(close + 2), out int bracketPort))
                {
                    port = bracketPort;
                }
            }
            else if (hostPort.IndexOf(':') is int colon && colon > 0 && hostPort.IndexOf(':', colon + 1) < 0)
            {
                host = hostPort.Substring(0, colon);
                if (int.TryParse(hostPort.Substring(colon + 1), out int explicitPort))
                {
                    port = explicitPort;
                }
            }

            int timeout = 10000;
            if (target.InvokeParameters["Options"] is IDictionary options)
            {
                foreach (DictionaryEntry option in options)
                {
                    if (string.Equals(option.Key?.ToString(), "ConnectTimeout", StringComparison.OrdinalIgnoreCase) && int.TryParse(option.Value?.ToString(), out int seconds) && seconds > 0)
                    {
                        timeout = seconds * 1000;
                    }
                }
            }

            try
            {
                var addresses = System.Net.Dns.GetHostAddresses(host);
                Exception? last = null;
                foreach (var address in addresses)
                {
                    using var client = new System.Net.Sockets.TcpClient(address.AddressFamily);
                    try
                    {
                        if (client.ConnectAsync(address, port).Wait(timeout))
                        {
                            return null;
                        }

                        last = new TimeoutException($"no answer from {host} ({address}) port {port} within {timeout / 1000} s");
                    }
                    catch (AggregateException e) when (e.InnerException is System.Net.Sockets.SocketException inner)
                    {
                        last = inner;
                    }
                }

                return Unreachable(target, last ?? new System.Net.Sockets.SocketException((int)System.Net.Sockets.SocketError.HostNotFound));
            }
            catch (Exception e) when (e is System.Net.Sockets.SocketException or ArgumentException or NotSupportedException)
            {
                return Unreachable(target, e);
            }
        }

        private static ErrorRecord Unreachable(SweepTarget target, Exception cause) =>
            new ErrorRecord(new InvalidOperationException($"SSH to {target.Name}: {cause.Message}", cause), ErrorId, ErrorCategory.ConnectionError, target.Name);
    }

    internal enum SweepEventKind
    {
        Output,
        Error,
        Warning,
        Done,
    }

    /// <summary>Something a computer's sweep produced, queued for the pipeline thread.</summary>
    internal sealed class SweepEvent
    {
        public SweepEvent(SweepTarget target, SweepEventKind kind, object? payload)
        {
            Target = target;
            Kind = kind;
            Payload = payload;
        }

        public SweepTarget Target { get; }
        public SweepEventKind Kind { get; }
        public object? Payload { get; }
    }

    /// <summary>
    /// Fans a sweep out over PowerShell remoting: one Invoke-Command per computer, at most ThrottleLimit at once, in a
    /// private pool of local runspaces so the caller's pipeline thread only drains results. Each computer's output,
    /// errors and completion arrive as <see cref="SweepEvent"/>s as they happen, so results stream as hosts finish
    /// and a slow or dead host holds up nobody. Only the pipeline thread writes to PowerShell (PowerShell/PowerShell#10452).
    /// </summary>
    internal sealed class RemoteSweep : IDisposable
    {
        /// <summary>
        /// What runs on each computer: the installed module's Invoke-FluxSweep in local mode. A computer without it
        /// answers with a marker object, reported as ModuleMissing.
        /// </summary>
        internal const string RemoteScript = @"
param([hashtable] $SweepParameters)
$module = Get-Module -ListAvailable -Name FluxForensics | Sort-Object Version -Descending | Select-Object -First 1
if (-not $module) {
    [pscustomobject]@{ PSTypeName = 'FluxForensics.SweepModuleMissing'; ComputerName = [Environment]::MachineName; Reason = 'the FluxForensics module is not installed (not found on PSModulePath)' }
    return
}
Import-Module $module -ErrorAction Stop
if (-not (Get-Command -Name Invoke-FluxSweep -Module FluxForensics -ErrorAction SilentlyContinue)) {
    [pscustomobject]@{ PSTypeName = 'FluxForensics.SweepModuleMissing'; ComputerName = [Environment]::MachineName; Reason = ""FluxForensics $($module.Version) is installed but has no Invoke-FluxSweep: update it"" }
    return
}
Invoke-FluxSweep @SweepParameters
";

        private const string LocalScript = @"
param([hashtable] $InvokeParameters, [string] $RemoteScript, [hashtable] $SweepParameters)
Invoke-Command @InvokeParameters -ScriptBlock ([scriptblock]::Create($RemoteScript)) -ArgumentList $SweepParameters
";

        private readonly BlockingCollection<SweepEvent> _events = new BlockingCollection<SweepEvent>();
        private readonly Queue<SweepTarget> _waiting;
        private readonly Dictionary<SweepTarget, PowerShell> _running = new Dictionary<SweepTarget, PowerShell>();
        private readonly Hashtable _sweepParameters;
        private readonly int _throttleLimit;
        private readonly RunspacePool _pool;
        private int _outstanding;

        public RemoteSweep(IReadOnlyList<SweepTarget> targets, Hashtable sweepParameters, int throttleLimit)
        {
            _waiting = new Queue<SweepTarget>(targets);
            _outstanding = targets.Count;
            _sweepParameters = sweepParameters;
            _throttleLimit = Math.Max(1, Math.Min(throttleLimit, Math.Max(1, targets.Count)));
            _pool = RunspaceFactory.CreateRunspacePool(InitialSessionState.CreateDefault2());
            _pool.SetMinRunspaces(1);
            _pool.SetMaxRunspaces(_throttleLimit);
            _pool.Open();
        }

        /// <summary>Raised on the pipeline thread when a computer's Invoke-Command starts.</summary>
        public event Action<SweepTarget>? Started;

        /// <summary>
        /// Every event of every computer, in the order they happen; ends when all computers are done. Cancelling the
        /// token (Ctrl+C) stops the computers still running and ends the sequence.
        /// </summary>
        public IEnumerable<SweepEvent> Run(CancellationToken cancellation)
        {
            StartMore();
            while (_outstanding > 0)
            {
                SweepEvent next;
                try
                {
                    next = _events.Take(cancellation);
                }
                catch (OperationCanceledException)
                {
                    yield break;
                }

                if (next.Kind == SweepEventKind.Done)
                {
                    _outstanding--;
                    if (_running.TryGetValue(next.Target, out var finished))
                    {
                        _running.Remove(next.Target);
                        finished.Dispose();
                    }

                    yield return next;
                    StartMore();
                }
                else
                {
                    yield return next;
                }
            }
        }

        private void StartMore()
        {
            while (_running.Count < _throttleLimit && _waiting.Count > 0)
            {
                var target = _waiting.Dequeue();
                var shell = PowerShell.Create();
                shell.RunspacePool = _pool;
                shell.AddScript(LocalScript).AddArgument(target.InvokeParameters).AddArgument(RemoteScript).AddArgument(_sweepParameters);

                var output = new PSDataCollection<PSObject>();
                output.DataAdded += (sender, e) => _events.Add(new SweepEvent(target, SweepEventKind.Output, ((PSDataCollection<PSObject>)sender!)[e.Index]));
                shell.Streams.Error.DataAdded += (sender, e) => _events.Add(new SweepEvent(target, SweepEventKind.Error, ((PSDataCollection<ErrorRecord>)sender!)[e.Index]));
                shell.Streams.Warning.DataAdded += (sender, e) => _events.Add(new SweepEvent(target, SweepEventKind.Warning, ((PSDataCollection<WarningRecord>)sender!)[e.Index]));

                _running.Add(target, shell);
                Started?.Invoke(target);
                if (target.Transport == "SSH")
                {
                    // PowerShell's SSH transport can take the whole process down (an unhandled broken pipe on its error
                    // thread) when ssh exits at once because the host does not answer while other connections run. A
                    // host whose SSH port cannot be reached is therefore found out here, without starting ssh at all.
                    System.Threading.Tasks.Task.Run(() =>
                    {
                        var unreachable = SshProbe.Check(target);
                        if (unreachable is null)
                        {
                            Begin(target, shell, output);
                        }
                        else
                        {
                            _events.Add(new SweepEvent(target, SweepEventKind.Error, unreachable));
                            _events.Add(new SweepEvent(target, SweepEventKind.Done, null));
                        }
                    });
                }
                else
                {
                    Begin(target, shell, output);
                }
            }
        }

        private void Begin(SweepTarget target, PowerShell shell, PSDataCollection<PSObject> output)
        {
            {
                try
                {
                    shell.BeginInvoke<PSObject, PSObject>(null, output, null, result =>
                    {
                        Exception? failure = null;
                        try
                        {
                            shell.EndInvoke(result);
                        }
                        catch (Exception e)
                        {
                            // A terminating error of the whole Invoke-Command (bad parameters, stopped): the computer failed.
                            failure = e;
                        }

                        _events.Add(new SweepEvent(target, SweepEventKind.Done, failure));
                    }, null);
                }
                catch (Exception e) when (e is InvalidOperationException or InvalidRunspacePoolStateException or ObjectDisposedException)
                {
                    _events.Add(new SweepEvent(target, SweepEventKind.Done, e));
                }
            }
        }

        public void Dispose()
        {
            // Ctrl+C or an early end: stop whatever still runs, without waiting for slow connections to notice.
            foreach (var shell in _running.Values)
            {
                try
                {
                    shell.BeginStop(null, null);
                }
                catch (Exception e) when (e is InvalidOperationException or ObjectDisposedException)
                {
                    // Already finished.
                }
            }

            _running.Clear();
            try
            {
                _pool.BeginClose(null, null);
            }
            catch (Exception e) when (e is InvalidOperationException or InvalidRunspacePoolStateException)
            {
                // Already closing.
            }
        }
    }
}
