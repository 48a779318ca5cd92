using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;
using System.Threading;
using FluxForensics.Host;
using FluxForensics.Model;

namespace FluxForensics.Remediation
{
    /// <summary>
    /// Carries out a plan against the machine, journaling every action into the store before it is done, and undoes it.
    /// Intents are flushed in batches (one fsync per batch, always before any action of the batch runs); marks after the
    /// actions are flushed per batch too: an unmarked intent is resolved by looking at the machine, so a lost mark costs
    /// nothing.
    /// </summary>
    internal sealed class RemediationEngine
    {
        private const int BatchSize = 256;
        private readonly QuarantineStore _store;
        private readonly IProcessControl _processes;
        private readonly IRegistryAccess _registry;
        private readonly IFluxReporter _reporter;
        private readonly bool _force;

        public RemediationEngine(QuarantineStore store, IProcessControl processes, IRegistryAccess registry, IFluxReporter reporter, bool force)
        {
            _store = store;
            _processes = processes;
            _registry = registry;
            _reporter = reporter;
            _force = force;
        }

        /// <summary>How long to wait after stopping processes before checking that nothing came back.</summary>
        public TimeSpan VerifyDelay { get; set; } = TimeSpan.FromSeconds(1);

        /// <summary>-WhatIf for restore: every check and confirmation runs, nothing is journaled or changed.</summary>
        public bool DryRun { get; set; }

        public static string RunBy => RemediationFileSystem.IsWindows ? Environment.UserDomainName + "\\" + Environment.UserName : Environment.UserName;

        public static IProcessControl DefaultProcessControl() =>
            RemediationFileSystem.IsWindows ? new WindowsProcessControl() : new LinuxProcessControl();

        public static IRegistryAccess DefaultRegistry() => new Win32RegistryAccess();

        // ---------------------------------------------------------------- remove

        public List<FluxRemediation> Execute(IReadOnlyList<RemediationAction> plan, Func<RemediationAction, bool> approve, CancellationToken cancel)
        {
            var results = new List<FluxRemediation>();
            StoreRun? run = null;
            var done = new List<(RemediationAction Action, StoreItem Item)>();
            var protectedIds = plan.Any(a => a.Kind == ItemKinds.Process) ? ProcessGuard.SelfAndParents(_processes) : new HashSet<int>();
            try
            {
                foreach (var stage in plan.GroupBy(a => a.Stage).OrderBy(g => g.Key))
                {
                    var approved = new List<RemediationAction>();
                    foreach (var action in stage)
                    {
                        cancel.ThrowIfCancellationRequested();
                        if (action.RefusalId is not null)
                        {
                            results.Add(Fail(action, action.RefusalId, FluxErrorCategory.InvalidOperation, action.Refusal!));
                            continue;
                        }

                        if (action.NeedsForce && !_force)
                        {
                            results.Add(Fail(action, "ProtectedSystemFile", FluxErrorCategory.SecurityError, $"'{action.Target}' is a system file; quarantining it needs -Force."));
                            continue;
                        }

                        if (approve(action))
                        {
                            approved.Add(action);
                        }
                        else
                        {
                            results.Add(Result(action, "Skipped", null, "Not confirmed."));
                        }
                    }

                    for (int offset = 0; offset < approved.Count; offset += BatchSize)
                    {
                        cancel.ThrowIfCancellationRequested();
                        run ??= _store.NewRun();
                        var batch = new List<(RemediationAction Action, StoreItem Item)>();
                        foreach (var action in approved.Skip(offset).Take(BatchSize))
                        {
                            var intent = Prepare(action, run, protectedIds, out var early);
                            if (early is not null)
                            {
                                results.Add(early);
                                continue;
                            }

                            batch.Add((action, run.Add(intent!)));
                        }

                        run.Flush();
                        CrashHook.Step("intents flushed");
                        StageCopies(run, batch.Select(b => b.Item));
                        var touchedDirectories = new HashSet<string>(StringComparer.Ordinal);
                        foreach (var (action, item) in batch)
                        {
                            if (item.Kind is ItemKinds.File or ItemKinds.Link && Path.GetDirectoryName(item.Target) is string parent)
                            {
                                touchedDirectories.Add(parent);
                            }

                            string? detail;
                            try
                            {
                                detail = Act(item);
                            }
                            catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidOperationException or ArgumentException or NotSupportedException)
                            {
                                // The action may have got part way: the machine says what happened.
                                string state = ResolveQuarantine(item);
                                run.Mark(item, StoreOps.Quarantine, state == ItemStates.Done ? ItemStates.Done : ItemStates.Failed, e.Message);
                                results.Add(state == ItemStates.Done ? Result(action, "Done", item.Id, e.Message) : Fail(action, "RemediationActionFailed", FluxErrorCategory.WriteError, $"{action.Description} failed: {e.Message}", item.Id, e));
                                if (state == ItemStates.Done)
                                {
                                    done.Add((action, item));
                                }

                                continue;
                            }

                            CrashHook.Step("acted " + item.Id);
                            run.Mark(item, StoreOps.Quarantine, ItemStates.Done, detail);
                            done.Add((action, item));
                            results.Add(Result(action, "Done", action.Kind == ItemKinds.Process ? null : item.Id, detail));
                        }

                        // The removals of the batch reach the disk before their marks do.
                        foreach (var directory in touchedDirectories)
                        {
                            RemediationFileSystem.SyncDirectory(directory);
                        }

                        run.Flush();
                        CrashHook.Step("marks flushed");
                    }
                }

                results.AddRange(Verify(done, cancel));
            }
            finally
            {
                if (run is not null)
                {
                    run.Flush();
                    run.WriteManifest();
                    run.Dispose();
                }
            }

            return results;
        }

        private FluxRemediation Result(RemediationAction action, string status, string? id, string? detail) => new FluxRemediation
        {
            Action = action.Action,
            Target = action.Target,
            Status = status,
            QuarantineId = id,
            Detail = detail,
        };

        private FluxRemediation Fail(RemediationAction action, string errorId, FluxErrorCategory category, string message, string? id = null, Exception? e = null)
        {
            _reporter.Error(new FluxError(errorId, category, action.Target, message, e));
            return Result(action, "Failed", id, message);
        }

        private RemediationRecord NewIntent(RemediationAction action, StoreRun run) =>
            new RemediationRecord()
                .Set("Seq", run.NextSequence)
                .Set("Op", StoreOps.Quarantine)
                .Set("Kind", action.Kind)
                .Set("Action", action.Action)
                .Set("Target", action.Target)
                .Set("Finding", action.Finding)
                .Set("RunId", run.RunId)
                .Set("By", RunBy)
                .Set("At", DateTime.UtcNow);

        /// <summary>Everything needed to do, check and undo the action, captured before it is journaled. A null intent
        /// with <paramref name="early"/> set means nothing is to be done (already gone, refused).</summary>
        private RemediationRecord? Prepare(RemediationAction action, StoreRun run, ISet<int> protectedIds, out FluxRemediation? early)
        {
            early = null;
            try
            {
                if (action.Kind != ItemKinds.Process && action.Kind != ItemKinds.RegistryValue &&
                    PathGuard.Refusal(action.Target, action.Container, action.Kind == ItemKinds.Link) is string refusal)
                {
                    early = Fail(action, "PathRefused", FluxErrorCategory.SecurityError, refusal);
                    return null;
                }

                var intent = NewIntent(action, run);
                int seq = (int)intent.Long("Seq")!.Value;
                switch (action.Kind)
                {
                    case ItemKinds.Process:
                        return PrepareProcess(action, intent, protectedIds, out early);

                    case ItemKinds.File:
                    {
                        if (!RemediationFileSystem.TryStat(action.Target, out var meta))
                        {
                            early = Result(action, "Skipped", AlreadyHeld(action.Target), "Not present (already removed or quarantined).");
                            return null;
                        }

                        if (meta!.IsDirectory)
                        {
                            early = Fail(action, "TargetIsDirectory", FluxErrorCategory.InvalidArgument, $"'{action.Target}' is a directory; only files are quarantined.");
                            return null;
                        }

                        meta = RemediationFileSystem.Stat(action.Target);
                        string data = run.DataPath(seq);
                        bool sameVolume = !RemediationFileSystem.IsWindows
                            ? RemediationFileSystem.DeviceOfParent(action.Target) == RemediationFileSystem.TryStatDevice(run.DataDirectory)
                            : string.Equals(Path.GetPathRoot(action.Target), Path.GetPathRoot(data), StringComparison.OrdinalIgnoreCase);
                        meta.WriteTo(intent);
                        RemediationFileSystem.RecordParentTimes(action.Target, intent);
                        return intent.Set("Sha256", RemediationFileSystem.Sha256Of(action.Target)).Set("Data", data).Set("Method", sameVolume ? "rename" : "copy");
                    }

                    case ItemKinds.Link:
                    {
                        if (!RemediationFileSystem.TryStat(action.Target, out var meta) || !meta!.IsSymbolicLink)
                        {
                            early = Result(action, "Skipped", AlreadyHeld(action.Target), "The link is not there.");
                            return null;
                        }

                        meta.WriteTo(intent);
                        RemediationFileSystem.RecordParentTimes(action.Target, intent);
                        return intent.Set("LinkTarget", RemediationFileSystem.ReadLink(action.Target));
                    }

                    case ItemKinds.Line:
                        return PrepareLine(action, run, seq, intent, out early);

                    case ItemKinds.RegistryValue:
                    {
                        var value = _registry.GetValue(action.KeyPath!, action.ValueName!);
                        if (value is null || (action.Replacement is not null && action.Replacement.SameAs(value)))
                        {
                            early = Result(action, "Skipped", AlreadyHeld(action.Target), "The value is not there (already removed).");
                            return null;
                        }

                        intent.Set("Key", action.KeyPath).Set("Value", action.ValueName).Set("ValueKind", value.Kind).Set("ValueData", value.Data);
                        return action.Replacement is null ? intent : intent.Set("NewKind", action.Replacement.Kind).Set("NewData", action.Replacement.Data);
                    }

                    case ItemKinds.Attributes:
                    {
                        var info = FileAttributeReader.Read(action.Target);
                        if (info.RawAttributes is not uint raw)
                        {
                            early = Fail(action, "AttributesNotStored", FluxErrorCategory.InvalidOperation, $"The file system of '{action.Target}' stores no Hidden/System attributes ({info.Mechanism}); nothing to clear.");
                            return null;
                        }

                        uint cleared = raw & ~(FileAttributeBits.Hidden | FileAttributeBits.System);
                        if (cleared == raw)
                        {
                            early = Result(action, "Skipped", AlreadyHeld(action.Target), "Neither Hidden nor System is set.");
                            return null;
                        }

                        return intent.Set("Attributes", raw).Set("Cleared", cleared).Set("AttributeMechanism", info.Mechanism);
                    }
                }

                early = Fail(action, "UnsupportedAction", FluxErrorCategory.NotImplemented, $"No way to carry out {action.Action} on {action.Kind}.");
                return null;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidOperationException or ArgumentException or NotSupportedException)
            {
                early = Fail(action, "RemediationPrepareFailed", FluxErrorCategory.ReadError, $"{action.Description}: {e.Message}", null, e);
                return null;
            }
        }

        /// <summary>The id of a quarantined item with this target, so a rerun says where the file went.</summary>
        private string? AlreadyHeld(string target)
        {
            if (_held is null)
            {
                _held = new Dictionary<string, string>(StringComparer.Ordinal);
                foreach (var item in _store.Runs().SelectMany(r => r.Items).Where(i => i.State == ItemStates.Quarantined))
                {
                    _held[item.Target] = item.Id;
                }
            }

            return _held.TryGetValue(target, out string? id) ? id : null;
        }

        private Dictionary<string, string>? _held;

        private RemediationRecord? PrepareProcess(RemediationAction action, RemediationRecord intent, ISet<int> protectedIds, out FluxRemediation? early)
        {
            early = null;
            var p = _processes.Get(action.ProcessId);
            if (p is null || p.IsZombie)
            {
                early = Result(action, "Skipped", null, $"Process {action.ProcessId} is not running.");
                return null;
            }

            if (!ProcessGuard.SameStart(action.ProcessStartTime, p.StartTimeUtc))
            {
                early = Fail(action, "ProcessIdReused", FluxErrorCategory.InvalidOperation, $"PID {action.ProcessId} now belongs to another process ({p.Name}, started {p.StartTimeUtc:o}); it is not stopped.");
                return null;
            }

            if (action.ProcessStartTime is null && action.ExpectedImage is not null && p.ImagePath is not null &&
                !SamePath(p.ImagePath.Replace(" (deleted)", string.Empty), action.ExpectedImage))
            {
                early = Fail(action, "ProcessImageMismatch", FluxErrorCategory.InvalidOperation, $"PID {action.ProcessId} runs '{p.ImagePath}', not '{action.ExpectedImage}', and the finding has no start time to tell them apart.");
                return null;
            }

            if (ProcessGuard.Refusal(p, protectedIds, _force) is string refusal)
            {
                early = Fail(action, "ProcessProtected", FluxErrorCategory.SecurityError, refusal);
                return null;
            }

            var tree = Tree(p);
            return intent.Set("Pid", p.ProcessId).Set("Start", p.StartTimeUtc).Set("Image", p.ImagePath).Set("Name", p.Name)
                .Set("Tree", string.Join(",", tree.Select(t => t.ProcessId.ToString(CultureInfo.InvariantCulture) + ":" + (t.StartTimeUtc?.Ticks ?? 0).ToString(CultureInfo.InvariantCulture))));
        }

        private List<ProcessIdentity> Tree(ProcessIdentity root)
        {
            var all = _processes.Snapshot();
            var tree = new List<ProcessIdentity> { root };
            for (int i = 0; i < tree.Count; i++)
            {
                tree.AddRange(all.Where(c => c.ParentProcessId == tree[i].ProcessId && !tree.Any(t => t.ProcessId == c.ProcessId)));
            }

            return tree;
        }

        private RemediationRecord? PrepareLine(RemediationAction action, StoreRun run, int seq, RemediationRecord intent, out FluxRemediation? early)
        {
            early = null;
            if (!File.Exists(action.Target))
            {
                early = Result(action, "Skipped", AlreadyHeld(action.Target), "The file holding the line is not there.");
                return null;
            }

            byte[] original = File.ReadAllBytes(action.Target);
            var lines = SplitLines(original);
            int index = -1;
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
                early = Result(action, "Skipped", AlreadyHeld(action.Target), "The line is no longer in the file.");
                return null;
            }

            byte[] changed = lines.Where((_, i) => i != index).SelectMany(l => l).ToArray();
            string copy = run.DataPath(seq, "original");
            RemediationFileSystem.WriteDurably(copy, original);
            RemediationFileSystem.SetMode(copy, 0x100);
            RemediationFileSystem.Stat(action.Target).WriteTo(intent);
            RemediationFileSystem.RecordParentTimes(action.Target, intent);
            return intent.Set("LineText", action.LineText).Set("LineNumber", index + 1).Set("Original", copy)
                .Set("OriginalSha256", RemediationFileSystem.Sha256Of(original)).Set("ChangedSha256", RemediationFileSystem.Sha256Of(changed))
                .Set("LineBytes", Convert.ToBase64String(lines[index].ToArray()));
        }

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

        private static bool SamePath(string a, string b) => string.Equals(a, b, RemediationFileSystem.IsWindows ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal);

        /// <summary>Carries out a journaled action; returns a detail line.</summary>
        private string? Act(StoreItem item)
        {
            var r = item.Intent;
            switch (item.Kind)
            {
                case ItemKinds.Process:
                    return StopTree(r);

                case ItemKinds.File:
                    MoveIntoStore(r);
                    return $"{r["Size"]} bytes, SHA-256 {r["Sha256"]} ({r["Method"]})";

                case ItemKinds.Link:
                    RemediationFileSystem.Unlink(r["Target"]!);
                    return "link to " + r["LinkTarget"];

                case ItemKinds.Line:
                    RewriteWithout(r);
                    return $"line {r["LineNumber"]}: {r["LineText"]}";

                case ItemKinds.RegistryValue:
                    if (r["NewKind"] is string kind)
                    {
                        _registry.SetValue(r["Key"]!, r["Value"]!, new RegistryValueData(kind, r["NewData"]!));
                        return $"was {r["ValueKind"]} {r["ValueData"]}";
                    }

                    _registry.DeleteValue(r["Key"]!, r["Value"]!);
                    return $"{r["ValueKind"]} {r["ValueData"]}";

                case ItemKinds.Attributes:
                    if (!FileAttributeReader.TryRestore(r["Target"]!, (uint)r.Long("Cleared")!.Value, out string? error))
                    {
                        throw new IOException(error);
                    }

                    return $"attributes 0x{r.Long("Attributes"):X} → 0x{r.Long("Cleared"):X}";
            }

            throw new InvalidOperationException("Unknown item kind " + item.Kind);
        }

        private string StopTree(RemediationRecord r)
        {
            var tree = (r["Tree"] ?? string.Empty).Split(new[] { ',' }, StringSplitOptions.RemoveEmptyEntries)
                .Select(t => t.Split(':'))
                .Select(t => (Pid: int.Parse(t[0], CultureInfo.InvariantCulture), Start: long.Parse(t[1], CultureInfo.InvariantCulture)))
                .ToList();

            bool Same(int pid, long start, out ProcessIdentity? p)
            {
                p = _processes.Get(pid);
                return p is not null && !p.IsZombie && (start == 0 || p.StartTimeUtc is null || Math.Abs(p.StartTimeUtc.Value.Ticks - start) < TimeSpan.TicksPerSecond);
            }

            // Freeze the whole tree first so that no member can start a replacement while the others are stopped.
            foreach (var (pid, start) in tree)
            {
                if (Same(pid, start, out _))
                {
                    _processes.Suspend(pid);
                }
            }

            int stopped = 0;
            foreach (var (pid, start) in tree)
            {
                if (Same(pid, start, out _))
                {
                    _processes.Kill(pid);
                    stopped++;
                }
            }

            var deadline = DateTime.UtcNow.AddSeconds(5);
            while (tree.Any(t => Same(t.Pid, t.Start, out _)))
            {
                if (DateTime.UtcNow > deadline)
                {
                    throw new InvalidOperationException($"Process {r["Pid"]} did not exit within 5 seconds.");
                }

                Thread.Sleep(20);
            }

            return $"{stopped} process(es) stopped: {string.Join(", ", tree.Select(t => t.Pid))}";
        }

        private static void MoveIntoStore(RemediationRecord r)
        {
            string source = r["Target"]!;
            string data = r["Data"]!;
            if (r["Method"] == "rename")
            {
                RemediationFileSystem.Rename(source, data);
            }
            else
            {
                if (!File.Exists(data))
                {
                    // Not staged with the batch (its copy failed there): copy it alone, durably.
                    string partial = data + ".partial";
                    if (File.Exists(partial))
                    {
                        File.Delete(partial);
                    }

                    RemediationFileSystem.CopyDurably(source, partial);
                    if (RemediationFileSystem.Sha256Of(partial) != r["Sha256"])
                    {
                        File.Delete(partial);
                        throw new IOException($"The copy of '{source}' in the store does not match its SHA-256; the file was left in place.");
                    }

                    RemediationFileSystem.Rename(partial, data);
                    RemediationFileSystem.SyncDirectory(Path.GetDirectoryName(data)!);
                }

                CrashHook.Step("copied " + source);
                RemediationFileSystem.Unlink(source);
            }

            RemediationFileSystem.MakeInert(data);
        }

        /// <summary>
        /// Copies every cross-volume file of a batch into the store, verifies each by SHA-256, makes them all durable with
        /// one syncfs and one directory fsync, and only then lets the actions remove the originals: one flush per batch
        /// instead of two per file, with the same guarantee (no original is removed before its verified copy is on disk).
        /// A copy that fails here is retried alone by the action, which then reports the error.
        /// </summary>
        private static void StageCopies(StoreRun run, IEnumerable<StoreItem> items)
        {
            var staged = new List<(string Partial, string Data)>();
            foreach (var item in items.Where(i => i.Kind == ItemKinds.File && i.Intent["Method"] == "copy"))
            {
                var r = item.Intent;
                string data = r["Data"]!;
                string partial = data + ".partial";
                try
                {
                    if (File.Exists(partial))
                    {
                        File.Delete(partial);
                    }

                    RemediationFileSystem.CopyDurably(r["Target"]!, partial, flush: false);
                    if (RemediationFileSystem.Sha256Of(partial) != r["Sha256"])
                    {
                        File.Delete(partial);
                        continue;
                    }

                    staged.Add((partial, data));
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    if (File.Exists(partial))
                    {
                        File.Delete(partial);
                    }
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

        private static void RewriteWithout(RemediationRecord r)
        {
            string path = r["Target"]!;
            byte[] original = File.ReadAllBytes(path);
            if (RemediationFileSystem.Sha256Of(original) != r["OriginalSha256"])
            {
                throw new IOException($"'{path}' changed since the line was found; it was left as it is.");
            }

            var lines = SplitLines(original);
            int index = (int)r.Long("LineNumber")!.Value - 1;
            byte[] changed = lines.Where((_, i) => i != index).SelectMany(l => l).ToArray();
            ReplaceFile(path, changed, FileMetadata.ReadFrom(r), keepTimes: false);
        }

        /// <summary>Writes the content next to the file, fsyncs, gives it the file's owner and mode, and renames it over.</summary>
        private static void ReplaceFile(string path, byte[] content, FileMetadata meta, bool keepTimes)
        {
            string temp = Path.Combine(Path.GetDirectoryName(path)!, "." + Path.GetFileName(path) + ".flux-tmp");
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

        // ---------------------------------------------------------------- verify

        private IEnumerable<FluxRemediation> Verify(List<(RemediationAction Action, StoreItem Item)> done, CancellationToken cancel)
        {
            if (done.Count == 0)
            {
                yield break;
            }

            if (done.Any(d => d.Item.Kind == ItemKinds.Process) && VerifyDelay > TimeSpan.Zero)
            {
                cancel.WaitHandle.WaitOne(VerifyDelay);
            }

            var running = done.Any(d => d.Item.Kind == ItemKinds.Process) ? _processes.Snapshot() : Array.Empty<ProcessIdentity>();
            int back = 0;
            foreach (var (action, item) in done)
            {
                string? why = Reappeared(item, running);
                if (why is null)
                {
                    continue;
                }

                back++;
                _reporter.Warning($"{action.Target}: {why}");
                yield return Result(action, "Reappeared", item.Kind == ItemKinds.Process ? null : item.Id, why);
            }

            yield return new FluxRemediation
            {
                Action = "Verify",
                Target = _store.Root,
                Status = back == 0 ? "Done" : "Reappeared",
                Detail = back == 0 ? $"{done.Count} action(s) checked; nothing came back." : $"{back} of {done.Count} came back.",
            };
        }

        private string? Reappeared(StoreItem item, IReadOnlyList<ProcessIdentity> running)
        {
            var r = item.Intent;
            string target = r["Target"] ?? string.Empty;
            switch (item.Kind)
            {
                case ItemKinds.Process:
                    string? image = r["Image"];
                    var again = running.FirstOrDefault(p => !p.IsZombie && image is not null && p.ImagePath is not null && SamePath(p.ImagePath.Replace(" (deleted)", string.Empty), image));
                    return again is null ? null : $"a process runs '{image}' again (PID {again.ProcessId}).";
                case ItemKinds.File:
                case ItemKinds.Link:
                    return RemediationFileSystem.Exists(target) ? $"'{target}' is there again." : null;
                case ItemKinds.Line:
                    return File.Exists(target) && File.ReadLines(target).Any(l => l.TrimEnd('\r') == r["LineText"]) ? "the line is back in the file." : null;
                case ItemKinds.RegistryValue:
                    var value = _registry.GetValue(r["Key"]!, r["Value"]!);
                    return r["NewKind"] is string kind
                        ? (value is not null && !value.SameAs(new RegistryValueData(kind, r["NewData"]!)) ? $"the value was set back to {value.Data}." : null)
                        : (value is not null ? "the value is back." : null);
                case ItemKinds.Attributes:
                    return FileAttributeReader.TryRead(target, out var info, out _) && (info!.IsHidden || info.IsSystem) ? "the folder is Hidden/System again." : null;
            }

            return null;
        }

        // ---------------------------------------------------------------- recovery

        /// <summary>
        /// Settles every run that was interrupted: each intent without a mark is resolved by looking at the machine (the file
        /// is in the store or at its place, the line is in the file or not …), the partial copies are cleaned, and the
        /// outcome is marked. Nothing is lost: a file is always either at its place or verified in the store.
        /// </summary>
        public List<FluxRemediation> Recover()
        {
            var results = new List<FluxRemediation>();
            foreach (var run in _store.Runs())
            {
                var doubtful = run.Items.Where(i => i.InDoubt).ToList();
                if (doubtful.Count == 0)
                {
                    continue;
                }

                try
                {
                    foreach (var item in doubtful)
                    {
                        string op = item.PendingOp!;
                        string state;
                        try
                        {
                            state = op == StoreOps.Restore ? ResolveRestore(item) : ResolveQuarantine(item);
                        }
                        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidOperationException)
                        {
                            _reporter.Error(new FluxError("RecoveryFailed", FluxErrorCategory.WriteError, item.Target, $"Could not settle the interrupted action {item.Id} on '{item.Target}': {e.Message}", e));
                            continue;
                        }

                        run.Mark(item, op, state, "settled after an interrupted run");
                        results.Add(new FluxRemediation
                        {
                            Action = "Recover",
                            Target = item.Target,
                            Status = state == ItemStates.Done ? "Done" : "Skipped",
                            QuarantineId = item.Kind == ItemKinds.Process ? null : item.Id,
                            Detail = $"interrupted {op} {(state == ItemStates.Done ? "was completed" : "was rolled back")}",
                        });
                    }

                    run.Flush();
                    run.WriteManifest();
                }
                finally
                {
                    run.Dispose();
                }
            }

            return results;
        }

        /// <summary>Did the quarantine action happen? Finishes a half-done cross-volume move; cleans partial copies.</summary>
        private string ResolveQuarantine(StoreItem item)
        {
            var r = item.Intent;
            string target = r["Target"] ?? string.Empty;
            switch (item.Kind)
            {
                case ItemKinds.Process:
                    int pid = (int)(r.Long("Pid") ?? 0);
                    var p = _processes.Get(pid);
                    long start = r.Utc("Start")?.Ticks ?? 0;
                    bool alive = p is not null && !p.IsZombie && (p.StartTimeUtc is null || start == 0 || Math.Abs(p.StartTimeUtc.Value.Ticks - start) < TimeSpan.TicksPerSecond);
                    return alive ? ItemStates.NotDone : ItemStates.Done;

                case ItemKinds.File:
                {
                    string data = r["Data"]!;
                    string partial = data + ".partial";
                    if (File.Exists(partial))
                    {
                        File.Delete(partial);
                    }

                    bool inStore = File.Exists(data);
                    bool inPlace = RemediationFileSystem.Exists(target);
                    if (inStore && inPlace)
                    {
                        // A cross-volume move stopped between the verified copy and the delete: finish it.
                        if (RemediationFileSystem.Sha256Of(data) == r["Sha256"] && RemediationFileSystem.Sha256Of(target) == r["Sha256"])
                        {
                            RemediationFileSystem.Unlink(target);
                            RemediationFileSystem.MakeInert(data);
                            return ItemStates.Done;
                        }

                        File.Delete(data);
                        return ItemStates.NotDone;
                    }

                    if (inStore)
                    {
                        RemediationFileSystem.MakeInert(data);
                        return ItemStates.Done;
                    }

                    return ItemStates.NotDone;
                }

                case ItemKinds.Link:
                    return RemediationFileSystem.Exists(target) ? ItemStates.NotDone : ItemStates.Done;

                case ItemKinds.Line:
                {
                    string temp = Path.Combine(Path.GetDirectoryName(target)!, "." + Path.GetFileName(target) + ".flux-tmp");
                    if (File.Exists(temp))
                    {
                        File.Delete(temp);
                    }

                    if (!File.Exists(target))
                    {
                        return ItemStates.NotDone;
                    }

                    string sha = RemediationFileSystem.Sha256Of(target);
                    return sha == r["ChangedSha256"] ? ItemStates.Done : ItemStates.NotDone;
                }

                case ItemKinds.RegistryValue:
                {
                    var value = _registry.GetValue(r["Key"]!, r["Value"]!);
                    bool done = r["NewKind"] is string kind ? new RegistryValueData(kind, r["NewData"]!).SameAs(value) : value is null;
                    return done ? ItemStates.Done : ItemStates.NotDone;
                }

                case ItemKinds.Attributes:
                    return FileAttributeReader.TryRead(target, out var info, out _) && info!.RawAttributes == (uint?)r.Long("Cleared") ? ItemStates.Done : ItemStates.NotDone;
            }

            return ItemStates.NotDone;
        }

        // ---------------------------------------------------------------- restore

        public IReadOnlyList<StoreItem> Items() => _store.Runs().SelectMany(r => r.Items).ToList();

        /// <summary>Puts the items back, newest first (so an image goes back before the entry that starts it).</summary>
        public List<FluxRemediation> Restore(IEnumerable<string> ids, Func<StoreItem, string, bool> approve, CancellationToken cancel)
        {
            var results = new List<FluxRemediation>();
            var runs = _store.Runs();
            var wanted = new HashSet<string>(ids, StringComparer.OrdinalIgnoreCase);
            foreach (var id in wanted.Where(id => !runs.Any(r => r.Find(id) is not null)))
            {
                _reporter.Error(new FluxError("QuarantineItemNotFound", FluxErrorCategory.ObjectNotFound, id, $"The store at {_store.Root} holds no item {id}."));
            }

            // Newest run first, newest item first: each folder ends with the times recorded before the first change.
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
                    var approved = new List<(StoreItem Item, FluxRemediation Result)>();
                    foreach (var item in items)
                    {
                        cancel.ThrowIfCancellationRequested();
                        var result = new FluxRemediation { Action = "Restore", Target = item.Target, QuarantineId = item.Id };
                        results.Add(result);
                        if (Precheck(item, result, approve))
                        {
                            approved.Add((item, result));
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

        /// <summary>True when the item may be restored; else the result says why not.</summary>
        private bool Precheck(StoreItem item, FluxRemediation result, Func<StoreItem, string, bool> approve)
        {
            if (!item.IsRestorable)
            {
                result.Status = "Skipped";
                result.Detail = item.Kind == ItemKinds.Process ? "A stopped process is not restarted." : $"The item is {item.State}, nothing to put back.";
                return false;
            }

            if (Occupied(item) is string occupant && !_force)
            {
                _reporter.Error(new FluxError("RestoreTargetOccupied", FluxErrorCategory.ResourceExists, item.Target, $"{occupant} Use -Force to move it aside (it is kept, renamed) and restore."));
                result.Status = "Failed";
                result.Detail = occupant;
                return false;
            }

            if (!approve(item, $"Restore {item.Kind} {item.Target} from {item.Id}") || DryRun)
            {
                result.Status = DryRun ? "WhatIf" : "Skipped";
                result.Detail = DryRun ? $"Restore {item.Kind} {item.Target}" : "Not confirmed.";
                return false;
            }

            return true;
        }

        /// <summary>Journals the batch's restores (one flush), puts each back, makes the file systems durable (one syncfs
        /// each), and only then removes the store copies of what was copied back.</summary>
        private void RestoreBatch(StoreRun run, List<(StoreItem Item, FluxRemediation Result)> batch)
        {
            foreach (var (item, _) in batch)
            {
                run.Intend(item.Intent.Clone().Set("Op", StoreOps.Restore));
                item.PendingOp = StoreOps.Restore;
            }

            run.Flush();
            CrashHook.Step("restore intents flushed");
            var storeCopies = new List<string>();
            var restored = new List<(StoreItem Item, FluxRemediation Result)>();
            var devices = new Dictionary<ulong, string>();
            foreach (var (item, result) in batch)
            {
                try
                {
                    result.Detail = PutBack(item, storeCopies);
                    if (item.Kind is ItemKinds.File or ItemKinds.Link or ItemKinds.Line)
                    {
                        RemediationFileSystem.ApplyParentTimes(item.Target, item.Intent);
                    }

                    if (item.Kind is ItemKinds.File or ItemKinds.Link or ItemKinds.Line && Path.GetDirectoryName(item.Target) is string dir && dir.Length > 0)
                    {
                        devices[RemediationFileSystem.TryStatDevice(dir)] = dir;
                    }

                    CrashHook.Step("restored " + item.Id);
                    restored.Add((item, result));
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidOperationException or ArgumentException)
                {
                    string state = ResolveRestore(item);
                    run.Mark(item, StoreOps.Restore, state, e.Message);
                    result.Status = state == ItemStates.Done ? "Restored" : "Failed";
                    result.Detail = e.Message;
                    if (state != ItemStates.Done)
                    {
                        _reporter.Error(new FluxError("RestoreFailed", FluxErrorCategory.WriteError, item.Target, $"Restoring {item.Id} to '{item.Target}' failed: {e.Message}", e));
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

        /// <summary>Null when the original place is free (or holds exactly what was removed from it); else what is there.</summary>
        private string? Occupied(StoreItem item)
        {
            var r = item.Intent;
            string target = item.Target;
            switch (item.Kind)
            {
                case ItemKinds.File:
                case ItemKinds.Link:
                    return RemediationFileSystem.Exists(target) ? $"'{target}' exists again." : null;
                case ItemKinds.RegistryValue:
                    var value = _registry.GetValue(r["Key"]!, r["Value"]!);
                    bool expected = r["NewKind"] is string kind ? new RegistryValueData(kind, r["NewData"]!).SameAs(value) : value is null;
                    return expected ? null : $"'{target}' now holds {value?.Kind} {value?.Data}.";
            }

            return null;
        }

        private string PutBack(StoreItem item, List<string> storeCopies)
        {
            var r = item.Intent;
            string target = item.Target;
            switch (item.Kind)
            {
                case ItemKinds.File:
                {
                    string data = r["Data"]!;
                    if (RemediationFileSystem.Exists(target))
                    {
                        string aside = target + ".displaced-" + item.Id;
                        RemediationFileSystem.Rename(target, aside);
                        _reporter.Warning($"'{target}' was occupied; the occupant was kept as '{aside}'.");
                    }

                    string? dir = Path.GetDirectoryName(target);
                    if (dir is not null && !Directory.Exists(dir))
                    {
                        Directory.CreateDirectory(dir);
                    }

                    var meta = FileMetadata.ReadFrom(r);
                    bool sameVolume = !RemediationFileSystem.IsWindows && RemediationFileSystem.DeviceOfParent(target) == RemediationFileSystem.DeviceOfParent(data);
                    if (sameVolume)
                    {
                        RemediationFileSystem.Rename(data, target);
                    }
                    else
                    {
                        string temp = Path.Combine(dir!, "." + Path.GetFileName(target) + ".flux-restore");
                        if (File.Exists(temp))
                        {
                            File.Delete(temp);
                        }

                        RemediationFileSystem.CopyDurably(data, temp, flush: false);
                        if (RemediationFileSystem.Sha256Of(temp) != r["Sha256"])
                        {
                            File.Delete(temp);
                            throw new IOException($"The copy restored from {item.Id} does not match its SHA-256.");
                        }

                        RemediationFileSystem.Rename(temp, target);

                        // The store copy goes only after the batch's syncfs has made this one durable.
                        storeCopies.Add(data);
                    }

                    RemediationFileSystem.ApplyMetadata(target, meta);
                    return $"{meta.Size} bytes, SHA-256 {r["Sha256"]}";
                }

                case ItemKinds.Link:
                    RemediationFileSystem.CreateSymbolicLink(target, r["LinkTarget"]!);
                    RemediationFileSystem.ApplyMetadata(target, FileMetadata.ReadFrom(r), isLink: true);
                    return "link to " + r["LinkTarget"];

                case ItemKinds.Line:
                {
                    byte[] original = File.ReadAllBytes(r["Original"]!);
                    var meta = FileMetadata.ReadFrom(r);
                    if (File.Exists(target) && RemediationFileSystem.Sha256Of(target) == r["ChangedSha256"])
                    {
                        ReplaceFile(target, original, meta, keepTimes: true);
                        return $"line {r["LineNumber"]} back; the file is byte for byte as it was";
                    }

                    // The file changed since: put the line back at its number without touching the rest.
                    byte[] current = File.Exists(target) ? File.ReadAllBytes(target) : Array.Empty<byte>();
                    var lines = SplitLines(current);
                    if (lines.Any(l => LineText(l) == r["LineText"]))
                    {
                        return "the line is already there";
                    }

                    int index = Math.Min(Math.Max(0, (int)(r.Long("LineNumber") ?? 1) - 1), lines.Count);
                    if (index > 0 && lines[index - 1].Length > 0 && lines[index - 1][lines[index - 1].Length - 1] != (byte)'\n')
                    {
                        lines[index - 1] = lines[index - 1].Concat(new[] { (byte)'\n' }).ToArray();
                    }

                    lines.Insert(index, Convert.FromBase64String(r["LineBytes"]!));
                    ReplaceFile(target, lines.SelectMany(l => l).ToArray(), meta, keepTimes: false);
                    _reporter.Warning($"'{target}' changed after the cleanup; the line was inserted at line {index + 1} and the rest kept.");
                    return $"line inserted at {index + 1} (the file had changed)";
                }

                case ItemKinds.RegistryValue:
                    _registry.SetValue(r["Key"]!, r["Value"]!, new RegistryValueData(r["ValueKind"]!, r["ValueData"]!));
                    return $"{r["ValueKind"]} {r["ValueData"]}";

                case ItemKinds.Attributes:
                    if (!FileAttributeReader.TryRestore(target, (uint)r.Long("Attributes")!.Value, out string? error))
                    {
                        throw new IOException(error);
                    }

                    return $"attributes 0x{r.Long("Attributes"):X}";
            }

            throw new InvalidOperationException("Unknown item kind " + item.Kind);
        }

        /// <summary>Did the restore happen? Cleans partial copies; finishes a restore whose copy is in place.</summary>
        private string ResolveRestore(StoreItem item)
        {
            var r = item.Intent;
            string target = item.Target;
            switch (item.Kind)
            {
                case ItemKinds.File:
                {
                    string data = r["Data"]!;
                    string temp = Path.Combine(Path.GetDirectoryName(target)!, "." + Path.GetFileName(target) + ".flux-restore");
                    if (File.Exists(temp))
                    {
                        File.Delete(temp);
                    }

                    bool inPlace = File.Exists(target) && RemediationFileSystem.Sha256Of(target) == r["Sha256"];
                    if (!inPlace)
                    {
                        return ItemStates.NotDone;
                    }

                    if (File.Exists(data))
                    {
                        File.Delete(data);
                    }

                    RemediationFileSystem.ApplyMetadata(target, FileMetadata.ReadFrom(r));
                    return ItemStates.Done;
                }

                case ItemKinds.Link:
                    return RemediationFileSystem.Exists(target) ? ItemStates.Done : ItemStates.NotDone;

                case ItemKinds.Line:
                {
                    string temp = Path.Combine(Path.GetDirectoryName(target)!, "." + Path.GetFileName(target) + ".flux-tmp");
                    if (File.Exists(temp))
                    {
                        File.Delete(temp);
                    }

                    if (File.Exists(target) && RemediationFileSystem.Sha256Of(target) == r["OriginalSha256"])
                    {
                        RemediationFileSystem.ApplyMetadata(target, FileMetadata.ReadFrom(r));
                        return ItemStates.Done;
                    }

                    return ItemStates.NotDone;
                }

                case ItemKinds.RegistryValue:
                    return new RegistryValueData(r["ValueKind"]!, r["ValueData"]!).SameAs(_registry.GetValue(r["Key"]!, r["Value"]!)) ? ItemStates.Done : ItemStates.NotDone;

                case ItemKinds.Attributes:
                    return FileAttributeReader.TryRead(target, out var info, out _) && info!.RawAttributes == (uint?)r.Long("Attributes") ? ItemStates.Done : ItemStates.NotDone;
            }

            return ItemStates.NotDone;
        }

        /// <summary>The public view of an item.</summary>
        public static FluxQuarantineItem Describe(StoreItem item)
        {
            var r = item.Intent;
            return new FluxQuarantineItem
            {
                QuarantineId = item.Id,
                RunId = item.Run.RunId,
                Kind = item.Kind,
                OriginalPath = item.Target,
                Size = r.Long("Size") ?? 0,
                Sha256 = r["Sha256"] ?? r["OriginalSha256"],
                QuarantinedAt = r.Utc("At") ?? new DateTime(0, DateTimeKind.Utc),
                QuarantinedBy = r["By"],
                State = item.InDoubt ? "InDoubt" : item.State,
                StorePath = r["Data"] ?? r["Original"],
                Action = r["Action"] ?? string.Empty,
                Finding = r["Finding"],
                Detail = item.Detail,
                Mode = r.Long("Mode") is long m ? Convert.ToString(m, 8).PadLeft(4, '0') : null,
                Owner = r["Uid"] is string uid ? uid + ":" + r["Gid"] : null,
                Attributes = r.Long("Attributes") is long a ? "0x" + a.ToString("X8", CultureInfo.InvariantCulture) : null,
                RemovedText = r["LineText"] ?? (r["ValueData"] is string d ? r["ValueKind"] + " " + d : null) ?? r["LinkTarget"],
            };
        }
    }
}
