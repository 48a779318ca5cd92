using System;
using System.IO;

namespace FluxForensics.Tests.Listener
{
    /// <summary>Finds the shared corpus at &lt;repo&gt;/../shared/corpus (never copied into the repository).</summary>
    internal static class Corpus
    {
        public static string RepoRoot { get; } = FindRepoRoot();

        public static string Root => Path.GetFullPath(Path.Combine(RepoRoot, "..", "shared", "corpus"));

        public static string PeNet(string name) => Path.Combine(Root, "artifacts", "secana__PeNet", "test", "PeNet.Test", "Binaries", name);

        public static string Winml => Path.Combine(Root, "artifacts", "puffyCid__artemis", "forensics", "tests", "test_data", "windows", "pe", "resources", "winml.dll");

        public static string? WhyMissing(string path) =>
            File.Exists(path) ? null : $"corpus file {path} is absent (the shared corpus is not next to this repository)";

        private static string FindRepoRoot()
        {
            var dir = new DirectoryInfo(AppContext.BaseDirectory);
            while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "FluxForensics.sln")))
            {
                dir = dir.Parent;
            }

            return dir?.FullName ?? Directory.GetCurrentDirectory();
        }
    }
}
