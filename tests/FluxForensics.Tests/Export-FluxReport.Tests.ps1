#Requires -Version 7.0
# Export-FluxReport through the built module, rendered by a real browser: headless Chromium (Debian package chromium)
# writes a screenshot, dumps the DOM and logs its network activity (net-log) while a loopback listener waits for any
# connection the report might make. A control page proves the listener and the net-log would see such a request.

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestSupport.psm1') -Force
    Import-Module (Get-FluxManifestPath) -Force
    $null = 1 | ConvertTo-FluxGraph -WarningAction SilentlyContinue   # loads Core, so findings can be made

    $script:chromium = Get-Command chromium, chromium-browser -CommandType Application -ErrorAction SilentlyContinue | Select-Object -First 1
    $script:work = New-FluxTempDirectory 'fluxreport'
    $script:password = 'Tr0ub4dor-ReportTest-91'

    # A loopback HTTP server that answers 404 on its own thread and records each request line: anything the report
    # tried to load from it would be counted here.
    Add-Type -TypeDefinition @'
using System;
using System.Collections.Concurrent;
using System.IO;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Threading;

public sealed class FluxCanaryServer : IDisposable
{
    private readonly TcpListener _listener = new TcpListener(IPAddress.Loopback, 0);
    private readonly ConcurrentQueue<string> _hits = new ConcurrentQueue<string>();
    private readonly Thread _thread;

    public FluxCanaryServer()
    {
        _listener.Start();
        _thread = new Thread(Serve) { IsBackground = true };
        _thread.Start();
    }

    public int Port { get { return ((IPEndPoint)_listener.LocalEndpoint).Port; } }

    /// <summary>Request lines received since the last call.</summary>
    public string[] TakeHits()
    {
        var list = new System.Collections.Generic.List<string>();
        string hit;
        while (_hits.TryDequeue(out hit)) list.Add(hit);
        return list.ToArray();
    }

    private void Serve()
    {
        while (true)
        {
            TcpClient client;
            try { client = _listener.AcceptTcpClient(); } catch { return; }
            try
            {
                client.ReceiveTimeout = 2000;
                var stream = client.GetStream();
                var reader = new StreamReader(stream, Encoding.ASCII);
                _hits.Enqueue(reader.ReadLine() ?? "(empty)");
                byte[] answer = Encoding.ASCII.GetBytes("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
                stream.Write(answer, 0, answer.Length);
            }
            catch (Exception e) { _hits.Enqueue("(connection: " + e.Message + ")"); }
            finally { client.Close(); }
        }
    }

    public void Dispose() { _listener.Stop(); }
}
'@
    $script:canary = [FluxCanaryServer]::new()
    $script:canaryUrl = "http://127.0.0.1:$($canary.Port)"
    function Get-CanaryHits { , $canary.TakeHits() }

    function Invoke-Chromium {
        <#
        Runs headless Chromium on a file with a fresh profile. Every host but 127.0.0.1 resolves to nothing, so nothing
        leaves the machine; the net-log still records every request that was attempted. Answers the wall time in ms.
        #>
        param([string] $File, [string[]] $Mode, [string] $NetLog, [string] $Stdout)
        $profileDir = Join-Path $work ('profile-' + [guid]::NewGuid().ToString('n'))
        $arguments = @('--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
            '--disable-component-update', '--disable-sync', "--user-data-dir=$profileDir", '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1',
            '--window-size=1280,2000', '--timeout=20000') + $Mode
        if ($NetLog) { $arguments += @("--log-net-log=$NetLog", '--net-log-capture-mode=Everything') }
        $arguments += [Uri]::new([IO.Path]::GetFullPath($File), [UriKind]::Absolute).AbsoluteUri
        $sw = [Diagnostics.Stopwatch]::StartNew()
        if ($Stdout) { & $chromium.Source @arguments 2>$null > $Stdout } else { & $chromium.Source @arguments 2>$null | Out-Null }
        $sw.Stop()
        $sw.Elapsed.TotalMilliseconds
    }

    function Get-NetLogRequest([string] $Path) {
        # URL requests in a Chromium net-log with who started them. The browser's own services (time, component
        # update, accounts) start theirs as "not an origin"; a page's subresource carries the page's origin.
        $log = Get-Content -Raw -LiteralPath $Path | ConvertFrom-Json -AsHashtable
        $types = @{}
        foreach ($p in $log.constants.logEventTypes.GetEnumerator()) { $types[[int]$p.Value] = $p.Key }
        $requests = foreach ($e in $log.events) {
            if ($types[[int]$e.type] -eq 'URL_REQUEST_START_JOB' -and $e.params.url) {
                [pscustomobject]@{ Url = $e.params.url; Initiator = $e.params.initiator }
            }
        }
        $hosts = foreach ($e in $log.events) {
            if ($types[[int]$e.type] -eq 'HOST_RESOLVER_MANAGER_REQUEST' -and $e.params.host) { $e.params.host }
        }
        [pscustomobject]@{ Requests = @($requests); ResolvedHosts = @($hosts | Sort-Object -Unique) }
    }

    Add-Type -TypeDefinition @'
using System;
using System.Collections.Generic;
using System.IO;
using System.IO.Compression;

public static class FluxPngProbe
{
    /// <summary>Decodes an 8-bit RGB/RGBA PNG (what Chromium writes): distinct colours and the share of non-white pixels.</summary>
    public static double[] Measure(string path)
    {
        byte[] data = File.ReadAllBytes(path);
        int width = 0, height = 0, colorType = 0, bitDepth = 0;
        var idat = new MemoryStream();
        for (int at = 8; at + 8 <= data.Length;)
        {
            int length = (data[at] << 24) | (data[at + 1] << 16) | (data[at + 2] << 8) | data[at + 3];
            string type = System.Text.Encoding.ASCII.GetString(data, at + 4, 4);
            if (length < 0 || at + 12 + length > data.Length) throw new InvalidDataException("truncated chunk " + type);
            if (type == "IHDR")
            {
                width = (data[at + 8] << 24) | (data[at + 9] << 16) | (data[at + 10] << 8) | data[at + 11];
                height = (data[at + 12] << 24) | (data[at + 13] << 16) | (data[at + 14] << 8) | data[at + 15];
                bitDepth = data[at + 16];
                colorType = data[at + 17];
            }
            else if (type == "IDAT") idat.Write(data, at + 8, length);
            else if (type == "IEND") break;
            at += 12 + length;
        }

        if (bitDepth != 8 || (colorType != 2 && colorType != 6)) throw new InvalidDataException("unexpected PNG format " + colorType + "/" + bitDepth);
        int bpp = colorType == 6 ? 4 : 3, stride = width * bpp;
        idat.Position = 0;
        var raw = new MemoryStream();
        using (var z = new ZLibStream(idat, CompressionMode.Decompress)) z.CopyTo(raw);
        byte[] px = raw.ToArray();
        var prev = new byte[stride];
        var line = new byte[stride];
        var colours = new HashSet<int>();
        long nonWhite = 0;
        for (int y = 0; y < height; y++)
        {
            int row = y * (stride + 1);
            byte filter = px[row];
            for (int i = 0; i < stride; i++)
            {
                int a = i >= bpp ? line[i - bpp] : 0, b = prev[i], c = i >= bpp ? prev[i - bpp] : 0, x = px[row + 1 + i];
                switch (filter)
                {
                    case 0: line[i] = (byte)x; break;
                    case 1: line[i] = (byte)(x + a); break;
                    case 2: line[i] = (byte)(x + b); break;
                    case 3: line[i] = (byte)(x + ((a + b) >> 1)); break;
                    case 4:
                        int p = a + b - c, pa = Math.Abs(p - a), pb = Math.Abs(p - b), pc = Math.Abs(p - c);
                        line[i] = (byte)(x + (pa <= pb && pa <= pc ? a : pb <= pc ? b : c));
                        break;
                    default: throw new InvalidDataException("bad filter " + filter);
                }
            }

            for (int i = 0; i < stride; i += bpp)
            {
                int rgb = (line[i] << 16) | (line[i + 1] << 8) | line[i + 2];
                colours.Add(rgb);
                if (rgb != 0xFFFFFF) nonWhite++;
            }

            var t = prev; prev = line; line = t;
        }

        return new double[] { colours.Count, (double)nonWhite / ((long)width * height), width, height };
    }
}
'@

    # Findings as the case has them, with the secrets kept (as -IncludeSecret leaves them) and hostile text in places
    # a careless writer would paste into markup: each would load from the canary if it ever became an element.
    $hostile = "<img src=`"$canaryUrl/img.png`"><link rel=stylesheet href=`"$canaryUrl/x.css`"><style>@import url($canaryUrl/i.css)</style>"
    $relay = '140.127.1.77'
    $script:findings = @(
        New-FluxFinding FluxListener @{ ComputerName = 'pc17'; LocalAddress = '0.0.0.0'; LocalPort = 80; ProcessId = 1844; ProcessName = 'svchost.exe'
            CommandLine = "C:\WINDOWS\system32\drivers\svchost.exe $hostile"; Path = 'C:\WINDOWS\system32\drivers\svchost.exe'; Sha256 = ('a' * 64); RiskScore = 85; Severity = 'Critical' }
        New-FluxFinding SuspiciousAutorun @{ ComputerName = 'pc17'; Location = 'HKLM\Software\Microsoft\Windows\CurrentVersion\Run'; Name = 'CrashReportSaver'
            Command = 'C:\WINDOWS\system32\drivers\svchost.exe'; RiskScore = 70; Severity = 'High' }
        New-FluxFinding UsbLnkTrap @{ ComputerName = 'pc17'; DriveRoot = 'E:\'; ShortcutPath = 'E:\Photos.lnk'; TargetPath = 'C:\WINDOWS\system32\cmd.exe'
            Arguments = '/c start .\RECYCLER\x.exe & start explorer "Photos"'; PayloadPath = 'E:\RECYCLER\x.exe'; RiskScore = 90; Severity = 'Critical' }
        New-FluxFinding DnsProxy @{ Address = $relay; ClientCount = 12; OutsideClientCount = 12; QueryCount = 4000; FluxDomainCount = 3; IsRelay = $true; RiskScore = 90; Severity = 'Critical' }
        foreach ($i in 1..3) {
            New-FluxFinding FluxDomain @{ Domain = "flux$i.example"; Addresses = [string[]]@('203.0.113.1', '203.0.113.2'); AddressCount = 2; IsFastFlux = $true
                IsDoubleFlux = ($i -eq 1); FluxScore = 0.9; ResponseCount = [long](100 * $i); RiskScore = 80; Severity = 'Critical' }
        }
        foreach ($i in 1..40) {
            New-FluxFinding RelaySession @{ Protocol = 'Smtp'; Client = "203.0.113.$($i % 5 + 1)"; Relay = $relay; Server = "198.51.100.$i"; ServerPort = 25
                Account = "user$($i % 4)"; Secret = $password; Accepted = [Nullable[bool]]($i % 2 -eq 0); Urls = [string[]]@("http://phish$($i % 3).example/login"); RiskScore = 70; Severity = 'High' }
        }
        New-FluxFinding ExposedCredential @{ Protocol = 'Ftp'; Client = '203.0.113.1'; Server = '192.0.2.21'; ServerPort = 21; Account = 'webmaster'; Secret = $password
            Accepted = [Nullable[bool]]$true; Relay = $relay; RiskScore = 60; Severity = 'High' }
        New-FluxFinding FluxDownload @{ Client = '203.0.113.2'; Relay = $relay; Server = '192.0.2.44'; ServerPort = 80; Url = "http://192.0.2.44/mobile7.exe?p=$password"
            FileName = 'mobile7.exe'; Size = [long]61440; Sha256 = ('c' * 64); Md5 = ('d' * 32); RiskScore = 80; Severity = 'Critical' }
    )
    $script:report = Join-Path $work 'report.html'
    $script:written = $findings | Export-FluxReport -Path $report -Title 'Waledac relay on pc17' -PassThru
}

AfterAll {
    if ($canary) { $canary.Dispose() }
    Remove-FluxTempDirectory $work
}

Describe 'Export-FluxReport' {
    It 'writes one self-contained HTML file and returns it with -PassThru' {
        $written | Should -BeOfType System.IO.FileInfo
        $written.FullName | Should -Be $report
        $html = Get-Content -Raw -LiteralPath $report
        $html | Should -Match '<meta http-equiv="Content-Security-Policy" content="default-src ''none''; style-src ''unsafe-inline''; img-src data:'
        $html | Should -Not -Match '<script'
        $html | Should -Match '<svg xmlns="http://www.w3.org/2000/svg"'
        $html | Should -Match '@media print'
    }

    It 'refuses to overwrite without -Force and overwrites with it' {
        { $findings | Export-FluxReport -Path $report -ErrorAction Stop } | Should -Throw -ErrorId 'FileExists,FluxForensics.Commands.ExportFluxReportCommand'
        $before = (Get-Item -LiteralPath $report).Length
        $findings | Select-Object -First 5 | Export-FluxReport -LiteralPath $report -Force
        (Get-Item -LiteralPath $report).Length | Should -BeLessThan $before
        $findings | Export-FluxReport -Path $report -Title 'Waledac relay on pc17' -Force
    }

    It 'writes nothing under -WhatIf' {
        $target = Join-Path $work 'whatif.html'
        $findings | Export-FluxReport -Path $target -WhatIf
        Test-Path -LiteralPath $target | Should -BeFalse
    }

    It 'never writes a password, though the findings carry it' {
        $html = Get-Content -Raw -LiteralPath $report
        $html.Contains($password) | Should -BeFalse
        $html.Contains('********') | Should -BeTrue
    }

    It 'never writes a password from a capture analysed with -IncludeSecret' {
        $sample = Join-Path (Get-FluxSamplePath) 'incident.pcapng'
        if (-not (Test-Path -LiteralPath $sample)) { Set-ItResult -Skipped -Because "the sample $sample was not generated (build.ps1 Samples)"; return }
        $analysis = @(Invoke-PcapFluxAnalysis -LiteralPath $sample -IncludeSecret -WarningAction SilentlyContinue)
        $secrets = @($analysis | Where-Object { $_.PSObject.Properties['Secret'] -and $_.Secret -and $_.Secret -ne '********' } | ForEach-Object Secret | Sort-Object -Unique)
        $secrets.Count | Should -BeGreaterThan 0 -Because 'the sample capture carries cleartext logins'
        $file = Join-Path $work 'capture.html'
        $analysis | Export-FluxReport -Path $file
        $html = Get-Content -Raw -LiteralPath $file
        foreach ($s in $secrets) { $html.Contains(">$s<") | Should -BeFalse -Because "the secret '$s' must not be a value in the report" }
        foreach ($s in $secrets | Where-Object Length -ge 4) { $html.Contains($s) | Should -BeFalse -Because "the secret '$s' must not appear anywhere" }
        $html | Should -Match '140\.127\.1\.77'
    }

    It 'takes deserialized findings and a deserialized incident (Export-Clixml / Import-Clixml)' {
        $xml = Join-Path $work 'findings.xml'
        $findings | Export-Clixml -LiteralPath $xml
        $file = Join-Path $work 'deserialized.html'
        Import-Clixml -LiteralPath $xml | Export-FluxReport -Path $file
        $fromFindings = Get-Content -Raw -LiteralPath $file
        $fromFindings | Should -Match 'CrashReportSaver'
        $fromFindings | Should -Match '<section id="correlations">'
        $fromFindings.Contains($password) | Should -BeFalse

        $incidentXml = Join-Path $work 'incident.xml'
        $findings | New-FluxIncident -Title 'Waledac relay on pc17' | Export-Clixml -LiteralPath $incidentXml
        $back = Import-Clixml -LiteralPath $incidentXml
        $back.PSObject.TypeNames[0] | Should -Be 'Deserialized.FluxForensics.Model.FluxIncident'
        $file2 = Join-Path $work 'deserialized-incident.html'
        $back | Export-FluxReport -Path $file2
        $html = Get-Content -Raw -LiteralPath $file2
        $html | Should -Match '<h1>Waledac relay on pc17</h1>'
        $html | Should -Match ([regex]::Escape('Find-UsbLnkTrap -Path E:\ | Remove-FluxInfection'))
        $html.Contains($password) | Should -BeFalse
    }
}

Describe 'Export-FluxReport rendered in Chromium' {
    BeforeAll {
        $script:noBrowser = -not $chromium
    }

    It 'renders a screenshot that is not blank' {
        if ($noBrowser) { Set-ItResult -Skipped -Because 'Chromium (Debian package chromium) is not installed'; return }
        $png = Join-Path $work 'report.png'
        $null = Invoke-Chromium -File $report -Mode @("--screenshot=$png")
        Test-Path -LiteralPath $png | Should -BeTrue
        $m = [FluxPngProbe]::Measure($png)
        # The reference: the same browser's render of an empty page is one colour.
        $blank = Join-Path $work 'blank.html'
        Set-Content -LiteralPath $blank -Value '<!DOCTYPE html><html><head><meta charset="utf-8"></head><body></body></html>'
        $blankPng = Join-Path $work 'blank.png'
        $null = Invoke-Chromium -File $blank -Mode @("--screenshot=$blankPng")
        $b = [FluxPngProbe]::Measure($blankPng)
        $b[0] | Should -BeLessOrEqual 2
        $m[2] | Should -Be 1280
        $m[0] | Should -BeGreaterThan 50 -Because 'text, badges and the coloured network picture make many colours'
        $m[1] | Should -BeGreaterThan 0.03 -Because 'a rendered report covers the page'
    }

    It 'has the sections and the key values in the DOM the browser built' {
        if ($noBrowser) { Set-ItResult -Skipped -Because 'Chromium (Debian package chromium) is not installed'; return }
        $dom = Join-Path $work 'dom.html'
        $null = Invoke-Chromium -File $report -Mode @('--dump-dom') -Stdout $dom
        $text = Get-Content -Raw -LiteralPath $dom
        foreach ($id in 'summary', 'network-picture', 'hosts', 'host-evidence', 'network-evidence', 'correlations', 'timeline', 'indicators', 'recommendations') {
            $text | Should -Match "<section id=`"$id`">"
        }
        $text | Should -Match 'Waledac relay on pc17'
        $text | Should -Match '<svg xmlns="http://www.w3.org/2000/svg" class="flux-graph"'
        $text | Should -Match '140\.127\.1\.77'
        $text | Should -Match 'flux3\.example'                       # most queried first
        $text | Should -Match ([regex]::Escape('Invoke-Command -ComputerName pc17 { Get-FluxListener -MinimumRiskScore 85 | Remove-FluxInfection }'))
        $text | Should -Match ([regex]::Escape('Invoke-Command -ComputerName pc17 { Find-UsbLnkTrap -Path E:\ | Remove-FluxInfection }'))
        $text | Should -Match ([regex]::Escape('C:\WINDOWS\system32\cmd.exe /c start .\RECYCLER\x.exe &amp; start explorer "Photos"'))
        $text | Should -Match '40 mail servers'
        $text | Should -Match ('c' * 64)
        # The hostile text stayed text: the browser built no element from it.
        $text | Should -Not -Match '<img'
        $text | Should -Not -Match '<link'
        $text | Should -Match ([regex]::Escape("&lt;img src=`"$canaryUrl/img.png`"&gt;"))
    }

    It 'prints to PDF with each later section on a page of its own' {
        if ($noBrowser) { Set-ItResult -Skipped -Because 'Chromium (Debian package chromium) is not installed'; return }
        $pdf = Join-Path $work 'report.pdf'
        $null = Invoke-Chromium -File $report -Mode @('--no-pdf-header-footer', "--print-to-pdf=$pdf")
        $bytes = [IO.File]::ReadAllBytes($pdf)
        [Text.Encoding]::ASCII.GetString($bytes, 0, 5) | Should -Be '%PDF-'
        $pages = [regex]::Matches([Text.Encoding]::Latin1.GetString($bytes), '/Type\s*/Page(?!s)').Count
        # Summary and picture share the first pages; hosts, host evidence, network evidence, correlations, timeline,
        # indicators and recommendations each start a new one (@media print).
        $pages | Should -BeGreaterOrEqual 8
    }

    It 'attempts no network request (and a control page shows the probe would see one)' {
        if ($noBrowser) { Set-ItResult -Skipped -Because 'Chromium (Debian package chromium) is not installed'; return }
        $null = Get-CanaryHits

        # Control: the same report without its policy and with one real image element pointing at the canary.
        $control = Join-Path $work 'control.html'
        $html = Get-Content -Raw -LiteralPath $report
        $html = $html -replace '<meta http-equiv="Content-Security-Policy"[^>]*>', '' -replace '<main>', "<main><img src=`"$canaryUrl/control.png`" alt=`"`">"
        Set-Content -LiteralPath $control -Value $html -NoNewline
        $controlLog = Join-Path $work 'control-netlog.json'
        $null = Invoke-Chromium -File $control -Mode @('--dump-dom') -NetLog $controlLog
        $controlHits = Get-CanaryHits
        $controlHits | Should -Contain 'GET /control.png HTTP/1.1'
        $controlRequests = (Get-NetLogRequest $controlLog).Requests
        @($controlRequests | Where-Object { $_.Url -eq "$canaryUrl/control.png" -and $_.Initiator -ne 'not an origin' }).Count | Should -BeGreaterThan 0

        # The report itself: render (DOM and screenshot) and check the canary and the net-log.
        $log = Join-Path $work 'report-netlog.json'
        $null = Invoke-Chromium -File $report -Mode @('--dump-dom') -NetLog $log
        $log2 = Join-Path $work 'report-netlog-shot.json'
        $null = Invoke-Chromium -File $report -Mode @("--screenshot=$(Join-Path $work 'shot2.png')") -NetLog $log2
        Get-CanaryHits | Should -BeNullOrEmpty
        foreach ($l in $log, $log2) {
            $net = Get-NetLogRequest $l
            # Every request is the browser's own (component update, clock, accounts), none started by the page.
            $pageRequests = @($net.Requests | Where-Object { $_.Initiator -ne 'not an origin' -or $_.Url -notmatch '^https?://[^/]*(google|gstatic)[^/]*/' })
            $pageRequests | Should -BeNullOrEmpty -Because ($pageRequests | Out-String)
            # And no name from the report was even looked up.
            $net.ResolvedHosts | Where-Object { $_ -match 'example|127\.0\.0\.1|140\.127|198\.51\.100|192\.0\.2' } | Should -BeNullOrEmpty
        }
    }
}
