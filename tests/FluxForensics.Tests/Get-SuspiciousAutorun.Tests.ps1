#Requires -Version 5.1
# Get-SuspiciousAutorun through the built module: the incident's persistence planted by the autorun-tree fixture in a
# Linux root and in a Windows tree (regf hives written by the fixture, a task whose XML lies about its encoding, a
# crafted Startup shortcut), corpus hives and task files added to that tree, a real NTFS image where the payload is
# Hidden, correlation with a listener finding, filters, and per-item errors.

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestSupport.psm1') -Force
    Import-Module (Get-FluxManifestPath) -Force

    function New-AutorunTree([string] $Root, [string[]] $Options) {
        $lines = Invoke-FluxFixture -Name 'autorun-tree' -Arguments (@($Root) + $Options)
        $report = @{}
        foreach ($line in $lines) {
            $kind, $path = "$line" -split "`t", 2
            if (-not $report.ContainsKey($kind)) { $report[$kind] = @() }
            $report[$kind] += $path
        }
        $report
    }
}

Describe 'Get-SuspiciousAutorun on an offline Linux root' {
    BeforeAll {
        $script:linux = New-FluxTempDirectory 'flux-autorun'
        $script:linuxLayout = New-AutorunTree $linux @('--linux')
        $script:clean = New-FluxTempDirectory 'flux-autorun'
        $null = New-AutorunTree $clean @('--linux', '--clean')
        $script:found = @(Get-SuspiciousAutorun -Root $linux)
    }
    AfterAll {
        Remove-FluxTempDirectory $linux
        Remove-FluxTempDirectory $clean
    }

    It 'finds the cron line, systemd unit, XDG autostart file and profile line that start the hidden binary' {
        $payload = '/home/alice/.cache/.mobile7'
        $hits = @($found | Where-Object ImagePath -eq $payload)
        @($hits.EntryType | Sort-Object) | Should -Be @('CronLine', 'ProfileLine', 'SystemdUnit', 'XdgAutostart')
        foreach ($hit in $hits) {
            $hit.IsHidden | Should -BeTrue
            $hit.ImageExists | Should -BeTrue
            $hit.RiskScore | Should -BeGreaterOrEqual 60
            $hit.Severity | Should -BeIn @('High', 'Critical')
            $hit.Root | Should -Be $linux
            $hit.Source | Should -Be $linux
            $hit.Sha256 | Should -Be (Get-FileHash -LiteralPath (Join-Path $linux 'home/alice/.cache/.mobile7') -Algorithm SHA256).Hash
            $hit.Kind | Should -Be 'SuspiciousAutorun'
            $hit.ComputerName | Should -Not -BeNullOrEmpty
            @($hit.Reasons.Reason) -join "`n" | Should -Match 'target is hidden'
        }
    }

    It 'gives line entries their file, line number and exact text, for remediation' {
        $cron = $found | Where-Object EntryType -eq 'CronLine' | Where-Object ImagePath -like '*mobile7'
        $cron.EntryPath | Should -Be (Join-Path $linux 'etc/cron.d/crashreport')
        $cron.LineNumber | Should -Be 1
        $cron.EntryText | Should -Be '*/5 * * * * alice /home/alice/.cache/.mobile7 --relay >/dev/null 2>&1'
        $cron.Scope | Should -Be 'alice'
        $profile = $found | Where-Object EntryType -eq 'ProfileLine'
        $profile.EntryPath | Should -Be (Join-Path $linux 'home/alice/.bashrc')
        (Get-Content -LiteralPath $profile.EntryPath)[$profile.LineNumber - 1] | Should -Be $profile.EntryText
        $unit = $found | Where-Object EntryType -eq 'SystemdUnit'
        $unit.EntryText | Should -Be (Get-Content -Raw -LiteralPath $unit.EntryPath)
        $unit.Enabled | Should -BeTrue
    }

    It 'reports nothing above Low on a clean root, and every entry with -All' {
        @(Get-SuspiciousAutorun -Root $clean -All | Where-Object RiskScore -ge 30) | Should -BeNullOrEmpty
        $all = @(Get-SuspiciousAutorun -Root $clean -All)
        $all.Count | Should -BeGreaterThan 2
        ($all | Where-Object EntryType -eq 'CronLine').ImagePath | Should -Be '/usr/bin/run-parts'
    }

    It 'filters with -MinimumRiskScore and sorts highest risk first' {
        $high = @(Get-SuspiciousAutorun -Root $linux -MinimumRiskScore 70)
        $high | ForEach-Object { $_.RiskScore | Should -BeGreaterOrEqual 70 }
        $everything = @(Get-SuspiciousAutorun -Root $linux -All)
        $everything.Count | Should -BeGreaterThan $found.Count
        $scores = @($everything.RiskScore)
        $scores | Should -Be @($scores | Sort-Object -Descending)
    }

    It 'raises the score of an entry whose target has the SHA-256 of a piped listener finding' {
        $hash = (Get-FileHash -LiteralPath (Join-Path $linux 'home/alice/.cache/.mobile7') -Algorithm SHA256).Hash
        $listener = New-FluxFinding -Type FluxListener -Property @{ Sha256 = $hash; ProcessName = '.mobile7'; Protocol = 'Tcp'; LocalPort = 80 }
        $before = $found | Where-Object EntryType -eq 'CronLine' | Where-Object ImagePath -like '*mobile7'
        $piped = @($listener | Get-SuspiciousAutorun -Root $linux) | Where-Object EntryType -eq 'CronLine' | Where-Object ImagePath -like '*mobile7'
        $piped.RiskScore | Should -BeGreaterThan $before.RiskScore
        $piped.CorrelatedWith | Should -Match 'listener image'
        $given = @(Get-SuspiciousAutorun -Root $linux -CorrelateWith $listener) | Where-Object EntryType -eq 'CronLine' | Where-Object ImagePath -like '*mobile7'
        $given.RiskScore | Should -Be $piped.RiskScore
    }

    It 'stops with RootNotFound when the root does not exist' {
        { Get-SuspiciousAutorun -Root (Join-Path $linux 'no-such-dir') -ErrorAction Stop } |
            Should -Throw -ErrorId 'RootNotFound,FluxForensics.Commands.GetSuspiciousAutorunCommand'
    }
}

Describe 'Get-SuspiciousAutorun on an offline Windows tree' {
    BeforeAll {
        $script:win = New-FluxTempDirectory 'flux-autorun'
        $script:winLayout = New-AutorunTree $win @('--windows', '--no-attributes')
        # Corpus hives and task files join the fixture's tree (copied into the temp tree, never into the repository).
        $corpus = Join-Path (Get-FluxCorpusPath) 'artifacts'
        $script:haveCorpus = Test-Path -LiteralPath (Join-Path $corpus 'log2timeline__plaso/test_data/NTUSER-RunTests.DAT')
        if ($haveCorpus) {
            New-Item -ItemType Directory -Force -Path (Join-Path $win 'Users/plaso') | Out-Null
            Copy-Item -LiteralPath (Join-Path $corpus 'log2timeline__plaso/test_data/NTUSER-RunTests.DAT') -Destination (Join-Path $win 'Users/plaso/NTUSER.DAT')
            $tasks = Join-Path $win 'Windows/System32/Tasks/Microsoft/VisualStudio'
            New-Item -ItemType Directory -Force -Path $tasks | Out-Null
            Copy-Item -LiteralPath (Join-Path $corpus 'puffyCid__artemis/forensics/tests/test_data/windows/tasks/win10/VSIX Auto Update') -Destination $tasks
            Copy-Item -LiteralPath (Join-Path $corpus 'puffyCid__artemis/forensics/tests/test_data/windows/tasks/win10/At1.job') -Destination (Join-Path $win 'Windows/System32/Tasks')
        }
        # A user whose NTUSER.DAT is garbage: a per-item error, the rest still reported.
        New-Item -ItemType Directory -Force -Path (Join-Path $win 'Users/broken') | Out-Null
        [System.IO.File]::WriteAllBytes((Join-Path $win 'Users/broken/NTUSER.DAT'), [byte[]](1..200))
        $script:all = @(Get-SuspiciousAutorun -Root $win -All -ErrorVariable autorunErrors -ErrorAction SilentlyContinue -WarningAction SilentlyContinue)
        $script:errors = @($autorunErrors)
    }
    AfterAll { Remove-FluxTempDirectory $win }

    It 'finds Run\CrashReportSaver starting mobile7.exe, with the key path, hive file and stored text' {
        $run = $all | Where-Object { $_.EntryType -eq 'RegistryValue' -and $_.Name -eq 'CrashReportSaver' }
        $run | Should -HaveCount 1
        $run.EntryPath | Should -Be 'HKU\S-1-5-21-3623811015-3361044348-30300820-1001\Software\Microsoft\Windows\CurrentVersion\Run'
        $run.Location | Should -Be $run.EntryPath
        $run.HivePath | Should -Be (Join-Path $win 'Users/alice/NTUSER.DAT')
        $run.HiveKeyPath | Should -Be 'Software\Microsoft\Windows\CurrentVersion\Run'
        $run.EntryText | Should -Be '"C:\Users\alice\AppData\Roaming\mobile7.exe"'
        $run.ImagePath | Should -Be 'C:\Users\alice\AppData\Roaming\mobile7.exe'
        $run.Path | Should -Be (Join-Path $win 'Users/alice/AppData/Roaming/mobile7.exe')
        $run.ImageExists | Should -BeTrue
        $run.Scope | Should -Be 'alice'
        $run.LastWriteTime | Should -BeGreaterThan ([datetime]::UtcNow.AddDays(-3))
        $reasons = @($run.Reasons.Reason) -join "`n"
        $reasons | Should -Match "entry name 'CrashReportSaver' is unrelated to the file it runs \(mobile7.exe\)"
        $reasons | Should -Match "user's AppData"
        $reasons | Should -Match 'no company or description'
        $run.Severity | Should -BeIn @('High', 'Critical')
    }

    It 'takes Enabled from StartupApproved: a disabled record turns an entry off, no record means enabled' {
        ($all | Where-Object Name -eq 'OneDriveSetup').Enabled | Should -BeFalse
        @(($all | Where-Object Name -eq 'OneDriveSetup').Reasons.Reason) | Should -Contain 'entry is disabled'
        ($all | Where-Object { $_.EntryType -eq 'RegistryValue' -and $_.Name -eq 'CrashReportSaver' }).Enabled | Should -BeTrue
    }

    It 'follows the task through cmd /c start and the Startup shortcut to the same payload' {
        $task = $all | Where-Object { $_.EntryType -eq 'ScheduledTask' -and $_.Name -eq 'CrashReportSaver' }
        $task.ImagePath | Should -Be 'C:\Users\alice\AppData\Roaming\mobile7.exe'
        $task.Launcher | Should -Be 'C:\Windows\system32\cmd.exe'
        $task.EntryPath | Should -Be (Join-Path $win 'Windows/System32/Tasks/CrashReportSaver')
        $lnk = $all | Where-Object EntryType -eq 'StartupFile'
        $lnk.Name | Should -Be 'Windows Update Helper'
        $lnk.ImagePath | Should -Be 'C:\Users\alice\AppData\Roaming\mobile7.exe'
        $lnk.Arguments | Should -Be '-relay'
        $lnk.Sha256 | Should -Be $task.Sha256
    }

    It 'reads services with ServiceDll, Winlogon and HKLM Run from the machine hives' {
        ($all | Where-Object Name -eq 'Dnscache').ImagePath | Should -Be 'C:\Windows\System32\dnsrslvr.dll'
        ($all | Where-Object Name -eq 'Dnscache').EntryPath | Should -Be 'HKLM\SYSTEM\ControlSet001\Services\Dnscache'
        ($all | Where-Object Name -eq 'Dnscache').HiveKeyPath | Should -Be 'ControlSet001\Services\Dnscache'
        ($all | Where-Object Name -eq 'Userinit').ImagePath | Should -Be 'C:\Windows\system32\userinit.exe'
        $health = $all | Where-Object Name -eq 'SecurityHealth'
        $health.EntryPath | Should -Be 'HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Run'
        $health.RiskScore | Should -BeLessThan 30
    }

    It 'reads corpus hives and task files in the same tree' {
        if (-not $haveCorpus) { Set-ItResult -Skipped -Because 'the shared corpus is not present'; return }
        $sidebar = $all | Where-Object { $_.Scope -eq 'plaso' -and $_.Name -eq 'Sidebar' }
        $sidebar.EntryText | Should -Be '%ProgramFiles%\Windows Sidebar\Sidebar.exe /autoRun'
        $sidebar.LastWriteTime | Should -Be ([datetime]::new(2012, 4, 5, 17, 3, 53, [DateTimeKind]::Utc).AddTicks(9920616))
        ($all | Where-Object { $_.Scope -eq 'plaso' -and $_.Name -eq 'mctadmin' }).EntryPath | Should -Be 'HKU\plaso\Software\Microsoft\Windows\CurrentVersion\RunOnce'
        ($all | Where-Object Name -eq 'VSIX Auto Update').ImagePath | Should -BeLike '*\VSIXAutoUpdate.exe'
    }

    It 'reports an unreadable hive as a non-terminating error and goes on' {
        $errors | Where-Object { $_.FullyQualifiedErrorId -like 'RegistryHiveUnreadable*' } | Should -Not -BeNullOrEmpty
        ($errors | Where-Object { $_.FullyQualifiedErrorId -like 'RegistryHiveUnreadable*' } | Select-Object -First 1).TargetObject | Should -Be (Join-Path $win 'Users/broken/NTUSER.DAT')
        $all.Count | Should -BeGreaterThan 5
    }

    It 'survives Export-Clixml with its view and identity properties' {
        $file = Join-Path $win 'found.clixml'
        $all | Where-Object RiskScore -ge 30 | Export-Clixml -LiteralPath $file
        $back = @(Import-Clixml -LiteralPath $file)
        $back[0].PSObject.TypeNames[0] | Should -Be 'Deserialized.FluxForensics.Model.SuspiciousAutorun'
        $back[0].EntryType | Should -Not -BeNullOrEmpty
        ($back[0] | Format-Table | Out-String) | Should -Match 'ImagePath'
    }
}

Describe 'Get-SuspiciousAutorun on a Windows tree on NTFS mounted with ntfs-3g' {
    BeforeAll {
        $skipReason = $null
        if ($IsWindows) { $skipReason = 'the ntfs-3g lane runs on Linux' }
        elseif (-not (Test-FluxIsRoot)) { $skipReason = 'mounting an NTFS image needs root' }
        elseif (-not (Test-Path -LiteralPath '/dev/fuse')) { $skipReason = 'no /dev/fuse: ntfs-3g (FUSE) cannot mount' }
        else {
            foreach ($tool in 'mkntfs', 'ntfs-3g') {
                if (-not (Get-Command $tool -ErrorAction SilentlyContinue)) { $skipReason = "$tool is missing (apt package ntfs-3g)"; break }
            }
        }
        $script:ntfsSkip = $skipReason
        $script:mounted = $false
        if (-not $skipReason) {
            $script:work = New-FluxTempDirectory 'flux-autorun-ntfs'
            $image = Join-Path $work 'disk.img'
            $script:mount = Join-Path $work 'mnt'
            New-Item -ItemType Directory -Path $mount | Out-Null
            $fs = [System.IO.File]::Create($image); $fs.SetLength(16MB); $fs.Dispose()
            & mkntfs -F -Q -q -L OS $image 2>&1 | Out-Null
            if ($LASTEXITCODE) { throw "mkntfs failed ($LASTEXITCODE)" }
            & ntfs-3g $image $mount 2>&1 | Out-Null
            if ($LASTEXITCODE) { throw "ntfs-3g failed ($LASTEXITCODE)" }
            $script:mounted = $true
            # The fixture sets Hidden|System on the payload itself (ntfs-3g stores them in system.ntfs_attrib_be).
            $script:layout = New-AutorunTree $mount @('--windows')
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
        if ($work -and -not $mounted) { Remove-FluxTempDirectory $work }
    }

    It 'reports the Run value with its target hidden' {
        if ($ntfsSkip) { Set-ItResult -Skipped -Because $ntfsSkip; return }
        $layout.ContainsKey('note') | Should -BeFalse -Because "$($layout['note'])"
        $run = Get-SuspiciousAutorun -Root $mount | Where-Object Name -eq 'CrashReportSaver' | Where-Object EntryType -eq 'RegistryValue'
        $run.IsHidden | Should -BeTrue
        @($run.Reasons.Reason) -join "`n" | Should -Match 'target is hidden \(Hidden attribute'
        $run.Severity | Should -Be 'Critical'
    }
}

Describe 'Get-SuspiciousAutorun on this machine' {
    It 'scans the live system without terminating and emits typed findings' {
        $live = @(Get-SuspiciousAutorun -All -ErrorAction SilentlyContinue)
        $live.Count | Should -BeGreaterThan 0
        $live | ForEach-Object { $_.Source | Should -Be 'Live'; $_.Root | Should -BeNullOrEmpty }
    }

    It 'has help with examples' {
        $help = Get-Help Get-SuspiciousAutorun -Full
        $help.Synopsis | Should -Not -BeNullOrEmpty
        @($help.Examples.Example).Count | Should -BeGreaterOrEqual 2
    }
}

Describe 'Get-SuspiciousAutorun on a dirty hive and a WMI subscription' {
    BeforeAll {
        $script:dirtyRoot = New-FluxTempDirectory 'flux-autorun-dirty'
        $script:dirtyLayout = New-AutorunTree $dirtyRoot @('--windows', '--dirty', '--wmi', '--no-attributes')
        $script:ntuser = Join-Path $dirtyRoot 'Users/alice/NTUSER.DAT'
        $script:hashBefore = (Get-FileHash -LiteralPath $ntuser -Algorithm SHA256).Hash
        $script:dirtyFound = @(Get-SuspiciousAutorun -Root $dirtyRoot -All -WarningAction SilentlyContinue)
    }
    AfterAll { Remove-FluxTempDirectory $dirtyRoot }

    It 'sees the Run value that only NTUSER.DAT.LOG1 holds, says so, and leaves the hive file as it was' {
        $run = $dirtyFound | Where-Object { $_.EntryType -eq 'RegistryValue' -and $_.Name -eq 'CrashReportSaver' }
        $run | Should -Not -BeNullOrEmpty
        $run.RecoveredFromLog | Should -Be 'NTUSER.DAT.LOG1'
        @($run.Reasons.Reason) -join "`n" | Should -Match 'transaction log \(NTUSER\.DAT\.LOG1\)'
        $run.ImagePath | Should -Be 'C:\Users\alice\AppData\Roaming\mobile7.exe'
        (Get-FileHash -LiteralPath $ntuser -Algorithm SHA256).Hash | Should -Be $hashBefore
    }

    It 'reports the WMI consumer with its filter, and both survive Export-Clixml' {
        $wmi = $dirtyFound | Where-Object EntryType -eq 'WmiEventConsumer'
        $wmi.Name | Should -Be 'CrashReportSaver'
        $wmi.ImagePath | Should -Be 'C:\Users\alice\AppData\Roaming\mobile7.exe'
        $wmi.Detail | Should -Match "bound to filter 'CrashReportFilter'"
        $wmi.Severity | Should -BeIn @('High', 'Critical')
        $file = Join-Path $dirtyRoot 'found.clixml'
        $dirtyFound | Export-Clixml -LiteralPath $file
        $back = @(Import-Clixml -LiteralPath $file)
        ($back | Where-Object EntryType -eq 'WmiEventConsumer').Detail | Should -Be $wmi.Detail
        ($back | Where-Object Name -eq 'CrashReportSaver' | Where-Object EntryType -eq 'RegistryValue').RecoveredFromLog | Should -Be 'NTUSER.DAT.LOG1'
    }

    It 'refuses to remove a WMI consumer itself and says how' {
        $wmi = $dirtyFound | Where-Object EntryType -eq 'WmiEventConsumer'
        $null = @($wmi | Remove-FluxInfection -WhatIf -ErrorAction SilentlyContinue -ErrorVariable refusals -WarningAction SilentlyContinue)
        $refusal = @($refusals | Where-Object FullyQualifiedErrorId -Match '^AutorunNotRemovable')
        $refusal.Count | Should -Be 1
        "$($refusal[0])" | Should -Match 'Remove-CimInstance'
        (Test-Path -LiteralPath (Join-Path $dirtyRoot 'Windows/System32/wbem/Repository/OBJECTS.DATA')) | Should -BeTrue
    }
}
