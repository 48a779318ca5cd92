using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading;
using FluxForensics.Model;

namespace FluxForensics.Remediation
{
    /// <summary>
    /// Puts quarantined items back, newest first (so an image goes back before the entry that starts it, and each folder
    /// ends with the times recorded before the first change). Each restore is journaled before it is done, like a removal.
    /// </summary>
    internal sealed class RemediationRestorer
    {
        private const int BatchSize = 256;
        private readonly RemediationContext _context;
        private readonly ItemHandlers _handlers;

        public RemediationRestorer(RemediationContext context)
        {
            _context = context;
            _handlers = new ItemHandlers(context);
        }

        /// <summary>
        /// Restores the items. <paramref name="approve"/> is asked once per item that may be restored; with
        /// <paramref name="whatIf"/> every check runs and nothing is journaled or changed.
        /// </summary>
        public List<FluxRemediation> Restore(IEnumerable<string> ids, Func<StoreItem, string, bool> approve, bool whatIf, CancellationToken cancel)
        {
            var results = new List<FluxRemediation>();
            var runs = _context.Runs();
            var wanted = new HashSet<string>(ids, StringComparer.OrdinalIgnoreCase);
            foreach (var id in wanted.Where(id => !runs.Any(r => r.Find(id) is not null)))
            {
                _context.Reporter.Error(new FluxError("QuarantineItemNotFound", FluxErrorCategory.ObjectNotFound, id, $"The store at {_context.Store.Root} holds no item {id}."));
            }

            foreach (var run in runs.Reverse())
            {
                var items = run.Items.Where(i => wanted.Contains(i.Id)).OrderByDescending(i => i.Sequence).ToList();
                if (items.Count == 0)
                {
                    run.Dispose();
                    continue;
                }

                try
                {
                    var approved = new List<(StoreItem Item, ItemHandler Handler, FluxRemediation Result)>();
                    foreach (var item in items)
                    {
                        cancel.ThrowIfCancellationRequested();
                        var result = new FluxRemediation { Action = "Restore", Target = item.Target, QuarantineId = item.Id };
                        results.Add(result);
                        if (Precheck(item, result, approve, whatIf) is ItemHandler handler)
                        {
                            approved.Add((item, handler, result));
                        }
                    }

                    for (int offset = 0; offset < approved.Count; offset += BatchSize)
                    {
                        RestoreBatch(run, approved.Skip(offset).Take(BatchSize).ToList());
                    }
                }
                finally
                {
                    run.Flush();
                    run.WriteManifest();
                    run.Dispose();
                }
            }

            return results;
        }

        /// <summary>The item's handler when it may be restored; else null and the result says why not.</summary>
        private ItemHandler? Precheck(StoreItem item, FluxRemediation result, Func<StoreItem, string, bool> approve, bool whatIf)
        {
            if (!item.IsRestorable)
            {
                result.Status = "Skipped";
                result.Detail = item.Kind == ItemKinds.Process ? "A stopped process is not restarted." : $"The item is {item.State}, nothing to put back.";
                return null;
            }

            if (_handlers.Of(item, out string? unknown) is not var (handler, record))
            {
                _context.Reporter.Error(new FluxError("RestoreFailed", FluxErrorCategory.NotImplemented, item.Target, unknown!));
                result.Status = "Failed";
                result.Detail = unknown;
                return null;
            }

            foreach (var problem in record.Problems)
            {
                _context.Reporter.Issue(new ParseIssue(item.Run.JournalPath, -1, $"item {item.Id}: {problem}", "journal record"));
            }

            string? occupant;
            try
            {
                occupant = handler.Occupied(record);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidOperationException or ArgumentException)
            {
                _context.Reporter.Error(new FluxError("RestoreTargetUnreadable", FluxErrorCategory.ReadError, item.Target, $"What is at '{item.Target}' now could not be read, so {item.Id} is not restored over it: {e.Message}", e));
                result.Status = "Failed";
                result.Detail = e.Message;
                return null;
            }

            if (occupant is not null && !_context.Force)
            {
                _context.Reporter.Error(new FluxError("RestoreTargetOccupied", FluxErrorCategory.ResourceExists, item.Target, $"{occupant} Use -Force to move it aside (it is kept, renamed) and restore."));
                result.Status = "Failed";
                result.Detail = occupant;
                return null;
            }

            string description = $"Restore {item.Kind} {item.Target} from {item.Id}";
            bool yes = approve(item, description);
            if (whatIf)
            {
                result.Status = "WhatIf";
                result.Detail = $"Restore {item.Kind} {item.Target}";
                return null;
            }

            if (!yes)
            {
                result.Status = "Skipped";
                result.Detail = "Not confirmed.";
                return null;
            }

            return handler;
        }

        /// <summary>Journals the batch's restores (one flush), puts each back, makes the file systems durable (one syncfs
        /// each), and only then removes the store copies of what was copied back.</summary>
        private void RestoreBatch(StoreRun run, List<(StoreItem Item, ItemHandler Handler, FluxRemediation Result)> batch)
        {
            foreach (var (item, _, _) in batch)
            {
                run.Intend(item.Intent.Clone().Set("Op", StoreOps.Restore));
                item.PendingOp = StoreOps.Restore;
            }

            run.Flush();
            CrashHook.Step("restore intents flushed");
            var storeCopies = new List<string>();
            var restored = new List<(StoreItem Item, FluxRemediation Result)>();
            var devices = new Dictionary<ulong, string>();
            foreach (var (item, handler, result) in batch)
            {
                try
                {
                    result.Detail = handler.PutBack(item.Record!, storeCopies);
                    if (handler.IsFileSystemEntry)
                    {
                        PutBackParentTimes(item);
                        if (Path.GetDirectoryName(item.Target) is string dir && dir.Length > 0)
                        {
                            devices[RemediationFileSystem.TryStatDevice(dir)] = dir;
                        }
                    }

                    CrashHook.Step("restored " + item.Id);
                    restored.Add((item, result));
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidOperationException or ArgumentException)
                {
                    string state = Resolve(handler, item, e);
                    run.Mark(item, StoreOps.Restore, state, e.Message);
                    result.Status = state == ItemStates.Done ? "Restored" : "Failed";
                    result.Detail = e.Message;
                    if (state != ItemStates.Done)
                    {
                        _context.Reporter.Error(new FluxError("RestoreFailed", FluxErrorCategory.WriteError, item.Target, $"Restoring {item.Id} to '{item.Target}' failed: {e.Message}", e));
                    }
                }
            }

            foreach (var dir in devices.Values)
            {
                RemediationFileSystem.SyncFileSystem(dir);
            }

            foreach (var copy in storeCopies)
            {
                File.Delete(copy);
            }

            foreach (var (item, result) in restored)
            {
                run.Mark(item, StoreOps.Restore, ItemStates.Done, result.Detail);
                result.Status = "Restored";
            }

            run.Flush();
        }

        private void PutBackParentTimes(StoreItem item)
        {
            try
            {
                RemediationFileSystem.ApplyParentTimes(item.Target, ParentTimes.Read(item.Intent));
            }
            catch (IOException e)
            {
                _context.Reporter.Warning($"{item.Id} is back at '{item.Target}', but its folder's times are not: {e.Message}");
            }
        }

        /// <summary>Whether a restore that threw got through anyway; an unreadable outcome counts as not done, with a warning.</summary>
        private string Resolve(ItemHandler handler, StoreItem item, Exception failure)
        {
            try
            {
                return handler.ResolveRestore(item.Record!);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidOperationException or ArgumentException)
            {
                _context.Reporter.Warning($"After restoring {item.Id} failed ({failure.Message}), '{item.Target}' could not be checked ({e.Message}); the item stays in the store.");
                return ItemStates.NotDone;
            }
        }
    }
}
