using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Text;
using FluxForensics.Capture;

namespace FluxForensics.Fixtures.Capture
{
    /// <summary>
    /// Writes a large mixed capture fast, for the capture-read benchmark: DNS over UDP (queries and answers with
    /// A records for a fixed set of names, IPv4 and IPv6), and TCP connections (SYN, requests, responses, ACKs) whose
    /// sequence numbers advance per connection and direction as a real stack's do. Deterministic.
    /// Frames are built once as templates and patched per packet, so generating 5 million packets takes seconds.
    /// </summary>
    public sealed class BenchReadCaptureCommand : IFixtureCommand
    {
        public string Name => "bench-read-capture";
        public string Usage => "bench-read-capture OUT.pcap|OUT.pcapng PACKETS [FLOWS] (mixed DNS/TCP Ethernet capture)";

        public int Run(string[] args)
        {
            if (args.Length < 2)
            {
                throw new ArgumentException(Usage);
            }

            string path = args[0];
            long packets = long.Parse(args[1], CultureInfo.InvariantCulture);
            int flows = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 5000;
            var watch = Stopwatch.StartNew();
            long bytes = BenchCapture.Write(path, packets, flows);
            Console.WriteLine($"{path}: {packets:N0} packets, {bytes / 1e6:N1} MB in {watch.Elapsed.TotalSeconds:N1} s");
            return 0;
        }
    }

    /// <summary>Reads capture files with <see cref="CaptureReader"/> and prints packets per second (the benchmark's measured side).</summary>
    public sealed class ReadCaptureCommand : IFixtureCommand
    {
        public string Name => "read-capture";
        public string Usage => "read-capture FILE… (reads with CaptureReader; prints packets, packets/s, MB/s, issues)";

        public int Run(string[] args)
        {
            if (args.Length == 0)
            {
                throw new ArgumentException(Usage);
            }

            long payloadBytes = 0;
            long udp = 0;
            long tcp = 0;
            long issues = 0;
            var result = CaptureReader.Read(args, (in DecodedPacket p) =>
            {
                payloadBytes += p.Payload.Length;
                if (p.Protocol == TransportProtocol.Udp)
                {
                    udp++;
                }
                else if (p.Protocol == TransportProtocol.Tcp)
                {
                    tcp++;
                }
            }, issue =>
            {
                if (++issues <= 10)
                {
                    Console.Error.WriteLine(issue);
                }
            }, null, default);
            double seconds = result.Elapsed.TotalSeconds;
            Console.WriteLine(
                $"packets={result.PacketCount} decoded={result.DecodedPacketCount} udp={udp} tcp={tcp} payload_bytes={payloadBytes} " +
                $"file_bytes={result.ByteCount} issues={result.IssueCount} seconds={seconds.ToString("F3", CultureInfo.InvariantCulture)} " +
                $"packets_per_second={(seconds > 0 ? result.PacketCount / seconds : 0).ToString("F0", CultureInfo.InvariantCulture)} " +
                $"mb_per_second={(seconds > 0 ? result.ByteCount / 1e6 / seconds : 0).ToString("F1", CultureInfo.InvariantCulture)} " +
                $"peak_working_set_mb={(Process.GetCurrentProcess().PeakWorkingSet64 / 1e6).ToString("F0", CultureInfo.InvariantCulture)}");
            return 0;
        }
    }

    internal static class BenchCapture
    {
        private static readonly DateTime Start = new DateTime(2026, 11, 28, 8, 0, 0, DateTimeKind.Utc);

        public static long Write(string path, long packets, int flows)
        {
            var random = new Random(20261128);
            var names = new List<byte[]>();
            for (int i = 0; i < 600; i++)
            {
                names.Add(EncodeName(i % 3 == 0 ? $"www.flux{i}.biz" : i % 3 == 1 ? $"host{i}.example.com" : $"cdn{i}.static.example.net"));
            }

            var templates = new List<byte[]>();
            // DNS queries and answers (IPv4), queries (IPv6)
            foreach (var name in names)
            {
                templates.Add(Ethernet(IPv4(0x0A000001, 0x0A0000FE, 17, Udp(40000, 53, DnsMessage(name, answers: 0, 0)))));
                templates.Add(Ethernet(IPv4(0x0A0000FE, 0x0A000001, 17, Udp(53, 40000, DnsMessage(name, answers: 1 + random.Next(8), (uint)random.Next())))));
            }

            int dnsTemplates = templates.Count;
            var v6 = Ethernet6(IPv6Udp(Udp(40000, 53, DnsMessage(names[0], 0, 0))));
            var syn = Ethernet(IPv4(0x0A000101, 0xC0000250, 6, Tcp(50000, 80, 0x02, new byte[0])));
            // Each request is answered by one HTTP response in two 160-byte segments (keep-alive).
            const string head = "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: {0}\r\n\r\n";
            int headLength = string.Format(CultureInfo.InvariantCulture, head, 999).Length;
            var response = Encoding.ASCII.GetBytes(string.Format(CultureInfo.InvariantCulture, head, 320 - headLength).PadRight(320, 'x'));
            var data = Ethernet(IPv4(0xC0000250, 0x0A000101, 6, Tcp(80, 50000, 0x18, response.AsSpan(0, 160).ToArray())));
            var data2 = Ethernet(IPv4(0xC0000250, 0x0A000101, 6, Tcp(80, 50000, 0x18, response.AsSpan(160, 160).ToArray())));
            var request = Ethernet(IPv4(0x0A000101, 0xC0000250, 6, Tcp(50000, 80, 0x18, Encoding.ASCII.GetBytes("GET /index.html HTTP/1.1\r\nHost: www.example.com\r\nUser-Agent: bench\r\n\r\n"))));
            var ack = Ethernet(IPv4(0x0A000101, 0xC0000250, 6, Tcp(50000, 80, 0x10, new byte[0])));
            var scratch = new byte[2048];
            long ticks = Start.Ticks;
            // Each of the `flows` client flows is one long-lived TCP connection: the five TCP packets of a group of ten
            // (SYN or keep-alive ACK, request, two responses, ACK) belong to the same connection, and its sequence numbers
            // advance by what each side sent. (An earlier version used the global packet index as the sequence number,
            // which made every segment out of order and measured the reassembler's hole buffering instead of analysis.)
            var clientSequence = new uint[flows];
            var serverSequence = new uint[flows];
            for (int c = 0; c < flows; c++)
            {
                clientSequence[c] = (uint)random.Next();
                serverSequence[c] = (uint)random.Next();
            }

            using var stream = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.Read, 1 << 20);
            PcapWriter? pcap = null;
            PcapNgWriter? ng = null;
            if (path.EndsWith(".pcapng", StringComparison.OrdinalIgnoreCase))
            {
                ng = new PcapNgWriter(stream, leaveOpen: true);
                ng.AddInterface(PacketDecoder.LinkTypeEthernet, timestampDecimals: 6);
            }
            else
            {
                pcap = new PcapWriter(stream, PacketDecoder.LinkTypeEthernet, leaveOpen: true);
            }

            for (long i = 0; i < packets; i++)
            {
                ticks += 1 + random.Next(200); // up to 20 µs apart
                int kind = (int)(i % 10);
                byte[] template;
                if (kind < 4)
                {
                    template = templates[(int)((i / 10 * 4 + kind) % dnsTemplates)];
                }
                else if (kind == 4)
                {
                    template = v6;
                }
                else
                {
                    // kind 5 is the SYN in a connection's first round; afterwards the connection is open and it is an ACK
                    template = kind switch { 5 when i / 10 < flows => syn, 6 => request, 7 => data, 8 => data2, _ => ack };
                }

                int length = template.Length;
                Buffer.BlockCopy(template, 0, scratch, 0, length);
                var frame = scratch.AsSpan(0, length);
                int flow = kind >= 5 ? (int)(i / 10 % flows) : (int)(i % flows);
                if (kind == 4)
                {
                    // vary the IPv6 source and the DNS id
                    BinaryPrimitives.WriteUInt16BigEndian(frame.Slice(14 + 8 + 14), (ushort)flow);
                    BinaryPrimitives.WriteUInt16BigEndian(frame.Slice(14 + 40 + 8), (ushort)i);
                }
                else
                {
                    // vary the client address (flows), the client port and the DNS id / TCP sequence
                    bool clientIsSource = template[14 + 12 + 3] != 0xFE && template[14 + 12] == 0x0A;
                    int clientAddress = 14 + (clientIsSource ? 12 : 16);
                    BinaryPrimitives.WriteUInt16BigEndian(frame.Slice(clientAddress + 2), (ushort)(flow / 250 + 1));
                    int transport = 14 + 20;
                    int clientPort = transport + (clientIsSource ? 0 : 2);
                    BinaryPrimitives.WriteUInt16BigEndian(frame.Slice(clientPort), (ushort)(1024 + (flow % 60000)));
                    if (template[14 + 9] == 17)
                    {
                        BinaryPrimitives.WriteUInt16BigEndian(frame.Slice(transport + 8), (ushort)i);
                    }
                    else
                    {
                        int payload = length - transport - 20;
                        ref uint sequence = ref clientIsSource ? ref clientSequence[flow] : ref serverSequence[flow];
                        BinaryPrimitives.WriteUInt32BigEndian(frame.Slice(transport + 4), sequence);
                        // The SYN takes one sequence number; data takes its length.
                        sequence += (uint)payload + (template == syn ? 1u : 0u);
                    }
                }

                if (pcap is not null)
                {
                    pcap.WritePacket(ticks, frame);
                }
                else
                {
                    ng!.WritePacket(0, ticks, frame);
                }

            }

            pcap?.Dispose();
            ng?.Dispose();
            stream.Flush();
            return stream.Length;
        }

        private static byte[] EncodeName(string name)
        {
            var bytes = new List<byte>();
            foreach (var label in name.Split('.'))
            {
                bytes.Add((byte)label.Length);
                bytes.AddRange(Encoding.ASCII.GetBytes(label));
            }

            bytes.Add(0);
            return bytes.ToArray();
        }

        private static byte[] DnsMessage(byte[] name, int answers, uint seed)
        {
            var m = new List<byte> { 0x12, 0x34, (byte)(answers > 0 ? 0x81 : 0x01), (byte)(answers > 0 ? 0x80 : 0x00), 0, 1, 0, (byte)answers, 0, 0, 0, 0 };
            m.AddRange(name);
            m.AddRange(new byte[] { 0, 1, 0, 1 });
            for (int a = 0; a < answers; a++)
            {
                m.AddRange(new byte[] { 0xC0, 0x0C, 0, 1, 0, 1, 0, 0, 0x01, 0x2C, 0, 4 });
                uint address = 0x17000000u + seed * 2654435761u + (uint)a * 0x01010101u;
                m.Add((byte)(address >> 24));
                m.Add((byte)(address >> 16));
                m.Add((byte)(address >> 8));
                m.Add((byte)address);
            }

            return m.ToArray();
        }

        private static byte[] Udp(ushort sourcePort, ushort destinationPort, byte[] payload)
        {
            var udp = new byte[8 + payload.Length];
            BinaryPrimitives.WriteUInt16BigEndian(udp, sourcePort);
            BinaryPrimitives.WriteUInt16BigEndian(udp.AsSpan(2), destinationPort);
            BinaryPrimitives.WriteUInt16BigEndian(udp.AsSpan(4), (ushort)udp.Length);
            payload.CopyTo(udp, 8);
            return udp;
        }

        private static byte[] Tcp(ushort sourcePort, ushort destinationPort, byte flags, byte[] payload)
        {
            var tcp = new byte[20 + payload.Length];
            BinaryPrimitives.WriteUInt16BigEndian(tcp, sourcePort);
            BinaryPrimitives.WriteUInt16BigEndian(tcp.AsSpan(2), destinationPort);
            tcp[12] = 0x50;
            tcp[13] = flags;
            BinaryPrimitives.WriteUInt16BigEndian(tcp.AsSpan(14), 65535);
            payload.CopyTo(tcp, 20);
            return tcp;
        }

        private static byte[] IPv4(uint source, uint destination, byte protocol, byte[] transport)
        {
            var ip = new byte[20 + transport.Length];
            ip[0] = 0x45;
            BinaryPrimitives.WriteUInt16BigEndian(ip.AsSpan(2), (ushort)ip.Length);
            ip[8] = 64;
            ip[9] = protocol;
            BinaryPrimitives.WriteUInt32BigEndian(ip.AsSpan(12), source);
            BinaryPrimitives.WriteUInt32BigEndian(ip.AsSpan(16), destination);
            transport.CopyTo(ip, 20);
            return ip;
        }

        private static byte[] IPv6Udp(byte[] udp)
        {
            var ip = new byte[40 + udp.Length];
            ip[0] = 0x60;
            BinaryPrimitives.WriteUInt16BigEndian(ip.AsSpan(4), (ushort)udp.Length);
            ip[6] = 17;
            ip[7] = 64;
            ip[8] = 0x20;
            ip[9] = 0x01;
            ip[10] = 0x0D;
            ip[11] = 0xB8;
            ip[23] = 1;
            ip[24] = 0x20;
            ip[25] = 0x01;
            ip[26] = 0x0D;
            ip[27] = 0xB8;
            ip[39] = 0x53;
            udp.CopyTo(ip, 40);
            return ip;
        }

        private static byte[] Ethernet(byte[] ip) => EthernetOf(ip, 0x0800);

        private static byte[] Ethernet6(byte[] ip) => EthernetOf(ip, 0x86DD);

        private static byte[] EthernetOf(byte[] ip, ushort etherType)
        {
            var frame = new byte[14 + ip.Length];
            frame[0] = 0x02;
            frame[5] = 0x01;
            frame[6] = 0x02;
            frame[11] = 0x02;
            BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(12), etherType);
            ip.CopyTo(frame, 14);
            return frame;
        }
    }
}
