# Loader: Windows PowerShell 5.1 (Desktop) gets the net472 build, PowerShell 7 (Core) the net8.0 build.
$framework = if ($PSVersionTable.PSEdition -eq 'Core') { 'net8.0' } else { 'net472' }
$binary = Join-Path (Join-Path $PSScriptRoot $framework) 'FluxForensics.dll'
if (-not (Test-Path -LiteralPath $binary)) {
    throw "FluxForensics: the $framework build is missing at '$binary'. Rebuild the module with ./build.ps1 Build."
}
Import-Module -Name $binary -ErrorAction Stop
# Re-export the binary module's cmdlets through this script module; the manifest's CmdletsToExport is the list users get.
Export-ModuleMember -Cmdlet '*'
