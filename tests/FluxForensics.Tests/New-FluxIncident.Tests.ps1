#Requires -Version 7.3
# New-FluxIncident through the built module: the samples' shared binary joined across a real listening process, the
# capture, the USB stick and the Windows disk; findings from three computers (one over real SSH remoting in a UTS
# namespace of its own, two from CliXml files) joined into one correlation; files, bad input, serialization.

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestSupport.psm1') -Force
    Import-Module (Get-FluxManifestPath) -Force
    $script:samples = Get-FluxSamplePath
    $script:capture = Join-Path $samples 'incident.pcapng'
    $script:usb = Join-Path $samples 'usb'
    $script:windowsDisk = Join-Path $samples 'autorun-windows'
    $script:temp = New-FluxTempDirectory 'ff-incident'
    $fixturesDir = Split-Path -Parent (Get-FluxFixturesDll)
    $script:apphost = Join-Path $fixturesDir 'FluxForensics.Fixtures'
    $script:shared = if (Test-Path -LiteralPath $apphost) { (Get-FileHash -LiteralPath $apphost -Algorithm SHA256).Hash.ToLowerInvariant() }
    $script:sampleSkip = if (-not (Test-Path -LiteralPath $capture)) { "the samples are not generated ($capture)" }
    elseif (-not $shared) { "the fixtures apphost $apphost is not built" }
    elseif ((Get-FileHash -LiteralPath (Join-Path $usb 'click.exe') -Algorithm SHA256).Hash.ToLowerInvariant() -ne $shared) { 'the samples were not generated with --malware (build.ps1 Samples does it)' }
}

AfterAll {
    Remove-FluxTempDirectory $temp
}

Describe 'New-FluxIncident on the samples and a real listening process' {
    BeforeAll {
        $script:relay = $null
        if (-not $sampleSkip -and $IsLinux) {
            # A hidden copy of the shared binary (the fixtures' native apphost) listens, as mobile7.exe did.
            $hidden = Join-Path $temp '.cache/updater'
            New-Item -ItemType Directory -Force -Path $hidden | Out-Null
            Copy-Item -Path (Join-Path (Split-Path -Parent $apphost) '*') -Destination $hidden -Recurse
            $image = Join-Path $hidden 'mobile7'
            Move-Item -LiteralPath (Join-Path $hidden 'FluxForensics.Fixtures') -Destination $image
            $ready = Join-Path $temp 'ready.txt'
            $start = [System.Diagnostics.ProcessStartInfo]::new($image)
            foreach ($a in @('listener-plain', '--port', "$(Get-FluxFreeTcpPort)", '--ready-file', $ready, '--seconds', '300')) { $start.ArgumentList.Add($a) }
            $start.RedirectStandardInput = $true
            $start.UseShellExecute = $false
            $script:relay = [System.Diagnostics.Process]::Start($start)
            $deadline = [DateTime]::UtcNow.AddSeconds(30)
            while (-not (Test-Path -LiteralPath $ready) -and [DateTime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 100 }

            $script:listeners = @(Get-FluxListener -WarningAction SilentlyContinue | Where-Object ProcessId -eq $relay.Id)
            $script:analysis = @(Invoke-PcapFluxAnalysis -LiteralPath $capture -WarningAction SilentlyContinue)
            $script:traps = @(Find-UsbLnkTrap -LiteralPath $usb)
            $script:autoruns = @(Get-SuspiciousAutorun -Root $windowsDisk)
            $script:incident = @($analysis) + $listeners + $traps + $autoruns |
                New-FluxIncident -ComputerAddress @{ ([Environment]::MachineName) = '140.127.1.77' } -WarningAction SilentlyContinue
        }
    }

    AfterAll {
        if ($relay) {
            try { $relay.StandardInput.Close() } catch { }
            if (-not $relay.WaitForExit(5000)) { $relay.Kill() }
        }
    }

    BeforeEach {
        if ($sampleSkip) { Set-ItResult -Skipped -Because $sampleSkip }
        elseif (-not $IsLinux) { Set-ItResult -Skipped -Because 'the listening copy of the apphost runs on Linux (CI)' }
    }

    It 'writes every hash as lowercase hex, whatever finding carries it' {
        $listeners.Count | Should -Be 1
        $listeners[0].Sha256 | Should -MatchExactly '^[0-9a-f]{64}$'
        $traps.PayloadSha256 | Should -MatchExactly '^[0-9a-f]{64}$'
        ($autoruns | Where-Object Sha256).Sha256 | Should -MatchExactly '^[0-9a-f]{64}$'
        ($analysis | Where-Object Kind -eq FluxDownload).Sha256 | Should -MatchExactly '^[0-9a-f]{64}$'
        ($analysis | Where-Object Kind -eq FluxDownload).Md5 | Should -MatchExactly '^[0-9a-f]{32}$'
    }

    It 'joins the listener image, the Run value target, the USB payload and the relayed download as one Critical correlation' {
        $incident | Should -BeOfType ([FluxForensics.Model.FluxIncident])
        $c = $incident.Correlations | Where-Object { $_.IndicatorType -eq 'Sha256' -and $_.Indicator -eq $shared }
        @($c).Count | Should -Be 1
        $c.Severity | Should -Be 'Critical'
        $c.EvidenceKinds | Sort-Object | Should -Be @('FluxDownload', 'FluxListener', 'SuspiciousAutorun', 'UsbLnkTrap')
        $c.Names | Should -Contain 'mobile7.exe'
        $c.Names | Should -Contain 'click.exe'
        ($c.Evidence | Where-Object Role -eq 'registry value target').Location | Should -Match '\\Run\\CrashReportSaver$'
        ($c.Evidence | Where-Object Kind -eq FluxListener).Location | Should -Be $listeners[0].Path
        ($c.Evidence | Where-Object Kind -eq FluxDownload | Select-Object -First 1).Location | Should -Match 'mobile7\.exe$'
        foreach ($e in $c.Evidence) { $incident.Findings[$e.FindingIndex].Kind | Should -Be $e.Kind }
        $incident.Correlations[0].Indicator | Should -Be $shared -Because 'the worst correlation comes first'
        $incident.MalwareFiles[0].Sha256 | Should -Be $shared
    }

    It 'joins the relay in the capture with the computer that owns it' {
        $a = $incident.Correlations | Where-Object { $_.IndicatorType -eq 'Address' -and $_.Indicator -eq '140.127.1.77' }
        $a.Reasons.Reason | Should -Contain 'a relay in the capture is a computer with host findings: the infected host'
        $me = $incident.Hosts | Where-Object Name -eq ([Environment]::MachineName)
        $me.Roles | Should -Contain 'InfectedHost'
        $me.Roles | Should -Contain 'Relay'
        $me.Addresses | Should -Be @('140.127.1.77')
    }

    It 'has a timeline in UTC time order that every kind contributes to' {
        $times = @($incident.Timeline.Time)
        $times.Count | Should -BeGreaterThan 100
        $sorted = [datetime[]]$times.Clone()
        [Array]::Sort($sorted)
        $times | Should -Be $sorted
        $incident.Timeline.Time.Kind | Sort-Object -Unique | Should -Be 'Utc'
        $kinds = $incident.Timeline.Kind | Sort-Object -Unique
        foreach ($k in 'FluxListener', 'SuspiciousAutorun', 'UsbLnkTrap', 'FluxDomain', 'RelaySession', 'FluxDownload', 'ExposedCredential', 'CaptureSummary') {
            $kinds | Should -Contain $k
        }
        $incident.Timeline.Event | Should -Contain 'Run value CrashReportSaver written'
        $incident.Timeline.Event | Should -Contain 'click.exe written to the stick'
        $incident.Timeline.Event | Should -Contain 'first DNS answer for bayermun.biz'
    }

    It 'summarises relays, bots, ranked flux domains, servers, accounts without secrets and malware files' {
        $incident.Relays | Should -Contain '140.127.1.77'
        $incident.BotCount | Should -Be (@($analysis | Where-Object Kind -eq RelaySession).Client + @($analysis | Where-Object { $_.Kind -eq 'FluxDownload' -and $_.Relay }).Client | Sort-Object -Unique).Count
        $flux = @($analysis | Where-Object { $_.Kind -eq 'FluxDomain' -and $_.IsFastFlux })
        $incident.FluxDomainCount | Should -Be $flux.Count
        $incident.FluxDomains[0].QueryCount | Should -Be ($flux | Measure-Object QueryCount -Maximum).Maximum
        $incident.MailServerCount | Should -Be (@($analysis | Where-Object { $_.Kind -eq 'RelaySession' -and $_.Protocol -eq 'Smtp' }).Server | Sort-Object -Unique).Count
        $incident.ExposedAccounts.Count | Should -BeGreaterThan 0
        $incident.ExposedAccounts.Secret | Sort-Object -Unique | Should -Be '********'
        $incident.MalwareFiles.Sha256 | Should -Contain $shared
    }

    It 'shows the summary by default, survives Export-Clixml and builds the same incident again from the deserialized copy' {
        $text = $incident | Out-String -Width 250
        $text | Should -Match 'BotCount'
        $text | Should -Match 'Correlations'
        $file = Join-Path $temp 'incident.xml'
        $incident | Export-Clixml -LiteralPath $file
        $back = Import-Clixml -LiteralPath $file
        $back.PSObject.TypeNames[0] | Should -Be 'Deserialized.FluxForensics.Model.FluxIncident'
        ($back | Out-String -Width 250) | Should -Match 'BotCount'
        $back.Correlations[0].Evidence[0].Kind | Should -Be $incident.Correlations[0].Evidence[0].Kind
        $back.Correlations[0].Reasons[0].Reason | Should -Be $incident.Correlations[0].Reasons[0].Reason
        $again = $back | New-FluxIncident -ComputerAddress @{ ([Environment]::MachineName) = '140.127.1.77' }
        $again.Correlations.Count | Should -Be $incident.Correlations.Count
        $again.Correlations[0].Indicator | Should -Be $incident.Correlations[0].Indicator
        $again.Correlations[0].RiskScore | Should -Be $incident.Correlations[0].RiskScore
        $again.Timeline.Count | Should -Be $incident.Timeline.Count
    }
}

Describe 'New-FluxIncident across computers' {
    BeforeAll {
        $script:server = $null
        $script:crossSkip = $sampleSkip
        if (-not $crossSkip) {
            # Computer one: a real remote session in a UTS namespace of its own (its own host name), reading the disk.
            $script:server = Start-FluxSshServer -UtsHostName 'ff-incident-remote'
            if ($server.Skip) { $script:crossSkip = $server.Skip }
        }
        if (-not $crossSkip) {
            $session = New-FluxSshSession $server
            try {
                $manifest = Get-FluxManifestPath
                $script:remote = @(Invoke-Command -Session $session { Import-Module $using:manifest -ErrorAction Stop; Get-SuspiciousAutorun -Root $using:windowsDisk })
            }
            finally { Remove-PSSession $session }

            # Computers two and three: findings collected there and kept as CliXml and as JSON Lines.
            $trap = New-FluxFinding -Type UsbLnkTrap -Property @{ ComputerName = 'lab-04'; PayloadSha256 = $shared; Sha256 = $shared; PayloadPath = 'E:\click.exe'; ShortcutPath = 'E:\photos.lnk'; DriveRoot = 'E:\' }
            $script:collected = Join-Path $temp 'collected'
            New-Item -ItemType Directory -Force -Path $collected | Out-Null
            $script:xml = Join-Path $collected 'lab-04.xml'
            $trap | Export-Clixml -LiteralPath $xml
            $listener = New-FluxFinding -Type FluxListener -Property @{ ComputerName = 'pc23'; Sha256 = $shared; Path = 'C:\Users\bob\AppData\Roaming\mobile7.exe'; ProcessName = 'mobile7'; LocalPort = 80; Protocol = 'Tcp' }
            $script:json = Join-Path $collected 'pc23.jsonl'
            $listener | ConvertTo-Json -Depth 4 -Compress -EnumsAsStrings | Set-Content -LiteralPath $json
        }
    }

    AfterAll { Stop-FluxSshServer $server }

    BeforeEach { if ($crossSkip) { Set-ItResult -Skipped -Because $crossSkip } }

    It 'joins the same hash found on three computers into one correlation that says how it spread' {
        $remote[0].PSObject.TypeNames[0] | Should -Be 'Deserialized.FluxForensics.Model.SuspiciousAutorun'
        $remote[0].ComputerName | Should -Be 'ff-incident-remote'
        $incident = $remote | New-FluxIncident -LiteralPath $xml, $json
        $c = @($incident.Correlations | Where-Object { $_.IndicatorType -eq 'Sha256' -and $_.Indicator -eq $shared })
        $c.Count | Should -Be 1
        $c[0].ComputerNames | Sort-Object | Should -Be @('ff-incident-remote', 'lab-04', 'pc23')
        ($c[0].Reasons | Where-Object Reason -like 'on 3 computers*').Points | Should -Be 15
        ($incident.Hosts | Where-Object IsComputer).Name | Sort-Object | Should -Be @('ff-incident-remote', 'lab-04', 'pc23')
    }

    It 'reads files by wildcard and reports what is not a finding without losing the rest' {
        Set-Content -LiteralPath (Join-Path $collected 'notes.txt') -Value 'hello'
        $incident = 'just a string' | New-FluxIncident -Path (Join-Path $collected '*.xml'), (Join-Path $collected '*.jsonl'), (Join-Path $collected 'notes.txt') -ErrorVariable problems -ErrorAction SilentlyContinue -WarningAction SilentlyContinue
        $incident.FindingCount | Should -Be 2
        $problems.FullyQualifiedErrorId | Should -Contain 'NotAFinding,FluxForensics.Commands.NewFluxIncidentCommand'
        $problems.FullyQualifiedErrorId | Should -Contain 'UnknownFileFormat,FluxForensics.Commands.NewFluxIncidentCommand'
    }
}
