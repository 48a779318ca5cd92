using System;
using System.Collections.Generic;
using System.IO;
using System.Runtime.InteropServices;
using System.Text;
using FluxForensics.Model;

namespace FluxForensics.Host
{
    /// <summary>
    /// Windows: process facts through Win32 (Toolhelp snapshot for names and parents, QueryFullProcessImageName,
    /// GetProcessTimes, the token's user, NtQueryInformationProcess(ProcessCommandLineInformation)) and the services each
    /// process hosts (EnumServicesStatusEx). PROCESS_QUERY_LIMITED_INFORMATION is all it asks for, so an unelevated run
    /// still sees its own processes; what it cannot open is named in ReadErrors.
    /// </summary>
    public sealed unsafe class WindowsProcessReader : IProcessReader
    {
        private const uint PROCESS_QUERY_LIMITED_INFORMATION = 0x1000;
        private const uint TH32CS_SNAPPROCESS = 0x2;
        private const uint TOKEN_QUERY = 0x8;
        private const int TokenUser = 1;
        private const int ProcessCommandLineInformation = 60;
        private const int ERROR_ACCESS_DENIED = 5;
        private const int ERROR_INVALID_PARAMETER = 87;
        private const uint STILL_ACTIVE = 259;
        private const uint PROCESS_QUERY_INFORMATION = 0x0400;
        private const uint PROCESS_VM_READ = 0x0010;
        private const int ProcessBasicInformation = 0;

        // Read once per reader; Read is called from several threads.
        private readonly Lazy<Dictionary<int, (string Name, int Parent)>> _snapshot = new Lazy<Dictionary<int, (string Name, int Parent)>>(Snapshot);
        private readonly Lazy<Dictionary<int, List<string>>> _services = new Lazy<Dictionary<int, List<string>>>(WindowsServices.ByProcess);

        /// <summary>The PIDs of this reader's process snapshot.</summary>
        public IReadOnlyList<int> ProcessIds() => new List<int>(_snapshot.Value.Keys);

        public ProcessFacts Read(int processId)
        {
            var facts = new ProcessFacts(processId);
            if (_snapshot.Value.TryGetValue(processId, out var entry))
            {
                facts.Name = entry.Name;
                facts.ParentProcessId = entry.Parent;
            }

            if (_services.Value.TryGetValue(processId, out var services))
            {
                facts.ServiceNames = services;
            }

            if (processId == 0 || processId == 4)
            {
                facts.Name ??= processId == 0 ? "System Idle Process" : "System";
                facts.ReadErrors.Add("image path: the kernel has no image file (HTTP.sys and SMB listen as System)");
                return facts;
            }

            IntPtr process = OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, false, (uint)processId);
            if (process == IntPtr.Zero)
            {
                int error = Marshal.GetLastWin32Error();
                if (error == ERROR_INVALID_PARAMETER)
                {
                    facts.Exited = true;
                    facts.ReadErrors.Add("the process exited during the scan");
                }
                else
                {
                    facts.ReadErrors.Add(error == ERROR_ACCESS_DENIED ? "process: access denied (run elevated for the full picture)" : $"process: OpenProcess error {error}");
                }

                return facts;
            }

            try
            {
                // A process object outlives the process while anyone holds a handle to it: ask whether it still runs.
                // An exited process is reported like one that could not be opened (name and parent from the snapshot).
                if (GetExitCodeProcess(process, out uint exitCode) && exitCode != STILL_ACTIVE)
                {
                    facts.Exited = true;
                    facts.ReadErrors.Add("the process exited during the scan");
                    return facts;
                }

                ReadImage(process, facts);
                ReadTimes(process, facts);
                ReadUser(process, facts);
                ReadCommandLine(process, facts);
            }
            finally
            {
                CloseHandle(process);
            }

            return facts;
        }

        private static void ReadImage(IntPtr process, ProcessFacts facts)
        {
            var buffer = new char[32768];
            uint size = (uint)buffer.Length;
            fixed (char* b = buffer)
            {
                if (QueryFullProcessImageNameW(process, 0, b, ref size))
                {
                    facts.ImagePath = new string(b, 0, (int)size);
                    facts.Name = Path.GetFileName(facts.ImagePath);
                    // A running image cannot be deleted on Windows, but it can be renamed or moved away.
                    facts.ImageDeleted = !File.Exists(facts.ImagePath);
                    return;
                }
            }

            facts.ReadErrors.Add($"image path: error {Marshal.GetLastWin32Error()}");
        }

        private static void ReadTimes(IntPtr process, ProcessFacts facts)
        {
            if (GetProcessTimes(process, out long creation, out _, out _, out _) && creation > 0)
            {
                facts.StartTimeUtc = DateTime.FromFileTimeUtc(creation);
            }
        }

        private static void ReadUser(IntPtr process, ProcessFacts facts)
        {
            if (!OpenProcessToken(process, TOKEN_QUERY, out IntPtr token))
            {
                facts.ReadErrors.Add($"user: token not readable (error {Marshal.GetLastWin32Error()})");
                return;
            }

            try
            {
                GetTokenInformation(token, TokenUser, null, 0, out uint needed);
                if (needed == 0 || needed > 4096)
                {
                    return;
                }

                byte* info = stackalloc byte[(int)needed];
                if (!GetTokenInformation(token, TokenUser, info, needed, out _))
                {
                    return;
                }

                IntPtr sid = *(IntPtr*)info; // TOKEN_USER { SID_AND_ATTRIBUTES { PSID Sid; DWORD Attributes; } }
                var name = new StringBuilder(256);
                var domain = new StringBuilder(256);
                uint nameLength = 256, domainLength = 256;
                if (LookupAccountSidW(null, sid, name, ref nameLength, domain, ref domainLength, out _))
                {
                    facts.User = domain.Length > 0 ? domain + "\\" + name : name.ToString();
                }
            }
            finally
            {
                CloseHandle(token);
            }
        }

        private static void ReadCommandLine(IntPtr process, ProcessFacts facts)
        {
            // Returns a UNICODE_STRING followed by its characters (Windows 8.1 and later).
            int size = 0;
            NtQueryInformationProcess(process, ProcessCommandLineInformation, null, 0, out size);
            if (size <= 0 || size > 1 << 20)
            {
                // Before Windows 8.1 (and under Wine) that class does not exist: read it from the process's PEB.
                string? fromPeb = ReadCommandLineFromPeb(facts.ProcessId);
                if (fromPeb is null)
                {
                    facts.ReadErrors.Add("command line: not readable");
                }

                facts.CommandLine = fromPeb;
                return;
            }

            var buffer = new byte[size];
            fixed (byte* b = buffer)
            {
                int status = NtQueryInformationProcess(process, ProcessCommandLineInformation, b, size, out _);
                if (status < 0)
                {
                    facts.ReadErrors.Add($"command line: NTSTATUS 0x{status:X8}");
                    return;
                }

                ushort length = *(ushort*)b;
                char* chars = *(char**)(b + IntPtr.Size);
                if (chars != null && length > 0 && (byte*)chars >= b && (byte*)chars + length <= b + size)
                {
                    facts.CommandLine = new string(chars, 0, length / 2);
                }
            }
        }

        /// <summary>
        /// PEB → RTL_USER_PROCESS_PARAMETERS → CommandLine through ReadProcessMemory (needs PROCESS_VM_READ). Offsets of
        /// the native layout of this process's bitness; a 64-bit target read from a 32-bit process gives null.
        /// </summary>
        private static string? ReadCommandLineFromPeb(int processId)
        {
            IntPtr process = OpenProcess(PROCESS_QUERY_INFORMATION | PROCESS_VM_READ, false, (uint)processId);
            if (process == IntPtr.Zero)
            {
                return null;
            }

            try
            {
                bool is64 = IntPtr.Size == 8;
                byte* basic = stackalloc byte[64];
                if (NtQueryInformationProcess(process, ProcessBasicInformation, basic, is64 ? 48 : 24, out _) < 0)
                {
                    return null;
                }

                IntPtr peb = *(IntPtr*)(basic + IntPtr.Size); // PROCESS_BASIC_INFORMATION.PebBaseAddress
                IntPtr parameters;
                if (peb == IntPtr.Zero || !ReadPointer(process, peb + (is64 ? 0x20 : 0x10), out parameters) || parameters == IntPtr.Zero)
                {
                    return null;
                }

                byte* unicode = stackalloc byte[16];
                if (!ReadProcessMemory(process, parameters + (is64 ? 0x70 : 0x40), unicode, (UIntPtr)(is64 ? 16 : 8), out _))
                {
                    return null;
                }

                ushort length = *(ushort*)unicode;
                IntPtr buffer = *(IntPtr*)(unicode + (is64 ? 8 : 4));
                if (length == 0 || buffer == IntPtr.Zero || length > 65534)
                {
                    return null;
                }

                var chars = new char[length / 2];
                fixed (char* c = chars)
                {
                    if (!ReadProcessMemory(process, buffer, (byte*)c, (UIntPtr)length, out _))
                    {
                        return null;
                    }
                }

                return new string(chars);
            }
            finally
            {
                CloseHandle(process);
            }
        }

        private static bool ReadPointer(IntPtr process, IntPtr address, out IntPtr value)
        {
            IntPtr v = IntPtr.Zero;
            bool ok = ReadProcessMemory(process, address, (byte*)&v, (UIntPtr)IntPtr.Size, out _);
            value = v;
            return ok;
        }

        private static Dictionary<int, (string Name, int Parent)> Snapshot()
        {
            var result = new Dictionary<int, (string Name, int Parent)>();
            IntPtr snap = CreateToolhelp32Snapshot(TH32CS_SNAPPROCESS, 0);
            if (snap == new IntPtr(-1))
            {
                return result;
            }

            try
            {
                var entry = new PROCESSENTRY32W { dwSize = (uint)sizeof(PROCESSENTRY32W) };
                for (bool ok = Process32FirstW(snap, &entry); ok; ok = Process32NextW(snap, &entry))
                {
                    result[(int)entry.th32ProcessID] = (new string(entry.szExeFile), (int)entry.th32ParentProcessID);
                }
            }
            finally
            {
                CloseHandle(snap);
            }

            return result;
        }

        [StructLayout(LayoutKind.Sequential, CharSet = CharSet.Unicode)]
        private struct PROCESSENTRY32W
        {
            public uint dwSize;
            public uint cntUsage;
            public uint th32ProcessID;
            public UIntPtr th32DefaultHeapID;
            public uint th32ModuleID;
            public uint cntThreads;
            public uint th32ParentProcessID;
            public int pcPriClassBase;
            public uint dwFlags;
            public fixed char szExeFile[260];
        }

        [DllImport("kernel32.dll", SetLastError = true)]
        private static extern IntPtr OpenProcess(uint access, bool inherit, uint processId);

        [DllImport("kernel32.dll", SetLastError = true)]
        private static extern bool CloseHandle(IntPtr handle);

        [DllImport("kernel32.dll", SetLastError = true)]
        private static extern bool QueryFullProcessImageNameW(IntPtr process, uint flags, char* name, ref uint size);

        [DllImport("kernel32.dll", SetLastError = true)]
        private static extern bool ReadProcessMemory(IntPtr process, IntPtr address, byte* buffer, UIntPtr size, out UIntPtr read);

        [DllImport("kernel32.dll", SetLastError = true)]
        private static extern bool GetExitCodeProcess(IntPtr process, out uint exitCode);

        [DllImport("kernel32.dll", SetLastError = true)]
        private static extern bool GetProcessTimes(IntPtr process, out long creation, out long exit, out long kernel, out long user);

        [DllImport("kernel32.dll", SetLastError = true)]
        private static extern IntPtr CreateToolhelp32Snapshot(uint flags, uint processId);

        [DllImport("kernel32.dll", SetLastError = true)]
        private static extern bool Process32FirstW(IntPtr snapshot, PROCESSENTRY32W* entry);

        [DllImport("kernel32.dll", SetLastError = true)]
        private static extern bool Process32NextW(IntPtr snapshot, PROCESSENTRY32W* entry);

        [DllImport("advapi32.dll", SetLastError = true)]
        private static extern bool OpenProcessToken(IntPtr process, uint access, out IntPtr token);

        [DllImport("advapi32.dll", SetLastError = true)]
        private static extern bool GetTokenInformation(IntPtr token, int infoClass, byte* info, uint length, out uint returned);

        [DllImport("advapi32.dll", SetLastError = true, CharSet = CharSet.Unicode)]
        private static extern bool LookupAccountSidW(string? system, IntPtr sid, StringBuilder name, ref uint nameLength, StringBuilder domain, ref uint domainLength, out int use);

        [DllImport("ntdll.dll")]
        private static extern int NtQueryInformationProcess(IntPtr process, int infoClass, byte* info, int length, out int returned);
    }

    /// <summary>Windows: which services run in which process (svchost hosts several), through EnumServicesStatusEx.</summary>
    internal static unsafe class WindowsServices
    {
        private const uint SC_MANAGER_ENUMERATE_SERVICE = 0x4;
        private const int SC_ENUM_PROCESS_INFO = 0;
        private const uint SERVICE_WIN32 = 0x30;
        private const uint SERVICE_ACTIVE = 0x1;
        private const int ERROR_MORE_DATA = 234;

        [StructLayout(LayoutKind.Sequential)]
        private struct ENUM_SERVICE_STATUS_PROCESSW
        {
            public char* lpServiceName;
            public char* lpDisplayName;
            public uint dwServiceType;
            public uint dwCurrentState;
            public uint dwControlsAccepted;
            public uint dwWin32ExitCode;
            public uint dwServiceSpecificExitCode;
            public uint dwCheckPoint;
            public uint dwWaitHint;
            public uint dwProcessId;
            public uint dwServiceFlags;
        }

        public static Dictionary<int, List<string>> ByProcess()
        {
            var result = new Dictionary<int, List<string>>();
            IntPtr manager = OpenSCManagerW(null, null, SC_MANAGER_ENUMERATE_SERVICE);
            if (manager == IntPtr.Zero)
            {
                return result;
            }

            try
            {
                uint resume = 0;
                var buffer = new byte[256 * 1024];
                while (true)
                {
                    bool ok;
                    uint needed, returned;
                    int error;
                    fixed (byte* b = buffer)
                    {
                        ok = EnumServicesStatusExW(manager, SC_ENUM_PROCESS_INFO, SERVICE_WIN32, SERVICE_ACTIVE, b, (uint)buffer.Length, out needed, out returned, ref resume, null);
                        error = ok ? 0 : Marshal.GetLastWin32Error();
                        var rows = (ENUM_SERVICE_STATUS_PROCESSW*)b;
                        for (uint i = 0; i < returned && (long)(i + 1) * sizeof(ENUM_SERVICE_STATUS_PROCESSW) <= buffer.Length; i++)
                        {
                            int pid = (int)rows[i].dwProcessId;
                            if (pid != 0 && rows[i].lpServiceName != null)
                            {
                                if (!result.TryGetValue(pid, out var list))
                                {
                                    result[pid] = list = new List<string>();
                                }

                                list.Add(new string(rows[i].lpServiceName));
                            }
                        }
                    }

                    if (ok || error != ERROR_MORE_DATA)
                    {
                        break;
                    }

                    if (needed > buffer.Length)
                    {
                        buffer = new byte[Math.Min(needed, 16u * 1024 * 1024)];
                    }
                }
            }
            finally
            {
                CloseServiceHandle(manager);
            }

            return result;
        }

        [DllImport("advapi32.dll", SetLastError = true, CharSet = CharSet.Unicode)]
        private static extern IntPtr OpenSCManagerW(string? machine, string? database, uint access);

        [DllImport("advapi32.dll", SetLastError = true)]
        private static extern bool CloseServiceHandle(IntPtr handle);

        [DllImport("advapi32.dll", SetLastError = true, CharSet = CharSet.Unicode)]
        private static extern bool EnumServicesStatusExW(IntPtr manager, int infoLevel, uint serviceType, uint serviceState, byte* services, uint bufferSize, out uint needed, out uint returned, ref uint resume, string? groupName);
    }
}
