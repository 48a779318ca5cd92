using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;
using System.Text;
using FluxForensics.Model;

namespace FluxForensics.Remediation
{
    /// <summary>
    /// The quarantine store: one folder per run holding its journal (the authority: every action is written and flushed there
    /// before it is done, and marked after), its materialized manifest and the quarantined data. Only root/Administrators
    /// can read it. Layout: <c>&lt;store&gt;/runs/&lt;runId&gt;/journal.log</c>, <c>manifest.tsv</c>, <c>data/&lt;seq&gt;.quarantine</c>.
    /// </summary>
    internal sealed class QuarantineStore : IDisposable
    {
        private FileStream? _lock;

        private QuarantineStore(string root)
        {
            Root = root;
        }

        public string Root { get; }

        public string RunsDirectory => Path.Combine(Root, "runs");

        public static string DefaultPath => RemediationFileSystem.IsWindows
            ? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.CommonApplicationData), "FluxForensics")
            : "/var/lib/fluxforensics";

        /// <summary>Opens (and with <paramref name="create"/> creates) the store and takes its exclusive lock. Null when it does not exist.</summary>
        public static QuarantineStore? Open(string? path, bool create)
        {
            string root = Path.GetFullPath(string.IsNullOrEmpty(path) ? DefaultPath : path!);
            if (!Directory.Exists(root))
            {
                if (!create)
                {
                    return null;
                }

                Directory.CreateDirectory(root);
            }

            var store = new QuarantineStore(root);
            if (create)
            {
                RemediationFileSystem.RestrictToAdministrators(root);
                Directory.CreateDirectory(store.RunsDirectory);
                store._lock = new FileStream(Path.Combine(root, "lock"), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }

            return store;
        }

        public StoreRun NewRun()
        {
            string id = DateTime.UtcNow.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture) + "-" + Guid.NewGuid().ToString("N").Substring(0, 6);
            var run = new StoreRun(id, Path.Combine(RunsDirectory, id));
            Directory.CreateDirectory(run.DataDirectory);
            RemediationFileSystem.SyncDirectory(RunsDirectory);
            return run;
        }

        public IReadOnlyList<StoreRun> Runs()
        {
            if (!Directory.Exists(RunsDirectory))
            {
                return Array.Empty<StoreRun>();
            }

            var runs = new List<StoreRun>();
            foreach (var dir in Directory.GetDirectories(RunsDirectory).OrderBy(d => d, StringComparer.Ordinal))
            {
                var run = new StoreRun(Path.GetFileName(dir), dir);
                run.Load();
                runs.Add(run);
            }

            return runs;
        }

        public void Dispose()
        {
            _lock?.Dispose();
            _lock = null;
        }
    }

    /// <summary>One run of Remove-FluxInfection: its journal and items.</summary>
    internal sealed class StoreRun : IDisposable
    {
        private readonly StringBuilder _pending = new StringBuilder();
        private FileStream? _journal;

        public StoreRun(string runId, string directory)
        {
            RunId = runId;
            Directory = directory;
        }

        public string RunId { get; }
        public string Directory { get; }
        public string DataDirectory => Path.Combine(Directory, "data");
        public string JournalPath => Path.Combine(Directory, "journal.log");
        public List<StoreItem> Items { get; } = new List<StoreItem>();

        /// <summary>True once this process wrote to the run (so a -WhatIf run never rewrites its manifest).</summary>
        public bool Dirty { get; private set; }

        public int NextSequence => Items.Count == 0 ? 1 : Items.Max(i => i.Sequence) + 1;

        public string DataPath(int sequence, string suffix = "quarantine") =>
            Path.Combine(DataDirectory, sequence.ToString("D5", CultureInfo.InvariantCulture) + "." + suffix);

        public StoreItem? Find(string id) => Items.FirstOrDefault(i => string.Equals(i.Id, id, StringComparison.OrdinalIgnoreCase));

        /// <summary>Rebuilds the items from the journal. A torn last line (the run was killed while writing it) is ignored.</summary>
        public void Load()
        {
            Items.Clear();
            Issues.Clear();
            if (!File.Exists(JournalPath))
            {
                return;
            }

            string text;
            using (var stream = new FileStream(JournalPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite))
            using (var reader = new StreamReader(stream, new UTF8Encoding(false)))
            {
                text = reader.ReadToEnd();
            }

            var lines = text.Split('\n');
            long offset = 0;
            for (int i = 0; i < lines.Length; i++)
            {
                long at = offset;
                offset += Encoding.UTF8.GetByteCount(lines[i]) + 1;

                // The last element is the text after the final newline: a line that was never completed (a run killed
                // while writing it), which costs that line only and is expected.
                if (i == lines.Length - 1 || lines[i].Length == 0)
                {
                    continue;
                }

                var record = lines[i].Length < 2 || lines[i][1] != '\t' ? null : RemediationRecord.Parse(lines[i].Substring(2));
                if (record is null || record.Long("Seq") is not long seq || (lines[i][0] != 'I' && lines[i][0] != 'M'))
                {
                    Issues.Add(new ParseIssue(JournalPath, at, "not an intent or mark line; it is passed over", "journal line"));
                    continue;
                }

                var item = Items.FirstOrDefault(x => x.Sequence == seq);
                if (lines[i][0] == 'I')
                {
                    if (item is null)
                    {
                        item = new StoreItem(this, (int)seq, record);
                        Items.Add(item);
                    }

                    item.PendingOp = record["Op"];
                    item.PendingRecord = record;
                }
                else if (item is not null)
                {
                    item.Apply(record["Op"] ?? string.Empty, record["State"] ?? string.Empty, record["Detail"]);
                }
                else
                {
                    Issues.Add(new ParseIssue(JournalPath, at, $"a mark for item {seq}, which has no intent before it; it is passed over", "journal line"));
                }
            }
        }

        /// <summary>Journal lines that could not be read, found by <see cref="Load"/> (a torn last line is not one).</summary>
        public List<ParseIssue> Issues { get; } = new List<ParseIssue>();

        /// <summary>Appends an intent; it is on the disk only after <see cref="Flush"/>.</summary>
        public void Intend(RemediationRecord record)
        {
            Dirty = true;
            _pending.Append("I\t").Append(record.Serialize()).Append('\n');
        }

        public void Mark(StoreItem item, string op, string state, string? detail)
        {
            item.Apply(op, state, detail);
            Dirty = true;
            _pending.Append("M\t").Append(new RemediationRecord().Set("Seq", item.Sequence).Set("Op", op).Set("State", state).Set("Detail", detail).Serialize()).Append('\n');
        }

        /// <summary>Writes what was appended and fsyncs: the write-before-act point of every intent in the batch.</summary>
        public void Flush()
        {
            if (_pending.Length == 0)
            {
                return;
            }

            if (_journal is null)
            {
                bool created = !File.Exists(JournalPath);
                _journal = new FileStream(JournalPath, FileMode.Append, FileAccess.Write, FileShare.Read);
                if (created)
                {
                    RemediationFileSystem.SetMode(JournalPath, 0x180 /* 0600 */);
                }
            }

            byte[] bytes = Encoding.UTF8.GetBytes(_pending.ToString());
            _pending.Clear();
            _journal.Write(bytes, 0, bytes.Length);
            _journal.Flush(true);
        }

        /// <summary>Writes manifest.tsv, the readable view of every item and its state (the journal stays the authority).</summary>
        public void WriteManifest()
        {
            if (!Dirty)
            {
                return;
            }

            var sb = new StringBuilder();
            foreach (var item in Items.OrderBy(i => i.Sequence))
            {
                var r = item.Intent.Clone().Set("Op", (string?)null).Set("State", item.State).Set("Detail", item.Detail);
                sb.Append(r.Serialize()).Append('\n');
            }

            string path = Path.Combine(Directory, "manifest.tsv");
            string temp = path + ".tmp";
            RemediationFileSystem.WriteDurably(temp, Encoding.UTF8.GetBytes(sb.ToString()));
            RemediationFileSystem.SetMode(temp, 0x180);
            if (File.Exists(path))
            {
                File.Delete(path);
            }

            File.Move(temp, path);
            RemediationFileSystem.SyncDirectory(Directory);
        }

        public StoreItem Add(RemediationRecord intent)
        {
            var item = new StoreItem(this, (int)(intent.Long("Seq") ?? 0), intent) { PendingOp = StoreOps.Quarantine, PendingRecord = intent };
            Items.Add(item);
            Intend(intent);
            return item;
        }

        public void Dispose()
        {
            _journal?.Dispose();
            _journal = null;
        }
    }

    internal static class StoreOps
    {
        public const string Quarantine = "Quarantine";
        public const string Restore = "Restore";
    }

    /// <summary>Item states as Get-FluxQuarantine shows them.</summary>
    internal static class ItemStates
    {
        public const string Pending = "Pending";
        public const string Quarantined = "Quarantined";
        public const string Restored = "Restored";
        public const string NotDone = "NotDone";
        public const string Failed = "Failed";
        public const string Done = "Done";
    }

    /// <summary>One journaled action of a run and what is known about it.</summary>
    internal sealed class StoreItem
    {
        public StoreItem(StoreRun run, int sequence, RemediationRecord intent)
        {
            Run = run;
            Sequence = sequence;
            Intent = intent;
            State = ItemStates.Pending;
        }

        public StoreRun Run { get; }
        public int Sequence { get; }
        public RemediationRecord Intent { get; }

        /// <summary>The typed form of <see cref="Intent"/>; null for a kind this version does not know.</summary>
        public JournalRecord? Record
        {
            get
            {
                if (_record is null && JournalRecord.FromWire(Intent) is JournalRecord record)
                {
                    record.ItemId = Id;
                    _record = record;
                }

                return _record;
            }
        }

        private JournalRecord? _record;

        public string Id => Run.RunId + "-" + Sequence.ToString("D4", CultureInfo.InvariantCulture);
        public string Kind => Intent["Kind"] ?? string.Empty;
        public string Target => Intent["Target"] ?? string.Empty;
        public string State { get; private set; }
        public string? Detail { get; private set; }

        /// <summary>The operation whose intent was written and not yet marked (in doubt after a crash).</summary>
        public string? PendingOp { get; set; }
        public RemediationRecord? PendingRecord { get; set; }

        public bool InDoubt => PendingOp is not null;

        /// <summary>Whether the item holds something Restore-FluxQuarantine can put back.</summary>
        public bool IsRestorable => State == ItemStates.Quarantined && Kind != ItemKinds.Process;

        public void Apply(string op, string state, string? detail)
        {
            PendingOp = null;
            PendingRecord = null;
            Detail = detail;
            if (op == StoreOps.Quarantine)
            {
                State = state == ItemStates.Done ? (Kind == ItemKinds.Process ? ItemStates.Done : ItemStates.Quarantined) : state;
            }
            else if (op == StoreOps.Restore)
            {
                State = state == ItemStates.Done ? ItemStates.Restored : ItemStates.Quarantined;
            }
        }
    }

    /// <summary>A test hook: <c>FLUXFORENSICS_REMEDIATION_CRASH_AT=N</c> makes the process die (SIGKILL to itself) at the
    /// Nth journal step, so tests can show that the next run completes or rolls back what was in flight.</summary>
    internal static class CrashHook
    {
        private static readonly int CrashAt =
            int.TryParse(Environment.GetEnvironmentVariable("FLUXFORENSICS_REMEDIATION_CRASH_AT"), NumberStyles.None, CultureInfo.InvariantCulture, out int n) ? n : 0;

        private static int _steps;

        public static void Step(string where)
        {
            if (CrashAt <= 0 || ++_steps < CrashAt)
            {
                return;
            }

            Console.Error.WriteLine($"FLUXFORENSICS_REMEDIATION_CRASH_AT={CrashAt}: killed at {where}");
            if (RuntimeInformation.IsOSPlatform(OSPlatform.Windows))
            {
                Environment.FailFast("crash hook at " + where);
            }

            kill(getpid(), 9);
        }

        [DllImport("libc")]
        private static extern int kill(int pid, int signal);

        [DllImport("libc")]
        private static extern int getpid();
    }
}
