using System;
using System.Runtime.CompilerServices;
using System.Buffers.Binary;
using System.Text;

namespace FluxForensics.Formats
{
    /// <summary>Resource record types the flux analysis reads (RFC 1035 §3.2.2, RFC 3596 for AAAA).</summary>
    public enum DnsRecordType : ushort
    {
        A = 1,
        NS = 2,
        CNAME = 5,
        SOA = 6,
        PTR = 12,
        MX = 15,
        TXT = 16,
        AAAA = 28,
        OPT = 41,
        ANY = 255,
    }

    /// <summary>Which section of the message a record came from.</summary>
    public enum DnsSection : byte
    {
        Answer = 1,
        Authority = 2,
        Additional = 3,
    }

    /// <summary>The fixed 12-byte header (RFC 1035 §4.1.1).</summary>
    public readonly struct DnsHeader
    {
        public DnsHeader(ushort id, ushort flags, ushort questionCount, ushort answerCount, ushort authorityCount, ushort additionalCount)
        {
            Id = id;
            Flags = flags;
            QuestionCount = questionCount;
            AnswerCount = answerCount;
            AuthorityCount = authorityCount;
            AdditionalCount = additionalCount;
        }

        public ushort Id { get; }
        public ushort Flags { get; }
        public ushort QuestionCount { get; }
        public ushort AnswerCount { get; }
        public ushort AuthorityCount { get; }
        public ushort AdditionalCount { get; }

        public bool IsResponse => (Flags & 0x8000) != 0;
        public int Opcode => (Flags >> 11) & 0xF;
        public bool IsAuthoritative => (Flags & 0x0400) != 0;
        public bool IsTruncated => (Flags & 0x0200) != 0;
        public bool RecursionDesired => (Flags & 0x0100) != 0;
        public bool RecursionAvailable => (Flags & 0x0080) != 0;
        public int ResponseCode => Flags & 0xF;
    }

    /// <summary>A question: where its name starts in the message, and its type and class.</summary>
    public readonly struct DnsQuestion
    {
        public DnsQuestion(int nameOffset, ushort type, ushort @class)
        {
            NameOffset = nameOffset;
            Type = type;
            Class = @class;
        }

        public int NameOffset { get; }
        public ushort Type { get; }
        public ushort Class { get; }
    }

    /// <summary>A resource record located in the message; RDATA is read on demand with <see cref="DnsMessageReader"/>.</summary>
    public readonly struct DnsRecord
    {
        public DnsRecord(DnsSection section, int nameOffset, ushort type, ushort @class, uint ttl, int dataOffset, int dataLength)
        {
            Section = section;
            NameOffset = nameOffset;
            Type = type;
            Class = @class;
            Ttl = ttl;
            DataOffset = dataOffset;
            DataLength = dataLength;
        }

        public DnsSection Section { get; }
        public int NameOffset { get; }
        public ushort Type { get; }
        public ushort Class { get; }

        /// <summary>Seconds. RFC 2181 §8: values with the top bit set are treated as 0 by <see cref="DnsMessageReader"/>.</summary>
        public uint Ttl { get; }
        public int DataOffset { get; }
        public int DataLength { get; }
    }

    /// <summary>What went wrong while reading a message, and where (offset within the message).</summary>
    public readonly struct DnsParseError
    {
        public DnsParseError(int offset, string message)
        {
            Offset = offset;
            Message = message;
        }

        public int Offset { get; }

        /// <summary>Null when there was no error.</summary>
        public string? Message { get; }

        public bool IsError => Message is not null;
    }

    /// <summary>
    /// Reads one DNS message (RFC 1035 §4) from a span without allocating: the header, then questions and records
    /// one at a time. Never trusts a count or a length: a record that runs past the message stops the reader with a
    /// <see cref="DnsParseError"/> and everything read before it stays valid.
    /// </summary>
    public ref struct DnsMessageReader
    {
        public const int HeaderLength = 12;

        /// <summary>Longest name on the wire (RFC 1035 §2.3.4).</summary>
        public const int MaxWireNameLength = 255;

        /// <summary>Room for the longest name in presentation form with every byte escaped as \DDD.</summary>
        public const int MaxPresentationNameLength = 1024;

        private readonly ReadOnlySpan<byte> _message;
        private int _offset;
        private int _questionsLeft;
        private int _answersLeft;
        private int _authorityLeft;
        private int _additionalLeft;

        private DnsMessageReader(ReadOnlySpan<byte> message, DnsHeader header)
        {
            _message = message;
            Header = header;
            _offset = HeaderLength;
            _questionsLeft = header.QuestionCount;
            _answersLeft = header.AnswerCount;
            _authorityLeft = header.AuthorityCount;
            _additionalLeft = header.AdditionalCount;
            Error = default;
        }

        public DnsHeader Header { get; }

        /// <summary>Set when reading stopped early.</summary>
        public DnsParseError Error { get; private set; }

        public ReadOnlySpan<byte> Message => _message;

        [MethodImpl(Jit.Hot)]
        public static bool TryCreate(ReadOnlySpan<byte> message, out DnsMessageReader reader)
        {
            if (message.Length < HeaderLength)
            {
                reader = default;
                return false;
            }

            var header = new DnsHeader(
                BinaryPrimitives.ReadUInt16BigEndian(message),
                BinaryPrimitives.ReadUInt16BigEndian(message.Slice(2)),
                BinaryPrimitives.ReadUInt16BigEndian(message.Slice(4)),
                BinaryPrimitives.ReadUInt16BigEndian(message.Slice(6)),
                BinaryPrimitives.ReadUInt16BigEndian(message.Slice(8)),
                BinaryPrimitives.ReadUInt16BigEndian(message.Slice(10)));
            reader = new DnsMessageReader(message, header);
            return true;
        }

        /// <summary>Reads the next question; false when there are no more or the message is damaged (see <see cref="Error"/>).</summary>
        [MethodImpl(Jit.Hot)]
        public bool TryReadQuestion(out DnsQuestion question)
        {
            question = default;
            if (_questionsLeft <= 0 || Error.IsError)
            {
                return false;
            }

            int nameOffset = _offset;
            if (!TrySkipName(ref _offset))
            {
                return false;
            }

            if (_offset + 4 > _message.Length)
            {
                Fail(nameOffset, "question runs past the end of the message");
                return false;
            }

            question = new DnsQuestion(nameOffset, BinaryPrimitives.ReadUInt16BigEndian(_message.Slice(_offset)), BinaryPrimitives.ReadUInt16BigEndian(_message.Slice(_offset + 2)));
            _offset += 4;
            _questionsLeft--;
            return true;
        }

        /// <summary>Reads the next record of the answer, authority or additional section (questions are skipped first).</summary>
        [MethodImpl(Jit.Hot)]
        public bool TryReadRecord(out DnsRecord record)
        {
            record = default;
            while (_questionsLeft > 0)
            {
                if (!TryReadQuestion(out _))
                {
                    return false;
                }
            }

            if (Error.IsError)
            {
                return false;
            }

            DnsSection section;
            if (_answersLeft > 0)
            {
                section = DnsSection.Answer;
            }
            else if (_authorityLeft > 0)
            {
                section = DnsSection.Authority;
            }
            else if (_additionalLeft > 0)
            {
                section = DnsSection.Additional;
            }
            else
            {
                return false;
            }

            int nameOffset = _offset;
            if (!TrySkipName(ref _offset))
            {
                return false;
            }

            if (_offset + 10 > _message.Length)
            {
                Fail(nameOffset, "resource record header runs past the end of the message");
                return false;
            }

            ushort type = BinaryPrimitives.ReadUInt16BigEndian(_message.Slice(_offset));
            ushort @class = BinaryPrimitives.ReadUInt16BigEndian(_message.Slice(_offset + 2));
            uint ttl = BinaryPrimitives.ReadUInt32BigEndian(_message.Slice(_offset + 4));
            int length = BinaryPrimitives.ReadUInt16BigEndian(_message.Slice(_offset + 8));
            int dataOffset = _offset + 10;
            if (dataOffset + length > _message.Length)
            {
                Fail(nameOffset, $"RDATA length {length} runs past the end of the message");
                return false;
            }

            // RFC 2181 §8: a TTL with the most significant bit set is treated as zero.
            if ((ttl & 0x8000_0000u) != 0)
            {
                ttl = 0;
            }

            record = new DnsRecord(section, nameOffset, type, @class, ttl, dataOffset, length);
            _offset = dataOffset + length;
            switch (section)
            {
                case DnsSection.Answer: _answersLeft--; break;
                case DnsSection.Authority: _authorityLeft--; break;
                default: _additionalLeft--; break;
            }

            return true;
        }

        /// <summary>The address of an A (4 bytes) or AAAA (16 bytes) record; false for other types or a wrong length.</summary>
        [MethodImpl(Jit.Hot)]
        public bool TryReadAddress(in DnsRecord record, out ReadOnlySpan<byte> address)
        {
            address = default;
            if ((record.Type == (ushort)DnsRecordType.A && record.DataLength == 4) ||
                (record.Type == (ushort)DnsRecordType.AAAA && record.DataLength == 16))
            {
                address = _message.Slice(record.DataOffset, record.DataLength);
                return true;
            }

            return false;
        }

        /// <summary>
        /// The offset of the domain name inside the RDATA of NS, CNAME, PTR (at 0), MX (after the preference) and SOA
        /// (MNAME); -1 for other types. Decode it with <see cref="DecodeName"/>.
        /// </summary>
        public static int NameInData(in DnsRecord record) => record.Type switch
        {
            (ushort)DnsRecordType.NS or (ushort)DnsRecordType.CNAME or (ushort)DnsRecordType.PTR or (ushort)DnsRecordType.SOA =>
                record.DataLength > 0 ? record.DataOffset : -1,
            (ushort)DnsRecordType.MX => record.DataLength > 2 ? record.DataOffset + 2 : -1,
            _ => -1,
        };

        /// <summary>
        /// The SOA fields after MNAME and RNAME (RFC 1035 §3.3.13): serial, refresh, retry, expire, minimum.
        /// </summary>
        public static bool TryReadSoa(ReadOnlySpan<byte> message, in DnsRecord record, out uint serial, out uint minimum, out DnsParseError error)
        {
            serial = 0;
            minimum = 0;
            int end = record.DataOffset + record.DataLength;
            int offset = record.DataOffset;
            var limited = message.Slice(0, end);
            if (!SkipName(limited, ref offset, out error) || !SkipName(limited, ref offset, out error))
            {
                return false;
            }

            if (offset + 20 > end)
            {
                error = new DnsParseError(record.DataOffset, "SOA RDATA is shorter than its fixed fields");
                return false;
            }

            serial = BinaryPrimitives.ReadUInt32BigEndian(message.Slice(offset));
            minimum = BinaryPrimitives.ReadUInt32BigEndian(message.Slice(offset + 16));
            return true;
        }

        /// <summary>Counts the character-strings of a TXT record (RFC 1035 §3.3.14); false when one runs past its RDATA.</summary>
        public static bool TryCountTxtStrings(ReadOnlySpan<byte> message, in DnsRecord record, out int count)
        {
            count = 0;
            int offset = record.DataOffset;
            int end = record.DataOffset + record.DataLength;
            while (offset < end)
            {
                offset += 1 + message[offset];
                count++;
            }

            return offset == end;
        }

        private bool TrySkipName(ref int offset)
        {
            if (!SkipName(_message, ref offset, out var error))
            {
                Error = error;
                return false;
            }

            return true;
        }

        private void Fail(int offset, string message) => Error = new DnsParseError(offset, message);

        /// <summary>Moves past a name in place (its labels up to the terminator or the first pointer), without following pointers.</summary>
        public static bool SkipName(ReadOnlySpan<byte> message, ref int offset, out DnsParseError error)
        {
            int start = offset;
            int wire = 0;
            while (true)
            {
                if (offset >= message.Length)
                {
                    error = new DnsParseError(start, "name runs past the end of the message");
                    return false;
                }

                byte length = message[offset];
                if (length == 0)
                {
                    offset++;
                    error = default;
                    return true;
                }

                switch (length & 0xC0)
                {
                    case 0xC0:
                        if (offset + 1 >= message.Length)
                        {
                            error = new DnsParseError(offset, "compression pointer runs past the end of the message");
                            return false;
                        }

                        offset += 2;
                        error = default;
                        return true;
                    case 0x00:
                        wire += length + 1;
                        if (wire > MaxWireNameLength)
                        {
                            error = new DnsParseError(start, "name is longer than 255 bytes");
                            return false;
                        }

                        offset += length + 1;
                        break;
                    default:
                        error = new DnsParseError(offset, $"label type 0x{length & 0xC0:X2} is not supported");
                        return false;
                }
            }
        }

        /// <summary>
        /// Decodes the name at <paramref name="offset"/> into <paramref name="destination"/> in presentation form,
        /// lower-cased, without the trailing dot (the root is "."), bytes outside printable ASCII and dots inside a
        /// label escaped as \DDD (RFC 4343). Compression pointers must point strictly before the segment that
        /// contains them, so a pointer loop cannot spin: it is reported instead. Returns the number of bytes written,
        /// or -1 with <paramref name="error"/> set.
        /// </summary>
        [MethodImpl(Jit.Hot)]
        public static int DecodeName(ReadOnlySpan<byte> message, int offset, Span<byte> destination, out DnsParseError error)
        {
            int written = 0;
            int wire = 0;
            int segmentStart = offset;
            int jumps = 0;
            while (true)
            {
                if ((uint)offset >= (uint)message.Length)
                {
                    error = new DnsParseError(offset, "name label runs past the end of the message");
                    return -1;
                }

                byte length = message[offset];
                if (length == 0)
                {
                    if (written == 0)
                    {
                        if (destination.Length < 1)
                        {
                            error = new DnsParseError(offset, "no room for the name");
                            return -1;
                        }

                        destination[0] = (byte)'.';
                        written = 1;
                    }

                    error = default;
                    return written;
                }

                int kind = length & 0xC0;
                if (kind == 0xC0)
                {
                    if (offset + 1 >= message.Length)
                    {
                        error = new DnsParseError(offset, "compression pointer runs past the end of the message");
                        return -1;
                    }

                    int target = ((length & 0x3F) << 8) | message[offset + 1];
                    if (target >= segmentStart || ++jumps > MaxWireNameLength / 2)
                    {
                        error = new DnsParseError(offset, $"compression pointer to {target} does not point backward (a pointer loop)");
                        return -1;
                    }

                    offset = target;
                    segmentStart = target;
                    continue;
                }

                if (kind != 0)
                {
                    error = new DnsParseError(offset, $"label type 0x{kind:X2} is not supported");
                    return -1;
                }

                wire += length + 1;
                if (wire > MaxWireNameLength)
                {
                    error = new DnsParseError(offset, "name is longer than 255 bytes");
                    return -1;
                }

                if (offset + 1 + length > message.Length)
                {
                    error = new DnsParseError(offset, "name label runs past the end of the message");
                    return -1;
                }

                if (written > 0)
                {
                    if (written >= destination.Length)
                    {
                        error = new DnsParseError(offset, "no room for the name");
                        return -1;
                    }

                    destination[written++] = (byte)'.';
                }

                var label = message.Slice(offset + 1, length);
#if NET8_0_OR_GREATER
                if (label.IndexOfAnyExcept(PlainLowerCase) < 0 && written + label.Length <= destination.Length)
                {
                    // The usual label (lower-case letters, digits, '-', '_'): copied as it is, vectorised.
                    label.CopyTo(destination.Slice(written));
                    written += label.Length;
                    offset += 1 + length;
                    continue;
                }
#endif

                for (int i = 0; i < label.Length; i++)
                {
                    byte b = label[i];
                    if (b >= (byte)'A' && b <= (byte)'Z')
                    {
                        b = (byte)(b | 0x20);
                    }

                    if (b > 0x20 && b < 0x7F && b != (byte)'.' && b != (byte)'\\')
                    {
                        if (written >= destination.Length)
                        {
                            error = new DnsParseError(offset, "no room for the name");
                            return -1;
                        }

                        destination[written++] = b;
                    }
                    else
                    {
                        if (written + 4 > destination.Length)
                        {
                            error = new DnsParseError(offset, "no room for the name");
                            return -1;
                        }

                        destination[written++] = (byte)'\\';
                        destination[written++] = (byte)('0' + b / 100);
                        destination[written++] = (byte)('0' + b / 10 % 10);
                        destination[written++] = (byte)('0' + b % 10);
                    }
                }

                offset += 1 + length;
            }
        }

#if NET8_0_OR_GREATER
        /// <summary>Label bytes written unchanged in presentation form: printable ASCII except upper case, '.' and '\\'.</summary>
        private static readonly System.Buffers.SearchValues<byte> PlainLowerCase = System.Buffers.SearchValues.Create(PlainLowerCaseBytes());

        private static byte[] PlainLowerCaseBytes()
        {
            var bytes = new System.Collections.Generic.List<byte>();
            for (int b = 0x21; b < 0x7F; b++)
            {
                if (b != '.' && b != '\\' && (b < 'A' || b > 'Z'))
                {
                    bytes.Add((byte)b);
                }
            }

            return bytes.ToArray();
        }
#endif

        /// <summary>Convenience for tests and cold paths: the name as a string, or null with <paramref name="error"/> set.</summary>
        public static string? ReadName(ReadOnlySpan<byte> message, int offset, out DnsParseError error)
        {
            Span<byte> buffer = stackalloc byte[MaxPresentationNameLength];
            int n = DecodeName(message, offset, buffer, out error);
            return n < 0 ? null : Encoding.ASCII.GetString(buffer.Slice(0, n).ToArray());
        }
    }
}
