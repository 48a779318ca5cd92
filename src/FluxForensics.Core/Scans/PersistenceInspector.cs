using System;
using System.Collections.Generic;
using System.Threading;
using FluxForensics.Model;
using FluxForensics.Scans;

namespace FluxForensics.Host
{
    /// <summary>
    /// The autorun scan under the name and namespace it had when reading and judging were one class: existing callers and
    /// tests call it. It is <see cref="AutorunScan"/>; the reading is <see cref="AutorunTargetReader"/>'s.
    /// </summary>
    public static class PersistenceInspector
    {
        /// <summary>Scans and scores. <paramref name="correlated"/> maps lowercase SHA-256 to what it was seen as.</summary>
        public static IEnumerable<SuspiciousAutorun> Inspect(PersistenceScanOptions options, IReadOnlyDictionary<string, string>? correlated,
            IFluxReporter reporter, CancellationToken cancellation, DateTime? now = null) =>
            AutorunScan.Run(options, correlated, reporter, cancellation, now);
    }
}
