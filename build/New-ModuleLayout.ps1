<#
.SYNOPSIS
    Lays out the built module under out/FluxForensics/<version>: manifest (version stamped), loader, views, types,
    the net472 and net8.0 builds (without PowerShell's own assemblies), and MAML help made from docs/*.md.
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory)] [string] $Root,
    [Parameter(Mandatory)] [string] $Configuration,
    [Parameter(Mandatory)] [string] $Destination,
    [Parameter(Mandatory)] [string] $Version
)
$ErrorActionPreference = 'Stop'
$source = Join-Path $Root 'src/FluxForensics'
if (Test-Path -LiteralPath $Destination) { Remove-Item -LiteralPath $Destination -Recurse -Force }
New-Item -ItemType Directory -Force -Path $Destination | Out-Null

$manifest = Get-Content -Raw -LiteralPath (Join-Path $Root 'FluxForensics.psd1')
$manifest = $manifest -replace "ModuleVersion\s*=\s*'[^']*'", "ModuleVersion        = '$Version'"
Set-Content -LiteralPath (Join-Path $Destination 'FluxForensics.psd1') -Value $manifest -Encoding utf8
Copy-Item -LiteralPath (Join-Path $source 'FluxForensics.psm1'), (Join-Path $source 'FluxForensics.types.ps1xml') -Destination $Destination
Copy-Item -LiteralPath (Join-Path $source 'Formats') -Destination $Destination -Recurse
Copy-Item -LiteralPath (Join-Path $Root 'LICENSE') -Destination $Destination

# Never ship PowerShell's own assemblies: the host provides them.
$excluded = @('System.Management.Automation.dll', 'Microsoft.PowerShell.*.dll', 'Microsoft.Management.Infrastructure.dll')
foreach ($framework in 'net472', 'net8.0') {
    $bin = Join-Path $source "bin/$Configuration/$framework"
    if (-not (Test-Path -LiteralPath (Join-Path $bin 'FluxForensics.dll'))) { throw "Missing build output $bin; run dotnet build first." }
    $target = New-Item -ItemType Directory -Force -Path (Join-Path $Destination $framework)
    Get-ChildItem -LiteralPath $bin -File | Where-Object {
        $name = $_.Name
        $_.Extension -in '.dll', '.pdb', '.json' -and -not ($excluded | Where-Object { $name -like $_ })
    } | Copy-Item -Destination $target
    if (Test-Path -LiteralPath (Join-Path $bin 'runtimes')) { Copy-Item -LiteralPath (Join-Path $bin 'runtimes') -Destination $target -Recurse }
}

# Help: the markdown in docs/ becomes MAML beside each build, and about_ topics go to en-US at the module root.
$helpTargets = @((Join-Path $Destination 'net8.0/en-US'), (Join-Path $Destination 'net472/en-US'))
$pwsh = (Get-Process -Id $PID).Path
$prefix = @(if ([System.IO.Path]::GetFileNameWithoutExtension($pwsh) -eq 'dotnet') { 'pwsh' })
& $pwsh @prefix -NoLogo -NoProfile -NonInteractive -File (Join-Path $PSScriptRoot 'New-MamlHelp.ps1') `
    -ModulePath $Destination -DocsPath (Join-Path $Root 'docs') -OutputFolder ($helpTargets -join ';')
if ($LASTEXITCODE) { throw "MAML help generation failed ($LASTEXITCODE)." }
$about = New-Item -ItemType Directory -Force -Path (Join-Path $Destination 'en-US')
foreach ($topic in Get-ChildItem -LiteralPath (Join-Path $Root 'docs') -Filter 'about_*.md') {
    $text = (Get-Content -Raw -LiteralPath $topic.FullName) -replace '(?m)^#+\s*', ''
    Set-Content -LiteralPath (Join-Path $about ($topic.BaseName + '.help.txt')) -Value $text -Encoding utf8
}

# PowerShell 7.4 runs on .NET 8: nothing in the net8.0 build may be newer than .NET 8's own assemblies.
# SharpPcap's net8.0 build references System.Text.Encoding.CodePages 9.0.0.0; the loader answers that with .NET's own.
& (Join-Path $PSScriptRoot 'Test-FrameworkAssemblyVersions.ps1') -Path (Join-Path $Destination 'net8.0') -ResolvedByLoader 'System.Text.Encoding.CodePages'

# Licences of the libraries that ship, from what is in the folders now (the package includes this file).
& (Join-Path $PSScriptRoot 'New-ThirdPartyNotices.ps1') -Root $Root -Destination $Destination
