using System;
using System.Linq;
using System.Reflection;

namespace FluxForensics.Fixtures
{
    /// <summary>A fixture command: <c>dotnet FluxForensics.Fixtures.dll &lt;name&gt; args…</c>.</summary>
    public interface IFixtureCommand
    {
        /// <summary>The verb on the command line, e.g. <c>incident-capture</c>.</summary>
        string Name { get; }

        /// <summary>One line: arguments and what it makes.</summary>
        string Usage { get; }

        /// <summary>Runs the command; the return value is the process exit code.</summary>
        int Run(string[] args);
    }

    public static class Program
    {
        public static int Main(string[] args)
        {
            // Each generator is its own class so that adding one never touches a shared list.
            var commands = typeof(Program).Assembly.GetTypes()
                .Where(t => typeof(IFixtureCommand).IsAssignableFrom(t) && t is { IsAbstract: false, IsInterface: false })
                .Select(t => (IFixtureCommand)Activator.CreateInstance(t)!)
                .OrderBy(c => c.Name, StringComparer.Ordinal)
                .ToList();

            var command = args.Length == 0 ? null : commands.FirstOrDefault(c => c.Name == args[0]);
            if (command is null)
            {
                Console.Error.WriteLine("usage: FluxForensics.Fixtures <command> [args]");
                foreach (var c in commands)
                {
                    Console.Error.WriteLine($"  {c.Name,-22} {c.Usage}");
                }

                return 64;
            }

            try
            {
                return command.Run(args.Skip(1).ToArray());
            }
            catch (Exception e) when (e is ArgumentException or FormatException or System.IO.IOException)
            {
                Console.Error.WriteLine($"{command.Name}: {e.Message}");
                return 65;
            }
        }
    }

    /// <summary>Prints its arguments; proves the fixture host runs (used by the foundation tests).</summary>
    public sealed class EchoCommand : IFixtureCommand
    {
        public string Name => "echo";
        public string Usage => "echo ARGS… (prints them, one per line)";

        public int Run(string[] args)
        {
            foreach (var a in args)
            {
                Console.WriteLine(a);
            }

            return 0;
        }
    }
}
