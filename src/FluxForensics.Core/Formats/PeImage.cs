using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.Globalization;
using System.Text;
using FluxForensics.Model;

namespace FluxForensics.Formats
{
    /// <summary>One section header of a PE file.</summary>
    public sealed class PeSection
    {
        internal PeSection(string name, uint virtualAddress, uint virtualSize, uint pointerToRawData, uint sizeOfRawData)
        {
            Name = name;
            VirtualAddress = virtualAddress;
            VirtualSize = virtualSize;
            PointerToRawData = pointerToRawData;
            SizeOfRawData = sizeOfRawData;
        }

        public string Name { get; }
        public uint VirtualAddress { get; }
        public uint VirtualSize { get; }
        public uint PointerToRawData { get; }
        public uint SizeOfRawData { get; }

        public override string ToString() => $"{Name} VA 0x{VirtualAddress:X} raw 0x{PointerToRawData:X}+0x{SizeOfRawData:X}";
    }

    /// <summary>The StringFileInfo strings (and VS_FIXEDFILEINFO version) of a PE's VS_VERSIONINFO resource.</summary>
    public sealed class PeVersionInfo
    {
        internal PeVersionInfo(IReadOnlyDictionary<string, string> strings, string? stringTableKey, string? fixedFileVersion, string? fixedProductVersion)
        {
            Strings = strings;
            StringTableKey = stringTableKey;
            FixedFileVersion = fixedFileVersion;
            FixedProductVersion = fixedProductVersion;
        }

        /// <summary>Every string of the first StringTable (later tables only add keys the first lacks). Keys are case-insensitive.</summary>
        public IReadOnlyDictionary<string, string> Strings { get; }

        /// <summary>The language/code page key of the first StringTable, e.g. <c>040904B0</c>.</summary>
        public string? StringTableKey { get; }

        /// <summary><c>dwFileVersionMS/LS</c> of VS_FIXEDFILEINFO as a.b.c.d, when present.</summary>
        public string? FixedFileVersion { get; }

        public string? FixedProductVersion { get; }

        public string? CompanyName => Get("CompanyName");
        public string? FileDescription => Get("FileDescription");
        public string? OriginalFilename => Get("OriginalFilename");
        public string? ProductName => Get("ProductName");
        public string? InternalName => Get("InternalName");
        public string? ProductVersion => Get("ProductVersion");

        /// <summary>The FileVersion string, or the fixed file version when the string is absent.</summary>
        public string? FileVersion => Get("FileVersion") ?? FixedFileVersion;

        /// <summary>A string value, or null when absent or empty (empty strings mean "not stated" to a reader).</summary>
        public string? Get(string key) => Strings.TryGetValue(key, out var v) && v.Length > 0 ? v : null;
    }

    /// <summary>What the security directory of a PE says about an embedded Authenticode signature.</summary>
    public enum PeSignaturePresence
    {
        /// <summary>The security directory is empty (0/0): no embedded signature.</summary>
        Absent = 0,

        /// <summary>A WIN_CERTIFICATE of type PKCS_SIGNED_DATA lies inside the file. It has not been verified.</summary>
        Present = 1,

        /// <summary>The security directory is set but points outside the file or at something that is not PKCS#7.</summary>
        Malformed = 2,
    }

    /// <summary>What <see cref="PeFile.Parse"/> learnt from a PE file; everything it could not read is in <see cref="Issues"/>.</summary>
    public sealed class PeImage
    {
        internal PeImage(string source) => Source = source;

        public string Source { get; }

        /// <summary>True when the DOS and NT headers were read; false for anything that is not a PE file.</summary>
        public bool IsPe { get; internal set; }

        /// <summary>IMAGE_FILE_HEADER.Machine (0x14C x86, 0x8664 x64, 0x1C4 ARMNT, 0xAA64 ARM64).</summary>
        public ushort Machine { get; internal set; }

        /// <summary>True for PE32+ (64-bit optional header).</summary>
        public bool IsPe32Plus { get; internal set; }

        public ushort Characteristics { get; internal set; }

        /// <summary>IMAGE_FILE_DLL is set.</summary>
        public bool IsDll => (Characteristics & 0x2000) != 0;

        /// <summary>The CLR runtime header directory is set (a .NET assembly).</summary>
        public bool IsDotNet { get; internal set; }

        public IReadOnlyList<PeSection> Sections { get; internal set; } = Array.Empty<PeSection>();

        /// <summary>File offset of the resource directory (the root IMAGE_RESOURCE_DIRECTORY), when it maps into the file.</summary>
        public int? ResourceDirectoryFileOffset { get; internal set; }

        /// <summary>True when the resource directory holds an RT_VERSION entry (even if it could not be decoded).</summary>
        public bool HasVersionResource { get; internal set; }

        /// <summary>The decoded VS_VERSIONINFO, or null when absent or unreadable (see <see cref="Issues"/>).</summary>
        public PeVersionInfo? VersionInfo { get; internal set; }

        public PeSignaturePresence Signature { get; internal set; }

        /// <summary>Security directory: a file offset (not an RVA) and a size.</summary>
        public uint SecurityDirectoryOffset { get; internal set; }
        public uint SecurityDirectorySize { get; internal set; }

        /// <summary>File offset of the optional header's CheckSum field (left out of the Authenticode digest), or -1.</summary>
        public int CheckSumFileOffset { get; internal set; } = -1;

        /// <summary>File offset of the Certificate Table data-directory entry (left out of the Authenticode digest), or -1.</summary>
        public int SecurityDirectoryEntryFileOffset { get; internal set; } = -1;

        /// <summary>The optional header's SizeOfHeaders.</summary>
        public uint SizeOfHeaders { get; internal set; }

        /// <summary>WIN_CERTIFICATE.wRevision and wCertificateType of the first certificate, when readable.</summary>
        public ushort? CertificateRevision { get; internal set; }
        public ushort? CertificateType { get; internal set; }

        /// <summary>What could not be read, with the offset. A non-empty list never means the other properties are wrong.</summary>
        public IReadOnlyList<ParseIssue> Issues { get; internal set; } = Array.Empty<ParseIssue>();
    }
}
