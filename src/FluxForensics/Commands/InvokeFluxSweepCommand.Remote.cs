using System;
using System.Collections;
using System.Collections.Generic;
using System.Collections.ObjectModel;
using System.Management.Automation;
using System.Management.Automation.Runspaces;
using FluxForensics.Commands.Sweep;
using FluxForensics.Export;
using FluxForensics.Model;
using FluxForensics.Sweep;

namespace FluxForensics.Commands
{
    /// <summary>Sweeping other computers through remoting (at most ThrottleLimit at once), and the result of each.</summary>
    public sealed partial class InvokeFluxSweepCommand
    {
        private void SweepRemoteComputers()
        {
            if (_targets.Count == 0)
            {
                return;
            }

            var tallies = new Dictionary<SweepTarget, SweepTally>();
            var remoteResults = new Dictionary<SweepTarget, PSObject>();
            var missing = new Dictionary<SweepTarget, string>();
            var connectionErrors = new Dictionary<SweepTarget, ErrorRecord>();
            var pending = new Dictionary<SweepTarget, List<string>>();

            using var sweep = new RemoteSweep(_targets, CheckParameters(), ThrottleLimit);
            sweep.Started += target =>
            {
                tallies[target] = new SweepTally(target.Name, target.Transport);
                WriteVerbose($"Sweeping {target.Name} over {target.Transport}");
            };

            int done = 0;
            foreach (var e in sweep.Run(CancellationToken))
            {
                var tally = tallies[e.Target];
                switch (e.Kind)
                {
                    case SweepEventKind.Output:
                        var item = (PSObject)e.Payload!;
                        if (DeserializedFinding.IsType(item, "FluxForensics.Model.FluxSweepResult"))
                        {
                            remoteResults[e.Target] = item;
                        }
                        else if (DeserializedFinding.IsType(item, "FluxForensics.SweepModuleMissing"))
                        {
                            missing[e.Target] = DeserializedFinding.Text(item, "Reason") ?? "the FluxForensics module is not installed";
                        }
                        else if (DeserializedFinding.IsFinding(item))
                        {
                            var severity = DeserializedFinding.SeverityOf(DeserializedFinding.Value(item, "Severity"));
                            tally.AddFinding(severity);
                            Emit(item, severity);
                        }
                        else
                        {
                            WriteObject(item);
                        }

                        break;
                    case SweepEventKind.Warning:
                        WriteWarning($"{e.Target.Name}: {((WarningRecord)e.Payload!).Message}");
                        break;
                    case SweepEventKind.Error:
                        var error = (ErrorRecord)e.Payload!;
                        if (IsConnectionFailure(error) && !remoteResults.ContainsKey(e.Target) && tally.FindingCount == 0)
                        {
                            connectionErrors[e.Target] = error;
                        }
                        else
                        {
                            // Shown as they come. The remote sweep's result lists its own errors; these count only when
                            // no result arrives (the remote side failed before making one).
                            WriteError(error);
                            if (!pending.TryGetValue(e.Target, out var list))
                            {
                                pending[e.Target] = list = new List<string>();
                            }

                            list.Add(error.Exception.Message);
                        }

                        break;
                    case SweepEventKind.Done:
                        done++;
                        var result = Finish(e.Target, tally, remoteResults, missing, connectionErrors, pending, e.Payload as Exception);
                        _outcome!.AddResult(result);
                        WriteProgress(new ProgressRecord(0x5eeb, "Invoke-FluxSweep", $"{done} of {_targets.Count} computers done (last: {e.Target.Name}, {result.Status})")
                        {
                            PercentComplete = 100 * done / _targets.Count,
                        });
                        WriteObject(result);
                        break;
                }
            }

            WriteProgress(new ProgressRecord(0x5eeb, "Invoke-FluxSweep", "Done") { RecordType = ProgressRecordType.Completed });
        }

        private FluxSweepResult Finish(SweepTarget target, SweepTally tally, Dictionary<SweepTarget, PSObject> remoteResults,
            Dictionary<SweepTarget, string> missing, Dictionary<SweepTarget, ErrorRecord> connectionErrors, Dictionary<SweepTarget, List<string>> pending, Exception? failure)
        {
            if (!remoteResults.ContainsKey(target) && pending.TryGetValue(target, out var unreported))
            {
                foreach (var message in unreported)
                {
                    tally.AddError(message);
                }
            }

            if (connectionErrors.TryGetValue(target, out var unreachable))
            {
                tally.Status = SweepStatus.Unreachable;
                tally.AddError(unreachable.Exception.Message);
                var record = new ErrorRecord(unreachable.Exception, "ComputerUnreachable", ErrorCategory.ConnectionError, target.Name)
                {
                    ErrorDetails = new ErrorDetails($"{target.Name} could not be reached over {target.Transport}: {unreachable.Exception.Message}"),
                };
                WriteError(record);
            }
            else if (missing.TryGetValue(target, out var reason))
            {
                tally.Status = SweepStatus.ModuleMissing;
                tally.AddError(reason);
                WriteError(new ErrorRecord(new InvalidOperationException(reason), "FluxForensicsModuleMissing", ErrorCategory.NotInstalled, target.Name)
                {
                    ErrorDetails = new ErrorDetails($"{target.Name}: {reason}. Install it there (Install-PSResource FluxForensics from your repository or share, or copy the module folder onto its PSModulePath)."),
                });
            }
            else if (remoteResults.TryGetValue(target, out var remote))
            {
                var status = DeserializedFinding.Text(remote, "Status");
                tally.Status = Enum.TryParse(status, true, out SweepStatus parsed) ? parsed : SweepStatus.Completed;
                foreach (var text in DeserializedFinding.Strings(DeserializedFinding.Value(remote, "Errors")))
                {
                    tally.AddError(text);
                }
            }
            else
            {
                tally.Status = SweepStatus.Failed;
                string why = failure?.Message ?? "the remote sweep ended without a result";
                tally.AddError(why);
                if (failure is not null)
                {
                    WriteError(new ErrorRecord(failure, "RemoteSweepFailed", ErrorCategory.OperationStopped, target.Name));
                }
            }

            var result = tally.ToResult();
            result.ReportedName = remoteResults.TryGetValue(target, out var r) ? DeserializedFinding.Text(r, "ComputerName") : null;
            return result;
        }

        /// <summary>No session could be made: the transport said so before the remote side said anything.</summary>
        private static bool IsConnectionFailure(ErrorRecord error)
        {
            for (var e = error.Exception; e is not null; e = e.InnerException)
            {
                if (e.GetType().Name == "PSRemotingTransportException" || e.GetType().Name == "PSRemotingDataStructureException")
                {
                    return true;
                }
            }

            return error.FullyQualifiedErrorId == SshProbe.ErrorId ||
                error.FullyQualifiedErrorId.IndexOf("PSSessionStateBroken", StringComparison.OrdinalIgnoreCase) >= 0 ||
                error.FullyQualifiedErrorId.IndexOf("PSSessionOpenFailed", StringComparison.OrdinalIgnoreCase) >= 0;
        }

        // ---- both -----------------------------------------------------------------------------------------------------
    }
}
