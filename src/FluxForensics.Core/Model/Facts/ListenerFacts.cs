using System.Collections.Generic;

namespace FluxForensics.Model
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
}
