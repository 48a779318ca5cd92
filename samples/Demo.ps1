<#
.SYNOPSIS
    The FluxForensics demo: imports the built module and runs every cmdlet on the bundled sample data and this machine.
.DESCRIPTION
    Run through `dotnet pwsh ./build.ps1 Demo`, which builds the module and generates the samples first
    (out/samples: incident.pcapng, a USB stick tree with the shortcut trap, offline autorun roots).
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory)] [string] $ModulePath,
    [Parameter(Mandatory)] [string] $SamplePath,
    # The fixtures' native apphost: the samples' shared malware binary, run here as the listening relay.
    [string] $FixturesApphost
)
$ErrorActionPreference = 'Stop'
$ConfirmPreference = 'None'
$ProgressPreference = 'SilentlyContinue'
# Plain, wide text: the demo's output is meant to be read in logs and pasted into README.md.
if ($PSVersionTable.PSVersion.Major -ge 7) { $PSStyle.OutputRendering = 'PlainText' }
Import-Module (Join-Path $ModulePath 'FluxForensics.psd1') -Force

function Show-Step([string] $Title, [scriptblock] $Script, [string] $Needs, [string] $Empty = '(no findings)') {
    Write-Host ''
    Write-Host "PS> $Title" -ForegroundColor Cyan
    if ($Needs -and -not (Test-Path -LiteralPath $Needs)) { Write-Host "  (skipped: $Needs was not generated)" -ForegroundColor Yellow; return }
    try {
        $out = & $Script
        if ($null -eq $out) { if ($Empty) { Write-Host "  $Empty" } } else { Write-Host (($out | Out-String -Width 220).TrimEnd()) }
    }
    catch {
        if ($_.FullyQualifiedErrorId -like 'NotImplementedYet*') { Write-Host "  ($($_.Exception.Message))" -ForegroundColor Yellow }
        else { throw }
    }
}

$capture = Join-Path $SamplePath 'incident.pcapng'
$usb = Join-Path $SamplePath 'usb'
$autorunWindows = Join-Path $SamplePath 'autorun-windows'
$autorunLinux = Join-Path $SamplePath 'autorun-linux'

Show-Step 'Invoke-PcapFluxAnalysis -Path out/samples/incident.pcapng | Group-Object Kind' {
    $script:analysis = @(Invoke-PcapFluxAnalysis -LiteralPath $capture -WarningAction SilentlyContinue)
    $analysis | Group-Object Kind -NoElement | Sort-Object Name | Format-Table Count, Name -AutoSize
} $capture
if (Get-Variable -Name analysis -Scope Script -ErrorAction SilentlyContinue) {
    Show-Step '... | Where-Object Kind -eq DnsProxy' { $analysis | Where-Object Kind -eq 'DnsProxy' | Format-Table -AutoSize }
    Show-Step '... | Where-Object Kind -eq FluxDomain | Sort-Object FluxScore -Descending | Select-Object -First 8' {
        $analysis | Where-Object Kind -eq 'FluxDomain' | Sort-Object FluxScore -Descending | Select-Object -First 8 | Format-Table -AutoSize
    }
    Show-Step '... | Where-Object Kind -eq RelaySession | Select-Object -First 5' { $analysis | Where-Object Kind -eq 'RelaySession' | Select-Object -First 5 | Format-Table -AutoSize }
    Show-Step '... | Where-Object Kind -eq FluxDownload | Select-Object -First 5' { $analysis | Where-Object Kind -eq 'FluxDownload' | Select-Object -First 5 | Format-Table -AutoSize }
    Show-Step '... | Where-Object Kind -eq ExposedCredential | Select-Object -First 5' { $analysis | Where-Object Kind -eq 'ExposedCredential' | Select-Object -First 5 | Format-Table -AutoSize }
    Show-Step '... | Where-Object Kind -eq CaptureSummary' { $analysis | Where-Object Kind -eq 'CaptureSummary' | Format-List PacketCount, ByteCount, FlowCount, PacketsPerSecond, FirstPacketTime, LastPacketTime }
    Show-Step '$analysis | ConvertTo-FluxGraph -Format Mermaid' { $analysis | ConvertTo-FluxGraph -Format Mermaid }
    Show-Step '($analysis | Where-Object Kind -eq FluxDomain | Select-Object -First 1).Reasons' { ($analysis | Where-Object Kind -eq 'FluxDomain' | Sort-Object FluxScore -Descending | Select-Object -First 1).Reasons | Format-Table -AutoSize }
}
Show-Step 'Find-UsbLnkTrap -Path out/samples/usb' { Find-UsbLnkTrap -LiteralPath $usb } $usb
Show-Step 'Find-UsbLnkTrap -Path out/samples/usb | Remove-FluxInfection -WhatIf' { Find-UsbLnkTrap -LiteralPath $usb | Remove-FluxInfection -WhatIf -QuarantinePath (Join-Path $SamplePath 'quarantine') } $usb ''
Show-Step 'Get-SuspiciousAutorun -Root out/samples/autorun-windows' { Get-SuspiciousAutorun -Root $autorunWindows } $autorunWindows
Show-Step 'Get-SuspiciousAutorun -Root out/samples/autorun-linux' { Get-SuspiciousAutorun -Root $autorunLinux } $autorunLinux
Show-Step 'Get-FluxListener | Select-Object -First 5   # this machine' { Get-FluxListener -WarningAction SilentlyContinue | Select-Object -First 5 }

# The incident: the samples share one binary (the capture relays it as mobile7.exe, the stick carries it as click.exe,
# the Windows disk's Run value and task start it). A copy of it runs here, hidden, as the listening relay.
$relayProcess = $null
$fixtures = Split-Path -Parent $FixturesApphost
if ($FixturesApphost -and (Test-Path -LiteralPath $FixturesApphost) -and -not $IsWindows) {
    $hidden = Join-Path $SamplePath 'host/.cache/updater'
    if (Test-Path -LiteralPath $hidden) { Remove-Item -LiteralPath $hidden -Recurse -Force }
    New-Item -ItemType Directory -Force -Path $hidden | Out-Null
    Copy-Item -Path (Join-Path $fixtures '*') -Destination $hidden -Recurse
    $image = Join-Path $hidden 'mobile7'
    Move-Item -LiteralPath (Join-Path $hidden (Split-Path -Leaf $FixturesApphost)) -Destination $image
    # Port 80 as the case had it when this user may bind it and it is free; any free port otherwise.
    $ports = @(if ((& id -u) -eq '0') { 80 }) + @((Get-Random -Minimum 20000 -Maximum 60000))
    foreach ($listenPort in $ports) {
        $ready = Join-Path $hidden "ready-$listenPort.txt"
        $start = [System.Diagnostics.ProcessStartInfo]::new($image)
        foreach ($a in @('listener-plain', '--port', "$listenPort", '--ready-file', $ready, '--seconds', '120')) { $start.ArgumentList.Add($a) }
        $start.RedirectStandardInput = $true
        $start.UseShellExecute = $false
        $relayProcess = [System.Diagnostics.Process]::Start($start)
        $deadline = [DateTime]::UtcNow.AddSeconds(20)
        while (-not (Test-Path -LiteralPath $ready) -and [DateTime]::UtcNow -lt $deadline -and -not $relayProcess.HasExited) { Start-Sleep -Milliseconds 100 }
        if ((Test-Path -LiteralPath $ready) -and (Get-Content -Raw -LiteralPath $ready) -like 'ready*') { break }
        if (-not $relayProcess.HasExited) { $relayProcess.Kill() }
        $relayProcess = $null
    }
}
try {
    Show-Step 'Get-FluxListener | Where-Object ProcessName -eq mobile7   # the relay, started from the shared binary' {
        $script:listeners = @(Get-FluxListener -WarningAction SilentlyContinue | Where-Object { $relayProcess -and $_.ProcessId -eq $relayProcess.Id })
        $listeners | Format-Table Severity, RiskScore, Protocol, LocalPort, ProcessName, Path, Sha256 -AutoSize
    }
    Show-Step '$incident = $analysis + $listeners + (Find-UsbLnkTrap ...) + (Get-SuspiciousAutorun -Root ...) | New-FluxIncident -ComputerAddress @{ <this computer> = ''140.127.1.77'' }' {
        $evidence = @($analysis) + @($listeners) + @(Find-UsbLnkTrap -LiteralPath $usb) + @(Get-SuspiciousAutorun -Root $autorunWindows)
        $script:incident = $evidence | New-FluxIncident -ComputerAddress @{ ([Environment]::MachineName) = '140.127.1.77' } -WarningAction SilentlyContinue
        $incident
    } $capture
    if (Get-Variable -Name incident -Scope Script -ErrorAction SilentlyContinue) {
        Show-Step '$incident.Correlations | Select-Object -First 6' { $incident.Correlations | Select-Object -First 6 }
        Show-Step '$incident.Correlations[0].Evidence' { $incident.Correlations[0].Evidence | Format-Table Kind, ComputerName, Role, Location -AutoSize }
        Show-Step '$incident.Timeline | Where-Object Kind -ne FluxDomain | Select-Object -First 10' { $incident.Timeline | Where-Object Kind -ne 'FluxDomain' | Select-Object -First 10 }
        Show-Step '$incident.Hosts | Select-Object -First 5' { $incident.Hosts | Select-Object -First 5 }
        $outFolder = Split-Path -Parent $SamplePath
        $report = Join-Path $outFolder 'report.html'
        $stix = Join-Path $outFolder 'iocs.stix.json'
        Show-Step '$incident | Export-FluxReport -Path out/report.html -Force -PassThru' {
            $incident | Export-FluxReport -Path $report -Title 'FluxForensics demo: a fast-flux relay and its host' -Force -PassThru | Format-Table Name, Length, LastWriteTime -AutoSize
        }
        Show-Step '$incident | Export-FluxIndicator -Format Stix -Path out/iocs.stix.json -Force -PassThru' {
            $incident | Export-FluxIndicator -Format Stix -Path $stix -Producer 'FluxForensics demo' -Force -PassThru | Format-Table Name, Length, LastWriteTime -AutoSize
        }
        Write-Host ''
        Write-Host "The report: $report (open it in a browser; print it to PDF from there)"
        Write-Host "The indicators: $stix (a STIX 2.1 bundle, TLP:AMBER)"
    }
}
finally {
    if ($relayProcess) {
        try { $relayProcess.StandardInput.Close() } catch { }
        if (-not $relayProcess.WaitForExit(5000)) { $relayProcess.Kill() }
    }
}
exit 0
