<#
.SYNOPSIS
    The long fuzzing run: every target (or -Target) under AFL++ through SharpFuzz for -Minutes each, then a report of
    executions, coverage, and findings per target in bench/FUZZING-run.md (bench/FUZZING.md explains the harness).
.DESCRIPTION
    Needs afl++ (Debian package afl++; installed when root) and the sharpfuzz dotnet tool (.config/dotnet-tools.json).
    Core is copied and instrumented with `sharpfuzz`; the harness runs `FluxForensics.Fuzz.dll afl <target>`.
    Crashes and hangs are copied to out/fuzz/findings/<target>/ to be minimised with afl-tmin and added to
    tests/Fuzz/regressions/<target>/ once fixed.
#>
[CmdletBinding()]
param(
    [int] $Minutes = 10,
    [string[]] $Target,
    [ValidateSet('Release', 'Debug')] [string] $Configuration = 'Release',
    # How many targets run at the same time (one core each).
    [int] $Parallel = [Math]::Max(1, [Environment]::ProcessorCount)
)
$ErrorActionPreference = 'Stop'
$root = Split-Path -Parent $PSScriptRoot
$work = Join-Path $root 'out/fuzz'

if (-not (Get-Command afl-fuzz -ErrorAction SilentlyContinue)) {
    if ((& id -u) -eq '0') { & apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends afl++ | Out-Null }
    if (-not (Get-Command afl-fuzz -ErrorAction SilentlyContinue)) { throw 'afl-fuzz is not installed (Debian package afl++).' }
}

& dotnet build (Join-Path $root 'tests/Fuzz/FluxForensics.Fuzz') -c $Configuration --nologo -v quiet
if ($LASTEXITCODE) { throw 'Building the fuzz harness failed.' }
$bin = Join-Path $work 'bin'
if (Test-Path -LiteralPath $bin) { Remove-Item -LiteralPath $bin -Recurse -Force }
Copy-Item -LiteralPath (Join-Path $root "tests/Fuzz/FluxForensics.Fuzz/bin/$Configuration/net10.0") -Destination $bin -Recurse
& dotnet tool restore | Out-Null
# Only Core is instrumented: coverage of the parsers, not of the harness or the runtime.
& dotnet sharpfuzz (Join-Path $bin 'FluxForensics.Core.dll')
if ($LASTEXITCODE) { throw 'sharpfuzz instrumentation failed.' }

$harness = Join-Path $bin 'FluxForensics.Fuzz.dll'
# Listing targets and building seeds may call Core; instrumented Core only runs under afl-fuzz, so use the plain build.
$plainHarness = Join-Path $root "tests/Fuzz/FluxForensics.Fuzz/bin/$Configuration/net10.0/FluxForensics.Fuzz.dll"
$all = @(& dotnet $plainHarness list)
# From `pwsh -File`, a comma list arrives as one string.
$chosen = if ($Target) { @($Target | ForEach-Object { $_ -split ',' } | Where-Object { $_ }) } else { $all }
$env:AFL_SKIP_BIN_CHECK = '1'; $env:AFL_NO_UI = '1'; $env:AFL_SKIP_CPUFREQ = '1'; $env:AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES = '1'
$env:AFL_NO_AFFINITY = '1'

$running = [System.Collections.Generic.List[object]]::new()
$results = [System.Collections.Generic.List[object]]::new()
function Complete-Run($run) {
    $run.Process.WaitForExit()
    $stats = @{}
    $statsFile = Join-Path $run.Output 'default/fuzzer_stats'
    if (Test-Path -LiteralPath $statsFile) {
        foreach ($line in Get-Content -LiteralPath $statsFile) { if ($line -match '^(\w+)\s*:\s*(.*)$') { $stats[$Matches[1]] = $Matches[2].Trim() } }
    }
    $findings = Join-Path $work "findings/$($run.Name)"
    foreach ($kind in 'crashes', 'hangs') {
        $dir = Join-Path $run.Output "default/$kind"
        $files = @(Get-ChildItem -LiteralPath $dir -File -ErrorAction SilentlyContinue | Where-Object Name -ne 'README.txt')
        if ($files) { New-Item -ItemType Directory -Force -Path $findings | Out-Null; $files | Copy-Item -Destination $findings }
    }
    $results.Add([pscustomobject]@{
            Target     = $run.Name
            Minutes    = [Math]::Round(([int]$stats['run_time']) / 60.0, 1)
            Executions = [long]$stats['execs_done']
            PerSecond  = [double]$stats['execs_per_sec']
            Paths      = [int]$stats['corpus_count']
            Coverage   = $stats['bitmap_cvg']
            Crashes    = [int]$stats['saved_crashes']
            Hangs      = [int]$stats['saved_hangs']
        })
}

foreach ($name in $chosen) {
    while ($running.Count -ge $Parallel) {
        $done = $running | Where-Object { $_.Process.HasExited } | Select-Object -First 1
        if ($done) { Complete-Run $done; [void]$running.Remove($done) } else { Start-Sleep -Seconds 2 }
    }
    $seedDir = Join-Path $work "$name/in"
    $output = Join-Path $work "$name/out"
    foreach ($d in $seedDir, $output) { if (Test-Path -LiteralPath $d) { Remove-Item -LiteralPath $d -Recurse -Force } }
    & dotnet $plainHarness seeds $name $seedDir
    $log = Join-Path $work "$name/afl.log"
    $arguments = @('-i', $seedDir, '-o', $output, '-V', [string]($Minutes * 60), '-t', '5000', '-m', 'none', '--', 'dotnet', $harness, 'afl', $name)
    Write-Host "fuzzing $name for $Minutes min"
    $process = Start-Process -FilePath 'afl-fuzz' -ArgumentList $arguments -RedirectStandardOutput $log -RedirectStandardError "$log.err" -PassThru
    $running.Add([pscustomobject]@{ Name = $name; Process = $process; Output = $output })
}
foreach ($run in @($running)) { Complete-Run $run }

$report = Join-Path $root 'bench/FUZZING-run.md'
$lines = @(
    "# Fuzzing run $(Get-Date -Format 'yyyy-MM-dd HH:mm') UTC",
    '',
    "Machine: $([Environment]::ProcessorCount) cores, $([Math]::Round([double]((Get-Content /proc/meminfo -TotalCount 1) -replace '\D', '') / 1MB, 1)) GiB, $((& afl-fuzz -h 2>&1 | Out-String) -replace '\x1b\[[0-9;]*m', '' | Select-String -Pattern 'afl-fuzz\+\+[0-9a-z.]+' | ForEach-Object { $_.Matches[0].Value } | Select-Object -First 1), SharpFuzz 2.3.0, $Parallel target(s) at a time.",
    '',
    '| Target | Minutes | Executions | Exec/s | Paths (corpus) | Bitmap coverage | Crashes | Hangs |',
    '|---|---:|---:|---:|---:|---:|---:|---:|'
) + ($results | Sort-Object Target | ForEach-Object { "| $($_.Target) | $($_.Minutes) | $($_.Executions) | $([Math]::Round($_.PerSecond)) | $($_.Paths) | $($_.Coverage) | $($_.Crashes) | $($_.Hangs) |" })
Set-Content -LiteralPath $report -Value $lines
$results | Format-Table -AutoSize | Out-Host
Write-Host "Report: $report"
if (($results | Measure-Object Crashes -Sum).Sum + ($results | Measure-Object Hangs -Sum).Sum) { exit 1 }
exit 0
