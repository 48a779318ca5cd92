#Requires -Version 7.3
# Get-FluxListener against real processes: a relay stand-in started from a hidden folder under a temp directory,
# listening on TCP 80 and UDP 53 of 127.0.0.1 with 50 connections to port-80 servers on five 127.x.0.0/16 networks,
# next to an ordinary server on a high port started from the build folder.

BeforeDiscovery {
    $script:onLinux = $IsLinux
}

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestSupport.psm1') -Force
    Import-Module (Get-FluxManifestPath) -Force

    $script:skip = $null
    $script:started = [System.Collections.Generic.List[System.Diagnostics.Process]]::new()
    $script:temp = $null
    $fixturesDir = Split-Path -Parent (Get-FluxFixturesDll)
    $script:apphost = Join-Path $fixturesDir 'FluxForensics.Fixtures'

    # Starts a fixture and waits for its ready file: the pid, or $null with $script:skip set when a port is taken.
    function Start-ListenerFixture([string] $Executable, [string[]] $Arguments) {
        $ready = Join-Path $script:temp ([guid]::NewGuid().ToString('n') + '.ready')
        $psi = [System.Diagnostics.ProcessStartInfo]::new($Executable)
        foreach ($a in $Arguments + @('--ready-file', $ready, '--seconds', '300')) { $psi.ArgumentList.Add($a) }
        $psi.RedirectStandardInput = $true   # closing it tells the fixture to stop
        $psi.UseShellExecute = $false
        $p = [System.Diagnostics.Process]::Start($psi)
        $script:started.Add($p)
        $deadline = [DateTime]::UtcNow.AddSeconds(30)
        while (-not (Test-Path -LiteralPath $ready) -and -not $p.HasExited -and [DateTime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 50 }
        $text = if (Test-Path -LiteralPath $ready) { Get-Content -Raw -LiteralPath $ready } else { '' }
        if ($text -match '^taken (.*)') {
            $script:skip = "a port the relay fixture needs is taken on this machine: $($Matches[1].Trim())"
            return $null
        }
        if ($text -notmatch '^ready pid=(\d+)') { throw "fixture $Executable $Arguments did not get ready (exit: $(if ($p.HasExited) { $p.ExitCode } else { 'running' }))" }
        [int]$Matches[1]
    }

    # The inode of each socket in TIME_WAIT (state 06) on <address>:80 in /proc/net/tcp. The kernel gives a TIME_WAIT
    # socket inode 0, which is why no tool can name its process.
    function Get-TimeWaitInode([string] $Address) {
        $b = ([System.Net.IPAddress]::Parse($Address)).GetAddressBytes()
        $local = '{0:X2}{1:X2}{2:X2}{3:X2}:0050' -f $b[3], $b[2], $b[1], $b[0]
        Get-Content -LiteralPath /proc/net/tcp | Select-Object -Skip 1 | ForEach-Object {
            $f = -split $_
            if ($f[1] -eq $local -and $f[3] -eq '06') { $f[9] }
        }
    }

    if (-not $IsLinux) { $script:skip = 'the real-process fixture runs on Linux (CI); Windows code paths are tested on MIB-layout buffers in xunit' }
    elseif (-not (Test-FluxIsRoot)) { $script:skip = 'binding TCP 80 and UDP 53 needs root (CI runs as root)' }
    elseif (-not (Test-Path -LiteralPath $apphost)) { $script:skip = "the fixtures apphost $apphost is not built" }

    if (-not $skip) {
        $script:temp = Join-Path ([System.IO.Path]::GetTempPath()) ('ff-listener-' + [guid]::NewGuid().ToString('n'))
        # The relay stand-in is a copy of the fixtures build output in a hidden folder; its native apphost is renamed
        # mobile7, so the process image really is the hidden file (not the dotnet host).
        $script:hiddenDir = Join-Path $temp '.cache/updater'
        New-Item -ItemType Directory -Force -Path $hiddenDir | Out-Null
        Copy-Item -Path (Join-Path $fixturesDir '*') -Destination $hiddenDir -Recurse
        $script:malwarePath = Join-Path $hiddenDir 'mobile7'
        Move-Item -LiteralPath (Join-Path $hiddenDir 'FluxForensics.Fixtures') -Destination $malwarePath

        $script:upstreamPid = Start-ListenerFixture $apphost @('listener-upstream', '--networks', '5', '--port', '80')
        if (-not $skip) { $script:malwarePid = Start-ListenerFixture $malwarePath @('listener-malware', '--connections', '50', '--networks', '5') }
        if (-not $skip) {
            $script:plainPort = Get-FluxFreeTcpPort
            $script:plainPid = Start-ListenerFixture $apphost @('listener-plain', '--port', "$plainPort")
            $script:fanOutPid = Start-ListenerFixture $malwarePath @('listener-malware', '--no-listen', '--connections', '30', '--networks', '5')
            $script:results = @(Get-FluxListener -WarningVariable script:warnings -WarningAction SilentlyContinue)
        }
    }
}

AfterAll {
    foreach ($p in $started) {
        try { $p.StandardInput.Close() } catch { }
        if (-not $p.WaitForExit(5000)) { $p.Kill() }
        $p.Dispose()
    }
    if ($temp -and (Test-Path -LiteralPath $temp) -and $temp.StartsWith([System.IO.Path]::GetTempPath())) {
        Remove-Item -LiteralPath $temp -Recurse -Force
    }
}

Describe 'Get-FluxListener on real processes' {
    BeforeEach {
        if ($skip) { Set-ItResult -Skipped -Because $skip }
    }

    It 'reports the relay on TCP 80 and UDP 53 at High or above, first' {
        $relay = @($results | Where-Object ProcessId -eq $malwarePid)
        $relay.Count | Should -Be 2
        ($relay | ForEach-Object { "$($_.Protocol) $($_.LocalAddress):$($_.LocalPort)" } | Sort-Object) | Should -Be @('Tcp 127.0.0.1:80', 'Udp 127.0.0.1:53')
        foreach ($f in $relay) {
            $f | Should -BeOfType ([FluxForensics.Model.FluxListener])
            [int]$f.Severity | Should -BeGreaterOrEqual ([int][FluxForensics.Model.Severity]::High)
            $f.RiskScore | Should -Be ($f.Reasons | Measure-Object Points -Sum).Sum
        }
        $results[0].ProcessId | Should -Be $malwarePid -Because 'highest risk comes first'
    }

    It 'explains the score with the expected reasons' {
        $tcp = $results | Where-Object { $_.ProcessId -eq $malwarePid -and $_.Protocol -eq 'Tcp' }
        $reasons = $tcp.Reasons.Reason
        $reasons | Should -Contain 'listens on TCP 80 without being a known server for it'
        $reasons | Should -Contain 'the same process also listens on UDP 53'
        $reasons | Should -Contain "image is hidden (dot-name '.cache' in the path)"
        $reasons | Should -Contain 'image is in a user-writable or temporary location (under /tmp (temporary))'
        $reasons | Should -Contain 'wide outbound fan-out to port 80: 50 connections across 5 /16 networks'
        $udp = $results | Where-Object { $_.ProcessId -eq $malwarePid -and $_.Protocol -eq 'Udp' }
        $udp.Reasons.Reason | Should -Contain 'listens on UDP 53 without being a known server for it'
    }

    It 'carries the process and image facts' {
        $tcp = $results | Where-Object { $_.ProcessId -eq $malwarePid -and $_.Protocol -eq 'Tcp' }
        $tcp.Path | Should -Be $malwarePath
        $tcp.ProcessName | Should -Be 'mobile7'
        $tcp.CommandLine | Should -Match 'listener-malware'
        $tcp.Sha256 | Should -Be (Get-FileHash -LiteralPath $malwarePath -Algorithm SHA256).Hash
        $tcp.IsHidden | Should -BeTrue
        $tcp.IsUserWritableLocation | Should -BeTrue
        $tcp.User | Should -Be 'root'
        $tcp.ParentProcessId | Should -Be $PID
        $tcp.ProcessStartTime | Should -BeGreaterThan ([DateTime]::UtcNow.AddMinutes(-10))
        $tcp.OutboundConnectionCount | Should -Be 50
        $tcp.Port80ConnectionCount | Should -Be 50
        $tcp.DistinctRemoteNetworkCount | Should -Be 5
        $tcp.DistinctRemoteAddressCount | Should -Be 5
        $tcp.RemotePorts | Should -Be @(80)
        $tcp.SignatureStatus | Should -Be 'NotChecked'
        $tcp.SignatureDetail | Should -Match 'ELF'
        $tcp.ComputerName | Should -Be ([Environment]::MachineName)
    }

    It 'scores the ordinary server on a high port low' {
        $plain = @($results | Where-Object ProcessId -eq $plainPid)
        $plain.Count | Should -Be 1
        $plain[0].LocalPort | Should -Be $plainPort
        $plain[0].RiskScore | Should -BeLessThan 30
        $plain[0].Reasons.Reason | Should -Not -Match 'hidden|known server|fan-out'
        $plain[0].Reasons.Reason | Should -Contain "listens on TCP $plainPort, not the well-known port of a service"
    }

    It 'lets -ExpectedListener name a path so the upstream servers on port 80 are not held against them' {
        $before = @($results | Where-Object ProcessId -eq $upstreamPid)
        $before.Count | Should -Be 5
        $before[0].Reasons.Reason | Should -Contain 'listens on TCP 80 without being a known server for it'
        $after = @(Get-FluxListener -ExpectedListener (Join-Path (Split-Path $apphost) '*') -WarningAction SilentlyContinue | Where-Object ProcessId -eq $upstreamPid)
        $after.Count | Should -Be 5
        foreach ($f in $after) {
            $f.Reasons.Reason | Should -Not -Contain 'listens on TCP 80 without being a known server for it'
            ($f.Reasons.Reason -match 'expected listener') | Should -Not -BeNullOrEmpty
        }
    }

    It 'filters with -MinimumRiskScore and sorts highest risk first' {
        $high = @(Get-FluxListener -MinimumRiskScore 60 -WarningAction SilentlyContinue)
        $high.Count | Should -BeGreaterOrEqual 2
        $high | ForEach-Object { $_.RiskScore | Should -BeGreaterOrEqual 60 }
        $high.ProcessId | Should -Contain $malwarePid
        $high.ProcessId | Should -Not -Contain $plainPid
        $scores = $high.RiskScore
        $scores | Should -Be ($scores | Sort-Object -Descending)
    }

    It 'adds fan-out processes that listen on nothing only with -IncludeOutbound' {
        $results.ProcessId | Should -Not -Contain $fanOutPid
        $outbound = @(Get-FluxListener -IncludeOutbound -WarningAction SilentlyContinue | Where-Object ProcessId -eq $fanOutPid)
        $outbound.Count | Should -Be 1
        $outbound[0].IsListening | Should -BeFalse
        $outbound[0].OutboundConnectionCount | Should -Be 30
        $outbound[0].Reasons.Reason | Should -Contain 'wide outbound fan-out to port 80: 30 connections across 5 /16 networks'
    }

    It 'still reports a listener whose image was deleted after it started, with the deletion as a reason' {
        $goneDir = Join-Path $temp 'gone'
        New-Item -ItemType Directory -Path $goneDir | Out-Null
        Copy-Item -Path (Join-Path (Split-Path $apphost) '*') -Destination $goneDir -Recurse
        $image = Join-Path $goneDir 'FluxForensics.Fixtures'
        $hash = (Get-FileHash -LiteralPath $image -Algorithm SHA256).Hash
        $port = Get-FluxFreeTcpPort
        $gonePid = Start-ListenerFixture $image @('listener-plain', '--port', "$port")
        Remove-Item -LiteralPath $image
        $f = Get-FluxListener -WarningAction SilentlyContinue | Where-Object ProcessId -eq $gonePid
        $f.ImageDeleted | Should -BeTrue
        $f.Path | Should -Be $image
        $f.Sha256 | Should -Be $hash -Because 'the deleted image is still read through /proc/<pid>/exe'
        $f.Reasons.Reason | Should -Contain 'image was deleted after the process started'
    }

    It 'writes no warning when run as root' {
        @($warnings | Where-Object { "$_" -match 'other users' }).Count | Should -Be 0
    }

    It 'run unprivileged, warns once about what it could not see and still lists the relay socket without its owner' {
        $setpriv = '/usr/bin/setpriv'
        if (-not (Test-Path -LiteralPath $setpriv)) { Set-ItResult -Skipped -Because 'setpriv (util-linux) is needed to drop to an unprivileged user'; return }
        # The unprivileged pwsh must be able to read PowerShell itself: the dotnet tool lives under /root, so copy it.
        $pwsh = Get-FluxPwshCommand
        if ($pwsh.Prefix) {
            $copy = Join-Path $temp 'pwsh'
            Copy-Item -LiteralPath $PSHOME -Destination $copy -Recurse
            $command = @($pwsh.File, (Join-Path $copy 'pwsh.dll'))
        }
        else {
            $command = @($pwsh.File)
        }
        $userHome = Join-Path $temp 'nobody-home'
        New-Item -ItemType Directory -Path $userHome | Out-Null
        & chmod -R a+rX $temp
        & chown 65534 $userHome
        $script = @"
`$w = `$null
`$r = @(Get-FluxListener -WarningVariable w -WarningAction SilentlyContinue)
[pscustomobject]@{
    Warnings = @(`$w | ForEach-Object { "`$_" })
    Relay = @(`$r | Where-Object { `$_.LocalAddress -eq '127.0.0.1' -and `$_.LocalPort -eq 80 -and `$_.Protocol -eq 'Tcp' } | ForEach-Object { [pscustomobject]@{ ProcessId = `$_.ProcessId; Reasons = @(`$_.Reasons.Reason) } })
} | ConvertTo-Json -Depth 4 -Compress
"@
        $out = & $setpriv --reuid=65534 --regid=65534 --clear-groups env "HOME=$userHome" "DOTNET_CLI_HOME=$userHome" NO_COLOR=1 @command -NoLogo -NoProfile -NonInteractive -Command "Import-Module '$(Get-FluxManifestPath)' -ErrorAction Stop; $script" 2>&1
        $LASTEXITCODE | Should -Be 0 -Because ($out | Out-String)
        $json = ($out | Where-Object { "$_" -match '^\{' } | Select-Object -Last 1) | ConvertFrom-Json
        @($json.Warnings).Count | Should -Be 1
        $json.Warnings[0] | Should -Match 'processes of other users could not be read.*run as root for the full picture'
        $relay = @($json.Relay)
        $relay.Count | Should -Be 1
        $relay[0].ProcessId | Should -Be 0
        $relay[0].Reasons | Should -Contain 'listens on TCP 80 without being a known server for it'
        $relay[0].Reasons | Should -Contain 'owning process could not be determined (socket created by uid 0)'
    }
}

# The relay's relative: the same hidden image mails out instead of fetching on port 80. It listens on TCP 80 and UDP 53 of
# 127.9.N.3 (N random, so TIME_WAIT sockets of an earlier run within the last minute are not counted), holds 60 connections to 30 "mail servers" (port 25 on 127.2-6.0.1-6, five /16s), and hangs up on each of
# 40 short client connections to its port 80, so the kernel keeps 40 TIME_WAIT sockets on that port with no owner.
Describe 'Get-FluxListener on a mail relay with short connections' {
    BeforeAll {
        if (-not $skip) {
            $script:mailPid = Start-ListenerFixture $apphost @('listener-upstream', '--networks', '5', '--hosts', '6', '--port', '25')
        }
        $script:relayAddress = "127.9.$(Get-Random -Minimum 1 -Maximum 255).3"
        if (-not $skip) {
            $script:smtpRelayPid = Start-ListenerFixture $malwarePath @('listener-malware', '--address', $relayAddress, '--remote-port', '25',
                '--connections', '60', '--networks', '5', '--hosts', '6', '--close-accepted')
        }
        if (-not $skip) {
            $churn = & $apphost listener-churn --address $relayAddress --port 80 --count 40 --clients 4
            if ($LASTEXITCODE -ne 0) { throw "listener-churn failed: $churn" }
            $script:mailResults = @(Get-FluxListener -WarningAction SilentlyContinue)
        }
    }

    BeforeEach {
        if ($skip) { Set-ItResult -Skipped -Because $skip }
    }

    It 'names the fan-out by service: SMTP to 30 mail servers in 5 /16s' {
        $tcp = $mailResults | Where-Object { $_.ProcessId -eq $smtpRelayPid -and $_.Protocol -eq 'Tcp' }
        $tcp.LocalAddress | Should -Be $relayAddress
        $tcp.Reasons | Where-Object Reason -eq 'SMTP fan-out: 30 mail servers in 5 /16s' | ForEach-Object Points | Should -Be 25
        $tcp.OutboundConnectionCount | Should -Be 60
        $tcp.RemotePorts | Should -Be @(25)
        $tcp.Port80ConnectionCount | Should -Be 0
        $tcp.FanOut.Count | Should -Be 1
        $tcp.FanOut[0].RemotePort | Should -Be 25
        $tcp.FanOut[0].Service | Should -Be 'SMTP'
        $tcp.FanOut[0].ConnectionCount | Should -Be 60
        $tcp.FanOut[0].ServerCount | Should -Be 30
        $tcp.FanOut[0].NetworkCount | Should -Be 5
        [int]$tcp.Severity | Should -BeGreaterOrEqual ([int][FluxForensics.Model.Severity]::High)
        $tcp.RiskScore | Should -Be ([Math]::Min(100, ($tcp.Reasons | Measure-Object Points -Sum).Sum))
    }

    It 'attributes the TIME_WAIT sockets on port 80, which have no owner, to the relay' {
        $owners = @(Get-TimeWaitInode $relayAddress)
        $tcp = $mailResults | Where-Object { $_.ProcessId -eq $smtpRelayPid -and $_.Protocol -eq 'Tcp' }
        $tcp.TimeWaitCount | Should -Be 40
        $tcp.ClosedConnectionClientCount | Should -Be 4
        $tcp.Reasons | Where-Object Reason -eq '40 short-lived connections to TCP 80 just ended (40 in TIME_WAIT, 0 in CLOSE_WAIT, from 4 clients); their sockets show no owner (PID 0) and are attributed to the process listening on the port' |
            ForEach-Object Points | Should -Be 10
        # The kernel really lists them without an owner: 40 sockets, every one with inode 0.
        $owners.Count | Should -Be 40
        @($owners | Where-Object { $_ -ne '0' }).Count | Should -Be 0
        # The first relay's port 80 on 127.0.0.1 had no short connections.
        ($mailResults | Where-Object { $_.ProcessId -eq $malwarePid -and $_.Protocol -eq 'Tcp' }).TimeWaitCount | Should -Be 0
    }

    It 'counts the mail servers own port 25 as the well-known port of a service they do not provide' {
        $mail = @($mailResults | Where-Object ProcessId -eq $mailPid)
        $mail.Count | Should -Be 30
        foreach ($f in $mail) {
            $f.LocalPortService | Should -Be 'SMTP'
            $f.Reasons | Where-Object Reason -eq 'TCP 25 is the well-known port of SMTP, a service the image does not provide' | ForEach-Object Points | Should -Be 25
        }
    }

    It 'keeps the fan-out data through Export-Clixml and Import-Clixml' {
        $tcp = $mailResults | Where-Object { $_.ProcessId -eq $smtpRelayPid -and $_.Protocol -eq 'Tcp' }
        $file = Join-Path $temp 'listener.clixml'
        $tcp | Export-Clixml -LiteralPath $file
        $back = Import-Clixml -LiteralPath $file
        $back.FanOut[0].ServerCount | Should -Be 30
        $back.FanOut[0].Service | Should -Be 'SMTP'
        $back.TimeWaitCount | Should -Be 40
    }
}

Describe 'PE facts of the corpus files through the module' {
    BeforeAll {
        $script:binaries = Join-Path (Get-FluxCorpusPath) 'artifacts/secana__PeNet/test/PeNet.Test/Binaries'
        $null = Get-FluxCoreAssembly
    }

    It 'reads <File> as EXPECTED.md says' -ForEach @(
        # Signature: what the check without WinVerifyTrust must say. 'Holds' = digest and PKCS#7 signature hold, the chain's
        # trust is this machine's store's business (StartCom and DigiCert roots; the Firefox counter-signatures do not verify).
        @{ File = 'pidgin.exe'; Company = 'The Pidgin developer community'; Original = $null; Signature = 'Holds' }
        @{ File = 'firefox_invalid_x64.exe'; Company = 'Mozilla Corporation'; Original = 'firefox.exe'; Signature = 'HashMismatch' }
        @{ File = 'firefox_x86.exe'; Company = $null; Original = 'firefox.exe'; Signature = 'Holds' }
        @{ File = 'NetFrameworkConsole.exe'; Company = $null; Original = 'NetFrameworkConsole.exe'; Signature = 'NotSigned' }
        @{ File = 'TLSCallback_x86.exe'; Company = $null; Original = $null; Signature = 'NotSigned' }
        @{ File = 'dotnet_x64.dll'; Company = $null; Original = $null; Signature = 'Valid' }
    ) {
        $path = Join-Path $binaries $File
        if (-not (Test-Path -LiteralPath $path)) { Set-ItResult -Skipped -Because "the corpus file $path is absent"; return }
        $facts = [FluxForensics.Host.FileFactsReader]::Read($path)
        $facts.IsPe | Should -BeTrue
        if ($Company) { $facts.CompanyName | Should -Be $Company }
        if ($Original) { $facts.OriginalFilename | Should -Be $Original }
        if (-not $IsWindows) {
            if ($Signature -eq 'Holds') { $facts.SignatureStatus | Should -BeIn @('Valid', 'Untrusted') }
            else { $facts.SignatureStatus | Should -Be $Signature }
        }
    }
}
