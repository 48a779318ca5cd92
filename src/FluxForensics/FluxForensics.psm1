# Loader: Windows PowerShell 5.1 (Desktop) gets the net472 build, PowerShell 7 (Core) the net8.0 build.
$framework = if ($PSVersionTable.PSEdition -eq 'Core') { 'net8.0' } else { 'net472' }
$binary = Join-Path (Join-Path $PSScriptRoot $framework) 'FluxForensics.dll'
if (-not (Test-Path -LiteralPath $binary)) {
    throw "FluxForensics: the $framework build is missing at '$binary'. Rebuild the module with ./build.ps1 Build."
}
$module = Import-Module -Name $binary -PassThru -ErrorAction Stop
# Re-export the binary module's cmdlets through this script module so the manifest's exports apply.
Export-ModuleMember -Cmdlet $module.ExportedCmdlets.Keys
