global using FluxForensics.Net472;
// The Core test sources are written against .NET 10. Compiled here for net472 (run under Mono), the few newer BCL members
// they use are supplied as C# 14 extension members with the same names, so the same test files compile unchanged.
// Each shim does the real thing (a libc call, the same algorithm) or reports that Mono cannot; none fakes a result.
using System.Collections.ObjectModel;
using System.ComponentModel;
using System.Diagnostics;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;

namespace System.IO
{
    /// <summary>.NET 7's Unix permission bits (same values), for the tests that set and read file modes.</summary>
    [Flags]
    public enum UnixFileMode
    {
        None = 0,
        OtherExecute = 1, OtherWrite = 2, OtherRead = 4,
        GroupExecute = 8, GroupWrite = 16, GroupRead = 32,
        UserExecute = 64, UserWrite = 128, UserRead = 256,
        StickyBit = 512, SetGroup = 1024, SetUser = 2048,
    }
}

namespace FluxForensics.Net472
{
    using System;
    using System.Collections.Generic;
    using System.IO;
    using System.Linq;
    using System.Text.RegularExpressions;

    internal static class Net472Shims
    {
        private static readonly MethodInfo? AllocatedBytes = typeof(GC).GetMethod("GetAllocatedBytesForCurrentThread", BindingFlags.Public | BindingFlags.Static);

        extension(OperatingSystem)
        {
            public static bool IsLinux() => RuntimeInformation.IsOSPlatform(OSPlatform.Linux);

            public static bool IsWindows() => RuntimeInformation.IsOSPlatform(OSPlatform.Windows);
        }

        extension(Environment)
        {
            public static int ProcessId => Process.GetCurrentProcess().Id;

            public static string? ProcessPath => Process.GetCurrentProcess().MainModule?.FileName;
        }

        extension(GC)
        {
            /// <summary>Mono's corlib has the counter even though the net472 reference assemblies do not expose it.</summary>
            public static long GetAllocatedBytesForCurrentThread() =>
                AllocatedBytes is not null
                    ? (long)AllocatedBytes.Invoke(null, null)!
                    : throw new Xunit.SkipException("this runtime has no per-thread allocation counter (GC.GetAllocatedBytesForCurrentThread)");

            public static TimeSpan GetTotalPauseDuration() => throw new NotSupportedException("GC pause time is a .NET Core counter; the benchmark commands run on .NET only.");

            public static long GetTotalAllocatedBytes(bool precise = false) => throw new NotSupportedException("GC.GetTotalAllocatedBytes is a .NET Core counter; the benchmark commands run on .NET only.");
        }

        extension(Encoding)
        {
            public static Encoding Latin1 => Encoding.GetEncoding(28591);
        }

        extension(Convert)
        {
            public static string ToHexString(byte[] bytes) => ToHexString(bytes, 0, bytes.Length);

            public static string ToHexString(byte[] bytes, int offset, int length)
            {
                var sb = new StringBuilder(length * 2);
                for (int i = offset; i < offset + length; i++)
                {
                    sb.Append(bytes[i].ToString("X2", System.Globalization.CultureInfo.InvariantCulture));
                }

                return sb.ToString();
            }

            public static string ToHexString(ReadOnlySpan<byte> bytes) => ToHexString(bytes.ToArray());
        }

        extension(SHA256)
        {
            public static byte[] HashData(byte[] data)
            {
                using var sha = SHA256.Create();
                return sha.ComputeHash(data);
            }

            public static byte[] HashData(ReadOnlySpan<byte> data) => HashData(data.ToArray());

            public static byte[] HashData(Stream stream)
            {
                using var sha = SHA256.Create();
                return sha.ComputeHash(stream);
            }
        }

    }

    internal static class Md5Shim
    {
        extension(MD5)
        {
            public static byte[] HashData(byte[] data)
            {
                using var md5 = MD5.Create();
                return md5.ComputeHash(data);
            }

            public static byte[] HashData(ReadOnlySpan<byte> data) => HashData(data.ToArray());
        }

        extension(File)
        {
            public static FileSystemInfo CreateSymbolicLink(string path, string pathToTarget)
            {
                Net472Native.Symlink(pathToTarget, path);
                return new FileInfo(path);
            }

            public static void Move(string source, string destination, bool overwrite)
            {
                if (overwrite && File.Exists(destination))
                {
                    File.Delete(destination);
                }

                File.Move(source, destination);
            }

            public static void SetUnixFileMode(string path, UnixFileMode mode)
            {
                if (Net472Native.chmod(path, (uint)mode) != 0)
                {
                    throw new IOException($"chmod {path} failed: errno {Marshal.GetLastWin32Error()}");
                }
            }

            public static UnixFileMode GetUnixFileMode(string path) =>
                (UnixFileMode)(FluxForensics.Remediation.RemediationFileSystem.Stat(path).Mode ?? throw new IOException($"no mode for {path}"));
        }

    }

    internal static class DirectoryShim
    {
        extension(Directory)
        {
            public static FileSystemInfo CreateSymbolicLink(string path, string pathToTarget)
            {
                Net472Native.Symlink(pathToTarget, path);
                return new DirectoryInfo(path);
            }
        }

    }

    internal static class InstanceShims
    {
        extension(string s)
        {
            public string[] Split(char separator, StringSplitOptions options) => s.Split(new[] { separator }, options);

            public bool Contains(char c) => s.IndexOf(c) >= 0;
        }

        extension<TKey, TValue>(KeyValuePair<TKey, TValue> pair)
        {
            /// <summary>.NET Core 2.0+ deconstructs dictionary entries; .NET Framework does not.</summary>
            public void Deconstruct(out TKey key, out TValue value)
            {
                key = pair.Key;
                value = pair.Value;
            }
        }

        extension(string)
        {
            public static string Join(char separator, IEnumerable<string> values) => string.Join(separator.ToString(), values);
        }

        extension(Encoding encoding)
        {
            public string GetString(ReadOnlySpan<byte> bytes) => encoding.GetString(bytes.ToArray());
        }

        extension(MatchCollection matches)
        {
            /// <summary>.NET Framework's MatchCollection is only a non-generic IEnumerable.</summary>
            public IEnumerable<TResult> Select<TResult>(Func<Match, TResult> selector) => matches.Cast<Match>().Select(selector);
        }

        extension(Stream stream)
        {
            public void Write(ReadOnlySpan<byte> bytes)
            {
                byte[] copy = bytes.ToArray();
                stream.Write(copy, 0, copy.Length);
            }

            public System.Threading.Tasks.Task WriteAsync(byte[] bytes) => stream.WriteAsync(bytes, 0, bytes.Length);
        }

        extension(System.Net.Sockets.TcpListener listener)
        {
            /// <summary>.NET Framework's accept takes no token: the token stops the listener, which ends the pending accept.</summary>
            public async System.Threading.Tasks.Task<System.Net.Sockets.TcpClient> AcceptTcpClientAsync(System.Threading.CancellationToken cancellation)
            {
                using (cancellation.Register(listener.Stop))
                {
                    try
                    {
                        return await listener.AcceptTcpClientAsync().ConfigureAwait(false);
                    }
                    catch (Exception e) when (cancellation.IsCancellationRequested && (e is ObjectDisposedException || e is System.Net.Sockets.SocketException || e is InvalidOperationException))
                    {
                        throw new OperationCanceledException(cancellation);
                    }
                }
            }
        }

        extension(ProcessStartInfo start)
        {
            /// <summary>Kept in step with <see cref="ProcessStartInfo.Arguments"/>, quoted the way .NET Core quotes ArgumentList.</summary>
            public Collection<string> ArgumentList => new ArgumentCollection(start);
        }

        private sealed class ArgumentCollection : Collection<string>
        {
            private readonly ProcessStartInfo _start;

            public ArgumentCollection(ProcessStartInfo start) => _start = start;

            protected override void InsertItem(int index, string item)
            {
                base.InsertItem(index, item);
                _start.Arguments = string.IsNullOrEmpty(_start.Arguments) ? Quote(item) : _start.Arguments + " " + Quote(item);
            }

            private static string Quote(string argument)
            {
                if (argument.Length > 0 && argument.IndexOfAny(new[] { ' ', '\t', '"', '\\', '\'' }) < 0)
                {
                    return argument;
                }

                var sb = new StringBuilder("\"");
                foreach (char c in argument)
                {
                    if (c == '"' || c == '\\')
                    {
                        sb.Append('\\');
                    }

                    sb.Append(c);
                }

                return sb.Append('"').ToString();
            }
        }

    }

    internal static class Net472Native
    {
        internal static void Symlink(string target, string path)
        {
            if (symlink(target, path) != 0)
            {
                throw new IOException($"symlink {path} -> {target} failed: errno {Marshal.GetLastWin32Error()}");
            }
        }

        [DllImport("libc", SetLastError = true)]
        private static extern int symlink([MarshalAs(UnmanagedType.LPUTF8Str)] string target, [MarshalAs(UnmanagedType.LPUTF8Str)] string path);

        [DllImport("libc", SetLastError = true)]
        internal static extern int chmod([MarshalAs(UnmanagedType.LPUTF8Str)] string path, uint mode);
    }
}
