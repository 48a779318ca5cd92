<#
.SYNOPSIS
    Find-UsbLnkTrap -Recurse against Get-ChildItem -Recurse -Force over the same tree of 50,000 entries, in one run.
.DESCRIPTION
    Builds a stick-like tree in a temp folder (folders of documents, ordinary shortcuts scattered through it, and the
    incident's trap in the root, laid out by the usb-trap fixture), warms the page cache, then times both commands
    alternately and writes the medians to bench/RESULTS-usb.md. The target is: Find-UsbLnkTrap no slower than the
    plain listing, although it also parses every shortcut and reads attributes and hashes for the candidates.
#>
[CmdletBinding()]
param(
    [string] $ModulePath = (Join-Path $PSScriptRoot '../out/FluxForensics/0.1.0'),
    [int] $Entries = 50000,
    [int] $Rounds = 5,
    [string] $ResultPath = (Join-Path $PSScriptRoot 'RESULTS-usb.md')
)
$ErrorActionPreference = 'Stop'
Import-Module (Join-Path (Resolve-Path -LiteralPath $ModulePath).Path 'FluxForensics.psd1') -Force
$root = Split-Path -Parent $PSScriptRoot
$fixtures = Join-Path $root 'tests/Fixtures/bin/Release/net10.0/FluxForensics.Fixtures.dll'
if (-not (Test-Path -LiteralPath $fixtures)) { throw "Build the fixtures first ($fixtures is missing)." }

$tree = Join-Path ([System.IO.Path]::GetTempPath()) ('flux-bench-usb-' + [guid]::NewGuid().ToString('n'))
try {
    & dotnet $fixtures usb-trap $tree --no-attributes | Out-Null
    if ($LASTEXITCODE) { throw "usb-trap fixture failed ($LASTEXITCODE)" }
    $sampleShortcut = [System.IO.File]::ReadAllBytes((Join-Path $tree 'Quarterly report.lnk'))
    $document = [byte[]]::new(512)
    $existing = @(Get-ChildItem -LiteralPath $tree -Recurse -Force).Count
    $perFolder = 19
    $folders = [math]::Ceiling(($Entries - $existing) / ($perFolder + 1))
    $made = $existing
    for ($f = 0; $f -lt $folders -and $made -lt $Entries; $f++) {
        # Two levels: 50 top folders, the rest spread below them, like a stick of photo and document folders.
        $dir = Join-Path $tree ("archive{0:D2}/folder{1:D5}" -f ($f % 50), $f)
        [System.IO.Directory]::CreateDirectory($dir) | Out-Null
        $made++
        for ($i = 0; $i -lt $perFolder -and $made -lt $Entries; $i++) {
            if ($i -eq 0) {
                [System.IO.File]::WriteAllBytes((Join-Path $dir "shortcut$i.lnk"), $sampleShortcut)
            }
            else {
                [System.IO.File]::WriteAllBytes((Join-Path $dir ("document{0:D2}.txt" -f $i)), $document)
            }
            $made++
        }
    }
    $count = @(Get-ChildItem -LiteralPath $tree -Recurse -Force).Count
    $shortcuts = @(Get-ChildItem -LiteralPath $tree -Recurse -Force -Filter *.lnk).Count

    # Warm-up of both (page cache, JIT), then alternate so that neither profits from running second.
    $null = Get-ChildItem -LiteralPath $tree -Recurse -Force
    $warm = @(Find-UsbLnkTrap -LiteralPath $tree -Recurse)
    if ($warm.Count -ne 3) { throw "expected the 3 root traps of the fixture, found $($warm.Count)" }

    $gci = [System.Collections.Generic.List[double]]::new()
    $find = [System.Collections.Generic.List[double]]::new()
    for ($r = 0; $r -lt $Rounds; $r++) {
        $gci.Add((Measure-Command { Get-ChildItem -LiteralPath $tree -Recurse -Force | Out-Null }).TotalMilliseconds)
        $find.Add((Measure-Command { Find-UsbLnkTrap -LiteralPath $tree -Recurse | Out-Null }).TotalMilliseconds)
    }

    function Get-Median([double[]] $v) { $s = $v | Sort-Object; if ($s.Count % 2) { $s[[int][math]::Floor($s.Count / 2)] } else { ($s[$s.Count / 2 - 1] + $s[$s.Count / 2]) / 2 } }
    $gciMedian = Get-Median $gci
    $findMedian = Get-Median $find
    $ratio = $findMedian / $gciMedian
    $verdict = if ($findMedian -le $gciMedian) { 'met' } else { 'NOT met' }
    $cpu = (Get-Content /proc/cpuinfo -ErrorAction SilentlyContinue | Where-Object { $_ -like 'model name*' } | Select-Object -First 1) -replace '^model name\s*:\s*', ''
    $fs = try { (& df -T $tree | Select-Object -Last 1) -split '\s+' | Select-Object -Index 1 } catch { '?' }

    $report = @"
# Find-UsbLnkTrap benchmark

Run $(Get-Date -AsUTC -Format 'yyyy-MM-dd HH:mm') UTC on $([Environment]::ProcessorCount) cores ($cpu), PowerShell $($PSVersionTable.PSVersion), file system $fs.
Script: ``bench/Bench-Usb.ps1`` (``./build.ps1 Bench``).

Tree: $count entries ($shortcuts shortcuts, of which 3 are the incident's trap in the root; the rest are folders and
small documents, two levels deep), built by the script from the ``usb-trap`` fixture.

| Command (same tree, same run, $Rounds alternating rounds after a warm-up) | median ms | all rounds ms |
|---|---:|---|
| ``Get-ChildItem -Recurse -Force`` (baseline) | $([math]::Round($gciMedian)) | $(($gci | ForEach-Object { [math]::Round($_) }) -join ', ') |
| ``Find-UsbLnkTrap -Recurse`` | $([math]::Round($findMedian)) | $(($find | ForEach-Object { [math]::Round($_) }) -join ', ') |

Find-UsbLnkTrap / Get-ChildItem = $([math]::Round($ratio, 2)). Target (no slower than the baseline): **$verdict**.
Find-UsbLnkTrap lists every folder, parses every shortcut, and reads attributes and SHA-256 only for candidates.
"@
    Set-Content -LiteralPath $ResultPath -Value $report -Encoding utf8
    Write-Host $report
}
finally {
    if (Test-Path -LiteralPath $tree) { Remove-Item -LiteralPath $tree -Recurse -Force }
}
