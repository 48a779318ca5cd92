using System;
using System.IO;
using System.Runtime.InteropServices;

namespace FluxForensics.WindowsTests.Support
{
    /// <summary>What the tests need to know about the Windows they run on: real Windows or Wine, and whether it is a
    /// throw-away machine on which tests may write Run keys and change attributes outside their own folders.</summary>
    internal static class TestHost
    {
        private static readonly Lazy<string?> WineVersionValue = new Lazy<string?>(ReadWineVersion);

        /// <summary>The Wine version ("8.0"), or null on real Windows.</summary>
        public static string? WineVersion => WineVersionValue.Value;

        public static bool IsWine => WineVersion != null;

        /// <summary>Under Wine the prefix is a temporary directory the lane creates and deletes; on real Windows the
        /// machine is somebody's, so tests that touch shared state (HKLM, Run keys) need FLUX_WINDOWS_TESTS_DISPOSABLE=1.</summary>
        public static bool IsDisposableMachine =>
            IsWine || Environment.GetEnvironmentVariable("FLUX_WINDOWS_TESTS_DISPOSABLE") == "1";

        public static void RequireWindows() =>
            Assert.SkipUnless(OperatingSystem.IsWindows(), "the Windows test lane runs only on Windows or under Wine");

        public static void RequireDisposableMachine() =>
            Assert.SkipUnless(IsDisposableMachine,
                "changes machine-wide state; runs under Wine or with FLUX_WINDOWS_TESTS_DISPOSABLE=1 on a throw-away Windows");

        /// <summary>Skips with a reason that names Wine, used where Wine (not our code) lacks the behaviour.</summary>
        public static void SkipOnWineGap(bool gap, string what) =>
            Assert.SkipWhen(gap && IsWine, $"Wine {WineVersion} gap: {what}");

        /// <summary>The repository the published program was built from (the folder holding FluxForensics.sln), or null.</summary>
        public static string? RepositoryRoot
        {
            get
            {
                for (DirectoryInfo? dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
                {
                    if (File.Exists(Path.Combine(dir.FullName, "FluxForensics.sln")))
                    {
                        return dir.FullName;
                    }
                }

                return null;
            }
        }

        /// <summary>The shared corpus, <c>&lt;repo&gt;/../shared/corpus</c>, found from the published program's folder
        /// (under Wine the Linux tree is visible as drive Z:). FLUX_CORPUS overrides.</summary>
        public static string? CorpusDirectory
        {
            get
            {
                string? fromEnvironment = Environment.GetEnvironmentVariable("FLUX_CORPUS");
                if (!string.IsNullOrEmpty(fromEnvironment) && Directory.Exists(fromEnvironment))
                {
                    return fromEnvironment;
                }

                string? repo = RepositoryRoot;
                string? corpus = repo is null ? null : Path.GetFullPath(Path.Combine(repo, "..", "shared", "corpus"));
                return corpus is not null && Directory.Exists(corpus) ? corpus : null;
            }
        }

        public static string CorpusFile(string relativePath)
        {
            string? corpus = CorpusDirectory;
            Assert.SkipWhen(corpus == null, "the shared corpus (<repo>/../shared/corpus) is not present");
            string path = Path.Combine(corpus!, relativePath.Replace('/', Path.DirectorySeparatorChar));
            Assert.SkipUnless(File.Exists(path), $"corpus file {relativePath} is not present");
            return path;
        }

        private static string? ReadWineVersion()
        {
            if (!OperatingSystem.IsWindows())
            {
                return null;
            }

            // Wine's ntdll exports wine_get_version; Windows' does not. This is how Wine itself suggests detecting it.
            IntPtr ntdll = NativeLibrary.Load("ntdll.dll");
            if (!NativeLibrary.TryGetExport(ntdll, "wine_get_version", out IntPtr export))
            {
                return null;
            }

            unsafe
            {
                var getVersion = (delegate* unmanaged<IntPtr>)export;
                return Marshal.PtrToStringAnsi(getVersion());
            }
        }
    }

    /// <summary>A directory under %TEMP% that the test owns and deletes, clearing attributes that would block it.</summary>
    internal sealed class TempDirectory : IDisposable
    {
        public TempDirectory()
        {
            Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "FluxWinTests-" + Guid.NewGuid().ToString("N"));
            Directory.CreateDirectory(Path);
        }

        public string Path { get; }

        public string File(string name, string content = "x")
        {
            string path = System.IO.Path.Combine(Path, name);
            System.IO.File.WriteAllText(path, content);
            return path;
        }

        public void Dispose()
        {
            if (!Directory.Exists(Path))
            {
                return;
            }

            foreach (string entry in Directory.EnumerateFileSystemEntries(Path, "*", SearchOption.AllDirectories))
            {
                System.IO.File.SetAttributes(entry, FileAttributes.Normal);
            }

            Directory.Delete(Path, recursive: true);
        }
    }
}
