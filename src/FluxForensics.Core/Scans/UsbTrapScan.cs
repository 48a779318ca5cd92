using System.Collections.Generic;
using System.Threading;
using FluxForensics.Detection;
using FluxForensics.Host;
using FluxForensics.Model;

namespace FluxForensics.Scans
{
    /// <summary>
    /// The USB feature from source to findings: the drive reader yields what it finds on a drive (reading around only the
    /// shortcuts the rules call candidates), the rules judge each, traps come out as they are found.
    /// </summary>
    public sealed class UsbTrapScan
    {
        private readonly UsbDriveReader _reader;

        public UsbTrapScan(IFluxReporter reporter, int ansiCodePage = 1252, CancellationToken cancellation = default)
        {
            _reader = new UsbDriveReader(reporter, ansiCodePage, cancellation) { ShortcutFilter = UsbTrapRules.IsCandidate };
        }

        /// <summary>Payloads larger than this are not hashed (the finding says so).</summary>
        public const long MaxHashedPayload = UsbDriveReader.MaxHashedPayload;

        /// <summary>Number of directories and entries looked at so far (for benchmarks and progress).</summary>
        public int DirectoriesScanned => _reader.DirectoriesScanned;

        public long EntriesSeen => _reader.EntriesSeen;

        /// <summary>Yields the traps under <paramref name="root"/>; the trap itself lives in the root, <paramref name="recurse"/> looks below.</summary>
        public IEnumerable<UsbLnkTrap> Scan(string root, bool recurse)
        {
            foreach (var facts in _reader.Read(root, recurse))
            {
                if (UsbTrapRules.Judge(facts) is { } trap)
                {
                    yield return trap;
                }
            }
        }
    }
}
