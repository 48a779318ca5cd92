<#
.SYNOPSIS
    Measures New-FluxIncident over a large capture analysis plus many computers' sweeps, at N and 2N findings, with
    the cost of piping the same findings through PowerShell as the baseline of the same run; writes
    bench/RESULTS-incident.md.

.DESCRIPTION
    Each round runs in a fresh pwsh (so the peak working set is that round's own):
      - the findings: Invoke-PcapFluxAnalysis of a relay-heavy capture made by the fixture command
        `bench-relay-capture` (every connection relayed: a RelaySession, an ExposedCredential or a FluxDownload per
        conversation), plus the sample Windows disk's autorun findings as if swept on many computers: exported with
        Export-Clixml once and deserialized again per computer with that computer's name, as Invoke-Command returns them;
      - baseline: the same findings piped into Measure-Object (what any cmdlet pays to receive them);
      - New-FluxIncident over them, timed from the first object piped to the incident written.
    The small and the large set alternate for -Runs rounds; medians are reported. Target (issue 16): at least 250,000
    findings, and 2x the findings in at most 2.2x the time.
#>
[CmdletBinding()]
param(
    [string] $ModulePath,
    [int] $Conversations = 100000,
    [int] $Computers = 4000,
    [int] $Runs = 3,
    [string] $WorkDirectory = (Join-Path ([System.IO.Path]::GetTempPath()) 'ff-bench-relay'),
    [string] $Configuration = 'Release',
    [string] $ResultsPath = (Join-Path $PSScriptRoot 'RESULTS-incident.md')
)

$ErrorActionPreference = 'Stop'
$root = Split-Path -Parent $PSScriptRoot
$fixtures = Join-Path $root "tests/Fixtures/bin/$Configuration/net10.0/FluxForensics.Fixtures.dll"
if (-not $ModulePath) { $ModulePath = Join-Path $root 'out/FluxForensics/0.1.0' }
$ModulePath = (Resolve-Path -LiteralPath $ModulePath).Path
$disk = Join-Path $root 'out/samples/autorun-windows'
if (-not (Test-Path -LiteralPath $disk)) { throw "Generate the samples first (./build.ps1 Samples): $disk is missing." }
New-Item -ItemType Directory -Force -Path $WorkDirectory | Out-Null
. (Join-Path $PSScriptRoot 'BenchSupport.ps1')

$sizes = @(
    @{ Name = 'N'; Conversations = [int]($Conversations / 2); Computers = [int]($Computers / 2) }
    @{ Name = '2N'; Conversations = $Conversations; Computers = $Computers }
)
foreach ($s in $sizes) {
    $s.Capture = Join-Path $WorkDirectory "relayed-$($s.Conversations).pcap"
    if (-not (Test-Path -LiteralPath $s.Capture)) {
        Write-Host "generating $($s.Capture)"
        & dotnet $fixtures bench-relay-capture $s.Capture "$($s.Conversations)" | Out-Host
        if ($LASTEXITCODE) { throw "bench-relay-capture failed ($LASTEXITCODE)" }
    }
}

$round = Join-Path $WorkDirectory 'incident-round.ps1'
Set-Content -LiteralPath $round -Value @'
param([string] $ModulePath, [string] $Capture, [int] $Computers, [string] $Disk)
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
Import-Module (Join-Path $ModulePath 'FluxForensics.psd1')
$net = @(Invoke-PcapFluxAnalysis -LiteralPath $Capture -WarningAction SilentlyContinue)
$xml = [System.Management.Automation.PSSerializer]::Serialize(@(Get-SuspiciousAutorun -Root $Disk), 3)
$name = [Environment]::MachineName
$swept = [System.Collections.Generic.List[object]]::new()
for ($i = 0; $i -lt $Computers; $i++) {
    $text = $xml.Replace("<S N=`"ComputerName`">$name</S>", "<S N=`"ComputerName`">pc$($i.ToString('00000'))</S>")
    foreach ($o in [System.Management.Automation.PSSerializer]::Deserialize($text)) { $swept.Add($o) }
}
$all = [object[]]($net + $swept)
[GC]::Collect()
$before = [System.Diagnostics.Process]::GetCurrentProcess().WorkingSet64
$sw = [System.Diagnostics.Stopwatch]::StartNew()
$null = $all | Measure-Object
$baseline = $sw.Elapsed.TotalSeconds
$sw.Restart()
$incident = $all | New-FluxIncident -WarningAction SilentlyContinue
$join = $sw.Elapsed.TotalSeconds
$p = [System.Diagnostics.Process]::GetCurrentProcess()
[pscustomobject]@{
    Findings = $all.Count; Capture = $net.Count; Swept = $swept.Count
    Baseline = $baseline; Join = $join; WorkingSetBeforeMB = $before / 1MB; PeakMB = $p.PeakWorkingSet64 / 1MB
    Correlations = $incident.Correlations.Count; Timeline = $incident.Timeline.Count; Hosts = $incident.Hosts.Count
} | ConvertTo-Json -Compress
'@

$pwsh = (Get-Process -Id $PID).Path
[string[]] $prefix = if ([System.IO.Path]::GetFileNameWithoutExtension($pwsh) -eq 'dotnet') { @(Join-Path $PSHOME 'pwsh.dll') } else { @() }
$results = @{ N = @(); '2N' = @() }
for ($r = 1; $r -le $Runs; $r++) {
    foreach ($s in $sizes) {
        $json = & $pwsh @prefix -NoLogo -NoProfile -NonInteractive -File $round -ModulePath $ModulePath -Capture $s.Capture -Computers $s.Computers -Disk $disk | Select-Object -Last 1
        if ($LASTEXITCODE) { throw "round $r $($s.Name) failed ($LASTEXITCODE)" }
        $m = $json | ConvertFrom-Json
        Write-Host ("round {0} {1}: {2:N0} findings, join {3:N2} s, baseline {4:N2} s, peak {5:N0} MB" -f $r, $s.Name, $m.Findings, $m.Join, $m.Baseline, $m.PeakMB)
        $results[$s.Name] += $m
    }
}

$rows = foreach ($s in $sizes) {
    $set = $results[$s.Name]
    [pscustomobject]@{
        Size = $s.Name; Findings = $set[0].Findings; Capture = $set[0].Capture; Swept = $set[0].Swept
        Join = Get-Median ($set.Join); Baseline = Get-Median ($set.Baseline)
        Peak = Get-Median ($set.PeakMB); Before = Get-Median ($set.WorkingSetBeforeMB)
        Correlations = $set[0].Correlations; Timeline = $set[0].Timeline; Hosts = $set[0].Hosts
    }
}
$ratio = $rows[1].Join / $rows[0].Join
$findingRatio = $rows[1].Findings / $rows[0].Findings
$load = (Get-Content -LiteralPath '/proc/loadavg' -ErrorAction SilentlyContinue) -split ' ' | Select-Object -First 3
$lines = @(
    '# New-FluxIncident benchmark'
    ''
    "Run $(Get-Date -AsUTC -Format 'yyyy-MM-dd HH:mm') UTC, $Runs rounds alternating the two sizes, each in a fresh pwsh; load average $($load -join ' ')."
    'Findings: Invoke-PcapFluxAnalysis of a capture where every connection is relayed (`bench-relay-capture`), plus the sample'
    'Windows disk''s autorun findings deserialized once per swept computer. Baseline: the same findings piped into Measure-Object.'
    ''
    '| Set | Findings (capture + swept) | New-FluxIncident (median) | Baseline: pipe into Measure-Object | Per finding | Working set before → peak | Correlations | Timeline events | Hosts |'
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|'
)
foreach ($row in $rows) {
    $lines += "| $($row.Size) | {0:N0} ({1:N0} + {2:N0}) | {3:N2} s | {4:N2} s | {5:N1} µs | {6:N0} → {7:N0} MB | {8:N0} | {9:N0} | {10:N0} |" -f $row.Findings, $row.Capture, $row.Swept, $row.Join, $row.Baseline, ($row.Join / $row.Findings * 1e6), $row.Before, $row.Peak, $row.Correlations, $row.Timeline, $row.Hosts
}
$lines += ''
$lines += ("{0:N2}x the findings took {1:N2}x the time (target: 2x the findings in at most 2.2x the time: {2})." -f $findingRatio, $ratio, $(if ($rows[1].Findings -ge 250000 -and $ratio -le 1.1 * $findingRatio) { 'met' } else { 'NOT met' }))
$lines += ''
$lines += 'Every round:'
$lines += ''
foreach ($s in $sizes) { foreach ($m in $results[$s.Name]) { $lines += ("- {0}: {1:N0} findings, join {2:N2} s, baseline {3:N2} s, peak {4:N0} MB" -f $s.Name, $m.Findings, $m.Join, $m.Baseline, $m.PeakMB) } }
Set-Content -LiteralPath $ResultsPath -Value $lines
$lines | Out-Host
