using System;
using System.IO;
using System.Management.Automation;
using System.Reflection;

namespace FluxForensics.Commands
{
    /// <summary>
    /// Windows PowerShell 5.1 applies no binding redirects, so the System.Memory family (and the module's other
    /// dependencies) are resolved from the module's own folder. PowerShell 7 loads them normally.
    /// </summary>
    public sealed class ModuleInitializer : IModuleAssemblyInitializer, IModuleAssemblyCleanup
    {
        private static readonly string ModuleFolder = Path.GetDirectoryName(typeof(ModuleInitializer).Assembly.Location) ?? string.Empty;

        public void OnImport()
        {
            AppDomain.CurrentDomain.AssemblyResolve += ResolveFromModuleFolder;
        }

        public void OnRemove(PSModuleInfo module)
        {
            AppDomain.CurrentDomain.AssemblyResolve -= ResolveFromModuleFolder;
        }

        private static Assembly? ResolveFromModuleFolder(object? sender, ResolveEventArgs args)
        {
            var name = new AssemblyName(args.Name);
            if (name.Name is null)
            {
                return null;
            }

            string candidate = Path.Combine(ModuleFolder, name.Name + ".dll");
            if (!File.Exists(candidate))
            {
                return null;
            }

            // A newer file version than the one asked for is fine: these libraries keep their surface compatible.
            var found = AssemblyName.GetAssemblyName(candidate);
            return name.Version is null || found.Version >= name.Version ? Assembly.LoadFrom(candidate) : null;
        }
    }
}
