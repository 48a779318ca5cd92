using System;
using System.IO;
using System.Linq;

namespace FluxForensics.Fuzz
{
    /// <summary>
    /// dotnet FluxForensics.Fuzz.dll list | smoke TARGET|all [--iterations N] [--seed S] | afl TARGET | repro TARGET FILE |
    /// seeds TARGET DIR (copies the seed inputs for afl-fuzz -i).
    /// </summary>
    public static class Program
    {
        public static int Main(string[] args)
        {
            var targets = FuzzContract.AllTargets();
            var paths = new FuzzPaths(FuzzPaths.FindRepositoryRoot());
            string verb = args.Length > 0 ? args[0] : "list";
            IFuzzTarget? Find(string name) => targets.FirstOrDefault(t => t.Name == name);

            switch (verb)
            {
                case "list":
                    foreach (var t in targets) Console.WriteLine(t.Name);
                    return 0;

                case "smoke" when args.Length >= 2:
                {
                    int iterations = Option(args, "--iterations", 2000);
                    int seed = Option(args, "--seed", 20121114);
                    var chosen = args[1] == "all" ? targets : targets.Where(t => t.Name == args[1]).ToList();
                    int failed = 0;
                    foreach (var t in chosen)
                    {
                        var r = SmokeRunner.Run(t, paths, iterations, seed, Path.Combine(paths.RepositoryRoot, "out", "fuzz", "findings"));
                        Console.WriteLine($"{r.Target,-16} seeds {r.Seeds,4}  executions {r.Executions,8}  violations {r.Violations.Count}");
                        foreach (var v in r.Violations) Console.WriteLine("  " + v);
                        failed += r.Violations.Count;
                    }

                    return failed == 0 ? 0 : 1;
                }

                case "afl" when args.Length >= 2 && Find(args[1]) is { } aflTarget:
                    // AFL++ feeds inputs through SharpFuzz; a contract violation escapes as an exception, which AFL records as a crash.
                    SharpFuzz.Fuzzer.Run(stream =>
                    {
                        using var buffer = new MemoryStream();
                        stream.CopyTo(buffer);
                        FuzzContract.Check(aflTarget, buffer.ToArray());
                    });
                    return 0;

                case "repro" when args.Length >= 3 && Find(args[1]) is { } reproTarget:
                    try
                    {
                        FuzzContract.Check(reproTarget, File.ReadAllBytes(args[2]));
                        Console.WriteLine("ok");
                        return 0;
                    }
                    catch (FuzzContractViolation v)
                    {
                        Console.WriteLine(v.Message);
                        Console.WriteLine(v.InnerException);
                        return 1;
                    }

                case "seeds" when args.Length >= 3 && Find(args[1]) is { } seedTarget:
                {
                    Directory.CreateDirectory(args[2]);
                    int i = 0;
                    // Regression inputs stay out of AFL's seeds: afl-fuzz 4.04c aborted its dry run ("No instrumentation detected")
                    // when one came first; the smoke run and the test suite replay them instead.
                    foreach (var s in SmokeRunner.LoadSeeds(seedTarget, paths, includeRegressions: false))
                    {
                        // AFL works best on small seeds: cap them.
                        File.WriteAllBytes(Path.Combine(args[2], $"seed-{i++:D3}"), s.Length > 64 * 1024 ? s.Take(64 * 1024).ToArray() : s);
                    }

                    return 0;
                }

                default:
                    Console.Error.WriteLine("usage: FluxForensics.Fuzz list | smoke TARGET|all [--iterations N] [--seed S] | afl TARGET | repro TARGET FILE | seeds TARGET DIR");
                    Console.Error.WriteLine("targets: " + string.Join(", ", targets.Select(t => t.Name)));
                    return 64;
            }
        }

        private static int Option(string[] args, string name, int fallback)
        {
            int i = Array.IndexOf(args, name);
            return i >= 0 && i + 1 < args.Length && int.TryParse(args[i + 1], out int v) ? v : fallback;
        }
    }
}
