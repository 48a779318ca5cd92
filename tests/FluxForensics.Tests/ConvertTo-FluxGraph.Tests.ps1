#Requires -Version 5.1
# ConvertTo-FluxGraph through the built module: live and deserialized findings, DOT rendered by Graphviz, Mermaid, SVG;
# and the relay findings of Invoke-PcapFluxAnalysis on the incident sample capture.

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestSupport.psm1') -Force
    Import-Module (Get-FluxManifestPath) -Force
    # Core loads when a cmdlet first needs it: run the cmdlet once so the model types can be found.
    $null = 1 | ConvertTo-FluxGraph -WarningAction SilentlyContinue

    # Live findings as Core makes them (setters are internal: set through reflection, as the model tests do).
    function New-Finding([string] $Type, [hashtable] $Values) {
        $assembly = [AppDomain]::CurrentDomain.GetAssemblies() | Where-Object { $_.GetName().Name -eq 'FluxForensics.Core' } | Select-Object -First 1
        $t = $assembly.GetType("FluxForensics.Model.$Type", $true)
        $o = [Activator]::CreateInstance($t, $true)
        foreach ($k in $Values.Keys) { $t.GetProperty($k).GetSetMethod($true).Invoke($o, @(, $Values[$k])) | Out-Null }
        $o
    }

    $script:findings = @(
        foreach ($i in 1..30) {
            New-Finding RelaySession @{ Protocol = 'Smtp'; Client = "203.0.113.$($i % 5 + 1)"; Relay = '140.127.1.77'; Server = "198.51.100.$i"; ServerPort = 25 }
        }
        New-Finding RelaySession @{ Protocol = 'Ftp'; Client = '203.0.113.1'; Relay = '140.127.1.77'; Server = '192.0.2.21'; ServerPort = 21 }
        foreach ($i in 1..4) {
            New-Finding FluxDownload @{ Client = "203.0.113.$i"; Relay = '140.127.1.77'; Server = "192.0.2.$(40 + $i)"; FileName = "m$i.exe" }
        }
        New-Finding FluxDownload @{ Client = '140.127.1.77'; Server = '192.0.2.99'; FileName = 'update.exe' }
        New-Finding ExposedCredential @{ Protocol = 'Ftp'; Client = '203.0.113.1'; Server = '192.0.2.21'; Account = 'bob'; Accepted = [Nullable[bool]]$true }
        New-Finding FluxDomain @{ Domain = 'flux.example'; Addresses = [string[]]@('203.0.113.1', '203.0.113.2', '203.0.113.3'); IsFastFlux = $true }
        New-Finding DnsProxy @{ Address = '140.127.1.77'; ClientCount = 12; RiskScore = 90 }
        New-Finding DnsProxy @{ Address = '140.127.1.1'; ClientCount = 1; RiskScore = 10 }
    )
}

Describe 'ConvertTo-FluxGraph' {
    It 'writes DOT that Graphviz renders without error' {
        $dot = Get-Command dot -CommandType Application -ErrorAction SilentlyContinue | Select-Object -First 1
        if (-not $dot) { Set-ItResult -Skipped -Because 'Graphviz (Debian package graphviz) is not installed: no dot to render with'; return }
        $text = $findings | ConvertTo-FluxGraph
        $text | Should -Match '^digraph FluxRelay \{'
        $svg = Join-Path ([IO.Path]::GetTempPath()) ("fluxgraph-" + [guid]::NewGuid().ToString('n') + '.svg')
        try {
            $err = $text | & $dot.Source -Tsvg -o $svg 2>&1
            $LASTEXITCODE | Should -Be 0 -Because ($err | Out-String)
            (Get-Content -Raw -LiteralPath $svg) | Should -Match '<svg'
            (Get-Content -Raw -LiteralPath $svg) | Should -Match '140\.127\.1\.77'
        }
        finally { if (Test-Path -LiteralPath $svg) { Remove-Item -LiteralPath $svg } }
    }

    It 'puts counts on edges and folds a crowd of mail servers into one node' {
        $text = $findings | ConvertTo-FluxGraph -MaxNodesPerRole 5
        $text | Should -Match '\+26 more mail servers'
        # 30 SMTP sessions leave the relay; every one is counted on the (folded) edges.
        $counts = [regex]::Matches($text, '-> n\d+ \[label="(\d+) SMTP"') | ForEach-Object { [int]$_.Groups[1].Value }
        ($counts | Measure-Object -Sum).Sum | Should -Be 60   # 30 bot->relay + 30 relay->server
        # 4 relayed EXEs (malware host -> relay -> bot) and the host's own download (update server -> host).
        $exe = [regex]::Matches($text, 'label="(\d+) EXE"') | ForEach-Object { [int]$_.Groups[1].Value }
        ($exe | Measure-Object -Sum).Sum | Should -Be 9
        $text | Should -Match 'DNS proxy for 12 clients'
        $text | Should -Not -Match '140\.127\.1\.1"'          # a Low-scored resolver is not drawn as a relay
        $text | Should -Match 'flux\.example'
    }

    It 'writes Mermaid' {
        $text = $findings | ConvertTo-FluxGraph -Format Mermaid
        $text | Should -Match '^flowchart LR'
        $text | Should -Match '-->\|"\d+ SMTP"\|'
        $text | Should -Match 'subgraph MalwareHost\["Malware hosts"\]'
    }

    It 'writes SVG drawn by the module itself: well-formed XML, layered by role, folded like DOT' {
        $text = $findings | ConvertTo-FluxGraph -Format Svg -MaxNodesPerRole 5
        $settings = [System.Xml.XmlReaderSettings]@{ DtdProcessing = 'Prohibit'; XmlResolver = $null }
        $reader = [System.Xml.XmlReader]::Create([System.IO.StringReader]::new($text), $settings)
        $doc = [System.Xml.XmlDocument]::new()
        try { $doc.Load($reader) } finally { $reader.Dispose() }
        $doc.DocumentElement.LocalName | Should -Be 'svg'
        $doc.DocumentElement.NamespaceURI | Should -Be 'http://www.w3.org/2000/svg'
        $ns = [System.Xml.XmlNamespaceManager]::new($doc.NameTable)
        $ns.AddNamespace('s', 'http://www.w3.org/2000/svg')
        $tspans = @($doc.SelectNodes('//s:tspan', $ns) | ForEach-Object InnerText)
        $tspans | Should -Contain '+26 more mail servers'
        $tspans | Should -Contain 'DNS proxy for 12 clients'
        # Edge labels add up as in DOT: 30 bot->relay + 30 relay->server SMTP conversations, 9 EXE transfers.
        $labels = @($doc.SelectNodes("//s:text[@class='fg-edge-label']", $ns) | ForEach-Object InnerText)
        ($labels | Where-Object { $_ -match ' SMTP$' } | ForEach-Object { [int]($_ -split ' ')[0] } | Measure-Object -Sum).Sum | Should -Be 60
        ($labels | Where-Object { $_ -match ' EXE$' } | ForEach-Object { [int]($_ -split ' ')[0] } | Measure-Object -Sum).Sum | Should -Be 9
        # Layers: the relay right of the bots, the mail servers right of the relay, flux names left of the bots.
        $x = { param($role) [double]($doc.SelectSingleNode("//s:g[@class='fg-node fg-$role']/s:rect", $ns).GetAttribute('x')) }
        (& $x FluxDomain) | Should -BeLessThan (& $x Bot)
        (& $x Bot) | Should -BeLessThan (& $x Relay)
        (& $x Relay) | Should -BeLessThan (& $x MailServer)
        ($findings | ConvertTo-FluxGraph -Format Svg -MaxNodesPerRole 5) | Should -Be $text   # deterministic
    }

    It 'draws deserialized findings (Export-Clixml / Import-Clixml) the same as live ones' {
        $file = Join-Path ([IO.Path]::GetTempPath()) ("fluxgraph-" + [guid]::NewGuid().ToString('n') + '.xml')
        try {
            $findings | Export-Clixml -LiteralPath $file
            $back = Import-Clixml -LiteralPath $file
            $back[0].PSObject.TypeNames[0] | Should -Be 'Deserialized.FluxForensics.Model.RelaySession'
            ($back | ConvertTo-FluxGraph) | Should -Be ($findings | ConvertTo-FluxGraph)
            ($back | ConvertTo-FluxGraph -Format Svg) | Should -Be ($findings | ConvertTo-FluxGraph -Format Svg)
        }
        finally { if (Test-Path -LiteralPath $file) { Remove-Item -LiteralPath $file } }
    }

    It 'warns when nothing drawable came in' {
        $out = Get-Date | ConvertTo-FluxGraph -WarningVariable w -WarningAction SilentlyContinue
        $w | Should -Not -BeNullOrEmpty
        $out | Should -Match 'digraph'
    }
}

Describe 'Relay findings of Invoke-PcapFluxAnalysis on the incident sample' {
    BeforeAll {
        $script:sample = Join-Path (Get-FluxSamplePath) 'incident.pcapng'
        if (Test-Path -LiteralPath $sample) {
            try { $script:analysis = @(Invoke-PcapFluxAnalysis -LiteralPath $sample -WarningAction SilentlyContinue -ErrorAction Stop) }
            catch { $script:analysisError = $_ }
        }
    }

    It 'reports relayed SMTP sessions to many mail servers, with the relay inferred' {
        if (-not (Test-Path -LiteralPath $sample)) { Set-ItResult -Skipped -Because "the sample $sample was not generated (build.ps1 Samples)"; return }
        if ($analysisError) { Set-ItResult -Skipped -Because "Invoke-PcapFluxAnalysis did not run: $($analysisError.Exception.Message)"; return }
        $smtp = @($analysis | Where-Object { $_.Kind -eq 'RelaySession' -and $_.Protocol -eq 'Smtp' })
        $smtp.Count | Should -BeGreaterThan 20
        @($smtp.Relay | Sort-Object -Unique) | Should -Be @('140.127.1.77')
        @($smtp.Server | Sort-Object -Unique).Count | Should -BeGreaterThan 20
        # Every accepted login went on to send phishing mail with URLs; refused ones stopped there.
        @($smtp | Where-Object { $_.Accepted -and $_.Urls.Count -eq 0 }).Count | Should -Be 0
        @($smtp | Where-Object { $_.Accepted -eq $false }).Count | Should -BeGreaterThan 0
        @($smtp | Where-Object { $_.Account }).Count | Should -Be $smtp.Count
        $smtp[0].PairingEvidence | Should -Match 'identical'
        $smtp[0].Secret | Should -Be '********'
    }

    It 'reports the ten distinct EXEs from four upstream servers with the bot as client' {
        if (-not (Test-Path -LiteralPath $sample)) { Set-ItResult -Skipped -Because "the sample $sample was not generated (build.ps1 Samples)"; return }
        if ($analysisError) { Set-ItResult -Skipped -Because "Invoke-PcapFluxAnalysis did not run: $($analysisError.Exception.Message)"; return }
        $relayed = @($analysis | Where-Object { $_.Kind -eq 'FluxDownload' -and $_.Relay -eq '140.127.1.77' })
        @($relayed.Sha256 | Sort-Object -Unique).Count | Should -Be 10
        @($relayed.Server | Sort-Object -Unique).Count | Should -Be 4
        $relayed.Client | Should -Not -Contain '140.127.1.77'
        @($relayed | Where-Object Account -eq 'infected').Count | Should -Be $relayed.Count
    }

    It 'lists FTP and SMTP logins and the infected:infected account, and calls none of the benign traffic relay' {
        if (-not (Test-Path -LiteralPath $sample)) { Set-ItResult -Skipped -Because "the sample $sample was not generated (build.ps1 Samples)"; return }
        if ($analysisError) { Set-ItResult -Skipped -Because "Invoke-PcapFluxAnalysis did not run: $($analysisError.Exception.Message)"; return }
        $credentials = @($analysis | Where-Object Kind -eq 'ExposedCredential')
        @($credentials | Where-Object Protocol -eq 'Ftp').Count | Should -BeGreaterThan 0
        @($credentials | Where-Object { $_.Protocol -eq 'Http' -and $_.Account -eq 'infected' }).Count | Should -BeGreaterThan 0
        # Benign: the host's own update download, mail submission on 587, browsing.
        $sessions = @($analysis | Where-Object Kind -eq 'RelaySession')
        $sessions | Where-Object { $_.ServerPort -eq 587 } | Should -BeNullOrEmpty
        $own = @($analysis | Where-Object { $_.Kind -eq 'FluxDownload' -and -not $_.Relay })
        $own.Count | Should -Be 1
        $own[0].Client | Should -Be '140.127.1.77'
        @($analysis | Where-Object { $_.Kind -eq 'ExposedCredential' -and $_.ServerPort -eq 587 -and $_.Relay }).Count | Should -Be 0
        ($analysis | ConvertTo-FluxGraph -Format Mermaid) | Should -Match 'Malware hosts'
    }
}
