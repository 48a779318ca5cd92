<#
.SYNOPSIS
    Find-UsbLnkTrap -Recurse against Get-ChildItem -Recurse -Force over the same tree of 50,000 entries, in one run.
.DESCRIPTION
    Builds a stick-like tree (folders of documents, ordinary shortcuts scattered through it, and the incident's trap in
    the root, laid out by the usb-trap fixture), warms the page cache, then times both commands alternately and writes
    the medians to bench/RESULTS-usb.md. The tree is measured on the temp folder's file system and, when this runs as
    root with ntfs-3g and FUSE, again on an NTFS image mounted with ntfs-3g, the trap's folders and payload made
    Hidden+System with setfattr. The target is: Find-UsbLnkTrap no slower than the plain listing, although it also
    parses every shortcut and reads attributes and hashes for the candidates.
#>
[CmdletBinding()]
param(
    [string] $ModulePath = (Join-Path $PSScriptRoot '../out/FluxForensics/0.1.0'),
    [int] $Entries = 50000,
    [int] $Rounds = 5,
    [switch] $SkipNtfs,
    [string] $ResultPath = (Join-Path $PSScriptRoot 'RESULTS-usb.md')
)
$ErrorActionPreference = 'Stop'
Import-Module (Join-Path (Resolve-Path -LiteralPath $ModulePath).Path 'FluxForensics.psd1') -Force
$root = Split-Path -Parent $PSScriptRoot
$fixtures = Join-Path $root 'tests/Fixtures/bin/Release/net10.0/FluxForensics.Fixtures.dll'
if (-not (Test-Path -LiteralPath $fixtures)) { throw "Build the fixtures first ($fixtures is missing)." }

function New-BenchTree([string] $Tree, [int] $Entries) {
    $lines = & dotnet $fixtures usb-trap $Tree --no-attributes
    if ($LASTEXITCODE) { throw "usb-trap fixture failed ($LASTEXITCODE)" }
    $sampleShortcut = [System.IO.File]::ReadAllBytes((Join-Path $Tree 'Quarterly report.lnk'))
    $document = [byte[]]::new(512)
    $made = @(Get-ChildItem -LiteralPath $Tree -Recurse -Force).Count
    $perFolder = 19
    for ($f = 0; $made -lt $Entries; $f++) {
        # Two levels: 50 top folders, the rest spread below them, like a stick of photo and document folders.
        $dir = Join-Path $Tree ("archive{0:D2}/folder{1:D5}" -f ($f % 50), $f)
        if (-not [System.IO.Directory]::Exists((Split-Path -Parent $dir))) { $made++ }
        [System.IO.Directory]::CreateDirectory($dir) | Out-Null
        $made++
        for ($i = 0; $i -lt $perFolder -and $made -lt $Entries; $i++) {
            if ($i -eq 0) { [System.IO.File]::WriteAllBytes((Join-Path $dir "shortcut$i.lnk"), $sampleShortcut) }
            else { [System.IO.File]::WriteAllBytes((Join-Path $dir ("document{0:D2}.txt" -f $i)), $document) }
            $made++
        }
    }
    @($lines)
}

. (Join-Path $PSScriptRoot 'BenchSupport.ps1')

function Measure-Tree([string] $Tree, [string] $Label) {
    $count = @(Get-ChildItem -LiteralPath $Tree -Recurse -Force).Count
    $shortcuts = @(Get-ChildItem -LiteralPath $Tree -Recurse -Force -Filter *.lnk).Count
    # Warm-up of both (page cache, JIT), then alternate so that neither profits from running second.
    $null = Get-ChildItem -LiteralPath $Tree -Recurse -Force
    $warm = @(Find-UsbLnkTrap -LiteralPath $Tree -Recurse)
    if ($warm.Count -ne 3) { throw "expected the 3 root traps of the fixture, found $($warm.Count)" }
    $gci = [System.Collections.Generic.List[double]]::new()
    $find = [System.Collections.Generic.List[double]]::new()
    for ($r = 0; $r -lt $Rounds; $r++) {
        $gci.Add((Measure-Command { Get-ChildItem -LiteralPath $Tree -Recurse -Force | Out-Null }).TotalMilliseconds)
        $find.Add((Measure-Command { Find-UsbLnkTrap -LiteralPath $Tree -Recurse | Out-Null }).TotalMilliseconds)
    }
    [pscustomobject]@{
        Label = $Label; Entries = $count; Shortcuts = $shortcuts; Gci = $gci; Find = $find
        GciMedian = Get-Median $gci; FindMedian = Get-Median $find
        Hidden = ($warm | Select-Object -First 1).HiddenFolderIsHidden; Mechanism = ($warm | Select-Object -First 1).AttributeMechanism
    }
}

$results = [System.Collections.Generic.List[object]]::new()
$work = Join-Path ([System.IO.Path]::GetTempPath()) ('flux-bench-usb-' + [guid]::NewGuid().ToString('n'))
New-Item -ItemType Directory -Path $work | Out-Null
$mounted = $false
$mount = Join-Path $work 'mnt'
$ntfsNote = 'skipped (-SkipNtfs)'
try {
    $plain = Join-Path $work 'tree'
    $null = New-BenchTree $plain $Entries
    $fs = try { ((& df -T $plain | Select-Object -Last 1) -split '\s+')[1] } catch { 'temp folder' }
    $results.Add((Measure-Tree $plain $fs))
    Remove-Item -LiteralPath $plain -Recurse -Force

    if (-not $SkipNtfs) {
        $isRoot = if ($IsLinux) { (& id -u) -eq '0' } else { $false }
        $tools = @('mkntfs', 'ntfs-3g', 'setfattr') | Where-Object { -not (Get-Command $_ -ErrorAction SilentlyContinue) }
        if (-not $IsLinux -or -not $isRoot -or -not (Test-Path /dev/fuse) -or $tools) {
            $ntfsNote = 'skipped: needs Linux, root, /dev/fuse, ntfs-3g and attr'
        }
        else {
            $image = Join-Path $work 'stick.img'
            New-Item -ItemType Directory -Path $mount | Out-Null
            $f = [System.IO.File]::Create($image); $f.SetLength(256MB); $f.Dispose()
            & mkntfs -F -Q -q -L STICK $image 2>&1 | Out-Null
            if ($LASTEXITCODE) { throw "mkntfs failed ($LASTEXITCODE)" }
            & ntfs-3g $image $mount
            if ($LASTEXITCODE) { throw "ntfs-3g failed ($LASTEXITCODE)" }
            $mounted = $true
            $lines = New-BenchTree $mount $Entries
            foreach ($line in $lines) {
                $kind, $path = "$line" -split "`t", 2
                $target = switch ($kind) { 'trap' { [System.IO.Path]::ChangeExtension($path, $null).TrimEnd('.') } 'payload' { $path } default { $null } }
                if ($target) { & setfattr -n system.ntfs_attrib_be -v 0x00000006 $target }
            }
            $results.Add((Measure-Tree $mount 'ntfs-3g (FUSE)'))
            $ntfsNote = 'measured'
        }
    }
}
finally {
    if ($mounted) { & umount $mount }
    if (Test-Path -LiteralPath $work) { Remove-Item -LiteralPath $work -Recurse -Force }
}

$cpu = (Get-Content /proc/cpuinfo -ErrorAction SilentlyContinue | Where-Object { $_ -like 'model name*' } | Select-Object -First 1) -replace '^model name\s*:\s*', ''
$rows = foreach ($r in $results) {
    $ratio = $r.FindMedian / $r.GciMedian
    "| $($r.Label) | $($r.Entries) | ``Get-ChildItem -Recurse -Force`` (baseline) | $([math]::Round($r.GciMedian)) | $(($r.Gci | ForEach-Object { [math]::Round($_) }) -join ', ') |"
    "| $($r.Label) | $($r.Entries) | ``Find-UsbLnkTrap -Recurse`` | $([math]::Round($r.FindMedian)) | $(($r.Find | ForEach-Object { [math]::Round($_) }) -join ', ') |"
}
$verdicts = foreach ($r in $results) {
    $ratio = $r.FindMedian / $r.GciMedian
    "- $($r.Label): Find-UsbLnkTrap / Get-ChildItem = $([math]::Round($ratio, 2)) — target (no slower) **$(if ($ratio -le 1) { 'met' } else { 'NOT met' })**; $($r.Shortcuts) shortcuts parsed; attributes read through $($r.Mechanism) (folder hidden: $(if ($null -eq $r.Hidden) { 'unknown' } else { $r.Hidden }))."
}
$report = @"
# Find-UsbLnkTrap benchmark

Run $(Get-Date -AsUTC -Format 'yyyy-MM-dd HH:mm') UTC on $([Environment]::ProcessorCount) cores ($cpu), PowerShell $($PSVersionTable.PSVersion).
Script: ``bench/Bench-Usb.ps1`` (``./build.ps1 Bench``). Same tree, same run, $Rounds alternating rounds after a warm-up.

Tree: ~$Entries entries, two levels of folders with small documents and one ordinary shortcut per folder, plus the
incident's trap in the root (3 shortcuts named after their folders, hidden click.exe), laid out by the ``usb-trap``
fixture. NTFS: $ntfsNote.

| File system | entries | command | median ms | all rounds ms |
|---|---:|---|---:|---|
$($rows -join "`n")

$($verdicts -join "`n")

Find-UsbLnkTrap lists every folder and parses every shortcut; it reads attributes and the SHA-256 only for candidates.
"@
Set-Content -LiteralPath $ResultPath -Value $report -Encoding utf8
Write-Host $report
