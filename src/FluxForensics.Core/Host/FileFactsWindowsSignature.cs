using System;
using System.IO;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;
using FluxForensics.Model;

namespace FluxForensics.Host
{
    /// <summary>
    /// Windows only: WinVerifyTrust on the file's embedded signature and, when there is none, on the system catalog that
    /// lists the file's hash (how most files of Windows itself are signed). No revocation checks, no UI, no network.
    /// </summary>
    internal static unsafe class WindowsSignature
    {
        private static readonly Guid GenericVerifyV2 = new Guid("00AAC56B-CD44-11d0-8CC2-00C04FC295EE");

        private const uint WTD_UI_NONE = 2;
        private const uint WTD_REVOKE_NONE = 0;
        private const uint WTD_CHOICE_FILE = 1;
        private const uint WTD_CHOICE_CATALOG = 2;
        private const uint WTD_STATEACTION_VERIFY = 1;
        private const uint WTD_STATEACTION_CLOSE = 2;
        private const uint WTD_REVOCATION_CHECK_NONE = 0x10;
        private const uint WTD_CACHE_ONLY_URL_RETRIEVAL = 0x1000;

        private const int TRUST_E_NOSIGNATURE = unchecked((int)0x800B0100);
        private const int TRUST_E_SUBJECT_FORM_UNKNOWN = unchecked((int)0x800B0003);
        private const int TRUST_E_PROVIDER_UNKNOWN = unchecked((int)0x800B0001);
        private const int CRYPT_E_FILE_ERROR = unchecked((int)0x80092003);

        [StructLayout(LayoutKind.Sequential)]
        private struct WINTRUST_FILE_INFO
        {
            public uint cbStruct;
            public char* pcwszFilePath;
            public IntPtr hFile;
            public Guid* pgKnownSubject;
        }

        [StructLayout(LayoutKind.Sequential)]
        private struct WINTRUST_CATALOG_INFO
        {
            public uint cbStruct;
            public uint dwCatalogVersion;
            public char* pcwszCatalogFilePath;
            public char* pcwszMemberTag;
            public char* pcwszMemberFilePath;
            public IntPtr hMemberFile;
            public byte* pbCalculatedFileHash;
            public uint cbCalculatedFileHash;
            public IntPtr pcCatalogContext;
            public IntPtr hCatAdmin;
        }

        [StructLayout(LayoutKind.Sequential)]
        private struct WINTRUST_DATA
        {
            public uint cbStruct;
            public IntPtr pPolicyCallbackData;
            public IntPtr pSIPClientData;
            public uint dwUIChoice;
            public uint fdwRevocationChecks;
            public uint dwUnionChoice;
            public void* pInfo;
            public uint dwStateAction;
            public IntPtr hWVTStateData;
            public IntPtr pwszURLReference;
            public uint dwProvFlags;
            public uint dwUIContext;
            public IntPtr pSignatureSettings;
        }

        [StructLayout(LayoutKind.Sequential)]
        private struct CATALOG_INFO
        {
            public uint cbStruct;
            public fixed char wszCatalogFile[260];
        }

        [DllImport("wintrust.dll", ExactSpelling = true)]
        private static extern int WinVerifyTrust(IntPtr hwnd, Guid* pgActionID, WINTRUST_DATA* pWVTData);

        [DllImport("wintrust.dll", ExactSpelling = true, SetLastError = true)]
        private static extern bool CryptCATAdminAcquireContext2(out IntPtr phCatAdmin, Guid* pgSubsystem, [MarshalAs(UnmanagedType.LPWStr)] string? pwszHashAlgorithm, IntPtr pStrongHashPolicy, uint dwFlags);

        [DllImport("wintrust.dll", ExactSpelling = true, SetLastError = true)]
        private static extern bool CryptCATAdminAcquireContext(out IntPtr phCatAdmin, Guid* pgSubsystem, uint dwFlags);

        [DllImport("wintrust.dll", ExactSpelling = true, SetLastError = true)]
        private static extern bool CryptCATAdminCalcHashFromFileHandle2(IntPtr hCatAdmin, SafeFileHandle hFile, ref uint pcbHash, byte* pbHash, uint dwFlags);

        [DllImport("wintrust.dll", ExactSpelling = true, SetLastError = true)]
        private static extern bool CryptCATAdminCalcHashFromFileHandle(SafeFileHandle hFile, ref uint pcbHash, byte* pbHash, uint dwFlags);

        [DllImport("wintrust.dll", ExactSpelling = true, SetLastError = true)]
        private static extern IntPtr CryptCATAdminEnumCatalogFromHash(IntPtr hCatAdmin, byte* pbHash, uint cbHash, uint dwFlags, IntPtr* phPrevCatInfo);

        [DllImport("wintrust.dll", ExactSpelling = true, SetLastError = true)]
        private static extern bool CryptCATCatalogInfoFromContext(IntPtr hCatInfo, CATALOG_INFO* psCatInfo, uint dwFlags);

        [DllImport("wintrust.dll", ExactSpelling = true)]
        private static extern bool CryptCATAdminReleaseCatalogContext(IntPtr hCatAdmin, IntPtr hCatInfo, uint dwFlags);

        [DllImport("wintrust.dll", ExactSpelling = true)]
        private static extern bool CryptCATAdminReleaseContext(IntPtr hCatAdmin, uint dwFlags);

        /// <summary>False (with the reason in <paramref name="detail"/>) when WinVerifyTrust itself could not be called.</summary>
        public static bool TryVerify(string path, out string status, out string detail)
        {
            try
            {
                int embedded = VerifyEmbedded(path);
                if (embedded == 0)
                {
                    status = SignatureStatuses.Signed;
                    detail = "WinVerifyTrust accepted the embedded Authenticode signature (revocation not checked)";
                    return true;
                }

                if (embedded != TRUST_E_NOSIGNATURE && embedded != TRUST_E_SUBJECT_FORM_UNKNOWN && embedded != TRUST_E_PROVIDER_UNKNOWN)
                {
                    status = SignatureStatuses.Invalid;
                    detail = $"WinVerifyTrust rejected the signature: 0x{embedded:X8}";
                    return true;
                }

                string? catalog = FindCatalog(path, out int catalogResult);
                if (catalog is not null)
                {
                    if (catalogResult == 0)
                    {
                        status = SignatureStatuses.CatalogSigned;
                        detail = $"signed through catalog '{catalog}' (WinVerifyTrust, revocation not checked)";
                    }
                    else
                    {
                        status = SignatureStatuses.Invalid;
                        detail = $"catalog '{catalog}' lists the file but WinVerifyTrust rejected it: 0x{catalogResult:X8}";
                    }

                    return true;
                }

                status = SignatureStatuses.Unsigned;
                detail = "no embedded signature and no system catalog lists the file's hash (WinVerifyTrust)";
                return true;
            }
            catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException or IOException or UnauthorizedAccessException)
            {
                status = SignatureStatuses.NotChecked;
                detail = e.Message;
                return false;
            }
        }

        private static int VerifyEmbedded(string path)
        {
            fixed (char* p = path)
            {
                var file = new WINTRUST_FILE_INFO { cbStruct = (uint)sizeof(WINTRUST_FILE_INFO), pcwszFilePath = p };
                var data = new WINTRUST_DATA
                {
                    cbStruct = (uint)sizeof(WINTRUST_DATA),
                    dwUIChoice = WTD_UI_NONE,
                    fdwRevocationChecks = WTD_REVOKE_NONE,
                    dwUnionChoice = WTD_CHOICE_FILE,
                    pInfo = &file,
                    dwStateAction = WTD_STATEACTION_VERIFY,
                    dwProvFlags = WTD_REVOCATION_CHECK_NONE | WTD_CACHE_ONLY_URL_RETRIEVAL,
                };
                return VerifyAndClose(&data);
            }
        }

        private static int VerifyAndClose(WINTRUST_DATA* data)
        {
            Guid action = GenericVerifyV2;
            int result = WinVerifyTrust(new IntPtr(-1), &action, data);
            data->dwStateAction = WTD_STATEACTION_CLOSE;
            WinVerifyTrust(new IntPtr(-1), &action, data);
            return result;
        }

        private static string? FindCatalog(string path, out int result)
        {
            result = CRYPT_E_FILE_ERROR;
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            SafeFileHandle handle = stream.SafeFileHandle;
            IntPtr admin;
            bool sha256 = true;
            if (!CryptCATAdminAcquireContext2(out admin, null, "SHA256", IntPtr.Zero, 0))
            {
                sha256 = false;
                if (!CryptCATAdminAcquireContext(out admin, null, 0))
                {
                    return null;
                }
            }

            try
            {
                byte* hash = stackalloc byte[64];
                uint size = 64;
                bool hashed = sha256
                    ? CryptCATAdminCalcHashFromFileHandle2(admin, handle, ref size, hash, 0)
                    : CryptCATAdminCalcHashFromFileHandle(handle, ref size, hash, 0);
                if (!hashed || size == 0 || size > 64)
                {
                    return null;
                }

                IntPtr catInfo = CryptCATAdminEnumCatalogFromHash(admin, hash, size, 0, null);
                if (catInfo == IntPtr.Zero)
                {
                    return null;
                }

                try
                {
                    var info = new CATALOG_INFO { cbStruct = (uint)sizeof(CATALOG_INFO) };
                    if (!CryptCATCatalogInfoFromContext(catInfo, &info, 0))
                    {
                        return null;
                    }

                    string catalogFile = new string(info.wszCatalogFile);
                    var tagBytes = new byte[size];
                    Marshal.Copy((IntPtr)hash, tagBytes, 0, (int)size);
                    string tag = FluxForensics.Hex.Upper(tagBytes);
                    fixed (char* member = path)
                    fixed (char* cat = catalogFile)
                    fixed (char* tagChars = tag)
                    {
                        var catalog = new WINTRUST_CATALOG_INFO
                        {
                            cbStruct = (uint)sizeof(WINTRUST_CATALOG_INFO),
                            pcwszCatalogFilePath = cat,
                            pcwszMemberTag = tagChars,
                            pcwszMemberFilePath = member,
                            hMemberFile = handle.DangerousGetHandle(),
                            pbCalculatedFileHash = hash,
                            cbCalculatedFileHash = size,
                            hCatAdmin = admin,
                        };
                        var data = new WINTRUST_DATA
                        {
                            cbStruct = (uint)sizeof(WINTRUST_DATA),
                            dwUIChoice = WTD_UI_NONE,
                            fdwRevocationChecks = WTD_REVOKE_NONE,
                            dwUnionChoice = WTD_CHOICE_CATALOG,
                            pInfo = &catalog,
                            dwStateAction = WTD_STATEACTION_VERIFY,
                            dwProvFlags = WTD_REVOCATION_CHECK_NONE | WTD_CACHE_ONLY_URL_RETRIEVAL,
                        };
                        result = VerifyAndClose(&data);
                    }

                    return catalogFile;
                }
                finally
                {
                    CryptCATAdminReleaseCatalogContext(admin, catInfo, 0);
                }
            }
            finally
            {
                CryptCATAdminReleaseContext(admin, 0);
            }
        }
    }
}
