using System.Collections.Generic;
using FluxForensics.Model;

namespace FluxForensics.Remediation
{
    /// <summary>Removes a symbolic link that enables a unit (<c>*.wants/</c>); restore recreates it with its owner and times.</summary>
    internal sealed class LinkHandler : ItemHandler<LinkRecord>
    {
        public LinkHandler(RemediationContext context)
            : base(context)
        {
        }

        public override string Kind => ItemKinds.Link;
        public override bool IsFileSystemEntry => true;

        public override Prepared Prepare(RemediationAction action, StoreRun run, int sequence)
        {
            if (!RemediationFileSystem.TryStat(action.Target, out var meta) || !meta!.IsSymbolicLink)
            {
                return Prepared.Skip("The link is not there.", Context.AlreadyHeld(action.Target));
            }

            var record = (LinkRecord)NewRecord(new LinkRecord(), action, run, sequence);
            record.Meta = meta;
            record.Parent = RemediationFileSystem.ParentTimesOf(action.Target);
            record.LinkTarget = RemediationFileSystem.ReadLink(action.Target);
            return Prepared.Journal(record);
        }

        protected override string? Act(LinkRecord record)
        {
            RemediationFileSystem.Unlink(record.Target);
            return "link to " + record.LinkTarget;
        }

        protected override string? Reappeared(LinkRecord record, IReadOnlyList<ProcessIdentity> running) =>
            RemediationFileSystem.Exists(record.Target) ? $"'{record.Target}' is there again." : null;

        protected override string ResolveQuarantine(LinkRecord record) =>
            RemediationFileSystem.Exists(record.Target) ? ItemStates.NotDone : ItemStates.Done;

        protected override string? Occupied(LinkRecord record) =>
            RemediationFileSystem.Exists(record.Target) ? $"'{record.Target}' exists again." : null;

        protected override string PutBack(LinkRecord record, List<string> storeCopies)
        {
            RemediationFileSystem.CreateSymbolicLink(record.Target, record.LinkTarget);
            RemediationFileSystem.ApplyMetadata(record.Target, record.Meta, isLink: true);
            return "link to " + record.LinkTarget;
        }

        protected override string ResolveRestore(LinkRecord record) =>
            RemediationFileSystem.Exists(record.Target) ? ItemStates.Done : ItemStates.NotDone;

        protected override void Describe(LinkRecord record, FluxQuarantineItem item)
        {
            item.Size = record.Meta.Size;
            item.RemovedText = record.LinkTarget;
            FileDescription.Fill(record.Meta, item);
        }
    }
}
