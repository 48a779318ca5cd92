#Requires -Version 5.1
# Invoke-PcapFluxAnalysis on a folder of rotated files: the incident sample split by editcap -c (a real rotated set)
# analysed through -Path/-LiteralPath naming the folder gives the findings of the whole file.

BeforeDiscovery {
    $script:noEditcap = -not (Get-Command editcap -CommandType Application -ErrorAction SilentlyContinue)
}

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestSupport.psm1') -Force
    Import-Module (Get-FluxManifestPath) -Force
    $script:work = New-FluxTempDirectory 'flux-rotated'
    $script:sample = Join-Path $work 'incident.pcapng'
    Invoke-FluxFixture -Name 'incident-capture' -Arguments @($sample) | Out-Null
    $script:whole = @(Invoke-PcapFluxAnalysis -Path $sample -WarningAction SilentlyContinue)

    # Everything a finding says except where it came from and where and when the analysis ran.
    function script:ConvertTo-FindingText($Findings) {
        @($Findings | Where-Object Kind -ne 'CaptureSummary' | ForEach-Object {
            $_ | Select-Object -Property * -ExcludeProperty Source, ComputerName, ObservedAt | ConvertTo-Json -Depth 6 -Compress
        })
    }

    $script:setDir = Join-Path $work 'rotated'
    New-Item -ItemType Directory -Path $setDir | Out-Null
    if (Get-Command editcap -CommandType Application -ErrorAction SilentlyContinue) {
        & editcap -c 5000 $sample (Join-Path $setDir 'tap.pcapng')
        if ($LASTEXITCODE) { throw "editcap failed ($LASTEXITCODE)" }
    }

    # The set's files in their numbered (and so time) order, before anything else is put in the folder.
    $script:setFiles = @(Get-ChildItem -LiteralPath $setDir -File | Sort-Object Name | ForEach-Object FullName)
    Set-Content -LiteralPath (Join-Path $setDir 'notes.txt') -Value 'rotated by editcap -c 5000'
}

AfterAll {
    Remove-FluxTempDirectory $work
}

Describe 'Invoke-PcapFluxAnalysis on a folder of rotated files' -Skip:$noEditcap {
    It 'gives the findings of the whole capture, reading the files in time order and skipping what is not a capture' {
        $setFiles.Count | Should -BeGreaterOrEqual 5
        $out = @(Invoke-PcapFluxAnalysis -Path $setDir -Verbose -WarningVariable warnings 4>&1)
        $verbose = @($out | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] } | ForEach-Object Message)
        $findings = @($out | Where-Object { $_ -isnot [System.Management.Automation.VerboseRecord] })

        $expected = ConvertTo-FindingText $whole
        $expected.Count | Should -BeGreaterThan 100
        ConvertTo-FindingText $findings | Should -Be $expected

        $summary = $findings[-1]
        $summary.Kind | Should -Be 'CaptureSummary'
        $summary.Files | Should -Be $setFiles
        $summary.PacketCount | Should -Be $whole[-1].PacketCount
        $summary.FirstPacketTime | Should -Be $whole[-1].FirstPacketTime
        $summary.LastPacketTime | Should -Be $whole[-1].LastPacketTime
        $summary.FlowCount | Should -Be $whole[-1].FlowCount
        @($summary.ParseIssues | Where-Object Record -eq 'capture set') | Should -BeNullOrEmpty

        $verbose | Should -Contain "Skipped '$(Join-Path $setDir 'notes.txt')': not a pcap or pcapng file (magic 0x726F7461)."
        @($warnings | Where-Object { "$_" -match 'notes\.txt' }) | Should -BeNullOrEmpty
    }

    It 'reads a folder named by -LiteralPath the same way, and a file named twice once with a warning' {
        $twice = Join-Path $setDir (Split-Path -Leaf $setFiles[2])
        $findings = @(Invoke-PcapFluxAnalysis -LiteralPath $setDir, $twice -WarningVariable warnings -WarningAction SilentlyContinue)
        ConvertTo-FindingText $findings | Should -Be (ConvertTo-FindingText $whole)
        $findings[-1].Files | Should -Be $setFiles
        $warnings | Where-Object { "$_" -like "*the same file as '$($setFiles[2])'*given twice; read once*" } | Should -Not -BeNullOrEmpty
    }

    It 'reports a gap when a file is missing from the middle of the set' {
        $gapDir = Join-Path $work 'gap'
        New-Item -ItemType Directory -Path $gapDir | Out-Null
        $setFiles | Where-Object { $_ -ne $setFiles[2] } | Copy-Item -Destination $gapDir
        $summary = @(Invoke-PcapFluxAnalysis -Path $gapDir -WarningAction SilentlyContinue)[-1]
        $gap = @($summary.ParseIssues | Where-Object Record -eq 'capture set')
        $gap.Count | Should -Be 1
        $gap[0].Message | Should -BeLike "gap: file number 2 is missing from the numbered set between '*$(Split-Path -Leaf $setFiles[1])' *"
    }

    It 'is an error, not an empty analysis, when the folder holds no capture file' {
        $empty = Join-Path $work 'notes-only'
        New-Item -ItemType Directory -Path $empty | Out-Null
        Set-Content -LiteralPath (Join-Path $empty 'readme.md') -Value 'no capture here'
        { Invoke-PcapFluxAnalysis -Path $empty -ErrorAction Stop } | Should -Throw -ErrorId 'CaptureFileNotFound,FluxForensics.Commands.InvokePcapFluxAnalysisCommand'
    }
}
