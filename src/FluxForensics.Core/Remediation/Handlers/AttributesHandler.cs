using System.Collections.Generic;
using System.Globalization;
using System.IO;
using FluxForensics.Host;
using FluxForensics.Model;

namespace FluxForensics.Remediation
{
    /// <summary>Clears Hidden and System on a folder a worm hid (Windows attributes, ntfs-3g's xattr, FAT's ioctl) and sets them back.</summary>
    internal sealed class AttributesHandler : ItemHandler<AttributesRecord>
    {
        public AttributesHandler(RemediationContext context)
            : base(context)
        {
        }

        public override string Kind => ItemKinds.Attributes;

        public override Prepared Prepare(RemediationAction action, StoreRun run, int sequence)
        {
            var info = FileAttributeReader.Read(action.Target);
            if (info.RawAttributes is not uint raw)
            {
                return Prepared.Refuse(action.Target, "AttributesNotStored", FluxErrorCategory.InvalidOperation, $"The file system of '{action.Target}' stores no Hidden/System attributes ({info.Mechanism}); nothing to clear.");
            }

            uint cleared = raw & ~(FileAttributeBits.Hidden | FileAttributeBits.System);
            if (cleared == raw)
            {
                return Prepared.Skip("Neither Hidden nor System is set.", Context.AlreadyHeld(action.Target));
            }

            var record = (AttributesRecord)NewRecord(new AttributesRecord(), action, run, sequence);
            record.Attributes = raw;
            record.Cleared = cleared;
            record.Mechanism = info.Mechanism;
            return Prepared.Journal(record);
        }

        protected override string? Act(AttributesRecord record)
        {
            Set(record.Target, record.Cleared);
            return $"attributes 0x{record.Attributes:X} → 0x{record.Cleared:X}";
        }

        protected override string? Reappeared(AttributesRecord record, IReadOnlyList<ProcessIdentity> running)
        {
            if (!FileAttributeReader.TryRead(record.Target, out var info, out string? error))
            {
                Context.Reporter.Warning($"The attributes of '{record.Target}' could not be read to check them: {error}");
                return null;
            }

            return info!.IsHidden || info.IsSystem ? "the folder is Hidden/System again." : null;
        }

        protected override string ResolveQuarantine(AttributesRecord record) => Has(record.Target, record.Cleared) ? ItemStates.Done : ItemStates.NotDone;

        protected override string PutBack(AttributesRecord record, List<string> storeCopies)
        {
            Set(record.Target, record.Attributes);
            return $"attributes 0x{record.Attributes:X}";
        }

        protected override string ResolveRestore(AttributesRecord record) => Has(record.Target, record.Attributes) ? ItemStates.Done : ItemStates.NotDone;

        protected override void Describe(AttributesRecord record, FluxQuarantineItem item) =>
            item.Attributes = "0x" + record.Attributes.ToString("X8", CultureInfo.InvariantCulture);

        private static void Set(string path, uint attributes)
        {
            if (!FileAttributeReader.TryRestore(path, attributes, out string? error))
            {
                throw new IOException(error);
            }
        }

        /// <summary>True when the folder has exactly these attributes; an unreadable folder is not (and says so to recovery's caller by throwing).</summary>
        private static bool Has(string path, uint attributes)
        {
            if (!FileAttributeReader.TryRead(path, out var info, out string? error))
            {
                throw new IOException($"the attributes of '{path}' cannot be read: {error}");
            }

            return info!.RawAttributes == attributes;
        }
    }
}
