<#
.SYNOPSIS
    Measures the managed capture reader (CaptureReader.Read: file reading + decoding to TCP/UDP) against libpcap's
    own read (`tcpdump -r FILE -w /dev/null`) in the same run, and writes bench/RESULTS-capture-read.md.

.DESCRIPTION
    Generates a mixed DNS/TCP Ethernet capture with the fixture command `bench-read-capture` (default 5 million
    packets, ~690 MB, classic pcap; plus the same traffic as pcapng and as gzip-compressed pcap), then for each file
    runs, alternately and -Runs times each:
      - `FluxForensics.Fixtures read-capture FILE`: reads and decodes every packet with CaptureReader, single-threaded;
        reports the in-process read time (and the whole process wall time including .NET start-up);
      - `tcpdump -r FILE -w /dev/null`: libpcap reads every record and writes it nowhere (process wall time).
    The first run of each is a warm-up (page cache) and is not counted; the median of the others is reported.
    Targets (issue 3): >= 2 million packets/s single-threaded, within 4x of tcpdump's read.

.PARAMETER KeepFiles
    Keep the generated captures in -WorkDirectory for the next run (they are deleted otherwise).

.PARAMETER ModulePath
    Accepted for build.ps1 Bench (not used: the benchmark drives Core through the fixtures executable).
#>
[CmdletBinding()]
param(
    [string] $ModulePath,
    [long] $Packets = 5000000,
    [int] $Runs = 5,
    [string] $WorkDirectory = (Join-Path ([System.IO.Path]::GetTempPath()) 'ff-bench-capture-read'),
    [string] $Configuration = 'Release',
    [string] $ResultsPath = (Join-Path $PSScriptRoot 'RESULTS-capture-read.md'),
    # Keep the generated captures (~1.6 GB) for another run instead of deleting them at the end.
    [switch] $KeepFiles
)

$ErrorActionPreference = 'Stop'
$root = Split-Path -Parent $PSScriptRoot
. (Join-Path $PSScriptRoot 'BenchSupport.ps1')
$fixtures = Get-BenchFixtures $root $Configuration
$tcpdump = (Get-Command tcpdump -CommandType Application -ErrorAction SilentlyContinue | Select-Object -First 1).Source
if (-not $tcpdump) { throw 'tcpdump is not installed (apt-get install -y tcpdump): the baseline cannot run.' }

New-Item -ItemType Directory -Force -Path $WorkDirectory | Out-Null
$pcap = Join-Path $WorkDirectory "mixed-$Packets.pcap"
$pcapng = Join-Path $WorkDirectory "mixed-$Packets.pcapng"
$gzip = "$pcap.gz"

function Invoke-Timed([string] $file, [string[]] $arguments) {
    $sw = [System.Diagnostics.Stopwatch]::StartNew()
    $out = & $file @arguments 2>&1
    $sw.Stop()
    if ($LASTEXITCODE) { throw "$file $($arguments -join ' ') failed ($LASTEXITCODE): $out" }
    [pscustomobject]@{ Seconds = $sw.Elapsed.TotalSeconds; Output = ($out | Out-String) }
}


foreach ($file in $pcap, $pcapng) {
    if (-not (Test-Path -LiteralPath $file)) {
        Write-Host "generating $file"
        Invoke-Timed dotnet @($fixtures, 'bench-read-capture', $file, $Packets) | ForEach-Object { Write-Host $_.Output.Trim() }
    }
}
if (-not (Test-Path -LiteralPath $gzip)) {
    $gz = Get-Command gzip -CommandType Application -ErrorAction SilentlyContinue | Select-Object -First 1
    if ($gz) {
        Write-Host "compressing $gzip"
        & $gz.Source -1 -k -f $pcap
    }
}

$rows = foreach ($file in @($pcap, $pcapng, $gzip) | Where-Object { Test-Path -LiteralPath $_ }) {
    $ours = @(); $oursProcess = @(); $theirs = @(); $last = $null
    for ($i = 0; $i -le $Runs; $i++) {
        $r = Invoke-Timed dotnet @($fixtures, 'read-capture', $file)
        if ($r.Output -notmatch 'packets=(\d+) .*seconds=([\d.]+) ') { throw "unexpected read-capture output: $($r.Output)" }
        $count = [long]$Matches[1]
        $inProcess = [double]::Parse($Matches[2], [cultureinfo]::InvariantCulture)
        # libpcap does not read gzip: the baseline for the compressed file is gzip -dc piped into tcpdump.
        $t = if ($file.EndsWith('.gz')) { Invoke-Timed /bin/sh @('-c', "gzip -dc '$file' | '$tcpdump' -r - -w /dev/null") }
             else { Invoke-Timed $tcpdump @('-r', $file, '-w', '/dev/null') }
        if ($i -eq 0) { continue } # warm-up
        $ours += $inProcess; $oursProcess += $r.Seconds; $theirs += $t.Seconds; $last = $r.Output
    }
    if ($count -ne $Packets) { throw "$file`: read $count packets, expected $Packets" }
    $o = Get-Median $ours; $ob = ($ours | Measure-Object -Minimum).Minimum
    $op = Get-Median $oursProcess
    $t = Get-Median $theirs; $tb = ($theirs | Measure-Object -Minimum).Minimum
    $peak = if ($last -match 'peak_working_set_mb=(\d+)') { [int]$Matches[1] } else { 0 }
    [pscustomobject]@{
        File               = [System.IO.Path]::GetFileName($file)
        MB                 = [math]::Round((Get-Item -LiteralPath $file).Length / 1e6, 0)
        Packets            = $count
        OursMedian         = [math]::Round($o, 3)
        OursBest           = [math]::Round($ob, 3)
        OursPpsBest        = [math]::Round($count / $ob, 0)
        OursPpsMedian      = [math]::Round($count / $o, 0)
        OursProcessMedian  = [math]::Round($op, 3)
        TcpdumpMedian      = [math]::Round($t, 3)
        TcpdumpBest        = [math]::Round($tb, 3)
        TcpdumpPpsBest     = [math]::Round($count / $tb, 0)
        RatioMedian        = [math]::Round($t / $o, 2)
        RatioBest          = [math]::Round($tb / $ob, 2)
        PeakMB             = $peak
    }
}

$rows | Format-Table -AutoSize | Out-Host

$cpu = (Get-Content /proc/cpuinfo -ErrorAction SilentlyContinue | Where-Object { $_ -like 'model name*' } | Select-Object -First 1) -replace '^model name\s*:\s*', ''
$cores = [Environment]::ProcessorCount
$memGiB = if (Test-Path /proc/meminfo) { [math]::Round(([long]((Get-Content /proc/meminfo | Select-Object -First 1) -replace '\D', '')) / 1MB, 1) } else { '?' }
$os = [System.Runtime.InteropServices.RuntimeInformation]::OSDescription
$dotnet = [System.Runtime.InteropServices.RuntimeInformation]::FrameworkDescription
$tcpdumpVersion = (& $tcpdump --version 2>&1 | Select-Object -First 2) -join '; '

$table = @('| File | MB | Packets | CaptureReader s (median / best) | CaptureReader pkt/s (median / best) | process wall s (median) | tcpdump s (median / best) | tcpdump pkt/s (best) | tcpdump time / ours (median / best) | peak WS MB |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|')
foreach ($r in $rows) {
    $table += "| $($r.File) | $($r.MB) | $($r.Packets.ToString('N0')) | $($r.OursMedian) / $($r.OursBest) | $($r.OursPpsMedian.ToString('N0')) / $($r.OursPpsBest.ToString('N0')) | $($r.OursProcessMedian) | $($r.TcpdumpMedian) / $($r.TcpdumpBest) | $($r.TcpdumpPpsBest.ToString('N0')) | $($r.RatioMedian) / $($r.RatioBest) | $($r.PeakMB) |"
}
$load = if (Test-Path /proc/loadavg) { ((Get-Content /proc/loadavg) -split ' ')[0..2] -join ' ' } else { '?' }

@"
# Capture read benchmark

Generated by ``bench/Bench-CaptureRead.ps1`` on $((Get-Date).ToUniversalTime().ToString('yyyy-MM-dd HH:mm')) UTC.

**What is measured.** ``CaptureReader.Read`` (managed pcap/pcapng/gzip reader + ``PacketDecoder`` down to TCP/UDP,
handler called for every packet, single thread) through ``FluxForensics.Fixtures read-capture FILE``, against
``tcpdump -r FILE -w /dev/null`` (libpcap reads every record and writes it nowhere) in the same run, alternately,
$Runs runs each after one warm-up run (files in the page cache); medians and best runs. A ratio above 1 means
CaptureReader is faster than tcpdump. "CaptureReader s" is the read time measured
inside the process (what a cmdlet pays); "process wall s" adds .NET start-up and JIT. tcpdump times are process wall
times (for the .gz file: ``gzip -dc FILE | tcpdump -r - -w /dev/null``, as libpcap cannot read gzip). Capture: ``bench-read-capture`` fixture, $($Packets.ToString('N0')) Ethernet packets: 40 % DNS over UDP/IPv4
(queries and answers with 1-8 A records, 600 names), 10 % DNS queries over IPv6, 50 % TCP (SYN, HTTP request,
2 x 160-byte data segments, ACK), 5,000 flows.

**Targets (issue 3).** >= 2,000,000 packets/s single-threaded; within 4x of the libpcap read (aim: faster).

$($table -join "`n")

**Machine.** $cpu, $cores logical CPUs, $memGiB GiB RAM; $os; $dotnet; tcpdump: $tcpdumpVersion. Load average at the end of the run: $load (the machine is shared: absolute times
vary with the load, the same-run ratio is the figure to trust).
"@ | Set-Content -LiteralPath $ResultsPath -Encoding utf8

Write-Host "wrote $ResultsPath"
if (-not $KeepFiles) {
    foreach ($file in $pcap, $pcapng, $gzip) {
        if (Test-Path -LiteralPath $file) { Remove-Item -LiteralPath $file -Force }
    }
}
