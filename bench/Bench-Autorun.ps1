<#
.SYNOPSIS
    Benchmarks Get-SuspiciousAutorun: a full live scan of this machine, and an offline scan of a Windows tree with 100
    user profiles (each with its own NTUSER.DAT), each against a baseline measured in the same run: reading every byte
    of the same files with no parsing (the I/O floor). Writes bench/RESULTS-autorun.md.
#>
[CmdletBinding()]
param(
    [string] $ModulePath,
    [int] $Users = 100,
    [int] $Runs = 3
)
$ErrorActionPreference = 'Stop'
$root = Split-Path -Parent $PSScriptRoot
if (-not $ModulePath) {
    $version = ([xml](Get-Content -Raw (Join-Path $root 'Directory.Build.props'))).Project.PropertyGroup.Version | Where-Object { $_ } | Select-Object -First 1
    $ModulePath = Join-Path $root "out/FluxForensics/$version"
}
Import-Module (Join-Path $ModulePath 'FluxForensics.psd1') -Force
$fixtures = Join-Path $root 'tests/Fixtures/bin/Release/net10.0/FluxForensics.Fixtures.dll'
$corpusHive = Join-Path (Split-Path -Parent $root) 'shared/corpus/artifacts/mkorman90__regipy/_decompressed/regipy_tests/data/NTUSER.DAT'

function Measure-Median([scriptblock] $Block, [int] $Count) {
    $times = foreach ($i in 1..$Count) { (Measure-Command $Block).TotalMilliseconds }
    ($times | Sort-Object)[[int][math]::Floor($Count / 2)]
}

function Read-AllBytes([string[]] $Paths) {
    $total = 0L
    foreach ($p in $Paths) {
        try { $total += [System.IO.File]::ReadAllBytes($p).Length } catch { }
    }
    $total
}

# --- Offline tree with $Users profiles -------------------------------------------------------------------------
$tree = Join-Path ([System.IO.Path]::GetTempPath()) ('flux-bench-autorun-' + [guid]::NewGuid().ToString('n'))
try {
    & dotnet $fixtures autorun-tree $tree --windows --users $Users --no-attributes | Out-Null
    if ($LASTEXITCODE) { throw "autorun-tree failed ($LASTEXITCODE)" }
    $realistic = Test-Path -LiteralPath $corpusHive
    if ($realistic) {
        # Give every other user a real 768 KiB NTUSER.DAT (1,812 keys, 4,094 values) so the hive reader does real work.
        Get-ChildItem -LiteralPath (Join-Path $tree 'Users') -Directory | Where-Object Name -ne 'alice' | ForEach-Object {
            Copy-Item -LiteralPath $corpusHive -Destination (Join-Path $_.FullName 'NTUSER.DAT') -Force
        }
    }
    $treeFiles = @(Get-ChildItem -LiteralPath $tree -Recurse -File | ForEach-Object FullName)
    $treeBytes = (Get-ChildItem -LiteralPath $tree -Recurse -File | Measure-Object Length -Sum).Sum

    $null = Get-SuspiciousAutorun -Root $tree -All   # warm-up (JIT)
    $offlineCount = @(Get-SuspiciousAutorun -Root $tree -All).Count
    $offlineMs = Measure-Median { $null = Get-SuspiciousAutorun -Root $tree -All } $Runs
    $offlineBaselineMs = Measure-Median { $null = Read-AllBytes $treeFiles } $Runs

    # --- Live scan of this machine -------------------------------------------------------------------------------
    $null = Get-SuspiciousAutorun -All -ErrorAction SilentlyContinue
    $liveCount = @(Get-SuspiciousAutorun -All -ErrorAction SilentlyContinue).Count
    $liveMs = Measure-Median { $null = Get-SuspiciousAutorun -All -ErrorAction SilentlyContinue } $Runs
    if ($IsWindows) {
        $liveLocations = @("$env:SystemRoot\System32\Tasks", "$env:ProgramData\Microsoft\Windows\Start Menu\Programs\Startup")
    }
    else {
        $liveLocations = @('/etc/crontab', '/etc/cron.d', '/etc/cron.hourly', '/etc/cron.daily', '/etc/cron.weekly', '/etc/cron.monthly',
            '/var/spool/cron', '/etc/systemd/system', '/usr/lib/systemd/system', '/lib/systemd/system', '/etc/systemd/user', '/usr/lib/systemd/user',
            '/etc/xdg/autostart', '/etc/rc.local', '/etc/init.d', '/etc/profile', '/etc/profile.d', '/etc/bash.bashrc', '/etc/ld.so.preload', '/root', '/home')
    }
    $liveFiles = @(foreach ($l in $liveLocations) {
            if (Test-Path -LiteralPath $l -PathType Leaf) { $l }
            elseif (Test-Path -LiteralPath $l) { Get-ChildItem -LiteralPath $l -File -Force -ErrorAction SilentlyContinue -Depth 1 | ForEach-Object FullName }
        })
    $liveBaselineMs = Measure-Median { $null = Read-AllBytes $liveFiles } $Runs
}
finally {
    $tmp = [System.IO.Path]::GetTempPath()
    if ($tree.StartsWith($tmp) -and (Test-Path -LiteralPath $tree)) { Remove-Item -LiteralPath $tree -Recurse -Force }
}

$cpu = (Get-Content /proc/cpuinfo -ErrorAction SilentlyContinue | Where-Object { $_ -like 'model name*' } | Select-Object -First 1) -replace '^model name\s*:\s*', ''
$lines = @(
    '# Get-SuspiciousAutorun benchmark'
    ''
    "Measured $(Get-Date -AsUTC -Format 'yyyy-MM-dd HH:mm') UTC on $([Environment]::MachineName) ($([Environment]::ProcessorCount) cores$(if ($cpu) { ", $cpu" })), PowerShell $($PSVersionTable.PSVersion), median of $Runs runs after a warm-up."
    'Baseline (same run): reading every byte of the same files with no parsing, the I/O floor.'
    ''
    '| Scan | Entries | Get-SuspiciousAutorun | Baseline (read the files) |'
    '|---|---:|---:|---:|'
    ("| Offline Windows tree, {0} user profiles ({1} files, {2:N1} MiB{3}) | {4} | {5:N0} ms | {6:N0} ms |" -f $Users, $treeFiles.Count, ($treeBytes / 1MB), $(if ($realistic) { ', 99 real 768 KiB NTUSER.DAT' } else { '' }), $offlineCount, $offlineMs, $offlineBaselineMs)
    ("| Live scan of this machine ({0}) | {1} | {2:N0} ms | {3:N0} ms ({4} files) |" -f $(if ($IsWindows) { 'Windows' } else { 'Linux' }), $liveCount, $liveMs, $liveBaselineMs, $liveFiles.Count)
    ''
    'The scan does more than the baseline: it parses every hive, resolves every command line, and hashes and reads the'
    'version information of every target (each distinct target once).'
)
$out = Join-Path $root 'bench/RESULTS-autorun.md'
Set-Content -LiteralPath $out -Value $lines
$lines | Write-Output
