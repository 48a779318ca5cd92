#Requires -Version 7.3
# What a new user meets at the prompt: online help links, the defaults and wildcard flags Get-Help shows, and tab
# completion of interfaces, mounted volumes and quarantine ids.

BeforeDiscovery {
    Import-Module (Join-Path $PSScriptRoot 'TestSupport.psm1') -Force
    $manifestData = Import-PowerShellDataFile -LiteralPath (Get-FluxManifestPath)
    $script:cmdletCases = @($manifestData.CmdletsToExport | ForEach-Object { @{ Name = $_ } })
}

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestSupport.psm1') -Force
    $script:module = Import-Module (Get-FluxManifestPath) -PassThru -Force
    $script:manifestData = Import-PowerShellDataFile -LiteralPath (Get-FluxManifestPath)
    $script:common = [System.Management.Automation.PSCmdlet]::CommonParameters + [System.Management.Automation.PSCmdlet]::OptionalCommonParameters

    function Get-Completion([string] $Line) {
        (TabExpansion2 -inputScript $Line -cursorColumn $Line.Length).CompletionMatches
    }
}

Describe 'Online help' {
    It 'the manifest names where the help is published (HelpInfoURI)' {
        $manifestData.HelpInfoURI | Should -Match '^https://'
        $module.HelpInfoUri | Should -Be $manifestData.HelpInfoURI
    }

    It '<Name> has a HelpUri to its docs page, and Get-Help links it' -ForEach $cmdletCases {
        $command = Get-Command $Name -Module FluxForensics
        $command.HelpUri | Should -BeLike "https://*/docs/$Name.md"
        Test-Path -LiteralPath (Join-Path (Get-FluxRoot) "docs/$Name.md") | Should -BeTrue
        $links = @((Get-Help $Name -Full).relatedLinks.navigationLink | Where-Object { $_.PSObject.Properties['uri'] -and $_.uri })
        $links[0].uri | Should -Be $command.HelpUri
    }
}

Describe 'Defaults and wildcards in the generated help' {
    It '<Name> shows every parameter''s real default, not None for all' -ForEach $cmdletCases {
        $command = Get-Command $Name -Module FluxForensics
        $instance = [Activator]::CreateInstance($command.ImplementingType)
        foreach ($p in $command.Parameters.Values | Where-Object { $_.Name -notin $common }) {
            $help = Get-Help $Name -Parameter $p.Name
            if ($p.ParameterType -eq [switch]) {
                $help.defaultValue | Should -Be 'False' -Because "-$($p.Name) is a switch"
                continue
            }
            $initial = $instance.($p.Name)
            $zero = if ($p.ParameterType.IsValueType) { [Activator]::CreateInstance($p.ParameterType) } else { $null }
            if ($null -ne $initial -and $initial -isnot [array] -and $initial -ne $zero) {
                # A compiled initial value other than the type's zero must be what the help says.
                $help.defaultValue | Should -Be ([string]$initial) -Because "-$($p.Name) starts as $initial"
            }
            $help.defaultValue | Should -Not -BeNullOrEmpty
        }
    }

    It 'shows the defaults whose meaning the docs give' {
        (Get-Help ConvertTo-FluxGraph -Parameter MaxNodesPerRole).defaultValue | Should -Be '12'
        (Get-Help ConvertTo-FluxGraph -Parameter Format).defaultValue | Should -Be 'Dot'
        (Get-Help Find-UsbLnkTrap -Parameter AnsiCodePage).defaultValue | Should -Be '1252'
        (Get-Help Remove-FluxInfection -Parameter QuarantinePath).defaultValue | Should -BeLike '*/var/lib/fluxforensics*'
        (Get-Help Get-SuspiciousAutorun -Parameter Root).defaultValue | Should -BeLike '*live machine*'
        (Get-Help Invoke-PcapFluxAnalysis -Parameter Duration).defaultValue | Should -BeLike '*Ctrl+C*'
        # The "Default value:" line is the default, not part of the description.
        (Get-Help Remove-FluxInfection -Parameter QuarantinePath).description.Text | Should -Not -Match 'Default value:'
    }

    It 'marks the parameters that take wildcards, in the code and in the help' -ForEach @(
        @{ Command = 'Get-FluxQuarantine'; Parameter = 'Id' }
        @{ Command = 'Get-FluxListener'; Parameter = 'ExpectedListener' }
        @{ Command = 'Find-UsbLnkTrap'; Parameter = 'Path' }
        @{ Command = 'Invoke-PcapFluxAnalysis'; Parameter = 'Path' }
    ) {
        $p = (Get-Command $Command -Module FluxForensics).Parameters[$Parameter]
        @($p.Attributes | Where-Object { $_ -is [System.Management.Automation.SupportsWildcardsAttribute] }).Count | Should -Be 1
        (Get-Help $Command -Parameter $Parameter).globbing | Should -Be 'true'
    }

    It 'does not mark literal parameters as taking wildcards' -ForEach @(
        @{ Command = 'Find-UsbLnkTrap'; Parameter = 'LiteralPath' }
        @{ Command = 'Invoke-PcapFluxAnalysis'; Parameter = 'LiteralPath' }
        @{ Command = 'Restore-FluxQuarantine'; Parameter = 'Id' }
    ) {
        (Get-Help $Command -Parameter $Parameter).globbing | Should -Be 'false'
    }
}

Describe 'Tab completion' {
    It 'completes -Root with mounted volumes and leaves out pseudo file systems' {
        $matches = @(Get-Completion 'Get-SuspiciousAutorun -Root ')
        if ($IsWindows) {
            $matches.CompletionText | Should -Contain ([System.IO.Path]::GetPathRoot($env:SystemRoot))
        }
        else {
            $matches.CompletionText | Should -Contain '/'
            $matches.CompletionText | Should -Not -Contain '/proc'
            $matches.CompletionText | Should -Not -Contain '/sys'
        }
    }

    It 'completes -Root with a freshly mounted NTFS volume' {
        $skip = if (-not $IsLinux) { 'the mount is made with ntfs-3g on Linux' } elseif (-not (Test-FluxIsRoot)) { 'mounting needs root' } elseif (-not (Test-Path /dev/fuse)) { 'no /dev/fuse for ntfs-3g' } elseif (-not (Get-Command mkntfs -ErrorAction SilentlyContinue)) { 'mkntfs is missing (apt package ntfs-3g)' }
        if ($skip) { Set-ItResult -Skipped -Because $skip; return }
        $temp = New-FluxTempDirectory 'flux-complete-root'
        $mount = Join-Path $temp 'volume with space'
        try {
            New-Item -ItemType Directory -Path $mount | Out-Null
            & truncate -s 16M (Join-Path $temp 'ntfs.img')
            & mkntfs -F -Q -q (Join-Path $temp 'ntfs.img') 2>&1 | Out-Null
            & ntfs-3g (Join-Path $temp 'ntfs.img') $mount 2>&1 | Out-Null
            $LASTEXITCODE | Should -Be 0
            $matches = @(Get-Completion "Get-SuspiciousAutorun -Root $temp")
            $matches.ListItemText | Should -Contain $mount
            # A path with a space comes back quoted so it binds as one argument.
            ($matches | Where-Object ListItemText -eq $mount).CompletionText | Should -Be "'$mount'"
        }
        finally {
            & umount $mount 2>&1 | Out-Null
            if (& findmnt -n $mount) { & umount -l $mount 2>&1 | Out-Null }
            Remove-FluxTempDirectory $temp
        }
    }

    It 'completes -InterfaceName with the live capture interfaces' {
        $available = try { @([FluxForensics.Capture.LiveCapture]::GetInterfaces()) } catch { $null }
        if ($null -eq $available) { Set-ItResult -Skipped -Because 'libpcap is not installed (apt package libpcap0.8)'; return }
        if ($available.Count -eq 0) { Set-ItResult -Skipped -Because 'libpcap lists no interface to this user (capturing needs root or CAP_NET_RAW)'; return }
        $matches = @(Get-Completion 'Invoke-PcapFluxAnalysis -InterfaceName ')
        foreach ($i in $available) { $matches.ListItemText | Should -Contain $i.Name }
        $first = $available[0].Name
        @(Get-Completion "Invoke-PcapFluxAnalysis -InterfaceName $($first.Substring(0, 1))").ListItemText | Should -Contain $first
    }

    Context 'quarantine ids and run ids from the store' {
        BeforeAll {
            $script:temp = New-FluxTempDirectory 'flux-complete-store'
            $script:store = Join-Path $temp 'store'
            $script:skip = if (-not (Test-FluxFixtureCommand 'usb-trap')) { 'the usb-trap fixture is not built' }
            if (-not $skip) {
                $stick = Join-Path $temp 'stick'
                New-Item -ItemType Directory -Path $stick | Out-Null
                Invoke-FluxFixture -Name 'usb-trap' -Arguments @($stick, '--no-attributes') | Out-Null
                Find-UsbLnkTrap -Path $stick -WarningAction SilentlyContinue | Remove-FluxInfection -QuarantinePath $store -Confirm:$false -ErrorAction SilentlyContinue -WarningAction SilentlyContinue
                $script:items = @(Get-FluxQuarantine -QuarantinePath $store -All)
                if ($items.Count -eq 0) { $script:skip = "Remove-FluxInfection put nothing into $store" }
            }
        }
        AfterAll { Remove-FluxTempDirectory $temp }
        BeforeEach { if ($skip) { Set-ItResult -Skipped -Because $skip } }

        It 'completes -RunId of Restore-FluxQuarantine and Get-FluxQuarantine' {
            $runs = @($items.RunId | Sort-Object -Unique)
            foreach ($command in 'Restore-FluxQuarantine', 'Get-FluxQuarantine') {
                $matches = @(Get-Completion "$command -QuarantinePath '$store' -RunId ")
                @($matches.CompletionText | Sort-Object) | Should -Be $runs
            }
        }

        It 'completes -Id with the items the store holds, narrowed by what is typed' {
            $matches = @(Get-Completion "Restore-FluxQuarantine -QuarantinePath '$store' -Id ")
            @($matches.CompletionText | Sort-Object) | Should -Be @($items.QuarantineId | Sort-Object -Unique)
            $last = $items[-1].QuarantineId
            @(Get-Completion "Get-FluxQuarantine -QuarantinePath '$store' -Id $last").CompletionText | Should -Be @($last)
            ($matches | Where-Object CompletionText -eq $last).ToolTip | Should -BeLike "*$($items[-1].OriginalPath)*"
        }

        It 'offers no quarantine id for a store that does not exist' {
            # With nothing from the completer PowerShell falls back to file names: none of them is an id of this store.
            $offered = @(Get-Completion "Get-FluxQuarantine -QuarantinePath '$temp/none' -Id ").CompletionText
            foreach ($id in $items.QuarantineId) { $offered | Should -Not -Contain $id }
        }
    }
}
