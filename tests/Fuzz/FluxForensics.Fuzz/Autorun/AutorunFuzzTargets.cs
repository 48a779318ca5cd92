using System.Collections.Generic;
using System.IO;
using System.Linq;
using FluxForensics.Formats;
using FluxForensics.Host;

namespace FluxForensics.Fuzz.Autorun
{
    /// <summary>The regf reader: parse, walk every key and read every value.</summary>
    public sealed class RegistryHiveTarget : IFuzzTarget
    {
        public string Name => "regf";

        public IEnumerable<string> SeedFiles(FuzzPaths paths) =>
            paths.CorpusFiles("*Hive", "NTUSER*.DAT", "corrupted_system_hive").Where(f => !f.Contains(".LOG"));

        public void Run(byte[] input)
        {
            RegistryHive hive = RegistryHive.Parse(input, "fuzz");
            if (hive.Root is null)
            {
                return;
            }

            foreach (RegistryKey key in hive.Root.Descendants())
            {
                _ = key.ClassName;
                _ = key.SecurityDescriptor;
                foreach (RegistryValue value in key.Values())
                {
                    _ = value.Text;
                    _ = value.MultiString;
                }
            }
        }
    }

    /// <summary>Task XML, whatever encoding the bytes are in.</summary>
    public sealed class TaskXmlTarget : IFuzzTarget
    {
        public string Name => "taskxml";

        public IEnumerable<string> SeedFiles(FuzzPaths paths) =>
            Directory.Exists(Path.Combine(paths.Corpus, "artifacts", "puffyCid__artemis"))
                ? Directory.EnumerateFiles(Path.Combine(paths.Corpus, "artifacts", "puffyCid__artemis"), "*", SearchOption.AllDirectories).Where(f => f.Contains("/tasks/"))
                : Enumerable.Empty<string>();

        public void Run(byte[] input)
        {
            TaskDefinition task = TaskXml.Parse(input, "fuzz");
            foreach (TaskExecAction action in task.ExecActions)
            {
                _ = CommandLine.ParseWindows(action.CommandLine);
            }
        }
    }

    /// <summary>Command lines as stored in Run values and unit files.</summary>
    public sealed class CommandLineTarget : IFuzzTarget, IGeneratedSeeds
    {
        public string Name => "cmdline";

        public IEnumerable<string> SeedFiles(FuzzPaths paths) => Enumerable.Empty<string>();

        /// <summary>
        /// Command lines of the shapes the autorun and USB code meet (afl-fuzz refuses an empty seed set, which is all a
        /// target without files would otherwise give it).
        /// </summary>
        public IEnumerable<byte[]> GeneratedSeeds(FuzzPaths paths) => new[]
        {
            @"""C:\Users\victim\AppData\Roaming\mobile7.exe""",
            @"C:\WINDOWS\system32\cmd.exe /c ""start %cd%\click.exe && %windir%\explorer %cd%\sources""",
            @"rundll32.exe ""C:\Program Files\x\a b.dll"",EntryPoint /q",
            @"%SystemRoot%\system32\svchost.exe -k netsvcs -p",
            @"C:\Program Files\Vendor App\app.exe --minimized ""quoted arg"" \""escaped\"" %A%",
            @"powershell.exe -NoP -W Hidden -Enc SQBFAFgA",
            "/usr/bin/env bash -c 'nohup /tmp/.x/mobile7 >/dev/null 2>&1 &'",
            "ExecStart=/opt/app/bin/run \"a b\" 'c d' e\\ f",
        }.Select(System.Text.Encoding.UTF8.GetBytes);

        public void Run(byte[] input)
        {
            string text = System.Text.Encoding.UTF8.GetString(input);
            _ = CommandLine.ParseWindows(text, new Dictionary<string, string> { ["A"] = "%A%%A%" }, p => p.Length % 3 == 0);
            _ = CommandLine.ParsePosix(text);
        }
    }
}
