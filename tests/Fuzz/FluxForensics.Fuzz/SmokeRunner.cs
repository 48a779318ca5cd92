using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;

namespace FluxForensics.Fuzz
{
    /// <summary>Result of a bounded in-process run of one target.</summary>
    public sealed class SmokeResult
    {
        public string Target { get; init; } = string.Empty;
        public int Seeds { get; init; }
        public long Executions { get; set; }
        public List<string> Violations { get; } = new List<string>();
    }

    /// <summary>
    /// The bounded smoke run of the normal test suite: every seed and regression input as is, then mutations of them.
    /// Deterministic for a given seed, so a failure reproduces.
    /// </summary>
    public static class SmokeRunner
    {
        public const int MaxSeeds = 64;

        public static IReadOnlyList<byte[]> LoadSeeds(IFuzzTarget target, FuzzPaths paths, bool includeRegressions = true)
        {
            var seeds = target.SeedFiles(paths).Take(MaxSeeds).Select(File.ReadAllBytes).ToList();
            if (target is IGeneratedSeeds generated)
            {
                seeds.AddRange(generated.GeneratedSeeds(paths).Take(MaxSeeds));
            }

            string regressions = Path.Combine(paths.Regressions, target.Name);
            if (includeRegressions && Directory.Exists(regressions))
            {
                seeds.AddRange(Directory.EnumerateFiles(regressions).OrderBy(f => f, StringComparer.Ordinal).Select(File.ReadAllBytes));
            }

            if (seeds.Count == 0)
            {
                seeds.Add(Array.Empty<byte>());
            }

            return seeds;
        }

        public static SmokeResult Run(IFuzzTarget target, FuzzPaths paths, int iterations, int seed, string? findingsFolder = null)
        {
            var seeds = LoadSeeds(target, paths);
            var result = new SmokeResult { Target = target.Name, Seeds = seeds.Count };
            long executions = 0;

            void Try(byte[] input)
            {
                executions++;
                try
                {
                    FuzzContract.Check(target, input);
                }
                catch (FuzzContractViolation violation)
                {
                    if (result.Violations.Count < 10)
                    {
                        result.Violations.Add(violation.Message + (violation.InnerException is null ? string.Empty : Environment.NewLine + violation.InnerException));
                        if (findingsFolder is not null)
                        {
                            Directory.CreateDirectory(findingsFolder);
                            File.WriteAllBytes(Path.Combine(findingsFolder, $"{target.Name}-{executions}.bin"), input);
                        }
                    }
                }
            }

            foreach (var s in seeds)
            {
                Try(s);
            }

            var mutator = new Mutator(seed);
            var random = new Random(seed);
            for (int i = 0; i < iterations && result.Violations.Count < 10; i++)
            {
                Try(mutator.Mutate(seeds[random.Next(seeds.Count)], seeds));
            }

            result.Executions = executions;
            return result;
        }
    }
}
