using System;
using System.Runtime.CompilerServices;
using System.Collections.Generic;

namespace FluxForensics.Capture
{
    /// <summary>
    /// A worker's DNS side: finds the DNS messages of UDP and TCP port 53 (reassembling DNS over TCP's length-framed
    /// messages, RFC 1035 §4.2.2) and hands each to the correlators, which hold the capture-wide DNS tables. Memory
    /// follows open DNS-over-TCP flows, capped.
    /// </summary>
    internal sealed class DnsFlowAnalyzer
    {
        public const int DnsPort = 53;
        public const int MaxTcpFlows = 4096;

        private readonly ICaptureTransactions _sink;
        private readonly Dictionary<TcpFlowKey, DnsTcpStream> _tcp = new Dictionary<TcpFlowKey, DnsTcpStream>();

        public DnsFlowAnalyzer(ICaptureTransactions sink)
        {
            _sink = sink ?? throw new ArgumentNullException(nameof(sink));
        }

        /// <summary>DNS-over-TCP flows forgotten at the cap (a flood of half-open flows).</summary>
        public long DroppedTcpFlows => _droppedTcpFlows;

        private long _droppedTcpFlows;

        /// <param name="packet">A decoded packet, valid during the call.</param>
        /// <param name="file">The capture file of the packet, for parse issues (null when live).</param>
        /// <param name="offset">The offset of the packet's record in <paramref name="file"/>, or -1.</param>
        [MethodImpl(Jit.Hot)]
        public void OnPacket(in DecodedPacket packet, string? file, long offset)
        {
            if (packet.SourcePort != DnsPort && packet.DestinationPort != DnsPort)
            {
                return;
            }

            if (packet.Protocol == TransportProtocol.Udp)
            {
                if (packet.Payload.Length > 0)
                {
                    _sink.DnsMessage(packet.Payload, packet.Source, packet.Destination, packet.TimestampTicks, packet.PayloadTruncated, file, offset);
                }
            }
            else if (packet.Protocol == TransportProtocol.Tcp)
            {
                OnTcpSegment(packet, file, offset);
            }
        }

        private void OnTcpSegment(in DecodedPacket packet, string? file, long offset)
        {
            var key = new TcpFlowKey(packet.Source, packet.Destination, packet.SourcePort, packet.DestinationPort);
            bool closing = (packet.TcpFlags & (TcpFlags.Fin | TcpFlags.Rst)) != 0;
            if (packet.Payload.Length == 0)
            {
                if (closing)
                {
                    _tcp.Remove(key);
                }

                return;
            }

            if (!_tcp.TryGetValue(key, out var stream))
            {
                if (_tcp.Count >= MaxTcpFlows)
                {
                    // A flood of half-open DNS-over-TCP flows must not grow memory: forget the lot and start over.
                    _droppedTcpFlows += _tcp.Count;
                    _tcp.Clear();
                }

                stream = new DnsTcpStream();
                _tcp[key] = stream;
            }

            if (packet.PayloadTruncated)
            {
                stream.Reset(packet.Sequence + (uint)packet.Payload.Length);
                if (closing)
                {
                    _tcp.Remove(key);
                }

                return;
            }

            stream.Append(packet.Sequence, packet.Payload);
            while (stream.TryTakeMessage(out var message, out bool oversized))
            {
                if (oversized)
                {
                    continue;
                }

                _sink.DnsMessage(message, packet.Source, packet.Destination, packet.TimestampTicks, false, file, offset);
            }

            stream.Compact();
            if (closing)
            {
                _tcp.Remove(key);
            }
        }

        private readonly struct TcpFlowKey : IEquatable<TcpFlowKey>
        {
            private readonly NetAddress _source;
            private readonly NetAddress _destination;
            private readonly int _ports;

            public TcpFlowKey(NetAddress source, NetAddress destination, ushort sourcePort, ushort destinationPort)
            {
                _source = source;
                _destination = destination;
                _ports = (sourcePort << 16) | destinationPort;
            }

            public bool Equals(TcpFlowKey other) => _ports == other._ports && _source == other._source && _destination == other._destination;
            public override bool Equals(object? obj) => obj is TcpFlowKey other && Equals(other);
            public override int GetHashCode() => _source.GetHashCode() * 31 + _destination.GetHashCode() * 17 + _ports;
        }
    }

    /// <summary>
    /// One direction of a DNS-over-TCP flow (RFC 1035 §4.2.2: each message behind a 2-byte length). In-order
    /// segments only: a gap or an out-of-order segment resets the buffer, which holds at most one maximal message.
    /// </summary>
    internal sealed class DnsTcpStream
    {
        public const int MaxBuffered = 2 + 65535;

        private byte[] _buffer = new byte[512];
        private int _start;
        private int _end;
        private uint _nextSequence;
        private bool _synchronised;
        private int _skip;

        public void Reset(uint nextSequence)
        {
            _start = _end = 0;
            _skip = 0;
            _nextSequence = nextSequence;
            _synchronised = false;
        }

        public void Append(uint sequence, ReadOnlySpan<byte> data)
        {
            if (_synchronised && sequence != _nextSequence)
            {
                if ((int)(sequence - _nextSequence) < 0 && (int)(sequence + (uint)data.Length - _nextSequence) <= 0)
                {
                    return; // a retransmission of what we already have
                }

                _start = _end = 0;
                _skip = 0;
                _synchronised = false;
            }

            if (!_synchronised && _end != _start)
            {
                _start = _end = 0;
            }

            _synchronised = true;
            _nextSequence = sequence + (uint)data.Length;
            if (_skip > 0)
            {
                int skipped = Math.Min(_skip, data.Length);
                _skip -= skipped;
                data = data.Slice(skipped);
            }

            int needed = _end - _start + data.Length;
            if (needed > MaxBuffered)
            {
                // Cannot be a valid stream of messages we still need; drop what we have and resynchronise later.
                _start = _end = 0;
                _synchronised = false;
                return;
            }

            if (_end + data.Length > _buffer.Length)
            {
                var grown = new byte[Math.Min(MaxBuffered, Math.Max(_buffer.Length * 2, needed))];
                Buffer.BlockCopy(_buffer, _start, grown, 0, _end - _start);
                _end -= _start;
                _start = 0;
                _buffer = grown;
            }

            data.CopyTo(_buffer.AsSpan(_end));
            _end += data.Length;
        }

        /// <summary>The next complete message, if any. Messages are never larger than 65535 bytes, so none is oversized today.</summary>
        public bool TryTakeMessage(out ReadOnlySpan<byte> message, out bool oversized)
        {
            message = default;
            oversized = false;
            if (_end - _start < 2)
            {
                return false;
            }

            int length = (_buffer[_start] << 8) | _buffer[_start + 1];
            if (_end - _start < 2 + length)
            {
                return false;
            }

            message = _buffer.AsSpan(_start + 2, length);
            _start += 2 + length;
            return true;
        }

        /// <summary>Moves the unread tail to the front so the buffer never creeps.</summary>
        public void Compact()
        {
            if (_start == _end)
            {
                _start = _end = 0;
            }
            else if (_start > 0)
            {
                Buffer.BlockCopy(_buffer, _start, _buffer, 0, _end - _start);
                _end -= _start;
                _start = 0;
            }
        }
    }
}
