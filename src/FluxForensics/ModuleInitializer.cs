using System;
using System.IO;
using System.Management.Automation;
using System.Reflection;

namespace FluxForensics.Commands
{
    /// <summary>
    /// Windows PowerShell 5.1 applies no binding redirects, so the System.Memory family (and the module's other
    /// dependencies) are resolved from the module's own folder. PowerShell 7 loads them normally, except that
    /// SharpPcap's net8.0 build references System.Text.Encoding.CodePages 9.0.0.0 while .NET 8 (PowerShell 7.4) has
    /// 8.0.0.0 built in: a framework assembly asked for in a newer version than the runtime's is answered with the
    /// runtime's own, since a second copy cannot load beside it (the module ships none; the build checks that).
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

#if NET
            if (IsFrameworkAssembly(name.Name))
            {
                // A versionless load binds the runtime's copy; reached only when the versioned request failed.
                return Assembly.Load(new AssemblyName(name.Name));
            }
#endif

            string candidate = Path.Combine(ModuleFolder, name.Name + ".dll");
            if (!File.Exists(candidate))
            {
                return null;
            }

            // A newer file version than the one asked for is fine: these libraries keep their surface compatible.
            var found = AssemblyName.GetAssemblyName(candidate);
            return name.Version is null || found.Version >= name.Version ? Assembly.LoadFrom(candidate) : null;
        }

#if NET
        private static bool IsFrameworkAssembly(string simpleName)
        {
            // The runtime's trusted platform assemblies: the shared framework and the host's own (pwsh) assemblies.
            if (AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES") is not string tpa)
            {
                return false;
            }

            foreach (string path in tpa.Split(Path.PathSeparator))
            {
                if (string.Equals(Path.GetFileNameWithoutExtension(path), simpleName, StringComparison.OrdinalIgnoreCase))
                {
                    return true;
                }
            }

            return false;
        }
#endif
    }
}
