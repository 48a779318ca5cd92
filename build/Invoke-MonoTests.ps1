#requires -Version 7.2
<#
.SYNOPSIS
    The net472 lane: builds tests/FluxForensics.Core.MonoTests (the Core xunit suite compiled against Core's net472
    build, the one Windows PowerShell 5.1 loads) and runs it under Mono with xunit's .NET Framework console runner,
    writing <OutputDirectory>/mono-summary.json.

.DESCRIPTION
    Mono comes from Debian's mono-devel: mono-runtime alone lacks the netstandard facade that SharpPcap, MaxMind.Db and
    System.Memory's netstandard2.0 builds need. When mono is missing and this is root, the script installs mono-devel;
    without it and without root the lane is skipped and the summary says why (one skipped entry).

    What Mono cannot run is listed below ($notRun) with the reason; those tests are not started (-nomethod) and count
    as skipped with that reason. Test files that do not compile for .NET Framework are excluded in the project file
    and reported here the same way.

    The summary contract is the Wine lane's (build/Read-TestCounts.ps1 -Json reads it):
      { "Passed": n, "Failed": n, "Skipped": n, "Skips": [...], "Failures": [...], "Lane": "Ran"|"Skipped"|"Broken",
        "Reason": "...", "Mono": "6.8.0.105", "Seconds": n, "Log": "...", "Report": "..." }
    The script exits 0 when Failed is 0, 1 otherwise.

.EXAMPLE
    ./build/Invoke-MonoTests.ps1 -OutputDirectory out/TestResults
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory)]
    [string] $OutputDirectory,

    [string] $Configuration = 'Release',

    # Hang guard for the whole run. Under a minute on an idle machine.
    [int] $TimeoutSeconds = 600,

    # Do not try to install mono-devel even when running as root.
    [switch] $NoInstall
)

Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'

$repoRoot = Split-Path -Parent $PSScriptRoot
$project = Join-Path $repoRoot 'tests/FluxForensics.Core.MonoTests/FluxForensics.Core.MonoTests.csproj'
$OutputDirectory = [IO.Path]::GetFullPath($OutputDirectory, (Get-Location).ProviderPath)
$null = New-Item -ItemType Directory -Force -Path $OutputDirectory
$summaryPath = Join-Path $OutputDirectory 'mono-summary.json'
$logPath = Join-Path $OutputDirectory 'mono-tests.log'
$report = Join-Path $OutputDirectory 'mono-results.xml'
$started = [Diagnostics.Stopwatch]::StartNew()

# Tests Mono (or the net472 build on Linux) cannot run, and why. Fully qualified method names.
$notRun = [ordered]@{
    'FluxForensics.Tests.Relay.TcpReassemblerTests.BothDirectionsAreDeliveredInOrderAndTheFlowLeavesOnFin' =
        "under Mono 6.8, xunit 2.9's collection comparison reads the expected TcpCloseReason[] element as System.Int32 and reports [0] <> [Fin] although the reassembler delivered Fin (the test passes on .NET)"
    'FluxForensics.Tests.Relay.TcpReassemblerTests.ResetClosesAndLateAcksDoNotResurrectTheFlow' =
        "under Mono 6.8, xunit 2.9's collection comparison reads the expected TcpCloseReason[] element as System.Int32 and reports [1] <> [Reset] although the reassembler delivered Reset (the test passes on .NET)"
    'FluxForensics.Tests.Remediation.RemediationTests.InterruptedQuarantineIsSettledFromTheMachineState' =
        'the test tears the journal by appending to it while the run still holds it open with FileShare.Read; Mono enforces share modes between handles of one process as Windows does (.NET on Linux does not), so the append is a sharing violation'
    'FluxForensics.Tests.Usb.UsbTrapTests.RemovableDrivesComeFromMountInfoAndTheSysfsRemovableFlag' =
        'the net472 build resolves no symbolic links (FileSystemInfo.LinkTarget/ResolveLinkTarget are .NET 6+; Host/RemovableDrives uses them under NET8_0_OR_GREATER), and the sysfs block entries of this test are links'
    'FluxForensics.Tests.Autorun.PersistenceTests.AbsoluteLinksInsideAnOfflineRootStayInsideTheRoot' =
        'the net472 build resolves no symbolic links (Host/Persistence reads FileSystemInfo.LinkTarget only on .NET), so a systemd unit linked inside an offline root is not followed'
}
# Whole files the project does not compile for .NET Framework (see the .csproj), and why.
$notCompiled = [ordered]@{
    'tests/FluxForensics.Core.Tests/Listener/SocketTableTests.cs' = 'not compiled for net472: it puts a TcpListener in a using statement, and TcpListener is not IDisposable on .NET Framework'
}

$summary = [ordered]@{
    Passed   = 0
    Failed   = 0
    Skipped  = 0
    Skips    = [Collections.Generic.List[string]]::new()
    Failures = [Collections.Generic.List[string]]::new()
    Lane     = 'Ran'
    Reason   = ''
    Mono     = ''
    Seconds  = 0
    Log      = $logPath
    Report   = $report
}

function Write-Summary {
    $summary.Seconds = [math]::Round($started.Elapsed.TotalSeconds, 1)
    $summary | ConvertTo-Json -Depth 4 | Set-Content -LiteralPath $summaryPath -Encoding utf8
    $mono = if ($summary.Mono) { "Mono $($summary.Mono)" } else { 'no Mono' }
    Write-Host ("net472 lane ({0}, {1}): {2} passed / {3} failed / {4} skipped in {5} s; summary {6}" -f
        $summary.Lane, $mono, $summary.Passed, $summary.Failed, $summary.Skipped, $summary.Seconds, $summaryPath)
}

function Complete-Lane([string] $lane, [string] $reason) {
    $summary.Lane = $lane
    $summary.Reason = $reason
    if ($lane -eq 'Skipped') {
        $summary.Skipped++
        $summary.Skips.Add("net472 lane (Mono): $reason")
        Write-Warning "net472 lane skipped: $reason"
    }
    elseif ($lane -eq 'Broken') {
        $summary.Failed++
        $summary.Failures.Add("net472 lane (Mono): $reason")
        Write-Warning "net472 lane broken: $reason"
    }
    Write-Summary
    exit ([int]($summary.Failed -gt 0))
}

function Find-Mono {
    $command = Get-Command mono -CommandType Application -ErrorAction Ignore | Select-Object -First 1
    if ($command) { return $command.Source }
    return $null
}

# mono-devel, not mono-runtime: only the former ships lib/mono/4.5/Facades/netstandard.dll.
function Find-NetstandardFacade([string] $mono) {
    $prefix = Split-Path -Parent (Split-Path -Parent ([IO.Path]::GetFullPath((Get-Item -LiteralPath $mono).ResolvedTarget ?? $mono)))
    foreach ($candidate in @((Join-Path $prefix 'lib/mono/4.5/Facades/netstandard.dll'), '/usr/lib/mono/4.5/Facades/netstandard.dll')) {
        if (Test-Path -LiteralPath $candidate) { return $candidate }
    }
    return $null
}

function Install-Mono {
    if ($NoInstall) { return 'mono-devel is not installed (and -NoInstall was given)' }
    if ((& id -u) -ne '0') { return 'mono-devel is not installed and this is not root, so it cannot be installed (apt-get install mono-devel)' }
    if (-not (Get-Command apt-get -ErrorAction Ignore)) { return 'mono-devel is not installed and apt-get is not available' }
    Write-Host 'Installing Mono: apt-get install -y --no-install-recommends mono-devel'
    $env:DEBIAN_FRONTEND = 'noninteractive'
    & apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends mono-devel *>> $logPath
    if ($LASTEXITCODE) {
        & apt-get -o DPkg::Lock::Timeout=300 update -qq *>> $logPath
        & apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends mono-devel *>> $logPath
    }
    if ($LASTEXITCODE) { return "apt-get install mono-devel failed (exit $LASTEXITCODE); see $logPath" }
    return $null
}

# Reads an xunit v2 XML report into the summary.
function Read-XunitReport([string] $path) {
    [xml] $xml = Get-Content -LiteralPath $path -Raw
    foreach ($test in $xml.SelectNodes('//test')) {
        $name = $test.GetAttribute('name')
        switch ($test.GetAttribute('result')) {
            'Pass' { $summary.Passed++ }
            'Skip' {
                $summary.Skipped++
                $reason = $test.SelectSingleNode('reason')
                $summary.Skips.Add("${name}: $(if ($reason) { $reason.InnerText.Trim() } else { 'no reason given' })")
            }
            default {
                $summary.Failed++
                $message = $test.SelectSingleNode('failure/message')
                $text = if ($message) { ($message.InnerText.Trim() -split "`r?`n") -join ' | ' } else { "result $($test.GetAttribute('result'))" }
                $summary.Failures.Add("${name}: $text")
            }
        }
    }
    foreach ($errorNode in $xml.SelectNodes('//errors/error')) {
        $summary.Failed++
        $message = $errorNode.SelectSingleNode('failure/message')
        $summary.Failures.Add("$($errorNode.GetAttribute('name')) ($($errorNode.GetAttribute('type'))): $(if ($message) { $message.InnerText.Trim() })")
    }
}

Set-Content -LiteralPath $logPath -Value "net472 lane (Mono), $(Get-Date -AsUTC -Format o)" -Encoding utf8
Remove-Item -LiteralPath $summaryPath, $report -ErrorAction Ignore

if (-not $IsLinux) {
    Complete-Lane 'Skipped' 'the net472 lane runs the .NET Framework build under Mono on Linux; on Windows, Windows PowerShell 5.1 runs the Pester suite against it'
}

# ---- Mono --------------------------------------------------------------------------------------------------------
$mono = Find-Mono
$facade = if ($mono) { Find-NetstandardFacade $mono }
if (-not $mono -or -not $facade) {
    $why = Install-Mono
    if ($why) { Complete-Lane 'Skipped' $why }
    $mono = Find-Mono
    $facade = if ($mono) { Find-NetstandardFacade $mono }
    if (-not $mono -or -not $facade) { Complete-Lane 'Broken' 'apt-get installed mono-devel but no mono with the netstandard facade was found' }
}
$summary.Mono = ((& $mono --version | Select-Object -First 1) -replace '^.*version\s+(\S+).*$', '$1')

# ---- Build -------------------------------------------------------------------------------------------------------
Write-Host "Building the net472 test assembly ($Configuration)"
$buildLog = Join-Path $OutputDirectory 'mono-build.log'
& dotnet build $project -c $Configuration -nologo -v quiet *> $buildLog
if ($LASTEXITCODE) {
    Get-Content -LiteralPath $buildLog -Tail 30 | ForEach-Object { Write-Host "  $_" }
    Complete-Lane 'Broken' "dotnet build of the net472 test assembly failed (exit $LASTEXITCODE); see $buildLog"
}
$bin = Join-Path $repoRoot "tests/FluxForensics.Core.MonoTests/bin/$Configuration/net472"
$assembly = Join-Path $bin 'FluxForensics.Core.Tests.dll'

# The runner version is the one the project restores.
[xml] $projectXml = Get-Content -Raw -LiteralPath $project
$runnerVersion = $projectXml.SelectSingleNode("//PackageReference[@Include='xunit.runner.console']").GetAttribute('VersionOverride')
$packages = if ($env:NUGET_PACKAGES) { $env:NUGET_PACKAGES } else { Join-Path ([Environment]::GetFolderPath('UserProfile')) '.nuget/packages' }
$runner = Join-Path $packages "xunit.runner.console/$runnerVersion/tools/net472/xunit.console.exe"
if (-not (Test-Path -LiteralPath $runner)) { Complete-Lane 'Broken' "the xunit console runner is missing at $runner (the project restores it)" }

# ---- Run ---------------------------------------------------------------------------------------------------------
# Sequential: one Mono process on a shared 2-core machine, and the run takes well under a minute.
$arguments = @($runner, $assembly, '-noshadow', '-nologo', '-nocolor', '-parallel', 'none', '-xml', $report)
foreach ($method in $notRun.Keys) { $arguments += @('-nomethod', $method) }
Write-Host "Running the Core suite under Mono $($summary.Mono) (timeout $TimeoutSeconds s; log $logPath)"
$start = [Diagnostics.ProcessStartInfo]::new('/bin/sh')
foreach ($a in @('-c', 'exec "$@" >>"$FLUX_LANE_LOG" 2>&1 </dev/null', 'sh', $mono) + $arguments) { $start.ArgumentList.Add($a) }
$start.Environment['FLUX_LANE_LOG'] = $logPath
$start.WorkingDirectory = $bin
$start.UseShellExecute = $false
$process = [Diagnostics.Process]::Start($start)
try {
    if (-not $process.WaitForExit($TimeoutSeconds * 1000)) {
        $process.Kill($true)
        $null = $process.WaitForExit(15000)
        Get-Content -LiteralPath $logPath -Tail 30 | ForEach-Object { Write-Host "  $_" }
        Complete-Lane 'Broken' "the Mono test run hung and was killed after $TimeoutSeconds s; see $logPath"
    }
    $process.WaitForExit()
}
finally {
    $process.Dispose()
}

if (-not (Test-Path -LiteralPath $report)) {
    Get-Content -LiteralPath $logPath -Tail 30 | ForEach-Object { Write-Host "  $_" }
    Complete-Lane 'Broken' "the Mono test run wrote no report; see $logPath"
}
Read-XunitReport $report
foreach ($method in $notRun.Keys) {
    $summary.Skipped++
    $summary.Skips.Add("${method}: not run under Mono: $($notRun[$method])")
}
foreach ($file in $notCompiled.Keys) {
    $methods = @(Select-String -LiteralPath (Join-Path $repoRoot $file) -Pattern '^\s*\[(Skippable)?(Fact|Theory)\b').Count
    $summary.Skipped += $methods
    $summary.Skips.Add("$file ($methods tests): $($notCompiled[$file])")
}
foreach ($failure in $summary.Failures) { Write-Host "  FAILED $failure" }
Complete-Lane 'Ran' ''
