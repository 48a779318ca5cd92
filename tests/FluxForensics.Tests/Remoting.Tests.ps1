#Requires -Version 7.3
# Every cmdlet through PowerShell remoting over SSH, against a real sshd on 127.0.0.1 with a `powershell` subsystem.

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestSupport.psm1') -Force
    Import-Module (Get-FluxManifestPath) -Force
    $script:server = Start-FluxSshServer
    $script:session = $null
    if (-not $server.Skip) {
        $script:session = New-FluxSshSession $server
        $manifest = Get-FluxManifestPath
        Invoke-Command -Session $session { Import-Module $using:manifest -ErrorAction Stop }
        $script:remoteName = Invoke-Command -Session $session { [Environment]::MachineName }
    }
    $script:samples = Get-FluxSamplePath

    # Runs a cmdlet remotely; marks the test skipped (with the reason) while the cmdlet is still a shell.
    function Invoke-Remote([scriptblock] $Script, [object[]] $Arguments = @()) {
        try {
            Invoke-Command -Session $session -ScriptBlock $Script -ArgumentList $Arguments -ErrorAction Stop
        }
        catch {
            if ("$($_.FullyQualifiedErrorId) $($_.Exception.Message)" -match 'NotImplementedYet|not implemented yet') {
                Set-ItResult -Skipped -Because "the cmdlet is not implemented yet: $($_.Exception.Message)"
                return
            }
            throw
        }
    }

    function Assert-RemoteFinding($results, [string] $Type) {
        $typed = @($results | Where-Object { $_.PSObject.TypeNames[0] -eq "Deserialized.FluxForensics.Model.$Type" })
        $typed.Count | Should -BeGreaterThan 0 -Because "remoting returns typed $Type objects"
        foreach ($r in $typed) {
            $r.PSComputerName | Should -Be '127.0.0.1'
            $r.ComputerName | Should -Be $remoteName
            $r.Reasons | Should -Not -BeNullOrEmpty
        }
        $text = $typed[0] | Format-Table | Out-String
        $text | Should -Match 'RiskScore' -Because 'the default view applies to the deserialized object'
    }
}

AfterAll {
    if ($session) { Remove-PSSession $session -ErrorAction SilentlyContinue }
    Stop-FluxSshServer $server
}

Describe 'Remoting over SSH' {
    BeforeEach {
        if ($server.Skip) { Set-ItResult -Skipped -Because $server.Skip }
    }

    It 'connects to the powershell subsystem and imports the built module remotely' {
        $exported = Invoke-Command -Session $session { (Get-Module FluxForensics).ExportedCmdlets.Keys }
        $exported | Should -Contain 'Get-FluxListener'
    }

    It 'returns a finding made remotely typed, with PSComputerName and the remote ComputerName, and formats it' {
        $support = Join-Path $PSScriptRoot 'TestSupport.psm1'
        $result = Invoke-Command -Session $session {
            Import-Module $using:support
            $f = New-FluxFinding -Type FluxListener -Property @{ Protocol = 'Tcp'; LocalAddress = '0.0.0.0'; LocalPort = 80; ProcessId = 4242; ProcessName = 'mobile7.exe' }
            $card = [Activator]::CreateInstance($f.GetType().Assembly.GetType('FluxForensics.Model.FindingReason'), @('listens on TCP 80', 40))
            $arr = [Array]::CreateInstance($card.GetType(), 1); $arr[0] = $card
            $f.GetType().GetProperty('Reasons').GetSetMethod($true).Invoke($f, @(, $arr)) | Out-Null
            $f
        }
        Assert-RemoteFinding $result 'FluxListener'
        $result.LocalPort | Should -Be 80
        $result.Reasons[0].Points | Should -Be 40
    }

    It 'runs Get-FluxListener remotely (sshd itself listens)' {
        $results = Invoke-Remote { Get-FluxListener -MinimumRiskScore 0 -WarningAction SilentlyContinue }
        if ($results) {
            @($results | Where-Object ProcessName -match 'sshd').Count | Should -BeGreaterThan 0
            Assert-RemoteFinding $results 'FluxListener'
        }
    }

    It 'runs Get-SuspiciousAutorun remotely on an offline root' {
        $root = Join-Path $samples 'autorun-linux'
        if (-not (Test-Path -LiteralPath $root)) { Set-ItResult -Skipped -Because "no sample autorun root at $root (fixture command autorun-tree not built yet)"; return }
        $results = Invoke-Remote { param($r) Get-SuspiciousAutorun -Root $r } @($root)
        if ($results) { Assert-RemoteFinding $results 'SuspiciousAutorun' }
    }

    It 'runs Find-UsbLnkTrap remotely' {
        $usb = Join-Path $samples 'usb'
        if (-not (Test-Path -LiteralPath $usb)) { Set-ItResult -Skipped -Because "no sample USB tree at $usb (fixture command usb-trap not built yet)"; return }
        $results = Invoke-Remote { param($p) Find-UsbLnkTrap -LiteralPath $p } @($usb)
        if ($results) { Assert-RemoteFinding $results 'UsbLnkTrap' }
    }

    It 'runs Invoke-PcapFluxAnalysis remotely' {
        $capture = Join-Path $samples 'incident.pcapng'
        if (-not (Test-Path -LiteralPath $capture)) { Set-ItResult -Skipped -Because "no sample capture at $capture (fixture command incident-capture not built yet)"; return }
        $results = Invoke-Remote { param($p) Invoke-PcapFluxAnalysis -LiteralPath $p -WarningAction SilentlyContinue } @($capture)
        if ($results) {
            Assert-RemoteFinding $results 'FluxDomain'
            @($results)[-1].PSObject.TypeNames[0] | Should -Be 'Deserialized.FluxForensics.Model.CaptureSummary'
        }
    }

    It 'runs Remove-FluxInfection -WhatIf remotely without prompting and changes nothing' {
        $usb = Join-Path $samples 'usb'
        if (-not (Test-Path -LiteralPath $usb)) { Set-ItResult -Skipped -Because "no sample USB tree at $usb (fixture command usb-trap not built yet)"; return }
        $before = Get-ChildItem -LiteralPath $usb -Recurse -Force | ForEach-Object { "$($_.FullName)|$($_.Length)|$($_.LastWriteTimeUtc.Ticks)" }
        Invoke-Remote { param($p) Find-UsbLnkTrap -LiteralPath $p | Remove-FluxInfection -WhatIf } @($usb) | Out-Null
        $after = Get-ChildItem -LiteralPath $usb -Recurse -Force | ForEach-Object { "$($_.FullName)|$($_.Length)|$($_.LastWriteTimeUtc.Ticks)" }
        $after | Should -Be $before
    }

    It 'refuses to act locally on findings that came back from another computer' {
        $usb = Join-Path $samples 'usb'
        if (-not (Test-Path -LiteralPath $usb)) { Set-ItResult -Skipped -Because "no sample USB tree at $usb (fixture command usb-trap not built yet)"; return }
        $remote = Invoke-Remote { param($p) Find-UsbLnkTrap -LiteralPath $p } @($usb)
        if (-not $remote) { return }
        # Same machine here, so pretend the findings came from elsewhere by renaming their computer, as remoting from another host would.
        $foreign = $remote | ForEach-Object { $_.ComputerName = 'other-host'; $_ }
        $errors = $null
        try { $foreign | Remove-FluxInfection -WhatIf -ErrorVariable errors -ErrorAction SilentlyContinue }
        catch { if ($_.FullyQualifiedErrorId -like 'NotImplementedYet*') { Set-ItResult -Skipped -Because 'Remove-FluxInfection is not implemented yet'; return }; throw }
        @($errors).Count | Should -BeGreaterThan 0
        "$($errors[0])" | Should -Match 'Invoke-Command'
    }
}
