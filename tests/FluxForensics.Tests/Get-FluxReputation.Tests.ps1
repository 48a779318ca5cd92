#Requires -Version 7.3
# Get-FluxReputation through the built module against the VirusTotal v3 stand-in of the fixtures (virustotal-stub), a
# real HTTP server on 127.0.0.1 answering with VirusTotal's documented shapes. The real service cannot be reached from
# the test machines, and tests must not spend anyone's quota: the stub is the only VirusTotal these tests talk to.

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestSupport.psm1') -Force
    Import-Module (Get-FluxManifestPath) -Force

    $script:key = 'vt-pester-key-4c2b9e01d7f34a6b8e5c0d1f2a3b4c5d'
    $script:mobile7 = '5f8a2b7c1d0e9f3a4b6c8d2e1f0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a'
    $script:mobile7Md5 = '0cc175b9c0f1b6a831c399e269772661'
    $script:clean = '1111111111111111111111111111111111111111111111111111111111111111'
    $script:unknown = '9999999999999999999999999999999999999999999999999999999999999999'
    $script:temp = Join-Path ([System.IO.Path]::GetTempPath()) ('ff-rep-' + [guid]::NewGuid().ToString('n'))
    New-Item -ItemType Directory -Path $temp | Out-Null
    $script:started = [System.Collections.Generic.List[System.Diagnostics.Process]]::new()

    # Starts the stub; returns its API address and request log.
    function Start-VirusTotalStub([int] $QuotaFirst = 0) {
        $id = [guid]::NewGuid().ToString('n')
        $ready = Join-Path $temp "$id.ready"
        $log = Join-Path $temp "$id.log"
        $psi = [System.Diagnostics.ProcessStartInfo]::new('dotnet')
        foreach ($a in @((Get-FluxFixturesDll), 'virustotal-stub', '--key', $key, '--quota-first', "$QuotaFirst", '--ready-file', $ready, '--log', $log, '--seconds', '600')) { $psi.ArgumentList.Add($a) }
        $psi.RedirectStandardInput = $true   # closing it stops the stub
        $psi.UseShellExecute = $false
        $p = [System.Diagnostics.Process]::Start($psi)
        $script:started.Add($p)
        $deadline = [DateTime]::UtcNow.AddSeconds(60)
        while (-not (Test-Path -LiteralPath $ready) -and -not $p.HasExited -and [DateTime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 50 }
        if ((Get-Content -Raw -LiteralPath $ready -ErrorAction SilentlyContinue) -notmatch 'ready port=(\d+)') { throw 'the virustotal-stub fixture did not start' }
        [pscustomobject]@{ Uri = "http://127.0.0.1:$($Matches[1])/api/v3"; Log = $log }
    }

    function Get-StubRequests($Stub) { @(if (Test-Path -LiteralPath $Stub.Log) { Get-Content -LiteralPath $Stub.Log }) }

    function New-CachePath { Join-Path $temp ('cache-' + [guid]::NewGuid().ToString('n')) }

    $script:secureKey = ConvertTo-SecureString $key -AsPlainText -Force
    $script:stub = Start-VirusTotalStub
}

AfterAll {
    foreach ($p in $started) {
        try { $p.StandardInput.Close() } catch { }
        if (-not $p.WaitForExit(5000)) { $p.Kill() }
    }
    Remove-Item -LiteralPath $temp -Recurse -Force -ErrorAction SilentlyContinue
}

Describe 'Get-FluxReputation against a VirusTotal v3 stand-in' {
    It 'looks up every hash piped findings carry, and a domain, once each' {
        $download = New-FluxFinding -Type FluxDownload -Property @{ Sha256 = $mobile7.ToUpperInvariant(); Md5 = $mobile7Md5.ToUpperInvariant(); FileName = 'cclub02.exe' }
        $trap = New-FluxFinding -Type UsbLnkTrap -Property @{ PayloadSha256 = $mobile7 }
        $cleanFile = New-FluxFinding -Type FluxDownload -Property @{ Sha256 = $clean }
        $before = (Get-StubRequests $stub).Count
        $results = @($download, $trap, $cleanFile | Get-FluxReputation -Domain bayermun.biz -ApiKey $secureKey -ApiUri $stub.Uri -RequestsPerMinute 600 -CachePath (New-CachePath))

        $results | Should -HaveCount 3
        $requests = @(Get-StubRequests $stub | Select-Object -Skip $before)
        $requests | Should -HaveCount 3
        $requests | Should -Contain "GET /api/v3/files/$mobile7 200"
        $requests | Should -Contain "GET /api/v3/files/$clean 200"
        $requests | Should -Contain 'GET /api/v3/domains/bayermun.biz 200'

        $m = $results | Where-Object Sha256 -eq $mobile7
        $m.GetType().FullName | Should -Be 'FluxForensics.Model.FluxReputation'
        "$($m.Verdict)" | Should -Be 'Malicious'
        $m.Ratio | Should -Be '29/57'
        $m.Malicious | Should -Be 29
        $m.Total | Should -Be 57
        $m.Label | Should -Be 'trojan.tofsee/relay'
        $m.Names | Should -Be @('mobile7.exe', 'click.exe', 'cclub02.exe')
        $m.Md5 | Should -Be $mobile7Md5
        $m.Source | Should -Be 'VirusTotal'
        $m.Link | Should -Be "https://www.virustotal.com/gui/file/$mobile7"
        "$($m.Severity)" | Should -Be 'Critical'
        $m.FirstSeen.Kind | Should -Be 'Utc'
        $m.Reasons.Reason | Should -Contain '29/57 engines call it malicious'

        $d = $results | Where-Object Domain -eq 'bayermun.biz'
        $d.Ratio | Should -Be '8/94'
        $d.Link | Should -Be 'https://www.virustotal.com/gui/domain/bayermun.biz'
        "$(($results | Where-Object Sha256 -eq $clean).Verdict)" | Should -Be 'Harmless'

        $table = $results | Out-String -Width 250
        $table | Should -Match 'Verdict\s+Severity\s+Ratio\s+Label\s+Name\s+Source\s+Indicator'
        $table | Should -Match "Malicious\s+Critical\s+29/57 trojan.tofsee/relay mobile7.exe\s+VirusTotal $mobile7"
    }

    It 'reads deserialized findings by property name, answers from the cache the second time, and its output survives CliXml' {
        $cache = New-CachePath
        $xml = Join-Path $temp 'findings.xml'
        @(
            New-FluxFinding -Type FluxDownload -Property @{ Sha256 = $mobile7; ComputerName = 'PC-01' }
            New-FluxFinding -Type UsbLnkTrap -Property @{ PayloadSha256 = $unknown; ComputerName = 'PC-02' }
            New-FluxFinding -Type FluxDomain -Property @{ Domain = 'bayermun.biz' }
        ) | Export-Clixml -LiteralPath $xml
        $imported = @(Import-Clixml -LiteralPath $xml)
        $imported[0].PSObject.TypeNames[0] | Should -Be 'Deserialized.FluxForensics.Model.FluxDownload'

        $before = (Get-StubRequests $stub).Count
        $first = @($imported | Get-FluxReputation -ApiKey $secureKey -ApiUri $stub.Uri -RequestsPerMinute 600 -CachePath $cache)
        $first | Should -HaveCount 3
        (Get-StubRequests $stub).Count - $before | Should -Be 3
        "$(($first | Where-Object Sha256 -eq $unknown).Verdict)" | Should -Be 'Unknown'   # NotFoundError is an answer

        $second = @($imported | Get-FluxReputation -ApiKey $secureKey -ApiUri $stub.Uri -RequestsPerMinute 600 -CachePath $cache)
        (Get-StubRequests $stub).Count - $before | Should -Be 3   # no request: within -MaxAge
        $second.Source | Sort-Object -Unique | Should -Be 'Cache'
        ($second | Where-Object Sha256 -eq $mobile7).Ratio | Should -Be '29/57'

        $third = @($imported | Get-FluxReputation -ApiKey $secureKey -ApiUri $stub.Uri -RequestsPerMinute 600 -CachePath $cache -MaxAge 0)
        (Get-StubRequests $stub).Count - $before | Should -Be 6   # -MaxAge 0: asked again
        $third.Source | Sort-Object -Unique | Should -Be 'VirusTotal'

        $out = Join-Path $temp 'reputation.xml'
        $first | Export-Clixml -LiteralPath $out
        $back = @(Import-Clixml -LiteralPath $out)
        $back | Should -HaveCount 3
        $r = $back | Where-Object Sha256 -eq $mobile7
        $r.PSObject.TypeNames[0] | Should -Be 'Deserialized.FluxForensics.Model.FluxReputation'
        $r.Ratio | Should -Be '29/57'
        $r.Verdict.PSObject.ToString() | Should -Be 'Malicious'   # a deserialized enum keeps its name
        @($r.Names) | Should -Be @('mobile7.exe', 'click.exe', 'cclub02.exe')
        $r.Reasons[0].Reason | Should -Be '29/57 engines call it malicious'   # reasons stay objects
        $r.Reasons[0].Points | Should -BeGreaterThan 0
        $r.Link | Should -Be "https://www.virustotal.com/gui/file/$mobile7"
        Get-FormatData -TypeName 'Deserialized.FluxForensics.Model.FluxReputation' | Should -Not -BeNullOrEmpty
        ($back | Out-String -Width 250) | Should -Match "Malicious\s+Critical\s+29/57"
    }

    It 'backs off on QuotaExceededError and retries, one answer per distinct hash' {
        $quotaStub = Start-VirusTotalStub -QuotaFirst 1
        $results = @(Get-FluxReputation -Sha256 $mobile7, $clean, $mobile7.ToUpperInvariant() -ApiKey $secureKey -ApiUri $quotaStub.Uri -RequestsPerMinute 300 -CachePath (New-CachePath))
        $results | Should -HaveCount 2
        Get-StubRequests $quotaStub | Should -Be @(
            "GET /api/v3/files/$mobile7 429"
            "GET /api/v3/files/$mobile7 200"
            "GET /api/v3/files/$clean 200"
        )
        ($results | Where-Object Sha256 -eq $mobile7).Ratio | Should -Be '29/57'
    }

    It 'stops with one terminating error that names the problem, not the key, when VirusTotal refuses the key' {
        $wrong = 'wrong-pester-key-0f1e2d3c4b5a69788796a5b4c3d2e1f0'
        $before = (Get-StubRequests $stub).Count
        $verbose = $null
        $caught = $null
        try {
            Get-FluxReputation -Sha256 $mobile7, $clean -ApiKey (ConvertTo-SecureString $wrong -AsPlainText -Force) -ApiUri $stub.Uri -RequestsPerMinute 600 -CachePath (New-CachePath) -Verbose 4>&1 |
                ForEach-Object { if ($_ -is [System.Management.Automation.VerboseRecord]) { $verbose += @("$_") } }
        }
        catch { $caught = $_ }

        $caught | Should -Not -BeNullOrEmpty
        $caught.FullyQualifiedErrorId | Should -BeLike 'VirusTotalWrongCredentials*'
        "$($caught.CategoryInfo.Category)" | Should -Be 'AuthenticationError'
        $caught.Exception.Message | Should -Match 'VirusTotal refused the API key \(WrongCredentialsError\)'
        @(Get-StubRequests $stub | Select-Object -Skip $before) | Should -Be @("GET /api/v3/files/$mobile7 401")
        $everything = ($caught | Format-List * -Force | Out-String) + ($caught.Exception | Format-List * -Force | Out-String) + $caught.ToString() + ($caught.InvocationInfo | Out-String) + ($verbose -join "`n")
        $everything | Should -Not -Match $wrong
        $verbose | Should -Not -BeNullOrEmpty
        ($verbose -join "`n") | Should -Match "GET http://127.0.0.1:\d+/api/v3/files/$mobile7"
    }

    It 'warns once when VirusTotal cannot be reached, and the hash-list answers still come out' {
        $port = Get-FluxFreeTcpPort   # nothing listens there
        $list = Join-Path $temp 'known.txt'
        Set-Content -LiteralPath $list -Value "$mobile7  mobile7.exe"
        $warnings = $null
        $results = @(Get-FluxReputation -Sha256 $mobile7, $clean, $unknown -HashList $list -ApiKey $secureKey -ApiUri "http://127.0.0.1:$port/api/v3" -CachePath (New-CachePath) -WarningVariable warnings -WarningAction SilentlyContinue)
        @($warnings) | Should -HaveCount 1
        "$($warnings[0])" | Should -Match 'VirusTotal could not be reached'
        $listed = $results | Where-Object Source -eq 'known.txt'
        $listed.Sha256 | Should -Be $mobile7
        "$($listed.Verdict)" | Should -Be 'Malicious'
        @($results | Where-Object Source -eq 'None').Sha256 | Sort-Object | Should -Be @($clean, $unknown)
    }

    It 'answers from a MalwareBazaar export and the cache only with -Offline, sending nothing' {
        $bazaar = Join-Path $temp 'full_sha256.csv'
        @(
            '################################################################'
            '# MalwareBazaar full data dump (CSV)                           #'
            '################################################################'
            '#'
            '# "first_seen_utc","sha256_hash","md5_hash","sha1_hash","reporter","file_name","file_type_guess","mime_type","signature","clamav","vtpercent","imphash","ssdeep","tlsh"'
            """2026-12-07 21:58:02"", ""$mobile7"", ""$mobile7Md5"", ""n/a"", ""abuse_ch"", ""mobile7.exe"", ""exe"", ""application/x-dosexec"", ""Tofsee"", ""n/a"", ""50.88"", ""n/a"", ""n/a"", ""n/a"""
        ) | Set-Content -LiteralPath $bazaar
        $before = (Get-StubRequests $stub).Count
        $env:VT_API_KEY = $key
        try {
            $results = @(Get-FluxReputation -Sha256 $mobile7, $unknown -HashList $bazaar -ApiUri $stub.Uri -CachePath (New-CachePath) -Offline)
        }
        finally { Remove-Item Env:VT_API_KEY }
        (Get-StubRequests $stub).Count | Should -Be $before
        $listed = $results | Where-Object Sha256 -eq $mobile7
        $listed.Source | Should -Be 'full_sha256.csv'
        $listed.Label | Should -Be 'Tofsee'
        $listed.Names | Should -Be @('mobile7.exe')
        $listed.FirstSeen | Should -Be ([datetime]::new(2026, 12, 7, 21, 58, 2, [DateTimeKind]::Utc))
        ($results | Where-Object Sha256 -eq $unknown).Source | Should -Be 'None'
    }

    It 'reads the hashes of a deserialized incident, and its answer joins back into New-FluxIncident' {
        $findings = @(
            New-FluxFinding -Type FluxDownload -Property @{ Sha256 = $mobile7; FileName = 'cclub02.exe'; ComputerName = 'PC-01' }
            New-FluxFinding -Type UsbLnkTrap -Property @{ PayloadSha256 = $mobile7; ComputerName = 'PC-02' }
        )
        $xml = Join-Path $temp 'incident.xml'
        $findings | New-FluxIncident | Export-Clixml -LiteralPath $xml
        $list = Join-Path $temp 'incident-list.txt'
        Set-Content -LiteralPath $list -Value "$mobile7  mobile7.exe"
        $reputation = @(Import-Clixml -LiteralPath $xml | Get-FluxReputation -HashList $list -Offline -CachePath (New-CachePath))
        $reputation | Should -HaveCount 1
        $reputation[0].Sha256 | Should -Be $mobile7
        $correlation = @(($findings + $reputation) | New-FluxIncident).Correlations | Where-Object Indicator -eq $mobile7
        "$($correlation.Reputation.Verdict)" | Should -Be 'Malicious'
    }

    It 'hashes files given with -Path and piped as FileInfo' {
        $file = Join-Path $temp 'abc.bin'
        [System.IO.File]::WriteAllText($file, 'abc')
        $list = Join-Path $temp 'abc.tsv'
        Set-Content -LiteralPath $list -Value "sha256`tname`nba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad`tabc.bin"
        $byPath = @(Get-FluxReputation -Path (Join-Path $temp 'abc.b?n') -HashList $list -Offline -CachePath (New-CachePath))
        $byPath | Should -HaveCount 1
        $byPath[0].Sha256 | Should -Be 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad'
        $byPath[0].Md5 | Should -Be '900150983cd24fb0d6963f7d28e17f72'
        $byPath[0].Source | Should -Be 'abc.tsv'
        $piped = @(Get-Item -LiteralPath $file | Get-FluxReputation -HashList $list -Offline -CachePath (New-CachePath))
        $piped[0].Sha256 | Should -Be $byPath[0].Sha256
        $err = $null
        Get-FluxReputation -Path (Join-Path $temp 'missing-*.exe') -Offline -CachePath (New-CachePath) -ErrorVariable err -ErrorAction SilentlyContinue
        $err[0].FullyQualifiedErrorId | Should -BeLike 'FileNotFound*'
    }

    It 'never writes the key to output, verbose text, warnings, the cache or CliXml' {
        $cache = New-CachePath
        $env:VT_API_KEY = $key
        try {
            $all = @(Get-FluxReputation -Sha256 $mobile7, $unknown -Domain bayermun.biz -ApiUri $stub.Uri -RequestsPerMinute 600 -CachePath $cache -Verbose 4>&1 3>&1)
        }
        finally { Remove-Item Env:VT_API_KEY }
        $findings = @($all | Where-Object { $_ -is [FluxForensics.Model.FluxReputation] })
        $findings | Should -HaveCount 3
        @($all | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] }) | Should -Not -BeNullOrEmpty
        ($all | ForEach-Object { "$_" }) -join "`n" | Should -Not -Match $key
        ($findings | Format-List * -Force | Out-String) | Should -Not -Match $key
        $xml = Join-Path $temp 'leak.xml'
        $findings | Export-Clixml -LiteralPath $xml
        Get-Content -Raw -LiteralPath $xml | Should -Not -Match $key
        $files = @(Get-ChildItem -LiteralPath $cache -File)
        $files | Should -HaveCount 3
        foreach ($f in $files) { Get-Content -Raw -LiteralPath $f.FullName | Should -Not -Match $key }
    }
}
