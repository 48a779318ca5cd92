#Requires -Version 7.3
# The .nupkg made by `build.ps1 Package` installs with Install-PSResource from a local file repository.

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestSupport.psm1') -Force
    $script:package = Get-ChildItem -LiteralPath (Join-Path (Get-FluxRoot) 'out/package') -Filter 'FluxForensics.*.nupkg' -ErrorAction SilentlyContinue | Select-Object -First 1
}

Describe 'FluxForensics package' {
    It 'installs with Install-PSResource from a local repository and imports by name in a fresh process' {
        if (-not $package) { Set-ItResult -Skipped -Because 'no package in out/package: run build.ps1 Package (the Test task does)'; return }
        $sandbox = New-FluxTempDirectory 'flux-psresource'
        try {
            # PSResourceGet keeps its repository list where .NET's LocalApplicationData points: a unique name,
            # unregistered afterwards, leaves nothing behind even if that is a shared folder.
            $repository = 'FluxLocal' + [guid]::NewGuid().ToString('n').Substring(0, 8)
            # A private data folder for PSResourceGet's repository list and a private module path: nothing leaks into the user's setup.
            $script = @"
`$ErrorActionPreference = 'Stop'
# Where PSResourceGet keeps its repository list in this process: it must be the sandbox, never a relative path.
"STORE=`$(Join-Path ([Environment]::GetFolderPath('LocalApplicationData')) 'PSResourceGet')"
Register-PSResourceRepository -Name $repository -Uri '$($package.DirectoryName)' -Trusted
try {
    Install-PSResource -Name FluxForensics -Repository $repository -Scope CurrentUser -TrustRepository -Quiet
    Import-Module FluxForensics -ErrorAction Stop
    `$m = Get-Module FluxForensics
    "VERSION=`$(`$m.Version)"
    "PATH=`$(`$m.ModuleBase)"
    "CMDLETS=`$((`$m.ExportedCmdlets.Keys | Sort-Object) -join ',')"
}
finally {
    Unregister-PSResourceRepository -Name $repository
}
"@
            # .NET answers LocalApplicationData with an empty string while XDG_DATA_HOME does not exist yet, and
            # PSResourceGet then writes PSResourceGet/PSResourceRepository.xml relative to the current directory (that is
            # how one once landed in the repository): the folders exist before PowerShell starts.
            foreach ($folder in 'data', 'config', 'cache') { New-Item -ItemType Directory -Force -Path (Join-Path $sandbox $folder) | Out-Null }
            $environment = @{ HOME = $sandbox; XDG_DATA_HOME = (Join-Path $sandbox 'data'); XDG_CONFIG_HOME = (Join-Path $sandbox 'config'); XDG_CACHE_HOME = (Join-Path $sandbox 'cache'); DOTNET_CLI_HOME = [Environment]::GetFolderPath('UserProfile'); PSModulePath = (Join-Path $sandbox '.local/share/powershell/Modules') }
            $r = Invoke-FluxFreshPwsh -NoModule -Script $script -Environment $environment -TimeoutSeconds 180
            $r.ExitCode | Should -Be 0 -Because "$($r.Output) $($r.Error)"
            $r.Output | Should -Match 'VERSION=\d+\.\d+\.\d+'
            $r.Output | Should -Match "PATH=$([regex]::Escape($sandbox))"
            $r.Output | Should -Match 'CMDLETS=.*Get-FluxListener.*Invoke-PcapFluxAnalysis'
            # The repository list went to the sandbox's data folder, not to a PSResourceGet folder beside the tests.
            $r.Output | Should -Match "STORE=$([regex]::Escape((Join-Path $sandbox 'data/PSResourceGet')))"
            Test-Path -LiteralPath (Join-Path $sandbox 'data/PSResourceGet/PSResourceRepository.xml') | Should -BeTrue
            Test-Path -LiteralPath (Join-Path (Get-FluxRoot) 'PSResourceGet') | Should -BeFalse
            Test-Path -LiteralPath (Join-Path (Get-Location).ProviderPath 'PSResourceGet') | Should -BeFalse
        }
        finally {
            Remove-FluxTempDirectory $sandbox
        }
    }

    It 'carries the third-party notices: every shipped library with its licence text' {
        if (-not $package) { Set-ItResult -Skipped -Because 'no package in out/package: run build.ps1 Package (the Test task does)'; return }
        Add-Type -AssemblyName System.IO.Compression.FileSystem
        $zip = [System.IO.Compression.ZipFile]::OpenRead($package.FullName)
        try {
            $entry = $zip.Entries | Where-Object FullName -eq 'THIRD-PARTY-NOTICES.txt'
            $entry | Should -Not -BeNullOrEmpty -Because 'the notices sit at the package root beside LICENSE'
            $reader = [System.IO.StreamReader]::new($entry.Open())
            try { $notices = $reader.ReadToEnd() } finally { $reader.Dispose() }
            $shipped = @($zip.Entries | Where-Object { $_.FullName -match '^(net472|net8\.0)/' -and $_.Name -like '*.dll' } | ForEach-Object { [System.IO.Path]::GetFileNameWithoutExtension($_.Name) } | Sort-Object -Unique)
        }
        finally {
            $zip.Dispose()
        }
        $notices | Should -Match '(?m)^PacketDotNet \S+ .*\r?\n\s+Licence:\s+MPL-2\.0'
        $notices | Should -Match '(?m)^MaxMind\.Db \S+ .*\r?\n\s+Licence:\s+Apache-2\.0'
        $notices | Should -Match '(?m)^SharpPcap \S+ .*\r?\n\s+Licence:\s+MIT'
        $notices | Should -Match 'Mozilla Public License Version 2\.0'
        $notices | Should -Match 'Apache License\s+Version 2\.0'
        foreach ($dll in $shipped | Where-Object { $_ -notlike 'FluxForensics*' }) {
            $notices | Should -Match "(?m)^$([regex]::Escape($dll)) " -Because "$dll.dll ships in the package"
        }
    }
}
