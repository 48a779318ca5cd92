#Requires -Version 7.3
# Remove-FluxInfection / Restore-FluxQuarantine / Get-FluxQuarantine against real state:
#  - a relay stand-in started from a hidden folder of a temp root, listening on TCP 80 / UDP 53, persisted by a systemd
#    unit (with its enabling link) and a cron line in that root: found by Get-FluxListener and Get-SuspiciousAutorun,
#    removed, verified, restored byte for byte with modes, owners and timestamps;
#  - the USB trap on a real NTFS image (mkntfs + ntfs-3g): cleaned and restored exactly, Hidden/System included;
#  - a cleanup killed (SIGKILL) at each journal step in turn, completed by the next run without losing a file;
#  - -WhatIf changes nothing (tree, process list, store), findings from another computer are refused.

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestSupport.psm1') -Force
    Import-Module (Get-FluxManifestPath) -Force

    $script:temp = Join-Path ([System.IO.Path]::GetTempPath()) ('ff-remediation-' + [guid]::NewGuid().ToString('n'))
    New-Item -ItemType Directory -Force -Path $temp | Out-Null

    # Everything that must come back exactly: path, type, size, SHA-256, mode, owner, mtime (ns), link target, and on
    # NTFS the raw attributes. atime is left out: hashing the files for the snapshot itself reads them.
    function Get-TreeSnapshot([string] $Path, [switch] $Ntfs) {
        $lines = & find $Path -mindepth 1 -printf '%P|%y|%s|%m|%U|%G|%T@|%l\n' | Sort-Object
        foreach ($line in $lines) {
            $relative = $line.Split('|')[0]
            $full = Join-Path $Path $relative
            $hash = if ($line.Split('|')[1] -eq 'f') { (& sha256sum -- $full).Split(' ')[0] } else { '' }
            $attrib = if ($Ntfs) { (& getfattr -h --absolute-names -n system.ntfs_attrib_be -e hex -- $full 2>$null | Select-String 'ntfs_attrib_be=').Line } else { '' }
            "$line|$hash|$attrib"
        }
    }

    # The processes this test started (their images live under the temp dir), with identity: PID, start time, image.
    # Unrelated system processes come and go on their own and are left out.
    function Get-ProcessSnapshot { Get-Process | Where-Object { $_.Path -and $_.Path.StartsWith($temp) } | ForEach-Object { "$($_.Id)|$($_.StartTime.Ticks)|$($_.Path)" } | Sort-Object }

    $script:canRunReal = $IsLinux -and (Test-FluxIsRoot)
    $script:realSkip = if (-not $IsLinux) { 'the real-state lane runs on Linux (CI)' } elseif (-not (Test-FluxIsRoot)) { 'stopping processes, binding TCP 80/UDP 53 and a root-only store need root (CI runs as root)' } else { $null }
    $script:started = [System.Collections.Generic.List[System.Diagnostics.Process]]::new()
    $script:mounts = [System.Collections.Generic.List[string]]::new()

    function New-NtfsStick([string] $Name) {
        <# A 32 MiB NTFS image mounted with ntfs-3g under the temp dir; returns the mount point. #>
        $image = Join-Path $temp "$Name.img"
        $mount = Join-Path $temp "$Name-mnt"
        New-Item -ItemType Directory -Force -Path $mount | Out-Null
        & truncate -s 32M $image
        & mkntfs -F -Q -q -L STICK $image 2>&1 | Out-Null
        if ($LASTEXITCODE) { throw "mkntfs failed ($LASTEXITCODE)" }
        & ntfs-3g $image $mount 2>&1 | Out-Null
        if ($LASTEXITCODE) { throw "ntfs-3g failed ($LASTEXITCODE)" }
        $script:mounts.Add($mount)
        $mount
    }

    $script:ntfsSkip = $realSkip
    if (-not $ntfsSkip) {
        if (-not (Test-Path -LiteralPath '/dev/fuse')) { $script:ntfsSkip = 'no /dev/fuse: ntfs-3g (FUSE) cannot mount' }
        foreach ($tool in 'mkntfs', 'ntfs-3g', 'getfattr', 'setfattr') {
            if (-not $ntfsSkip -and -not (Get-Command $tool -ErrorAction SilentlyContinue)) { $script:ntfsSkip = "$tool is missing (apt packages ntfs-3g and attr)" }
        }
    }
}

AfterAll {
    foreach ($p in $started) {
        try { if (-not $p.HasExited) { $p.Kill() } } catch { }
        $p.Dispose()
    }
    # ntfs-3g can still be busy for a moment after the last access: retry, then detach lazily. Never delete through a mount.
    $stillMounted = $false
    foreach ($m in $mounts) {
        for ($i = 0; $i -lt 10; $i++) {
            & umount $m 2>&1 | Out-Null
            if (-not (& findmnt -n $m)) { break }
            Start-Sleep -Milliseconds 300
        }
        if (& findmnt -n $m) { & umount -l $m 2>&1 | Out-Null }
        if (& findmnt -n $m) { $stillMounted = $true }
    }
    if (-not $stillMounted -and $temp -and (Test-Path -LiteralPath $temp) -and $temp.StartsWith([System.IO.Path]::GetTempPath())) {
        Remove-Item -LiteralPath $temp -Recurse -Force -ErrorAction SilentlyContinue
    }
}

Describe 'Remove-FluxInfection refuses what it must not touch' {
    It 'refuses a finding made on another computer and says to run it there inside Invoke-Command' {
        $store = Join-Path $temp 'store-remote'
        $victim = Join-Path $temp 'remote-victim.exe'
        Set-Content -LiteralPath $victim -Value 'x'
        $finding = New-FluxFinding -Type UsbLnkTrap -Property @{ ComputerName = 'SOMEWHERE-ELSE'; DriveRoot = [string]$temp; ShortcutPath = [string]$victim }
        $finding | Remove-FluxInfection -QuarantinePath $store -Confirm:$false -ErrorVariable errs -ErrorAction SilentlyContinue
        $errs.Count | Should -Be 1
        $errs[0].FullyQualifiedErrorId | Should -Match '^FindingFromAnotherComputer'
        $errs[0].ErrorDetails.Message | Should -Match 'Invoke-Command'
        Test-Path -LiteralPath $victim | Should -BeTrue
        Test-Path -LiteralPath $store | Should -BeFalse
    }

    It 'refuses a path that leaves the drive through .. or a link' {
        $drive = Join-Path $temp 'drive-escape'
        $outside = Join-Path $temp 'outside-target.exe'
        New-Item -ItemType Directory -Force -Path $drive | Out-Null
        Set-Content -LiteralPath $outside -Value 'keep me'
        New-Item -ItemType SymbolicLink -Path (Join-Path $drive 'lnkdir') -Target $temp | Out-Null
        $findings = @(
            New-FluxFinding -Type UsbLnkTrap -Property @{ DriveRoot = [string]$drive; ShortcutPath = [string]"$drive/../outside-target.exe" }
            New-FluxFinding -Type UsbLnkTrap -Property @{ DriveRoot = [string]$drive; ShortcutPath = [string]"$drive/lnkdir/outside-target.exe" }
        )
        $findings | Remove-FluxInfection -QuarantinePath (Join-Path $temp 'store-escape') -Confirm:$false -ErrorVariable errs -ErrorAction SilentlyContinue
        @($errs | Where-Object FullyQualifiedErrorId -Match '^PathRefused').Count | Should -Be 2
        Get-Content -LiteralPath $outside | Should -Be 'keep me'
    }

    It 'never stops its own process or PID 1' -Skip:(-not $IsLinux) {
        $self = New-FluxFinding -Type FluxListener -Property @{ ProcessId = $PID; ProcessName = 'pwsh' }
        $init = New-FluxFinding -Type FluxListener -Property @{ ProcessId = 1; ProcessName = 'init' }
        $self, $init | Remove-FluxInfection -QuarantinePath (Join-Path $temp 'store-self') -Confirm:$false -ErrorVariable errs -ErrorAction SilentlyContinue
        @($errs | Where-Object FullyQualifiedErrorId -Match '^ProcessProtected').Count | Should -Be 2
        (Get-Process -Id $PID).Id | Should -Be $PID
    }
}

Describe 'A real relay process persisted by a systemd unit and a cron line' {
    BeforeAll {
        $script:skip = $realSkip
        $fixturesDir = Split-Path -Parent (Get-FluxFixturesDll)
        if (-not $skip -and -not (Test-Path -LiteralPath (Join-Path $fixturesDir 'FluxForensics.Fixtures'))) { $script:skip = 'the fixtures apphost is not built' }
        if (-not $skip) {
            $script:root = Join-Path $temp 'sysroot'
            $hidden = Join-Path $root 'opt/.cache/updater'
            New-Item -ItemType Directory -Force -Path $hidden, (Join-Path $root 'etc/systemd/system/multi-user.target.wants') | Out-Null
            Copy-Item -Path (Join-Path $fixturesDir '*') -Destination $hidden -Recurse
            $script:malware = Join-Path $hidden 'mobile7'
            Move-Item -LiteralPath (Join-Path $hidden 'FluxForensics.Fixtures') -Destination $malware
            & chmod 4755 $malware   # an unusual mode, so a restore that loses it shows
            $unit = Join-Path $root 'etc/systemd/system/flux-relay.service'
            Set-Content -LiteralPath $unit -Value "[Unit]`nDescription=Crash report saver`n`n[Service]`nExecStart=/opt/.cache/updater/mobile7 listener-malware --connections 0`nRestart=always`n`n[Install]`nWantedBy=multi-user.target" -NoNewline
            New-Item -ItemType SymbolicLink -Path (Join-Path $root 'etc/systemd/system/multi-user.target.wants/flux-relay.service') -Target '/etc/systemd/system/flux-relay.service' | Out-Null
            Set-Content -LiteralPath (Join-Path $root 'etc/crontab') -Value "SHELL=/bin/sh`n17 * * * * root cd / && run-parts --report /etc/cron.hourly`n@reboot root /opt/.cache/updater/mobile7 listener-malware --connections 0`n# end`n" -NoNewline
            & touch -d '2026-03-01 10:11:12.123456789' (Join-Path $root 'etc/crontab') $unit $malware

            $ready = Join-Path $temp 'relay.ready'
            $psi = [System.Diagnostics.ProcessStartInfo]::new($malware)
            foreach ($a in 'listener-malware', '--connections', '0', '--ready-file', $ready, '--seconds', '300') { $psi.ArgumentList.Add($a) }
            $psi.RedirectStandardInput = $true
            $psi.UseShellExecute = $false
            $script:relay = [System.Diagnostics.Process]::Start($psi)
            $started.Add($relay)
            $deadline = [DateTime]::UtcNow.AddSeconds(30)
            while (-not (Test-Path -LiteralPath $ready) -and -not $relay.HasExited -and [DateTime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 50 }
            $text = if (Test-Path -LiteralPath $ready) { Get-Content -Raw -LiteralPath $ready } else { '' }
            if ($text -match '^taken (.*)') { $script:skip = "a port the relay fixture needs is taken here: $($Matches[1].Trim())" }
            elseif ($text -notmatch '^ready') { throw "the relay fixture did not start: $text" }
        }
        if (-not $skip) {
            $script:listeners = @(Get-FluxListener -WarningAction SilentlyContinue | Where-Object ProcessId -eq $relay.Id)
            $autoruns = @(Get-SuspiciousAutorun -Root $root -All -WarningAction SilentlyContinue | Where-Object { $_.EntryPath -like "$root*" -and ($_.EntryText -match 'mobile7' -or $_.Name -match 'flux-relay') })
            # The autoruns travel through CliXml, as they would from another session: deserialized objects must bind.
            $xml = Join-Path $temp 'autoruns.clixml'
            $autoruns | Export-Clixml -LiteralPath $xml
            $script:autorunsBack = @(Import-Clixml -LiteralPath $xml)
            $script:store = Join-Path $temp 'store-real'
            $script:before = Get-TreeSnapshot $root
        }
    }

    BeforeEach { if ($skip) { Set-ItResult -Skipped -Because $skip } }

    It 'has the findings to act on (listener on 80/53, unit and cron line)' {
        $listeners.LocalPort | Should -Contain 80
        $autorunsBack.EntryType | Should -Contain 'SystemdUnit'
        $autorunsBack.EntryType | Should -Contain 'CronLine'
        $autorunsBack[0].PSObject.TypeNames[0] | Should -BeLike 'Deserialized.FluxForensics.Model.*'
    }

    It '-WhatIf changes nothing: tree, processes, store' {
        $processes = Get-ProcessSnapshot
        $out = @($listeners + $autorunsBack | Remove-FluxInfection -QuarantinePath $store -WhatIf -PassThru)
        $out.Status | Sort-Object -Unique | Should -Be 'WhatIf'
        $out.Action | Should -Contain 'StopProcess'
        Get-TreeSnapshot $root | Should -Be $before
        $processes | Should -Not -BeNullOrEmpty
        Get-ProcessSnapshot | Should -Be $processes
        $relay.HasExited | Should -BeFalse
        Test-Path -LiteralPath $store | Should -BeFalse
    }

    It 'stops the process, removes the unit, its link and the cron line, quarantines the binary' {
        $script:results = @($listeners + $autorunsBack | Remove-FluxInfection -QuarantinePath $store -Confirm:$false -PassThru -ErrorAction Stop)
        $relay.WaitForExit(5000) | Should -BeTrue
        ($results | Where-Object Action -eq 'StopProcess').Status | Should -Be 'Done'
        Test-Path -LiteralPath $malware | Should -BeFalse
        Test-Path -LiteralPath (Join-Path $root 'etc/systemd/system/flux-relay.service') | Should -BeFalse
        Test-Path -LiteralPath (Join-Path $root 'etc/systemd/system/multi-user.target.wants/flux-relay.service') | Should -BeFalse
        $cron = Get-Content -LiteralPath (Join-Path $root 'etc/crontab')
        $cron | Should -Not -Match 'mobile7'
        $cron | Should -Contain '17 * * * * root cd / && run-parts --report /etc/cron.hourly'
        ($results | Where-Object Action -eq 'Verify').Status | Should -Be 'Done'
        @($results | Where-Object Status -eq 'Failed').Count | Should -Be 0
    }

    It 'keeps a manifest in a root-only store, with inert copies' {
        (& stat -c '%a' $store) | Should -Be '700'
        $items = @(Get-FluxQuarantine -QuarantinePath $store)
        $items.Kind | Should -Contain 'File'
        $items.Kind | Should -Contain 'Line'
        $items.Kind | Should -Contain 'Link'
        $binary = $items | Where-Object OriginalPath -eq $malware
        $binary.Sha256 | Should -Not -BeNullOrEmpty
        $binary.Mode | Should -Be '4755'
        $binary.QuarantinedBy | Should -Not -BeNullOrEmpty
        $binary.Finding | Should -Match 'FluxListener|SuspiciousAutorun'
        (& stat -c '%a' $binary.StorePath) | Should -Be '400'
        ($items | Where-Object Kind -eq 'Line').RemovedText | Should -Match '^@reboot root /opt/.cache/updater/mobile7'
    }

    It 'restores every byte, mode, owner and timestamp' {
        $restored = @(Get-FluxQuarantine -QuarantinePath $store | Restore-FluxQuarantine -QuarantinePath $store -Confirm:$false -PassThru -ErrorAction Stop)
        $restored.Status | Sort-Object -Unique | Should -Be 'Restored'
        Get-TreeSnapshot $root | Should -Be $before
        @(Get-FluxQuarantine -QuarantinePath $store | Where-Object State -ne 'Restored').Count | Should -Be 0
    }

    It 'refuses to restore over an occupied path unless -Force, and never loses the occupant' {
        $again = @($autorunsBack | Where-Object EntryType -eq 'SystemdUnit' | Remove-FluxInfection -QuarantinePath $store -Confirm:$false -PassThru)
        $id = ($again | Where-Object { $_.Action -eq 'RemoveAutorun' -and $_.Target -like '*.service' -and $_.Target -notlike '*wants*' }).QuarantineId
        $unit = Join-Path $root 'etc/systemd/system/flux-relay.service'
        Set-Content -LiteralPath $unit -Value 'someone else'
        Restore-FluxQuarantine -Id $id -QuarantinePath $store -Confirm:$false -ErrorVariable errs -ErrorAction SilentlyContinue
        $errs[0].FullyQualifiedErrorId | Should -Match '^RestoreTargetOccupied'
        Get-Content -LiteralPath $unit | Should -Be 'someone else'
        Restore-FluxQuarantine -Id $id -QuarantinePath $store -Confirm:$false -Force -WarningAction SilentlyContinue
        Get-Content -Raw -LiteralPath $unit | Should -Match 'ExecStart=/opt/.cache/updater/mobile7'
        Get-Content -LiteralPath "$unit.displaced-$id" | Should -Be 'someone else'
    }
}

Describe 'USB traps on a real NTFS stick' {
    BeforeAll {
        $script:skip = $ntfsSkip
        if (-not $skip) {
            $script:stick = New-NtfsStick 'stick'
            $report = Invoke-FluxFixture -Name 'usb-trap' -Arguments @($stick)
            $script:benign = @($report | Where-Object { $_ -like "benign`t*" } | ForEach-Object { $_.Split("`t")[1] })
            $script:traps = @(Find-UsbLnkTrap -Path $stick -WarningAction SilentlyContinue)
            $script:before = Get-TreeSnapshot $stick -Ntfs
            $script:store = Join-Path $temp 'store-usb'
        }
    }

    BeforeEach { if ($skip) { Set-ItResult -Skipped -Because $skip } }

    It '-WhatIf changes nothing on the stick' {
        $traps | Remove-FluxInfection -QuarantinePath $store -WhatIf
        Get-TreeSnapshot $stick -Ntfs | Should -Be $before
        Test-Path -LiteralPath $store | Should -BeFalse
    }

    It 'quarantines shortcuts and payload, unhides the folders, leaves the benign items alone' {
        $traps.Count | Should -BeGreaterThan 0
        $out = @($traps | Remove-FluxInfection -QuarantinePath $store -Confirm:$false -PassThru -ErrorAction Stop)
        @($out | Where-Object Status -eq 'Failed').Count | Should -Be 0
        foreach ($t in $traps) {
            Test-Path -LiteralPath $t.ShortcutPath | Should -BeFalse
            Test-Path -LiteralPath $t.PayloadPath | Should -BeFalse
            $attr = (& getfattr -h --absolute-names -n system.ntfs_attrib_be -e hex -- $t.HiddenFolderPath | Select-String 'ntfs_attrib_be=').Line
            $value = [Convert]::ToUInt32($attr.Split('=')[1].Substring(2), 16)
            $value -band 0x6 | Should -Be 0
        }
        foreach ($b in $benign) { Test-Path -LiteralPath $b | Should -BeTrue }
        $payload = Get-FluxQuarantine -QuarantinePath $store | Where-Object OriginalPath -eq $traps[0].PayloadPath
        $payload.Attributes | Should -Not -BeNullOrEmpty
    }

    It 'restores the stick exactly, Hidden and System included' {
        $run = (Get-FluxQuarantine -QuarantinePath $store | Select-Object -First 1).RunId
        Restore-FluxQuarantine -RunId $run -QuarantinePath $store -Confirm:$false -ErrorAction Stop
        Get-TreeSnapshot $stick -Ntfs | Should -Be $before
    }
}

# Each relative of the trap on its own NTFS stick: the worm's shortcuts, folder-named programs or autorun.inf and its
# payloads go to quarantine, the folders it hid (Gamarue's U+00A0 folder too) are shown again, the look-alikes are left
# alone, and Restore-FluxQuarantine puts every byte, timestamp and attribute back.
Describe 'USB worm family <Family> on a real NTFS stick' -ForEach @(
    @{ Family = 'gamarue' }, @{ Family = 'script' }, @{ Family = 'folder-exe' }, @{ Family = 'drive-letter' }, @{ Family = 'autorun' }
) {
    BeforeAll {
        $script:skip = $ntfsSkip
        if (-not $skip) {
            $script:stick = New-NtfsStick "worm-$Family"
            $lines = Invoke-FluxFixture -Name 'usb-worm' -Arguments @($Family, $stick)
            $script:layout = @{ trap = @(); payload = @(); folder = @(); benign = @() }
            foreach ($line in $lines) { $kind, $path = "$line" -split "`t", 2; $layout[$kind] += $path }
            $script:traps = @(Find-UsbLnkTrap -Path $stick -Recurse -WarningAction SilentlyContinue | Where-Object Severity -ge ([FluxForensics.Model.Severity]::Medium))
            $script:before = Get-TreeSnapshot $stick -Ntfs
            $script:store = Join-Path $temp "store-worm-$Family"
        }
    }

    BeforeEach { if ($skip) { Set-ItResult -Skipped -Because $skip } }

    It 'quarantines the worm''s files and payloads, unhides its folders, leaves the look-alikes alone' {
        @($traps.ShortcutPath | Sort-Object) | Should -Be @($layout.trap | Sort-Object)
        $out = @($traps | Remove-FluxInfection -QuarantinePath $store -Confirm:$false -PassThru -ErrorAction Stop)
        @($out | Where-Object Status -eq 'Failed').Count | Should -Be 0
        foreach ($f in @($layout.trap) + @($layout.payload)) { Test-Path -LiteralPath $f | Should -BeFalse -Because "$f is the worm's" }
        foreach ($d in $layout.folder) {
            Test-Path -LiteralPath $d | Should -BeTrue
            $attr = (& getfattr -h --absolute-names -n system.ntfs_attrib_be -e hex -- $d | Select-String 'ntfs_attrib_be=').Line
            [Convert]::ToUInt32($attr.Split('=')[1].Substring(2), 16) -band 0x6 | Should -Be 0 -Because "$d is shown again"
        }
        foreach ($b in $layout.benign) { Test-Path -LiteralPath $b | Should -BeTrue -Because "$b is not the worm's" }
        $quarantined = @(Get-FluxQuarantine -QuarantinePath $store)
        foreach ($f in @($layout.trap) + @($layout.payload)) { $quarantined.OriginalPath | Should -Contain $f }
    }

    It 'restores the stick exactly, Hidden and System included' {
        $run = (Get-FluxQuarantine -QuarantinePath $store | Select-Object -First 1).RunId
        Restore-FluxQuarantine -RunId $run -QuarantinePath $store -Confirm:$false -ErrorAction Stop
        Get-TreeSnapshot $stick -Ntfs | Should -Be $before
    }
}

Describe 'A cleanup killed at each journal step is completed by the next run' {
    BeforeAll {
        $script:skip = $ntfsSkip
        if (-not $skip -and -not (Test-FluxFixtureCommand 'remediation-clean')) { $script:skip = 'the remediation-clean fixture is not built' }
        if (-not $skip) {
            $script:stick = New-NtfsStick 'crash'
            Invoke-FluxFixture -Name 'usb-trap' -Arguments @($stick) | Out-Null
            # One trap (its shortcut, the payload, its folder) keeps the kill-at-every-step loop short.
            $script:trap = Find-UsbLnkTrap -Path $stick -WarningAction SilentlyContinue | Select-Object -First 1
            $script:spec = "$($trap.DriveRoot)|$($trap.ShortcutPath)|$($trap.HiddenFolderPath)|$($trap.PayloadPath)"
            $script:before = Get-TreeSnapshot $stick -Ntfs
            $script:files = @(& find $stick -type f | Sort-Object)
            $script:hashes = @{}
            foreach ($f in $files) { $hashes[$f] = (& sha256sum -- $f).Split(' ')[0] }

            # Runs the Core cleanup in its own small process (the fixture), killed by SIGKILL at journal step $Step.
            function Invoke-KilledCleanup([string] $Store, [int] $Step) {
                $psi = [System.Diagnostics.ProcessStartInfo]::new('dotnet')
                foreach ($a in @((Get-FluxFixturesDll), 'remediation-clean', $Store, $spec)) { $psi.ArgumentList.Add($a) }
                $psi.Environment['FLUXFORENSICS_REMEDIATION_CRASH_AT'] = "$Step"
                $psi.RedirectStandardOutput = $true
                $psi.RedirectStandardError = $true
                $psi.UseShellExecute = $false
                $p = [System.Diagnostics.Process]::Start($psi)
                $err = $p.StandardError.ReadToEndAsync()
                $null = $p.StandardOutput.ReadToEnd()
                $p.WaitForExit()
                [pscustomobject]@{ ExitCode = $p.ExitCode; Error = $err.Result }
            }

            function Test-NothingLost([string] $Store, [string] $When) {
                $stored = @(Get-ChildItem -LiteralPath $Store -Recurse -File -Filter '*.quarantine' -ErrorAction SilentlyContinue | ForEach-Object { (& sha256sum -- $_.FullName).Split(' ')[0] })
                foreach ($f in $files) {
                    ((Test-Path -LiteralPath $f) -and (& sha256sum -- $f).Split(' ')[0] -eq $hashes[$f]) -or ($stored -contains $hashes[$f]) | Should -BeTrue -Because "$f must survive $When"
                }
            }
        }
    }

    BeforeEach { if ($skip) { Set-ItResult -Skipped -Because $skip } }

    It 'loses nothing, is completed by Remove-FluxInfection and restores exactly, whatever step it died at' {
        $step = 1
        $crashed = 0
        while ($step -lt 40) {
            $store = Join-Path $temp "store-crash-$step"
            $killed = Invoke-KilledCleanup $store $step
            if ($killed.ExitCode -eq 0) {
                # Finished before reaching this step: every step was covered. Undo it for the next test.
                Get-FluxQuarantine -QuarantinePath $store | Restore-FluxQuarantine -QuarantinePath $store -Confirm:$false -ErrorAction Stop
                Get-TreeSnapshot $stick -Ntfs | Should -Be $before
                break
            }
            $killed.ExitCode | Should -Be 137 -Because "the cleanup is killed at step $step ($($killed.Error))"
            $killed.Error | Should -Match "CRASH_AT=$step"
            $crashed++
            Test-NothingLost $store "a kill at step $step"

            # The rerun settles the interrupted run, then finishes the cleanup; then everything restores exactly.
            $trap | Remove-FluxInfection -QuarantinePath $store -Confirm:$false -ErrorAction Stop
            Test-Path -LiteralPath $trap.ShortcutPath | Should -BeFalse
            Test-Path -LiteralPath $trap.PayloadPath | Should -BeFalse
            @(Get-FluxQuarantine -QuarantinePath $store | Where-Object State -eq 'InDoubt').Count | Should -Be 0
            Get-FluxQuarantine -QuarantinePath $store | Restore-FluxQuarantine -QuarantinePath $store -Confirm:$false -ErrorAction Stop
            Get-TreeSnapshot $stick -Ntfs | Should -Be $before -Because "after a kill at step $step, a rerun and a restore"
            $step++
        }
        $crashed | Should -BeGreaterThan 3
    }

    It 'kills Remove-FluxInfection itself mid-run and Restore-FluxQuarantine settles it' {
        $store = Join-Path $temp 'store-crash-cmdlet'
        $xml = Join-Path $temp 'crash-trap.clixml'
        $trap | Export-Clixml -LiteralPath $xml
        $killed = Invoke-FluxFreshPwsh -Script "Import-Clixml -LiteralPath '$xml' | Remove-FluxInfection -QuarantinePath '$store' -Confirm:`$false" -Environment @{ FLUXFORENSICS_REMEDIATION_CRASH_AT = '3' }
        $killed.Error | Should -Match 'CRASH_AT=3' -Because "exit $($killed.ExitCode): $($killed.Output)"
        Test-NothingLost $store 'a kill of the cmdlet'
        @(Get-FluxQuarantine -QuarantinePath $store -All | Where-Object State -eq 'InDoubt').Count | Should -BeGreaterThan 0
        # Restoring what the killed run quarantined: the restore settles the run first, then puts everything back.
        Restore-FluxQuarantine -RunId (Get-FluxQuarantine -QuarantinePath $store -All)[0].RunId -QuarantinePath $store -Confirm:$false -ErrorAction Stop
        Get-TreeSnapshot $stick -Ntfs | Should -Be $before
    }
}

Describe 'The -PassThru stream of Remove-FluxInfection, saved and re-imported, restores everything' {
    BeforeAll {
        $script:skip = $ntfsSkip
        if (-not $skip -and -not (Test-FluxFixtureCommand 'usb-trap')) { $script:skip = 'the usb-trap fixture is not built' }
        if (-not $skip) {
            $script:stick = New-NtfsStick 'passthru'
            Invoke-FluxFixture -Name 'usb-trap' -Arguments @($stick) | Out-Null
            $script:traps = @(Find-UsbLnkTrap -Path $stick -WarningAction SilentlyContinue)
            $script:before = Get-TreeSnapshot $stick -Ntfs
            $script:store = Join-Path $temp 'store-passthru'
        }
    }

    BeforeEach { if ($skip) { Set-ItResult -Skipped -Because $skip } }

    It 'binds the whole stream: records without a QuarantineId (Verify) are passed over, not a binding error' {
        $xml = Join-Path $temp 'passthru-results.clixml'
        $traps | Remove-FluxInfection -QuarantinePath $store -Confirm:$false -PassThru -ErrorAction Stop | Export-Clixml -LiteralPath $xml
        $back = @(Import-Clixml -LiteralPath $xml)
        # The stream really holds records without an id: otherwise this test would not be testing anything.
        @($back | Where-Object { -not $_.QuarantineId }).Count | Should -BeGreaterThan 0
        @($back | Where-Object QuarantineId).Count | Should -BeGreaterThan 0

        $verbose = Import-Clixml -LiteralPath $xml | Restore-FluxQuarantine -QuarantinePath $store -Confirm:$false -ErrorVariable errs -Verbose 4>&1
        $errs.Count | Should -Be 0 -Because ($errs | Out-String)
        @($verbose | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] -and $_.Message -match 'without a QuarantineId' }).Count | Should -BeGreaterThan 0
        Get-TreeSnapshot $stick -Ntfs | Should -Be $before
    }

    It 'writes the journal and manifest with times as ISO 8601 UTC and states by name' {
        $files = @(Get-ChildItem -LiteralPath (Join-Path $store 'runs') -Recurse -File -Include 'journal.log', 'manifest.tsv')
        $files.Count | Should -BeGreaterThan 1
        $text = ($files | ForEach-Object { Get-Content -Raw -LiteralPath $_.FullName }) -join "`n"
        $at = @([regex]::Matches($text, '(?<=\tAt=)[^\t\r\n]*').Value)
        $at.Count | Should -BeGreaterThan 0
        foreach ($value in $at) { $value | Should -Match '^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}Z$' }
        foreach ($value in @([regex]::Matches($text, '(?<=\tState=)[^\t\r\n]*').Value)) { $value | Should -Match '^[A-Z][A-Za-z]+$' }
        @(Get-FluxQuarantine -QuarantinePath $store -All)[0].QuarantinedAt.Kind | Should -Be 'Utc'
    }
}

Describe 'Restore-FluxQuarantine -WhatIf and -Confirm go through the same ShouldProcess as Remove-FluxInfection' {
    BeforeAll {
        $script:skip = if (-not $IsLinux) { 'the file lane runs on Linux' } else { $null }
        if (-not $skip) {
            $script:drive = Join-Path $temp 'whatif-drive'
            New-Item -ItemType Directory -Force -Path $drive | Out-Null
            $script:shortcut = Join-Path $drive 'photos.lnk'
            $script:payload = Join-Path $drive 'click.exe'
            Set-Content -LiteralPath $shortcut -Value 'L shortcut' -NoNewline
            Set-Content -LiteralPath $payload -Value 'MZ payload' -NoNewline
            $script:store = Join-Path $temp 'store-whatif'
            # A finding as ConvertFrom-Json gives it back: its Kind names it.
            $script:trap = [pscustomobject]@{ Kind = 'UsbLnkTrap'; DriveRoot = $drive; ShortcutPath = $shortcut; PayloadPath = $payload }
        }
    }

    BeforeEach { if ($skip) { Set-ItResult -Skipped -Because $skip } }

    It 'describes each restore under -WhatIf and changes neither the files nor the journal' {
        $trap | Remove-FluxInfection -QuarantinePath $store -Confirm:$false -ErrorAction Stop
        Test-Path -LiteralPath $payload | Should -BeFalse
        $journal = @(Get-ChildItem -LiteralPath (Join-Path $store 'runs') -Recurse -Filter 'journal.log')[0].FullName
        $before = (Get-FileHash -LiteralPath $journal).Hash

        $planned = @(Get-FluxQuarantine -QuarantinePath $store | Restore-FluxQuarantine -QuarantinePath $store -WhatIf -PassThru)
        $planned.Count | Should -Be 2
        $planned.Status | Sort-Object -Unique | Should -Be 'WhatIf'
        Test-Path -LiteralPath $payload | Should -BeFalse
        (Get-FileHash -LiteralPath $journal).Hash | Should -Be $before

        $restored = @(Restore-FluxQuarantine -RunId (Split-Path -Leaf (Split-Path -Parent $journal)) -QuarantinePath $store -Confirm:$false -PassThru -ErrorAction Stop)
        $restored.Status | Sort-Object -Unique | Should -Be 'Restored'
        Get-Content -Raw -LiteralPath $payload | Should -Be 'MZ payload'
    }

    It 'warns about a journal line it cannot read, and still lists the items' {
        $journal = @(Get-ChildItem -LiteralPath (Join-Path $store 'runs') -Recurse -Filter 'journal.log')[0].FullName
        Add-Content -LiteralPath $journal -Value 'not a journal record'
        $items = @(Get-FluxQuarantine -QuarantinePath $store -All -WarningVariable warnings -WarningAction SilentlyContinue)
        $items.Count | Should -Be 2
        @($warnings | Where-Object { "$_" -match 'journal\.log @ \d+: journal line: not an intent or mark line' }).Count | Should -Be 1
    }
}
