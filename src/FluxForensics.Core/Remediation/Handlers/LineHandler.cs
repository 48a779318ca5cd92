using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using FluxForensics.Model;

namespace FluxForensics.Remediation
{
    /// <summary>Takes one line out of a file (crontab, profile, ld.so.preload), keeping the whole original in the store.</summary>
    internal sealed class LineHandler : ItemHandler<LineRecord>
    {
        public LineHandler(RemediationContext context)
            : base(context)
        {
        }

        public override string Kind => ItemKinds.Line;
        public override bool IsFileSystemEntry => true;

        public override Prepared Prepare(RemediationAction action, StoreRun run, int sequence)
        {
            if (!File.Exists(action.Target))
            {
                return Prepared.Skip("The file holding the line is not there.", Context.AlreadyHeld(action.Target));
            }

            byte[] original = File.ReadAllBytes(action.Target);
            var lines = SplitLines(original);
            int index;
            if (action.LineNumber is int n && n >= 1 && n <= lines.Count && LineText(lines[n - 1]) == action.LineText)
            {
                index = n - 1;
            }
            else
            {
                index = lines.FindIndex(l => LineText(l) == action.LineText);
            }

            if (index < 0)
            {
                return Prepared.Skip("The line is no longer in the file.", Context.AlreadyHeld(action.Target));
            }

            byte[] changed = lines.Where((_, i) => i != index).SelectMany(l => l).ToArray();
            string copy = run.DataPath(sequence, "original");
            RemediationFileSystem.WriteDurably(copy, original);
            RemediationFileSystem.SetMode(copy, 0x100);
            var record = (LineRecord)NewRecord(new LineRecord(), action, run, sequence);
            record.Meta = RemediationFileSystem.Stat(action.Target);
            record.Parent = RemediationFileSystem.ParentTimesOf(action.Target);
            record.LineText = action.LineText;
            record.LineNumber = index + 1;
            record.Original = copy;
            record.OriginalSha256 = RemediationFileSystem.Sha256Of(original);
            record.ChangedSha256 = RemediationFileSystem.Sha256Of(changed);
            record.LineBytes = lines[index];
            return Prepared.Journal(record);
        }

        protected override string? Act(LineRecord record)
        {
            byte[] original = File.ReadAllBytes(record.Target);
            if (RemediationFileSystem.Sha256Of(original) != record.OriginalSha256)
            {
                throw new IOException($"'{record.Target}' changed since the line was found; it was left as it is.");
            }

            var lines = SplitLines(original);
            int index = record.LineNumber - 1;
            byte[] changed = lines.Where((_, i) => i != index).SelectMany(l => l).ToArray();
            ReplaceFile(record.Target, changed, record.Meta, keepTimes: false);
            return $"line {record.LineNumber}: {record.LineText}";
        }

        protected override string? Reappeared(LineRecord record, IReadOnlyList<ProcessIdentity> running) =>
            File.Exists(record.Target) && File.ReadLines(record.Target).Any(l => l.TrimEnd('\r') == record.LineText) ? "the line is back in the file." : null;

        protected override string ResolveQuarantine(LineRecord record)
        {
            FileHandler.DeleteIfThere(TempOf(record.Target));
            return File.Exists(record.Target) && RemediationFileSystem.Sha256Of(record.Target) == record.ChangedSha256 ? ItemStates.Done : ItemStates.NotDone;
        }

        protected override string PutBack(LineRecord record, List<string> storeCopies)
        {
            byte[] original = File.ReadAllBytes(record.Original);
            string target = record.Target;
            if (File.Exists(target) && RemediationFileSystem.Sha256Of(target) == record.ChangedSha256)
            {
                ReplaceFile(target, original, record.Meta, keepTimes: true);
                return $"line {record.LineNumber} back; the file is byte for byte as it was";
            }

            // The file changed since: put the line back at its number without touching the rest.
            byte[] current = File.Exists(target) ? File.ReadAllBytes(target) : Array.Empty<byte>();
            var lines = SplitLines(current);
            if (lines.Any(l => LineText(l) == record.LineText))
            {
                return "the line is already there";
            }

            int index = Math.Min(Math.Max(0, record.LineNumber - 1), lines.Count);
            if (index > 0 && lines[index - 1].Length > 0 && lines[index - 1][lines[index - 1].Length - 1] != (byte)'\n')
            {
                lines[index - 1] = lines[index - 1].Concat(new[] { (byte)'\n' }).ToArray();
            }

            lines.Insert(index, record.LineBytes);
            ReplaceFile(target, lines.SelectMany(l => l).ToArray(), record.Meta, keepTimes: false);
            Context.Reporter.Warning($"'{target}' changed after the cleanup; the line was inserted at line {index + 1} and the rest kept.");
            return $"line inserted at {index + 1} (the file had changed)";
        }

        protected override string ResolveRestore(LineRecord record)
        {
            FileHandler.DeleteIfThere(TempOf(record.Target));
            if (File.Exists(record.Target) && RemediationFileSystem.Sha256Of(record.Target) == record.OriginalSha256)
            {
                RemediationFileSystem.ApplyMetadata(record.Target, record.Meta);
                return ItemStates.Done;
            }

            return ItemStates.NotDone;
        }

        protected override void Describe(LineRecord record, FluxQuarantineItem item)
        {
            item.Size = record.Meta.Size;
            item.Sha256 = record.OriginalSha256;
            item.StorePath = record.Original;
            item.RemovedText = record.LineText;
            FileDescription.Fill(record.Meta, item);
        }

        private static string TempOf(string path) => Path.Combine(Path.GetDirectoryName(path)!, "." + Path.GetFileName(path) + ".flux-tmp");

        private static List<byte[]> SplitLines(byte[] content)
        {
            var lines = new List<byte[]>();
            int start = 0;
            for (int i = 0; i < content.Length; i++)
            {
                if (content[i] == (byte)'\n')
                {
                    lines.Add(content.Skip(start).Take(i + 1 - start).ToArray());
                    start = i + 1;
                }
            }

            if (start < content.Length)
            {
                lines.Add(content.Skip(start).ToArray());
            }

            return lines;
        }

        private static string LineText(byte[] line) => Encoding.UTF8.GetString(line).TrimEnd('\n').TrimEnd('\r');

        /// <summary>Writes the content next to the file, fsyncs, gives it the file's owner and mode, and renames it over.</summary>
        private static void ReplaceFile(string path, byte[] content, FileMetadata meta, bool keepTimes)
        {
            string temp = TempOf(path);
            RemediationFileSystem.WriteDurably(temp, content);
            if (keepTimes)
            {
                RemediationFileSystem.ApplyMetadata(temp, meta);
            }
            else if (!RemediationFileSystem.IsWindows)
            {
                RemediationFileSystem.ApplyMetadata(temp, new FileMetadata { Uid = meta.Uid, Gid = meta.Gid, Mode = meta.Mode, AccessSeconds = DateTimeOffset.UtcNow.ToUnixTimeSeconds(), WriteSeconds = DateTimeOffset.UtcNow.ToUnixTimeSeconds() });
            }

            if (RemediationFileSystem.IsWindows && File.Exists(path))
            {
                File.Replace(temp, path, null);
            }
            else
            {
                RemediationFileSystem.Rename(temp, path);
            }

            RemediationFileSystem.SyncDirectory(Path.GetDirectoryName(path)!);
        }
    }
}
