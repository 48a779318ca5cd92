<#
.SYNOPSIS
    Measures the relay reconstruction (TCP reassembly, SMTP/FTP/HTTP parsing, pairing, findings) on TCP-heavy
    captures against the plain capture read in the same run, and memory on a million short connections; writes
    bench/RESULTS-relay.md.

.DESCRIPTION
    Generates with the fixture command `bench-relay-capture`:
      - relayed-N.pcap: N short relayed conversations, both legs (3 of 4 SMTP with AUTH LOGIN and a mail, 1 of 4 an
        HTTP download of an EXE with basic auth and X-My-Real-IP), no per-segment ACKs;
      - short-100000.pcap and short-1000000.pcap: minimal SMTP connections (handshake, greeting, EHLO, QUIT, close),
        spread over hours, to show that memory follows open flows and recent conversations, not the capture length.
    Then, for each file, alternately and -Runs times (first run a warm-up, median reported):
      - baseline: `relay-analyze FILE --read-only`: CaptureReader alone (file read and decode, no analysis);
      - relay:    `relay-analyze FILE`: CaptureReader + RelayAnalyzer, single-threaded, findings built;
      - full:     Invoke-PcapFluxAnalysis through the built module in a fresh pwsh (every analyser), when the
                  cmdlet is implemented in this build.
    Reports packets per second by wall time and per CPU-second (the machine is shared: CPU time is the fairer
    figure when other work competes for the two cores), peak working set, allocations per packet and GC pauses.
    Target (issue 4): full analysis with reassembly >= 1 million packets/s single-threaded; memory bounded.
#>
[CmdletBinding()]
param(
    [string] $ModulePath,
    [int] $Conversations = 100000,
    [int] $Runs = 3,
    [string] $WorkDirectory = (Join-Path ([System.IO.Path]::GetTempPath()) 'ff-bench-relay'),
    [string] $Configuration = 'Release',
    [string] $ResultsPath = (Join-Path $PSScriptRoot 'RESULTS-relay.md')
)

$ErrorActionPreference = 'Stop'
$root = Split-Path -Parent $PSScriptRoot
. (Join-Path $PSScriptRoot 'BenchSupport.ps1')
$fixtures = Get-BenchFixtures $root $Configuration
if (-not $ModulePath) { $ModulePath = Join-Path $root 'out/FluxForensics/0.1.0' }
New-Item -ItemType Directory -Force -Path $WorkDirectory | Out-Null

$files = @(
    @{ Name = "relayed-$Conversations.pcap"; Args = @("$Conversations") ; What = "$Conversations relayed SMTP/HTTP conversations (both legs)" }
    @{ Name = 'short-100000.pcap'; Args = @('100000', '--short'); What = '100,000 short SMTP connections' }
    @{ Name = 'short-1000000.pcap'; Args = @('1000000', '--short'); What = '1,000,000 short SMTP connections' }
)
foreach ($f in $files) {
    $f.Path = Join-Path $WorkDirectory $f.Name
    if (-not (Test-Path -LiteralPath $f.Path)) {
        Write-Host "generating $($f.Path)"
        & dotnet $fixtures bench-relay-capture $f.Path @($f.Args) | Out-Host
        if ($LASTEXITCODE) { throw "bench-relay-capture failed ($LASTEXITCODE)" }
    }
}


function ConvertFrom-Metrics([string] $text) {
    $m = @{}
    foreach ($pair in [regex]::Matches($text, '(\w+)=([\d.]+)')) { $m[$pair.Groups[1].Value] = [double]::Parse($pair.Groups[2].Value, [cultureinfo]::InvariantCulture) }
    $m
}

function Invoke-RelayAnalyze([string] $file, [switch] $ReadOnly) {
    $arguments = @($fixtures, 'relay-analyze', $file) + @(if ($ReadOnly) { '--read-only' })
    $out = & dotnet @arguments 2>&1 | Out-String
    if ($LASTEXITCODE) { throw "relay-analyze failed ($LASTEXITCODE): $out" }
    ConvertFrom-Metrics $out
}

# The full analysis through the cmdlet, in a fresh pwsh; null when the cmdlet is not implemented in this build.
$pwshExe = (Get-Process -Id $PID).Path
[string[]] $pwshPrefix = if ([IO.Path]::GetFileNameWithoutExtension($pwshExe) -eq 'dotnet') { @(Join-Path $PSHOME 'pwsh.dll') } else { @() }
function Invoke-FullAnalysis([string] $file) {
    $script = @"
`$ErrorActionPreference = 'Stop'
Import-Module '$(Join-Path $ModulePath 'FluxForensics.psd1')'
# The whole cmdlet is timed, findings collected (reading, analysis, judging and writing the findings out).
`$watch = [Diagnostics.Stopwatch]::StartNew()
try { `$all = @(Invoke-PcapFluxAnalysis -LiteralPath '$file' -WarningAction SilentlyContinue) }
catch { if (`$_.FullyQualifiedErrorId -like 'NotImplementedYet*') { 'notimplemented=1'; exit 0 } else { throw } }
`$watch.Stop()
`$s = `$all[-1]
`$p = [Diagnostics.Process]::GetCurrentProcess()
"packets=`$(`$s.PacketCount) packets_per_second=`$([long](`$s.PacketCount / `$watch.Elapsed.TotalSeconds)) reader_packets_per_second=`$([long]`$s.PacketsPerSecond) findings=`$(`$all.Count) flows=`$(`$s.FlowCount) peak_working_set_mb=`$([long](`$p.PeakWorkingSet64 / 1e6)) cpu_seconds=`$(`$p.TotalProcessorTime.TotalSeconds.ToString('F1', [cultureinfo]::InvariantCulture))"
"@
    $scriptFile = Join-Path $WorkDirectory 'full-analysis.ps1'
    Set-Content -LiteralPath $scriptFile -Value $script
    $out = & $pwshExe @pwshPrefix -NoLogo -NoProfile -NonInteractive -File $scriptFile 2>&1 | Out-String
    if ($LASTEXITCODE) { Write-Warning "full analysis failed: $out"; return $null }
    $m = ConvertFrom-Metrics $out
    if ($m.notimplemented) { return $null }
    $m
}

$rows = foreach ($f in $files) {
    $base = @(); $relay = @(); $full = @()
    for ($i = 0; $i -le $Runs; $i++) {
        $b = Invoke-RelayAnalyze $f.Path -ReadOnly
        $r = Invoke-RelayAnalyze $f.Path
        $x = if ((Test-Path -LiteralPath (Join-Path $ModulePath 'FluxForensics.psd1'))) { Invoke-FullAnalysis $f.Path } else { $null }
        if ($i -gt 0) { $base += $b; $relay += $r; if ($x) { $full += $x } }
        Write-Host ("{0} run {1}: read {2:N0} p/s, relay {3:N0} p/s (wall) {4:N0} p/s (CPU), {5} MB peak{6}" -f $f.Name, $i, $b.packets_per_second, $r.packets_per_second,
            ($r.packets / [math]::Max(0.001, $r.cpu_seconds)), $r.peak_working_set_mb, $(if ($x) { ", full $($x.packets_per_second) p/s" } else { '' }))
    }
    [pscustomobject]@{
        File = $f.What
        Packets = [long]$relay[0].packets
        ReadPps = Get-Median ($base | ForEach-Object { $_.packets_per_second })
        RelayPps = Get-Median ($relay | ForEach-Object { $_.packets_per_second })
        RelayCpuPps = Get-Median ($relay | ForEach-Object { $_.packets / [math]::Max(0.001, $_.cpu_seconds) })
        RelayPeakMB = Get-Median ($relay | ForEach-Object { $_.peak_working_set_mb })
        ReadPeakMB = Get-Median ($base | ForEach-Object { $_.peak_working_set_mb })
        AllocPerPacket = Get-Median ($relay | ForEach-Object { $_.allocated_bytes_per_packet })
        GcPause = Get-Median ($relay | ForEach-Object { $_.gc_pause_seconds })
        PeakOpenFlows = $relay[0].peak_open_flows
        Dropped = $relay[0].dropped_conversations
        Findings = "$($relay[0].relay_sessions) sessions, $($relay[0].downloads) downloads, $($relay[0].credentials) credentials"
        FullPps = if ($full.Count) { Get-Median ($full | ForEach-Object { $_.packets_per_second }) } else { $null }
        FullCpuPps = if ($full.Count) { Get-Median ($full | ForEach-Object { $_.packets / [math]::Max(0.001, $_.cpu_seconds) }) } else { $null }
        FullPeakMB = if ($full.Count) { Get-Median ($full | ForEach-Object { $_.peak_working_set_mb }) } else { $null }
    }
}

$load = if (Test-Path /proc/loadavg) { (Get-Content /proc/loadavg).Split(' ')[0..2] -join ' ' } else { 'n/a' }
$md = [System.Text.StringBuilder]::new()
[void]$md.AppendLine('# Relay reconstruction benchmark (issue 4)')
[void]$md.AppendLine()
[void]$md.AppendLine("Run $(Get-Date -Format 'yyyy-MM-dd HH:mm') UTC on $([Environment]::ProcessorCount) cores, load average at the end $load (the machine is shared;")
[void]$md.AppendLine('wall-clock rates suffer when other work runs, so packets per CPU-second of the analysing process are given too).')
[void]$md.AppendLine("Median of $Runs runs after a warm-up. Single-threaded: CaptureReader hands packets to the analysers on one thread.")
[void]$md.AppendLine()
[void]$md.AppendLine('| Capture | Packets | Baseline: read only (p/s) | Read + relay analysis (p/s, wall) | Read + relay (p/s per CPU-s) | Whole cmdlet, timed end to end (p/s) | Peak working set: read / relay / full (MB) | Alloc. per packet (B) | GC pause (s) | Peak open flows | Conversations let go | Findings |')
[void]$md.AppendLine('|---|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|---|')
foreach ($r in $rows) {
    $fullText = if ($null -ne $r.FullPps) { '{0:N0}' -f $r.FullPps } else { 'n/a (cmdlet not in this build)' }
    $fullMb = if ($null -ne $r.FullPeakMB) { '{0:N0}' -f $r.FullPeakMB } else { '-' }
    [void]$md.AppendLine(('| {0} | {1:N0} | {2:N0} | {3:N0} | {4:N0} | {5} | {6:N0} / {7:N0} / {8} | {9:N0} | {10:N1} | {11} | {12:N0} | {13} |' -f
        $r.File, $r.Packets, $r.ReadPps, $r.RelayPps, $r.RelayCpuPps, $fullText, $r.ReadPeakMB, $r.RelayPeakMB, $fullMb, $r.AllocPerPacket, $r.GcPause, $r.PeakOpenFlows, $r.Dropped, $r.Findings))
}
[void]$md.AppendLine()
[void]$md.AppendLine('Memory: the two short-connection captures differ tenfold in length; the peak working set of the relay analysis is what')
[void]$md.AppendLine('to compare (flows leave the table on FIN/RST/timeout; closed conversations that did not pair and carry nothing to')
[void]$md.AppendLine('report are let go after the retention window). On the relayed capture memory grows with the findings themselves')
[void]$md.AppendLine('(every conversation there is a RelaySession with a credential, every fourth a download): that is output, not buffering.')
[void]$md.AppendLine()
[void]$md.AppendLine('Reproduce: `dotnet pwsh ./build.ps1 Bench` or `dotnet pwsh bench/Bench-Relay.ps1 [-Conversations N] [-Runs N]`.')
Set-Content -LiteralPath $ResultsPath -Value $md.ToString()
Write-Host $md.ToString()
