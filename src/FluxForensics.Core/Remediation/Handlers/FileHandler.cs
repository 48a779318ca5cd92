using System.Collections.Generic;
using System.IO;
using System.Linq;
using FluxForensics.Model;

namespace FluxForensics.Remediation
{
    /// <summary>Moves a file into the store (rename on the same volume; verified copy, then removal, across volumes) and back.</summary>
    internal sealed class FileHandler : ItemHandler<FileRecord>
    {
        public FileHandler(RemediationContext context)
            : base(context)
        {
        }

        public override string Kind => ItemKinds.File;
        public override bool IsFileSystemEntry => true;

        public override Prepared Prepare(RemediationAction action, StoreRun run, int sequence)
        {
            if (!RemediationFileSystem.TryStat(action.Target, out var meta))
            {
                return Prepared.Skip("Not present (already removed or quarantined).", Context.AlreadyHeld(action.Target));
            }

            if (meta!.IsDirectory)
            {
                return Prepared.Refuse(action.Target, "TargetIsDirectory", FluxErrorCategory.InvalidArgument, $"'{action.Target}' is a directory; only files are quarantined.");
            }

            var record = (FileRecord)NewRecord(new FileRecord(), action, run, sequence);
            record.Data = run.DataPath(sequence);
            bool sameVolume = !RemediationFileSystem.IsWindows
                ? RemediationFileSystem.DeviceOfParent(action.Target) == RemediationFileSystem.TryStatDevice(run.DataDirectory)
                : string.Equals(Path.GetPathRoot(action.Target), Path.GetPathRoot(record.Data), System.StringComparison.OrdinalIgnoreCase);
            record.Meta = RemediationFileSystem.Stat(action.Target);
            record.Parent = RemediationFileSystem.ParentTimesOf(action.Target);
            record.Sha256 = RemediationFileSystem.Sha256Of(action.Target);
            record.Method = sameVolume ? "rename" : "copy";
            return Prepared.Journal(record);
        }

        /// <summary>
        /// Copies every cross-volume file of a batch into the store, verifies each by SHA-256, makes them all durable with
        /// one syncfs and one directory fsync, and only then lets the actions remove the originals: one flush per batch
        /// instead of two per file, with the same guarantee (no original is removed before its verified copy is on disk).
        /// A copy that fails here is retried alone by the action, which then reports the error.
        /// </summary>
        public void StageCopies(StoreRun run, IEnumerable<StoreItem> items)
        {
            var staged = new List<(string Partial, string Data)>();
            foreach (var record in items.Select(i => i.Record).OfType<FileRecord>().Where(r => r.Method == "copy"))
            {
                string partial = record.Data + ".partial";
                try
                {
                    DeleteIfThere(partial);
                    RemediationFileSystem.CopyDurably(record.Target, partial, flush: false);
                    if (RemediationFileSystem.Sha256Of(partial) != record.Sha256)
                    {
                        File.Delete(partial);
                        Context.Reporter.Verbose($"The staged copy of '{record.Target}' does not match its SHA-256; it is copied again alone.");
                        continue;
                    }

                    staged.Add((partial, record.Data));
                }
                catch (System.Exception e) when (e is IOException or System.UnauthorizedAccessException)
                {
                    DeleteIfThere(partial);
                    Context.Reporter.Verbose($"Staging a copy of '{record.Target}' failed ({e.Message}); it is copied again alone.");
                }
            }

            if (staged.Count == 0)
            {
                return;
            }

            RemediationFileSystem.SyncFileSystem(run.DataDirectory);
            foreach (var (partial, data) in staged)
            {
                RemediationFileSystem.Rename(partial, data);
            }

            RemediationFileSystem.SyncDirectory(run.DataDirectory);
        }

        protected override string? Act(FileRecord record)
        {
            if (record.Method == "rename")
            {
                RemediationFileSystem.Rename(record.Target, record.Data);
            }
            else
            {
                if (!File.Exists(record.Data))
                {
                    // Not staged with the batch (its copy failed there): copy it alone, durably.
                    string partial = record.Data + ".partial";
                    DeleteIfThere(partial);
                    RemediationFileSystem.CopyDurably(record.Target, partial);
                    if (RemediationFileSystem.Sha256Of(partial) != record.Sha256)
                    {
                        File.Delete(partial);
                        throw new IOException($"The copy of '{record.Target}' in the store does not match its SHA-256; the file was left in place.");
                    }

                    RemediationFileSystem.Rename(partial, record.Data);
                    RemediationFileSystem.SyncDirectory(Path.GetDirectoryName(record.Data)!);
                }

                CrashHook.Step("copied " + record.Target);
                RemediationFileSystem.Unlink(record.Target);
            }

            RemediationFileSystem.MakeInert(record.Data);
            return $"{record.Meta.Size} bytes, SHA-256 {record.Sha256} ({record.Method})";
        }

        protected override string? Reappeared(FileRecord record, IReadOnlyList<ProcessIdentity> running) =>
            RemediationFileSystem.Exists(record.Target) ? $"'{record.Target}' is there again." : null;

        protected override string ResolveQuarantine(FileRecord record)
        {
            DeleteIfThere(record.Data + ".partial");
            bool inStore = File.Exists(record.Data);
            bool inPlace = RemediationFileSystem.Exists(record.Target);
            if (inStore && inPlace)
            {
                // A cross-volume move stopped between the verified copy and the delete: finish it.
                if (RemediationFileSystem.Sha256Of(record.Data) == record.Sha256 && RemediationFileSystem.Sha256Of(record.Target) == record.Sha256)
                {
                    RemediationFileSystem.Unlink(record.Target);
                    RemediationFileSystem.MakeInert(record.Data);
                    return ItemStates.Done;
                }

                File.Delete(record.Data);
                return ItemStates.NotDone;
            }

            if (inStore)
            {
                RemediationFileSystem.MakeInert(record.Data);
                return ItemStates.Done;
            }

            return ItemStates.NotDone;
        }

        protected override string? Occupied(FileRecord record) =>
            RemediationFileSystem.Exists(record.Target) ? $"'{record.Target}' exists again." : null;

        protected override string PutBack(FileRecord record, List<string> storeCopies)
        {
            string target = record.Target;
            if (RemediationFileSystem.Exists(target))
            {
                string aside = target + ".displaced-" + record.ItemId;
                RemediationFileSystem.Rename(target, aside);
                Context.Reporter.Warning($"'{target}' was occupied; the occupant was kept as '{aside}'.");
            }

            string? dir = Path.GetDirectoryName(target);
            if (dir is not null && !Directory.Exists(dir))
            {
                Directory.CreateDirectory(dir);
            }

            bool sameVolume = !RemediationFileSystem.IsWindows && RemediationFileSystem.DeviceOfParent(target) == RemediationFileSystem.DeviceOfParent(record.Data);
            if (sameVolume)
            {
                RemediationFileSystem.Rename(record.Data, target);
            }
            else
            {
                string temp = RestoreTemp(target);
                DeleteIfThere(temp);
                RemediationFileSystem.CopyDurably(record.Data, temp, flush: false);
                if (RemediationFileSystem.Sha256Of(temp) != record.Sha256)
                {
                    File.Delete(temp);
                    throw new IOException($"The copy restored from {record.ItemId} does not match its SHA-256.");
                }

                RemediationFileSystem.Rename(temp, target);

                // The store copy goes only after the batch's syncfs has made this one durable.
                storeCopies.Add(record.Data);
            }

            RemediationFileSystem.ApplyMetadata(target, record.Meta);
            return $"{record.Meta.Size} bytes, SHA-256 {record.Sha256}";
        }

        protected override string ResolveRestore(FileRecord record)
        {
            DeleteIfThere(RestoreTemp(record.Target));
            bool inPlace = File.Exists(record.Target) && RemediationFileSystem.Sha256Of(record.Target) == record.Sha256;
            if (!inPlace)
            {
                return ItemStates.NotDone;
            }

            DeleteIfThere(record.Data);
            RemediationFileSystem.ApplyMetadata(record.Target, record.Meta);
            return ItemStates.Done;
        }

        protected override void Describe(FileRecord record, FluxQuarantineItem item)
        {
            item.Size = record.Meta.Size;
            item.Sha256 = record.Sha256;
            item.StorePath = record.Data;
            FileDescription.Fill(record.Meta, item);
        }

        private static string RestoreTemp(string target) => Path.Combine(Path.GetDirectoryName(target)!, "." + Path.GetFileName(target) + ".flux-restore");

        internal static void DeleteIfThere(string path)
        {
            if (File.Exists(path))
            {
                File.Delete(path);
            }
        }
    }

    /// <summary>The file columns of the quarantine list: mode, owner, attributes.</summary>
    internal static class FileDescription
    {
        public static void Fill(FileMetadata meta, FluxQuarantineItem item)
        {
            item.Mode = meta.Mode is uint m ? System.Convert.ToString(m, 8).PadLeft(4, '0') : null;
            item.Owner = meta.Uid is uint uid ? uid.ToString(System.Globalization.CultureInfo.InvariantCulture) + ":" + meta.Gid?.ToString(System.Globalization.CultureInfo.InvariantCulture) : null;
            item.Attributes = meta.RawAttributes is uint a ? "0x" + a.ToString("X8", System.Globalization.CultureInfo.InvariantCulture) : null;
        }
    }
}
