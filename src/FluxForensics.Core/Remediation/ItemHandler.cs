using System;
using System.Collections.Generic;
using System.Linq;
using FluxForensics.Model;

namespace FluxForensics.Remediation
{
    /// <summary>What an item is; decides which <see cref="ItemHandler"/> removes, checks and puts it back.</summary>
    internal static class ItemKinds
    {
        public const string Process = "Process";
        public const string File = "File";
        public const string Link = "Link";
        public const string Line = "Line";
        public const string RegistryValue = "RegistryValue";
        public const string RegistryKey = "RegistryKey";
        public const string Attributes = "Attributes";
    }

    /// <summary>What the handlers share for one run of the engine: the store, the machine's processes and registry, where
    /// errors and warnings go, and -Force.</summary>
    internal sealed class RemediationContext
    {
        private readonly QuarantineStore? _store;
        private Dictionary<string, string>? _held;

        /// <summary><paramref name="store"/> is null under -WhatIf, when nothing is prepared or journaled.</summary>
        public RemediationContext(QuarantineStore? store, IProcessControl processes, IRegistryAccess registry, IFluxReporter reporter, bool force)
        {
            _store = store;
            Processes = processes;
            Registry = registry;
            Reporter = reporter;
            Force = force;
        }

        public QuarantineStore Store => _store ?? throw new InvalidOperationException("Under -WhatIf nothing reaches the quarantine store.");
        public IProcessControl Processes { get; }
        public IRegistryAccess Registry { get; }
        public IFluxReporter Reporter { get; }
        public bool Force { get; }

        /// <summary>The store's runs, loaded from their journals; lines that could not be read are reported once per run.</summary>
        public IReadOnlyList<StoreRun> Runs()
        {
            var runs = Store.Runs();
            foreach (var run in runs)
            {
                if (_reported.Add(run.RunId))
                {
                    foreach (var issue in run.Issues)
                    {
                        Reporter.Issue(issue);
                    }
                }
            }

            return runs;
        }

        private readonly HashSet<string> _reported = new HashSet<string>(StringComparer.Ordinal);

        /// <summary>The id of a quarantined item with this target, so a rerun says where the thing went.</summary>
        public string? AlreadyHeld(string target)
        {
            if (_held is null)
            {
                _held = new Dictionary<string, string>(StringComparer.Ordinal);
                foreach (var item in Runs().SelectMany(r => r.Items).Where(i => i.State == ItemStates.Quarantined))
                {
                    _held[item.Target] = item.Id;
                }
            }

            return _held.TryGetValue(target, out string? id) ? id : null;
        }
    }

    /// <summary>The outcome of preparing an action: the record to journal, or why nothing is to be done.</summary>
    internal sealed class Prepared
    {
        private Prepared()
        {
        }

        public JournalRecord? Record { get; private set; }

        /// <summary>"Skipped" (nothing to do) or "Failed" (refused; <see cref="Error"/> says why).</summary>
        public string? Status { get; private set; }
        public string? Detail { get; private set; }
        public string? HeldId { get; private set; }
        public FluxError? Error { get; private set; }

        public static Prepared Journal(JournalRecord record) => new Prepared { Record = record };

        public static Prepared Skip(string detail, string? heldId = null) => new Prepared { Status = "Skipped", Detail = detail, HeldId = heldId };

        public static Prepared Refuse(string target, string errorId, FluxErrorCategory category, string message, Exception? exception = null) =>
            new Prepared { Status = "Failed", Detail = message, Error = new FluxError(errorId, category, target, message, exception) };
    }

    /// <summary>
    /// One kind of item, end to end: how an action on it is prepared and journaled, carried out, checked afterwards, settled
    /// after a crash (by looking at the machine), checked before a restore, put back, and shown in the quarantine list.
    /// </summary>
    internal abstract class ItemHandler
    {
        protected ItemHandler(RemediationContext context) => Context = context;

        protected RemediationContext Context { get; }

        public abstract string Kind { get; }

        /// <summary>True for items that live in a folder (whose times and durability the engine looks after).</summary>
        public virtual bool IsFileSystemEntry => false;

        /// <summary>Whether the target must pass <see cref="PathGuard"/> before anything else.</summary>
        public virtual bool IsPath => true;

        /// <summary>A stopped process is not restarted; everything else goes back.</summary>
        public virtual bool IsRestorable => true;

        /// <summary>Reads everything needed to do, check and undo the action, before it is journaled.</summary>
        public abstract Prepared Prepare(RemediationAction action, StoreRun run, int sequence);

        /// <summary>Carries out a journaled action; returns a detail line. Throws when it could not.</summary>
        public abstract string? Act(JournalRecord record);

        /// <summary>Null when the removal holds; else what came back.</summary>
        public abstract string? Reappeared(JournalRecord record, IReadOnlyList<ProcessIdentity> running);

        /// <summary>Did the journaled removal happen? Finishes or cleans up what was half done.</summary>
        public abstract string ResolveQuarantine(JournalRecord record);

        /// <summary>Null when the original place is free (or holds exactly what the removal left there); else what is there.</summary>
        public virtual string? Occupied(JournalRecord record) => null;

        /// <summary>Puts the item back; returns a detail line. Store copies to delete once the batch is durable go to <paramref name="storeCopies"/>.</summary>
        public abstract string PutBack(JournalRecord record, List<string> storeCopies);

        /// <summary>Did the journaled restore happen?</summary>
        public abstract string ResolveRestore(JournalRecord record);

        /// <summary>Fills the kind's own columns of the quarantine list.</summary>
        public virtual void Describe(JournalRecord record, FluxQuarantineItem item)
        {
        }

        protected JournalRecord NewRecord(JournalRecord record, RemediationAction action, StoreRun run, int sequence)
        {
            record.Sequence = sequence;
            record.Action = action.Action;
            record.Target = action.Target;
            record.Finding = action.Finding;
            record.RunId = run.RunId;
            record.By = RemediationEngine.RunBy;
            record.At = DateTime.UtcNow;
            return record;
        }

        protected static bool SamePath(string a, string b) =>
            string.Equals(a, b, RemediationFileSystem.IsWindows ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal);
    }

    /// <summary>The handler methods over the kind's own record type.</summary>
    internal abstract class ItemHandler<TRecord> : ItemHandler
        where TRecord : JournalRecord
    {
        protected ItemHandler(RemediationContext context)
            : base(context)
        {
        }

        public sealed override string? Act(JournalRecord record) => Act((TRecord)record);
        public sealed override string? Reappeared(JournalRecord record, IReadOnlyList<ProcessIdentity> running) => Reappeared((TRecord)record, running);
        public sealed override string ResolveQuarantine(JournalRecord record) => ResolveQuarantine((TRecord)record);
        public sealed override string? Occupied(JournalRecord record) => Occupied((TRecord)record);
        public sealed override string PutBack(JournalRecord record, List<string> storeCopies) => PutBack((TRecord)record, storeCopies);
        public sealed override string ResolveRestore(JournalRecord record) => ResolveRestore((TRecord)record);
        public sealed override void Describe(JournalRecord record, FluxQuarantineItem item) => Describe((TRecord)record, item);

        protected abstract string? Act(TRecord record);
        protected abstract string? Reappeared(TRecord record, IReadOnlyList<ProcessIdentity> running);
        protected abstract string ResolveQuarantine(TRecord record);

        protected virtual string? Occupied(TRecord record) => null;

        protected abstract string PutBack(TRecord record, List<string> storeCopies);
        protected abstract string ResolveRestore(TRecord record);

        protected virtual void Describe(TRecord record, FluxQuarantineItem item)
        {
        }
    }

    /// <summary>The handler of each item kind.</summary>
    internal sealed class ItemHandlers
    {
        private readonly Dictionary<string, ItemHandler> _byKind;

        public ItemHandlers(RemediationContext context)
        {
            var all = new ItemHandler[]
            {
                new ProcessHandler(context),
                new FileHandler(context),
                new LinkHandler(context),
                new LineHandler(context),
                new RegistryValueHandler(context),
                new RegistryKeyHandler(context),
                new AttributesHandler(context),
            };
            _byKind = all.ToDictionary(h => h.Kind, StringComparer.Ordinal);
            Files = (FileHandler)_byKind[ItemKinds.File];
        }

        public FileHandler Files { get; }

        public ItemHandler? For(string kind) => _byKind.TryGetValue(kind, out var handler) ? handler : null;

        /// <summary>The handler and typed record of a journaled item; null (with why) for a kind this version does not know.</summary>
        public (ItemHandler Handler, JournalRecord Record)? Of(StoreItem item, out string? why)
        {
            why = null;
            if (For(item.Kind) is ItemHandler handler && item.Record is JournalRecord record && record.Kind == handler.Kind)
            {
                return (handler, record);
            }

            why = $"Item {item.Id} is of kind '{item.Kind}', which this version of the module does not know; use the version that wrote it.";
            return null;
        }
    }
}
