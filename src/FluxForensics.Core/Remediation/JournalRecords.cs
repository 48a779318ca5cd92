using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;

namespace FluxForensics.Remediation
{
    /// <summary>
    /// The typed form of one journal intent. On the disk it is a <see cref="RemediationRecord"/> line whose keys are the
    /// ones every earlier version wrote (Seq, Op, Kind, Action, Target, Finding, RunId, By, At, then the kind's own), so a
    /// journal written before the types existed reads into them unchanged, and one written now reads in an older version.
    /// </summary>
    internal abstract class JournalRecord
    {
        public int Sequence { get; set; }
        public abstract string Kind { get; }
        public string Action { get; set; } = string.Empty;
        public string Target { get; set; } = string.Empty;
        public string? Finding { get; set; }
        public string? RunId { get; set; }
        public string? By { get; set; }
        public DateTime? At { get; set; }

        /// <summary>Fields of the journal line that could not be read, and what was used instead.</summary>
        public List<string> Problems { get; } = new List<string>();

        /// <summary>The store's id of the item (run id and sequence); not journaled, it is where the record was found.</summary>
        public string ItemId { get; set; } = string.Empty;

        /// <summary>The line as it is journaled for <paramref name="op"/> (Quarantine or Restore).</summary>
        public RemediationRecord ToWire(string op)
        {
            var r = new RemediationRecord()
                .Set("Seq", Sequence)
                .Set("Op", op)
                .Set("Kind", Kind)
                .Set("Action", Action)
                .Set("Target", Target)
                .Set("Finding", Finding)
                .Set("RunId", RunId)
                .Set("By", By)
                .Set("At", At);
            WriteFields(r);
            return r;
        }

        protected abstract void WriteFields(RemediationRecord r);

        protected abstract void ReadFields(RemediationRecord r);

        private static readonly Dictionary<string, Func<JournalRecord>> Factories = new Dictionary<string, Func<JournalRecord>>(StringComparer.Ordinal)
        {
            [ItemKinds.Process] = () => new ProcessRecord(),
            [ItemKinds.File] = () => new FileRecord(),
            [ItemKinds.Link] = () => new LinkRecord(),
            [ItemKinds.Line] = () => new LineRecord(),
            [ItemKinds.RegistryValue] = () => new RegistryValueRecord(),
            [ItemKinds.RegistryKey] = () => new RegistryKeyRecord(),
            [ItemKinds.Attributes] = () => new AttributesRecord(),
        };

        /// <summary>The typed record of a journal line; null for a kind this version does not know (a newer version's).</summary>
        public static JournalRecord? FromWire(RemediationRecord r)
        {
            if (r["Kind"] is not string kind || !Factories.TryGetValue(kind, out var create))
            {
                return null;
            }

            var record = create();
            record.Sequence = (int)(r.Long("Seq") ?? 0);
            record.Action = r["Action"] ?? string.Empty;
            record.Target = r["Target"] ?? string.Empty;
            record.Finding = r["Finding"];
            record.RunId = r["RunId"];
            record.By = r["By"];
            record.At = r.Utc("At");
            record.ReadFields(r);
            return record;
        }
    }

    /// <summary>The times of the folder holding an item: moving a file in or out changes them, restore puts them back.</summary>
    internal sealed class ParentTimes
    {
        public long AccessSeconds { get; set; }
        public long AccessNanoseconds { get; set; }
        public long WriteSeconds { get; set; }
        public long WriteNanoseconds { get; set; }

        public static void Write(ParentTimes? t, RemediationRecord r)
        {
            if (t is not null)
            {
                r.Set("PATime", t.AccessSeconds).Set("PATimeNs", t.AccessNanoseconds).Set("PMTime", t.WriteSeconds).Set("PMTimeNs", t.WriteNanoseconds);
            }
        }

        public static ParentTimes? Read(RemediationRecord r) => r.Long("PMTime") is long mtime
            ? new ParentTimes { AccessSeconds = r.Long("PATime") ?? 0, AccessNanoseconds = r.Long("PATimeNs") ?? 0, WriteSeconds = mtime, WriteNanoseconds = r.Long("PMTimeNs") ?? 0 }
            : null;
    }

    /// <summary>A stopped process and the tree stopped with it (each member by PID and start time, so a reused PID is never hit).</summary>
    internal sealed class ProcessRecord : JournalRecord
    {
        public override string Kind => ItemKinds.Process;
        public int ProcessId { get; set; }
        public DateTime? Start { get; set; }
        public string? Image { get; set; }
        public string? Name { get; set; }
        public List<(int ProcessId, long StartTicks)> Tree { get; } = new List<(int, long)>();

        protected override void WriteFields(RemediationRecord r) =>
            r.Set("Pid", ProcessId).Set("Start", Start).Set("Image", Image).Set("Name", Name)
             .Set("Tree", string.Join(",", Tree.Select(t => t.ProcessId.ToString(CultureInfo.InvariantCulture) + ":" + t.StartTicks.ToString(CultureInfo.InvariantCulture))));

        protected override void ReadFields(RemediationRecord r)
        {
            ProcessId = (int)(r.Long("Pid") ?? 0);
            Start = r.Utc("Start");
            Image = r["Image"];
            Name = r["Name"];
            foreach (var member in (r["Tree"] ?? string.Empty).Split(new[] { ',' }, StringSplitOptions.RemoveEmptyEntries))
            {
                var parts = member.Split(':');
                if (parts.Length == 2 && int.TryParse(parts[0], NumberStyles.Integer, CultureInfo.InvariantCulture, out int pid) &&
                    long.TryParse(parts[1], NumberStyles.Integer, CultureInfo.InvariantCulture, out long start))
                {
                    Tree.Add((pid, start));
                }
            }
        }
    }

    /// <summary>A file moved (same volume) or copied then removed (another volume) into the store.</summary>
    internal sealed class FileRecord : JournalRecord
    {
        public override string Kind => ItemKinds.File;
        public FileMetadata Meta { get; set; } = new FileMetadata();
        public ParentTimes? Parent { get; set; }
        public string? Sha256 { get; set; }
        public string Data { get; set; } = string.Empty;

        /// <summary>"rename" or "copy".</summary>
        public string? Method { get; set; }

        protected override void WriteFields(RemediationRecord r)
        {
            Meta.WriteTo(r);
            ParentTimes.Write(Parent, r);
            r.Set("Sha256", Sha256).Set("Data", Data).Set("Method", Method);
        }

        protected override void ReadFields(RemediationRecord r)
        {
            Meta = FileMetadata.ReadFrom(r);
            Parent = ParentTimes.Read(r);
            Sha256 = r["Sha256"];
            Data = r["Data"] ?? string.Empty;
            Method = r["Method"];
        }
    }

    /// <summary>A symbolic link that enabled a unit, removed; it is recreated from its target text.</summary>
    internal sealed class LinkRecord : JournalRecord
    {
        public override string Kind => ItemKinds.Link;
        public FileMetadata Meta { get; set; } = new FileMetadata();
        public ParentTimes? Parent { get; set; }
        public string LinkTarget { get; set; } = string.Empty;

        protected override void WriteFields(RemediationRecord r)
        {
            Meta.WriteTo(r);
            ParentTimes.Write(Parent, r);
            r.Set("LinkTarget", LinkTarget);
        }

        protected override void ReadFields(RemediationRecord r)
        {
            Meta = FileMetadata.ReadFrom(r);
            Parent = ParentTimes.Read(r);
            LinkTarget = r["LinkTarget"] ?? string.Empty;
        }
    }

    /// <summary>One line taken out of a file (crontab, profile, ld.so.preload); the whole original is kept in the store.</summary>
    internal sealed class LineRecord : JournalRecord
    {
        public override string Kind => ItemKinds.Line;
        public FileMetadata Meta { get; set; } = new FileMetadata();
        public ParentTimes? Parent { get; set; }
        public string? LineText { get; set; }
        public int LineNumber { get; set; }
        public string Original { get; set; } = string.Empty;
        public string? OriginalSha256 { get; set; }
        public string? ChangedSha256 { get; set; }
        public byte[] LineBytes { get; set; } = Array.Empty<byte>();

        protected override void WriteFields(RemediationRecord r)
        {
            Meta.WriteTo(r);
            ParentTimes.Write(Parent, r);
            r.Set("LineText", LineText).Set("LineNumber", LineNumber).Set("Original", Original)
             .Set("OriginalSha256", OriginalSha256).Set("ChangedSha256", ChangedSha256).Set("LineBytes", Convert.ToBase64String(LineBytes));
        }

        protected override void ReadFields(RemediationRecord r)
        {
            Meta = FileMetadata.ReadFrom(r);
            Parent = ParentTimes.Read(r);
            LineText = r["LineText"];
            LineNumber = (int)(r.Long("LineNumber") ?? 1);
            Original = r["Original"] ?? string.Empty;
            OriginalSha256 = r["OriginalSha256"];
            ChangedSha256 = r["ChangedSha256"];
            try
            {
                LineBytes = Convert.FromBase64String(r["LineBytes"] ?? throw new FormatException("missing"));
            }
            catch (FormatException)
            {
                LineBytes = System.Text.Encoding.UTF8.GetBytes((LineText ?? string.Empty) + "\n");
                Problems.Add("LineBytes is missing or not base64; the line's text (LineText) with a newline is used instead");
            }
        }
    }

    /// <summary>
    /// A registry value deleted, or replaced by <see cref="New"/>: a service's Start set to 4, or one element taken out of
    /// a list value Windows needs (one DLL of AppInit_DLLs, one line of BootExecute), named by <see cref="Element"/>.
    /// </summary>
    internal sealed class RegistryValueRecord : JournalRecord
    {
        public override string Kind => ItemKinds.RegistryValue;
        public string Key { get; set; } = string.Empty;
        public string Value { get; set; } = string.Empty;
        public RegistryValueData Old { get; set; } = new RegistryValueData("String", string.Empty);
        public RegistryValueData? New { get; set; }
        public string? Element { get; set; }

        protected override void WriteFields(RemediationRecord r)
        {
            r.Set("Key", Key).Set("Value", Value).Set("ValueKind", Old.Kind).Set("ValueData", Old.Data);
            if (New is not null)
            {
                r.Set("NewKind", New.Kind).Set("NewData", New.Data);
            }

            r.Set("Element", Element);
        }

        protected override void ReadFields(RemediationRecord r)
        {
            Key = r["Key"] ?? string.Empty;
            Value = r["Value"] ?? string.Empty;
            Old = new RegistryValueData(r["ValueKind"] ?? "String", r["ValueData"] ?? string.Empty);
            New = r["NewKind"] is string kind ? new RegistryValueData(kind, r["NewData"] ?? string.Empty) : null;
            Element = r["Element"];
        }
    }

    /// <summary>A registry key with everything below it, exported into the store (<see cref="Export"/>) and then deleted.</summary>
    internal sealed class RegistryKeyRecord : JournalRecord
    {
        public override string Kind => ItemKinds.RegistryKey;
        public string Key { get; set; } = string.Empty;
        public string Export { get; set; } = string.Empty;
        public string? ExportSha256 { get; set; }
        public int ValueCount { get; set; }

        /// <summary>The parent key the removal left empty, deleted too (an empty per-user CLSID key still shadows the machine's).</summary>
        public string? EmptyParent { get; set; }

        protected override void WriteFields(RemediationRecord r) =>
            r.Set("Key", Key).Set("Export", Export).Set("ExportSha256", ExportSha256).Set("ValueCount", ValueCount).Set("EmptyParent", EmptyParent);

        protected override void ReadFields(RemediationRecord r)
        {
            Key = r["Key"] ?? string.Empty;
            Export = r["Export"] ?? string.Empty;
            ExportSha256 = r["ExportSha256"];
            ValueCount = (int)(r.Long("ValueCount") ?? 0);
            EmptyParent = r["EmptyParent"];
        }
    }

    /// <summary>Hidden and System cleared on a folder; the raw attributes before and after.</summary>
    internal sealed class AttributesRecord : JournalRecord
    {
        public override string Kind => ItemKinds.Attributes;
        public uint Attributes { get; set; }
        public uint Cleared { get; set; }
        public string? Mechanism { get; set; }

        protected override void WriteFields(RemediationRecord r) =>
            r.Set("Attributes", Attributes).Set("Cleared", Cleared).Set("AttributeMechanism", Mechanism);

        protected override void ReadFields(RemediationRecord r)
        {
            Attributes = (uint)(r.Long("Attributes") ?? 0);
            Cleared = (uint)(r.Long("Cleared") ?? 0);
            Mechanism = r["AttributeMechanism"];
        }
    }
}
