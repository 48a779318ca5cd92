<#
.SYNOPSIS
    Unattended sweep for scheduled tasks, cron and Invoke-Command: runs the FluxForensics checks, writes the findings
    as JSON, and returns an exit code a scheduler can act on.
.DESCRIPTION
    Exit codes: 0 nothing at or above -FailOn was found; 1 something was; 2 a check could not run (the error is
    recorded in the JSON). Never prompts: every cmdlet runs non-interactively.

    Windows Task Scheduler:
        pwsh.exe -NonInteractive -NoProfile -File C:\Tools\Invoke-FluxSweep.ps1 -OutputPath C:\ProgramData\FluxForensics\sweep.json
    cron (root):
        */30 * * * * pwsh -NonInteractive -NoProfile -File /opt/fluxforensics/Invoke-FluxSweep.ps1 -OutputPath /var/log/fluxsweep.json
.PARAMETER Check
    Listener, Autorun, Usb, Capture (default: Listener, Autorun, Usb).
.PARAMETER OutputPath
    Where to write the findings JSON.
.PARAMETER FailOn
    The severity at or above which the exit code is 1 (default High).
#>
[CmdletBinding()]
param(
    [ValidateSet('Listener', 'Autorun', 'Usb', 'Capture')]
    [string[]] $Check = @('Listener', 'Autorun', 'Usb'),
    [Parameter(Mandatory)] [string] $OutputPath,
    [ValidateSet('Info', 'Low', 'Medium', 'High', 'Critical')]
    [string] $FailOn = 'High',
    [string[]] $UsbPath,
    [string] $AutorunRoot,
    [string[]] $CapturePath,
    [string] $ModulePath
)
$ErrorActionPreference = 'Stop'
$ConfirmPreference = 'None'
if ($ModulePath) { Import-Module $ModulePath -ErrorAction Stop } else { Import-Module FluxForensics -ErrorAction Stop }

$findings = [System.Collections.Generic.List[object]]::new()
$errors = [System.Collections.Generic.List[object]]::new()
foreach ($name in $Check) {
    try {
        $found = switch ($name) {
            'Listener' { Get-FluxListener -WarningAction SilentlyContinue }
            'Autorun' { if ($AutorunRoot) { Get-SuspiciousAutorun -Root $AutorunRoot } else { Get-SuspiciousAutorun } }
            'Usb' { if ($UsbPath) { Find-UsbLnkTrap -LiteralPath $UsbPath } else { Find-UsbLnkTrap } }
            'Capture' { Invoke-PcapFluxAnalysis -LiteralPath $CapturePath -WarningAction SilentlyContinue }
        }
        foreach ($f in $found) { $findings.Add($f) }
    }
    catch {
        $errors.Add([pscustomobject]@{ Check = $name; ErrorId = $_.FullyQualifiedErrorId; Message = $_.Exception.Message })
    }
}

$threshold = [int][FluxForensics.Model.Severity]::$FailOn
# Severity "High", not 3: PowerShell 7 names enums on request; Windows PowerShell 5.1's ConvertTo-Json cannot.
$json = @{ Depth = 5 }
if ($PSVersionTable.PSVersion.Major -ge 7) { $json.EnumsAsStrings = $true }
$hits = @($findings | Where-Object { $_.PSObject.Properties['Severity'] -and [int]$_.Severity -ge $threshold })
[pscustomobject]@{
    ComputerName = [Environment]::MachineName
    Time         = [DateTime]::UtcNow.ToString('o')
    FailOn       = $FailOn
    Findings     = @($findings)
    Errors       = @($errors)
} | ConvertTo-Json @json | Set-Content -LiteralPath $OutputPath -Encoding utf8

if ($errors.Count) { exit 2 }
if ($hits.Count) { exit 1 }
exit 0
