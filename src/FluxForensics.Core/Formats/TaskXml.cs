using System;
using System.Collections.Generic;
using System.IO;
using System.Text;
using System.Xml;
using FluxForensics.Model;

namespace FluxForensics.Formats
{
    /// <summary>An Exec action of a scheduled task.</summary>
    public sealed class TaskExecAction
    {
        internal TaskExecAction(string command, string arguments, string? workingDirectory)
        {
            Command = command;
            Arguments = arguments;
            WorkingDirectory = workingDirectory;
        }

        public string Command { get; }
        public string Arguments { get; }
        public string? WorkingDirectory { get; }

        /// <summary>The command line the task starts: the command (quoted when it has spaces) and its arguments.</summary>
        public string CommandLine =>
            ((Command.IndexOf(' ') >= 0 && !Command.StartsWith("\"", StringComparison.Ordinal) ? "\"" + Command + "\"" : Command) + " " + Arguments).TrimEnd();
    }

    /// <summary>A scheduled task definition (Task Scheduler 2.0 XML) as stored under <c>Windows\System32\Tasks</c>.</summary>
    public sealed class TaskDefinition
    {
        internal TaskDefinition(string source) => Source = source;

        public string Source { get; }
        public bool IsValid { get; internal set; }

        /// <summary>RegistrationInfo/URI as written (with or without its leading backslash).</summary>
        public string? Uri { get; internal set; }
        public string? Author { get; internal set; }
        public string? Description { get; internal set; }
        public DateTime? RegistrationDate { get; internal set; }
        public bool Enabled { get; internal set; } = true;
        public bool Hidden { get; internal set; }
        public IReadOnlyList<string> Triggers { get; internal set; } = Array.Empty<string>();
        public IReadOnlyList<string> PrincipalUserIds { get; internal set; } = Array.Empty<string>();
        public IReadOnlyList<TaskExecAction> ExecActions { get; internal set; } = Array.Empty<TaskExecAction>();

        /// <summary>CLSIDs of ComHandler actions.</summary>
        public IReadOnlyList<string> ComHandlers { get; internal set; } = Array.Empty<string>();

        /// <summary>The text the bytes were decoded to.</summary>
        public string Text { get; internal set; } = string.Empty;

        public IReadOnlyList<ParseIssue> Issues { get; internal set; } = Array.Empty<ParseIssue>();
    }

    /// <summary>
    /// Reads task XML from bytes. The encoding comes from the bytes (BOM, else the NUL pattern of UTF-16, else UTF-8),
    /// never from the declaration: real task files declare UTF-16 and are UTF-8 or the other way round.
    /// </summary>
    public static class TaskXml
    {
        public const int MaxTaskFileSize = 4 << 20;

        public static TaskDefinition Parse(ReadOnlySpan<byte> data, string source)
        {
            var task = new TaskDefinition(source ?? string.Empty);
            var issues = new List<ParseIssue>();
            task.Issues = issues;
            if (data.Length > MaxTaskFileSize)
            {
                issues.Add(new ParseIssue(task.Source, -1, $"task file is {data.Length} bytes; over the {MaxTaskFileSize} cap", "task XML"));
                return task;
            }

            string text = Decode(data);
            int start = text.IndexOf('<');
            if (start < 0)
            {
                issues.Add(new ParseIssue(task.Source, 0, "no XML in the file (a legacy .job or another binary file?)", "task XML"));
                return task;
            }

            text = text.Substring(start).TrimEnd('\0');
            task.Text = text;
            var doc = new XmlDocument { XmlResolver = null };
            var settings = new XmlReaderSettings
            {
                DtdProcessing = DtdProcessing.Prohibit,
                XmlResolver = null,
                MaxCharactersInDocument = MaxTaskFileSize,
                IgnoreComments = true,
            };
            try
            {
                // Read from a string: the reader then ignores the encoding the declaration claims.
                using var reader = XmlReader.Create(new StringReader(text), settings);
                doc.Load(reader);
            }
            catch (XmlException e)
            {
                issues.Add(new ParseIssue(task.Source, -1, e.Message, "task XML"));
                return task;
            }

            XmlElement? root = doc.DocumentElement;
            if (root is null || root.LocalName != "Task")
            {
                issues.Add(new ParseIssue(task.Source, -1, "root element is not <Task>", "task XML"));
                return task;
            }

            task.IsValid = true;
            XmlElement? reg = Child(root, "RegistrationInfo");
            task.Uri = ChildText(reg, "URI");
            task.Author = ChildText(reg, "Author");
            task.Description = ChildText(reg, "Description");
            if (DateTime.TryParse(ChildText(reg, "Date"), System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AdjustToUniversal | System.Globalization.DateTimeStyles.AssumeLocal, out DateTime date))
            {
                task.RegistrationDate = date;
            }

            XmlElement? settingsElement = Child(root, "Settings");
            task.Enabled = !string.Equals(ChildText(settingsElement, "Enabled"), "false", StringComparison.OrdinalIgnoreCase);
            task.Hidden = string.Equals(ChildText(settingsElement, "Hidden"), "true", StringComparison.OrdinalIgnoreCase);

            var triggers = new List<string>();
            foreach (XmlElement t in Children(Child(root, "Triggers")))
            {
                triggers.Add(t.LocalName);
            }

            task.Triggers = triggers;
            var principals = new List<string>();
            foreach (XmlElement p in Children(Child(root, "Principals")))
            {
                string? user = ChildText(p, "UserId") ?? ChildText(p, "GroupId");
                if (user is not null)
                {
                    principals.Add(user);
                }
            }

            task.PrincipalUserIds = principals;
            var execs = new List<TaskExecAction>();
            var coms = new List<string>();
            foreach (XmlElement a in Children(Child(root, "Actions")))
            {
                if (a.LocalName == "Exec")
                {
                    string? command = ChildText(a, "Command");
                    if (command is null)
                    {
                        issues.Add(new ParseIssue(task.Source, -1, "Exec action without a Command", "task action"));
                        continue;
                    }

                    execs.Add(new TaskExecAction(command, ChildText(a, "Arguments") ?? string.Empty, ChildText(a, "WorkingDirectory")));
                }
                else if (a.LocalName == "ComHandler")
                {
                    coms.Add(ChildText(a, "ClassId") ?? string.Empty);
                }
            }

            task.ExecActions = execs;
            task.ComHandlers = coms;
            return task;
        }

        /// <summary>Decodes task bytes by what they are, not by what they declare.</summary>
        public static string Decode(ReadOnlySpan<byte> data)
        {
            if (data.Length >= 2 && data[0] == 0xFF && data[1] == 0xFE)
            {
                return Encoding.Unicode.GetString(data.Slice(2).ToArray());
            }

            if (data.Length >= 2 && data[0] == 0xFE && data[1] == 0xFF)
            {
                return Encoding.BigEndianUnicode.GetString(data.Slice(2).ToArray());
            }

            if (data.Length >= 3 && data[0] == 0xEF && data[1] == 0xBB && data[2] == 0xBF)
            {
                return Encoding.UTF8.GetString(data.Slice(3).ToArray());
            }

            if (data.Length >= 4 && data[0] == (byte)'<' && data[1] == 0)
            {
                return Encoding.Unicode.GetString(data.ToArray());
            }

            if (data.Length >= 4 && data[0] == 0 && data[1] == (byte)'<')
            {
                return Encoding.BigEndianUnicode.GetString(data.ToArray());
            }

            return Encoding.UTF8.GetString(data.ToArray());
        }

        private static XmlElement? Child(XmlElement? parent, string name)
        {
            if (parent is null)
            {
                return null;
            }

            foreach (XmlNode n in parent.ChildNodes)
            {
                if (n is XmlElement e && e.LocalName == name)
                {
                    return e;
                }
            }

            return null;
        }

        private static IEnumerable<XmlElement> Children(XmlElement? parent)
        {
            if (parent is null)
            {
                yield break;
            }

            foreach (XmlNode n in parent.ChildNodes)
            {
                if (n is XmlElement e)
                {
                    yield return e;
                }
            }
        }

        private static string? ChildText(XmlElement? parent, string name) => Child(parent, name)?.InnerText.Trim();
    }
}
