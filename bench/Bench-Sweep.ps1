<#
.SYNOPSIS
    Invoke-FluxSweep over SSH with -ThrottleLimit 1 and 8: wall time against the sum of the per-host times.
.DESCRIPTION
    Sets up the same real fleet as the tests (tests/FluxForensics.Tests/TestSupport.psm1): -HostCount sshd hosts, each
    in its own network and UTS namespace with the module installed from the built .nupkg, reached from a client
    namespace. Sweeps them all with -ThrottleLimit 1 and then 8 (alternating, -Rounds times) and records, per run, the
    wall time of the whole sweep and the sum of the FluxSweepResult durations (connection + remote pwsh start + checks).
    Sum / wall is the concurrency the fan-out achieved. Needs root (namespaces, sshd) and out/package (build.ps1 Package).
    Writes bench/RESULTS-sweep.md.
#>
[CmdletBinding()]
param(
    [int] $HostCount = 4,
    [int] $Rounds = 2,
    [string] $ResultPath = (Join-Path $PSScriptRoot 'RESULTS-sweep.md')
)
$ErrorActionPreference = 'Stop'
. (Join-Path $PSScriptRoot 'BenchSupport.ps1')
$root = Split-Path -Parent $PSScriptRoot
Import-Module (Join-Path $root 'tests/FluxForensics.Tests/TestSupport.psm1') -Force
$usb = Join-Path $root 'out/samples/usb'
if (-not (Test-Path -LiteralPath $usb)) { throw "No sample USB tree at ${usb}: run build.ps1 Samples." }

if (-not (Get-ChildItem -LiteralPath (Join-Path $root 'out/package') -Filter 'FluxForensics.*.nupkg' -ErrorAction SilentlyContinue)) {
    Write-Warning 'Bench-Sweep skipped: no package in out/package (build.ps1 Package makes it; the hosts install the module from it).'
    return
}
$names = 1..$HostCount | ForEach-Object { 'flux-bench-{0:D2}' -f $_ }
$net = New-FluxTestNetwork -HostName $names
if ($net.Skip) { Write-Warning "Bench-Sweep skipped: $($net.Skip)"; return }
$work = New-FluxTempDirectory 'flux-bench-sweep'
$servers = @()
try {
    $modules = Install-FluxPackage -Destination (Join-Path $work 'modules')
    foreach ($h in $net.Hosts) {
        $s = Start-FluxSshServer -NetNamespace $h.Namespace -ListenAddress $h.Address -UtsHostName $h.Name -ModulePath $modules -ClientKeyFrom $(if ($servers) { $servers[0] })
        if ($s.Skip) { throw "sshd for $($h.Name): $($s.Skip)" }
        $servers += $s
    }
    $ssh = "-UserName $($servers[0].UserName) -KeyFilePath '$($servers[0].KeyFilePath)' -Options @{ StrictHostKeyChecking = 'no'; UserKnownHostsFile = '/dev/null'; LogLevel = 'ERROR' }"
    $runs = @()
    for ($round = 1; $round -le $Rounds; $round++) {
        foreach ($throttle in 1, 8) {
            $load = (Get-Content /proc/loadavg).Split(' ')[0]
            $r = Invoke-FluxFreshPwsh -NetNamespace $net.Client -TimeoutSeconds 600 -Script @"
`$clock = [Diagnostics.Stopwatch]::StartNew()
`$results = @(Invoke-FluxSweep -HostName $($names -join ',') $ssh -ThrottleLimit $throttle -Check Usb, Listener -UsbPath '$usb' -WarningAction SilentlyContinue | Where-Object { `$_ -is [FluxForensics.Model.FluxSweepResult] })
`$wall = `$clock.Elapsed.TotalSeconds
[pscustomobject]@{ Wall = `$wall; Durations = @(`$results | ForEach-Object { `$_.Duration.TotalSeconds }); Status = @(`$results | ForEach-Object { "`$(`$_.ComputerName)=`$(`$_.Status)" }) } | ConvertTo-Json -Compress
"@
            $line = ($r.Output -split "`n" | Where-Object { $_ -match '^\{' } | Select-Object -Last 1)
            if (-not $line) { throw "sweep failed: $($r.Output) $($r.Error)" }
            $m = $line | ConvertFrom-Json
            $bad = @($m.Status | Where-Object { $_ -notmatch '=Completed$' })
            if ($bad) { throw "not every host completed: $($bad -join ', ')" }
            $sum = ($m.Durations | Measure-Object -Sum).Sum
            $runs += [pscustomobject]@{ Round = $round; Throttle = $throttle; Wall = $m.Wall; Sum = $sum; Max = ($m.Durations | Measure-Object -Maximum).Maximum; Load = $load }
            Write-Host ("round {0} -ThrottleLimit {1}: wall {2:N1} s, sum of per-host {3:N1} s, sum/wall {4:N2} (load {5})" -f $round, $throttle, $m.Wall, $sum, ($sum / $m.Wall), $load)
        }
    }
}
finally {
    foreach ($s in $servers) { Stop-FluxSshServer $s }
    Remove-FluxTestNetwork $net
    Remove-FluxTempDirectory $work
}

$rows = foreach ($t in 1, 8) {
    $mine = @($runs | Where-Object Throttle -eq $t)
    [pscustomobject]@{
        Throttle = $t
        Wall     = Get-Median ($mine.Wall)
        Sum      = Get-Median ($mine.Sum)
        Ratio    = Get-Median (@($mine | ForEach-Object { $_.Sum / $_.Wall }))
    }
}
$speedup = $rows[0].Wall / $rows[1].Wall
$cpu = (Get-Content /proc/cpuinfo | Where-Object { $_ -like 'model name*' } | Select-Object -First 1) -replace '^model name\s*:\s*', ''
$detail = @"
# Invoke-FluxSweep fan-out over SSH

$(Get-Date -AsUTC -Format 'yyyy-MM-dd HH:mm') UTC. $HostCount sshd hosts, each in its own network and UTS namespace (veth pairs in
private /30s, as in tests/FluxForensics.Tests/Invoke-FluxSweep.Tests.ps1), the module installed there from the built
.nupkg; the sweep runs `-Check Usb, Listener` against the sample stick from a client namespace in a fresh pwsh. $Rounds
round(s), the two throttle limits alternating. Machine: $([Environment]::ProcessorCount) cores ($cpu), shared with other
work (load average at the start of each run below).

"Sum" adds the FluxSweepResult durations: for each host, ssh connection + the remote pwsh starting + Import-Module +
the checks + the results coming back. Sum / wall is how many hosts were in flight on average.

| -ThrottleLimit | wall (median) | sum of per-host times (median) | sum / wall |
|---:|---:|---:|---:|
$(($rows | ForEach-Object { '| {0} | {1:N1} s | {2:N1} s | {3:N2} |' -f $_.Throttle, $_.Wall, $_.Sum, $_.Ratio }) -join "`n")

-ThrottleLimit 8 finished the fleet $('{0:N2}' -f $speedup)× faster than -ThrottleLimit 1. A host took $('{0:N1}' -f ($rows[0].Sum / $HostCount)) s on
average alone and $('{0:N1}' -f ($rows[1].Sum / $HostCount)) s with all $HostCount in flight: on $([Environment]::ProcessorCount) cores (and a loaded machine) the hosts' remote
pwsh processes and ssh sessions compete for CPU, so per-host times grow while the wall time still drops.

Every run:

| round | -ThrottleLimit | wall | sum of per-host | slowest host | sum / wall | load |
|---:|---:|---:|---:|---:|---:|---:|
$(($runs | ForEach-Object { '| {0} | {1} | {2:N1} s | {3:N1} s | {4:N1} s | {5:N2} | {6} |' -f $_.Round, $_.Throttle, $_.Wall, $_.Sum, $_.Max, ($_.Sum / $_.Wall), $_.Load }) -join "`n")

Reproduce: ``sudo dotnet pwsh bench/Bench-Sweep.ps1 -HostCount $HostCount -Rounds $Rounds`` after ``build.ps1 Package``.
"@
Set-Content -LiteralPath $ResultPath -Value $detail -Encoding utf8
Write-Host ("ThrottleLimit 1: wall {0:N1} s (sum {1:N1} s); ThrottleLimit 8: wall {2:N1} s (sum {3:N1} s); {4:N2}x" -f $rows[0].Wall, $rows[0].Sum, $rows[1].Wall, $rows[1].Sum, $speedup)
