using System;
using System.Diagnostics;
using System.Management.Automation;
using System.Threading;
using FluxForensics.Model;

namespace FluxForensics.Commands
{
    /// <summary>
    /// What every FluxForensics cmdlet shares: a cancellation token that Ctrl+C trips, a reporter Core talks back
    /// through, and error helpers with stable IDs.
    /// </summary>
    public abstract class FluxCmdlet : PSCmdlet
    {
        /// <summary>Where each cmdlet's page is read online (Get-Help -Online): docs/&lt;Cmdlet&gt;.md of the repository.</summary>
        internal const string HelpRoot = "https://github.com/fluxforensics/FluxForensics/blob/main/docs/";

        private CancellationTokenSource? _cancellation;
        private CmdletReporter? _reporter;

        protected CancellationToken CancellationToken => (_cancellation ??= new CancellationTokenSource()).Token;

        internal CmdletReporter Reporter => _reporter ??= new CmdletReporter(this);

        protected override void BeginProcessing()
        {
            _cancellation ??= new CancellationTokenSource();
        }

        protected override void StopProcessing()
        {
            _cancellation?.Cancel();
        }

        protected override void EndProcessing()
        {
            _reporter?.Complete();
        }

        /// <summary>Shells of cmdlets whose issue has not landed stop here rather than pretending to work.</summary>
        protected void ThrowNotImplemented(string issue)
        {
            ThrowTerminatingError(new ErrorRecord(
                new NotImplementedException($"{MyInvocation.MyCommand.Name} is not implemented yet ({issue})."),
                "NotImplementedYet", ErrorCategory.NotImplemented, null));
        }

        protected void ThrowTerminating(string errorId, ErrorCategory category, object? target, string message, Exception? inner = null)
        {
            ThrowTerminatingError(new ErrorRecord(inner is null ? new InvalidOperationException(message) : new InvalidOperationException(message, inner), errorId, category, target));
        }

        internal static ErrorCategory ToCategory(FluxErrorCategory category) => category switch
        {
            FluxErrorCategory.ReadError => ErrorCategory.ReadError,
            FluxErrorCategory.InvalidData => ErrorCategory.InvalidData,
            FluxErrorCategory.PermissionDenied => ErrorCategory.PermissionDenied,
            FluxErrorCategory.ObjectNotFound => ErrorCategory.ObjectNotFound,
            FluxErrorCategory.ResourceUnavailable => ErrorCategory.ResourceUnavailable,
            FluxErrorCategory.InvalidOperation => ErrorCategory.InvalidOperation,
            FluxErrorCategory.InvalidArgument => ErrorCategory.InvalidArgument,
            FluxErrorCategory.NotInstalled => ErrorCategory.NotInstalled,
            FluxErrorCategory.OperationStopped => ErrorCategory.OperationStopped,
            FluxErrorCategory.WriteError => ErrorCategory.WriteError,
            FluxErrorCategory.ResourceExists => ErrorCategory.ResourceExists,
            FluxErrorCategory.SecurityError => ErrorCategory.SecurityError,
            FluxErrorCategory.NotImplemented => ErrorCategory.NotImplemented,
            _ => ErrorCategory.NotSpecified,
        };

        internal static ErrorRecord ToErrorRecord(FluxError error) =>
            new ErrorRecord(error.Exception ?? new InvalidOperationException(error.Message), error.ErrorId, ToCategory(error.Category), error.Target)
            {
                ErrorDetails = new ErrorDetails(error.Message),
            };
    }

    /// <summary>
    /// Turns Core's reports into PowerShell streams. Must be called on the pipeline thread. Progress is throttled to
    /// a few updates a second and closed with a Completed record.
    /// <para>
    /// Once the user pressed Ctrl+C, PowerShell refuses every write with a PipelineStoppedException. Core is told to
    /// stop through the cancellation token and winds down on its own (a capture analysis still judges what it read):
    /// a report made meanwhile is dropped here rather than thrown through Core, which would lose that partial result.
    /// </para>
    /// </summary>
    internal sealed class CmdletReporter : IFluxReporter
    {
        private static readonly long MinTicksBetweenProgress = Stopwatch.Frequency / 4;
        private readonly Cmdlet _cmdlet;
        private readonly int _activityId;
        private long _lastProgress;
        private string? _activity;

        public CmdletReporter(Cmdlet cmdlet)
        {
            _cmdlet = cmdlet;
            _activityId = Math.Abs(cmdlet.GetType().Name.GetHashCode() % 10000) + 1;
        }

        public void Progress(string activity, string status, double fraction)
        {
            long now = Stopwatch.GetTimestamp();
            if (_activity is not null && now - _lastProgress < MinTicksBetweenProgress)
            {
                return;
            }

            _lastProgress = now;
            _activity = activity;
            int percent = double.IsNaN(fraction) ? -1 : (int)Math.Max(0, Math.Min(100, fraction * 100));
            Write(() => _cmdlet.WriteProgress(new ProgressRecord(_activityId, activity, string.IsNullOrEmpty(status) ? activity : status) { PercentComplete = percent }));
        }

        public void Complete()
        {
            if (_activity is not null)
            {
                string activity = _activity;
                _activity = null;
                Write(() => _cmdlet.WriteProgress(new ProgressRecord(_activityId, activity, "Done") { RecordType = ProgressRecordType.Completed }));
            }
        }

        public void Warning(string message) => Write(() => _cmdlet.WriteWarning(message));

        public void Verbose(string message) => Write(() => _cmdlet.WriteVerbose(message));

        public void Issue(ParseIssue issue) => Write(() => _cmdlet.WriteWarning(issue.ToString()));

        public void Error(FluxError error) => Write(() => _cmdlet.WriteError(FluxCmdlet.ToErrorRecord(error)));

        private void Write(Action write)
        {
            if (_cmdlet.Stopping)
            {
                return;
            }

            try
            {
                write();
            }
            catch (PipelineStoppedException)
            {
                // Ctrl+C arrived between the check and the write: the same as above.
            }
        }
    }
}
