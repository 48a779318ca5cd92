using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Reflection;
using FluxForensics.Model;

namespace FluxForensics.Tests.Reputation
{
    /// <summary>Keeps everything a run reports, verbose text included, to check what the user sees.</summary>
    internal sealed class CapturingReporter : IFluxReporter
    {
        public List<string> Warnings { get; } = new List<string>();
        public List<string> Verbose { get; } = new List<string>();
        public List<string> Progress { get; } = new List<string>();
        public List<ParseIssue> Issues { get; } = new List<ParseIssue>();
        public List<FluxError> Errors { get; } = new List<FluxError>();

        void IFluxReporter.Progress(string activity, string status, double fraction) => Progress.Add(activity + ": " + status);
        void IFluxReporter.Warning(string message) => Warnings.Add(message);
        void IFluxReporter.Verbose(string message) => Verbose.Add(message);
        void IFluxReporter.Issue(ParseIssue issue) => Issues.Add(issue);
        void IFluxReporter.Error(FluxError error) => Errors.Add(error);

        /// <summary>Every text the reporter received.</summary>
        public IEnumerable<string> AllText() =>
            Warnings.Concat(Verbose).Concat(Progress).Concat(Issues.Select(i => i.ToString()))
                .Concat(Errors.SelectMany(e => new[] { e.Message, e.Target, e.ErrorId, e.Exception?.ToString() ?? string.Empty }));
    }

    internal static class ReputationTestSupport
    {
        /// <summary>A temp directory removed on dispose.</summary>
        public sealed class TempDir : IDisposable
        {
            public TempDir()
            {
                Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "ff-rep-" + Guid.NewGuid().ToString("N"));
                Directory.CreateDirectory(Path);
            }

            public string Path { get; }

            public string File(string name, string content)
            {
                string path = System.IO.Path.Combine(Path, name);
                System.IO.File.WriteAllText(path, content);
                return path;
            }

            public void Dispose()
            {
                try
                {
                    Directory.Delete(Path, recursive: true);
                }
                catch (IOException)
                {
                }
            }
        }

        /// <summary>Every string a finding holds (public properties, reasons, names), for leak checks.</summary>
        public static IEnumerable<string> Strings(FluxFinding finding)
        {
            foreach (var p in finding.GetType().GetProperties(BindingFlags.Public | BindingFlags.Instance))
            {
                object? v = p.GetValue(finding);
                switch (v)
                {
                    case string s:
                        yield return s;
                        break;
                    case string[] array:
                        foreach (var s in array) yield return s;
                        break;
                    case FindingReason[] reasons:
                        foreach (var r in reasons) yield return r.ToString();
                        break;
                    case null:
                        break;
                    default:
                        yield return v.ToString() ?? string.Empty;
                        break;
                }
            }
        }
    }
}
