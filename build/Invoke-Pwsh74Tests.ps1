#requires -Version 7.2
<#
.SYNOPSIS
    The PowerShell 7.4 lane: publishes tests/FluxForensics.Pwsh74 (the 7.4 engine on the .NET 8 runtime, self-contained)
    and runs the built module in it, writing <OutputDirectory>/pwsh74-summary.json.

.DESCRIPTION
    The build and the other lanes run PowerShell 7.6 on .NET 10, where every framework assembly is newer than the
    module's dependencies ask for. PowerShell 7.4 runs on .NET 8; this lane is where the net8.0 build meets it: import,
    SharpPcap's System.Text.Encoding.CodePages 9.0.0.0 reference, live-capture and file analysis.
    Summary contract as the Wine and Mono lanes (build/Read-TestCounts.ps1 -Json reads it). Exits 0 when nothing failed.
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory)] [string] $OutputDirectory,
    [Parameter(Mandatory)] [string] $ModulePath,
    [string] $SamplePath = '',
    [string] $Configuration = 'Release',
    [int] $TimeoutSeconds = 300
)
Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'

$repoRoot = Split-Path -Parent $PSScriptRoot
$project = Join-Path $repoRoot 'tests/FluxForensics.Pwsh74/FluxForensics.Pwsh74.csproj'
$OutputDirectory = [IO.Path]::GetFullPath($OutputDirectory, (Get-Location).ProviderPath)
$null = New-Item -ItemType Directory -Force -Path $OutputDirectory
$summaryPath = Join-Path $OutputDirectory 'pwsh74-summary.json'
$logPath = Join-Path $OutputDirectory 'pwsh74-tests.log'
$publishDirectory = Join-Path $repoRoot 'out/Pwsh74'
$started = [Diagnostics.Stopwatch]::StartNew()
$summary = [ordered]@{
    Passed = 0; Failed = 0; Skipped = 0
    Skips = [Collections.Generic.List[string]]::new(); Failures = [Collections.Generic.List[string]]::new()
    Lane = 'Ran'; Reason = ''; Seconds = 0; Log = $logPath
}

function Complete-Lane([string] $lane, [string] $reason) {
    $summary.Lane = $lane
    $summary.Reason = $reason
    if ($lane -eq 'Skipped') { $summary.Skipped++; $summary.Skips.Add("PowerShell 7.4 lane: $reason") }
    elseif ($lane -eq 'Broken') { $summary.Failed++; $summary.Failures.Add("PowerShell 7.4 lane: $reason") }
    $summary.Seconds = [math]::Round($started.Elapsed.TotalSeconds, 1)
    $summary | ConvertTo-Json -Depth 4 | Set-Content -LiteralPath $summaryPath -Encoding utf8
    Write-Host ("PowerShell 7.4 lane ({0}): {1} passed / {2} failed / {3} skipped in {4} s; summary {5}" -f
        $summary.Lane, $summary.Passed, $summary.Failed, $summary.Skipped, $summary.Seconds, $summaryPath)
    exit ([int]($summary.Failed -gt 0))
}

Remove-Item -LiteralPath $summaryPath -ErrorAction Ignore
if (-not $IsLinux -or [Runtime.InteropServices.RuntimeInformation]::OSArchitecture -ne 'X64') {
    Complete-Lane 'Skipped' 'the 7.4 host is published for linux-x64 only'
}

Write-Host "Publishing the PowerShell 7.4 host (linux-x64, self-contained .NET 8) to $publishDirectory"
$publishLog = Join-Path $OutputDirectory 'pwsh74-publish.log'
& dotnet publish $project -c $Configuration -o $publishDirectory -nologo -v quiet *> $publishLog
if ($LASTEXITCODE) {
    Get-Content -LiteralPath $publishLog -Tail 20 | ForEach-Object { Write-Host "  $_" }
    Complete-Lane 'Broken' "dotnet publish of the 7.4 host failed (exit $LASTEXITCODE); see $publishLog"
}

$manifest = Join-Path ([IO.Path]::GetFullPath($ModulePath, (Get-Location).ProviderPath)) 'FluxForensics.psd1'
$start = [Diagnostics.ProcessStartInfo]::new((Join-Path $publishDirectory 'FluxForensics.Pwsh74'))
foreach ($a in @((Join-Path $repoRoot 'tests/FluxForensics.Pwsh74/Checks.ps1'), $manifest, $SamplePath)) { $start.ArgumentList.Add($a) }
$start.RedirectStandardOutput = $true
$start.RedirectStandardError = $true
$start.UseShellExecute = $false
$process = [Diagnostics.Process]::Start($start)
$stdout = $process.StandardOutput.ReadToEndAsync()
$stderr = $process.StandardError.ReadToEndAsync()
if (-not $process.WaitForExit($TimeoutSeconds * 1000)) {
    $process.Kill($true)
    Complete-Lane 'Broken' "the 7.4 host hung and was killed after $TimeoutSeconds s"
}
$process.WaitForExit()
Set-Content -LiteralPath $logPath -Value ($stdout.Result + $stderr.Result) -Encoding utf8

foreach ($line in $stdout.Result -split "`r?`n") {
    if ($line -match '^PASS (.+)$') { $summary.Passed++ }
    elseif ($line -match '^SKIP (.+)$') { $summary.Skipped++; $summary.Skips.Add("PowerShell 7.4: $($Matches[1])") }
    elseif ($line -match '^FAIL (.+)$') { $summary.Failed++; $summary.Failures.Add("PowerShell 7.4: $($Matches[1])") }
}
if ($stderr.Result.Trim()) {
    # An error the checks did not catch (the host prints them as ERROR/THROWN lines).
    $summary.Failed++
    $summary.Failures.Add("PowerShell 7.4: the host reported: $(($stderr.Result.Trim() -split "`r?`n" | Select-Object -First 3) -join ' | ')")
}
if ($summary.Passed + $summary.Failed + $summary.Skipped -eq 0) { Complete-Lane 'Broken' "the 7.4 host ran no check (exit $($process.ExitCode)); see $logPath" }
foreach ($failure in $summary.Failures) { Write-Host "  FAILED $failure" }
Complete-Lane 'Ran' ''
