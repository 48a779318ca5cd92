#Requires -Version 5.1
# The module as a user gets it: manifest, exports, help, and the finding model across Export-Clixml and JSON.

BeforeDiscovery {
    Import-Module (Join-Path $PSScriptRoot 'TestSupport.psm1') -Force
    $manifestData = Import-PowerShellDataFile -LiteralPath (Get-FluxManifestPath)
    $script:cmdletCases = @($manifestData.CmdletsToExport | ForEach-Object { @{ Name = $_ } })
    $script:modelCases = @(
        'FluxListener', 'SuspiciousAutorun', 'UsbLnkTrap', 'DnsProxy', 'FluxDomain', 'RelaySession', 'FluxDownload',
        'ExposedCredential', 'CaptureSummary', 'FluxRemediation', 'FluxQuarantineItem', 'FluxIncident', 'FluxCorrelation', 'FluxReputation'
    ) | ForEach-Object { @{ Type = $_ } }
}

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestSupport.psm1') -Force
    $script:manifestPath = Get-FluxManifestPath
    $script:module = Import-Module $manifestPath -PassThru -Force

    # Fills every settable property of a model type with a distinctive value, so a property lost in serialization is noticed.
    function New-SampleFinding([string] $Type) {
        $assembly = Get-FluxCoreAssembly
        $t = $assembly.GetType("FluxForensics.Model.$Type", $true)
        $values = @{}
        $i = 0
        foreach ($p in $t.GetProperties() | Where-Object { $_.GetSetMethod($true) }) {
            $i++
            $pt = $p.PropertyType
            $under = [Nullable]::GetUnderlyingType($pt); if ($under) { $pt = $under }
            $value = switch ($pt.FullName) {
                'System.String' { if ($p.Name -eq 'ComputerName') { [Environment]::MachineName } else { "$($p.Name)-value" } }
                'System.Int32' { 40 + $i }
                'System.Int64' { [long](1000 + $i) }
                'System.Double' { 12.5 + $i }
                'System.Boolean' { $true }
                'System.DateTime' { [DateTime]::new(2012, 5, 14, 9, $i % 60, 7, [DateTimeKind]::Utc) }
                'System.String[]' { @("$($p.Name)-1", "$($p.Name)-2") }
                'System.Int32[]' { [int[]](25, 80) }
                'FluxForensics.Model.FindingReason[]' {
                    $r = [Activator]::CreateInstance($assembly.GetType('FluxForensics.Model.FindingReason'), @('listens on TCP 80', 40))
                    $r2 = [Activator]::CreateInstance($assembly.GetType('FluxForensics.Model.FindingReason'), @('hidden image', 25))
                    $arr = [Array]::CreateInstance($assembly.GetType('FluxForensics.Model.FindingReason'), 2); $arr[0] = $r; $arr[1] = $r2; $arr
                }
                'FluxForensics.Model.ParseIssue[]' {
                    $pi = [Activator]::CreateInstance($assembly.GetType('FluxForensics.Model.ParseIssue'), @('capture.pcapng', [long]4096, 'truncated record', 'pcapng block'))
                    $arr = [Array]::CreateInstance($assembly.GetType('FluxForensics.Model.ParseIssue'), 1); $arr[0] = $pi; $arr
                }
                'FluxForensics.Model.Severity' { [Enum]::Parse($pt, 'High') }
                default { $null }
            }
            if ($null -ne $value) { $values[$p.Name] = $value }
        }
        New-FluxFinding -Type $Type -Property $values
    }

    function ConvertTo-ComparableText($value) {
        if ($null -eq $value) { return '<null>' }
        # A deserialized enum is its number wrapped with the name it had: compare names.
        if ($value -is [Enum]) { return "$value" }
        if ($value.PSObject.TypeNames -contains 'Deserialized.System.Enum') { return $value.PSObject.ToString() }
        if ($value -is [DateTime]) { return $value.ToUniversalTime().ToString('o') }
        if ($value -is [System.Collections.IEnumerable] -and $value -isnot [string]) { return (@($value | ForEach-Object { ConvertTo-ComparableText $_ }) -join '|') }
        $members = @($value.PSObject.Properties | Where-Object MemberType -in 'Property', 'NoteProperty')
        if ($value.GetType().FullName -like 'FluxForensics.Model.*' -or ($value.PSObject.TypeNames | Select-Object -First 1) -like 'Deserialized.FluxForensics.Model.*') {
            return (@($members | Sort-Object Name | ForEach-Object { "$($_.Name)=$($_.Value)" }) -join ';')
        }
        "$value"
    }
}

Describe 'FluxForensics manifest' {
    It 'is a valid manifest for Desktop and Core editions on 5.1+ and .NET Framework 4.7.2' {
        $m = Test-ModuleManifest -Path $manifestPath
        $m.CompatiblePSEditions | Should -Be @('Desktop', 'Core')
        $m.PowerShellVersion | Should -Be ([version]'5.1')
        $m.DotNetFrameworkVersion | Should -Be ([version]'4.7.2')
        $m.PrivateData.PSData.ProjectUri | Should -Not -BeNullOrEmpty
        $m.PrivateData.PSData.LicenseUri | Should -Not -BeNullOrEmpty
        $m.PrivateData.PSData.Tags | Should -Contain 'Forensics'
    }

    It 'exports exactly the cmdlets it lists, and no functions or aliases' {
        $data = Import-PowerShellDataFile -LiteralPath $manifestPath
        $data.FunctionsToExport | Should -BeNullOrEmpty
        $data.AliasesToExport | Should -BeNullOrEmpty
        @($module.ExportedCmdlets.Keys | Sort-Object) | Should -Be @($data.CmdletsToExport | Sort-Object)
        $data.CmdletsToExport | Should -Contain 'Get-FluxListener'
        $data.CmdletsToExport | Should -Contain 'Invoke-PcapFluxAnalysis'
    }

    It 'ships both builds with the loader, and never ships PowerShell''s own assemblies' {
        $folder = Get-FluxModulePath
        Join-Path $folder 'net8.0/FluxForensics.dll' | Should -Exist
        Join-Path $folder 'net472/FluxForensics.dll' | Should -Exist
        Join-Path $folder 'net472/System.Memory.dll' | Should -Exist
        @(Get-ChildItem -LiteralPath $folder -Recurse -Filter 'System.Management.Automation.dll') | Should -HaveCount 0
    }

    It 'loads the net8.0 build on PowerShell 7' -Skip:($PSVersionTable.PSEdition -ne 'Core') {
        $assembly = [AppDomain]::CurrentDomain.GetAssemblies() | Where-Object { $_.GetName().Name -eq 'FluxForensics' } | Select-Object -First 1
        $assembly.Location | Should -BeLike '*net8.0*'
    }

    It 'has a default view for every output type, keyed on the live and the deserialized type name' {
        foreach ($type in 'FluxListener', 'SuspiciousAutorun', 'UsbLnkTrap', 'DnsProxy', 'FluxDomain', 'RelaySession', 'FluxDownload', 'ExposedCredential', 'CaptureSummary', 'FluxRemediation', 'FluxQuarantineItem', 'FluxIncident', 'FluxCorrelation', 'FluxTimelineEvent', 'FluxIncidentHost', 'CorrelationEvidence', 'FluxReputation') {
            $format = Get-FormatData -TypeName "FluxForensics.Model.$type"
            $format | Should -Not -BeNullOrEmpty -Because "$type needs a view"
            Get-FormatData -TypeName "Deserialized.FluxForensics.Model.$type" | Should -Not -BeNullOrEmpty -Because "deserialized $type needs the same view"
        }
    }
}

Describe 'Help for <Name>' -ForEach $cmdletCases {
    BeforeAll {
        $help = Get-Help -Name $Name -Full
        $command = Get-Command -Name $Name
    }

    It 'has a synopsis and a description' {
        $help.Synopsis | Should -Not -BeNullOrEmpty
        $help.Synopsis | Should -Not -BeLike "*$Name *[<]*"   # not the auto-generated syntax line
        ($help.description | Out-String).Trim() | Should -Not -BeNullOrEmpty
    }

    It 'describes every parameter' {
        $common = [System.Management.Automation.PSCmdlet]::CommonParameters + [System.Management.Automation.PSCmdlet]::OptionalCommonParameters
        foreach ($p in $command.Parameters.Keys | Where-Object { $_ -notin $common }) {
            $entry = $help.parameters.parameter | Where-Object name -eq $p
            $entry | Should -Not -BeNullOrEmpty -Because "-$p must be in the help"
            ($entry.description | Out-String).Trim() | Should -Not -BeNullOrEmpty -Because "-$p must be described"
        }
    }

    It 'has at least two examples with code' {
        @($help.examples.example).Count | Should -BeGreaterOrEqual 2
        foreach ($e in $help.examples.example) { $e.code | Should -Not -BeNullOrEmpty }
    }

    It 'declares its output type' {
        $command.OutputType | Should -Not -BeNullOrEmpty
    }
}

Describe 'Finding <Type> survives serialization and keeps its view' -ForEach $modelCases {
    BeforeAll {
        $live = New-SampleFinding $Type
        $file = Join-Path ([System.IO.Path]::GetTempPath()) ("flux-$Type-" + [guid]::NewGuid().ToString('n') + '.xml')
        $live | Export-Clixml -LiteralPath $file
        $imported = Import-Clixml -LiteralPath $file
        Remove-Item -LiteralPath $file
    }

    It 'comes back as Deserialized.FluxForensics.Model.<Type>' {
        $imported.PSObject.TypeNames[0] | Should -Be "Deserialized.FluxForensics.Model.$Type"
    }

    It 'keeps every property, the reasons as objects, and the computer it was found on' {
        foreach ($p in $live.PSObject.Properties | Where-Object MemberType -eq 'Property') {
            ConvertTo-ComparableText $imported.($p.Name) | Should -Be (ConvertTo-ComparableText $p.Value) -Because "$Type.$($p.Name) must survive"
        }
        $imported.ComputerName | Should -Be ([Environment]::MachineName)
        if ($live.PSObject.Properties['Reasons']) {
            $imported.Reasons[0].Reason | Should -Be 'listens on TCP 80'
            $imported.Reasons[0].Points | Should -Be 40
        }
    }

    It 'formats the deserialized copy with the same default view as the live object' {
        ($imported | Format-Table | Out-String -Width 250) | Should -Be ($live | Format-Table | Out-String -Width 250)
    }

    It 'converts to JSON keeping what identifies it (Kind for findings) and its computer' {
        $json = $live | ConvertTo-Json -Depth 4 | ConvertFrom-Json
        $json.ComputerName | Should -Be ([Environment]::MachineName)
        if ($live.GetType().IsSubclassOf($live.GetType().Assembly.GetType('FluxForensics.Model.FluxFinding'))) {
            $json.Kind | Should -Be $Type
        }
    }
}
