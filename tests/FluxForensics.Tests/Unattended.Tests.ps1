#Requires -Version 5.1
# Scheduled-task / cron use: every cmdlet under pwsh -NonInteractive without prompting. Invoke-FluxSweep's exit codes
# are tested in Invoke-FluxSweep.Tests.ps1.

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestSupport.psm1') -Force
}

Describe 'Unattended runs under pwsh -NonInteractive' {
    It 'runs every cmdlet non-interactively without prompting (Remove-FluxInfection -WhatIf and Register-FluxSweep -WhatIf included)' {
        # Under -NonInteractive a prompt is an error, so any cmdlet that tried to prompt fails this run.
        $script = @'
$ErrorActionPreference = 'Continue'
$prompted = @()
$temp = [System.IO.Path]::GetTempPath()
$calls = @(
    { Get-FluxListener -WarningAction SilentlyContinue | Out-Null },
    { Get-SuspiciousAutorun -Root $temp | Out-Null },
    { Find-UsbLnkTrap -LiteralPath $temp | Out-Null },
    { Get-FluxQuarantine -QuarantinePath (Join-Path $temp 'flux-empty-store') | Out-Null },
    { Remove-FluxInfection -InputObject ([pscustomobject]@{ Kind = 'UsbLnkTrap'; ComputerName = [Environment]::MachineName; ShortcutPath = '/nonexistent/x.lnk'; DriveRoot = '/nonexistent' }) -WhatIf -QuarantinePath (Join-Path $temp 'flux-empty-store') | Out-Null },
    { Invoke-FluxSweep -Check Usb -UsbPath $temp -WarningAction SilentlyContinue | Out-Null },
    { Register-FluxSweep -WhatIf -UnitPath (Join-Path $temp 'flux-no-units') | Out-Null },
    { Unregister-FluxSweep -WhatIf -UnitPath (Join-Path $temp 'flux-no-units') -ErrorAction SilentlyContinue | Out-Null }
)
foreach ($c in $calls) {
    try { & $c } catch { if ($_.FullyQualifiedErrorId -match 'HostFunctionNotImplemented|PromptForChoice|ReadLine') { $prompted += "$c" } }
}
if ($prompted) { Write-Output "PROMPTED: $($prompted -join '; ')"; exit 3 }
exit 0
'@
        $r = Invoke-FluxFreshPwsh -Script $script -TimeoutSeconds 180
        $r.ExitCode | Should -Be 0 -Because "$($r.Output) $($r.Error)"
    }
}
