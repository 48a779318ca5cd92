using System.Collections.Generic;
using System.Threading;
using FluxForensics.Model;
using FluxForensics.Scans;

namespace FluxForensics.Host
{
    /// <summary>
    /// The USB scan under the name and namespace it had when reading and judging were one class: existing callers and
    /// tests construct it. It is <see cref="UsbTrapScan"/>; the reading is <see cref="UsbDriveReader"/>'s.
    /// </summary>
    public sealed class UsbScanner
    {
        private readonly UsbTrapScan _scan;

        public UsbScanner(IFluxReporter reporter, int ansiCodePage = 1252, CancellationToken cancellation = default) =>
            _scan = new UsbTrapScan(reporter, ansiCodePage, cancellation);

        /// <summary>Payloads larger than this are not hashed (the finding says so).</summary>
        public const long MaxHashedPayload = UsbTrapScan.MaxHashedPayload;

        public int DirectoriesScanned => _scan.DirectoriesScanned;

        public long EntriesSeen => _scan.EntriesSeen;

        public IEnumerable<UsbLnkTrap> Scan(string root, bool recurse) => _scan.Scan(root, recurse);
    }
}
