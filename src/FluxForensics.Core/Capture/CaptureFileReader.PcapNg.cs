using System;
using System.Buffers.Binary;
using System.Collections.Generic;

namespace FluxForensics.Capture
{
    /// <summary>pcapng files: sections, interfaces and their timestamp resolution, packet blocks, and resynchronisation after a corrupt block.</summary>
    public sealed partial class CaptureFileReader
    {
        // pcapng: interfaces of the current section
        private readonly List<InterfaceInfo> _interfaces = new List<InterfaceInfo>();
        private long _blockCount;

        private readonly struct InterfaceInfo
        {
            public InterfaceInfo(int linkType, int snapLength, ulong unitsPerSecond, long offsetSeconds)
            {
                LinkType = linkType;
                SnapLength = snapLength;
                UnitsPerSecond = unitsPerSecond;
                OffsetSeconds = offsetSeconds;
            }

            public int LinkType { get; }
            public int SnapLength { get; }
            public ulong UnitsPerSecond { get; }
            public long OffsetSeconds { get; }
        }

        private bool ReadPcapNgPacket()
        {
            while (true)
            {
                if (!Ensure(12))
                {
                    if (_end > _start)
                    {
                        Report(Offset(_start), $"truncated last block: {_end - _start} bytes present", "pcapng block");
                    }

                    return false;
                }

                int p = _start;
                uint type = U32(p);
                if (type == SectionHeaderType)
                {
                    uint bomLe = BinaryPrimitives.ReadUInt32LittleEndian(_buffer.AsSpan(p + 8));
                    if (bomLe == ByteOrderMagic)
                    {
                        _bigEndian = false;
                    }
                    else if (BinaryPrimitives.ReadUInt32BigEndian(_buffer.AsSpan(p + 8)) == ByteOrderMagic)
                    {
                        _bigEndian = true;
                    }
                    else
                    {
                        Report(Offset(p), "section header with an unknown byte-order magic", "pcapng block");
                        if (!ResyncPcapNg())
                        {
                            return false;
                        }

                        continue;
                    }
                }
                else if (_blockCount == 0)
                {
                    Report(Offset(p), "the file does not start with a section header block", "pcapng block");
                    Stop(error: true);
                    return false;
                }

                uint length = U32(p + 4);
                if (length < 12 || (length & 3) != 0 || length > MaxRecordBytes)
                {
                    Report(Offset(p), $"corrupt block length {length} (block type 0x{type:X8})", "pcapng block");
                    if (!ResyncPcapNg())
                    {
                        return false;
                    }

                    continue;
                }

                if (!Ensure((int)length))
                {
                    Report(Offset(_start), $"truncated last block: {_end - _start} of {length} bytes present (block type 0x{type:X8})", "pcapng block");
                    return false;
                }

                p = _start;
                if (U32(p + (int)length - 4) != length)
                {
                    Report(Offset(p), $"corrupt block: leading length {length} and trailing length {U32(p + (int)length - 4)} differ (block type 0x{type:X8})", "pcapng block");
                    if (!ResyncPcapNg())
                    {
                        return false;
                    }

                    continue;
                }

                _blockCount++;
                _start += (int)length;
                if (HandleBlock(type, p, (int)length))
                {
                    return true;
                }
            }
        }

        /// <summary>Interprets one well-framed block at <paramref name="p"/>; true when it produced a frame.</summary>
        private bool HandleBlock(uint type, int p, int length)
        {
            int body = p + 8;
            int bodyLength = length - 12;
            switch (type)
            {
                case SectionHeaderType:
                    _interfaces.Clear();
                    return false;

                case 1: // interface description
                    ReadInterface(p, body, bodyLength);
                    return false;

                case 6: // enhanced packet
                case 2: // obsolete packet block
                {
                    if (bodyLength < 20)
                    {
                        Report(Offset(p), $"packet block too short ({length} bytes)", "pcapng block");
                        return false;
                    }

                    int interfaceId = type == 6 ? (int)Math.Min(U32(body), int.MaxValue) : U16(body);
                    uint caplen = U32(body + 12);
                    uint origlen = U32(body + 16);
                    if (caplen > (uint)(bodyLength - 20))
                    {
                        Report(Offset(p), $"captured length {caplen} exceeds the block ({bodyLength - 20} bytes of data)", "pcapng block");
                        return false;
                    }

                    if (interfaceId >= _interfaces.Count)
                    {
                        Report(Offset(p), $"packet for undeclared interface {interfaceId}", "pcapng block");
                        return false;
                    }

                    var iface = _interfaces[interfaceId];
                    ulong ts = ((ulong)U32(body + 4) << 32) | U32(body + 8);
                    SetFrame(iface, interfaceId, ts, p, body + 20, (int)caplen, origlen);
                    return true;
                }

                case 3: // simple packet
                {
                    if (bodyLength < 4)
                    {
                        Report(Offset(p), $"simple packet block too short ({length} bytes)", "pcapng block");
                        return false;
                    }

                    if (_interfaces.Count == 0)
                    {
                        Report(Offset(p), "simple packet block before any interface description", "pcapng block");
                        return false;
                    }

                    var iface = _interfaces[0];
                    uint origlen = U32(body);
                    long caplen = Math.Min(origlen, (uint)(bodyLength - 4));
                    if (iface.SnapLength > 0)
                    {
                        caplen = Math.Min(caplen, iface.SnapLength);
                    }

                    // A simple packet has no timestamp: it takes the previous one.
                    InterfaceId = 0;
                    LinkType = iface.LinkType;
                    OriginalLength = (int)Math.Min(Math.Max(origlen, (uint)caplen), int.MaxValue);
                    RecordOffset = Offset(p);
                    _frameStart = body + 4;
                    _frameLength = (int)caplen;
                    return true;
                }

                default:
                    return false; // name resolution, statistics, custom and unknown blocks are skipped
            }
        }

        private void SetFrame(in InterfaceInfo iface, int interfaceId, ulong ts, int blockStart, int data, int caplen, uint origlen)
        {
            TimestampTicks = ToTicks(ts, iface.UnitsPerSecond, iface.OffsetSeconds);
            LinkType = iface.LinkType;
            InterfaceId = interfaceId;
            OriginalLength = (int)Math.Min(Math.Max(origlen, (uint)caplen), int.MaxValue);
            RecordOffset = Offset(blockStart);
            _frameStart = data;
            _frameLength = caplen;
        }

        internal static long ToTicks(ulong ts, ulong unitsPerSecond, long offsetSeconds)
        {
            long ticks;
            if (unitsPerSecond == 1_000_000)
            {
                ticks = ts > (ulong)(MaxTicks / 10) ? MaxTicks : (long)ts * 10;
            }
            else if (unitsPerSecond == 10_000_000)
            {
                ticks = ts > (ulong)MaxTicks ? MaxTicks : (long)ts;
            }
            else if (unitsPerSecond == 1_000_000_000)
            {
                ticks = (long)(ts / 100);
            }
            else
            {
                ulong seconds = ts / unitsPerSecond;
                ulong frac = ts % unitsPerSecond;
                if (seconds > (ulong)(MaxTicks / TimeSpan.TicksPerSecond))
                {
                    return MaxTicks;
                }

                ulong fracTicks = unitsPerSecond <= (1UL << 40)
                    ? frac * (ulong)TimeSpan.TicksPerSecond / unitsPerSecond
                    : (ulong)(frac / (double)unitsPerSecond * TimeSpan.TicksPerSecond);
                ticks = (long)seconds * TimeSpan.TicksPerSecond + (long)fracTicks;
            }

            ticks += UnixEpochTicks;
            if (offsetSeconds != 0)
            {
                ticks += offsetSeconds * TimeSpan.TicksPerSecond;
            }

            return ticks < 0 ? 0 : ticks > MaxTicks ? MaxTicks : ticks;
        }

        private void ReadInterface(int p, int body, int bodyLength)
        {
            if (bodyLength < 8)
            {
                Report(Offset(p), "interface description block too short", "pcapng block");
                return;
            }

            if (_interfaces.Count >= MaxInterfaces)
            {
                Report(Offset(p), $"more than {MaxInterfaces} interfaces in one section; the rest are ignored", "pcapng block");
                return;
            }

            int linkType = U16(body);
            int snap = (int)Math.Min(U32(body + 4), int.MaxValue);
            ulong units = 1_000_000;
            long offsetSeconds = 0;

            // options: code (2), length (2), value padded to 4; opt_endofopt ends them.
            int o = body + 8;
            int end = body + bodyLength;
            while (o + 4 <= end)
            {
                int code = U16(o);
                int len = U16(o + 2);
                int value = o + 4;
                if (code == 0)
                {
                    break;
                }

                if (value + len > end)
                {
                    Report(Offset(p) + (o - p), $"interface option {code} runs past its block", "pcapng option");
                    break;
                }

                if (code == 9 && len >= 1)
                {
                    byte r = _buffer[value];
                    int exponent = r & 0x7F;
                    bool power2 = (r & 0x80) != 0;
                    if ((power2 && exponent > 63) || (!power2 && exponent > 19))
                    {
                        Report(Offset(p) + (o - p), $"unsupported timestamp resolution 0x{r:X2}; microseconds assumed", "pcapng option");
                    }
                    else
                    {
                        units = power2 ? 1UL << exponent : Pow10(exponent);
                        if (units == 0)
                        {
                            units = 1;
                        }
                    }
                }
                else if (code == 14 && len >= 8)
                {
                    offsetSeconds = (long)U64(value);
                }

                o = value + ((len + 3) & ~3);
            }

            _interfaces.Add(new InterfaceInfo(linkType, snap, units, offsetSeconds));
            if (!PacketDecoder.IsSupportedLinkType(linkType))
            {
                Report(Offset(p), $"interface {_interfaces.Count - 1}: unknown link type {linkType}: its packets are counted but not decoded", "pcapng block");
            }
        }

        private static ulong Pow10(int exponent)
        {
            ulong v = 1;
            for (int i = 0; i < exponent; i++)
            {
                v *= 10;
            }

            return v;
        }

        /// <summary>After a corrupt block: scan 4-byte steps for a known block type whose leading and trailing lengths agree.</summary>
        private bool ResyncPcapNg()
        {
            long from = Offset(_start);
            _start += 4;
            long scanned = 0;
            while (scanned < MaxResyncScanBytes)
            {
                if (!Ensure(12))
                {
                    break;
                }

                uint type = U32(_start);
                bool bigEndian = _bigEndian;
                if (type == SectionHeaderType)
                {
                    // A new section may be in the other byte order: its own byte-order magic says.
                    if (BinaryPrimitives.ReadUInt32LittleEndian(_buffer.AsSpan(_start + 8)) == ByteOrderMagic)
                    {
                        bigEndian = false;
                    }
                    else if (BinaryPrimitives.ReadUInt32BigEndian(_buffer.AsSpan(_start + 8)) == ByteOrderMagic)
                    {
                        bigEndian = true;
                    }
                    else
                    {
                        type = 0;
                    }
                }

                uint length = Read32(_start + 4, bigEndian);
                if ((type is >= 1 and <= 10 or SectionHeaderType) && length >= 12 && (length & 3) == 0 && length <= MaxRecordBytes &&
                    (type != SectionHeaderType || length >= 28))
                {
                    if (Ensure((int)length) && Read32(_start + (int)length - 4, bigEndian) == length)
                    {
                        Report(from, $"resynchronised at offset {Offset(_start)} after skipping {Offset(_start) - from} bytes", "pcapng block");
                        return true;
                    }
                }

                _start += 4;
                scanned += 4;
            }

            Report(from, "could not find the next block after a corrupt one; the rest of the file is not read", "pcapng block");
            Stop(error: true);
            return false;
        }
    }
}
