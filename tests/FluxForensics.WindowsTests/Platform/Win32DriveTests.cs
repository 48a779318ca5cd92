using System;
using System.IO;
using System.Linq;
using FluxForensics.WindowsTests.Support;

namespace FluxForensics.WindowsTests.Platform
{
    /// <summary>Drive enumeration as the removable-drive reader sees it: GetLogicalDrives, GetDriveTypeW, DriveInfo.</summary>
    public sealed class Win32DriveTests
    {
        private const uint DRIVE_FIXED = 3;

        [Fact]
        public void SystemDriveIsAFixedDriveInTheLogicalDriveMask()
        {
            TestHost.RequireWindows();
            string systemRoot = Path.GetPathRoot(Environment.GetFolderPath(Environment.SpecialFolder.Windows))!;

            Assert.Contains(char.ToUpperInvariant(systemRoot[0]), Native.DriveLetters());
            Assert.Equal(DRIVE_FIXED, Native.GetDriveTypeW(systemRoot));
        }

        [Fact]
        public void DriveInfoAgreesWithGetDriveType()
        {
            TestHost.RequireWindows();
            var drives = DriveInfo.GetDrives();
            Assert.NotEmpty(drives);
            Assert.Equal(Native.DriveLetters(), string.Concat(drives.Select(d => char.ToUpperInvariant(d.Name[0]))));

            foreach (var drive in drives)
            {
                Assert.Equal((DriveType)Native.GetDriveTypeW(drive.Name), drive.DriveType);
            }
        }
    }
}
