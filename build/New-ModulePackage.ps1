<#
.SYNOPSIS
    Packs the built module into a .nupkg (PSResourceGet's Compress-PSResource), installable with Install-PSResource
    from a local file repository.
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory)] [string] $ModulePath,
    [Parameter(Mandatory)] [string] $Destination
)
$ErrorActionPreference = 'Stop'
Import-Module Microsoft.PowerShell.PSResourceGet -ErrorAction Stop
# Compress-PSResource names the package after the folder it is given: stage as FluxForensics/.
$stage = Join-Path ([System.IO.Path]::GetTempPath()) ("fluxpack-" + [guid]::NewGuid().ToString('n'))
$staged = Join-Path $stage 'FluxForensics'
try {
    New-Item -ItemType Directory -Force -Path $staged | Out-Null
    Copy-Item -Path (Join-Path $ModulePath '*') -Destination $staged -Recurse
    Get-ChildItem -LiteralPath $staged -Recurse -Filter *.pdb | Remove-Item
    Compress-PSResource -Path $staged -DestinationPath $Destination
    if (-not (Get-ChildItem -LiteralPath $Destination -Filter *.nupkg)) { throw "Compress-PSResource wrote no package to $Destination." }
}
finally {
    if (Test-Path -LiteralPath $stage) { Remove-Item -LiteralPath $stage -Recurse -Force }
}
exit 0
