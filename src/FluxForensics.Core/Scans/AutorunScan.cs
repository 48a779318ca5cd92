using System;
using System.Collections.Generic;
using System.Threading;
using FluxForensics.Detection;
using FluxForensics.Host;
using FluxForensics.Model;

namespace FluxForensics.Scans
{
    /// <summary>
    /// The autorun feature from source to findings: the persistence sources read each entry and what it finally runs, the
    /// autorun rules judge it. Findings come out as entries are read.
    /// </summary>
    public static class AutorunScan
    {
        /// <summary>Scans and scores. <paramref name="correlated"/> maps lowercase SHA-256 to what it was seen as.</summary>
        public static IEnumerable<SuspiciousAutorun> Run(PersistenceScanOptions options, IReadOnlyDictionary<string, string>? correlated,
            IFluxReporter reporter, CancellationToken cancellation, DateTime? now = null)
        {
            DateTime at = now ?? DateTime.UtcNow;
            foreach (ObservedAutorun observed in AutorunTargetReader.Read(options, reporter, cancellation))
            {
                yield return AutorunRules.Judge(observed, correlated, at);
            }
        }
    }
}
