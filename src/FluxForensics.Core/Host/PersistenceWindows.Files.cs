using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading;
using FluxForensics.Formats;
using FluxForensics.Model;

namespace FluxForensics.Host
{
    /// <summary>Persistence in files: Startup folder shortcuts and scheduled task XML.</summary>
    internal sealed partial class WindowsPersistenceSource
    {
        private IEnumerable<AutorunEntry> StartupFolder(string windowsFolder, string scope, IReadOnlyDictionary<string, string> variables, Dictionary<string, string>? approved)
        {
            string? local = _mapper.ToLocal(windowsFolder);
            if (local is null || !Directory.Exists(local))
            {
                yield break;
            }

            foreach (string file in PersistenceScanner.SafeFiles(local, "*", SearchOption.TopDirectoryOnly, _reporter, _options.MaxFilesPerDirectory))
            {
                string fileName = Path.GetFileName(file);
                if (fileName.Equals("desktop.ini", StringComparison.OrdinalIgnoreCase))
                {
                    continue;
                }

                string windowsPath = windowsFolder + "\\" + fileName;
                var entry = new AutorunEntry
                {
                    Location = windowsFolder,
                    Name = Path.GetFileNameWithoutExtension(fileName),
                    Command = windowsPath,
                    Scope = scope,
                    LastWriteTime = PersistenceScanner.WriteTime(file),
                    Enabled = IsEnabled(approved, "StartupFolder", fileName),
                    EntryType = AutorunEntryType.StartupFile,
                    EntryPath = Offline ? file : windowsPath,
                    EntryText = null,
                    NameIsLabel = true,
                    IsWindows = true,
                    Variables = variables,
                    ResolvedTarget = windowsPath,
                };
                if (fileName.EndsWith(".lnk", StringComparison.OrdinalIgnoreCase))
                {
                    byte[] bytes;
                    try
                    {
                        bytes = File.ReadAllBytes(file);
                    }
                    catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                    {
                        _reporter.Error(new FluxError("StartupShortcutUnreadable", FluxErrorCategory.ReadError, file, $"Cannot read '{file}': {e.Message}", e));
                        continue;
                    }

                    ShellLink link = ShellLinkFile.Parse(bytes, file);
                    foreach (ParseIssue issue in link.Issues)
                    {
                        _reporter.Issue(issue);
                    }

                    if (link.TargetPath is not null)
                    {
                        entry.Command = (link.TargetPath.IndexOf(' ') >= 0 ? "\"" + link.TargetPath + "\"" : link.TargetPath) + (string.IsNullOrEmpty(link.Arguments) ? string.Empty : " " + link.Arguments);
                        entry.ResolvedTarget = null;
                    }

                    entry.EntryText = entry.Command;
                }

                yield return entry;
            }
        }

        private IEnumerable<AutorunEntry> Tasks()
        {
            string tasksFolder = _machineVariables["SystemRoot"] + @"\System32\Tasks";
            string? local = _mapper.ToLocal(tasksFolder);
            if (local is null || !Directory.Exists(local))
            {
                yield break;
            }

            foreach (string file in PersistenceScanner.SafeFiles(local, "*", SearchOption.AllDirectories, _reporter, _options.MaxFilesPerDirectory))
            {
                _cancellation.ThrowIfCancellationRequested();
                byte[] bytes;
                try
                {
                    var info = new FileInfo(file);
                    if (info.Length > TaskXml.MaxTaskFileSize)
                    {
                        _reporter.Warning($"Task file '{file}' is {info.Length} bytes; not read.");
                        continue;
                    }

                    bytes = File.ReadAllBytes(file);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    _reporter.Error(new FluxError("TaskFileUnreadable", FluxErrorCategory.ReadError, file, $"Cannot read '{file}': {e.Message}", e));
                    continue;
                }

                TaskDefinition task = TaskXml.Parse(bytes, file);
                foreach (ParseIssue issue in task.Issues)
                {
                    _reporter.Issue(issue);
                }

                if (!task.IsValid)
                {
                    continue;
                }

                string relative = file.Substring(local.Length).Replace('/', '\\');
                string uri = task.Uri ?? relative;
                string name = uri.Substring(uri.LastIndexOf('\\') + 1);
                foreach (TaskExecAction action in task.ExecActions)
                {
                    yield return new AutorunEntry
                    {
                        Location = tasksFolder + relative.Substring(0, relative.LastIndexOf('\\') < 0 ? 0 : relative.LastIndexOf('\\')),
                        Name = name,
                        Command = action.CommandLine,
                        Scope = task.PrincipalUserIds.FirstOrDefault() ?? "Machine",
                        LastWriteTime = PersistenceScanner.WriteTime(file),
                        Enabled = task.Enabled,
                        EntryType = AutorunEntryType.ScheduledTask,
                        EntryPath = Offline ? file : tasksFolder + relative,
                        EntryText = task.Text,
                        NameIsLabel = true,
                        IsWindows = true,
                        Variables = _machineVariables,
                    };
                }
            }
        }
    }
}
