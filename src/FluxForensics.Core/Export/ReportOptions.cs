using System;

namespace FluxForensics.Export
{
    /// <summary>How <see cref="ReportWriter"/> writes the HTML incident report.</summary>
    public sealed class ReportOptions
    {
        /// <summary>The report's title; the incident's own title when null.</summary>
        public string? Title { get; set; }

        /// <summary>Hosts drawn per role in the network picture before the rest fold into "+N more".</summary>
        public int MaxNodesPerRole { get; set; } = 12;

        /// <summary>Rows a table shows open; the rest sit in a closed details element.</summary>
        public int VisibleRows { get; set; } = 25;

        /// <summary>Rows a table holds at most; beyond that a line says how many were left out, so the file stays small.</summary>
        public int MaxRows { get; set; } = 1000;

        /// <summary>The time printed as "generated"; now when null (tests pin it).</summary>
        public DateTime? GeneratedAt { get; set; }
    }
}
