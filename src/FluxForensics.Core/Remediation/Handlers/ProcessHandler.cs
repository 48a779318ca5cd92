using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using FluxForensics.Model;

namespace FluxForensics.Remediation
{
    /// <summary>Stops a process and its children, the process identified by PID and start time so a reused PID is never hit.</summary>
    internal sealed class ProcessHandler : ItemHandler<ProcessRecord>
    {
        public ProcessHandler(RemediationContext context)
            : base(context)
        {
        }

        public override string Kind => ItemKinds.Process;
        public override bool IsPath => false;
        public override bool IsRestorable => false;

        /// <summary>This session's process and its parents, read once per run that stops processes.</summary>
        public ISet<int> ProtectedIds { get; set; } = new HashSet<int>();

        public override Prepared Prepare(RemediationAction action, StoreRun run, int sequence)
        {
            var p = Context.Processes.Get(action.ProcessId);
            if (p is null || p.IsZombie)
            {
                return Prepared.Skip($"Process {action.ProcessId} is not running.");
            }

            if (!ProcessGuard.SameStart(action.ProcessStartTime, p.StartTimeUtc))
            {
                return Prepared.Refuse(action.Target, "ProcessIdReused", FluxErrorCategory.InvalidOperation, $"PID {action.ProcessId} now belongs to another process ({p.Name}, started {p.StartTimeUtc:o}); it is not stopped.");
            }

            if (action.ProcessStartTime is null && action.ExpectedImage is not null && p.ImagePath is not null && !SamePath(p.ImagePath, action.ExpectedImage))
            {
                return Prepared.Refuse(action.Target, "ProcessImageMismatch", FluxErrorCategory.InvalidOperation, $"PID {action.ProcessId} runs '{p.ImagePath}', not '{action.ExpectedImage}', and the finding has no start time to tell them apart.");
            }

            if (ProcessGuard.Refusal(p, ProtectedIds, Context.Force) is string refusal)
            {
                return Prepared.Refuse(action.Target, "ProcessProtected", FluxErrorCategory.SecurityError, refusal);
            }

            var record = (ProcessRecord)NewRecord(new ProcessRecord(), action, run, sequence);
            record.ProcessId = p.ProcessId;
            record.Start = p.StartTimeUtc;
            record.Image = p.ImagePath;
            record.Name = p.Name;
            record.Tree.AddRange(Tree(p).Select(t => (t.ProcessId, t.StartTimeUtc?.Ticks ?? 0)));
            return Prepared.Journal(record);
        }

        private List<ProcessIdentity> Tree(ProcessIdentity root)
        {
            var all = Context.Processes.Snapshot();
            var tree = new List<ProcessIdentity> { root };
            for (int i = 0; i < tree.Count; i++)
            {
                tree.AddRange(all.Where(c => c.ParentProcessId == tree[i].ProcessId && !tree.Any(t => t.ProcessId == c.ProcessId)));
            }

            return tree;
        }

        private bool Alive(int pid, long startTicks)
        {
            var p = Context.Processes.Get(pid);
            return p is not null && !p.IsZombie && (startTicks == 0 || p.StartTimeUtc is null || Math.Abs(p.StartTimeUtc.Value.Ticks - startTicks) < TimeSpan.TicksPerSecond);
        }

        protected override string? Act(ProcessRecord record)
        {
            // Freeze the whole tree first so that no member can start a replacement while the others are stopped.
            foreach (var (pid, start) in record.Tree)
            {
                if (Alive(pid, start))
                {
                    Context.Processes.Suspend(pid);
                }
            }

            int stopped = 0;
            foreach (var (pid, start) in record.Tree)
            {
                if (Alive(pid, start))
                {
                    Context.Processes.Kill(pid);
                    stopped++;
                }
            }

            var deadline = DateTime.UtcNow.AddSeconds(5);
            while (record.Tree.Any(t => Alive(t.ProcessId, t.StartTicks)))
            {
                if (DateTime.UtcNow > deadline)
                {
                    throw new InvalidOperationException($"Process {record.ProcessId} did not exit within 5 seconds.");
                }

                Thread.Sleep(20);
            }

            return $"{stopped} process(es) stopped: {string.Join(", ", record.Tree.Select(t => t.ProcessId))}";
        }

        protected override string? Reappeared(ProcessRecord record, IReadOnlyList<ProcessIdentity> running)
        {
            string? image = record.Image;
            var again = running.FirstOrDefault(p => !p.IsZombie && image is not null && p.ImagePath is not null && SamePath(p.ImagePath, image));
            return again is null ? null : $"a process runs '{image}' again (PID {again.ProcessId}).";
        }

        protected override string ResolveQuarantine(ProcessRecord record) =>
            Alive(record.ProcessId, record.Start?.Ticks ?? 0) ? ItemStates.NotDone : ItemStates.Done;

        protected override string PutBack(ProcessRecord record, List<string> storeCopies) =>
            throw new InvalidOperationException("A stopped process is not restarted.");

        protected override string ResolveRestore(ProcessRecord record) => ItemStates.NotDone;
    }
}
