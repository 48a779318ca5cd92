using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;

namespace FluxForensics.Fuzz
{
    /// <summary>
    /// One parser entry point under fuzzing. Implementations are discovered by reflection. <see cref="Run"/> must
    /// return normally for every input: a parser reports damage as a ParseIssue, it never throws.
    /// </summary>
    public interface IFuzzTarget
    {
        /// <summary>Short name used on the command line and for the regression folder.</summary>
        string Name { get; }

        /// <summary>Seed inputs: files under the shared corpus and the repository's own fixtures.</summary>
        IEnumerable<string> SeedFiles(FuzzPaths paths);

        void Run(byte[] input);
    }

    /// <summary>A target that also builds seed inputs itself (e.g. a scripted TCP conversation).</summary>
    public interface IGeneratedSeeds
    {
        IEnumerable<byte[]> GeneratedSeeds(FuzzPaths paths);
    }

    /// <summary>Where seeds and regressions live.</summary>
    public sealed class FuzzPaths
    {
        public FuzzPaths(string repositoryRoot)
        {
            RepositoryRoot = repositoryRoot;
            Corpus = Path.GetFullPath(Path.Combine(repositoryRoot, "..", "shared", "corpus"));
            Regressions = Path.Combine(repositoryRoot, "tests", "Fuzz", "regressions");
        }

        public string RepositoryRoot { get; }
        public string Corpus { get; }
        public string Regressions { get; }

        /// <summary>Corpus files whose name matches one of the patterns (recursive, up to 1 MiB), small ones first.</summary>
        public IEnumerable<string> CorpusFiles(params string[] patterns) =>
            !Directory.Exists(Corpus) ? Enumerable.Empty<string>() :
            patterns.SelectMany(p => Directory.EnumerateFiles(Corpus, p, SearchOption.AllDirectories))
                .Select(f => new FileInfo(f))
                .Where(f => f.Length <= 1024 * 1024)
                .GroupBy(f => f.FullName, StringComparer.Ordinal).Select(g => g.First())
                .OrderBy(f => f.Length).ThenBy(f => f.FullName, StringComparer.Ordinal)
                .Select(f => f.FullName);

        public static string FindRepositoryRoot()
        {
            var dir = new DirectoryInfo(AppContext.BaseDirectory);
            while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "FluxForensics.sln")))
            {
                dir = dir.Parent;
            }

            return dir?.FullName ?? Directory.GetCurrentDirectory();
        }
    }

    /// <summary>A broken contract: an exception escaped, or time or allocation exceeded the bound for the input size.</summary>
    public sealed class FuzzContractViolation : Exception
    {
        public FuzzContractViolation(string message, Exception? inner = null) : base(message, inner) { }
    }

    /// <summary>
    /// The contract every target is held to on every input: returns (damage is a ParseIssue), throws nothing, and
    /// finishes and allocates within bounds proportional to the input size.
    /// </summary>
    public static class FuzzContract
    {
        /// <summary>Time allowed: a fixed allowance (JIT, first use) plus per byte.</summary>
        public static TimeSpan TimeBound(int length) => TimeSpan.FromMilliseconds(1500 + length / 10.0);

        /// <summary>Bytes allowed to be allocated: a fixed allowance plus a constant factor of the input.</summary>
        public static long AllocationBound(int length) => 16L * 1024 * 1024 + 256L * length;

        public static void Check(IFuzzTarget target, byte[] input)
        {
            long allocatedBefore = GC.GetAllocatedBytesForCurrentThread();
            var watch = Stopwatch.StartNew();
            try
            {
                target.Run(input);
            }
            catch (Exception e)
            {
                throw new FuzzContractViolation($"{target.Name}: {e.GetType().Name} escaped on a {input.Length}-byte input: {e.Message}", e);
            }

            watch.Stop();
            long allocated = GC.GetAllocatedBytesForCurrentThread() - allocatedBefore;
            if (watch.Elapsed > TimeBound(input.Length))
            {
                throw new FuzzContractViolation($"{target.Name}: {watch.Elapsed.TotalMilliseconds:F0} ms on a {input.Length}-byte input (bound {TimeBound(input.Length).TotalMilliseconds:F0} ms)");
            }

            if (allocated > AllocationBound(input.Length))
            {
                throw new FuzzContractViolation($"{target.Name}: allocated {allocated:N0} bytes on a {input.Length}-byte input (bound {AllocationBound(input.Length):N0})");
            }
        }

        public static IReadOnlyList<IFuzzTarget> AllTargets() =>
            typeof(FuzzContract).Assembly.GetTypes()
                .Where(t => typeof(IFuzzTarget).IsAssignableFrom(t) && t is { IsAbstract: false, IsInterface: false })
                .Select(t => (IFuzzTarget)Activator.CreateInstance(t)!)
                .OrderBy(t => t.Name, StringComparer.Ordinal)
                .ToList();
    }
}
