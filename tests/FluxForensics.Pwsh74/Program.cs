using System.Linq;
using System;
using System.Management.Automation;
using System.Management.Automation.Runspaces;

// Runs the script file given as the first argument in a PowerShell 7.4 runspace on this process's .NET 8 runtime and
// prints its output; the exit code is 1 when the script wrote an error or threw.
var iss = InitialSessionState.CreateDefault2();
// The SDK package carries the built-in modules' assemblies but not their manifests: load them as binary modules.
string here = AppContext.BaseDirectory;
iss.ImportPSModule(new[] { "Management", "Utility", "Security" }
    .Select(m => System.IO.Path.Combine(here, $"Microsoft.PowerShell.Commands.{m}.dll"))
    .Where(System.IO.File.Exists)
    .Concat(new[] { System.IO.Path.Combine(here, "Microsoft.PowerShell.Security.dll") })
    .ToArray());
using var runspace = RunspaceFactory.CreateRunspace(iss);
runspace.Open();
using var ps = PowerShell.Create(runspace);
ps.AddScript(System.IO.File.ReadAllText(args[0]));
for (int i = 1; i < args.Length; i++)
{
    ps.AddArgument(args[i]);
}

int code = 0;
try
{
    foreach (var item in ps.Invoke())
    {
        Console.WriteLine(item?.ToString());
    }
}
catch (RuntimeException e)
{
    Console.Error.WriteLine("THROWN: " + e.ErrorRecord);
    code = 1;
}

foreach (var error in ps.Streams.Error)
{
    Console.Error.WriteLine("ERROR: " + error + " (" + error.FullyQualifiedErrorId + ")");
    code = 1;
}

return code;
