using System.Collections.Generic;
using FluxForensics.Model;

namespace FluxForensics.Remediation
{
    /// <summary>
    /// Deletes a registry value (a Run entry, an Active Setup StubPath), sets it to a harmless value (a service's Start=4),
    /// or takes one element out of a list value Windows needs (one DLL of AppInit_DLLs, one program of BootExecute). The
    /// old kind and data are journaled, so restore puts back exactly what was there.
    /// </summary>
    internal sealed class RegistryValueHandler : ItemHandler<RegistryValueRecord>
    {
        // What this run already planned to leave in a list value, so two elements taken out of one value in one run
        // are two edits in a row rather than two edits of the same original.
        private readonly Dictionary<string, RegistryValueData> _pendingLists = new Dictionary<string, RegistryValueData>(System.StringComparer.OrdinalIgnoreCase);

        public RegistryValueHandler(RemediationContext context)
            : base(context)
        {
        }

        public override string Kind => ItemKinds.RegistryValue;
        public override bool IsPath => false;

        public override Prepared Prepare(RemediationAction action, StoreRun run, int sequence)
        {
            string listKey = action.KeyPath + "\\\\" + action.ValueName;
            var value = action.ListElement is not null && _pendingLists.TryGetValue(listKey, out var pending)
                ? pending
                : Context.Registry.GetValue(action.KeyPath!, action.ValueName!);
            if (value is null)
            {
                return Prepared.Skip("The value is not there (already removed).", Context.AlreadyHeld(action.Target));
            }

            RegistryValueData? replacement = action.Replacement;
            if (action.ListElement is string element)
            {
                replacement = RegistryList.Without(value, element);
                if (replacement is null)
                {
                    return Prepared.Skip($"'{element}' is no longer in {action.KeyPath}\\{action.ValueName}.", Context.AlreadyHeld(action.Target));
                }

                _pendingLists[listKey] = replacement;
            }
            else if (replacement is not null && replacement.SameAs(value))
            {
                return Prepared.Skip("The value is not there (already removed).", Context.AlreadyHeld(action.Target));
            }

            var record = (RegistryValueRecord)NewRecord(new RegistryValueRecord(), action, run, sequence);
            record.Key = action.KeyPath!;
            record.Value = action.ValueName!;
            record.Old = value;
            record.New = replacement;
            record.Element = action.ListElement;
            return Prepared.Journal(record);
        }

        private RegistryValueData? Current(RegistryValueRecord record) => Context.Registry.GetValue(record.Key, record.Value);

        protected override string? Act(RegistryValueRecord record)
        {
            if (record.Element is not null && !record.Old.SameAs(Current(record)))
            {
                throw new System.InvalidOperationException($"{record.Key}\\{record.Value} changed since it was read; it was left as it is.");
            }

            if (record.New is not null)
            {
                Context.Registry.SetValue(record.Key, record.Value, record.New);
                return record.Element is null ? $"was {record.Old.Kind} {record.Old.Data}" : $"'{record.Element}' taken out; was {record.Old.Kind} {Printable(record.Old.Data)}";
            }

            Context.Registry.DeleteValue(record.Key, record.Value);
            return $"{record.Old.Kind} {record.Old.Data}";
        }

        protected override string? Reappeared(RegistryValueRecord record, IReadOnlyList<ProcessIdentity> running)
        {
            var value = Current(record);
            if (record.Element is not null)
            {
                return value is not null && RegistryList.Contains(value, record.Element) ? $"'{record.Element}' is back in {record.Value}." : null;
            }

            return record.New is not null
                ? (value is not null && !value.SameAs(record.New) ? $"the value was set back to {value.Data}." : null)
                : (value is not null ? "the value is back." : null);
        }

        protected override string ResolveQuarantine(RegistryValueRecord record)
        {
            var value = Current(record);
            if (record.Element is not null)
            {
                return value is null || value.SameAs(record.New) || !RegistryList.Contains(value, record.Element) ? ItemStates.Done : ItemStates.NotDone;
            }

            bool done = record.New is not null ? record.New.SameAs(value) : value is null;
            return done ? ItemStates.Done : ItemStates.NotDone;
        }

        protected override string? Occupied(RegistryValueRecord record)
        {
            if (record.Element is not null)
            {
                // A list is edited element by element on the way back too, so a change made since is kept, not overwritten.
                return null;
            }

            var value = Current(record);
            bool expected = record.New is not null ? record.New.SameAs(value) : value is null;
            return expected ? null : $"'{record.Target}' now holds {value?.Kind} {value?.Data}.";
        }

        protected override string PutBack(RegistryValueRecord record, List<string> storeCopies)
        {
            var value = Current(record);
            if (record.Element is not null && value is not null && !value.SameAs(record.New))
            {
                if (RegistryList.Contains(value, record.Element))
                {
                    return $"'{record.Element}' is already in {record.Value}";
                }

                Context.Registry.SetValue(record.Key, record.Value, RegistryList.With(value, record.Element, record.Old));
                Context.Reporter.Warning($"{record.Key}\\{record.Value} changed after the cleanup; '{record.Element}' was put back into it and the rest kept.");
                return $"'{record.Element}' put back (the value had changed)";
            }

            Context.Registry.SetValue(record.Key, record.Value, record.Old);
            return $"{record.Old.Kind} {Printable(record.Old.Data)}";
        }

        protected override string ResolveRestore(RegistryValueRecord record)
        {
            var value = Current(record);
            if (record.Element is not null)
            {
                return value is not null && RegistryList.Contains(value, record.Element) ? ItemStates.Done : ItemStates.NotDone;
            }

            return record.Old.SameAs(value) ? ItemStates.Done : ItemStates.NotDone;
        }

        protected override void Describe(RegistryValueRecord record, FluxQuarantineItem item) =>
            item.RemovedText = record.Element ?? record.Old.Kind + " " + record.Old.Data;

        private static string Printable(string data) => data.Replace('\0', '|');
    }
}
