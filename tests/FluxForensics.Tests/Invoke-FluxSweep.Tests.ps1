#Requires -Version 7.3
# Invoke-FluxSweep against real computers: two sshd hosts, each in its own network and UTS namespace with the module
# installed from the built .nupkg, a host without the module, and a host name that answers nothing; a private rsyslogd
# receiving the syslog lines; exit codes under pwsh -File; Register-/Unregister-FluxSweep with the systemd units.

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestSupport.psm1') -Force
    $script:samples = Get-FluxSamplePath
    $script:usb = Join-Path $samples 'usb'
    $script:work = New-FluxTempDirectory 'flux-sweep'
    $script:manifest = Get-FluxManifestPath
    $script:hosts = @()
    $script:skipRemote = $null

    $script:net = New-FluxTestNetwork -HostName flux-host-a, flux-host-b, flux-host-bare -DeadHostName flux-host-dead
    if ($net.Skip) { $skipRemote = $net.Skip }
    elseif (-not (Test-Path -LiteralPath $usb)) { $skipRemote = "no sample USB tree at $usb (build.ps1 Samples makes it)" }
    else {
        try { $modules = Install-FluxPackage -Destination (Join-Path $work 'installed-modules') }
        catch { $skipRemote = "the module could not be installed from its package: $_" }
    }
    if (-not $skipRemote) {
        $empty = New-Item -ItemType Directory -Path (Join-Path $work 'no-modules')
        $a = Start-FluxSshServer -NetNamespace $net.Hosts[0].Namespace -ListenAddress $net.Hosts[0].Address -UtsHostName flux-host-a -ModulePath $modules
        $script:hosts += $a
        if ($a.Skip) { $skipRemote = $a.Skip }
        else {
            $script:hosts += Start-FluxSshServer -NetNamespace $net.Hosts[1].Namespace -ListenAddress $net.Hosts[1].Address -UtsHostName flux-host-b -ModulePath $modules -ClientKeyFrom $a
            $script:hosts += Start-FluxSshServer -NetNamespace $net.Hosts[2].Namespace -ListenAddress $net.Hosts[2].Address -UtsHostName flux-host-bare -ModulePath $empty.FullName -ClientKeyFrom $a
            $failed = @($hosts | Where-Object Skip)
            if ($failed) { $skipRemote = $failed[0].Skip }
        }
    }
    $script:ssh = if ($hosts) { "-UserName $($hosts[0].UserName) -KeyFilePath '$($hosts[0].KeyFilePath)' -Options @{ StrictHostKeyChecking = 'no'; UserKnownHostsFile = '/dev/null'; LogLevel = 'ERROR'; ConnectTimeout = '10' }" }

    # Runs a script in a fresh pwsh in the client namespace, where the host names resolve.
    function Invoke-InClient([string] $Script, [int] $TimeoutSeconds = 240) {
        Invoke-FluxFreshPwsh -Script $Script -NetNamespace $net.Client -TimeoutSeconds $TimeoutSeconds
    }

    function Read-JsonLines([string] $Path) {
        @(Get-Content -LiteralPath $Path | Where-Object { $_ } | ForEach-Object { $_ | ConvertFrom-Json })
    }
}

AfterAll {
    foreach ($h in $hosts) { Stop-FluxSshServer $h }
    Remove-FluxTestNetwork $net
    Remove-FluxTempDirectory $work
}

Describe 'Invoke-FluxSweep over SSH' {
    BeforeEach {
        if ($skipRemote) { Set-ItResult -Skipped -Because $skipRemote }
    }

    It 'sweeps two hosts in their own namespaces, reports Unreachable and ModuleMissing, and writes the findings as JSON Lines' {
        $jsonl = Join-Path $work 'fleet.jsonl'
        $clixml = Join-Path $work 'fleet.clixml'
        $errorsFile = Join-Path $work 'fleet-errors.txt'
        $run = Invoke-InClient @"
`$results = Invoke-FluxSweep -HostName flux-host-a, flux-host-b, flux-host-bare, flux-host-dead $ssh -Check Usb, Listener -UsbPath '$usb' -OutputPath '$jsonl' -ErrorVariable sweepErrors -ErrorAction SilentlyContinue -WarningAction SilentlyContinue
`$results | Export-Clixml -LiteralPath '$clixml' -Depth 4
@(`$sweepErrors | ForEach-Object { "`$(`$_.FullyQualifiedErrorId)|`$(`$_.TargetObject)" }) | Set-Content -LiteralPath '$errorsFile'
"EXIT=`$LASTEXITCODE"
"@
        $run.Output | Should -Match 'EXIT=1' -Because "$($run.Output) $($run.Error)"
        $results = @(Import-Clixml -LiteralPath $clixml)
        $summary = @($results | Where-Object { $_.PSObject.TypeNames -contains 'Deserialized.FluxForensics.Model.FluxSweepResult' })
        $summary.Count | Should -Be 4
        $byName = @{}; foreach ($r in $summary) { $byName[$r.ComputerName] = $r }
        foreach ($name in 'flux-host-a', 'flux-host-b') {
            $byName[$name].Status.ToString() | Should -Be 'Completed' -Because (@($byName[$name].Errors) -join '; ')
            $byName[$name].ReportedName | Should -Be $name -Because 'each host has its own UTS namespace'
            $byName[$name].Transport | Should -Be 'SSH'
            $mine = @($results | Where-Object { $_.PSObject.Properties['RiskScore'] -and $_.ComputerName -eq $name })
            $byName[$name].FindingCount | Should -Be $mine.Count
            $byName[$name].CriticalCount | Should -Be @($mine | Where-Object RiskScore -ge 80).Count
            $byName[$name].MaxSeverity.ToString() | Should -Be 'Critical'
            @($mine | Where-Object Kind -eq 'UsbLnkTrap').Count | Should -Be 3
            # The remote Get-FluxListener ran in that host's network namespace: it sees its own sshd on its own address.
            $address = ($net.Hosts | Where-Object Name -eq $name).Address
            @($mine | Where-Object { $_.Kind -eq 'FluxListener' -and $_.LocalAddress -eq $address -and $_.LocalPort -eq 22 }).Count | Should -Be 1
            $byName[$name].Duration | Should -BeGreaterThan ([timespan]::Zero)
        }
        $byName['flux-host-bare'].Status.ToString() | Should -Be 'ModuleMissing'
        $byName['flux-host-dead'].Status.ToString() | Should -Be 'Unreachable'
        $byName['flux-host-dead'].ReportedName | Should -BeNullOrEmpty
        $errors = @(Get-Content -LiteralPath $errorsFile)
        @($errors | Where-Object { $_ -like 'ComputerUnreachable*|flux-host-dead' }).Count | Should -Be 1 -Because ($errors -join '; ')
        @($errors | Where-Object { $_ -like 'FluxForensicsModuleMissing*|flux-host-bare' }).Count | Should -Be 1 -Because ($errors -join '; ')

        # Results stream as hosts finish: each host's result comes after its own findings.
        foreach ($name in 'flux-host-a', 'flux-host-b') {
            $at = [array]::IndexOf($results, $byName[$name])
            $lastFinding = ($results | ForEach-Object { $_ } | Select-Object -Index (0..($results.Count - 1)) | Where-Object { $_.PSObject.Properties['RiskScore'] -and $_.ComputerName -eq $name } | Select-Object -Last 1)
            [array]::IndexOf($results, $lastFinding) | Should -BeLessThan $at
        }

        $lines = Read-JsonLines $jsonl
        $findings = @($results | Where-Object { $_.PSObject.Properties['RiskScore'] })
        $lines.Count | Should -Be $findings.Count
        foreach ($line in $lines) {
            $line.ComputerName | Should -BeIn @('flux-host-a', 'flux-host-b')
            $line.Kind | Should -BeIn @('UsbLnkTrap', 'FluxListener')
            $line.Severity | Should -BeIn @('Info', 'Low', 'Medium', 'High', 'Critical')
            $line.Reasons | ForEach-Object { $_.PSObject.Properties.Name | Should -Be @('Reason', 'Points') }
        }
        # ISO 8601 UTC with a trailing Z, as written (ConvertFrom-Json would turn it into a DateTime).
        Get-Content -LiteralPath $jsonl | ForEach-Object { $_ | Should -Match '"ObservedAt":"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}Z"' }
        $trap = $lines | Where-Object Kind -eq 'UsbLnkTrap' | Select-Object -First 1
        $trap.ShortcutPath | Should -BeLike "$usb*"
        $trap.Severity | Should -Be 'Critical'

        # The file is what New-FluxIncident reads back: the same payload on both hosts is one correlation.
        Import-Module $manifest -Force
        $incident = New-FluxIncident -LiteralPath $jsonl
        $spread = @($incident.Correlations | Where-Object { "$($_.IndicatorType)" -eq 'Sha256' -and $_.ComputerNames -contains 'flux-host-a' -and $_.ComputerNames -contains 'flux-host-b' })
        $spread.Count | Should -BeGreaterThan 0 -Because 'click.exe sits on both hosts'
    }

    It 'sweeps through an open PSSession' {
        $run = Invoke-InClient @"
`$s = New-PSSession -HostName flux-host-b $ssh -ErrorAction Stop
`$r = Invoke-FluxSweep -Session `$s -Check Usb -UsbPath '$usb'
Remove-PSSession `$s
`$result = `$r | Where-Object { `$_ -is [FluxForensics.Model.FluxSweepResult] }
"STATUS=`$(`$result.Status) TRANSPORT=`$(`$result.Transport) NAME=`$(`$result.ReportedName) FINDINGS=`$(`$result.FindingCount) KINDS=`$((`$r | Where-Object Kind -eq 'UsbLnkTrap').Count)"
"@
        $run.Output | Should -Match 'STATUS=Completed TRANSPORT=Session NAME=flux-host-b FINDINGS=3 KINDS=3' -Because "$($run.Output) $($run.Error)"
    }

    It 'keeps what came back when stopped (Ctrl+C) while another host is still running' {
        $jsonl = Join-Path $work 'stopped.jsonl'
        $run = Invoke-InClient @"
`$ps = [powershell]::Create()
[void]`$ps.AddScript("Import-Module '$manifest'; Invoke-FluxSweep -HostName flux-host-a, flux-host-b $($ssh -replace '"', '`"' -replace "'", "''") -ThrottleLimit 1 -Check Usb -UsbPath '$usb' -OutputPath '$jsonl'".Replace("''", "'"))
`$output = [System.Management.Automation.PSDataCollection[psobject]]::new()
`$async = `$ps.BeginInvoke([System.Management.Automation.PSDataCollection[psobject]]::new(), `$output)
`$deadline = [DateTime]::UtcNow.AddSeconds(180)
# Indexed reads: enumerating an open PSDataCollection waits for it to close.
function Test-FirstResult { for (`$i = 0; `$i -lt `$output.Count; `$i++) { if (`$output[`$i].PSObject.TypeNames -contains 'FluxForensics.Model.FluxSweepResult') { return `$true } }; `$false }
while (-not (Test-FirstResult) -and [DateTime]::UtcNow -lt `$deadline -and -not `$async.IsCompleted) { Start-Sleep -Milliseconds 50 }
`$clock = [Diagnostics.Stopwatch]::StartNew()
`$ps.Stop()
"STOPPED_MS=`$(`$clock.ElapsedMilliseconds)"
"STATE=`$(`$ps.InvocationStateInfo.State)"
"RESULTS=`$(@(`$output | Where-Object { `$_.PSObject.TypeNames -contains 'FluxForensics.Model.FluxSweepResult' } | ForEach-Object ComputerName) -join ',')"
"FINDINGS=`$(@(`$output | Where-Object Kind -eq 'UsbLnkTrap').Count)"
"@
        $run.Output | Should -Match 'STATE=Stopped' -Because "$($run.Output) $($run.Error)"
        $run.Output | Should -Match 'RESULTS=flux-host-a(\r?\n|$)'
        $run.Output | Should -Match 'FINDINGS=3'
        [int]([regex]::Match($run.Output, 'STOPPED_MS=(\d+)').Groups[1].Value) | Should -BeLessThan 15000
        $lines = Read-JsonLines $jsonl
        $lines.Count | Should -Be 3 -Because 'the first host''s findings were written before the stop'
        @($lines | Where-Object ComputerName -eq 'flux-host-a').Count | Should -Be 3
    }

    It 'exits 2 for sweep errors only and 1 when findings come with errors, under pwsh -File' {
        $errorsOnly = Invoke-InClient "Invoke-FluxSweep -HostName flux-host-dead $ssh -SetExitCode -ErrorAction SilentlyContinue | Out-Null; 'AFTER'"
        $errorsOnly.ExitCode | Should -Be 2 -Because "$($errorsOnly.Output) $($errorsOnly.Error)"
        $errorsOnly.Output | Should -Match 'AFTER' -Because '-SetExitCode sets the code the process ends with; the script goes on'
        $both = Invoke-InClient "Invoke-FluxSweep -HostName flux-host-a, flux-host-dead $ssh -Check Usb -UsbPath '$usb' -SetExitCode -ErrorAction SilentlyContinue | Out-Null"
        $both.ExitCode | Should -Be 1 -Because "findings at or above High win over errors: $($both.Output) $($both.Error)"
    }
}

Describe 'Invoke-FluxSweep on this computer' {
    It 'exits 0 when nothing reaches -FailOn and 1 when something does, under pwsh -File' {
        if (-not (Test-Path -LiteralPath $usb)) { Set-ItResult -Skipped -Because "no sample USB tree at $usb (build.ps1 Samples makes it)"; return }
        $clean = Join-Path $work 'clean-usb'
        New-Item -ItemType Directory -Force -Path (Join-Path $clean 'Photos') | Out-Null
        Set-Content -LiteralPath (Join-Path $clean 'Photos/readme.txt') -Value 'holiday'
        $r = Invoke-FluxFreshPwsh "Invoke-FluxSweep -Check Usb -UsbPath '$clean' -SetExitCode | Out-Null"
        $r.ExitCode | Should -Be 0 -Because "$($r.Output) $($r.Error)"
        $r = Invoke-FluxFreshPwsh "Invoke-FluxSweep -Check Usb -UsbPath '$usb' -SetExitCode | Out-Null"
        $r.ExitCode | Should -Be 1 -Because "$($r.Output) $($r.Error)"
        # -FailOn above what was found: the same sweep is clean for the scheduler.
        $r = Invoke-FluxFreshPwsh "Invoke-FluxSweep -Check Autorun -AutorunRoot '$(Join-Path $samples 'autorun-linux')' -FailOn Critical -SetExitCode | Out-Null"
        $r.ExitCode | Should -Be 0 -Because "High autoruns are below -FailOn Critical: $($r.Output) $($r.Error)"
        # Without -SetExitCode the code is in $LASTEXITCODE for the script to use.
        $r = Invoke-FluxFreshPwsh "Invoke-FluxSweep -Check Usb -UsbPath '$usb' | Out-Null; exit `$LASTEXITCODE"
        $r.ExitCode | Should -Be 1
        $r = Invoke-FluxFreshPwsh "Invoke-FluxSweep -Check Autorun -AutorunRoot '$(Join-Path $work 'no-such-root')' -ErrorAction SilentlyContinue -SetExitCode | Out-Null"
        $r.ExitCode | Should -Be 2 -Because "a check that cannot run is a sweep error: $($r.Output) $($r.Error)"
    }

    It 'emits typed findings and one FluxSweepResult that survive Export-Clixml, with a default view' {
        if (-not (Test-Path -LiteralPath $usb)) { Set-ItResult -Skipped -Because "no sample USB tree at $usb"; return }
        Import-Module $manifest -Force
        $out = @(Invoke-FluxSweep -Check Usb -UsbPath $usb -MinimumSeverity High)
        $result = @($out | Where-Object { $_ -is [FluxForensics.Model.FluxSweepResult] })
        $result.Count | Should -Be 1
        $result[0].Status | Should -Be 'Completed'
        $result[0].Transport | Should -Be 'Local'
        $result[0].CriticalCount | Should -Be 3
        $out[-1] | Should -Be $result[0] -Because 'the result comes after the findings'
        $file = Join-Path $work 'result.clixml'
        $result | Export-Clixml -LiteralPath $file
        $back = Import-Clixml -LiteralPath $file
        $back.PSObject.TypeNames[0] | Should -Be 'Deserialized.FluxForensics.Model.FluxSweepResult'
        $back.CriticalCount | Should -Be 3
        $back.MaxSeverity.ToString() | Should -Be 'Critical'
        ($back | Format-Table | Out-String) | Should -Match 'Critical\s+High\s+Medium'
    }
}

Describe 'Invoke-FluxSweep -Syslog and -SyslogServer into rsyslog' {
    BeforeAll {
        $script:rsyslogd = @('/usr/sbin/rsyslogd', (Get-Command rsyslogd -ErrorAction SilentlyContinue).Source) | Where-Object { $_ -and (Test-Path -LiteralPath $_) } | Select-Object -First 1
        $script:syslogSkip = if (-not $IsLinux) { 'rsyslog runs on Linux' } elseif (-not $rsyslogd) { 'rsyslogd is not installed (Debian package rsyslog)' } elseif (-not (Test-Path -LiteralPath $usb)) { "no sample USB tree at $usb" }
        if (-not $syslogSkip) {
            $script:rs = New-FluxTempDirectory 'flux-rsyslog'
            $script:tcpPort = Get-FluxFreeTcpPort
            $probe = [System.Net.Sockets.UdpClient]::new([System.Net.IPEndPoint]::new([System.Net.IPAddress]::Loopback, 0))
            $script:udpPort = $probe.Client.LocalEndPoint.Port
            $probe.Dispose()
            # A private rsyslogd: its own socket, ports, work directory and output file; /dev/log and the system's config are untouched.
            Set-Content -LiteralPath "$rs/rsyslog.conf" -Value @"
global(workDirectory="$rs")
module(load="imuxsock" SysSock.Use="off")
input(type="imuxsock" Socket="$rs/log.sock" UseSpecialParser="off" ParseHostname="on")
module(load="imudp")
input(type="imudp" address="127.0.0.1" port="$udpPort")
module(load="imtcp")
input(type="imtcp" address="127.0.0.1" port="$tcpPort")
template(name="flux" type="string" string="%inputname%|%syslogfacility-text%.%syslogseverity-text%|%hostname%|%app-name%|%msgid%|%structured-data%|%msg%\n")
action(type="omfile" file="$rs/received.log" template="flux")
"@
            $script:daemon = Start-Process -FilePath $rsyslogd -ArgumentList @('-n', '-f', "$rs/rsyslog.conf", '-i', "$rs/rsyslogd.pid") -PassThru -RedirectStandardError "$rs/stderr.txt"
            $deadline = [DateTime]::UtcNow.AddSeconds(20)
            while (-not (Test-Path -LiteralPath "$rs/log.sock") -and [DateTime]::UtcNow -lt $deadline -and -not $daemon.HasExited) { Start-Sleep -Milliseconds 100 }
            if (-not (Test-Path -LiteralPath "$rs/log.sock")) { $script:syslogSkip = "rsyslogd did not start: $(Get-Content -Raw "$rs/stderr.txt" -ErrorAction SilentlyContinue)" }
        }

        function Wait-Received([string] $InputName, [int] $Count) {
            $deadline = [DateTime]::UtcNow.AddSeconds(20)
            do {
                $lines = @(Get-Content -LiteralPath "$rs/received.log" -ErrorAction SilentlyContinue | Where-Object { $_.StartsWith("$InputName|") })
                if ($lines.Count -ge $Count) { break }
                Start-Sleep -Milliseconds 200
            } while ([DateTime]::UtcNow -lt $deadline)
            $lines
        }
    }

    AfterAll {
        if ($daemon -and -not $daemon.HasExited) { $daemon.Kill(); $daemon.WaitForExit(5000) | Out-Null }
        if ($rs) { Remove-FluxTempDirectory $rs }
    }

    BeforeEach { if ($syslogSkip) { Set-ItResult -Skipped -Because $syslogSkip } }

    It 'delivers each finding as an RFC 5424 message over the local socket, UDP and TCP' {
        $r = Invoke-FluxFreshPwsh @"
Invoke-FluxSweep -Check Usb -UsbPath '$usb' -Syslog -SyslogSocketPath '$rs/log.sock' -SyslogServer 127.0.0.1:$udpPort | Out-Null
Invoke-FluxSweep -Check Usb -UsbPath '$usb' -SyslogServer tcp://127.0.0.1:$tcpPort | Out-Null
[Environment]::MachineName
"@
        $r.ExitCode | Should -Be 0 -Because "$($r.Output) $($r.Error)"
        $machine = ($r.Output -split "`n" | Where-Object { $_.Trim() } | Select-Object -Last 1).Trim()
        foreach ($module in 'imuxsock', 'imudp', 'imtcp') {
            $lines = @(Wait-Received $module 3)
            $lines.Count | Should -Be 3 -Because "three traps reach rsyslog through $module"
            foreach ($line in $lines) {
                $f = $line -split '\|', 7
                $f[1] | Should -Be 'user.crit' -Because 'Critical findings are facility user, severity crit'
                $f[2] | Should -Be $machine
                $f[3] | Should -Be 'FluxForensics'
                $f[4] | Should -Be 'UsbLnkTrap' -Because 'rsyslog parsed the RFC 5424 MSGID'
                $f[5] | Should -Match '^\[fluxforensics@32473 kind="UsbLnkTrap" severity="Critical" riskScore="100" computerName="'
                $f[6] | Should -Match "^Critical \(100\) UsbLnkTrap on $([regex]::Escape($machine)): .*\.lnk -> .*; \+\d+ "
            }
        }
    }
}

Describe 'Register-FluxSweep and Unregister-FluxSweep' {
    BeforeAll { Import-Module $manifest -Force }

    It 'changes nothing under -WhatIf' {
        if (-not $IsLinux) { Set-ItResult -Skipped -Because 'the systemd path runs on Linux'; return }
        $units = Join-Path $work 'units-whatif'
        Register-FluxSweep -UnitPath $units -WhatIf -OutputPath (Join-Path $work 'x.jsonl') | Should -BeNullOrEmpty
        Test-Path -LiteralPath $units | Should -BeFalse
    }

    It 'writes a systemd service and timer whose command runs the sweep with its exit code, and removes them' {
        if (-not $IsLinux) { Set-ItResult -Skipped -Because 'the systemd path runs on Linux'; return }
        if (-not (Test-Path -LiteralPath $usb)) { Set-ItResult -Skipped -Because "no sample USB tree at $usb"; return }
        $units = Join-Path $work 'units'
        $jsonl = Join-Path $work 'scheduled.jsonl'
        $schedule = Register-FluxSweep -Name FluxSweepTest -Interval '00:30:00' -UnitPath $units -ModulePath $manifest -Check Usb -OutputPath $jsonl -MinimumSeverity High -WarningAction SilentlyContinue
        $schedule.Scheduler | Should -Be 'systemd'
        $schedule.Enabled | Should -BeFalse -Because 'with -UnitPath the units are written, not enabled'
        $service = Get-Content -Raw -LiteralPath (Join-Path $units 'fluxsweeptest.service')
        $timer = Get-Content -Raw -LiteralPath (Join-Path $units 'fluxsweeptest.timer')
        $service | Should -Match 'Type=oneshot'
        $service | Should -Match 'ExecStart=.*Invoke-FluxSweep.*-SetExitCode'
        $timer | Should -Match 'OnUnitActiveSec=1800s'
        $timer | Should -Match 'Unit=fluxsweeptest.service'
        if (Get-Command systemd-analyze -ErrorAction SilentlyContinue) {
            $verify = & systemd-analyze verify (Join-Path $units 'fluxsweeptest.service') (Join-Path $units 'fluxsweeptest.timer') 2>&1
            $LASTEXITCODE | Should -Be 0 -Because ($verify | Out-String)
        }

        # What the timer would start, started here: pwsh with the schedule's arguments (-UsbPath added to look at the sample stick).
        $psi = [System.Diagnostics.ProcessStartInfo]::new($schedule.Executable)
        $arguments = @($schedule.Arguments)
        $arguments[-1] = $arguments[-1].Replace("-Check 'Usb'", "-Check 'Usb' -UsbPath '$usb'")
        foreach ($a in $arguments) { $psi.ArgumentList.Add($a) }
        $psi.RedirectStandardOutput = $true; $psi.RedirectStandardError = $true; $psi.UseShellExecute = $false
        $p = [System.Diagnostics.Process]::Start($psi)
        $stdout = $p.StandardOutput.ReadToEndAsync(); $stderr = $p.StandardError.ReadToEndAsync()
        $p.WaitForExit(180000) | Should -BeTrue
        $p.ExitCode | Should -Be 1 -Because "Critical traps found: $($stdout.Result) $($stderr.Result)"
        $stdout.Result | Should -Match 'Completed'
        @(Get-Content -LiteralPath $jsonl).Count | Should -Be 3
        # -Append: a second run adds to the file.
        $p = [System.Diagnostics.Process]::Start($psi); $p.WaitForExit(180000) | Out-Null
        @(Get-Content -LiteralPath $jsonl).Count | Should -Be 6

        Unregister-FluxSweep -Name FluxSweepTest -UnitPath $units -WhatIf
        Test-Path -LiteralPath (Join-Path $units 'fluxsweeptest.timer') | Should -BeTrue
        Unregister-FluxSweep -Name FluxSweepTest -UnitPath $units -Confirm:$false
        Test-Path -LiteralPath (Join-Path $units 'fluxsweeptest.timer') | Should -BeFalse
        Test-Path -LiteralPath (Join-Path $units 'fluxsweeptest.service') | Should -BeFalse
        Unregister-FluxSweep -Name FluxSweepTest -UnitPath $units -ErrorAction SilentlyContinue -ErrorVariable missing
        $missing[0].FullyQualifiedErrorId | Should -BeLike 'ScheduleNotFound*'
    }
}
