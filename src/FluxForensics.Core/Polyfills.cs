// Language features the C# compiler needs on net472 but that the framework does not define.
#if NET472
namespace System.Runtime.CompilerServices
{
    internal static class IsExternalInit { }

    [AttributeUsage(AttributeTargets.Module | AttributeTargets.Class | AttributeTargets.Struct | AttributeTargets.Constructor | AttributeTargets.Method | AttributeTargets.Property | AttributeTargets.Event, Inherited = false)]
    internal sealed class SkipLocalsInitAttribute : Attribute { }
}

namespace System.Diagnostics.CodeAnalysis
{
    [AttributeUsage(AttributeTargets.Parameter)]
    internal sealed class NotNullWhenAttribute : Attribute
    {
        public NotNullWhenAttribute(bool returnValue) => ReturnValue = returnValue;
        public bool ReturnValue { get; }
    }

    [AttributeUsage(AttributeTargets.Parameter | AttributeTargets.Property | AttributeTargets.Field | AttributeTargets.ReturnValue)]
    internal sealed class MaybeNullAttribute : Attribute { }

    [AttributeUsage(AttributeTargets.Method)]
    internal sealed class DoesNotReturnAttribute : Attribute { }
}
#endif

namespace FluxForensics
{
    /// <summary>How the per-packet code asks the JIT for its final code at once.</summary>
    internal static class Jit
    {
        /// <summary>
        /// Compile fully optimised on first call: a capture is one long run of the same few methods, and tiered
        /// compilation would run them unoptimised while it waits to promote them. The .NET Framework has no such
        /// option and always optimises.
        /// </summary>
#if NET
        public const System.Runtime.CompilerServices.MethodImplOptions Hot = System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization;
#else
        public const System.Runtime.CompilerServices.MethodImplOptions Hot = 0;
#endif
    }
}
