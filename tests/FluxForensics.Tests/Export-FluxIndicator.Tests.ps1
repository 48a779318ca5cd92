#Requires -Version 5.1
# Export-FluxIndicator through the built module on the incident sample: every format written, the zone loaded by BIND's
# named-checkzone, no secret in any file although the capture is analysed with -IncludeSecret, -Force/-PassThru/-WhatIf,
# and the same indicators from findings read back from CliXml.

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestSupport.psm1') -Force
    Import-Module (Get-FluxManifestPath) -Force
    $script:work = Join-Path ([System.IO.Path]::GetTempPath()) ('flux-expind-' + [guid]::NewGuid().ToString('n'))
    New-Item -ItemType Directory -Path $work | Out-Null
    # The sample `build.ps1 Samples` writes, or the same capture made here when the samples were not built.
    $script:sample = Join-Path (Get-FluxSamplePath) 'incident.pcapng'
    if (-not (Test-Path -LiteralPath $sample)) {
        $script:sample = Join-Path $work 'incident.pcapng'
        Invoke-FluxFixture -Name 'incident-capture' -Arguments @($sample) | Out-Null
    }
    $script:findings = @(Invoke-PcapFluxAnalysis -Path $sample -IncludeSecret -WarningAction SilentlyContinue)
    $script:incident = $findings | New-FluxIncident -WarningAction SilentlyContinue
    # The passwords the capture carried in clear. One upstream login of the case is infected:infected: a password that is
    # also an account name is listed as an account (rightly), so only the others can be looked for in the files.
    $logins = @($findings | Where-Object { $_.Kind -in 'ExposedCredential', 'RelaySession' -and $_.Secret -and $_.Secret -ne '********' })
    $accountNames = @($logins | ForEach-Object Account | Where-Object { $_ })
    $script:secrets = @($logins | ForEach-Object Secret | Sort-Object -Unique | Where-Object { $_ -notin $accountNames })
    $script:relay = '140.127.1.77'
    $script:updateHost = '65.55.200.155'
    $script:checkzone = Get-Command named-checkzone -CommandType Application -ErrorAction SilentlyContinue | Select-Object -First 1
    $script:formats = 'Stix', 'ZeekIntel', 'Csv', 'Rpz', 'Text', 'Accounts'
    $script:written = @{}
    foreach ($format in $formats) {
        $written[$format] = @($incident | Export-FluxIndicator -Format $format -Path (Join-Path $work "iocs.$($format.ToLowerInvariant())") -PassThru)
    }
}

AfterAll {
    if ($work -and (Test-Path -LiteralPath $work)) { Remove-Item -LiteralPath $work -Recurse -Force }
}

Describe 'Export-FluxIndicator on the incident sample' {
    It 'writes every format and returns the files with -PassThru' {
        foreach ($format in $formats) {
            $files = $written[$format]
            $files.Count | Should -Be $(if ($format -eq 'Text') { 5 } else { 1 }) -Because "$format writes $(if ($format -eq 'Text') { 'five lists' } else { 'one file' })"
            foreach ($file in $files) {
                $file | Should -BeOfType System.IO.FileInfo
                Test-Path -LiteralPath $file.FullName | Should -BeTrue
                $file.Length | Should -BeGreaterThan 0 -Because "$($file.Name) holds indicators"
            }
        }
        $written['Text'].Name | Should -Be @('iocs.domains.txt', 'iocs.addresses.txt', 'iocs.sha256.txt', 'iocs.md5.txt', 'iocs.urls.txt')
    }

    It 'shares the relayed malware, the flux names and the malware hosts, not the host''s own update, the CDN or the relay' {
        $bundle = Get-Content -Raw -LiteralPath $written['Stix'][0].FullName | ConvertFrom-Json
        $bundle.type | Should -Be 'bundle'
        $patterns = @($bundle.objects | Where-Object type -eq 'indicator' | ForEach-Object pattern)
        $mobile7 = $findings | Where-Object { $_.Kind -eq 'FluxDownload' -and $_.FileName -eq 'mobile7.exe' } | Select-Object -First 1
        $update = $findings | Where-Object { $_.Kind -eq 'FluxDownload' -and $_.Server -eq $updateHost } | Select-Object -First 1
        $patterns | Should -Contain "[file:hashes.'SHA-256' = '$($mobile7.Sha256)']"
        $patterns | Should -Contain "[file:hashes.MD5 = '$($mobile7.Md5)']"
        $patterns | Should -Contain "[domain-name:value = 'bayermun.biz']"
        $patterns | Should -Contain "[ipv4-addr:value = '91.213.8.20']"
        ($patterns | Where-Object { $_ -like '`[url:value = *' }).Count | Should -BeGreaterThan 0
        $patterns | Should -Not -Contain "[file:hashes.'SHA-256' = '$($update.Sha256)']"
        $patterns | Should -Not -Contain "[ipv4-addr:value = '$updateHost']"
        $patterns | Should -Not -Contain "[ipv4-addr:value = '$relay']"
        $patterns | Should -Not -Contain "[domain-name:value = 'static.cdn-campus.example']"
        # Flux agents stay out unless asked for.
        $agent = ($findings | Where-Object { $_.Kind -eq 'FluxDomain' -and $_.Domain -eq 'bayermun.biz' }).Addresses | Where-Object { $_ -ne $relay } | Select-Object -First 1
        $patterns | Should -Not -Contain "[ipv4-addr:value = '$agent']"

        $amber = 'marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421'
        ($bundle.objects | Where-Object type -eq 'marking-definition').id | Should -Be $amber
        @($bundle.objects | Where-Object { $_.type -ne 'marking-definition' -and ($_.object_marking_refs -join ',') -ne $amber }).Count | Should -Be 0
        ($bundle.objects | Where-Object type -eq 'malware').name | Should -Match 'fast-flux relay$'
        @($bundle.objects | Where-Object type -eq 'relationship').Count | Should -Be $patterns.Count
    }

    It 'never writes a password, although the capture was analysed with -IncludeSecret' {
        $secrets.Count | Should -BeGreaterThan 0 -Because 'the capture carries cleartext logins'
        foreach ($file in $written.Values | ForEach-Object { $_ }) {
            $text = Get-Content -Raw -LiteralPath $file.FullName
            foreach ($secret in $secrets) {
                $text.Contains($secret) | Should -BeFalse -Because "$($file.Name) must not carry the password $secret"
            }
        }
        $accounts = Import-Csv -LiteralPath $written['Accounts'][0].FullName
        $accounts[0].PSObject.Properties.Name | Should -Be @('Account', 'Protocol', 'Server', 'ServerPort', 'Accepted', 'FirstSeen', 'Sessions')
        $accounts.Count | Should -Be $incident.ExposedAccounts.Count
    }

    It 'writes a zone that named-checkzone loads' {
        if (-not $checkzone) { Set-ItResult -Skipped -Because 'named-checkzone is not installed (Debian bind9-utils)'; return }
        $zone = $written['Rpz'][0].FullName
        $out = & $checkzone.Source -k fail 'rpz.local' $zone 2>&1 | Out-String
        $LASTEXITCODE | Should -Be 0 -Because $out
        $out | Should -Match 'OK'
        $dump = & $checkzone.Source -D -o - 'rpz.local' $zone 2>&1 | Out-String
        $dump | Should -Match '(?m)^bayermun\.biz\.rpz\.local\.\s+\d+\s+IN\s+CNAME\s+\.$'
        $dump | Should -Match '(?m)^\*\.bayermun\.biz\.rpz\.local\.\s+\d+\s+IN\s+CNAME\s+\.$'
        $dump | Should -Not -Match 'cdn-campus'
        ([regex]::Matches($dump, '(?m)\sCNAME\s+\.$')).Count | Should -Be (2 * $incident.FluxDomains.Count)
    }

    It 'writes Zeek intel lines with four tab-separated fields and Zeek''s types' {
        $lines = (Get-Content -Raw -LiteralPath $written['ZeekIntel'][0].FullName) -split "`n" | Where-Object { $_ }
        $lines[0] | Should -BeExactly "#fields`tindicator`tindicator_type`tmeta.source`tmeta.desc"
        $rows = @($lines | Select-Object -Skip 1 | ForEach-Object { , ($_ -split "`t") })
        $rows.Count | Should -BeGreaterThan 600
        @($rows | Where-Object { $_.Count -ne 4 }).Count | Should -Be 0
        @($rows | Where-Object { $_[1] -notin 'Intel::DOMAIN', 'Intel::ADDR', 'Intel::URL', 'Intel::FILE_HASH' }).Count | Should -Be 0
        @($rows | Where-Object { $_ -contains '' }).Count | Should -Be 0
        $lines | Where-Object { $_ -like "bayermun.biz`t*" } | Should -Match "^bayermun\.biz`tIntel::DOMAIN`tFluxForensics`t(double|fast)-flux domain, flux score \d+"
    }

    It 'adds the flux agents and the analysed host only when asked' {
        $csv = Join-Path $work 'agents.csv'
        $incident | Export-FluxIndicator -Format Csv -Path $csv -IncludeFluxAgents -IncludeAnalyzedHost -KnownDnsServer 58.1.2.3
        $rows = Import-Csv -LiteralPath $csv
        $rows[0].PSObject.Properties.Name | Should -Be @('Type', 'Value', 'Context', 'FirstSeen', 'LastSeen', 'Severity', 'Source')
        $addresses = ($rows | Where-Object Type -eq 'Address').Value
        $addresses | Should -Contain $relay
        $agent = ($findings | Where-Object { $_.Kind -eq 'FluxDomain' -and $_.Domain -eq 'bayermun.biz' }).Addresses | Where-Object { $_ -ne $relay } | Select-Object -First 1
        $addresses | Should -Contain $agent
        $severities = [enum]::GetNames([FluxForensics.Model.Severity])
        @($rows | Where-Object { $_.Severity -notin $severities }).Count | Should -Be 0
        @($rows | Where-Object { $_.FirstSeen -and $_.FirstSeen -notmatch '^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$' }).Count | Should -Be 0
        @($rows | Where-Object FirstSeen).Count | Should -BeGreaterThan 0
    }

    It 'refuses to overwrite without -Force and writes nothing' {
        $path = Join-Path $work 'existing.json'
        Set-Content -LiteralPath $path -Value 'keep me' -NoNewline
        $err = $null
        try { $incident | Export-FluxIndicator -Format Stix -Path $path -ErrorAction Stop } catch { $err = $_ }
        $err | Should -Not -BeNullOrEmpty
        $err.FullyQualifiedErrorId | Should -BeLike 'FileExists*'
        $err.CategoryInfo.Category | Should -Be 'ResourceExists'
        Get-Content -Raw -LiteralPath $path | Should -BeExactly 'keep me'
        # The check comes before the input is read: the upstream command never runs.
        $script:ran = $false
        try { & { $script:ran = $true; $incident } | Export-FluxIndicator -Format Stix -Path $path -ErrorAction Stop } catch { }
        $script:ran | Should -BeFalse

        $file = $incident | Export-FluxIndicator -Format Stix -Path $path -Force -PassThru
        $file.FullName | Should -Be $path
        (Get-Content -Raw -LiteralPath $path | ConvertFrom-Json).type | Should -Be 'bundle'
        # Without -PassThru, nothing is returned.
        @($incident | Export-FluxIndicator -Format Stix -Path $path -Force).Count | Should -Be 0
    }

    It 'writes nothing with -WhatIf' {
        $path = Join-Path $work 'whatif.rpz'
        $incident | Export-FluxIndicator -Format Rpz -Path $path -WhatIf
        Test-Path -LiteralPath $path | Should -BeFalse
    }

    It 'exports the same indicators from findings read back from CliXml' {
        $xml = Join-Path $work 'findings.xml'
        $findings | Export-Clixml -LiteralPath $xml -Depth 4
        $fromXml = Join-Path $work 'fromxml.txt'
        Import-Clixml -LiteralPath $xml | Export-FluxIndicator -Format Text -Path $fromXml
        foreach ($kind in 'domains', 'addresses', 'sha256', 'md5', 'urls') {
            $expected = Get-Content -LiteralPath (Join-Path $work "iocs.$kind.txt")
            $actual = Get-Content -LiteralPath (Join-Path $work "fromxml.$kind.txt")
            @($actual).Count | Should -Be @($expected).Count -Because "the $kind list"
            @($actual | Sort-Object) | Should -Be @($expected | Sort-Object)
        }
    }
}
