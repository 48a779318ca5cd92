#Requires -Version 5.1
# Find-UsbLnkTrap through the built module: the incident's trap on a plain tree and on a real NTFS image mounted with
# ntfs-3g (Hidden+System set with setfattr), benign items that must stay quiet, and input that is broken on purpose.

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestSupport.psm1') -Force
    Import-Module (Get-FluxManifestPath) -Force
    $script:fixtures = Get-FluxFixturesDll

    function New-TempFolder {
        $dir = Join-Path ([System.IO.Path]::GetTempPath()) ('flux-usb-' + [guid]::NewGuid().ToString('n'))
        New-Item -ItemType Directory -Path $dir | Out-Null
        $dir
    }

    # Lays out the trap with the fixture program; returns its report: trap shortcuts, payload and benign items.
    function New-UsbTrapTree([string] $Root) {
        $lines = Invoke-FluxFixture -Name 'usb-trap' -Arguments @($Root, '--no-attributes')
        $report = [pscustomobject]@{ Traps = @(); Payload = $null; Benign = @() }
        foreach ($line in $lines) {
            $kind, $path = "$line" -split "`t", 2
            switch ($kind) {
                'trap' { $report.Traps += $path }
                'payload' { $report.Payload = $path }
                'benign' { $report.Benign += $path }
            }
        }
        $report
    }
}

Describe 'Find-UsbLnkTrap on a file system without DOS attributes' {
    BeforeAll {
        $script:plain = New-TempFolder
        $script:layout = New-UsbTrapTree $plain
    }
    AfterAll {
        if ($plain -and (Test-Path -LiteralPath $plain)) { Remove-Item -LiteralPath $plain -Recurse -Force }
    }

    It 'reports exactly the trap shortcuts, with the payload hash and the hidden state marked unknown' {
        $found = @(Find-UsbLnkTrap -Path $plain)
        @($found.ShortcutPath | Sort-Object) | Should -Be @($layout.Traps | Sort-Object)
        $hash = (Get-FileHash -LiteralPath $layout.Payload -Algorithm SHA256).Hash
        foreach ($trap in $found) {
            $trap.PayloadPath | Should -Be $layout.Payload
            $trap.PayloadSha256 | Should -Be $hash
            $trap.Sha256 | Should -Be $hash
            $trap.TargetPath | Should -Be 'C:\WINDOWS\system32\cmd.exe'
            $trap.Arguments | Should -BeLike '/c "start %cd%\click.exe && %windir%\explorer %cd%\*"'
            $trap.HiddenFolderPath | Should -Be ([System.IO.Path]::ChangeExtension($trap.ShortcutPath, $null).TrimEnd('.'))
            $trap.HiddenFolderIsHidden | Should -BeNullOrEmpty
            $trap.MachineId | Should -Be 'tacert-victim'
            $trap.ComputerName | Should -Not -BeNullOrEmpty
            $trap.Kind | Should -Be 'UsbLnkTrap'
            @($trap.Reasons.Reason) -join "`n" | Should -Match 'hidden state is unknown'
            $trap.Severity | Should -Be 'Critical'
        }
    }

    It 'takes -LiteralPath from the pipeline (PSPath) and wildcards in -Path' {
        @(Get-Item -LiteralPath $plain | Find-UsbLnkTrap).Count | Should -Be $layout.Traps.Count
        $parent = Split-Path -Parent $plain
        $leaf = Split-Path -Leaf $plain
        @(Find-UsbLnkTrap -Path (Join-Path $parent ($leaf.Substring(0, $leaf.Length - 3) + '*'))).Count | Should -Be $layout.Traps.Count
    }

    It 'writes a non-terminating error for a missing path and scans the others' {
        $found = @(Find-UsbLnkTrap -Path (Join-Path $plain 'no-such-folder'), $plain -ErrorVariable errs -ErrorAction SilentlyContinue)
        $found.Count | Should -Be $layout.Traps.Count
        @($errs).Count | Should -Be 1
        $errs[0].FullyQualifiedErrorId | Should -BeLike 'PathNotFound,*'
    }

    It 'reports a damaged shortcut as a warning and still finds every trap' {
        $bytes = [System.IO.File]::ReadAllBytes($layout.Traps[0])
        [System.IO.File]::WriteAllBytes((Join-Path $plain 'truncated.lnk'), $bytes[0..99])
        # A StringData count pointing far past the end of the file.
        $past = [byte[]]$bytes.Clone()
        $idList = [BitConverter]::ToUInt16($past, 0x4C)
        $linkInfo = 0x4C + 2 + $idList
        $strings = $linkInfo + [BitConverter]::ToUInt32($past, $linkInfo)
        $past[$strings] = 0xFF; $past[$strings + 1] = 0xFF
        [System.IO.File]::WriteAllBytes((Join-Path $plain 'pastend.lnk'), $past)
        try {
            $found = @(Find-UsbLnkTrap -Path $plain -WarningVariable warnings -WarningAction SilentlyContinue)
            $found.Count | Should -Be $layout.Traps.Count
            ($warnings -join "`n") | Should -Match 'truncated\.lnk'
            ($warnings -join "`n") | Should -Match 'pastend\.lnk'
        }
        finally {
            Remove-Item -LiteralPath (Join-Path $plain 'truncated.lnk'), (Join-Path $plain 'pastend.lnk') -ErrorAction SilentlyContinue
        }
    }

    It 'finds a trap below the root only with -Recurse' {
        $nested = Join-Path $plain 'Music/old stick'
        $inner = New-UsbTrapTree $nested
        try {
            @(Find-UsbLnkTrap -Path $plain).Count | Should -Be $layout.Traps.Count
            $all = @(Find-UsbLnkTrap -Path $plain -Recurse)
            @($all.ShortcutPath | Sort-Object) | Should -Be @(@($layout.Traps) + @($inner.Traps) | Sort-Object)
        }
        finally {
            Remove-Item -LiteralPath $nested -Recurse -Force
        }
    }

    It 'reports an unreadable folder as a non-terminating error and goes on' {
        $setpriv = @('/usr/bin/setpriv', '/bin/setpriv') | Where-Object { Test-Path -LiteralPath $_ } | Select-Object -First 1
        if ($IsWindows -or -not $setpriv -or -not (Test-FluxIsRoot)) {
            Set-ItResult -Skipped -Because 'dropping the DAC capabilities of root needs Linux, root and setpriv (util-linux)'
            return
        }
        $locked = Join-Path $plain 'locked'
        New-Item -ItemType Directory -Path (Join-Path $locked 'inside') -Force | Out-Null
        & chmod 000 $locked
        $script = Join-Path ([System.IO.Path]::GetTempPath()) ('flux-' + [guid]::NewGuid().ToString('n') + '.ps1')
        Set-Content -LiteralPath $script -Encoding utf8 -Value @"
Import-Module '$(Get-FluxManifestPath)' -ErrorAction Stop
`$found = @(Find-UsbLnkTrap -Path '$plain' -Recurse -ErrorVariable errs -ErrorAction SilentlyContinue)
[pscustomobject]@{ Found = `$found.Count; Errors = @(`$errs | ForEach-Object { `$_.FullyQualifiedErrorId + '|' + `$_.TargetObject }) } | ConvertTo-Json -Compress
"@
        try {
            # Root without CAP_DAC_OVERRIDE / CAP_DAC_READ_SEARCH cannot read a mode-000 folder, as any user could not.
            $pwsh = Get-FluxPwshCommand
            $drop = '-dac_override,-dac_read_search'
            $out = & $setpriv "--bounding-set=$drop" "--inh-caps=$drop" $pwsh.File @($pwsh.Prefix) -NoLogo -NoProfile -NonInteractive -File $script
            $result = ($out | Select-Object -Last 1) | ConvertFrom-Json
            $result.Found | Should -Be $layout.Traps.Count
            @($result.Errors) | Should -Be @("DirectoryUnreadable,FluxForensics.Commands.FindUsbLnkTrapCommand|$locked")
        }
        finally {
            & chmod 755 $locked
            Remove-Item -LiteralPath $locked -Recurse -Force
            Remove-Item -LiteralPath $script -ErrorAction SilentlyContinue
        }
    }

    It 'stops with AnsiCodePageUnavailable when the code page does not exist' {
        { Find-UsbLnkTrap -Path $plain -AnsiCodePage 12345 -ErrorAction Stop } | Should -Throw -ErrorId 'AnsiCodePageUnavailable,*'
    }

    It 'warns and returns nothing when no removable drive is mounted (and no path is given)' {
        $drives = @(Find-UsbLnkTrap -WarningVariable w -WarningAction SilentlyContinue)
        if (@($w).Count -eq 0) {
            Set-ItResult -Skipped -Because 'this machine has a removable drive mounted'
            return
        }
        $drives.Count | Should -Be 0
        "$w" | Should -Match 'No removable drive'
    }
}

Describe 'Find-UsbLnkTrap on NTFS mounted with ntfs-3g' {
    BeforeAll {
        $script:skipReason = $null
        if ($IsWindows) { $skipReason = 'the ntfs-3g lane runs on Linux' }
        elseif (-not (Test-FluxIsRoot)) { $skipReason = 'mounting an NTFS image needs root' }
        elseif (-not (Test-Path -LiteralPath '/dev/fuse')) { $skipReason = 'no /dev/fuse: ntfs-3g (FUSE) cannot mount' }
        else {
            foreach ($tool in 'mkntfs', 'ntfs-3g', 'setfattr', 'getfattr') {
                if (-not (Get-Command $tool -ErrorAction SilentlyContinue) -and -not (Test-Path "/usr/sbin/$tool") -and -not (Test-Path "/sbin/$tool")) {
                    $skipReason = "$tool is missing (apt packages ntfs-3g and attr)"
                }
            }
        }

        $script:work = $null
        $script:mount = $null
        $script:mounted = $false
        if (-not $skipReason) {
            $work = New-TempFolder
            $image = Join-Path $work 'stick.img'
            $mount = Join-Path $work 'mnt'
            New-Item -ItemType Directory -Path $mount | Out-Null
            $fs = [System.IO.File]::Create($image); $fs.SetLength(16MB); $fs.Dispose()
            try {
                & mkntfs -F -Q -q -L STICK $image 2>&1 | Out-Null
                if ($LASTEXITCODE) { throw "mkntfs failed ($LASTEXITCODE)" }
                & ntfs-3g $image $mount 2>&1 | Out-Null
                if ($LASTEXITCODE) { throw "ntfs-3g failed ($LASTEXITCODE)" }
                $script:mounted = $true
                $script:ntfsLayout = New-UsbTrapTree $mount
                # Hidden+System (FILE_ATTRIBUTE_HIDDEN|SYSTEM = 0x6) the way an investigator sets it, through the xattr.
                $hiddenSystem = @($ntfsLayout.Traps | ForEach-Object { [System.IO.Path]::ChangeExtension($_, $null).TrimEnd('.') }) +
                    @($ntfsLayout.Payload, (Join-Path $mount 'System Volume Information'))
                foreach ($p in $hiddenSystem) {
                    & setfattr -n system.ntfs_attrib_be -v 0x00000006 $p
                    if ($LASTEXITCODE) { throw "setfattr on $p failed ($LASTEXITCODE)" }
                }
            }
            catch {
                if ($mounted) { & umount $mount 2>&1 | Out-Null; $script:mounted = $LASTEXITCODE -ne 0 }
                throw
            }
        }
    }

    AfterAll {
        if ($mounted) {
            for ($i = 0; $i -lt 20 -and $mounted; $i++) {
                & umount $mount 2>&1 | Out-Null
                $script:mounted = $LASTEXITCODE -ne 0
                if ($mounted) { Start-Sleep -Milliseconds 100 }
            }
        }
        if ($work -and -not $mounted -and (Test-Path -LiteralPath $work)) { Remove-Item -LiteralPath $work -Recurse -Force }
    }

    It 'reports exactly the traps, with Hidden+System read from system.ntfs_attrib_be' {
        if ($skipReason) { Set-ItResult -Skipped -Because $skipReason; return }
        $found = @(Find-UsbLnkTrap -Path $mount)
        @($found.ShortcutPath | Sort-Object) | Should -Be @($ntfsLayout.Traps | Sort-Object)
        foreach ($trap in $found) {
            $trap.AttributeMechanism | Should -Be 'ntfs-3g xattr'
            $trap.HiddenFolderIsHidden | Should -BeTrue
            $trap.HiddenFolderIsSystem | Should -BeTrue
            $trap.IsHidden | Should -BeTrue
            $trap.PayloadSha256 | Should -Be (Get-FileHash -LiteralPath $ntfsLayout.Payload).Hash
            @($trap.Reasons.Reason) -join "`n" | Should -Match "named after the hidden folder"
            @($trap.Reasons.Reason) -join "`n" | Should -Match 'payload is hidden'
        }
        # The benign shortcuts, the visible folder and the hidden System Volume Information are not traps.
        $found.ShortcutPath | Should -Not -Contain (Join-Path $mount 'Music.lnk')
        $found.ShortcutPath | Should -Not -Contain (Join-Path $mount 'Quarterly report.lnk')
    }

    It 'survives Export-Clixml / Import-Clixml with the properties cleanup needs' {
        if ($skipReason) { Set-ItResult -Skipped -Because $skipReason; return }
        $file = Join-Path $work 'traps.xml'
        Find-UsbLnkTrap -Path $mount | Export-Clixml -LiteralPath $file
        $back = @(Import-Clixml -LiteralPath $file)
        $back.Count | Should -Be $ntfsLayout.Traps.Count
        $back[0].PSObject.TypeNames[0] | Should -Be 'Deserialized.FluxForensics.Model.UsbLnkTrap'
        $back[0].HiddenFolderAttributes | Should -Not -BeNullOrEmpty
        $back[0].ShortcutPath | Should -BeLike "$mount*"
    }
}

# The incident trap's relatives, each on an NTFS stick of its own as the worm leaves it (the fixture program lays them
# out byte by byte and sets Hidden+System through ntfs-3g): every trap is reported with its family, payload and folder,
# and the look-alikes (a user's shortcuts, setup.exe, Tools.exe beside a visible Tools, System Volume Information,
# $RECYCLE.BIN) stay Info/Low.
Describe 'Find-UsbLnkTrap on the <Family> worm family (NTFS)' -ForEach @(
    @{ Family = 'gamarue'; Expected = 'Gamarue'; Reason = 'the drive''s content was moved into a hidden folder whose name looks blank (U+00A0)' }
    @{ Family = 'script'; Expected = 'ScriptWorm'; Reason = 'the script is encoded (/e:VBScript.Encode), so its text cannot be read as it is' }
    @{ Family = 'folder-exe'; Expected = 'FolderProgram'; Reason = 'the same bytes are the program of 2 other folders (Music.exe, Projects.exe): one worm copied once per folder' }
    @{ Family = 'drive-letter'; Expected = 'ShortcutLauncher'; Reason = 'the program is named by the drive letter the stick had (E:) and is on this drive' }
    @{ Family = 'autorun'; Expected = 'Autorun'; Reason = 'autorun.inf itself is hidden' }
) {
    BeforeAll {
        $script:skipReason = $null
        if ($IsWindows) { $skipReason = 'the ntfs-3g lane runs on Linux' }
        elseif (-not (Test-FluxIsRoot)) { $skipReason = 'mounting an NTFS image needs root' }
        elseif (-not (Test-Path -LiteralPath '/dev/fuse')) { $skipReason = 'no /dev/fuse: ntfs-3g (FUSE) cannot mount' }
        elseif (-not (Get-Command mkntfs -ErrorAction SilentlyContinue) -or -not (Get-Command ntfs-3g -ErrorAction SilentlyContinue)) { $skipReason = 'mkntfs or ntfs-3g is missing (apt package ntfs-3g)' }
        $script:work = $null
        $script:mounted = $false
        if (-not $skipReason) {
            $script:work = New-TempFolder
            $image = Join-Path $work 'stick.img'
            $script:mount = Join-Path $work 'mnt'
            New-Item -ItemType Directory -Path $mount | Out-Null
            $fs = [System.IO.File]::Create($image); $fs.SetLength(16MB); $fs.Dispose()
            & mkntfs -F -Q -q -L STICK $image 2>&1 | Out-Null
            if ($LASTEXITCODE) { throw "mkntfs failed ($LASTEXITCODE)" }
            & ntfs-3g $image $mount 2>&1 | Out-Null
            if ($LASTEXITCODE) { throw "ntfs-3g failed ($LASTEXITCODE)" }
            $script:mounted = $true
            $lines = Invoke-FluxFixture -Name 'usb-worm' -Arguments @($Family, $mount)
            $script:layout = @{ trap = @(); payload = @(); folder = @(); benign = @() }
            foreach ($line in $lines) { $kind, $path = "$line" -split "`t", 2; $layout[$kind] += $path }
            $script:all = @(Find-UsbLnkTrap -Path $mount -Recurse)
            $script:traps = @($all | Where-Object Severity -ge ([FluxForensics.Model.Severity]::Medium))
        }
    }

    AfterAll {
        if ($mounted) {
            for ($i = 0; $i -lt 20 -and $mounted; $i++) {
                & umount $mount 2>&1 | Out-Null
                $script:mounted = $LASTEXITCODE -ne 0
                if ($mounted) { Start-Sleep -Milliseconds 100 }
            }
        }
        if ($work -and -not $mounted -and (Test-Path -LiteralPath $work)) { Remove-Item -LiteralPath $work -Recurse -Force }
    }

    BeforeEach { if ($skipReason) { Set-ItResult -Skipped -Because $skipReason } }

    It 'reports exactly the worm''s files, High or above, with family, payload hash and hidden folder' {
        @($traps.ShortcutPath | Sort-Object) | Should -Be @($layout.trap | Sort-Object)
        foreach ($t in $traps) {
            $t.Family | Should -Be $Expected
            [int]$t.Severity | Should -BeGreaterOrEqual ([int][FluxForensics.Model.Severity]::High)
            $layout.payload | Should -Contain $t.PayloadPath
            $t.PayloadSha256 | Should -Be (Get-FileHash -LiteralPath $t.PayloadPath -Algorithm SHA256).Hash
            $t.AttributeMechanism | Should -Be 'ntfs-3g xattr'
            if ($Family -ne 'autorun') {
                $layout.folder | Should -Contain $t.HiddenFolderPath
                $t.HiddenFolderIsHidden | Should -BeTrue
            }
        }
        @($traps.Reasons.Reason) | Should -Contain $Reason
        if ($Family -eq 'gamarue') {
            # Linux tells no label for an ntfs-3g image: it is read from the volume's own $Volume record.
            $traps[0].VolumeLabel | Should -Be 'STICK'
            @($traps.Reasons.Reason) | Should -Contain 'shortcut is named after the volume label ''STICK'', so it looks like the whole drive'
        }
    }

    It 'keeps the look-alikes at Info or Low' {
        foreach ($b in $layout.benign) {
            $traps.ShortcutPath | Should -Not -Contain $b
            $traps.PayloadPath | Should -Not -Contain $b
            $traps.HiddenFolderPath | Should -Not -Contain $b
        }
        @($all | Where-Object { $_.ShortcutPath -notin $layout.trap } | Where-Object Severity -gt ([FluxForensics.Model.Severity]::Low)).Count | Should -Be 0
    }

    It 'survives Export-Clixml / Import-Clixml with the family and the paths cleanup needs' {
        $file = Join-Path $work 'traps.xml'
        $traps | Export-Clixml -LiteralPath $file
        $back = @(Import-Clixml -LiteralPath $file)
        $back.Count | Should -Be $traps.Count
        $back[0].Family | Should -Be $Expected
        $back[0].ShortcutPath | Should -Be $traps[0].ShortcutPath
        $back[0].PayloadPath | Should -Be $traps[0].PayloadPath
    }
}
