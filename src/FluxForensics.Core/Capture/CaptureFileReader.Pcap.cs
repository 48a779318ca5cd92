using System;

namespace FluxForensics.Capture
{
    /// <summary>Classic pcap (libpcap) files: the file header, records, and resynchronisation after a corrupt record.</summary>
    public sealed partial class CaptureFileReader
    {
        // classic pcap
        private bool _nanosecond;
        private int _pcapRecordHeader = 16;
        private int _pcapMaxCaplen;
        private int _pcapLinkType;

        /// <summary>The rest of a classic pcap file header, once its magic is known (byte order already set).</summary>
        private void ReadPcapFileHeader(uint magic)
        {
            if (!Ensure(24))
            {
                Report(0, "truncated pcap file header", "pcap header");
                Stop(error: true);
                return;
            }

            Format = CaptureFileFormat.Pcap;
            _nanosecond = magic == PcapMagicNano;
            _pcapRecordHeader = magic == PcapMagicModified ? 24 : 16;
            int snap = (int)Math.Min(U32(_start + 16), (uint)MaxRecordBytes);
            _pcapMaxCaplen = Math.Max(snap, 262144);
            _pcapLinkType = (int)(U32(_start + 20) & 0xFFFF);
            _start += 24;
            if (!PacketDecoder.IsSupportedLinkType(_pcapLinkType))
            {
                Report(20, $"unknown link type {_pcapLinkType}: its packets are counted but not decoded", "pcap header");
            }
        }

        private bool ReadPcapRecord()
        {
            while (true)
            {
                int h = _pcapRecordHeader;
                if (!Ensure(h))
                {
                    if (_end > _start)
                    {
                        Report(Offset(_start), $"truncated last record: {_end - _start} of {h} header bytes present", "pcap record");
                    }

                    return false;
                }

                int p = _start;
                uint caplen = U32(p + 8);
                uint origlen = U32(p + 12);
                if (caplen > (uint)_pcapMaxCaplen)
                {
                    Report(Offset(p), $"corrupt record: captured length {caplen} exceeds the limit {_pcapMaxCaplen}", "pcap record");
                    if (!ResyncPcap())
                    {
                        return false;
                    }

                    continue;
                }

                int total = h + (int)caplen;
                if (!Ensure(total))
                {
                    Report(Offset(p), $"truncated last record: {_end - _start - h} of {caplen} packet bytes present", "pcap record");
                    return false;
                }

                p = _start;
                uint sec = U32(p);
                uint frac = U32(p + 4);
                long ticks = UnixEpochTicks + (long)sec * TimeSpan.TicksPerSecond + (_nanosecond ? frac / 100 : (long)frac * 10);
                TimestampTicks = ticks > MaxTicks ? MaxTicks : ticks;
                LinkType = _pcapLinkType;
                InterfaceId = 0;
                OriginalLength = (int)Math.Min(Math.Max(origlen, caplen), int.MaxValue);
                RecordOffset = Offset(p);
                _frameStart = p + h;
                _frameLength = (int)caplen;
                _start += total;
                return true;
            }
        }

        private bool PlausiblePcapHeader(int p, out int total)
        {
            total = 0;
            uint frac = U32(p + 4);
            uint caplen = U32(p + 8);
            uint origlen = U32(p + 12);
            if (caplen > (uint)_pcapMaxCaplen || origlen < caplen || origlen > MaxRecordBytes || frac >= (_nanosecond ? 1_000_000_000u : 1_000_000u))
            {
                return false;
            }

            // The seconds must lie near the last good record: within a day.
            long sec = U32(p);
            long lastSec = (TimestampTicks - UnixEpochTicks) / TimeSpan.TicksPerSecond;
            if (RecordCount > 0 && Math.Abs(sec - lastSec) > 86400)
            {
                return false;
            }

            total = _pcapRecordHeader + (int)caplen;
            return true;
        }

        /// <summary>After a corrupt record header: scan forward for two consecutive plausible records (or one that ends the file).</summary>
        private bool ResyncPcap()
        {
            long from = Offset(_start);
            int h = _pcapRecordHeader;
            _start++;
            long scanned = 0;
            while (scanned < MaxResyncScanBytes)
            {
                if (!Ensure(h))
                {
                    break;
                }

                if (PlausiblePcapHeader(_start, out int total))
                {
                    bool ensured = Ensure(total + h);
                    if (ensured && PlausiblePcapHeader(_start + total, out _))
                    {
                        Report(from, $"resynchronised at offset {Offset(_start)} after skipping {Offset(_start) - from} bytes", "pcap record");
                        return true;
                    }

                    if (!ensured && _eof && _end - _start == total)
                    {
                        Report(from, $"resynchronised at offset {Offset(_start)} (the last record) after skipping {Offset(_start) - from} bytes", "pcap record");
                        return true;
                    }
                }

                _start++;
                scanned++;
            }

            Report(from, "could not find the next record after a corrupt one; the rest of the file is not read", "pcap record");
            Stop(error: true);
            return false;
        }
    }
}
