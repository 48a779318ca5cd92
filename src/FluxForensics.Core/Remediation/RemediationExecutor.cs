using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading;
using FluxForensics.Model;

namespace FluxForensics.Remediation
{
    /// <summary>
    /// Carries out a plan: each approved action is prepared by its kind's handler, journaled, and only then done; afterwards
    /// every change is checked to have held. Intents are flushed in batches (one fsync per batch, always before any action
    /// of the batch runs); marks after the actions are flushed per batch too: an unmarked intent is resolved by looking at
    /// the machine (<see cref="RemediationRecovery"/>), so a lost mark costs nothing.
    /// </summary>
    internal sealed class RemediationExecutor
    {
        private const int BatchSize = 256;
        private readonly RemediationContext _context;
        private readonly ItemHandlers _handlers;

        public RemediationExecutor(RemediationContext context)
        {
            _context = context;
            _handlers = new ItemHandlers(context);
        }

        /// <summary>How long to wait after stopping processes before checking that nothing came back.</summary>
        public TimeSpan VerifyDelay { get; set; } = TimeSpan.FromSeconds(1);

        /// <summary>
        /// Runs the plan. <paramref name="approve"/> is asked once per action that may run; with <paramref name="whatIf"/>
        /// nothing is prepared, journaled or changed (the store is not even created) and each action that would run is
        /// returned as WhatIf.
        /// </summary>
        public List<FluxRemediation> Execute(IReadOnlyList<RemediationAction> plan, Func<RemediationAction, bool> approve, bool whatIf, CancellationToken cancel)
        {
            var results = new List<FluxRemediation>();
            StoreRun? run = null;
            var done = new List<(RemediationAction Action, StoreItem Item)>();
            if (!whatIf && plan.Any(a => a.Kind == ItemKinds.Process) && _handlers.For(ItemKinds.Process) is ProcessHandler processes)
            {
                processes.ProtectedIds = ProcessGuard.SelfAndParents(_context.Processes);
            }

            try
            {
                foreach (var stage in plan.GroupBy(a => a.Stage).OrderBy(g => g.Key))
                {
                    var approved = new List<RemediationAction>();
                    foreach (var action in stage)
                    {
                        cancel.ThrowIfCancellationRequested();
                        if (Admit(action, approve, whatIf) is FluxRemediation decided)
                        {
                            if (!whatIf || decided.Status == "WhatIf")
                            {
                                results.Add(decided);
                            }

                            continue;
                        }

                        approved.Add(action);
                    }

                    for (int offset = 0; offset < approved.Count; offset += BatchSize)
                    {
                        cancel.ThrowIfCancellationRequested();
                        run ??= _context.Store.NewRun();
                        RunBatch(run, approved.Skip(offset).Take(BatchSize), results, done);
                    }
                }

                results.AddRange(Verify(done, cancel));
            }
            finally
            {
                if (run is not null)
                {
                    run.Flush();
                    run.WriteManifest();
                    run.Dispose();
                }
            }

            return results;
        }

        /// <summary>Null when the action is approved to run; else its result (refused, not confirmed, or WhatIf).</summary>
        private FluxRemediation? Admit(RemediationAction action, Func<RemediationAction, bool> approve, bool whatIf)
        {
            if (action.RefusalId is not null)
            {
                return Fail(action, action.RefusalId, FluxErrorCategory.InvalidOperation, action.Refusal!);
            }

            if (action.NeedsForce && !_context.Force)
            {
                return Fail(action, "ProtectedSystemFile", FluxErrorCategory.SecurityError, $"'{action.Target}' is a system file; quarantining it needs -Force.");
            }

            if (_handlers.For(action.Kind) is null)
            {
                return Fail(action, "UnsupportedAction", FluxErrorCategory.NotImplemented, $"No way to carry out {action.Action} on {action.Kind}.");
            }

            bool yes = approve(action);
            if (whatIf)
            {
                return Result(action, "WhatIf", null, action.Description);
            }

            return yes ? null : Result(action, "Skipped", null, "Not confirmed.");
        }

        private void RunBatch(StoreRun run, IEnumerable<RemediationAction> actions, List<FluxRemediation> results, List<(RemediationAction Action, StoreItem Item)> done)
        {
            var batch = new List<(RemediationAction Action, StoreItem Item, ItemHandler Handler)>();
            foreach (var action in actions)
            {
                var handler = _handlers.For(action.Kind)!;
                var prepared = Prepare(handler, action, run);
                if (prepared.Record is null)
                {
                    if (prepared.Error is not null)
                    {
                        _context.Reporter.Error(prepared.Error);
                    }

                    results.Add(Result(action, prepared.Status!, prepared.HeldId, prepared.Detail));
                    continue;
                }

                batch.Add((action, run.Add(prepared.Record.ToWire(StoreOps.Quarantine)), handler));
            }

            run.Flush();
            CrashHook.Step("intents flushed");
            _handlers.Files.StageCopies(run, batch.Select(b => b.Item));
            var touchedDirectories = new HashSet<string>(StringComparer.Ordinal);
            foreach (var (action, item, handler) in batch)
            {
                if (handler.IsFileSystemEntry && handler.Kind != ItemKinds.Line && Path.GetDirectoryName(item.Target) is string parent)
                {
                    touchedDirectories.Add(parent);
                }

                string? detail;
                try
                {
                    detail = handler.Act(item.Record!);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidOperationException or ArgumentException or NotSupportedException)
                {
                    Settle(run, action, item, handler, e, results, done);
                    continue;
                }

                CrashHook.Step("acted " + item.Id);
                run.Mark(item, StoreOps.Quarantine, ItemStates.Done, detail);
                done.Add((action, item));
                results.Add(Result(action, "Done", handler.IsRestorable ? item.Id : null, detail));
            }

            // The removals of the batch reach the disk before their marks do.
            foreach (var directory in touchedDirectories)
            {
                RemediationFileSystem.SyncDirectory(directory);
            }

            run.Flush();
            CrashHook.Step("marks flushed");
        }

        private Prepared Prepare(ItemHandler handler, RemediationAction action, StoreRun run)
        {
            try
            {
                if (handler.IsPath && PathGuard.Refusal(action.Target, action.Container, action.Kind == ItemKinds.Link) is string refusal)
                {
                    return Prepared.Refuse(action.Target, "PathRefused", FluxErrorCategory.SecurityError, refusal);
                }

                return handler.Prepare(action, run, run.NextSequence);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidOperationException or ArgumentException or NotSupportedException)
            {
                return Prepared.Refuse(action.Target, "RemediationPrepareFailed", FluxErrorCategory.ReadError, $"{action.Description}: {e.Message}", e);
            }
        }

        /// <summary>An action threw: it may have got part way, so the machine says what happened.</summary>
        private void Settle(StoreRun run, RemediationAction action, StoreItem item, ItemHandler handler, Exception e, List<FluxRemediation> results, List<(RemediationAction Action, StoreItem Item)> done)
        {
            string state;
            try
            {
                state = handler.ResolveQuarantine(item.Record!);
            }
            catch (Exception check) when (check is IOException or UnauthorizedAccessException or InvalidOperationException or ArgumentException)
            {
                // Left unmarked: the next run's recovery looks again.
                results.Add(Fail(action, "RemediationActionFailed", FluxErrorCategory.WriteError,
                    $"{action.Description} failed: {e.Message} Whether it got part way could not be checked ({check.Message}); the next run settles it.", item.Id, e));
                return;
            }

            run.Mark(item, StoreOps.Quarantine, state == ItemStates.Done ? ItemStates.Done : ItemStates.Failed, e.Message);
            if (state == ItemStates.Done)
            {
                done.Add((action, item));
                results.Add(Result(action, "Done", item.Id, e.Message));
            }
            else
            {
                results.Add(Fail(action, "RemediationActionFailed", FluxErrorCategory.WriteError, $"{action.Description} failed: {e.Message}", item.Id, e));
            }
        }

        private static FluxRemediation Result(RemediationAction action, string status, string? id, string? detail) => new FluxRemediation
        {
            Action = action.Action,
            Target = action.Target,
            Status = status,
            QuarantineId = id,
            Detail = detail,
        };

        private FluxRemediation Fail(RemediationAction action, string errorId, FluxErrorCategory category, string message, string? id = null, Exception? e = null)
        {
            _context.Reporter.Error(new FluxError(errorId, category, action.Target, message, e));
            return Result(action, "Failed", id, message);
        }

        private IEnumerable<FluxRemediation> Verify(List<(RemediationAction Action, StoreItem Item)> done, CancellationToken cancel)
        {
            if (done.Count == 0)
            {
                yield break;
            }

            bool stoppedProcesses = done.Any(d => d.Item.Kind == ItemKinds.Process);
            if (stoppedProcesses && VerifyDelay > TimeSpan.Zero)
            {
                cancel.WaitHandle.WaitOne(VerifyDelay);
            }

            var running = stoppedProcesses ? _context.Processes.Snapshot() : Array.Empty<ProcessIdentity>();
            int back = 0;
            foreach (var (action, item) in done)
            {
                var handler = _handlers.For(item.Kind)!;
                string? why;
                try
                {
                    why = handler.Reappeared(item.Record!, running);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidOperationException or ArgumentException)
                {
                    _context.Reporter.Warning($"{action.Target}: could not be checked after the cleanup: {e.Message}");
                    continue;
                }

                if (why is null)
                {
                    continue;
                }

                back++;
                _context.Reporter.Warning($"{action.Target}: {why}");
                yield return Result(action, "Reappeared", handler.IsRestorable ? item.Id : null, why);
            }

            yield return new FluxRemediation
            {
                Action = "Verify",
                Target = _context.Store.Root,
                Status = back == 0 ? "Done" : "Reappeared",
                Detail = back == 0 ? $"{done.Count} action(s) checked; nothing came back." : $"{back} of {done.Count} came back.",
            };
        }
    }
}
