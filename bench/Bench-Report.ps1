<#
.SYNOPSIS
    Measures Export-FluxReport on a large incident (600 flux names, 900 mail servers) and how long headless Chromium
    takes to render the report; writes bench/RESULTS-report.md.

.DESCRIPTION
    The findings are made in this process (through the model's internal setters, as the tests do): 600 fast-flux
    names, 900 relayed SMTP sessions from 200 bots to 900 mail servers with their cleartext logins, a DNS proxy, carved
    downloads and one computer's listener, autorun and USB trap. Export-FluxReport joins them into an incident and
    writes the report (timed, with its size). Then, -Runs rounds in alternation:
      - Chromium's own timing: a copy of the report without its Content-Security-Policy and with one load handler
        that reads the Navigation Timing entry (DOMContentLoaded, load) and forces a full layout, timed with
        performance.now(); --dump-dom writes the numbers back;
      - wall time of `chromium --headless --dump-dom` and `--screenshot` on the report itself, and on an empty page
        (the browser's own start-up, the baseline of the same round).
    Medians are reported. Target (issue 17): renders in under 2 s in a browser, file under 5 MB.
#>
[CmdletBinding()]
param(
    [string] $ModulePath,
    [int] $FluxNames = 600,
    [int] $MailServers = 900,
    [int] $Runs = 5,
    [string] $WorkDirectory = (Join-Path ([System.IO.Path]::GetTempPath()) 'ff-bench-report'),
    [string] $ResultsPath = (Join-Path $PSScriptRoot 'RESULTS-report.md')
)

$ErrorActionPreference = 'Stop'
$root = Split-Path -Parent $PSScriptRoot
if (-not $ModulePath) { $ModulePath = Join-Path $root 'out/FluxForensics/0.1.0' }
. (Join-Path $PSScriptRoot 'BenchSupport.ps1')
$chromium = Get-Command chromium, chromium-browser -CommandType Application -ErrorAction SilentlyContinue | Select-Object -First 1
if (-not $chromium) { throw 'Chromium (Debian package chromium) is needed to time the render.' }
if (Test-Path -LiteralPath $WorkDirectory) { Remove-Item -LiteralPath $WorkDirectory -Recurse -Force }
New-Item -ItemType Directory -Force -Path $WorkDirectory | Out-Null

Import-Module (Join-Path $ModulePath 'FluxForensics.psd1') -Force
Import-Module (Join-Path $root 'tests/FluxForensics.Tests/TestSupport.psm1') -Force
$null = 1 | ConvertTo-FluxGraph -WarningAction SilentlyContinue   # loads Core

$relay = '140.127.1.77'
$findings = [System.Collections.Generic.List[object]]::new()
$findings.Add((New-FluxFinding FluxListener @{ ComputerName = 'pc17'; LocalAddress = '0.0.0.0'; LocalPort = 80; ProcessId = 1844; ProcessName = 'svchost.exe'
    Path = 'C:\WINDOWS\system32\drivers\svchost.exe'; Sha256 = ('a' * 64); RiskScore = 85; Severity = 'Critical' }))
$findings.Add((New-FluxFinding SuspiciousAutorun @{ ComputerName = 'pc17'; Location = 'HKLM\Software\Microsoft\Windows\CurrentVersion\Run'; Name = 'CrashReportSaver'
    Command = 'C:\WINDOWS\system32\drivers\svchost.exe'; Sha256 = ('a' * 64); RiskScore = 70; Severity = 'High' }))
$findings.Add((New-FluxFinding UsbLnkTrap @{ ComputerName = 'pc17'; DriveRoot = 'E:\'; ShortcutPath = 'E:\Photos.lnk'; TargetPath = 'C:\WINDOWS\system32\cmd.exe'
    Arguments = '/c start .\RECYCLER\x.exe'; PayloadSha256 = ('a' * 64); RiskScore = 90; Severity = 'Critical' }))
$findings.Add((New-FluxFinding DnsProxy @{ Address = $relay; ClientCount = 200; OutsideClientCount = 200; QueryCount = [long]500000; FluxDomainCount = $FluxNames; IsRelay = $true; RiskScore = 90; Severity = 'Critical' }))
$t0 = [datetime]::new(2009, 5, 12, 8, 0, 0, [DateTimeKind]::Utc)
foreach ($i in 0..($FluxNames - 1)) {
    $findings.Add((New-FluxFinding FluxDomain @{ Domain = "flux$i.example"; Addresses = [string[]]@(1..5 | ForEach-Object { "203.0.0.$((($i + $_) % 200) + 1)" })
        AddressCount = 5; IsFastFlux = $true; IsDoubleFlux = ($i % 4 -eq 0); FluxScore = 0.6 + ($i % 40) / 100; ResponseCount = [long](5000 - $i); QueryCount = [long](5000 - $i)
        FirstSeen = [Nullable[datetime]]$t0; LastSeen = [Nullable[datetime]]$t0.AddHours(3); RiskScore = 80; Severity = 'Critical' }))
}
foreach ($i in 0..($MailServers - 1)) {
    $server = "198.51.$([int][math]::Floor($i / 250)).$($i % 250 + 1)"
    $client = "203.0.0.$($i % 200 + 1)"
    $findings.Add((New-FluxFinding RelaySession @{ Protocol = 'Smtp'; Client = $client; Relay = $relay; Server = $server; ServerPort = 25; Account = "user$($i % 300)@mail.example"
        Secret = '********'; Accepted = [Nullable[bool]]($i % 3 -ne 0); Urls = [string[]]@("http://phish$($i % 20).example/login"); Start = $t0.AddSeconds($i * 7); End = $t0.AddSeconds($i * 7 + 5)
        RiskScore = 70; Severity = 'High' }))
    $findings.Add((New-FluxFinding ExposedCredential @{ Protocol = 'Smtp'; Client = $client; Server = $server; ServerPort = 25; Account = "user$($i % 300)@mail.example"; Secret = '********'
        Accepted = [Nullable[bool]]($i % 3 -ne 0); Relay = $relay; Time = $t0.AddSeconds($i * 7); RiskScore = 60; Severity = 'High' }))
}
foreach ($i in 0..9) {
    $findings.Add((New-FluxFinding FluxDownload @{ Client = "203.0.0.$($i + 1)"; Relay = $relay; Server = "192.0.2.$(40 + $i % 4)"; ServerPort = 80; Url = "http://192.0.2.$(40 + $i % 4)/m$i.exe"
        FileName = "m$i.exe"; Size = [long]61440; Sha256 = ("{0:x2}" -f $i) * 32; Md5 = ("{0:x2}" -f $i) * 16; Time = $t0.AddMinutes($i); RiskScore = 80; Severity = 'Critical' }))
}

$report = Join-Path $WorkDirectory 'large-report.html'
$export = Measure-Command { $findings | Export-FluxReport -Path $report -Title "Large incident: $FluxNames flux names, $MailServers mail servers" }
$size = (Get-Item -LiteralPath $report).Length
Write-Host ("Export-FluxReport: {0:N0} findings in {1:N0} ms, {2:N0} bytes" -f $findings.Count, $export.TotalMilliseconds, $size)

# The probe copy: same document, no policy, one load handler reading the browser's own timings.
$probe = Join-Path $WorkDirectory 'large-report-probe.html'
$html = Get-Content -Raw -LiteralPath $report
$script = "<script>addEventListener('load', function () { var n = performance.getEntriesByType('navigation')[0]; var t0 = performance.now(); var h = document.body.offsetHeight; var t1 = performance.now();" +
    " document.documentElement.setAttribute('data-timing', 'dcl=' + n.domContentLoadedEventEnd.toFixed(1) + ';load=' + n.loadEventStart.toFixed(1) + ';layout=' + (t1 - t0).toFixed(1) + ';total=' + t1.toFixed(1) + ';height=' + h); });</script>"
$html = ($html -replace '<meta http-equiv="Content-Security-Policy"[^>]*>', '').Replace('</head>', "$script</head>")
Set-Content -LiteralPath $probe -Value $html -NoNewline
$blank = Join-Path $WorkDirectory 'blank.html'
Set-Content -LiteralPath $blank -Value '<!DOCTYPE html><html><head><meta charset="utf-8"></head><body></body></html>'

function Invoke-Browser([string] $File, [string[]] $Mode, [string] $Stdout) {
    $profileDir = Join-Path $WorkDirectory ('profile-' + [guid]::NewGuid().ToString('n'))
    $arguments = @('--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
        '--disable-component-update', '--disable-sync', "--user-data-dir=$profileDir", '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1',
        '--window-size=1280,2000', '--timeout=30000') + $Mode + [Uri]::new($File, [UriKind]::Absolute).AbsoluteUri
    $sw = [Diagnostics.Stopwatch]::StartNew()
    if ($Stdout) { & $chromium.Source @arguments 2>$null > $Stdout } else { & $chromium.Source @arguments 2>$null | Out-Null }
    $sw.Stop()
    Remove-Item -LiteralPath $profileDir -Recurse -Force -ErrorAction SilentlyContinue
    $sw.Elapsed.TotalMilliseconds
}

$rows = foreach ($r in 1..$Runs) {
    $dom = Join-Path $WorkDirectory "probe-$r.html"
    $null = Invoke-Browser $probe @('--dump-dom') $dom
    $timing = [regex]::Match((Get-Content -Raw -LiteralPath $dom), 'data-timing="([^"]*)"').Groups[1].Value
    $t = @{}
    foreach ($pair in $timing -split ';') { $k, $v = $pair -split '='; if ($k) { $t[$k] = [double]$v } }
    $domWall = Invoke-Browser $report @('--dump-dom') (Join-Path $WorkDirectory "dom-$r.html")
    $blankDom = Invoke-Browser $blank @('--dump-dom') (Join-Path $WorkDirectory "blank-$r.html")
    $shotWall = Invoke-Browser $report @("--screenshot=$(Join-Path $WorkDirectory "shot-$r.png")")
    $blankShot = Invoke-Browser $blank @("--screenshot=$(Join-Path $WorkDirectory "blank-$r.png")")
    $load = (Get-Content -LiteralPath /proc/loadavg -ErrorAction SilentlyContinue) -split ' ' | Select-Object -First 1
    [pscustomobject]@{
        Round = $r; Dcl = $t.dcl; Load = $t.load; Layout = $t.layout; Total = $t.total; Height = $t.height
        DomWall = $domWall; BlankDom = $blankDom; ShotWall = $shotWall; BlankShot = $blankShot; LoadAvg = $load
    }
    Write-Host ("round {0}: DOMContentLoaded {1:N0} ms, load {2:N0} ms, forced layout {3:N0} ms; --dump-dom {4:N0} ms (empty page {5:N0}), --screenshot {6:N0} ms (empty page {7:N0}); load average {8}" -f
        $r, $t.dcl, $t.load, $t.layout, $domWall, $blankDom, $shotWall, $blankShot, $load)
}

$m = @{}
foreach ($name in 'Dcl', 'Load', 'Layout', 'Total', 'DomWall', 'BlankDom', 'ShotWall', 'BlankShot') { $m[$name] = Get-Median @($rows | ForEach-Object $name) }
$version = (& $chromium.Source --version 2>$null | Select-Object -First 1)
$lines = @(
    '# Export-FluxReport: a large incident in a browser'
    ''
    "Measured $((Get-Date).ToUniversalTime().ToString('yyyy-MM-dd HH:mm', [Globalization.CultureInfo]::InvariantCulture)) UTC by ``bench/Bench-Report.ps1`` ($Runs rounds, medians), $version, headless, window 1280×2000."
    ''
    "Incident: $('{0:N0}' -f $findings.Count) findings: $FluxNames fast-flux names, $MailServers relayed SMTP sessions to $MailServers mail servers from 200 bots with their cleartext logins, a DNS proxy, 10 carved downloads, one computer's listener, autorun and USB trap; joined by Export-FluxReport (IncidentBuilder) and written in $('{0:N0}' -f $export.TotalMilliseconds) ms."
    ''
    "| What | Median | Rounds |"
    '|---|---:|---|'
    ("| Report file size | {0:N0} bytes ({1:N2} MB) | — |" -f $size, ($size / 1MB))
    ("| Chromium's timing: DOMContentLoaded (parse of the whole file) | {0:N0} ms | {1} |" -f $m.Dcl, (($rows | ForEach-Object { '{0:N0}' -f $_.Dcl }) -join ', '))
    ("| Chromium's timing: load event start | {0:N0} ms | {1} |" -f $m.Load, (($rows | ForEach-Object { '{0:N0}' -f $_.Load }) -join ', '))
    ("| Chromium's timing: forced full layout in the load handler | {0:N0} ms | {1} |" -f $m.Layout, (($rows | ForEach-Object { '{0:N0}' -f $_.Layout }) -join ', '))
    ("| Chromium's timing: navigation start to laid out | {0:N0} ms | {1} |" -f $m.Total, (($rows | ForEach-Object { '{0:N0}' -f $_.Total }) -join ', '))
    ("| ``chromium --headless --dump-dom`` wall time, report / empty page | {0:N0} / {1:N0} ms | {2} |" -f $m.DomWall, $m.BlankDom, (($rows | ForEach-Object { '{0:N0}/{1:N0}' -f $_.DomWall, $_.BlankDom }) -join ', '))
    ("| ``chromium --headless --screenshot`` wall time, report / empty page | {0:N0} / {1:N0} ms | {2} |" -f $m.ShotWall, $m.BlankShot, (($rows | ForEach-Object { '{0:N0}/{1:N0}' -f $_.ShotWall, $_.BlankShot }) -join ', '))
    ''
    ("Rendering the report costs the browser {0:N0} ms from navigation start to a complete layout (Navigation Timing and performance.now() in the probe copy); over the browser's own start-up, ``--dump-dom`` adds {1:N0} ms and ``--screenshot`` {2:N0} ms. Target: under 2 s and under 5 MB." -f $m.Total, ($m.DomWall - $m.BlankDom), ($m.ShotWall - $m.BlankShot))
    ''
    "Load averages during the rounds: $(($rows | ForEach-Object LoadAvg) -join ', ') (2 cores shared with other work)."
)
Set-Content -LiteralPath $ResultsPath -Value $lines
Write-Host "Wrote $ResultsPath"
