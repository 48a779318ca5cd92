using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using FluxForensics.Model;

namespace FluxForensics.Remediation
{
    /// <summary>
    /// Settles every run that was interrupted: each intent without a mark is resolved by its handler looking at the machine
    /// (the file is in the store or at its place, the line is in the file or not …), partial copies are cleaned, and the
    /// outcome is marked. Nothing is lost: a file is always either at its place or verified in the store.
    /// </summary>
    internal sealed class RemediationRecovery
    {
        private readonly RemediationContext _context;
        private readonly ItemHandlers _handlers;

        public RemediationRecovery(RemediationContext context)
        {
            _context = context;
            _handlers = new ItemHandlers(context);
        }

        public List<FluxRemediation> Recover()
        {
            var results = new List<FluxRemediation>();
            foreach (var run in _context.Runs())
            {
                var doubtful = run.Items.Where(i => i.InDoubt).ToList();
                if (doubtful.Count == 0)
                {
                    continue;
                }

                try
                {
                    foreach (var item in doubtful)
                    {
                        if (Settle(run, item) is FluxRemediation result)
                        {
                            results.Add(result);
                        }
                    }

                    run.Flush();
                    run.WriteManifest();
                }
                finally
                {
                    run.Dispose();
                }
            }

            return results;
        }

        private FluxRemediation? Settle(StoreRun run, StoreItem item)
        {
            string op = item.PendingOp!;
            if (_handlers.Of(item, out string? unknown) is not var (handler, record))
            {
                _context.Reporter.Error(new FluxError("RecoveryFailed", FluxErrorCategory.NotImplemented, item.Target, unknown!));
                return null;
            }

            string state;
            try
            {
                state = op == StoreOps.Restore ? handler.ResolveRestore(record) : handler.ResolveQuarantine(record);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidOperationException or ArgumentException)
            {
                _context.Reporter.Error(new FluxError("RecoveryFailed", FluxErrorCategory.WriteError, item.Target, $"Could not settle the interrupted action {item.Id} on '{item.Target}': {e.Message}", e));
                return null;
            }

            run.Mark(item, op, state, "settled after an interrupted run");
            return new FluxRemediation
            {
                Action = "Recover",
                Target = item.Target,
                Status = state == ItemStates.Done ? "Done" : "Skipped",
                QuarantineId = handler.IsRestorable ? item.Id : null,
                Detail = $"interrupted {op} {(state == ItemStates.Done ? "was completed" : "was rolled back")}",
            };
        }
    }
}
