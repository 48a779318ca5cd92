using System;
using System.Buffers.Binary;
using System.Globalization;
using System.IO;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using FluxForensics.Host;

namespace FluxForensics.Remediation
{
    /// <summary>What must be put back for a file to be exactly as it was: mode, owner, timestamps, DOS attributes.</summary>
    internal sealed class FileMetadata
    {
        public long Size { get; set; }
        public uint? Mode { get; set; }
        public uint? Uid { get; set; }
        public uint? Gid { get; set; }
        public long AccessSeconds { get; set; }
        public uint AccessNanoseconds { get; set; }
        public long WriteSeconds { get; set; }
        public uint WriteNanoseconds { get; set; }
        public DateTime? CreationUtc { get; set; }
        public uint? RawAttributes { get; set; }
        public string? AttributeMechanism { get; set; }
        public ulong Device { get; set; }
        public bool IsSymbolicLink { get; set; }
        public bool IsDirectory { get; set; }

        public DateTime WriteUtc => DateTimeOffset.FromUnixTimeSeconds(WriteSeconds).UtcDateTime.AddTicks(WriteNanoseconds / 100);

        public void WriteTo(RemediationRecord r)
        {
            r.Set("Size", Size).Set("Mode", Mode).Set("Uid", Uid).Set("Gid", Gid)
             .Set("ATime", AccessSeconds).Set("ATimeNs", AccessNanoseconds).Set("MTime", WriteSeconds).Set("MTimeNs", WriteNanoseconds)
             .Set("CreationUtc", CreationUtc).Set("Attributes", RawAttributes).Set("AttributeMechanism", AttributeMechanism);
        }

        public static FileMetadata ReadFrom(RemediationRecord r) => new FileMetadata
        {
            Size = r.Long("Size") ?? 0,
            Mode = (uint?)r.Long("Mode"),
            Uid = (uint?)r.Long("Uid"),
            Gid = (uint?)r.Long("Gid"),
            AccessSeconds = r.Long("ATime") ?? 0,
            AccessNanoseconds = (uint)(r.Long("ATimeNs") ?? 0),
            WriteSeconds = r.Long("MTime") ?? 0,
            WriteNanoseconds = (uint)(r.Long("MTimeNs") ?? 0),
            CreationUtc = r.Utc("CreationUtc"),
            RawAttributes = (uint?)r.Long("Attributes"),
            AttributeMechanism = r["AttributeMechanism"],
        };
    }

    /// <summary>
    /// File operations the remediation needs with guarantees .NET does not give on every target: rename(2) that never
    /// silently becomes a copy, fsync of files and directories, lstat with nanoseconds and owner, exact timestamp/owner/mode
    /// restore. Linux through libc; Windows through the managed API.
    /// </summary>
    internal static class RemediationFileSystem
    {
        public static readonly bool IsWindows = RuntimeInformation.IsOSPlatform(OSPlatform.Windows);

        public static string Sha256Of(string path)
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1 << 16);
            using var sha = SHA256.Create();
            return FluxForensics.Hex.Lower(sha.ComputeHash(stream));
        }

        public static string Sha256Of(byte[] bytes)
        {
            using var sha = SHA256.Create();
            return FluxForensics.Hex.Lower(sha.ComputeHash(bytes));
        }


        /// <summary>True when something (file, directory, or a link, even dangling) is at <paramref name="path"/>.</summary>
        public static bool Exists(string path)
        {
            if (IsWindows)
            {
                return File.Exists(path) || Directory.Exists(path);
            }

            return TryStat(path, out _);
        }

        public static FileMetadata Stat(string path)
        {
            if (!TryStat(path, out var meta))
            {
                throw new FileNotFoundException($"'{path}' does not exist.", path);
            }

            if (!meta!.IsSymbolicLink && FileAttributeReader.TryRead(path, out var info, out _) && info!.RawAttributes is uint raw)
            {
                meta.RawAttributes = raw;
                meta.AttributeMechanism = info.Mechanism;
            }

            return meta;
        }

        public static bool TryStat(string path, out FileMetadata? meta)
        {
            meta = null;
            if (IsWindows)
            {
                var info = new FileInfo(path);
                var attributes = info.Exists ? info.Attributes : Directory.Exists(path) ? new DirectoryInfo(path).Attributes : (FileAttributes)(-1);
                if ((int)attributes == -1)
                {
                    return false;
                }

                FileSystemInfo fsi = (attributes & FileAttributes.Directory) != 0 ? new DirectoryInfo(path) : info;
                var write = new DateTimeOffset(fsi.LastWriteTimeUtc);
                var access = new DateTimeOffset(fsi.LastAccessTimeUtc);
                meta = new FileMetadata
                {
                    Size = info.Exists ? info.Length : 0,
                    WriteSeconds = write.ToUnixTimeSeconds(),
                    WriteNanoseconds = (uint)((write.UtcTicks % TimeSpan.TicksPerSecond) * 100),
                    AccessSeconds = access.ToUnixTimeSeconds(),
                    AccessNanoseconds = (uint)((access.UtcTicks % TimeSpan.TicksPerSecond) * 100),
                    CreationUtc = fsi.CreationTimeUtc,
                    IsDirectory = (attributes & FileAttributes.Directory) != 0,
                    IsSymbolicLink = (attributes & FileAttributes.ReparsePoint) != 0,
                    Device = (ulong)char.ToUpperInvariant(Path.GetFullPath(path)[0]),
                };
                return true;
            }

            var buffer = new byte[256];
            if (Native.statx(-100, path, 0x100 /* AT_SYMLINK_NOFOLLOW */, 0xfff, buffer) != 0)
            {
                return false;
            }

            var span = buffer.AsSpan();
            uint mode = BinaryPrimitives.ReadUInt16LittleEndian(span.Slice(28));
            meta = new FileMetadata
            {
                Uid = BinaryPrimitives.ReadUInt32LittleEndian(span.Slice(20)),
                Gid = BinaryPrimitives.ReadUInt32LittleEndian(span.Slice(24)),
                Mode = mode & 0xfff,
                Size = (long)BinaryPrimitives.ReadUInt64LittleEndian(span.Slice(40)),
                AccessSeconds = BinaryPrimitives.ReadInt64LittleEndian(span.Slice(64)),
                AccessNanoseconds = BinaryPrimitives.ReadUInt32LittleEndian(span.Slice(72)),
                WriteSeconds = BinaryPrimitives.ReadInt64LittleEndian(span.Slice(112)),
                WriteNanoseconds = BinaryPrimitives.ReadUInt32LittleEndian(span.Slice(120)),
                Device = ((ulong)BinaryPrimitives.ReadUInt32LittleEndian(span.Slice(136)) << 32) | BinaryPrimitives.ReadUInt32LittleEndian(span.Slice(140)),
                IsSymbolicLink = (mode & 0xf000) == 0xa000,
                IsDirectory = (mode & 0xf000) == 0x4000,
            };
            return true;
        }

        /// <summary>Device of the directory a new entry at <paramref name="path"/> would live in.</summary>
        public static ulong DeviceOfParent(string path)
        {
            string? dir = Path.GetDirectoryName(path);
            return dir is not null && TryStat(dir, out var m) ? m!.Device : ulong.MaxValue;
        }

        public static ulong TryStatDevice(string path) => TryStat(path, out var m) ? m!.Device : ulong.MaxValue - 1;

        /// <summary>rename(2): atomic, same file system only; throws instead of falling back to a copy.</summary>
        public static void Rename(string from, string to)
        {
            if (IsWindows)
            {
                File.Move(from, to);
                return;
            }

            if (Native.rename(from, to) != 0)
            {
                throw new IOException($"rename '{from}' → '{to}' failed (errno {Marshal.GetLastWin32Error()}).");
            }
        }

        public static void Unlink(string path)
        {
            if (IsWindows)
            {
                File.Delete(path);
                return;
            }

            if (Native.unlink(path) != 0)
            {
                throw new IOException($"unlink '{path}' failed (errno {Marshal.GetLastWin32Error()}).");
            }
        }

        /// <summary>Copies with the data flushed to the disk before returning; with <paramref name="flush"/> false the caller
        /// makes it durable later with <see cref="SyncFileSystem"/> (one flush for a whole batch).</summary>
        public static void CopyDurably(string from, string to, bool flush = true)
        {
            using (var source = new FileStream(from, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1 << 16))
            using (var target = new FileStream(to, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16))
            {
                source.CopyTo(target, 1 << 16);
                target.Flush(flush || IsWindows);
            }
        }

        /// <summary>syncfs(2): everything written to the file system holding <paramref name="path"/> is on the disk after it.
        /// Windows flushes each file as it is written instead.</summary>
        public static void SyncFileSystem(string path)
        {
            if (IsWindows)
            {
                return;
            }

            int fd = Native.open(path, 0x80000 /* O_CLOEXEC */, 0);
            if (fd < 0)
            {
                throw new IOException($"open '{path}' for syncfs failed (errno {Marshal.GetLastWin32Error()}).");
            }

            try
            {
                if (Native.syncfs(fd) != 0)
                {
                    throw new IOException($"syncfs on '{path}' failed (errno {Marshal.GetLastWin32Error()}).");
                }
            }
            finally
            {
                Native.close(fd);
            }
        }

        public static void WriteDurably(string path, byte[] bytes)
        {
            using var target = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16);
            target.Write(bytes, 0, bytes.Length);
            target.Flush(true);
        }

        /// <summary>fsync on a directory, so a rename or unlink in it survives a power loss (no-op on Windows).</summary>
        public static void SyncDirectory(string directory)
        {
            if (IsWindows)
            {
                return;
            }

            int fd = Native.open(directory, 0x10000 /* O_DIRECTORY */ | 0x80000 /* O_CLOEXEC */, 0);
            if (fd >= 0)
            {
                Native.fsync(fd);
                Native.close(fd);
            }
        }

        public static void SetMode(string path, uint mode)
        {
            if (!IsWindows && Native.chmod(path, mode) != 0)
            {
                throw new IOException($"chmod '{path}' failed (errno {Marshal.GetLastWin32Error()}).");
            }
        }

        public static string ReadLink(string path)
        {
            var buffer = new byte[4096];
            long n = (long)Native.readlink(path, buffer, (UIntPtr)buffer.Length);
            if (n < 0)
            {
                throw new IOException($"readlink '{path}' failed (errno {Marshal.GetLastWin32Error()}).");
            }

            return System.Text.Encoding.UTF8.GetString(buffer, 0, (int)n);
        }

        public static void CreateSymbolicLink(string path, string target)
        {
            if (Native.symlink(target, path) != 0)
            {
                throw new IOException($"symlink '{path}' → '{target}' failed (errno {Marshal.GetLastWin32Error()}).");
            }
        }

        /// <summary>Puts owner, mode, DOS attributes and timestamps back (in that order: each of the earlier ones changes ctime only).</summary>
        public static void ApplyMetadata(string path, FileMetadata meta, bool isLink = false)
        {
            if (IsWindows)
            {
                if (meta.RawAttributes is uint raw)
                {
                    File.SetAttributes(path, (FileAttributes)raw);
                }

                if (meta.CreationUtc is DateTime created)
                {
                    File.SetCreationTimeUtc(path, created);
                }

                File.SetLastWriteTimeUtc(path, meta.WriteUtc);
                File.SetLastAccessTimeUtc(path, DateTimeOffset.FromUnixTimeSeconds(meta.AccessSeconds).UtcDateTime.AddTicks(meta.AccessNanoseconds / 100));
                return;
            }

            if (meta.Uid is uint uid && meta.Gid is uint gid && Native.lchown(path, uid, gid) != 0)
            {
                throw new IOException($"lchown '{path}' failed (errno {Marshal.GetLastWin32Error()}).");
            }

            if (!isLink && meta.Mode is uint mode)
            {
                SetMode(path, mode);
            }

            if (!isLink && meta.RawAttributes is uint attributes && !FileAttributeReader.TryRestore(path, attributes, out string? error))
            {
                throw new IOException($"restoring attributes 0x{attributes:X} of '{path}' failed: {error}");
            }

            var times = new long[] { meta.AccessSeconds, meta.AccessNanoseconds, meta.WriteSeconds, meta.WriteNanoseconds };
            if (Native.utimensat(-100, path, times, isLink ? 0x100 : 0) != 0)
            {
                throw new IOException($"utimensat '{path}' failed (errno {Marshal.GetLastWin32Error()}).");
            }
        }

        /// <summary>The times of the folder holding <paramref name="path"/>: moving a file in or out changes them.</summary>
        public static ParentTimes? ParentTimesOf(string path) =>
            Path.GetDirectoryName(path) is string dir && TryStat(dir, out var m)
                ? new ParentTimes { AccessSeconds = m!.AccessSeconds, AccessNanoseconds = m.AccessNanoseconds, WriteSeconds = m.WriteSeconds, WriteNanoseconds = m.WriteNanoseconds }
                : null;

        /// <summary>Puts the folder's times back as recorded; items restored newest first leave the oldest record in place.</summary>
        public static void ApplyParentTimes(string path, ParentTimes? times)
        {
            if (Path.GetDirectoryName(path) is not string dir || times is null)
            {
                return;
            }

            if (IsWindows)
            {
                Directory.SetLastWriteTimeUtc(dir, DateTimeOffset.FromUnixTimeSeconds(times.WriteSeconds).UtcDateTime.AddTicks(times.WriteNanoseconds / 100));
                return;
            }

            var values = new long[] { times.AccessSeconds, times.AccessNanoseconds, times.WriteSeconds, times.WriteNanoseconds };
            if (Native.utimensat(-100, dir, values, 0) != 0)
            {
                throw new IOException($"utimensat '{dir}' failed (errno {Marshal.GetLastWin32Error()}); the folder's times were not put back.");
            }
        }

        /// <summary>Removes every execute bit (Unix) or denies execution to everyone (Windows ACL through icacls).</summary>
        public static void MakeInert(string path)
        {
            if (IsWindows)
            {
                RunIcacls($"\"{path}\" /inheritance:r /grant:r *S-1-5-32-544:(R,D) *S-1-5-18:(R,D)");
                return;
            }

            SetMode(path, 0x100 /* 0400 */);
        }

        /// <summary>Makes the store readable by root / Administrators and SYSTEM only.</summary>
        public static void RestrictToAdministrators(string directory)
        {
            if (IsWindows)
            {
                RunIcacls($"\"{directory}\" /inheritance:r /grant:r *S-1-5-32-544:(OI)(CI)F *S-1-5-18:(OI)(CI)F");
                return;
            }

            SetMode(directory, 0x1c0 /* 0700 */);
        }

        private static void RunIcacls(string arguments)
        {
            var psi = new System.Diagnostics.ProcessStartInfo("icacls.exe", arguments) { UseShellExecute = false, CreateNoWindow = true, RedirectStandardOutput = true };
            using var p = System.Diagnostics.Process.Start(psi);
            p!.StandardOutput.ReadToEnd();
            p.WaitForExit();
            if (p.ExitCode != 0)
            {
                throw new IOException(string.Format(CultureInfo.InvariantCulture, "icacls {0} failed ({1}).", arguments, p.ExitCode));
            }
        }

        private static class Native
        {
            [DllImport("libc", SetLastError = true)]
            public static extern int statx(int dirfd, [MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags, uint mask, byte[] buffer);

            [DllImport("libc", SetLastError = true)]
            public static extern int rename([MarshalAs(UnmanagedType.LPUTF8Str)] string from, [MarshalAs(UnmanagedType.LPUTF8Str)] string to);

            [DllImport("libc", SetLastError = true)]
            public static extern int unlink([MarshalAs(UnmanagedType.LPUTF8Str)] string path);

            [DllImport("libc", SetLastError = true)]
            public static extern int chmod([MarshalAs(UnmanagedType.LPUTF8Str)] string path, uint mode);

            [DllImport("libc", SetLastError = true)]
            public static extern int lchown([MarshalAs(UnmanagedType.LPUTF8Str)] string path, uint uid, uint gid);

            [DllImport("libc", SetLastError = true)]
            public static extern int utimensat(int dirfd, [MarshalAs(UnmanagedType.LPUTF8Str)] string path, long[] times, int flags);

            [DllImport("libc", SetLastError = true)]
            public static extern IntPtr readlink([MarshalAs(UnmanagedType.LPUTF8Str)] string path, byte[] buffer, UIntPtr size);

            [DllImport("libc", SetLastError = true)]
            public static extern int symlink([MarshalAs(UnmanagedType.LPUTF8Str)] string target, [MarshalAs(UnmanagedType.LPUTF8Str)] string path);

            [DllImport("libc", SetLastError = true)]
            public static extern int open([MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags, int mode);

            [DllImport("libc", SetLastError = true)]
            public static extern int fsync(int fd);

            [DllImport("libc", SetLastError = true)]
            public static extern int syncfs(int fd);

            [DllImport("libc", SetLastError = true)]
            public static extern int close(int fd);
        }
    }
}
