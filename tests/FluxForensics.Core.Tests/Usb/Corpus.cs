using System;
using System.IO;

namespace FluxForensics.Tests.Usb
{
    /// <summary>Finds the shared corpus (<c>&lt;repo&gt;/../shared/corpus</c>); files are read in place, never copied.</summary>
    internal static class Corpus
    {
        public static string? Root { get; } = Find();

        public static string Artifacts(string relative) => Path.Combine(Root ?? string.Empty, "artifacts", relative);

        private static string? Find()
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "FluxForensics.sln")))
                {
                    string corpus = Path.GetFullPath(Path.Combine(dir.FullName, "..", "shared", "corpus"));
                    return Directory.Exists(corpus) ? corpus : null;
                }
            }

            return null;
        }
    }
}
