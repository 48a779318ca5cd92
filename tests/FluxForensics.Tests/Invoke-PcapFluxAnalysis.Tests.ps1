#Requires -Version 5.1
# Invoke-PcapFluxAnalysis through the built module: the incident sample written by the fixture generator, broken files
# beside good ones, wildcards and several files, and a live capture on loopback (root only).

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestSupport.psm1') -Force
    Import-Module (Get-FluxManifestPath) -Force
    $script:work = Join-Path ([System.IO.Path]::GetTempPath()) ('flux-pcap-' + [guid]::NewGuid().ToString('n'))
    New-Item -ItemType Directory -Path $work | Out-Null
    $script:sample = Join-Path $work 'incident.pcapng'
    Invoke-FluxFixture -Name 'incident-capture' -Arguments @($sample) | Out-Null
    $script:result = @(Invoke-PcapFluxAnalysis -Path $sample -WarningAction SilentlyContinue)
}

AfterAll {
    if ($work -and (Test-Path -LiteralPath $work)) { Remove-Item -LiteralPath $work -Recurse -Force }
}

Describe 'Invoke-PcapFluxAnalysis on the incident sample' {
    It 'reports the relay as a high-risk DNS proxy answering outside clients' {
        $proxy = $result | Where-Object { $_.Kind -eq 'DnsProxy' -and $_.Address -eq '140.127.1.77' }
        $proxy | Should -Not -BeNullOrEmpty
        $proxy.RiskScore | Should -BeGreaterOrEqual 80
        $proxy.OutsideClientCount | Should -BeGreaterThan 10
        $proxy.FluxDomainCount | Should -BeGreaterThan 500
        $proxy.ComputerName | Should -Not -BeNullOrEmpty
    }

    It 'rates the host''s own resolver far below the relay' {
        $resolver = $result | Where-Object { $_.Kind -eq 'DnsProxy' -and $_.Address -eq '140.127.1.1' }
        $resolver.RiskScore | Should -BeLessThan 30
    }

    It 'reports the incident''s flux names with their evidence' {
        $flux = $result | Where-Object Kind -eq 'FluxDomain'
        foreach ($name in 'bayermun.biz', 'gorodkoff.com', 'demyator.biz', 'mydear.name', 'www.mydear.name') {
            $d = $flux | Where-Object Domain -eq $name
            $d | Should -Not -BeNullOrEmpty -Because "$name is one of the incident's flux domains"
            $d.IsFastFlux | Should -BeTrue
            $d.NetworkCount | Should -BeGreaterThan 5
            $d.FluxScore | Should -BeGreaterThan 0
            ($d.Reasons.Reason -join ' ') | Should -Match 'Holz et al\., NDSS 2008'
        }
        ($flux | Where-Object IsFastFlux).Count | Should -BeGreaterOrEqual 600
    }

    It 'marks the names that resolve to the relay with fluxing name servers as double flux' {
        $double = @($result | Where-Object { $_.Kind -eq 'FluxDomain' -and $_.IsDoubleFlux })
        $double.Count | Should -BeGreaterOrEqual 40
        $double | ForEach-Object { $_.Addresses | Should -Contain '140.127.1.77' }
        ($double | Where-Object Domain -eq 'mydear.name').NameServers | Should -Contain 'ns1.mydear.name'
        # The relay analyser (same pass) sees 140.127.1.77 relaying, so the names pointing at it say so.
        @($double | Where-Object ResolvesToRelay).Count | Should -BeGreaterOrEqual 40
    }

    It 'does not call the CDN or the stable names flux' {
        $names = ($result | Where-Object Kind -eq 'FluxDomain').Domain
        $names | Should -Not -Contain 'static.cdn-campus.example'
        foreach ($n in 'www.nsysu.edu.tw', 'mail.campus.example', 'update.microsoft.com', 'www.google.com') { $names | Should -Not -Contain $n }
    }

    It 'emits the CaptureSummary last' {
        $summary = $result[-1]
        $summary.Kind | Should -Be 'CaptureSummary'
        $summary.PacketCount | Should -BeGreaterThan 7000
        $summary.Completed | Should -BeTrue
        $summary.Files | Should -Be @($sample)
        $summary.FlowCount | Should -BeGreaterThan 0
        $summary.PacketsPerSecond | Should -BeGreaterThan 0
        @($result | Where-Object Kind -eq 'CaptureSummary').Count | Should -Be 1
    }

    It 'lowers the relay''s risk when it is a known DNS server' {
        $known = Invoke-PcapFluxAnalysis -Path $sample -KnownDnsServer 140.127.1.77 -WarningAction SilentlyContinue |
            Where-Object { $_.Kind -eq 'DnsProxy' -and $_.Address -eq '140.127.1.77' }
        $unknown = $result | Where-Object { $_.Kind -eq 'DnsProxy' -and $_.Address -eq '140.127.1.77' }
        $known.RiskScore | Should -BeLessThan $unknown.RiskScore
        $known.IsKnownResolver | Should -BeTrue
    }
}

Describe 'Invoke-PcapFluxAnalysis with bad and several files' {
    BeforeAll {
        $script:set = Join-Path $work 'set'
        New-Item -ItemType Directory -Path $set | Out-Null
        Copy-Item -LiteralPath $sample -Destination (Join-Path $set 'a-good.pcapng')
        $bytes = [System.IO.File]::ReadAllBytes($sample)
        # The same capture cut in the middle of a record: the last record is truncated.
        [System.IO.File]::WriteAllBytes((Join-Path $set 'b-truncated.pcapng'), $bytes[0..([int]($bytes.Length / 2) + 7)])
        [System.IO.File]::WriteAllBytes((Join-Path $set 'c-wrongmagic.pcap'), [byte[]](1..200))
        [System.IO.File]::WriteAllBytes((Join-Path $set 'd-empty.pcap'), [byte[]]@())
    }

    It 'warns with file and offset and still analyses the rest' {
        $out = @(Invoke-PcapFluxAnalysis -Path (Join-Path $set '*') -WarningVariable warnings -WarningAction SilentlyContinue)
        $out[-1].Kind | Should -Be 'CaptureSummary'
        $out[-1].Files.Count | Should -Be 4
        ($out | Where-Object { $_.Kind -eq 'DnsProxy' -and $_.Address -eq '140.127.1.77' }) | Should -Not -BeNullOrEmpty
        $text = ($warnings | ForEach-Object { "$_" }) -join "`n"
        $text | Should -Match 'b-truncated\.pcapng @ \d+'
        $text | Should -Match 'c-wrongmagic\.pcap'
        $out[-1].ParseIssues.Count | Should -BeGreaterThan 1
    }

    It 'reads several files given by -LiteralPath as one capture' {
        $a = Join-Path $set 'a-good.pcapng'
        $out = @(Invoke-PcapFluxAnalysis -LiteralPath $a, $a -WarningAction SilentlyContinue)
        $out[-1].Files.Count | Should -Be 1
        $out[-1].PacketCount | Should -Be $result[-1].PacketCount
    }

    It 'writes a non-terminating error for a missing file and analyses the others' {
        $out = @(Invoke-PcapFluxAnalysis -Path (Join-Path $set 'a-good.pcapng'), (Join-Path $set 'missing.pcap') -ErrorVariable errs -ErrorAction SilentlyContinue -WarningAction SilentlyContinue)
        $errs[0].FullyQualifiedErrorId | Should -Match '^CaptureFileNotFound'
        $out[-1].Kind | Should -Be 'CaptureSummary'
    }

    It 'stops with a terminating error when no input can be read' {
        { Invoke-PcapFluxAnalysis -Path (Join-Path $set 'nothing-*.pcap') -ErrorAction SilentlyContinue } | Should -Throw -ErrorId 'NoCaptureFile*'
    }
}

Describe 'Invoke-PcapFluxAnalysis stopped with Ctrl+C' {
    It 'writes findings while it reads, stops promptly, and what it wrote stays with the caller' {
        # PowerShell.Stop() is what Ctrl+C does to a running pipeline: the cmdlet's StopProcessing cancels the read.
        # Relayed sessions are written as they pair, so the findings downstream already hold some when it is stopped.
        $big = Join-Path $work 'relayed-big.pcap'
        Invoke-FluxFixture -Name 'bench-relay-capture' -Arguments @($big, '60000') | Out-Null
        $received = [System.Collections.Concurrent.ConcurrentQueue[object]]::new()
        $ps = [powershell]::Create()
        try {
            $ps.Runspace.SessionStateProxy.SetVariable('received', $received)
            $null = $ps.AddScript("Import-Module '$(Get-FluxManifestPath)'; Invoke-PcapFluxAnalysis -LiteralPath '$big' -ThrottleLimit 2 -WarningAction SilentlyContinue | ForEach-Object { `$received.Enqueue(`$_) }")
            $async = $ps.BeginInvoke()
            $deadline = [DateTime]::UtcNow.AddSeconds(120)
            while ($received.Count -eq 0 -and -not $async.IsCompleted -and [DateTime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 10 }
            $async.IsCompleted | Should -BeFalse -Because 'the first findings must arrive while the capture is still being read'
            $received.Count | Should -BeGreaterThan 0
            $watch = [Diagnostics.Stopwatch]::StartNew()
            $ps.Stop()
            $watch.Stop()
            $watch.Elapsed.TotalSeconds | Should -BeLessThan 10 -Because 'Ctrl+C must stop the read promptly'
            $ps.InvocationStateInfo.State | Should -Be 'Stopped'
            $kept = @($received.ToArray())
            $kept.Count | Should -BeGreaterThan 0
            # Relay findings are written as they are final (a pair's login and download first; its session once the relay's
            # fan-out counts are in); DNS findings and the summary only come at the end.
            $kept[0].Kind | Should -BeIn 'RelaySession', 'ExposedCredential', 'FluxDownload'
            @($kept | Where-Object Kind -eq 'CaptureSummary').Count | Should -Be 0 -Because 'the summary comes last, and the run was stopped before it'
            $ps.Runspace.SessionStateProxy.GetVariable('FluxForensicsPartialAnalysis') | Should -BeNullOrEmpty -Because 'findings are no longer parked in a global variable'
        } finally {
            $ps.Dispose()
            Remove-Item -LiteralPath $big -Force -ErrorAction SilentlyContinue
        }
    }
}

Describe 'Invoke-PcapFluxAnalysis -ThrottleLimit' {
    It 'gives the same findings, in the same order, with one worker and with several' {
        $capture = Join-Path $work 'workers-incident.pcap'
        Invoke-FluxFixture -Name 'incident-capture' -Arguments @($capture) | Out-Null
        $canonical = {
            param($findings)
            foreach ($f in $findings) {
                ($f.PSObject.Properties | Where-Object Name -notin 'Elapsed', 'PacketsPerSecond', 'ObservedAt' | Sort-Object Name |
                    ForEach-Object { '{0}={1}' -f $_.Name, (@($_.Value) -join ',') }) -join '|'
            }
        }
        $one = @(Invoke-PcapFluxAnalysis -LiteralPath $capture -ThrottleLimit 1 -WarningAction SilentlyContinue)
        $two = @(Invoke-PcapFluxAnalysis -LiteralPath $capture -ThrottleLimit 2 -WarningAction SilentlyContinue)
        $four = @(Invoke-PcapFluxAnalysis -LiteralPath $capture -ThrottleLimit 4 -WarningAction SilentlyContinue)
        $one.Count | Should -BeGreaterThan 100
        $one[-1].Kind | Should -Be 'CaptureSummary'
        (& $canonical $two) | Should -Be (& $canonical $one)
        (& $canonical $four) | Should -Be (& $canonical $one)
        $default = @(Invoke-PcapFluxAnalysis -LiteralPath $capture -WarningAction SilentlyContinue)
        (& $canonical $default) | Should -Be (& $canonical $one)
    }

    It 'refuses a worker count out of range' {
        { Invoke-PcapFluxAnalysis -LiteralPath (Join-Path $work 'workers-incident.pcap') -ThrottleLimit 0 } | Should -Throw -ErrorId 'ParameterArgumentValidationError*'
    }
}

Describe 'Invoke-PcapFluxAnalysis live on loopback' {
    It 'captures DNS the test sends and reports the answering host' {
        $isRoot = (& id -u) -eq '0'
        if (-not $IsLinux -or -not $isRoot) { Set-ItResult -Skipped -Because 'live capture needs root on Linux'; return }
        $libpcap = Get-ChildItem /usr/lib/*/libpcap.so* , /usr/lib/libpcap.so* -ErrorAction SilentlyContinue
        if (-not $libpcap) { Set-ItResult -Skipped -Because 'libpcap is not installed'; return }

        $saved = Join-Path $work 'live.pcapng'
        # A UDP "server" on 127.0.0.53:53 would clash with systemd-resolved: answer from 127.0.0.77 instead.
        $sender = Start-ThreadJob -ScriptBlock {
            Start-Sleep -Seconds 2
            $server = [System.Net.Sockets.UdpClient]::new([System.Net.IPEndPoint]::new([System.Net.IPAddress]::Parse('127.0.0.77'), 53))
            $client = [System.Net.Sockets.UdpClient]::new()
            try {
                $q = [byte[]](0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 6) + [Text.Encoding]::ASCII.GetBytes('mydear') + [byte[]](4) + [Text.Encoding]::ASCII.GetBytes('name') + [byte[]](0, 0, 1, 0, 1)
                $a = [byte[]](0x12, 0x34, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0, 6) + [Text.Encoding]::ASCII.GetBytes('mydear') + [byte[]](4) + [Text.Encoding]::ASCII.GetBytes('name') + [byte[]](0, 0, 1, 0, 1, 0xC0, 12, 0, 1, 0, 1, 0, 0, 0, 30, 0, 4, 8, 8, 8, 8)
                for ($i = 0; $i -lt 5; $i++) {
                    $client.Send($q, $q.Length, [System.Net.IPEndPoint]::new([System.Net.IPAddress]::Parse('127.0.0.77'), 53)) | Out-Null
                    $remote = [System.Net.IPEndPoint]::new([System.Net.IPAddress]::Any, 0)
                    $null = $server.Receive([ref] $remote)
                    $server.Send($a, $a.Length, $remote) | Out-Null
                    Start-Sleep -Milliseconds 100
                }
            } finally { $server.Dispose(); $client.Dispose() }
        }
        try {
            $out = @(Invoke-PcapFluxAnalysis -InterfaceName lo -Duration '00:00:05' -SavePath $saved -WarningAction SilentlyContinue)
        } finally { $sender | Wait-Job | Remove-Job -Force }
        $proxy = $out | Where-Object { $_.Kind -eq 'DnsProxy' -and $_.Address -eq '127.0.0.77' }
        $proxy | Should -Not -BeNullOrEmpty
        $proxy.QueryCount | Should -BeGreaterOrEqual 5
        $out[-1].Kind | Should -Be 'CaptureSummary'
        Test-Path -LiteralPath $saved | Should -BeTrue
        $again = @(Invoke-PcapFluxAnalysis -LiteralPath $saved -WarningAction SilentlyContinue)
        ($again | Where-Object { $_.Kind -eq 'DnsProxy' -and $_.Address -eq '127.0.0.77' }) | Should -Not -BeNullOrEmpty
    }
}

Describe 'Invoke-PcapFluxAnalysis with MaxMind databases' {
    BeforeAll {
        $script:geo = Join-Path (Get-FluxCorpusPath) 'geo/maxmind__MaxMind-DB/test-data'
        $script:asnDb = Join-Path $geo 'GeoLite2-ASN-Test.mmdb'
        $script:countryDb = Join-Path $geo 'GeoLite2-Country-Test.mmdb'
    }

    It 'counts autonomous systems for every flux name and gives relayed servers the new properties' {
        if (-not (Test-Path -LiteralPath $asnDb)) { Set-ItResult -Skipped -Because "the corpus file $asnDb is absent"; return }
        $out = @(Invoke-PcapFluxAnalysis -Path $sample -AsnDatabase $asnDb -CountryDatabase $countryDb -ErrorVariable errs -WarningAction SilentlyContinue)
        $errs.Count | Should -Be 0
        $flux = @($out | Where-Object Kind -eq 'FluxDomain')
        @($result | Where-Object Kind -eq 'FluxDomain')[0].AsnCount | Should -BeNullOrEmpty
        foreach ($d in $flux) { $d.AsnCount | Should -Not -BeNullOrEmpty }
        $session = @($out | Where-Object Kind -eq 'RelaySession')[0]
        $session.PSObject.Properties.Name | Should -Contain 'ServerAsn'
        $session.PSObject.Properties.Name | Should -Contain 'ServerCountry'
        @($out | Where-Object Kind -eq 'FluxDownload')[0].PSObject.Properties.Name | Should -Contain 'ServerAsOrganization'
    }

    It 'stops when the country database is missing' {
        { Invoke-PcapFluxAnalysis -Path $sample -CountryDatabase (Join-Path $work 'no-such.mmdb') -ErrorAction Stop } | Should -Throw -ErrorId 'CountryDatabaseNotFound*'
    }
}
