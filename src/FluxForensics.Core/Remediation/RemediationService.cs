using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading;
using FluxForensics.Model;

namespace FluxForensics.Remediation
{
    /// <summary>The quarantine store cannot be opened or created (permissions, a read-only disk): nothing can run.</summary>
    public sealed class QuarantineStoreUnavailableException : IOException
    {
        public QuarantineStoreUnavailableException(string path, Exception inner)
            : base($"The quarantine store '{path}' cannot be used: {inner.Message}", inner)
        {
            StorePath = path;
        }

        public string StorePath { get; }
    }

    /// <summary>
    /// Remediation as the cleanup and the undo ask for it: plan the findings, recover what an interrupted run left, act,
    /// verify; or restore items by id or by run. Both go through one approval path: <c>shouldProcess(target, action)</c> is
    /// asked once per change, and with <c>whatIf</c> every check runs, each change that would be made is returned as
    /// WhatIf, and nothing is journaled or changed.
    /// </summary>
    public sealed class RemediationService
    {
        private readonly IFluxReporter _reporter;
        private readonly Func<string, string, bool> _shouldProcess;
        private readonly string? _storePath;

        public RemediationService(IFluxReporter reporter, Func<string, string, bool> shouldProcess, string? quarantinePath, bool force, bool whatIf)
        {
            _reporter = reporter;
            _shouldProcess = shouldProcess;
            _storePath = quarantinePath;
            Force = force;
            WhatIf = whatIf;
        }

        public bool Force { get; }
        public bool WhatIf { get; }

        /// <summary>Where the store is when no path is given.</summary>
        public static string DefaultStorePath => QuarantineStore.DefaultPath;

        /// <summary>Cleans up after the findings; returns the recovered items of interrupted runs, then one record per action and the Verify record.</summary>
        public IReadOnlyList<FluxRemediation> Remove(IEnumerable<RemediationInput> findings, CancellationToken cancel)
        {
            var plan = RemediationPlanner.Plan(findings, RemediationFileSystem.IsWindows, _reporter);
            if (WhatIf)
            {
                // The store is not even created.
                return Engine(null).Execute(plan, Approve, whatIf: true, cancel);
            }

            if (plan.Count == 0)
            {
                return Array.Empty<FluxRemediation>();
            }

            using var store = Open(create: true)!;
            var engine = Engine(store);
            var results = engine.Recover();
            results.AddRange(engine.Execute(plan, Approve, whatIf: false, cancel));
            return results;
        }

        /// <summary>Restores the items with these ids.</summary>
        public IReadOnlyList<FluxRemediation> Restore(IEnumerable<string> ids, CancellationToken cancel) => Restore(_ => ids, cancel);

        /// <summary>Restores every item of a run that can be restored.</summary>
        public IReadOnlyList<FluxRemediation> RestoreRun(string runId, CancellationToken cancel) => Restore(
            engine =>
            {
                var items = engine.Items().Where(i => string.Equals(i.Run.RunId, runId, StringComparison.OrdinalIgnoreCase)).ToList();
                if (items.Count == 0)
                {
                    _reporter.Error(new FluxError("QuarantineRunNotFound", FluxErrorCategory.ObjectNotFound, runId, $"The store holds no run {runId}."));
                    return null;
                }

                return items.Where(i => i.IsRestorable).Select(i => i.Id);
            },
            cancel);

        private IReadOnlyList<FluxRemediation> Restore(Func<RemediationEngine, IEnumerable<string>?> select, CancellationToken cancel)
        {
            using var existing = Open(create: false);
            if (existing is null)
            {
                _reporter.Error(new FluxError("QuarantineStoreNotFound", FluxErrorCategory.ObjectNotFound, _storePath ?? QuarantineStore.DefaultPath, $"There is no quarantine store at '{_storePath ?? QuarantineStore.DefaultPath}'."));
                return Array.Empty<FluxRemediation>();
            }

            // Under -WhatIf the store is only read: no lock, no recovery.
            using var locked = WhatIf ? null : Open(existing.Root, create: true);
            var engine = Engine(locked ?? existing);
            var results = WhatIf ? new List<FluxRemediation>() : engine.Recover();
            if (select(engine) is IEnumerable<string> ids)
            {
                results.AddRange(engine.Restore(ids, (item, description) => _shouldProcess(item.Target, description), WhatIf, cancel));
            }

            return results;
        }

        private bool Approve(RemediationAction action) => _shouldProcess(action.Target, action.Description);

        private RemediationEngine Engine(QuarantineStore? store) =>
            new RemediationEngine(store, RemediationEngine.DefaultProcessControl(), RemediationEngine.DefaultRegistry(), _reporter, Force);

        private QuarantineStore? Open(bool create) => Open(_storePath, create);

        private static QuarantineStore? Open(string? path, bool create)
        {
            try
            {
                return QuarantineStore.Open(path, create);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new QuarantineStoreUnavailableException(path ?? QuarantineStore.DefaultPath, e);
            }
        }
    }
}
