using System;
using System.Collections.Generic;

namespace FluxForensics.Model
{
    /// <summary>What is known about one running process. Whatever could not be read is null and named in <see cref="ReadErrors"/>.</summary>
    public sealed class ProcessFacts
    {
        public ProcessFacts(int processId) => ProcessId = processId;

        public int ProcessId { get; }

        /// <summary>The image's file name (Linux: from the exe link, else the kernel's 15-character comm).</summary>
        public string? Name { get; internal set; }

        /// <summary>Full path of the image; null when it could not be read.</summary>
        public string? ImagePath { get; internal set; }

        /// <summary>
        /// Where the image's bytes can be read when <see cref="ImagePath"/> cannot serve (Linux: <c>/proc/&lt;pid&gt;/exe</c>,
        /// which opens even a deleted image).
        /// </summary>
        public string? ImageContentPath { get; internal set; }

        /// <summary>The image file was deleted (or replaced) after the process started.</summary>
        public bool ImageDeleted { get; internal set; }

        public string? CommandLine { get; internal set; }

        /// <summary>The arguments, when the platform gives them separately (Linux).</summary>
        public IReadOnlyList<string>? Arguments { get; internal set; }

        /// <summary>The working directory (Linux), to resolve relative paths on the command line.</summary>
        public string? WorkingDirectory { get; internal set; }

        public string? User { get; internal set; }
        public int? UserId { get; internal set; }
        public int? ParentProcessId { get; internal set; }
        public DateTime? StartTimeUtc { get; internal set; }

        /// <summary>Windows: the services hosted in this process (svchost and friends).</summary>
        public IReadOnlyList<string> ServiceNames { get; internal set; } = Array.Empty<string>();

        /// <summary>Linux: a kernel thread (PF_KTHREAD, or a child of kthreadd); it has no image and is never a program to stop.</summary>
        public bool IsKernelThread { get; internal set; }

        /// <summary>Linux: the process has exited and waits for its parent to reap it (state Z or X).</summary>
        public bool IsZombie { get; internal set; }

        /// <summary>The process was gone when its details were read (exited mid-scan).</summary>
        public bool Exited { get; internal set; }

        /// <summary>What could not be read, in words (e.g. "image path: permission denied").</summary>
        public List<string> ReadErrors { get; } = new List<string>();
    }
}
