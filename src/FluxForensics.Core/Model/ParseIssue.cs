using System;

namespace FluxForensics.Model
{
    /// <summary>A record that could not be read: where, and what was wrong. One bad record costs that record only.</summary>
    public sealed class ParseIssue
    {
        public ParseIssue(string source, long offset, string message, string? record = null)
        {
            Source = source ?? string.Empty;
            Offset = offset;
            Message = message ?? throw new ArgumentNullException(nameof(message));
            Record = record;
        }

        /// <summary>The file (or stream) the record was in.</summary>
        public string Source { get; }

        /// <summary>Byte offset of the bad record in <see cref="Source"/>, or -1 when not meaningful.</summary>
        public long Offset { get; }

        public string Message { get; }

        /// <summary>What kind of record it was (e.g. "pcapng block", "DNS name", "SMTP line").</summary>
        public string? Record { get; }

        public override string ToString() =>
            $"{Source}{(Offset >= 0 ? $" @ {Offset}" : string.Empty)}: {(Record is null ? string.Empty : Record + ": ")}{Message}";
    }
}
