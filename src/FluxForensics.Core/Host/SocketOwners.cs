using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading;
using FluxForensics.Model;

namespace FluxForensics.Host
{
    /// <summary>
    /// Reads the owners of sockets: process facts, and file facts of each image (and of the program a runtime host runs).
    /// Which owners are worth reading is the rules' choice (<c>ListenerRules.OwnersToExamine</c>); this only reads.
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

        /// <summary>Reads the given owners. Reading <c>/proc/&lt;pid&gt;/stat</c> and <c>status</c> waits on each process's memory
        /// map lock more than it computes, so the owners are read on a few threads; progress is reported from this thread only.</summary>
        public static IReadOnlyDictionary<int, SocketOwner> ExamineOwners(IReadOnlyCollection<int> processIds, IProcessReader processes,
            IFluxReporter reporter, CancellationToken cancellationToken)
        {
            reporter.Progress(ProgressActivity, $"Examining {processIds.Count} processes", 0.5);
            var files = new FileFactsReader.Cache();
            var pids = processIds.ToArray();
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

            return owners;
        }

        /// <summary>The activity progress records of a listener scan carry.</summary>
        public const string ProgressActivity = "Examining listening sockets";

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
