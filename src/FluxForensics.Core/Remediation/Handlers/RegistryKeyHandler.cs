using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using FluxForensics.Model;

namespace FluxForensics.Remediation
{
    /// <summary>
    /// Moves a registry key with everything below it into the store (a per-user CLSID server key that shadows the
    /// machine's registration): the key is exported to a file in the run's data folder, made durable, journaled with its
    /// SHA-256, and only then deleted. Restore imports it back value for value.
    /// </summary>
    internal sealed class RegistryKeyHandler : ItemHandler<RegistryKeyRecord>
    {
        public RegistryKeyHandler(RemediationContext context)
            : base(context)
        {
        }

        public override string Kind => ItemKinds.RegistryKey;
        public override bool IsPath => false;

        public override Prepared Prepare(RemediationAction action, StoreRun run, int sequence)
        {
            var export = Context.Registry.ExportKey(action.KeyPath!);
            if (export is null)
            {
                return Prepared.Skip("The key is not there (already removed).", Context.AlreadyHeld(action.Target));
            }

            byte[] bytes = Encoding.UTF8.GetBytes(export.Serialize());
            string file = run.DataPath(sequence, "regkey");
            RemediationFileSystem.WriteDurably(file, bytes);
            RemediationFileSystem.SetMode(file, 0x100);
            var record = (RegistryKeyRecord)NewRecord(new RegistryKeyRecord(), action, run, sequence);
            record.Key = action.KeyPath!;
            record.Export = file;
            record.ExportSha256 = RemediationFileSystem.Sha256Of(bytes);
            record.ValueCount = export.Values.Count;

            // The key the removal would leave empty (no values, no other subkeys) goes too: an empty per-user CLSID key
            // still answers for the class in the merged view.
            if (action.RemoveEmptyParent && RegistryPath.Parent(action.KeyPath!) is string parent &&
                Context.Registry.ExportKey(parent) is RegistryKeyExport around &&
                around.Values.All(v => Below(v.Key, Leaf(action.KeyPath!))) && around.Keys.All(k => k.Length == 0 || Below(k, Leaf(action.KeyPath!))))
            {
                record.EmptyParent = parent;
            }

            return Prepared.Journal(record);
        }

        protected override string? Act(RegistryKeyRecord record)
        {
            Context.Registry.DeleteKeyTree(record.EmptyParent ?? record.Key);
            return $"{record.ValueCount} value(s) exported to the store" + (record.EmptyParent is null ? string.Empty : $"; the empty '{record.EmptyParent}' removed with it");
        }

        protected override string? Reappeared(RegistryKeyRecord record, IReadOnlyList<ProcessIdentity> running) =>
            Context.Registry.ExportKey(record.Key) is null ? null : $"'{record.Key}' is there again.";

        protected override string ResolveQuarantine(RegistryKeyRecord record) =>
            Context.Registry.ExportKey(record.Key) is null ? ItemStates.Done : ItemStates.NotDone;

        protected override string? Occupied(RegistryKeyRecord record) =>
            Context.Registry.ExportKey(record.Key) is null ? null : $"'{record.Key}' exists again.";

        protected override string PutBack(RegistryKeyRecord record, List<string> storeCopies)
        {
            var export = Load(record);
            Context.Registry.ImportKey(record.Key, export);
            return $"{export.Values.Count} value(s) imported";
        }

        protected override string ResolveRestore(RegistryKeyRecord record)
        {
            var now = Context.Registry.ExportKey(record.Key);
            if (now is null)
            {
                return ItemStates.NotDone;
            }

            var saved = Load(record);
            bool all = saved.Values.All(v => now.Values.Any(n => string.Equals(n.Key, v.Key, System.StringComparison.OrdinalIgnoreCase) &&
                string.Equals(n.Name, v.Name, System.StringComparison.OrdinalIgnoreCase) && n.Value.SameAs(v.Value)));
            return all ? ItemStates.Done : ItemStates.NotDone;
        }

        protected override void Describe(RegistryKeyRecord record, FluxQuarantineItem item)
        {
            item.StorePath = record.Export;
            item.RemovedText = $"key with {record.ValueCount} value(s)";
            if (File.Exists(record.Export))
            {
                item.Size = new FileInfo(record.Export).Length;
            }
        }

        /// <summary>The export as it was saved; a file that changed in the store is refused, a line that does not parse is a ParseIssue.</summary>
        private RegistryKeyExport Load(RegistryKeyRecord record)
        {
            byte[] bytes = File.ReadAllBytes(record.Export);
            if (record.ExportSha256 is not null && RemediationFileSystem.Sha256Of(bytes) != record.ExportSha256)
            {
                throw new IOException($"The export '{record.Export}' does not match its SHA-256; it was changed in the store and is not imported.");
            }

            var issues = new List<ParseIssue>();
            var export = RegistryKeyExport.Parse(Encoding.UTF8.GetString(bytes), record.Export, issues);
            foreach (var issue in issues)
            {
                Context.Reporter.Issue(issue);
            }

            return export;
        }

        private static string Leaf(string keyPath) => keyPath.Substring(keyPath.TrimEnd('\\').LastIndexOf('\\') + 1);

        private static bool Below(string relative, string leaf) =>
            relative.Equals(leaf, System.StringComparison.OrdinalIgnoreCase) || relative.StartsWith(leaf + "\\", System.StringComparison.OrdinalIgnoreCase);
    }
}
