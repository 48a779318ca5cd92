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
            # PSResourceGet keeps its repository list where .NET's LocalApplicationData points (on some hosts a shared
            # folder under /tmp): a unique name, unregistered afterwards, leaves nothing behind.
            $repository = 'FluxLocal' + [guid]::NewGuid().ToString('n').Substring(0, 8)
            # A private data folder for PSResourceGet's repository list and a private module path: nothing leaks into the user's setup.
            $script = @"
`$ErrorActionPreference = 'Stop'
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
            $environment = @{ HOME = $sandbox; XDG_DATA_HOME = (Join-Path $sandbox 'data'); XDG_CONFIG_HOME = (Join-Path $sandbox 'config'); XDG_CACHE_HOME = (Join-Path $sandbox 'cache'); DOTNET_CLI_HOME = [Environment]::GetFolderPath('UserProfile'); PSModulePath = (Join-Path $sandbox '.local/share/powershell/Modules') }
            $r = Invoke-FluxFreshPwsh -NoModule -Script $script -Environment $environment -TimeoutSeconds 180
            $r.ExitCode | Should -Be 0 -Because "$($r.Output) $($r.Error)"
            $r.Output | Should -Match 'VERSION=\d+\.\d+\.\d+'
            $r.Output | Should -Match "PATH=$([regex]::Escape($sandbox))"
            $r.Output | Should -Match 'CMDLETS=.*Get-FluxListener.*Invoke-PcapFluxAnalysis'
        }
        finally {
            Remove-FluxTempDirectory $sandbox
        }
    }
}
