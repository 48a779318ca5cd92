using System;
using System.ComponentModel;
using System.IO;
using System.Runtime.InteropServices;
using FluxForensics.Export;
using FluxForensics.Model;

namespace FluxForensics.Sweep
{
    /// <summary>
    /// Findings as entries in the Windows Application log, source FluxForensics, one event ID per severity
    /// (Info 1000, Low 1001, Medium 1002, High 1003, Critical 1004); the message is the summary and its reasons.
    /// Writing needs no privilege once the source exists; registering the source writes under
    /// HKLM\SYSTEM\CurrentControlSet\Services\EventLog and so needs an administrator (Register-FluxSweep does it).
    /// </summary>
#pragma warning disable CA1416 // Every entry point checks IsSupported first: the registry and advapi32 exist only on Windows.
    public sealed class WindowsEventLog : IDisposable
    {
        public const string SourceName = "FluxForensics";
        public const string LogName = "Application";
        public const int FirstEventId = 1000;

        private const string SourcesKey = @"SYSTEM\CurrentControlSet\Services\EventLog\" + LogName;
        private const ushort EventLogErrorType = 0x0001;
        private const ushort EventLogWarningType = 0x0002;
        private const ushort EventLogInformationType = 0x0004;

        private IntPtr _handle;

        private WindowsEventLog(IntPtr handle)
        {
            _handle = handle;
        }

        public static bool IsSupported => Environment.OSVersion.Platform == PlatformID.Win32NT;

        public static int EventIdOf(Severity severity) => FirstEventId + (int)severity;

        /// <summary>Error for High and Critical, Warning for Medium, Information below.</summary>
        public static ushort EntryTypeOf(Severity severity) => severity switch
        {
            Severity.Critical or Severity.High => EventLogErrorType,
            Severity.Medium => EventLogWarningType,
            _ => EventLogInformationType,
        };

        public static bool SourceExists()
        {
            RequireWindows();
            using var key = Microsoft.Win32.Registry.LocalMachine.OpenSubKey(SourcesKey + @"\" + SourceName);
            return key is not null;
        }

        /// <summary>
        /// Registers the source in the Application log (administrator only). The message file is .NET Framework's
        /// EventLogMessages.dll, whose every message is "%1", as EventLog.CreateEventSource sets it up.
        /// </summary>
        /// <exception cref="UnauthorizedAccessException">Not an administrator.</exception>
        public static void RegisterSource()
        {
            RequireWindows();
            using var key = Microsoft.Win32.Registry.LocalMachine.CreateSubKey(SourcesKey + @"\" + SourceName)
                ?? throw new UnauthorizedAccessException($@"Could not create HKLM\{SourcesKey}\{SourceName}.");
            string? messages = MessageFile();
            if (messages is not null)
            {
                key.SetValue("EventMessageFile", messages, Microsoft.Win32.RegistryValueKind.ExpandString);
            }

            key.SetValue("TypesSupported", 7, Microsoft.Win32.RegistryValueKind.DWord);
        }

        public static void UnregisterSource()
        {
            RequireWindows();
            Microsoft.Win32.Registry.LocalMachine.DeleteSubKeyTree(SourcesKey + @"\" + SourceName, throwOnMissingSubKey: false);
        }

        /// <summary>Opens the source for writing; registers it first when it is missing (which needs an administrator).</summary>
        public static WindowsEventLog Open()
        {
            RequireWindows();
            bool exists;
            try
            {
                exists = SourceExists();
            }
            catch (System.Security.SecurityException)
            {
                // Reading the Security log's key is refused to users, and SourceExists may touch it: assume not there.
                exists = false;
            }

            if (!exists)
            {
                try
                {
                    RegisterSource();
                }
                catch (Exception e) when (e is UnauthorizedAccessException or System.Security.SecurityException)
                {
                    throw new UnauthorizedAccessException(
                        $"The event log source '{SourceName}' is not registered, and registering it needs an administrator.", e);
                }
            }

            IntPtr handle = RegisterEventSourceW(null, SourceName);
            if (handle == IntPtr.Zero)
            {
                throw new Win32Exception(Marshal.GetLastWin32Error(), $"RegisterEventSource({SourceName}) failed");
            }

            return new WindowsEventLog(handle);
        }

        public int Written { get; private set; }

        public void Write(FindingRecord record)
        {
            string message = FindingSummary.WithReasons(record, "\r\n");

            // One insertion string can hold 31,839 characters; the entry as a whole is capped near 32 KiB.
            if (message.Length > 31000)
            {
                message = message.Substring(0, 31000) + "…";
            }

            if (!ReportEventW(_handle, EntryTypeOf(record.Severity), 0, (uint)EventIdOf(record.Severity), IntPtr.Zero, 1, 0, new[] { message }, IntPtr.Zero))
            {
                throw new Win32Exception(Marshal.GetLastWin32Error(), "ReportEvent failed");
            }

            Written++;
        }

        public void Dispose()
        {
            if (_handle != IntPtr.Zero)
            {
                DeregisterEventSource(_handle);
                _handle = IntPtr.Zero;
            }
        }

        private static string? MessageFile()
        {
            string windows = Environment.GetFolderPath(Environment.SpecialFolder.Windows);
            foreach (string framework in new[] { "Framework64", "Framework" })
            {
                string path = Path.Combine(windows, "Microsoft.NET", framework, "v4.0.30319", "EventLogMessages.dll");
                if (File.Exists(path))
                {
                    return path;
                }
            }

            return null;
        }

        private static void RequireWindows()
        {
            if (!IsSupported)
            {
                throw new PlatformNotSupportedException("The Windows event log exists only on Windows. Use -Syslog or -SyslogServer here.");
            }
        }

        [DllImport("advapi32.dll", SetLastError = true, CharSet = CharSet.Unicode)]
        private static extern IntPtr RegisterEventSourceW(string? uncServerName, string sourceName);

        [DllImport("advapi32.dll", SetLastError = true)]
        [return: MarshalAs(UnmanagedType.Bool)]
        private static extern bool DeregisterEventSource(IntPtr eventLog);

        [DllImport("advapi32.dll", SetLastError = true, CharSet = CharSet.Unicode)]
        [return: MarshalAs(UnmanagedType.Bool)]
        private static extern bool ReportEventW(IntPtr eventLog, ushort type, ushort category, uint eventId, IntPtr userSid,
            ushort numStrings, uint dataSize, string[] strings, IntPtr rawData);
    }
#pragma warning restore CA1416
}
