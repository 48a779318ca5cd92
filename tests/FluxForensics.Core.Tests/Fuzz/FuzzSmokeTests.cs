using System.IO;
using System.Linq;
using FluxForensics.Fuzz;

namespace FluxForensics.Tests.Fuzz
{
    /// <summary>
    /// The bounded smoke run of the fuzzing harness (issue 9): every parser entry point gets its seeds, its regression
    /// inputs and a few thousand deterministic mutations, each held to the contract (no escaping exception, time and
    /// allocation bounded by input size). The long coverage-guided run is `build.ps1 Fuzz -Minutes N` (AFL++).
    /// </summary>
    public class FuzzSmokeTests
    {
        public static TheoryData<string> Targets()
        {
            var data = new TheoryData<string>();
            foreach (var t in FuzzContract.AllTargets()) data.Add(t.Name);
            return data;
        }

        [Theory]
        [MemberData(nameof(Targets))]
        public void EveryTargetKeepsItsContractOnMutatedInput(string name)
        {
            var target = FuzzContract.AllTargets().Single(t => t.Name == name);
            var result = SmokeRunner.Run(target, new FuzzPaths(FuzzPaths.FindRepositoryRoot()), iterations: 2500, seed: 20121114);
            Assert.True(result.Executions >= 2500, $"{name} ran {result.Executions} inputs");
            Assert.True(result.Violations.Count == 0, string.Join("\n\n", result.Violations));
        }

        [Fact]
        public void TheCellTargetWrapsItsInputAsTheRootKeyOfAValidHive()
        {
            var target = new FluxForensics.Fuzz.Autorun.RegistryCellTarget();
            var seeds = target.GeneratedSeeds(new FuzzPaths(FuzzPaths.FindRepositoryRoot())).ToList();
            var hive = FluxForensics.Formats.RegistryHive.Parse(FluxForensics.Fuzz.Autorun.RegistryCellTarget.Wrap(seeds[seeds.Count - 1]), "cell");
            Assert.True(hive.ChecksumValid);
            Assert.NotNull(hive.Root);
            Assert.Equal("R", hive.Root!.Name);
        }

        [Fact]
        public void EveryRegressionInputBelongsToATargetAndPasses()
        {
            var paths = new FuzzPaths(FuzzPaths.FindRepositoryRoot());
            var targets = FuzzContract.AllTargets().ToDictionary(t => t.Name);
            var folders = Directory.Exists(paths.Regressions) ? Directory.GetDirectories(paths.Regressions) : new string[0];
            Assert.NotEmpty(folders);
            foreach (var folder in folders)
            {
                Assert.True(targets.TryGetValue(Path.GetFileName(folder), out var target), $"no fuzz target named {Path.GetFileName(folder)}");
                foreach (var file in Directory.GetFiles(folder))
                {
                    FuzzContract.Check(target!, File.ReadAllBytes(file));
                }
            }
        }
    }
}
