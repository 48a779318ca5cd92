using System;
using System.Collections;
using System.Collections.Generic;
using System.Collections.ObjectModel;
using System.Management.Automation;
using System.Management.Automation.Runspaces;
using FluxForensics.Commands.Sweep;
using FluxForensics.Export;
using FluxForensics.Model;
using FluxForensics.Sweep;

namespace FluxForensics.Commands
{
    /// <summary>
    /// <para type="synopsis">Sweeps this computer, or many over PowerShell remoting, for the relay infection: listeners, autoruns, USB traps and an optional short capture.</para>
    /// </summary>
    [Cmdlet(VerbsLifecycle.Invoke, "FluxSweep", DefaultParameterSetName = LocalSet, HelpUri = HelpRoot + "Invoke-FluxSweep.md")]
    [OutputType(typeof(FluxSweepResult), typeof(FluxFinding))]
    public sealed partial class InvokeFluxSweepCommand : FluxCmdlet
    {
        private const string LocalSet = "Local";
        private const string ComputerSet = "ComputerName";
        private const string HostSet = "HostName";
        private const string SessionSet = "Session";

        private readonly List<SweepTarget> _targets = new List<SweepTarget>();
        private SweepSinks? _sinks;
        private SweepOutcome? _outcome;

        /// <summary>Checks to run: Listener, Autorun, Usb (the default set), and Capture (also implied by -CaptureSeconds).</summary>
        [Parameter]
        [ValidateSet("Listener", "Autorun", "Usb", "Capture", IgnoreCase = true)]
        public string[]? Check { get; set; }

        /// <summary>Seconds of live capture analysed by Invoke-PcapFluxAnalysis (0, the default: no capture).</summary>
        [Parameter]
        [ValidateRange(0, 3600)]
        public int CaptureSeconds { get; set; }

        /// <summary>The interface to capture on (default: "any" on Linux; required on Windows).</summary>
        [Parameter]
        public string? CaptureInterface { get; set; }

        /// <summary>Folders to examine for USB traps instead of the removable drives (paths on the swept computer).</summary>
        [Parameter]
        public string[]? UsbPath { get; set; }

        /// <summary>An offline root (mounted disk) to examine for autoruns instead of the live system.</summary>
        [Parameter]
        public string? AutorunRoot { get; set; }

        /// <summary>Computers to sweep over WinRM.</summary>
        [Parameter(ParameterSetName = ComputerSet, Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
        [Alias("Cn")]
        [ValidateNotNullOrEmpty]
        public string[]? ComputerName { get; set; }

        /// <summary>Computers to sweep over SSH (PowerShell 7): host, user@host or user@host:port.</summary>
        [Parameter(ParameterSetName = HostSet, Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
        [ValidateNotNullOrEmpty]
        public string[]? HostName { get; set; }

        /// <summary>Open PSSessions to sweep.</summary>
        [Parameter(ParameterSetName = SessionSet, Mandatory = true, Position = 0, ValueFromPipeline = true)]
        [ValidateNotNullOrEmpty]
        public PSSession[]? Session { get; set; }

        /// <summary>How many computers are swept at once (default 32).</summary>
        [Parameter(ParameterSetName = ComputerSet)]
        [Parameter(ParameterSetName = HostSet)]
        [Parameter(ParameterSetName = SessionSet)]
        [ValidateRange(1, 1024)]
        public int ThrottleLimit { get; set; } = 32;

        /// <summary>The account used on the remote computers (WinRM).</summary>
        [Parameter(ParameterSetName = ComputerSet)]
        [Credential]
        public PSCredential? Credential { get; set; }

        /// <summary>WinRM over HTTPS.</summary>
        [Parameter(ParameterSetName = ComputerSet)]
        public SwitchParameter UseSSL { get; set; }

        /// <summary>The port (WinRM or SSH) when it is not the default.</summary>
        [Parameter(ParameterSetName = ComputerSet)]
        [Parameter(ParameterSetName = HostSet)]
        [ValidateRange(1, 65535)]
        public int Port { get; set; }

        /// <summary>The SSH user (default: the current user).</summary>
        [Parameter(ParameterSetName = HostSet)]
        public string? UserName { get; set; }

        /// <summary>The SSH private key.</summary>
        [Parameter(ParameterSetName = HostSet)]
        [Alias("IdentityFilePath")]
        public string? KeyFilePath { get; set; }

        /// <summary>SSH options (ssh -o name=value), as Invoke-Command -Options takes them.</summary>
        [Parameter(ParameterSetName = HostSet)]
        public Hashtable? Options { get; set; }

        /// <summary>Write the findings as JSON Lines to this file (one finding per line).</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string? OutputPath { get; set; }

        /// <summary>Append to -OutputPath instead of replacing it.</summary>
        [Parameter]
        public SwitchParameter Append { get; set; }

        /// <summary>Write the findings to the Windows Application log (source FluxForensics).</summary>
        [Parameter]
        public SwitchParameter EventLog { get; set; }

        /// <summary>Send the findings to the local syslog socket as RFC 5424 messages.</summary>
        [Parameter]
        public SwitchParameter Syslog { get; set; }

        /// <summary>The local syslog socket (default /dev/log).</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string SyslogSocketPath { get; set; } = "/dev/log";

        /// <summary>Send the findings to a syslog server: host:port, [address]:port, udp://… or tcp://….</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string? SyslogServer { get; set; }

        /// <summary>The transport to -SyslogServer when it has no udp:// or tcp:// in front (default Udp).</summary>
        [Parameter]
        public SyslogTransport SyslogProtocol { get; set; } = SyslogTransport.Udp;

        /// <summary>Findings below this severity are counted but neither emitted nor written (default Info: all).</summary>
        [Parameter]
        public Severity MinimumSeverity { get; set; } = Severity.Info;

        /// <summary>The severity at or above which the exit code is 1 (default High).</summary>
        [Parameter]
        public Severity FailOn { get; set; } = Severity.High;

        /// <summary>Make pwsh exit with the sweep's code (0 clean, 1 findings at or above -FailOn, 2 sweep errors only) when it ends.</summary>
        [Parameter]
        public SwitchParameter SetExitCode { get; set; }

        protected override void BeginProcessing()
        {
            base.BeginProcessing();
            _outcome = new SweepOutcome(FailOn);
#if NETFRAMEWORK
            // This build runs in Windows PowerShell 5.1, whose Invoke-Command has no SSH transport.
            if (ParameterSetName == HostSet)
            {
                ThrowTerminating("SshRemotingNeedsPowerShell7", ErrorCategory.NotImplemented, null, "-HostName (PowerShell remoting over SSH) needs PowerShell 7; Windows PowerShell 5.1 has only WinRM (-ComputerName).");
            }
#endif
            if (CaptureSeconds > 0 && CaptureInterface is null && Environment.OSVersion.Platform == PlatformID.Win32NT && ParameterSetName == LocalSet)
            {
                ThrowTerminating("CaptureInterfaceRequired", ErrorCategory.InvalidArgument, null, "-CaptureSeconds on Windows needs -CaptureInterface (see Get-NetAdapter or Npcap's device names).");
            }

            OpenSinks();
        }

        protected override void ProcessRecord()
        {
            switch (ParameterSetName)
            {
                case ComputerSet:
                    foreach (var name in ComputerName ?? Array.Empty<string>())
                    {
                        var parameters = new Hashtable(StringComparer.OrdinalIgnoreCase) { ["ComputerName"] = name };
                        if (Credential is not null)
                        {
                            parameters["Credential"] = Credential;
                        }

                        if (UseSSL)
                        {
                            parameters["UseSSL"] = true;
                        }

                        if (Port > 0)
                        {
                            parameters["Port"] = Port;
                        }

                        _targets.Add(new SweepTarget(name, "WinRM", parameters));
                    }

                    break;
                case HostSet:
                    foreach (var name in HostName ?? Array.Empty<string>())
                    {
                        var parameters = new Hashtable(StringComparer.OrdinalIgnoreCase) { ["HostName"] = name };
                        if (UserName is not null)
                        {
                            parameters["UserName"] = UserName;
                        }

                        if (KeyFilePath is not null)
                        {
                            parameters["KeyFilePath"] = SessionState.Path.GetUnresolvedProviderPathFromPSPath(KeyFilePath);
                        }

                        if (Port > 0)
                        {
                            parameters["Port"] = Port;
                        }

                        if (Options is not null)
                        {
                            parameters["Options"] = Options;
                        }

                        _targets.Add(new SweepTarget(name, "SSH", parameters));
                    }

                    break;
                case SessionSet:
                    foreach (var session in Session ?? Array.Empty<PSSession>())
                    {
                        _targets.Add(new SweepTarget(session.ComputerName, "Session", new Hashtable(StringComparer.OrdinalIgnoreCase) { ["Session"] = session }));
                    }

                    break;
            }
        }

        protected override void EndProcessing()
        {
            try
            {
                if (ParameterSetName == LocalSet)
                {
                    SweepThisComputer();
                }
                else
                {
                    SweepRemoteComputers();
                }
            }
            finally
            {
                _sinks?.Dispose();
            }

            int code = _outcome!.ExitCode;
            SessionState.PSVariable.Set(new PSVariable("global:LASTEXITCODE", code));
            if (SetExitCode)
            {
                // What `exit` does: the host ends with this code once the script or command is done.
                Host.SetShouldExit(code);
            }

            base.EndProcessing();
        }

        private void OpenSinks()
        {
            _sinks = new SweepSinks();
            try
            {
                if (OutputPath is not null)
                {
                    _sinks.AddJsonLines(SessionState.Path.GetUnresolvedProviderPathFromPSPath(OutputPath), Append);
                }

                if (Syslog)
                {
                    _sinks.AddLocalSyslog(SyslogSocketPath);
                }

                if (SyslogServer is not null)
                {
                    if (!SyslogEndpoint.TryParse(SyslogServer, SyslogProtocol, out var endpoint, out var error))
                    {
                        ThrowTerminating("SyslogServerInvalid", ErrorCategory.InvalidArgument, SyslogServer, error!);
                    }

                    _sinks.AddSyslogServer(endpoint!);
                }

                if (EventLog)
                {
                    _sinks.AddEventLog();
                }
            }
            catch (Exception e) when (e is System.IO.IOException or UnauthorizedAccessException or System.Net.Sockets.SocketException or PlatformNotSupportedException or TimeoutException or System.ComponentModel.Win32Exception or System.Security.SecurityException or NotSupportedException or ArgumentException)
            {
                _sinks.Dispose();
                ThrowTerminating("SweepOutputUnavailable", e is UnauthorizedAccessException or System.Security.SecurityException ? ErrorCategory.PermissionDenied : ErrorCategory.ResourceUnavailable, null,
                    "The sweep's output cannot be opened: " + e.Message, e);
            }
        }

        /// <summary>The parameters of the sweep each remote computer runs (its checks; never its outputs).</summary>
        private Hashtable CheckParameters()
        {
            var parameters = new Hashtable(StringComparer.OrdinalIgnoreCase);
            if (Check is not null)
            {
                parameters["Check"] = Check;
            }

            if (CaptureSeconds > 0)
            {
                parameters["CaptureSeconds"] = CaptureSeconds;
            }

            if (CaptureInterface is not null)
            {
                parameters["CaptureInterface"] = CaptureInterface;
            }

            if (UsbPath is not null)
            {
                parameters["UsbPath"] = UsbPath;
            }

            if (AutorunRoot is not null)
            {
                parameters["AutorunRoot"] = AutorunRoot;
            }

            return parameters;
        }

        // ---- this computer ------------------------------------------------------------------------------------------

        private void SweepThisComputer()
        {
            var tally = new SweepTally(LocalComputer.Name, "Local");
            var checks = new List<string>(Check ?? new[] { "Listener", "Autorun", "Usb" });
            if (CaptureSeconds > 0 && !checks.Exists(c => c.Equals("Capture", StringComparison.OrdinalIgnoreCase)))
            {
                checks.Add("Capture");
            }

            foreach (var check in checks)
            {
                if (CancellationToken.IsCancellationRequested)
                {
                    return;
                }

                RunCheck(check, tally);
            }

            var result = tally.ToResult();
            _outcome!.AddResult(result);
            WriteObject(result);
        }

        private void RunCheck(string check, SweepTally tally)
        {
            using var shell = PowerShell.Create(RunspaceMode.CurrentRunspace);
            switch (check.ToLowerInvariant())
            {
                case "listener":
                    shell.AddCommand("Get-FluxListener");
                    break;
                case "autorun":
                    shell.AddCommand("Get-SuspiciousAutorun");
                    if (AutorunRoot is not null)
                    {
                        shell.AddParameter("Root", AutorunRoot);
                    }

                    break;
                case "usb":
                    shell.AddCommand("Find-UsbLnkTrap");
                    if (UsbPath is not null)
                    {
                        shell.AddParameter("LiteralPath", UsbPath);
                    }

                    break;
                case "capture":
                    int seconds = CaptureSeconds > 0 ? CaptureSeconds : 10;
                    shell.AddCommand("Invoke-PcapFluxAnalysis")
                        .AddParameter("InterfaceName", CaptureInterface ?? "any")
                        .AddParameter("Duration", TimeSpan.FromSeconds(seconds));
                    break;
            }

            // Per-item errors stay per item: one unreadable entry must not cost the check its other findings.
            shell.AddParameter("ErrorAction", ActionPreference.Continue);
            Collection<PSObject> found;
            try
            {
                found = shell.Invoke();
            }
            catch (Exception e) when (e is RuntimeException or InvalidOperationException)
            {
                if (e is PipelineStoppedException || CancellationToken.IsCancellationRequested)
                {
                    return;
                }

                var record = e is IContainsErrorRecord c ? c.ErrorRecord : new ErrorRecord(e, "SweepCheckFailed", ErrorCategory.NotSpecified, check);
                tally.AddError($"{check}: {record.Exception.Message}");
                WriteError(record);
                return;
            }

            foreach (var warning in shell.Streams.Warning)
            {
                WriteWarning(warning.Message);
            }

            foreach (var error in shell.Streams.Error)
            {
                tally.AddError($"{check}: {error.Exception.Message}");
                WriteError(error);
            }

            foreach (var item in found)
            {
                if (item.BaseObject is FluxFinding finding)
                {
                    tally.AddFinding(finding.Severity);
                    Emit(item, finding.Severity);
                }
            }
        }

        // ---- other computers ----------------------------------------------------------------------------------------

        private void Emit(PSObject item, Severity severity)
        {
            _outcome!.AddFinding(severity);
            if (severity < MinimumSeverity)
            {
                return;
            }

            if (_sinks is { Any: true })
            {
                foreach (var failure in _sinks.Write(DeserializedFinding.ToRecord(item)))
                {
                    _outcome.AddError();
                    WriteError(failure);
                }
            }

            WriteObject(item);
        }
    }
}
