<#
.SYNOPSIS
    Remove-FluxInfection cleaning 1,000 USB trap findings on an NTFS stick, against a plain `mv` + `setfattr` shell loop
    over the same items, in one run; then Restore-FluxQuarantine putting them all back.
.DESCRIPTION
    Lays out a stick with -Traps folders, each Hidden+System with a shortcut trap named after it, and one payload shared
    by all of them (as the shortcut worm does). The findings are built directly (the same UsbLnkTrap objects
    Find-UsbLnkTrap emits). Remove-FluxInfection quarantines every shortcut and the payload (copied off the stick into
    the store, fsynced, verified by SHA-256, removed, made inert, with a journal entry flushed before each batch) and
    clears Hidden/System on every folder; the baseline is what a hand cleanup does: a bash loop of `mv` to a folder on
    the same disk as the store and `setfattr` to clear the attributes, with no hashing, no journal, no fsync, no undo.
    Runs on an ntfs-3g mount when root with FUSE (else on the temp file system, without attributes). Medians of -Rounds
    go to bench/RESULTS-remediation.md.
#>
[CmdletBinding()]
param(
    [string] $ModulePath = (Join-Path $PSScriptRoot '../out/FluxForensics/0.1.0'),
    [int] $Traps = 1000,
    [int] $Rounds = 3,
    [string] $ResultPath = (Join-Path $PSScriptRoot 'RESULTS-remediation.md')
)
$ErrorActionPreference = 'Stop'
$ModulePath = (Resolve-Path -LiteralPath $ModulePath).Path
Import-Module (Join-Path $ModulePath 'FluxForensics.psd1') -Force
$root = Split-Path -Parent $PSScriptRoot
$env:FLUXFORENSICS_MODULE = $ModulePath
Import-Module (Join-Path $root 'tests/FluxForensics.Tests/TestSupport.psm1') -Force

$temp = Join-Path ([System.IO.Path]::GetTempPath()) ('ff-bench-rem-' + [guid]::NewGuid().ToString('n'))
New-Item -ItemType Directory -Force -Path $temp | Out-Null
$ntfs = $IsLinux -and (Test-FluxIsRoot) -and (Test-Path /dev/fuse) -and (Get-Command mkntfs, ntfs-3g, setfattr -ErrorAction SilentlyContinue).Count -eq 3
$mount = Join-Path $temp 'stick'
New-Item -ItemType Directory -Force -Path $mount | Out-Null
$mounted = $false

. (Join-Path $PSScriptRoot 'BenchSupport.ps1')

function New-Stick {
    # A fresh file system each round, so both sides start from the same state.
    if ($ntfs) {
        if ($script:mounted) { & umount $mount; $script:mounted = $false }
        $image = Join-Path $temp 'stick.img'
        & truncate -s 256M $image
        & mkntfs -F -Q -q -L STICK $image 2>&1 | Out-Null
        & ntfs-3g $image $mount 2>&1 | Out-Null
        if ($LASTEXITCODE) { throw "ntfs-3g failed ($LASTEXITCODE)" }
        $script:mounted = $true
    }
    else {
        Get-ChildItem -LiteralPath $mount -Force | Remove-Item -Recurse -Force
    }
    # Layout in one bash run: folders made Hidden+System (0x16 = Directory|Hidden|System), shortcuts, one payload.
    $script = @"
set -e
cd '$mount'
head -c 61440 /dev/urandom > click.exe
for i in `$(seq -w 1 $Traps); do
  mkdir "folder`$i"; echo "document" > "folder`$i/doc.txt"
  head -c 1500 /dev/urandom > "folder`$i.lnk"
done
"@
    & bash -c $script
    if ($ntfs) {
        & bash -c "cd '$mount' && for d in folder*/; do setfattr -h -n system.ntfs_attrib_be -v 0x00000016 `"`${d%/}`"; done"
    }
}

function New-Findings {
    foreach ($i in 1..$Traps) {
        $n = "{0:D$("$Traps".Length)}" -f $i
        New-FluxFinding -Type UsbLnkTrap -Property @{
            DriveRoot = [string]$mount; ShortcutPath = "$mount/folder$n.lnk"; HiddenFolderPath = "$mount/folder$n"; PayloadPath = "$mount/click.exe"
        }
    }
}

$flux = [System.Collections.Generic.List[double]]::new()
$restore = [System.Collections.Generic.List[double]]::new()
$baseline = [System.Collections.Generic.List[double]]::new()
$actions = 0
try {
    for ($round = 1; $round -le $Rounds; $round++) {
        New-Stick
        $findings = @(New-Findings)
        $store = Join-Path $temp "store-$round"
        & sync
        $sw = [System.Diagnostics.Stopwatch]::StartNew()
        $out = @($findings | Remove-FluxInfection -QuarantinePath $store -Confirm:$false -PassThru)
        $sw.Stop()
        $flux.Add($sw.Elapsed.TotalSeconds)
        $actions = @($out | Where-Object Status -eq 'Done' | Where-Object Action -ne 'Verify').Count
        $failed = @($out | Where-Object Status -eq 'Failed').Count
        if ($failed) { throw "$failed actions failed" }

        $sw = [System.Diagnostics.Stopwatch]::StartNew()
        Restore-FluxQuarantine -RunId ($out | Where-Object QuarantineId | Select-Object -First 1).QuarantineId.Substring(0, 22) -QuarantinePath $store -Confirm:$false
        $sw.Stop()
        $restore.Add($sw.Elapsed.TotalSeconds)
        Write-Host ("round {0}: Remove-FluxInfection {1:N2} s ({2} actions), Restore-FluxQuarantine {3:N2} s" -f $round, $flux[-1], $actions, $restore[-1])

        New-Stick
        $dest = Join-Path $temp "mv-$round"
        New-Item -ItemType Directory -Force -Path $dest | Out-Null
        $clear = if ($ntfs) { 'setfattr -h -n system.ntfs_attrib_be -v 0x00000010 "$d"' } else { 'true' }
        & sync
        $sw = [System.Diagnostics.Stopwatch]::StartNew()
        & bash -c "cd '$mount' && mv click.exe '$dest/' && for d in folder*; do [ -d `"`$d`" ] || continue; mv `"`$d.lnk`" '$dest/'; $clear; done"
        $sw.Stop()
        if ($LASTEXITCODE) { throw "baseline failed ($LASTEXITCODE)" }
        $baseline.Add($sw.Elapsed.TotalSeconds)
        Write-Host ("round {0}: mv + setfattr loop {1:N2} s" -f $round, $baseline[-1])
    }
}
finally {
    if ($mounted) { & umount $mount }
    if ($temp.StartsWith([System.IO.Path]::GetTempPath())) { Remove-Item -LiteralPath $temp -Recurse -Force -ErrorAction SilentlyContinue }
}

$fs = if ($ntfs) { 'NTFS image mounted with ntfs-3g (store on the temp file system: every file is copied off the stick)' } else { 'the temp file system (no NTFS: attributes not cleared)' }
$cpu = ((Get-Content /proc/cpuinfo -ErrorAction SilentlyContinue | Select-String '^model name' | Select-Object -First 1) -replace '^model name\s*:\s*', '')
$mFlux = Get-Median $flux; $mBase = Get-Median $baseline; $mRestore = Get-Median $restore
$text = @"
# Remediation benchmark

$Traps UsbLnkTrap findings on one stick ($Traps Hidden+System folders, $Traps shortcut traps, one shared payload), on
$fs. Medians of $Rounds rounds, each on a fresh file system. Machine: $cpu, $([Environment]::ProcessorCount) cores.
Run: ``pwsh bench/Bench-Remediation.ps1`` (or ``./build.ps1 Bench``).

| What | Median | Per finding |
|---|---:|---:|
| Remove-FluxInfection -Confirm:`$false ($actions actions: quarantine $($Traps + 1) files, clear $Traps folders, verify) | $('{0:N2}' -f $mFlux) s | $('{0:N2}' -f (1000 * $mFlux / $Traps)) ms |
| Baseline: bash loop of ``mv`` + ``setfattr`` (no hash, no journal, no fsync, no undo) | $('{0:N2}' -f $mBase) s | $('{0:N2}' -f (1000 * $mBase / $Traps)) ms |
| Restore-FluxQuarantine -RunId (everything back, attributes and timestamps included) | $('{0:N2}' -f $mRestore) s | $('{0:N2}' -f (1000 * $mRestore / $Traps)) ms |

Ratio Remove-FluxInfection / baseline: $('{0:N2}' -f ($mFlux / $mBase)).

Rounds (s): Remove-FluxInfection $(($flux | ForEach-Object { '{0:N2}' -f $_ }) -join ', '); baseline $(($baseline | ForEach-Object { '{0:N2}' -f $_ }) -join ', '); restore $(($restore | ForEach-Object { '{0:N2}' -f $_ }) -join ', ').

The journal is flushed (fsync) once per batch of up to 256 intents before any action of the batch runs, and once
after the batch for the marks, instead of twice per action; each file copied off the stick is verified by SHA-256
and made durable (one syncfs per batch) before its original is removed, which the baseline does not do.
"@
Set-Content -LiteralPath $ResultPath -Value $text
Write-Host $text
