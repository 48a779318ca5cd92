#Requires -Version 7.0
<#
.SYNOPSIS
    The capture engine as a whole: Invoke-PcapFluxAnalysis against tcpdump and tshark on the same files in the same
    run, on a realistic relay-heavy mix and on the DNS-heavy 5M-packet capture; writes bench/RESULTS-engine.md.

.DESCRIPTION
    Generates with the fixtures (kept in -WorkDirectory between runs):
      - relay mix: `bench-relay-mix` (the incident sample repeated to >= -RelayPackets packets, each copy later in time
        with fresh client ports, TCP sequence numbers and DNS ids; ~570 bytes a packet, most bytes relayed mail and
        EXE downloads), plus the same mix at -FlatSmallPackets and -FlatLargePackets for memory flatness;
      - DNS-heavy: `bench-capture` (-DnsPackets packets, 10,000 flows, 600 names).
    Then -Rounds rounds, alternating, each FluxForensics run in a fresh pwsh:
      - `tcpdump -r FILE -w /dev/null` (the libpcap read limit);
      - the whole `Invoke-PcapFluxAnalysis -LiteralPath FILE`, with `-ThrottleLimit 1` and `-ThrottleLimit 2` when the
        cmdlet has that parameter (one worker, as it always is, when it does not);
      - the relay mix at the small and large sizes (default worker count) for memory flatness.
    And once per file: `tshark -r FILE -q` (whole file; without a tap it dissects little) and `tshark -r FILE -q -z io,phs`
    (every packet dissected; slow on the 5M capture).
    In the child: wall time of the whole cmdlet (stopwatch around it, after Import-Module), the time the first object
    came through a ForEach-Object, VmHWM of the pwsh process from /proc/self/status at the end, and a SHA-256 of a
    canonical serialisation of the findings (every property by name; Elapsed, PacketsPerSecond and the wall-clock
    ObservedAt left out) in output
    order and sorted, so worker counts can be compared.
    Targets (issue 18): relay mix >= 1M packets/s with one worker and >= 1.7x that with two; DNS-heavy >= 3M packets/s
    with one worker; peak < 400 MB and flat in capture length; first finding in less than half the whole run.
#>
[CmdletBinding()]
param(
    [string] $ModulePath,
    [long] $RelayPackets = 500000,
    [long] $DnsPackets = 5000000,
    [long] $FlatSmallPackets = 250000,
    [long] $FlatLargePackets = 1000000,
    [int] $Rounds = 3,
    # Said in the title of the results (e.g. "before the engine rebuild").
    [string] $Label,
    [switch] $NoTshark,
    [string] $WorkDirectory = (Join-Path ([System.IO.Path]::GetTempPath()) 'ff-bench-engine'),
    [string] $Configuration = 'Release',
    [string] $ResultsPath = (Join-Path $PSScriptRoot 'RESULTS-engine.md')
)

$ErrorActionPreference = 'Stop'
$root = Split-Path -Parent $PSScriptRoot
. (Join-Path $PSScriptRoot 'BenchSupport.ps1')
$fixtures = Get-BenchFixtures $root $Configuration
if (-not $ModulePath) { $ModulePath = Join-Path $root 'out/FluxForensics/0.1.0' }
$manifest = Join-Path $ModulePath 'FluxForensics.psd1'
if (-not (Test-Path -LiteralPath $manifest)) { throw "No built module at $ModulePath (dotnet pwsh ./build.ps1 Build)." }
New-Item -ItemType Directory -Force -Path $WorkDirectory | Out-Null

$inv = [cultureinfo]::InvariantCulture
$uptimeStart = (& uptime) -replace '^\s+', ''
$commit = (& git -C $root rev-parse --short HEAD 2>$null)
$dirty = [bool](& git -C $root status --porcelain --untracked-files=no 2>$null)
$engineCommit = (& git -C $root log -1 --format=%h -- src 2>$null)

function New-Capture([string] $Path, [string[]] $Arguments) {
    if (-not (Test-Path -LiteralPath $Path)) {
        Write-Host "generating $Path"
        & dotnet $fixtures @Arguments | Out-Host
        if ($LASTEXITCODE) { throw "$($Arguments[0]) failed ($LASTEXITCODE)" }
    }
    $Path
}
$relay = New-Capture (Join-Path $WorkDirectory "relay-mix-$RelayPackets.pcap") @('bench-relay-mix', (Join-Path $WorkDirectory "relay-mix-$RelayPackets.pcap"), '--packets', "$RelayPackets")
$flatSmall = New-Capture (Join-Path $WorkDirectory "relay-mix-$FlatSmallPackets.pcap") @('bench-relay-mix', (Join-Path $WorkDirectory "relay-mix-$FlatSmallPackets.pcap"), '--packets', "$FlatSmallPackets")
$flatLarge = New-Capture (Join-Path $WorkDirectory "relay-mix-$FlatLargePackets.pcap") @('bench-relay-mix', (Join-Path $WorkDirectory "relay-mix-$FlatLargePackets.pcap"), '--packets', "$FlatLargePackets")
$dns = New-Capture (Join-Path $WorkDirectory "dns-heavy-$DnsPackets.pcap") @('bench-capture', (Join-Path $WorkDirectory "dns-heavy-$DnsPackets.pcap"), '--packets', "$DnsPackets")

# Does this build's cmdlet take -ThrottleLimit? Asked in a fresh pwsh, as the runs see it.
$pwshExe = (Get-Process -Id $PID).Path
[string[]] $pwshPrefix = if ([IO.Path]::GetFileNameWithoutExtension($pwshExe) -eq 'dotnet') { @(Join-Path $PSHOME 'pwsh.dll') } else { @() }
$probe = & $pwshExe @pwshPrefix -NoLogo -NoProfile -NonInteractive -Command "Import-Module '$manifest'; (Get-Command Invoke-PcapFluxAnalysis).Parameters.ContainsKey('ThrottleLimit')"
$hasThrottle = "$probe".Trim() -eq 'True'
[int[]] $workers = if ($hasThrottle) { @(1, 2) } else { @(0) }  # 0: the parameter is not given (this build has one worker)

$child = Join-Path $WorkDirectory 'engine-run.ps1'
Set-Content -LiteralPath $child -Value @'
param([string] $Manifest, [string] $Capture, [int] $Workers, [string] $Canonical)
$ErrorActionPreference = 'Stop'
Import-Module $Manifest
$arguments = @{ LiteralPath = $Capture; WarningAction = 'SilentlyContinue' }
if ($Workers -gt 0) { $arguments.ThrottleLimit = $Workers }
$all = [System.Collections.Generic.List[object]]::new()
$first = -1.0
$watch = [Diagnostics.Stopwatch]::StartNew()
Invoke-PcapFluxAnalysis @arguments | ForEach-Object {
    if ($first -lt 0) { $first = $watch.Elapsed.TotalSeconds }
    $all.Add($_)
}
$watch.Stop()
$cpu = [Diagnostics.Process]::GetCurrentProcess().TotalProcessorTime.TotalSeconds
$hwmKb = [long](((Get-Content /proc/self/status) | Where-Object { $_ -like 'VmHWM:*' }) -replace '\D', '')
$summary = $all | Where-Object { $_ -is [FluxForensics.Model.CaptureSummary] } | Select-Object -Last 1
# Canonical form: each finding's properties sorted by name as JSON; what depends on the run, not the capture, left out:
# the analysis's timings and ObservedAt (the wall-clock time the finding was made).
$skip = @('Elapsed', 'PacketsPerSecond', 'ObservedAt')
$lines = foreach ($finding in $all) {
    $o = [ordered]@{ Type = $finding.GetType().FullName }
    foreach ($p in ($finding.PSObject.Properties | Where-Object { $_.MemberType -eq 'Property' -and $_.Name -notin $skip } | Sort-Object Name)) { $o[$p.Name] = $p.Value }
    [pscustomobject]$o | ConvertTo-Json -Depth 6 -Compress
}
Set-Content -LiteralPath $Canonical -Value $lines
$sha = [Security.Cryptography.SHA256]::Create()
$ordered = [Convert]::ToHexString($sha.ComputeHash([Text.Encoding]::UTF8.GetBytes(($lines -join "`n")))).ToLowerInvariant()
$sorted = [Convert]::ToHexString($sha.ComputeHash([Text.Encoding]::UTF8.GetBytes((($lines | Sort-Object -CaseSensitive) -join "`n")))).ToLowerInvariant()
$inv = [cultureinfo]::InvariantCulture
"cpu=$($cpu.ToString('F2', $inv)) seconds=$($watch.Elapsed.TotalSeconds.ToString('F3', $inv)) first=$($first.ToString('F3', $inv)) packets=$($summary.PacketCount) findings=$($all.Count) hwm_kb=$hwmKb summary_pps=$([long]$summary.PacketsPerSecond) issues=$($summary.ParseIssueCount) ordered=$ordered sorted=$sorted"
'@

function Invoke-Engine([string] $File, [int] $Workers, [string] $Tag) {
    $canonical = Join-Path $WorkDirectory "findings-$Tag.jsonl"
    $out = & $pwshExe @pwshPrefix -NoLogo -NoProfile -NonInteractive -File $child -Manifest $manifest -Capture $File -Workers $Workers -Canonical $canonical 2>&1 | Out-String
    if ($LASTEXITCODE) { throw "Invoke-PcapFluxAnalysis on $File failed ($LASTEXITCODE): $out" }
    $m = @{ Canonical = $canonical }
    foreach ($pair in [regex]::Matches($out, '(\w+)=([0-9a-f.\-]+)')) { $m[$pair.Groups[1].Value] = $pair.Groups[2].Value }
    [pscustomobject]@{
        Seconds = [double]::Parse($m.seconds, $inv); First = [double]::Parse($m.first, $inv); Packets = [long]$m.packets
        Findings = [int]$m.findings; PeakMB = [long]$m.hwm_kb / 1024.0; SummaryPps = [long]$m.summary_pps; Issues = [long]$m.issues
        Ordered = $m.ordered; Sorted = $m.sorted; Canonical = $canonical; CpuSeconds = [double]::Parse($m.cpu, $inv); Pps = [long]$m.packets / [double]::Parse($m.seconds, $inv)
    }
}
function Measure-Tcpdump([string] $File) { (Measure-Command { & tcpdump -r $File -w /dev/null 2>$null }).TotalSeconds }

$files = @(
    [pscustomobject]@{ Key = 'relay'; Path = $relay; What = "relay mix (bench-relay-mix, >= $RelayPackets packets)" }
    [pscustomobject]@{ Key = 'dns'; Path = $dns; What = "DNS-heavy (bench-capture, $DnsPackets packets)" }
)
$haveTcpdump = [bool](Get-Command tcpdump -ErrorAction SilentlyContinue)
$runs = [System.Collections.Generic.List[object]]::new()
foreach ($round in 1..$Rounds) {
    foreach ($f in $files) {
        $t = if ($haveTcpdump) { Measure-Tcpdump $f.Path } else { $null }
        $runs.Add([pscustomobject]@{ Round = $round; File = $f.Key; What = 'tcpdump'; Workers = $null; Seconds = $t; Result = $null })
        # Worker counts alternate their order from round to round, so neither always runs right after tcpdump.
        [int[]] $order = if ($round % 2) { $workers } else { $workers[($workers.Count - 1)..0] }
        foreach ($n in $order) {
            $r = Invoke-Engine $f.Path $n "$($f.Key)-w$n-r$round"
            $runs.Add([pscustomobject]@{ Round = $round; File = $f.Key; What = 'flux'; Workers = $n; Seconds = $r.Seconds; Result = $r })
            Write-Host ("round {0} {1} workers={2}: {3:F2} s = {4:N0} pkt/s, first finding {5:F2} s, VmHWM {6:N0} MB, {7} findings; tcpdump {8:F2} s" -f
                $round, $f.Key, $(if ($n) { $n } else { 'default' }), $r.Seconds, $r.Pps, $r.First, $r.PeakMB, $r.Findings, $t)
        }
    }
    foreach ($flat in @(@('flat-small', $flatSmall), @('flat-large', $flatLarge))) {
        $r = Invoke-Engine $flat[1] 0 "$($flat[0])-r$round"
        $runs.Add([pscustomobject]@{ Round = $round; File = $flat[0]; What = 'flux'; Workers = 0; Seconds = $r.Seconds; Result = $r })
        Write-Host ("round {0} {1}: {2:F2} s, {3:N0} packets, VmHWM {4:N0} MB" -f $round, $flat[0], $r.Seconds, $r.Packets, $r.PeakMB)
    }
}
# tshark -q alone dissects nothing it does not have to (no tap, no filter, no output): it measures tshark's reading.
# With a tap over every protocol (-z io,phs) each packet is dissected, TCP streams reassembled: the analyst's tool at work.
$tshark = @{}
$tsharkFull = @{}
if (-not $NoTshark -and (Get-Command tshark -ErrorAction SilentlyContinue)) {
    foreach ($f in $files) {
        $tshark[$f.Key] = (Measure-Command { & tshark -r $f.Path -q 2>$null | Out-Null }).TotalSeconds
        $tsharkFull[$f.Key] = (Measure-Command { & tshark -r $f.Path -q -z io,phs 2>$null | Out-Null }).TotalSeconds
        Write-Host ("tshark -r {0} -q: {1:F1} s; with -z io,phs: {2:F1} s" -f $f.Key, $tshark[$f.Key], $tsharkFull[$f.Key])
    }
}
$uptimeEnd = (& uptime) -replace '^\s+', ''

# ---- Summary ---------------------------------------------------------------------------------------------------------
$fmt = { param($v, $f) if ($null -eq $v) { 'n/a' } else { ([double]$v).ToString($f, $inv) } }
$stats = @{}
foreach ($f in $files) {
    $packets = ($runs | Where-Object { $_.File -eq $f.Key -and $_.Result } | Select-Object -First 1).Result.Packets
    $td = @($runs | Where-Object { $_.File -eq $f.Key -and $_.What -eq 'tcpdump' -and $null -ne $_.Seconds } | ForEach-Object Seconds)
    $byWorkers = @{}
    foreach ($n in $workers) {
        $rs = @($runs | Where-Object { $_.File -eq $f.Key -and $_.What -eq 'flux' -and $_.Workers -eq $n } | ForEach-Object Result)
        $byWorkers[$n] = [pscustomobject]@{
            Seconds = Get-Median ($rs | ForEach-Object Seconds); First = Get-Median ($rs | ForEach-Object First)
            FirstShare = Get-Median ($rs | ForEach-Object { $_.First / $_.Seconds }); PeakMB = ($rs | Measure-Object PeakMB -Maximum).Maximum
            Findings = $rs[0].Findings; Hashes = @($rs | ForEach-Object Ordered | Sort-Object -Unique); Sorted = @($rs | ForEach-Object Sorted | Sort-Object -Unique)
            SummaryPps = Get-Median ($rs | ForEach-Object SummaryPps); Issues = $rs[0].Issues; Canonical = $rs[0].Canonical
        }
        $byWorkers[$n] | Add-Member Pps ($packets / $byWorkers[$n].Seconds)
    }
    $allOrdered = @($workers | ForEach-Object { $byWorkers[$_].Hashes } | Sort-Object -Unique)
    $allSorted = @($workers | ForEach-Object { $byWorkers[$_].Sorted } | Sort-Object -Unique)
    $stats[$f.Key] = [pscustomobject]@{
        Packets = $packets; Tcpdump = if ($td.Count) { Get-Median $td } else { $null }; Workers = $byWorkers
        SameOrdered = $allOrdered.Count -eq 1; SameSorted = $allSorted.Count -eq 1; Hash = $allOrdered[0]
    }
}
$one = if ($hasThrottle) { 1 } else { 0 }
$r1 = $stats.relay.Workers[$one]
$d1 = $stats.dns.Workers[$one]
$speedup = if ($hasThrottle) { $stats.relay.Workers[1].Seconds / $stats.relay.Workers[2].Seconds } else { $null }
$small = @($runs | Where-Object File -eq 'flat-small' | ForEach-Object Result)
$large = @($runs | Where-Object File -eq 'flat-large' | ForEach-Object Result)
$flatRatio = ($large | Measure-Object PeakMB -Maximum).Maximum / ($small | Measure-Object PeakMB -Minimum).Minimum
$peakAll = ($runs | Where-Object Result | ForEach-Object { $_.Result.PeakMB } | Measure-Object -Maximum).Maximum
$firstShare = ($workers | ForEach-Object { $stats.relay.Workers[$_].FirstShare } | Measure-Object -Maximum).Maximum
$yes = { param($ok) if ($null -eq $ok) { 'n/a' } elseif ($ok) { '**yes**' } else { '**no**' } }

$md = [System.Text.StringBuilder]::new()
$title = if ($Label) { "Capture engine benchmark: $Label" } else { 'Capture engine benchmark' }
[void]$md.AppendLine("# $title (issue 18)")
[void]$md.AppendLine()
[void]$md.AppendLine("Commit $commit$(if ($dirty) { ' (with uncommitted changes)' }) (the module's code, src/, last changed in $engineCommit), run $(Get-Date -AsUTC -Format 'yyyy-MM-dd HH:mm') UTC, $Rounds rounds in alternation. Machine: $([Environment]::ProcessorCount) cores shared with other engineers; ``uptime`` at the start: ``$uptimeStart``; at the end: ``$uptimeEnd``.")
[void]$md.AppendLine("Invoke-PcapFluxAnalysis $(if ($hasThrottle) { 'has -ThrottleLimit: runs with 1 and 2 workers' } else { 'has no -ThrottleLimit in this build: one worker, as it always is' }). Every FluxForensics run is a fresh pwsh; its time is the whole cmdlet after Import-Module (findings collected), its memory the pwsh process's VmHWM.")
[void]$md.AppendLine()
[void]$md.AppendLine('| capture | packets | tcpdump -r -w /dev/null (median) | tshark -r -q (once) | tshark -r -q -z io,phs (once) | ' + (($workers | ForEach-Object { if ($_) { "FluxForensics -ThrottleLimit $_ (median)" } else { 'FluxForensics, one worker (median)' } }) -join ' | ') + ' | first finding / whole run | peak VmHWM | findings | same findings for every worker count |')
[void]$md.AppendLine('|---|---:|---:|---:|---:|' + (($workers | ForEach-Object { '---:' }) -join '|') + '|---:|---:|---:|---|')
foreach ($f in $files) {
    $s = $stats[$f.Key]
    $cells = foreach ($n in $workers) { $w = $s.Workers[$n]; "$(& $fmt $w.Seconds 'F2') s = $(& $fmt $w.Pps 'N0') pkt/s" }
    $w1 = $s.Workers[$one]
    $td = if ($s.Tcpdump) { "$(& $fmt $s.Tcpdump 'F2') s = $(& $fmt ($s.Packets / $s.Tcpdump) 'N0') pkt/s" } else { 'n/a' }
    $ts = if ($tshark[$f.Key]) { "$(& $fmt $tshark[$f.Key] 'F1') s = $(& $fmt ($s.Packets / $tshark[$f.Key]) 'N0') pkt/s" } else { 'n/a' }
    $tsf = if ($tsharkFull[$f.Key]) { "$(& $fmt $tsharkFull[$f.Key] 'F1') s = $(& $fmt ($s.Packets / $tsharkFull[$f.Key]) 'N0') pkt/s" } else { 'n/a' }
    $same = if ($workers.Count -lt 2) { "n/a (one worker count); $(if ($s.SameOrdered) { 'identical in every round' } else { 'DIFFERS between rounds' })" } elseif ($s.SameOrdered) { 'yes, in the same order' } elseif ($s.SameSorted) { 'same set, other order' } else { '**no**' }
    [void]$md.AppendLine("| $($f.What) | $(& $fmt $s.Packets 'N0') | $td | $ts | $tsf | $($cells -join ' | ') | $(& $fmt $w1.First 'F2') s / $(& $fmt $w1.Seconds 'F2') s = $(& $fmt (100 * $w1.FirstShare) 'F0') % | $(& $fmt (($workers | ForEach-Object { $s.Workers[$_].PeakMB } | Measure-Object -Maximum).Maximum) 'N0') MB | $($w1.Findings) | $same (sha256 $($s.Hash.Substring(0, 16))…) |")
}
[void]$md.AppendLine()
[void]$md.AppendLine('## Targets (issue 18)')
[void]$md.AppendLine()
[void]$md.AppendLine('| target | reading | met? |')
[void]$md.AppendLine('|---|---|---|')
[void]$md.AppendLine("| relay mix >= 1,000,000 packets/s with one worker | $(& $fmt $r1.Pps 'N0') pkt/s ($(& $fmt ($r1.Seconds / $stats.relay.Tcpdump) 'F1')× tcpdump's time) | $(& $yes ($r1.Pps -ge 1e6)) |")
[void]$md.AppendLine("| relay mix with two workers >= 1.7× one worker | $(if ($hasThrottle) { (& $fmt $speedup 'F2') + '×' } else { 'no -ThrottleLimit in this build' }) | $(& $yes $(if ($hasThrottle) { $speedup -ge 1.7 } else { $null })) |")
[void]$md.AppendLine("| DNS-heavy 5M >= 3,000,000 packets/s with one worker | $(& $fmt $d1.Pps 'N0') pkt/s | $(& $yes ($d1.Pps -ge 3e6)) |")
[void]$md.AppendLine("| peak memory < 400 MB | $(& $fmt $peakAll 'N0') MB (largest VmHWM of any run, the flatness runs included) | $(& $yes ($peakAll -lt 400)) |")
[void]$md.AppendLine("| memory flat in capture length | relay mix $(& $fmt $small[0].Packets 'N0') → $(& $fmt $large[0].Packets 'N0') packets: $(& $fmt (($small | Measure-Object PeakMB -Minimum).Minimum) 'N0') → $(& $fmt (($large | Measure-Object PeakMB -Maximum).Maximum) 'N0') MB = $(& $fmt $flatRatio 'F2')× (least favourable pairing; flat read as ≤ 1.2×) | $(& $yes ($flatRatio -le 1.2)) |")
[void]$md.AppendLine("| first finding in less than half the whole run (relay mix) | $(& $fmt (100 * $firstShare) 'F0') % of the run (median per worker count, the worst) | $(& $yes ($firstShare -lt 0.5)) |")
[void]$md.AppendLine("| one finding set for any worker count | $(if ($workers.Count -lt 2) { 'one worker count only' } else { "relay: $(if ($stats.relay.SameOrdered) { 'identical' } elseif ($stats.relay.SameSorted) { 'same set, other order' } else { 'different' }); DNS-heavy: $(if ($stats.dns.SameOrdered) { 'identical' } elseif ($stats.dns.SameSorted) { 'same set, other order' } else { 'different' })" }) | $(& $yes $(if ($workers.Count -lt 2) { $null } else { $stats.relay.SameOrdered -and $stats.dns.SameOrdered })) |")
[void]$md.AppendLine()
[void]$md.AppendLine('## Rounds')
[void]$md.AppendLine()
[void]$md.AppendLine('| round | capture | what | seconds | packets/s | CPU s of the pwsh (start-up and Import-Module included) | first finding s | VmHWM MB | findings | CaptureSummary.PacketsPerSecond | parse issues | findings sha256 (output order) |')
[void]$md.AppendLine('|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|')
foreach ($run in $runs) {
    $packets = if ($run.Result) { $run.Result.Packets } else { $stats[$run.File].Packets }
    $what = if ($run.What -eq 'tcpdump') { 'tcpdump' } elseif ($run.Workers) { "-ThrottleLimit $($run.Workers)" } else { 'Invoke-PcapFluxAnalysis (default)' }
    if ($run.Result) {
        $x = $run.Result
        [void]$md.AppendLine("| $($run.Round) | $($run.File) | $what | $(& $fmt $x.Seconds 'F2') | $(& $fmt $x.Pps 'N0') | $(& $fmt $x.CpuSeconds 'F2') | $(& $fmt $x.First 'F2') | $(& $fmt $x.PeakMB 'N0') | $($x.Findings) | $(& $fmt $x.SummaryPps 'N0') | $($x.Issues) | $($x.Ordered.Substring(0, 16))… |")
    }
    else {
        [void]$md.AppendLine("| $($run.Round) | $($run.File) | $what | $(& $fmt $run.Seconds 'F2') | $(if ($run.Seconds) { & $fmt ($packets / $run.Seconds) 'N0' } else { 'n/a' }) | | | | | | | |")
    }
}
[void]$md.AppendLine()
[void]$md.AppendLine('Captures: the relay mix is the incident sample (`incident-capture`''s parts, relayed EXEs 412–452 KB and a 48 KB zip on')
[void]$md.AppendLine('every accepted relayed mail) repeated, each copy after the previous one with fresh client ports, sequence numbers and DNS ids;')
[void]$md.AppendLine('"flat-small"/"flat-large" are the same mix at two lengths. The DNS-heavy capture is `bench-capture` (600 names, 10,000 flows).')
[void]$md.AppendLine('`tshark -r FILE -q` with no tap or filter dissects nothing it need not, so it times tshark''s reading; `-z io,phs` (protocol')
[void]$md.AppendLine('hierarchy over every packet) makes it dissect each packet and reassemble the TCP streams, as an analyst''s use does.')
[void]$md.AppendLine('The findings hash covers every property of every object the cmdlet wrote, in output order (left out: CaptureSummary''s Elapsed and PacketsPerSecond,
and every finding''s ObservedAt, the wall-clock time it was made);')
[void]$md.AppendLine("the canonical lines of each run are kept in $WorkDirectory/findings-*.jsonl for a diff.")
[void]$md.AppendLine()
[void]$md.AppendLine("Reproduce: ``dotnet pwsh ./build.ps1 Bench``, or ``dotnet pwsh bench/Bench-Engine.ps1 [-Rounds N] [-Label TEXT]`` after ``dotnet pwsh ./build.ps1 Build``.")
Set-Content -LiteralPath $ResultsPath -Value $md.ToString()
Write-Host $md.ToString()
