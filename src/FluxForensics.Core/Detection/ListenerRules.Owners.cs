using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Net;
using System.Net.Sockets;
using FluxForensics.Model;

namespace FluxForensics.Detection
{
    /// <summary>Who the owner is: a known server for its port, a trusted server, an expected listener.</summary>
    public static partial class ListenerRules
    {
        /// <summary>A built-in server for the port, trusted only when its image is not hidden, not deleted and not in a
        /// user-writable place (malware names itself nginx too).</summary>
        private static string? KnownServerFor(SocketEntry socket, SocketOwner? owner)
        {
            var service = ListenerServices.For(socket.Protocol, socket.LocalPort);
            if (owner is null || !IsSuspiciousPort(socket.Protocol, socket.LocalPort))
            {
                return null;
            }

            var p = owner.Process;
            if (p.ProcessId == 4 && string.Equals(p.Name, "System", StringComparison.Ordinal))
            {
                // The Windows kernel serves HTTP.sys's ports and SMB, NetBIOS and WinRM itself.
                return service is null || service.Name is "HTTP" or "HTTPS" ? "System (HTTP.sys)" : $"System ({service.Name})";
            }

            if (service is null || TrustedServer(owner) is null)
            {
                return null;
            }

            if (p.Name is not null && service.Programs.Any(n => string.Equals(n, p.Name, StringComparison.OrdinalIgnoreCase)))
            {
                return $"{p.Name} in {System.IO.Path.GetDirectoryName(p.ImagePath ?? string.Empty)}";
            }

            var windows = p.ServiceNames.FirstOrDefault(s => service.WindowsServices.Contains(s, StringComparer.OrdinalIgnoreCase));
            return windows is null ? null : $"service {windows}";
        }

        /// <summary>The process's name when its image can be trusted to be what the name says; null otherwise.</summary>
        private static string? TrustedServer(SocketOwner owner)
        {
            var image = owner.Image;
            var p = owner.Process;
            return image is null || image.IsHidden || image.IsUserWritableLocation || p.ImageDeleted ? null : p.Name;
        }

        private static string? MatchExpected(SocketOwner? owner, ListenerRuleOptions options)
        {
            if (owner is null || options.ExpectedListeners.Count == 0)
            {
                return null;
            }

            var p = owner.Process;
            foreach (var pattern in options.ExpectedListeners)
            {
                if (string.IsNullOrWhiteSpace(pattern))
                {
                    continue;
                }

                bool isPath = pattern.IndexOf('/') >= 0 || pattern.IndexOf('\\') >= 0;
                if (isPath)
                {
                    if (p.ImagePath is not null && Glob(pattern, p.ImagePath, options.WindowsPaths))
                    {
                        return pattern;
                    }

                    if (owner.HostedProgram is not null && Glob(pattern, owner.HostedProgram.Path, options.WindowsPaths))
                    {
                        return pattern;
                    }

                    continue;
                }

                if (p.Name is not null && (Glob(pattern, p.Name, true) || Glob(pattern + ".exe", p.Name, true)))
                {
                    return pattern;
                }

                if (p.ServiceNames.Any(s => Glob(pattern, s, true)))
                {
                    return pattern;
                }
            }

            return null;
        }

        /// <summary>* and ? wildcards, whole string.</summary>
        internal static bool Glob(string pattern, string text, bool ignoreCase)
        {
            int p = 0, t = 0, star = -1, mark = 0;
            while (t < text.Length)
            {
                if (p < pattern.Length && (pattern[p] == '?' || CharEquals(pattern[p], text[t], ignoreCase)))
                {
                    p++;
                    t++;
                }
                else if (p < pattern.Length && pattern[p] == '*')
                {
                    star = p++;
                    mark = t;
                }
                else if (star >= 0)
                {
                    p = star + 1;
                    t = ++mark;
                }
                else
                {
                    return false;
                }
            }

            while (p < pattern.Length && pattern[p] == '*')
            {
                p++;
            }

            return p == pattern.Length;
        }

        private static bool CharEquals(char a, char b, bool ignoreCase) =>
            a == b || (ignoreCase && char.ToUpperInvariant(a) == char.ToUpperInvariant(b));
    }
}
