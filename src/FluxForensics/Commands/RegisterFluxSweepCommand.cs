using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Management.Automation;
using FluxForensics.Model;
using FluxForensics.Sweep;

namespace FluxForensics.Commands
{
    /// <summary>
    /// <para type="synopsis">Schedules Invoke-FluxSweep: a Windows scheduled task running as SYSTEM, or a systemd timer and service on Linux.</para>
    /// </summary>
    [Cmdlet(VerbsLifecycle.Register, "FluxSweep", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium, HelpUri = HelpRoot + "Register-FluxSweep.md")]
    [OutputType(typeof(FluxSweepSchedule))]
    public sealed class RegisterFluxSweepCommand : FluxCmdlet
    {
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string Name { get; set; } = "FluxSweep";

        /// <summary>How often the sweep runs (default one hour; at least one minute).</summary>
        [Parameter]
        public TimeSpan Interval { get; set; } = TimeSpan.FromHours(1);

        [Parameter]
        public string[]? ComputerName { get; set; }

        [Parameter]
        public string[]? HostName { get; set; }

        [Parameter]
        public string? UserName { get; set; }

        [Parameter]
        public string? KeyFilePath { get; set; }

        [Parameter]
        [ValidateRange(1, 1024)]
        public int ThrottleLimit { get; set; }

        [Parameter]
        [ValidateSet("Listener", "Autorun", "Usb", "Capture", IgnoreCase = true)]
        public string[]? Check { get; set; }

        [Parameter]
        [ValidateRange(0, 3600)]
        public int CaptureSeconds { get; set; }

        [Parameter]
        public string? CaptureInterface { get; set; }

        /// <summary>The JSON Lines file each run appends to.</summary>
        [Parameter]
        public string? OutputPath { get; set; }

        [Parameter]
        public SwitchParameter EventLog { get; set; }

        [Parameter]
        public SwitchParameter Syslog { get; set; }

        [Parameter]
        public string? SyslogServer { get; set; }

        [Parameter]
        public SyslogTransport? SyslogProtocol { get; set; }

        [Parameter]
        public Severity? MinimumSeverity { get; set; }

        [Parameter]
        public Severity? FailOn { get; set; }

        /// <summary>The pwsh the schedule starts (default: this one).</summary>
        [Parameter]
        public string? PwshPath { get; set; }

        /// <summary>The module the schedule imports: a manifest path (default: FluxForensics by name from PSModulePath).</summary>
        [Parameter]
        public string? ModulePath { get; set; }

        /// <summary>Linux: where the unit files go (default /etc/systemd/system).</summary>
        [Parameter]
        public string? UnitPath { get; set; }

        protected override void EndProcessing()
        {
            if (!SweepSchedule.IsValidName(Name))
            {
                ThrowTerminating("ScheduleNameInvalid", ErrorCategory.InvalidArgument, Name, $"'{Name}' is not a usable name: letters, digits, '.', '_' and '-', at most 64.");
            }

            if (Interval < TimeSpan.FromMinutes(1))
            {
                ThrowTerminating("ScheduleIntervalTooShort", ErrorCategory.InvalidArgument, Interval, "-Interval is at least one minute.");
            }

            var schedule = new SweepSchedule(Name, Interval, Pwsh(out var prefix), prefix, BuildCommand());
            if (ScheduleSupport.IsWindows)
            {
                RegisterTask(schedule);
            }
            else
            {
                RegisterSystemd(schedule);
            }

            base.EndProcessing();
        }

        private string BuildCommand()
        {
            string import = ModulePath is null
                ? "Import-Module FluxForensics -ErrorAction Stop"
                : "Import-Module " + PowerShellCommandText.Quote(SessionState.Path.GetUnresolvedProviderPathFromPSPath(ModulePath)) + " -ErrorAction Stop";
            var command = new PowerShellCommandText("$ErrorActionPreference = 'Continue'; $ProgressPreference = 'SilentlyContinue'")
                .Statement(import)
                .Statement("Invoke-FluxSweep")
                .Values("ComputerName", ComputerName)
                .Values("HostName", HostName)
                .Value("UserName", UserName)
                .Value("KeyFilePath", KeyFilePath is null ? null : SessionState.Path.GetUnresolvedProviderPathFromPSPath(KeyFilePath))
                .Number("ThrottleLimit", ThrottleLimit > 0 ? ThrottleLimit : null)
                .Values("Check", Check)
                .Number("CaptureSeconds", CaptureSeconds > 0 ? CaptureSeconds : null)
                .Value("CaptureInterface", CaptureInterface)
                .Value("OutputPath", OutputPath is null ? null : SessionState.Path.GetUnresolvedProviderPathFromPSPath(OutputPath))
                .Switch("Append", OutputPath is not null)
                .Switch("EventLog", EventLog)
                .Switch("Syslog", Syslog)
                .Value("SyslogServer", SyslogServer)
                .Value("SyslogProtocol", SyslogProtocol?.ToString())
                .Value("MinimumSeverity", MinimumSeverity?.ToString())
                .Value("FailOn", FailOn?.ToString())
                .Switch("SetExitCode", true);

            // The findings went to the outputs above; the console of a scheduled run needs only the per-computer lines.
            return command + " | Where-Object { $_ -is [FluxForensics.Model.FluxSweepResult] -or $_.PSObject.TypeNames -contains 'Deserialized.FluxForensics.Model.FluxSweepResult' } | Format-Table -AutoSize | Out-String -Width 200";
        }

        private string Pwsh(out IReadOnlyList<string> prefix)
        {
            prefix = Array.Empty<string>();
            if (PwshPath is not null)
            {
                return SessionState.Path.GetUnresolvedProviderPathFromPSPath(PwshPath);
            }

            string self = Process.GetCurrentProcess().MainModule?.FileName ?? "pwsh";
            if (Path.GetFileNameWithoutExtension(self).Equals("dotnet", StringComparison.OrdinalIgnoreCase))
            {
                // PowerShell as a dotnet tool: dotnet runs pwsh.dll.
                string? home = SessionState.PSVariable.GetValue("PSHOME") as string;
                if (home is not null)
                {
                    prefix = new[] { Path.Combine(home, "pwsh.dll") };
                }
            }

            return self;
        }

        private void RegisterSystemd(FluxSweepSchedule plan, SweepSchedule schedule, string directory)
        {
            string service = Path.Combine(directory, schedule.UnitName + ".service");
            string timer = Path.Combine(directory, schedule.UnitName + ".timer");
            plan.Location = new[] { service, timer };
            if (!ShouldProcess($"{service}, {timer}", $"Write a systemd service and a timer running Invoke-FluxSweep every {SweepSchedule.Describe(schedule.Interval)}"))
            {
                return;
            }

            try
            {
                Directory.CreateDirectory(directory);
                File.WriteAllText(service, schedule.SystemdService());
                File.WriteAllText(timer, schedule.SystemdTimer());
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                ThrowTerminating("ScheduleWriteFailed", e is UnauthorizedAccessException ? ErrorCategory.PermissionDenied : ErrorCategory.WriteError, directory,
                    $"Could not write the units to {directory} (root is needed for /etc/systemd/system): {e.Message}", e);
            }

            if (ScheduleSupport.SystemdRunning && UnitPath is null)
            {
                ScheduleSupport.Systemctl(this, "daemon-reload");
                plan.Enabled = ScheduleSupport.Systemctl(this, "enable", "--now", schedule.UnitName + ".timer");
            }
            else
            {
                WriteWarning($"The units are written but not enabled ({(UnitPath is null ? "systemd is not running here" : "-UnitPath given")}): run `systemctl daemon-reload; systemctl enable --now {schedule.UnitName}.timer` where systemd runs them.");
            }

            WriteObject(plan);
        }

        private void RegisterSystemd(SweepSchedule schedule)
        {
            var plan = Plan(schedule, "systemd", encoded: false);
            RegisterSystemd(plan, schedule, UnitPath is null ? "/etc/systemd/system" : SessionState.Path.GetUnresolvedProviderPathFromPSPath(UnitPath));
        }

        private void RegisterTask(SweepSchedule schedule)
        {
            var plan = Plan(schedule, "TaskScheduler", encoded: true);
            plan.Location = new[] { ScheduleSupport.TaskPath + schedule.Name };
            if (!ShouldProcess(ScheduleSupport.TaskPath + schedule.Name, $"Register a scheduled task (SYSTEM) running Invoke-FluxSweep every {SweepSchedule.Describe(schedule.Interval)}"))
            {
                return;
            }

            if (EventLog && !WindowsEventLog.SourceExists())
            {
                try
                {
                    WindowsEventLog.RegisterSource();
                }
                catch (Exception e) when (e is UnauthorizedAccessException or System.Security.SecurityException)
                {
                    ThrowTerminating("EventLogSourceNeedsAdmin", ErrorCategory.PermissionDenied, WindowsEventLog.SourceName,
                        "Registering the event log source FluxForensics needs an administrator: run Register-FluxSweep elevated.", e);
                }
            }

            const string script = @"
param($Name, $TaskPath, $Execute, $Argument, $Interval)
Import-Module ScheduledTasks -ErrorAction Stop
$action = New-ScheduledTaskAction -Execute $Execute -Argument $Argument
$trigger = New-ScheduledTaskTrigger -Once -At ((Get-Date).AddMinutes(1)) -RepetitionInterval $Interval
$principal = New-ScheduledTaskPrincipal -UserId 'SYSTEM' -LogonType ServiceAccount -RunLevel Highest
$settings = New-ScheduledTaskSettingsSet -MultipleInstances IgnoreNew -ExecutionTimeLimit $Interval -StartWhenAvailable
Register-ScheduledTask -TaskName $Name -TaskPath $TaskPath -Action $action -Trigger $trigger -Principal $principal -Settings $settings -Force -ErrorAction Stop | Out-Null
";
            plan.Enabled = ScheduleSupport.RunScript(this, script, new object[] { schedule.Name, ScheduleSupport.TaskPath, schedule.PwshPath, schedule.WindowsTaskArguments(), schedule.Interval }, "ScheduledTaskRegisterFailed");
            if (plan.Enabled)
            {
                WriteObject(plan);
            }
        }

        private static FluxSweepSchedule Plan(SweepSchedule schedule, string scheduler, bool encoded) => new FluxSweepSchedule(schedule.Name, scheduler)
        {
            Interval = schedule.Interval,
            Command = schedule.Command,
            Executable = schedule.PwshPath,
            Arguments = new List<string>(schedule.Arguments(encoded)).ToArray(),
        };
    }

    /// <summary>
    /// <para type="synopsis">Removes a sweep schedule made by Register-FluxSweep: the scheduled task, or the systemd timer and service.</para>
    /// </summary>
    [Cmdlet(VerbsLifecycle.Unregister, "FluxSweep", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium, HelpUri = HelpRoot + "Unregister-FluxSweep.md")]
    [OutputType(typeof(void))]
    public sealed class UnregisterFluxSweepCommand : FluxCmdlet
    {
        [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
        [ValidateNotNullOrEmpty]
        public string Name { get; set; } = "FluxSweep";

        /// <summary>Linux: where the unit files are (default /etc/systemd/system).</summary>
        [Parameter]
        public string? UnitPath { get; set; }

        protected override void ProcessRecord()
        {
            if (!SweepSchedule.IsValidName(Name))
            {
                WriteError(new ErrorRecord(new ArgumentException($"'{Name}' is not a sweep schedule name."), "ScheduleNameInvalid", ErrorCategory.InvalidArgument, Name));
                return;
            }

            if (ScheduleSupport.IsWindows)
            {
                if (ShouldProcess(ScheduleSupport.TaskPath + Name, "Unregister the scheduled task"))
                {
                    ScheduleSupport.RunScript(this, "param($Name, $TaskPath) Import-Module ScheduledTasks -ErrorAction Stop; Unregister-ScheduledTask -TaskName $Name -TaskPath $TaskPath -Confirm:$false -ErrorAction Stop",
                        new object[] { Name, ScheduleSupport.TaskPath }, "ScheduledTaskUnregisterFailed");
                }

                return;
            }

            string directory = UnitPath is null ? "/etc/systemd/system" : SessionState.Path.GetUnresolvedProviderPathFromPSPath(UnitPath);
            string unit = Name.ToLowerInvariant();
            string service = Path.Combine(directory, unit + ".service");
            string timer = Path.Combine(directory, unit + ".timer");
            if (!File.Exists(service) && !File.Exists(timer))
            {
                WriteError(new ErrorRecord(new FileNotFoundException($"No sweep schedule '{Name}' in {directory}.", timer), "ScheduleNotFound", ErrorCategory.ObjectNotFound, Name));
                return;
            }

            if (!ShouldProcess($"{service}, {timer}", "Stop the timer and remove the systemd units"))
            {
                return;
            }

            if (ScheduleSupport.SystemdRunning && UnitPath is null)
            {
                ScheduleSupport.Systemctl(this, "disable", "--now", unit + ".timer");
            }

            try
            {
                File.Delete(timer);
                File.Delete(service);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                WriteError(new ErrorRecord(e, "ScheduleRemoveFailed", e is UnauthorizedAccessException ? ErrorCategory.PermissionDenied : ErrorCategory.WriteError, directory));
                return;
            }

            if (ScheduleSupport.SystemdRunning && UnitPath is null)
            {
                ScheduleSupport.Systemctl(this, "daemon-reload");
            }
        }
    }

    /// <summary>What Register- and Unregister-FluxSweep share: the platform, systemctl, and running the ScheduledTasks cmdlets.</summary>
    internal static class ScheduleSupport
    {
        public const string TaskPath = @"\FluxForensics\";

        public static bool IsWindows => Environment.OSVersion.Platform == PlatformID.Win32NT;

        /// <summary>systemd is PID 1 (its runtime directory exists); in containers it often is not.</summary>
        public static bool SystemdRunning => Directory.Exists("/run/systemd/system");

        public static bool Systemctl(Cmdlet cmdlet, params string[] arguments)
        {
            var start = new ProcessStartInfo("systemctl") { UseShellExecute = false, RedirectStandardError = true, RedirectStandardOutput = true };
            foreach (var a in arguments)
            {
                start.Arguments += (start.Arguments.Length > 0 ? " " : string.Empty) + a;
            }

            try
            {
                using var process = Process.Start(start)!;
                string error = process.StandardError.ReadToEnd();
                process.StandardOutput.ReadToEnd();
                process.WaitForExit();
                if (process.ExitCode != 0)
                {
                    cmdlet.WriteError(new ErrorRecord(new InvalidOperationException($"systemctl {start.Arguments} failed ({process.ExitCode}): {error.Trim()}"), "SystemctlFailed", ErrorCategory.InvalidOperation, start.Arguments));
                    return false;
                }

                return true;
            }
            catch (System.ComponentModel.Win32Exception e)
            {
                cmdlet.WriteError(new ErrorRecord(e, "SystemctlMissing", ErrorCategory.NotInstalled, "systemctl"));
                return false;
            }
        }

        public static bool RunScript(PSCmdlet cmdlet, string script, object[] arguments, string errorId)
        {
            using var shell = PowerShell.Create(RunspaceMode.CurrentRunspace);
            shell.AddScript(script);
            foreach (var a in arguments)
            {
                shell.AddArgument(a);
            }

            try
            {
                shell.Invoke();
            }
            catch (RuntimeException e)
            {
                cmdlet.WriteError(new ErrorRecord(e, errorId, ErrorCategory.InvalidOperation, null));
                return false;
            }

            foreach (var error in shell.Streams.Error)
            {
                cmdlet.WriteError(error);
            }

            return shell.Streams.Error.Count == 0;
        }
    }
}
