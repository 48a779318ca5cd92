using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using FluxForensics.Model;

namespace FluxForensics.Remediation
{
    /// <summary>
    /// The three parts of remediation over one store: <see cref="RemediationExecutor"/> (plan → journal → act → verify),
    /// <see cref="RemediationRecovery"/> (settle what an interrupted run left in doubt) and <see cref="RemediationRestorer"/>
    /// (the undo). Each item kind is one <see cref="ItemHandler"/>.
    /// </summary>
    internal sealed class RemediationEngine
    {
        private readonly RemediationContext _context;

        public RemediationEngine(QuarantineStore? store, IProcessControl processes, IRegistryAccess registry, IFluxReporter reporter, bool force)
        {
            _context = new RemediationContext(store, processes, registry, reporter, force);
        }

        /// <summary>How long to wait after stopping processes before checking that nothing came back.</summary>
        public TimeSpan VerifyDelay { get; set; } = TimeSpan.FromSeconds(1);

        public static string RunBy => RemediationFileSystem.IsWindows ? Environment.UserDomainName + "\\" + Environment.UserName : Environment.UserName;

        public static IProcessControl DefaultProcessControl() =>
            RemediationFileSystem.IsWindows ? new WindowsProcessControl() : new LinuxProcessControl();

        public static IRegistryAccess DefaultRegistry() => new Win32RegistryAccess();

        /// <summary>Runs the plan, asking <paramref name="approve"/> once per action.</summary>
        public List<FluxRemediation> Execute(IReadOnlyList<RemediationAction> plan, Func<RemediationAction, bool> approve, CancellationToken cancel) =>
            Execute(plan, approve, whatIf: false, cancel);

        public List<FluxRemediation> Execute(IReadOnlyList<RemediationAction> plan, Func<RemediationAction, bool> approve, bool whatIf, CancellationToken cancel) =>
            new RemediationExecutor(_context) { VerifyDelay = VerifyDelay }.Execute(plan, approve, whatIf, cancel);

        public List<FluxRemediation> Recover() => new RemediationRecovery(_context).Recover();

        public IReadOnlyList<StoreItem> Items() => _context.Runs().SelectMany(r => r.Items).ToList();

        /// <summary>Puts the items back, asking <paramref name="approve"/> once per item.</summary>
        public List<FluxRemediation> Restore(IEnumerable<string> ids, Func<StoreItem, string, bool> approve, CancellationToken cancel) =>
            Restore(ids, approve, whatIf: false, cancel);

        public List<FluxRemediation> Restore(IEnumerable<string> ids, Func<StoreItem, string, bool> approve, bool whatIf, CancellationToken cancel) =>
            new RemediationRestorer(_context).Restore(ids, approve, whatIf, cancel);

        /// <summary>The public view of an item.</summary>
        public static FluxQuarantineItem Describe(StoreItem item)
        {
            var described = new FluxQuarantineItem
            {
                QuarantineId = item.Id,
                RunId = item.Run.RunId,
                Kind = item.Kind,
                OriginalPath = item.Target,
                QuarantinedAt = item.Intent.Utc("At") ?? new DateTime(0, DateTimeKind.Utc),
                QuarantinedBy = item.Intent["By"],
                State = item.InDoubt ? "InDoubt" : item.State,
                Action = item.Intent["Action"] ?? string.Empty,
                Finding = item.Intent["Finding"],
                Detail = item.Detail,
            };

            if (item.Record is JournalRecord record && Describers.For(record.Kind) is ItemHandler handler)
            {
                handler.Describe(record, described);
            }

            return described;
        }

        // Describing reads only the journal record, never the machine: handlers over an empty context serve.
        private static readonly ItemHandlers Describers = new ItemHandlers(new RemediationContext(null, new NoProcesses(), new InMemoryRegistry(), NullReporter.Instance, false));

        private sealed class NoProcesses : IProcessControl
        {
            public IReadOnlyList<ProcessIdentity> Snapshot() => Array.Empty<ProcessIdentity>();
            public ProcessIdentity? Get(int processId) => null;
            public bool Suspend(int processId) => false;
            public void Kill(int processId) => throw new InvalidOperationException("Describing stops nothing.");
        }
    }
}
