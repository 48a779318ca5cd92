using System;
using System.Buffers.Binary;
using System.IO;
using System.Runtime.InteropServices;
using System.Text;

namespace FluxForensics.Host
{
    /// <summary>How a file's Hidden/System state was read. The values are the strings of <see cref="FileAttributeInfo.Mechanism"/>.</summary>
    public static class FileAttributeMechanism
    {
        /// <summary>Windows <c>GetFileAttributes</c> through <see cref="File.GetAttributes(string)"/>.</summary>
        public const string Windows = "Windows";

        /// <summary>An ntfs-3g (FUSE) or ntfs3 mount: the NTFS attributes in the <c>system.ntfs_attrib_be</c> extended attribute.</summary>
        public const string NtfsXattr = "ntfs-3g xattr";

        /// <summary>A vfat/msdos mount: the FAT attribute byte through <c>FAT_IOCTL_GET_ATTRIBUTES</c>.</summary>
        public const string FatIoctl = "FAT ioctl";

        /// <summary>A file system without DOS attributes: hidden means the name starts with a dot; System cannot be stored.</summary>
        public const string DotName = "dot-name";
    }

    /// <summary>The Windows <c>FILE_ATTRIBUTE_*</c> bits FluxForensics looks at (FAT uses the same values in its low byte).</summary>
    public static class FileAttributeBits
    {
        public const uint ReadOnly = 0x1;
        public const uint Hidden = 0x2;
        public const uint System = 0x4;
        public const uint Directory = 0x10;
        public const uint Archive = 0x20;
    }

    /// <summary>The Hidden/System state of one file or directory, and how it was learnt.</summary>
    public sealed class FileAttributeInfo
    {
        public FileAttributeInfo(string path, bool isHidden, bool isSystem, uint? rawAttributes, string mechanism)
        {
            Path = path;
            IsHidden = isHidden;
            IsSystem = isSystem;
            RawAttributes = rawAttributes;
            Mechanism = mechanism;
        }

        public string Path { get; }

        /// <summary>The Hidden attribute, or (with <see cref="FileAttributeMechanism.DotName"/>) a name that starts with a dot.</summary>
        public bool IsHidden { get; }

        /// <summary>The System attribute; always false with <see cref="FileAttributeMechanism.DotName"/>.</summary>
        public bool IsSystem { get; }

        /// <summary>The raw <c>FILE_ATTRIBUTE_*</c> value (FAT: the attribute byte), or null when the file system has none.
        /// Keep it to restore the exact state with <see cref="FileAttributeReader.TryRestore"/>.</summary>
        public uint? RawAttributes { get; }

        /// <summary>One of the <see cref="FileAttributeMechanism"/> strings.</summary>
        public string Mechanism { get; }

        /// <summary>True when the file system really stores DOS attributes, so a dot-free name that is not hidden is truly visible
        /// to Windows; false for <see cref="FileAttributeMechanism.DotName"/>, where the Windows-side state is unknown.</summary>
        public bool AttributesKnown => RawAttributes.HasValue;

        public override string ToString() =>
            $"{Path}: {(IsHidden ? "Hidden" : "-")} {(IsSystem ? "System" : "-")} ({Mechanism}{(RawAttributes is uint raw ? $", 0x{raw:X8}" : string.Empty)})";
    }

    /// <summary>
    /// Reads and sets Hidden/System for real on each platform: Windows file attributes; on Linux the NTFS attributes ntfs-3g
    /// (and the ntfs3 kernel driver) expose as the big-endian <c>system.ntfs_attrib_be</c> extended attribute, the FAT
    /// attribute byte through the <c>FAT_IOCTL_*_ATTRIBUTES</c> ioctls on vfat/msdos mounts, and dot-names elsewhere.
    /// </summary>
    public static class FileAttributeReader
    {
        private const string NtfsAttribXattr = "system.ntfs_attrib_be";
        private const long MsdosSuperMagic = 0x4d44;

        // _IOR('r', 0x10, __u32) and _IOW('r', 0x11, __u32) from linux/msdos_fs.h (asm-generic ioctl encoding, x86/arm).
        private const uint FatIoctlGetAttributes = 0x80047210;
        private const uint FatIoctlSetAttributes = 0x40047211;

        private const int ENOENT = 2;
        private const int EACCES = 13;
        private const int EPERM = 1;
        private const int ENOTDIR = 20;
        private const int ENAMETOOLONG = 36;
        private const int ELOOP = 40;
        private const int O_RDONLY = 0;
        private const int O_NONBLOCK = 0x800;
        private const int O_CLOEXEC = 0x80000;

        private static readonly bool IsWindows = RuntimeInformation.IsOSPlatform(OSPlatform.Windows);
        private static readonly bool IsLinux = RuntimeInformation.IsOSPlatform(OSPlatform.Linux);

        /// <summary>Reads the Hidden/System state of <paramref name="path"/> (file or directory).</summary>
        /// <exception cref="FileNotFoundException">The path does not exist (any more).</exception>
        /// <exception cref="UnauthorizedAccessException">The path cannot be examined.</exception>
        /// <exception cref="IOException">Another I/O failure.</exception>
        public static FileAttributeInfo Read(string path)
        {
            if (path is null)
            {
                throw new ArgumentNullException(nameof(path));
            }

            if (IsWindows)
            {
                uint raw = (uint)File.GetAttributes(path);
                return FromRaw(path, raw, FileAttributeMechanism.Windows);
            }

            if (IsLinux)
            {
                return ReadLinux(path);
            }

            return ReadDotName(path);
        }

        /// <summary>Like <see cref="Read"/>, without exceptions: false and a message when the path cannot be examined.</summary>
        public static bool TryRead(string path, out FileAttributeInfo? info, out string? error)
        {
            try
            {
                info = Read(path);
                error = null;
                return true;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
            {
                info = null;
                error = e.Message;
                return false;
            }
        }

        /// <summary>Sets or clears Hidden and System, keeping every other attribute bit. False with a message when the file
        /// system cannot store them (dot-name file systems) or the change was refused.</summary>
        public static bool TrySetHiddenSystem(string path, bool hidden, bool system, out string? error)
        {
            if (!TryRead(path, out var info, out error))
            {
                return false;
            }

            if (info!.RawAttributes is not uint raw)
            {
                error = $"The file system of '{path}' stores no Hidden/System attributes (hidden only by a leading dot in the name).";
                return false;
            }

            uint wanted = raw & ~(FileAttributeBits.Hidden | FileAttributeBits.System);
            wanted |= hidden ? FileAttributeBits.Hidden : 0;
            wanted |= system ? FileAttributeBits.System : 0;
            return TryWriteRaw(path, info.Mechanism, wanted, out error);
        }

        /// <summary>Writes back a raw value previously read with <see cref="Read"/> (e.g. to undo a cleanup).</summary>
        public static bool TryRestore(string path, uint rawAttributes, out string? error)
        {
            if (!TryRead(path, out var info, out error))
            {
                return false;
            }

            if (info!.RawAttributes is null)
            {
                error = $"The file system of '{path}' stores no DOS attributes; nothing to restore.";
                return false;
            }

            return TryWriteRaw(path, info.Mechanism, rawAttributes, out error);
        }

        private static FileAttributeInfo FromRaw(string path, uint raw, string mechanism) =>
            new FileAttributeInfo(path, (raw & FileAttributeBits.Hidden) != 0, (raw & FileAttributeBits.System) != 0, raw, mechanism);

        private static FileAttributeInfo ReadDotName(string path)
        {
            if (!File.Exists(path) && !Directory.Exists(path))
            {
                throw new FileNotFoundException($"'{path}' does not exist.", path);
            }

            string name = System.IO.Path.GetFileName(path.TrimEnd('/'));
            return new FileAttributeInfo(path, name.Length > 1 && name[0] == '.' && name != "..", false, null, FileAttributeMechanism.DotName);
        }

        private static FileAttributeInfo ReadLinux(string path)
        {
            byte[] nativePath = NativePath(path);
            Span<byte> value = stackalloc byte[8];
            long got;
            unsafe
            {
                fixed (byte* p = nativePath)
                fixed (byte* n = XattrName)
                fixed (byte* v = value)
                {
                    got = (long)Native.getxattr(p, n, v, (UIntPtr)value.Length);
                }
            }

            if (got == 4)
            {
                return FromRaw(path, BinaryPrimitives.ReadUInt32BigEndian(value), FileAttributeMechanism.NtfsXattr);
            }

            if (got < 0)
            {
                ThrowForMissing(Marshal.GetLastWin32Error(), path);
            }

            // No NTFS attributes here (ENODATA / ENOTSUP, or an unexpected size): a FAT mount answers the ioctl.
            if (FileSystemType(nativePath) == MsdosSuperMagic && TryFatIoctl(nativePath, path, FatIoctlGetAttributes, 0, out uint fatAttributes))
            {
                return FromRaw(path, fatAttributes & 0xff, FileAttributeMechanism.FatIoctl);
            }

            return ReadDotName(path);
        }

        private static bool TryWriteRaw(string path, string mechanism, uint raw, out string? error)
        {
            error = null;
            try
            {
                switch (mechanism)
                {
                    case FileAttributeMechanism.Windows:
                        File.SetAttributes(path, (FileAttributes)raw);
                        return true;

                    case FileAttributeMechanism.NtfsXattr:
                        return SetNtfsXattr(path, raw, out error);

                    case FileAttributeMechanism.FatIoctl:
                        if (TryFatIoctl(NativePath(path), path, FatIoctlSetAttributes, raw & 0xff, out _))
                        {
                            return true;
                        }

                        error = $"FAT_IOCTL_SET_ATTRIBUTES on '{path}' failed (errno {Marshal.GetLastWin32Error()}).";
                        return false;

                    default:
                        error = $"The file system of '{path}' stores no DOS attributes.";
                        return false;
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
            {
                error = e.Message;
                return false;
            }
        }

        private static bool SetNtfsXattr(string path, uint raw, out string? error)
        {
            byte[] nativePath = NativePath(path);
            Span<byte> value = stackalloc byte[4];
            BinaryPrimitives.WriteUInt32BigEndian(value, raw);
            int rc;
            unsafe
            {
                fixed (byte* p = nativePath)
                fixed (byte* n = XattrName)
                fixed (byte* v = value)
                {
                    rc = Native.setxattr(p, n, v, (UIntPtr)4, 0);
                }
            }

            if (rc == 0)
            {
                error = null;
                return true;
            }

            error = $"setxattr {NtfsAttribXattr} on '{path}' failed (errno {Marshal.GetLastWin32Error()}).";
            return false;
        }

        private static bool TryFatIoctl(byte[] nativePath, string path, uint request, uint input, out uint output)
        {
            output = 0;
            int fd;
            unsafe
            {
                fixed (byte* p = nativePath)
                {
                    fd = Native.open(p, O_RDONLY | O_NONBLOCK | O_CLOEXEC, 0);
                }
            }

            if (fd < 0)
            {
                ThrowForMissing(Marshal.GetLastWin32Error(), path);
                return false;
            }

            try
            {
                uint value = input;
                int rc;
                unsafe
                {
                    rc = Native.ioctl(fd, (UIntPtr)request, &value);
                }

                output = value;
                return rc == 0;
            }
            finally
            {
                Native.close(fd);
            }
        }

        private static long FileSystemType(byte[] nativePath)
        {
            // struct statfs starts with f_type (a native word on 64-bit Linux, 32 bits on 32-bit); the rest is not needed.
            Span<byte> buffer = stackalloc byte[256];
            int rc;
            unsafe
            {
                fixed (byte* p = nativePath)
                fixed (byte* b = buffer)
                {
                    rc = Native.statfs(p, b);
                }
            }

            if (rc != 0)
            {
                return -1;
            }

            return IntPtr.Size == 8 ? MemoryMarshal.Read<long>(buffer) : MemoryMarshal.Read<int>(buffer);
        }

        private static void ThrowForMissing(int errno, string path)
        {
            switch (errno)
            {
                case ENOENT:
                case ENOTDIR:
                    throw new FileNotFoundException($"'{path}' does not exist.", path);
                case EACCES:
                case EPERM:
                    throw new UnauthorizedAccessException($"Access to '{path}' is denied.");
                case ENAMETOOLONG:
                case ELOOP:
                    throw new IOException($"'{path}' cannot be resolved (errno {errno}).");
            }
        }

        private static readonly byte[] XattrName = NativePath(NtfsAttribXattr);

        private static byte[] NativePath(string path)
        {
            int length = Encoding.UTF8.GetByteCount(path);
            byte[] bytes = new byte[length + 1];
            Encoding.UTF8.GetBytes(path, 0, path.Length, bytes, 0);
            return bytes;
        }

        private static unsafe class Native
        {
            [DllImport("libc", SetLastError = true)]
            public static extern IntPtr getxattr(byte* path, byte* name, byte* value, UIntPtr size);

            [DllImport("libc", SetLastError = true)]
            public static extern int setxattr(byte* path, byte* name, byte* value, UIntPtr size, int flags);

            [DllImport("libc", SetLastError = true)]
            public static extern int open(byte* path, int flags, int mode);

            [DllImport("libc", SetLastError = true)]
            public static extern int close(int fd);

            [DllImport("libc", SetLastError = true)]
            public static extern int ioctl(int fd, UIntPtr request, uint* argument);

            [DllImport("libc", SetLastError = true)]
            public static extern int statfs(byte* path, byte* buffer);
        }
    }
}
