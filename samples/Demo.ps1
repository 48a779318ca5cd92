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
    [Parameter(Mandatory)] [string] $SamplePath
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
exit 0
