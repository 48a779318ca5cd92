#requires -Version 7.2
<#
.SYNOPSIS
    The Windows test lane: publishes tests/FluxForensics.WindowsTests self-contained for win-x64, runs it under Wine
    (natively on Windows) with timeouts, and writes <OutputDirectory>/wine-summary.json.

.DESCRIPTION
    On Linux, Wine is found on PATH (wine64, then /usr/lib/wine/wine64, then wine) or, when missing and running as
    root, installed with `apt-get install -y wine64`. Without Wine and without root the lane is skipped and the
    summary says why (one skipped entry). Each run gets a fresh temporary WINEPREFIX, initialised once (wineboot)
    and deleted afterwards.

    Every Wine start is bounded by a timeout. A run that does not finish in time is killed and counts as a failure
    with the end of its log shown; the lane then runs each test class in its own process (each with its own
    timeout) so the tests that do work still report.

    The summary contract (wine-summary.json):
      { "Passed": n, "Failed": n, "Skipped": n,
        "Skips":    [ "<test>: <reason>", ... ],
        "Failures": [ "<test>: <message>", ... ],
        "Lane": "Ran" | "Skipped" | "Broken",  "Reason": "...",  "Wine": "8.0",  "Seconds": n,
        "Log": "<path of the runner output>", "Reports": [ "<xunit xml report>", ... ] }
    Passed/Failed/Skipped are the counts to add to the build's `Tests:` line. A lane that could not run at all
    (publish failed, Wine would not start) is Lane=Broken with one failure saying why.

    The script exits 0 when Failed is 0, 1 otherwise.

.EXAMPLE
    ./build/Invoke-WineTests.ps1 -OutputDirectory out/TestResults
#>
[CmdletBinding()]
param(
    # Where wine-summary.json, the runner log and the xunit XML reports go (created if missing).
    [Parameter(Mandatory)]
    [string] $OutputDirectory,

    [string] $Configuration = 'Release',

    # Upper bound for the whole test run in one process. An idle machine needs well under a minute; the bound is a hang
    # guard with room for a heavily loaded one (each Wine process start costs seconds of CPU).
    [int] $RunTimeoutSeconds = 300,

    # Upper bound for one test class when the whole run hung and classes are run one by one.
    [int] $ClassTimeoutSeconds = 120,

    # Upper bound for all the one-class-at-a-time runs together; classes left when it is spent count as failures.
    [int] $SalvageBudgetSeconds = 600,

    # Upper bound for initialising the Wine prefix (the first start is the slow one).
    [int] $PrefixTimeoutSeconds = 240,

    # Do not try to install Wine even when running as root.
    [switch] $NoInstall
)

Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'

$repoRoot = Split-Path -Parent $PSScriptRoot
$project = Join-Path $repoRoot 'tests/FluxForensics.WindowsTests/FluxForensics.WindowsTests.csproj'
$OutputDirectory = [IO.Path]::GetFullPath($OutputDirectory, (Get-Location).ProviderPath)
$null = New-Item -ItemType Directory -Force -Path $OutputDirectory
$summaryPath = Join-Path $OutputDirectory 'wine-summary.json'
$logPath = Join-Path $OutputDirectory 'wine-tests.log'
$publishDirectory = Join-Path $repoRoot 'out/WindowsTests/publish'
$started = [Diagnostics.Stopwatch]::StartNew()

$summary = [ordered]@{
    Passed   = 0
    Failed   = 0
    Skipped  = 0
    Skips    = [Collections.Generic.List[string]]::new()
    Failures = [Collections.Generic.List[string]]::new()
    Lane     = 'Ran'
    Reason   = ''
    Wine     = ''
    Seconds  = 0
    Log      = $logPath
    Reports  = [Collections.Generic.List[string]]::new()
}

function Write-Summary {
    $summary.Seconds = [math]::Round($started.Elapsed.TotalSeconds, 1)
    $summary | ConvertTo-Json -Depth 4 | Set-Content -LiteralPath $summaryPath -Encoding utf8
    $wine = if ($summary.Wine) { "Wine $($summary.Wine)" } elseif ($IsWindows) { 'native Windows' } else { 'no Wine' }
    Write-Host ("Windows test lane ({0}, {1}): {2} passed / {3} failed / {4} skipped in {5} s; summary {6}" -f
        $summary.Lane, $wine, $summary.Passed, $summary.Failed, $summary.Skipped, $summary.Seconds, $summaryPath)
}

function Complete-Lane([string] $lane, [string] $reason) {
    $summary.Lane = $lane
    $summary.Reason = $reason
    if ($lane -eq 'Skipped') {
        $summary.Skipped++
        $summary.Skips.Add("Windows test lane: $reason")
        Write-Warning "Windows test lane skipped: $reason"
    }
    elseif ($lane -eq 'Broken') {
        $summary.Failed++
        $summary.Failures.Add("Windows test lane: $reason")
        Write-Warning "Windows test lane broken: $reason"
    }
    Write-Summary
    exit ([int]($summary.Failed -gt 0))
}

function Add-Log([string] $text) {
    Add-Content -LiteralPath $logPath -Value $text -Encoding utf8
}

function Show-LogTail([string] $path, [int] $lines = 40) {
    if (Test-Path -LiteralPath $path) {
        Write-Host "----- last $lines lines of $path -----"
        Get-Content -LiteralPath $path -Tail $lines | ForEach-Object { Write-Host "  $_" }
        Write-Host '-----'
    }
}

# Runs a program with its output going to a file (no pipes: Wine's background processes inherit handles and would
# keep a pipe open), waits at most $TimeoutSeconds, and kills the process tree on timeout.
function Invoke-Bounded {
    param(
        [string] $FilePath,
        [string[]] $Arguments,
        [int] $TimeoutSeconds,
        [string] $OutputFile,
        [hashtable] $Environment = @{}
    )
    if ($IsWindows) {
        # No Wine background processes here, so plain pipes are safe.
        $start = [Diagnostics.ProcessStartInfo]::new($FilePath)
        $start.RedirectStandardOutput = $true
        $start.RedirectStandardError = $true
    }
    else {
        $start = [Diagnostics.ProcessStartInfo]::new('/bin/sh')
        $start.ArgumentList.Add('-c')
        $start.ArgumentList.Add('exec "$@" >>"$FLUX_LANE_LOG" 2>&1 </dev/null')
        $start.ArgumentList.Add('sh')
        $start.ArgumentList.Add($FilePath)
        $start.Environment['FLUX_LANE_LOG'] = $OutputFile
        foreach ($name in @('DISPLAY', 'WAYLAND_DISPLAY')) { $null = $start.Environment.Remove($name) }
    }
    $start.UseShellExecute = $false
    foreach ($argument in $Arguments) { $start.ArgumentList.Add($argument) }
    foreach ($name in $Environment.Keys) { $start.Environment[$name] = [string]$Environment[$name] }

    $process = [Diagnostics.Process]::Start($start)
    try {
        $stdout = $stderr = $null
        if ($IsWindows) { $stdout = $process.StandardOutput.ReadToEndAsync(); $stderr = $process.StandardError.ReadToEndAsync() }
        $exited = $process.WaitForExit($TimeoutSeconds * 1000)
        if (-not $exited) {
            $process.Kill($true)
            $null = $process.WaitForExit(15000)
        }
        else {
            $process.WaitForExit()
        }
        if ($IsWindows -and $stdout.Wait(5000) -and $stderr.Wait(5000)) {
            Add-Content -LiteralPath $OutputFile -Value ($stdout.Result + $stderr.Result) -Encoding utf8
        }
        return [pscustomobject]@{ ExitCode = $(if ($exited) { $process.ExitCode } else { -1 }); TimedOut = -not $exited }
    }
    finally {
        $process.Dispose()
    }
}

function Find-Wine {
    foreach ($candidate in @('wine64', '/usr/lib/wine/wine64', 'wine')) {
        $command = Get-Command $candidate -CommandType Application -ErrorAction Ignore | Select-Object -First 1
        if ($command) { return $command.Source }
    }
    return $null
}

function Install-Wine {
    if ($NoInstall) { return 'Wine is not installed (and -NoInstall was given)' }
    if ((& id -u) -ne '0') { return 'Wine is not installed and this is not root, so it cannot be installed (apt-get install wine64)' }
    if (-not (Get-Command apt-get -ErrorAction Ignore)) { return 'Wine is not installed and apt-get is not available' }

    # With its recommends: the configuration the lane was tested with (Debian 12, Wine 8.0).
    Write-Host 'Installing Wine: apt-get install -y wine64'
    $aptEnvironment = @{ DEBIAN_FRONTEND = 'noninteractive' }
    $install = Invoke-Bounded -FilePath 'apt-get' -Arguments @('-o', 'DPkg::Lock::Timeout=300', 'install', '-y', 'wine64') `
        -TimeoutSeconds 900 -OutputFile $logPath -Environment $aptEnvironment
    if ($install.ExitCode -ne 0) {
        # A fresh machine may have no package lists yet.
        $null = Invoke-Bounded -FilePath 'apt-get' -Arguments @('update') -TimeoutSeconds 600 -OutputFile $logPath -Environment $aptEnvironment
        $install = Invoke-Bounded -FilePath 'apt-get' -Arguments @('-o', 'DPkg::Lock::Timeout=300', 'install', '-y', 'wine64') `
            -TimeoutSeconds 900 -OutputFile $logPath -Environment $aptEnvironment
    }
    if ($install.ExitCode -ne 0) { return "apt-get install wine64 failed (exit $($install.ExitCode)); see $logPath" }
    return $null
}

# Reads an xunit v2+ XML report (what xunit v3's -result-xml writes) into the summary.
function Read-XunitReport([string] $path) {
    [xml] $report = Get-Content -LiteralPath $path -Raw
    foreach ($test in $report.SelectNodes('//test')) {
        $name = $test.GetAttribute('name')
        switch ($test.GetAttribute('result')) {
            'Pass' { $summary.Passed++ }
            'Skip' {
                $summary.Skipped++
                $reason = $test.SelectSingleNode('reason')
                $summary.Skips.Add("${name}: $(if ($reason) { $reason.InnerText.Trim() } else { 'no reason given' })")
            }
            'Fail' {
                $summary.Failed++
                $message = $test.SelectSingleNode('failure/message')
                $text = if ($message) { ($message.InnerText.Trim() -split "`r?`n") -join ' | ' } else { 'failed' }
                $summary.Failures.Add("${name}: $text")
            }
            default {
                # NotRun and anything new: a test that did not pass is not silently dropped.
                $summary.Failed++
                $summary.Failures.Add("${name}: result $($test.GetAttribute('result'))")
            }
        }
    }
    # Errors outside tests (a class fixture or collection that failed to set up).
    foreach ($errorNode in $report.SelectNodes('//errors/error')) {
        $summary.Failed++
        $message = $errorNode.SelectSingleNode('failure/message')
        $summary.Failures.Add("$($errorNode.GetAttribute('name')) ($($errorNode.GetAttribute('type'))): $(if ($message) { $message.InnerText.Trim() })")
    }
    $summary.Reports.Add($path)
}

# A Linux path as the Windows program sees it: Wine maps / to drive Z:.
function ConvertTo-WinePath([string] $path) {
    if ($IsWindows) { return $path }
    return 'Z:' + ($path -replace '/', '\')
}

Set-Content -LiteralPath $logPath -Value "Windows test lane, $(Get-Date -AsUTC -Format o)" -Encoding utf8
Remove-Item -LiteralPath $summaryPath -ErrorAction Ignore

# ---- Wine ------------------------------------------------------------------------------------------------------
$wine = $null
if ($IsLinux) {
    $wine = Find-Wine
    if (-not $wine) {
        $why = Install-Wine
        if ($why) { Complete-Lane 'Skipped' $why }
        $wine = Find-Wine
        if (-not $wine) { Complete-Lane 'Broken' 'apt-get installed wine64 but no wine64/wine program was found' }
    }
}
elseif (-not $IsWindows) {
    Complete-Lane 'Skipped' 'the Windows test lane runs on Linux under Wine or natively on Windows, not on this OS'
}

# ---- Publish ---------------------------------------------------------------------------------------------------
Write-Host "Publishing the Windows test program (win-x64, self-contained) to $publishDirectory"
$publishLog = Join-Path $OutputDirectory 'wine-publish.log'
$publish = & dotnet publish $project -c $Configuration -r win-x64 --self-contained -o $publishDirectory -nologo 2>&1
$publish | Set-Content -LiteralPath $publishLog -Encoding utf8
if ($LASTEXITCODE -ne 0) {
    $publish | Select-Object -Last 30 | ForEach-Object { Write-Host "  $_" }
    Complete-Lane 'Broken' "dotnet publish of the Windows test program failed (exit $LASTEXITCODE); see $publishLog"
}
$testProgram = Join-Path $publishDirectory 'FluxForensics.WindowsTests.exe'

# ---- Prefix ----------------------------------------------------------------------------------------------------
$prefix = $null
$wineEnvironment = @{}
$runner = $testProgram
$runnerPrefixArguments = @()
if ($IsLinux) {
    $prefix = Join-Path ([IO.Path]::GetTempPath()) ("flux-wine-" + [Guid]::NewGuid().ToString('N').Substring(0, 12))
    $null = New-Item -ItemType Directory -Path $prefix
    $wineEnvironment = @{
        WINEPREFIX                   = $prefix
        WINEARCH                     = 'win64'
        WINEDEBUG                    = '-all'
        # .NET's W^X double mapping of JIT code breaks under Wine 8: freeing a DynamicMethod (the finalizer's
        # DynamicResolver.DestroyScout) ends the process with "Internal CLR error (0x80131506)" once PowerShell has
        # compiled enough script. Plain single mapping avoids it.
        DOTNET_EnableWriteXorExecute = '0'
        # Not WINEDLLOVERRIDES=mscoree=: Wine's loader asks mscoree to validate every IL-only image, so without it
        # the runtime cannot load System.Runtime.dll. Without a display, wineboot skips the Mono/Gecko prompts.
    }
    $runner = $wine
    $runnerPrefixArguments = @($testProgram)
}

function Stop-Prefix {
    # Ends every process of our own prefix (and only of it): the test program, helpers it started, Wine services.
    if ($prefix -and (Test-Path -LiteralPath $prefix)) {
        $wineserver = @('wineserver', '/usr/lib/wine/wineserver64', '/usr/lib/wine/wineserver') |
            ForEach-Object { Get-Command $_ -CommandType Application -ErrorAction Ignore } | Select-Object -First 1
        if ($wineserver) {
            $null = Invoke-Bounded -FilePath $wineserver.Source -Arguments @('-k') -TimeoutSeconds 30 -OutputFile $logPath -Environment $wineEnvironment
        }
    }
}

try {
    if ($IsLinux) {
        Write-Host "Initialising a fresh Wine prefix in $prefix"
        $bootWatch = [Diagnostics.Stopwatch]::StartNew()
        $boot = Invoke-Bounded -FilePath $wine -Arguments @('wineboot', '--init') -TimeoutSeconds $PrefixTimeoutSeconds `
            -OutputFile $logPath -Environment $wineEnvironment
        if ($boot.TimedOut -or $boot.ExitCode -ne 0) {
            Show-LogTail $logPath
            Complete-Lane 'Broken' "wineboot --init $(if ($boot.TimedOut) { "hung (killed after $PrefixTimeoutSeconds s)" } else { "failed (exit $($boot.ExitCode))" })"
        }
        # Windows does not hide dot-files; Wine does unless told not to. The tests check Windows semantics.
        $null = Invoke-Bounded -FilePath $wine -Arguments @('reg', 'add', 'HKCU\Software\Wine', '/v', 'ShowDotFiles', '/d', 'Y', '/f') `
            -TimeoutSeconds 60 -OutputFile $logPath -Environment $wineEnvironment
        # A removable drive for the drive-enumeration and USB-trap tests: E: is a directory inside the prefix that Wine
        # presents as a floppy-type (DRIVE_REMOVABLE) drive. mountmgr reads the drive types when Wine starts, hence the
        # restart below.
        $stick = Join-Path $prefix 'removable-e'
        $null = New-Item -ItemType Directory -Path $stick
        $null = New-Item -ItemType SymbolicLink -Path (Join-Path $prefix 'dosdevices/e:') -Target $stick
        $null = Invoke-Bounded -FilePath $wine -Arguments @('reg', 'add', 'HKLM\Software\Wine\Drives', '/v', 'e:', '/d', 'floppy', '/f') `
            -TimeoutSeconds 60 -OutputFile $logPath -Environment $wineEnvironment
        Stop-Prefix
        $wineEnvironment['FLUX_WINDOWS_TESTS_REMOVABLE'] = 'E:\'
        $version = & $wine --version 2>$null
        $summary.Wine = ("$version" -replace '^wine-', '' -replace '\s.*$', '')
        Write-Host ("Wine {0} prefix ready in {1:n1} s" -f $summary.Wine, $bootWatch.Elapsed.TotalSeconds)
    }

    # ---- Run -----------------------------------------------------------------------------------------------------
    $runLog = Join-Path $OutputDirectory 'wine-run.log'
    $report = Join-Path $OutputDirectory 'wine-results.xml'
    Remove-Item -LiteralPath $runLog, $report -ErrorAction Ignore
    $common = @('-noColor', '-noLogo', '-reporter', 'verbose', '-longRunning', '30')
    Write-Host "Running the Windows tests (timeout $RunTimeoutSeconds s; log $runLog)"
    $run = Invoke-Bounded -FilePath $runner -Arguments ($runnerPrefixArguments + $common + @('-result-xml', (ConvertTo-WinePath $report))) `
        -TimeoutSeconds $RunTimeoutSeconds -OutputFile $runLog -Environment $wineEnvironment
    $summary.Log = $runLog

    if (-not $run.TimedOut -and (Test-Path -LiteralPath $report)) {
        Read-XunitReport $report
        if ($summary.Failed -gt 0) { Show-LogTail $runLog 60 }
    }
    else {
        $what = if ($run.TimedOut) { "hung and was killed after $RunTimeoutSeconds s" } else { "exited with code $($run.ExitCode) without writing a report" }
        $summary.Failed++
        $summary.Failures.Add("Windows test run: $what; see $runLog")
        Write-Warning "The Windows test run $what."
        Show-LogTail $runLog
        Stop-Prefix

        # Salvage: each class in its own process, so one hanging or crashing class costs only itself.
        $listLog = Join-Path $OutputDirectory 'wine-classes.log'
        Remove-Item -LiteralPath $listLog -ErrorAction Ignore
        $list = Invoke-Bounded -FilePath $runner -Arguments ($runnerPrefixArguments + @('-list', 'classes', '-noColor')) `
            -TimeoutSeconds 120 -OutputFile $listLog -Environment $wineEnvironment
        $classes = @(if (-not $list.TimedOut) {
            Get-Content -LiteralPath $listLog | Where-Object { $_ -match '^[A-Za-z_][\w.+]*$' }
        })
        if ($classes.Count -eq 0) {
            $summary.Failures.Add("Windows test classes could not be listed; see $listLog")
            $summary.Failed++
        }
        $salvage = [Diagnostics.Stopwatch]::StartNew()
        foreach ($class in $classes) {
            if ($salvage.Elapsed.TotalSeconds -gt $SalvageBudgetSeconds) {
                $summary.Failed++
                $summary.Failures.Add("${class}: not run, the $SalvageBudgetSeconds s budget for running classes one by one was spent")
                continue
            }
            $classLog = Join-Path $OutputDirectory "wine-run.$class.log"
            $classReport = Join-Path $OutputDirectory "wine-results.$class.xml"
            Remove-Item -LiteralPath $classLog, $classReport -ErrorAction Ignore
            $classRun = Invoke-Bounded -FilePath $runner `
                -Arguments ($runnerPrefixArguments + $common + @('-class', $class, '-result-xml', (ConvertTo-WinePath $classReport))) `
                -TimeoutSeconds $ClassTimeoutSeconds -OutputFile $classLog -Environment $wineEnvironment
            if (-not $classRun.TimedOut -and (Test-Path -LiteralPath $classReport)) {
                Read-XunitReport $classReport
            }
            else {
                $summary.Failed++
                $summary.Failures.Add("${class}: $(if ($classRun.TimedOut) { "hung, killed after $ClassTimeoutSeconds s" } else { "exit $($classRun.ExitCode) without a report" }); see $classLog")
                Show-LogTail $classLog
                Stop-Prefix
            }
        }
    }

    foreach ($failure in $summary.Failures) { Write-Host "  FAILED $failure" }
}
finally {
    Stop-Prefix
    if ($prefix -and (Split-Path -Leaf $prefix) -like 'flux-wine-*' -and (Test-Path -LiteralPath $prefix)) {
        # rm, not Remove-Item: the prefix holds symlinks to / (dosdevices/z:) and to the home folders, and rm -r
        # removes a symlink without ever descending into what it points to.
        & rm -rf -- $prefix
    }
}

Complete-Lane 'Ran' ''
