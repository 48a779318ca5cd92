using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading;

namespace FluxForensics.Host
{
    /// <summary>One owning process with the facts of its image (and of the program it hosts, for runtime hosts).</summary>
    public sealed class SocketOwner
    {
        public SocketOwner(ProcessFacts process, FileFacts? image, FileFacts? hostedProgram)
        {
            Process = process;
            Image = image;
            HostedProgram = hostedProgram;
        }

        public ProcessFacts Process { get; }

        /// <summary>Facts of the image file; null when its path could not be learnt.</summary>
        public FileFacts? Image { get; }

        /// <summary>For dotnet/python/java-style hosts: the program file on the command line.</summary>
        public FileFacts? HostedProgram { get; }
    }

    /// <summary>Everything the listener rules judge: the sockets and the examined owners.</summary>
    public sealed class ListenerFacts
    {
        public ListenerFacts(SocketSnapshot snapshot, IReadOnlyDictionary<int, SocketOwner> owners)
        {
            Snapshot = snapshot;
            Owners = owners;
        }

        public SocketSnapshot Snapshot { get; }
        public IReadOnlyDictionary<int, SocketOwner> Owners { get; }
    }

    /// <summary>
    /// Gathers <see cref="ListenerFacts"/> from the live machine: sockets and owners, then process and file facts for the
    /// owners worth judging (every listener; with <c>includeOutbound</c> also processes with at least
    /// <c>outboundThreshold</c> open connections). Reads only; judging is ListenerRules'.
    /// </summary>
    public static class SocketOwnerScanner
    {
        /// <summary>Interpreters and runtime hosts: the program they run is named on their command line.</summary>
        private static readonly HashSet<string> RuntimeHosts = new HashSet<string>(StringComparer.OrdinalIgnoreCase)
        {
            "dotnet", "dotnet.exe", "java", "java.exe", "javaw.exe", "python", "python.exe", "pythonw.exe", "python2", "python3",
            "perl", "perl.exe", "ruby", "ruby.exe", "node", "node.exe", "php", "php.exe", "mono", "pwsh", "pwsh.exe",
            "powershell.exe", "bash", "sh", "dash", "zsh", "wscript.exe", "cscript.exe", "rundll32.exe", "mshta.exe",
        };

        public static ListenerFacts Collect(ISocketReader sockets, IProcessReader processes, bool includeOutbound, int outboundThreshold,
            IFluxReporter reporter, CancellationToken cancellationToken)
        {
            reporter.Progress("Get-FluxListener", "Reading socket tables", 0);
            var snapshot = sockets.Read(cancellationToken);

            var selected = new SortedSet<int>();
            var openConnections = new Dictionary<int, int>();
            foreach (var s in snapshot.Sockets)
            {
                if (s.ProcessId is not int pid)
                {
                    continue;
                }

                if (s.IsListening)
                {
                    selected.Add(pid);
                }
                else if (s.IsOpenConnection)
                {
                    openConnections[pid] = openConnections.TryGetValue(pid, out int n) ? n + 1 : 1;
                }
            }

            if (includeOutbound)
            {
                foreach (var pair in openConnections.Where(p => p.Value >= outboundThreshold))
                {
                    selected.Add(pair.Key);
                }
            }

            // Reading /proc/<pid>/stat and status waits on each process's memory map lock more than it computes, so
            // the owners are examined on a few threads; progress is reported from this thread only.
            reporter.Progress("Get-FluxListener", $"Examining {selected.Count} processes", 0.5);
            var files = new FileFactsReader.Cache();
            var pids = selected.ToArray();
            var examined = new SocketOwner[pids.Length];
            var options = new System.Threading.Tasks.ParallelOptions
            {
                CancellationToken = cancellationToken,
                MaxDegreeOfParallelism = Math.Max(1, Math.Min(8, Environment.ProcessorCount * 2)),
            };
            try
            {
                System.Threading.Tasks.Parallel.For(0, pids.Length, options, i => examined[i] = Examine(pids[i], processes, files));
            }
            catch (AggregateException e) when (e.InnerException is not null)
            {
                throw new InvalidOperationException("examining the socket owners failed: " + e.InnerException.Message, e.InnerException);
            }

            var owners = new Dictionary<int, SocketOwner>(pids.Length);
            for (int i = 0; i < pids.Length; i++)
            {
                owners[pids[i]] = examined[i];
            }

            return new ListenerFacts(snapshot, owners);
        }

        /// <summary>Reads one owner. Never throws for a process that vanished or cannot be opened.</summary>
        public static SocketOwner Examine(int pid, IProcessReader processes, FileFactsReader.Cache files)
        {
            ProcessFacts process;
            try
            {
                process = processes.Read(pid);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidOperationException or ArgumentException)
            {
                process = new ProcessFacts(pid);
                process.ReadErrors.Add("process: " + e.Message);
            }

            FileFacts? image = null;
            if (process.ImagePath is not null)
            {
                // A deleted image is read through /proc/<pid>/exe; otherwise prefer the path (it may be cached across processes).
                image = files.Read(process.ImagePath, process.ImageDeleted ? process.ImageContentPath : null);
                if (image.ReadError is not null && process.ImageContentPath is not null && !process.ImageDeleted)
                {
                    image = files.Read(process.ImagePath, process.ImageContentPath);
                }
            }

            FileFacts? hosted = null;
            string? program = HostedProgramPath(process);
            if (program is not null)
            {
                hosted = files.Read(program);
            }

            return new SocketOwner(process, image, hosted);
        }

        /// <summary>For a runtime host (dotnet, python …), the first argument that names an existing file; else null.</summary>
        public static string? HostedProgramPath(ProcessFacts process)
        {
            if (process.Name is null || !RuntimeHosts.Contains(process.Name) || process.Arguments is not { Count: > 1 } args)
            {
                return null;
            }

            for (int i = 1; i < args.Count && i < 8; i++)
            {
                string a = args[i];
                if (a.Length == 0 || a[0] == '-' || a == "exec")
                {
                    if (a == "-jar" || a == "-m" || a == "-c" || a == "-e")
                    {
                        if (a != "-jar")
                        {
                            return null; // inline code or a module name: no file to judge.
                        }
                    }

                    continue;
                }

                string candidate = a;
                try
                {
                    if (!Path.IsPathRooted(candidate) && process.WorkingDirectory is not null)
                    {
                        candidate = Path.GetFullPath(Path.Combine(process.WorkingDirectory, candidate));
                    }

                    return File.Exists(candidate) ? candidate : null;
                }
                catch (Exception e) when (e is ArgumentException or NotSupportedException or PathTooLongException)
                {
                    return null;
                }
            }

            return null;
        }
    }
}
