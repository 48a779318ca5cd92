using System;
using FluxForensics.Model;

namespace FluxForensics
{
    /// <summary>
    /// How Core talks back to whoever runs it (a cmdlet, a test, a benchmark) without knowing about PowerShell.
    /// Implementations are called only from the thread that called into Core.
    /// </summary>
    public interface IFluxReporter
    {
        /// <summary>Reports progress of a long operation. Implementations throttle; callers may call often.</summary>
        void Progress(string activity, string status, double fraction);

        /// <summary>Something the user should know that does not stop the work (e.g. what could not be read).</summary>
        void Warning(string message);

        /// <summary>Detail for -Verbose.</summary>
        void Verbose(string message);

        /// <summary>A record that could not be parsed. The work goes on.</summary>
        void Issue(ParseIssue issue);

        /// <summary>A per-item failure (non-terminating error in PowerShell terms).</summary>
        void Error(FluxError error);
    }

    /// <summary>Per-item failure: stable id, category and the item it concerns.</summary>
    public sealed class FluxError
    {
        public FluxError(string errorId, FluxErrorCategory category, string target, string message, Exception? exception = null)
        {
            ErrorId = errorId;
            Category = category;
            Target = target;
            Message = message;
            Exception = exception;
        }

        public string ErrorId { get; }
        public FluxErrorCategory Category { get; }
        public string Target { get; }
        public string Message { get; }
        public Exception? Exception { get; }
    }

    /// <summary>Mirrors the PowerShell ErrorCategory values Core needs, so Core does not reference PowerShell.</summary>
    public enum FluxErrorCategory
    {
        NotSpecified,
        ReadError,
        InvalidData,
        PermissionDenied,
        ObjectNotFound,
        ResourceUnavailable,
        InvalidOperation,
        InvalidArgument,
        NotInstalled,
        OperationStopped,
        WriteError,
        ResourceExists,
        SecurityError,
        NotImplemented,
    }

    /// <summary>A reporter that drops everything: the default when a caller gives none.</summary>
    public sealed class NullReporter : IFluxReporter
    {
        public static readonly NullReporter Instance = new NullReporter();
        public void Progress(string activity, string status, double fraction) { }
        public void Warning(string message) { }
        public void Verbose(string message) { }
        public void Issue(ParseIssue issue) { }
        public void Error(FluxError error) { }
    }
}
