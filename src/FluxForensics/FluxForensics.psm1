# Loader: Windows PowerShell 5.1 (Desktop) gets the net472 build, PowerShell 7.4+ (Core, on .NET 8 or later) the net8.0 build.
# PowerShell 7.0-7.3 run on .NET Core 3.1, 5, 6 and 7, which the net8.0 build cannot load into: say so instead of
# failing with a type-load error halfway through the import.
if ($PSVersionTable.PSEdition -eq 'Core' -and $PSVersionTable.PSVersion -lt [version]'7.4') {
    throw "FluxForensics needs PowerShell 7.4 or later (it runs on .NET 8), or Windows PowerShell 5.1; this is PowerShell $($PSVersionTable.PSVersion). Install PowerShell 7.4 or later: https://aka.ms/powershell-release?tag=lts"
}
$framework = if ($PSVersionTable.PSEdition -eq 'Core') { 'net8.0' } else { 'net472' }
$binary = Join-Path (Join-Path $PSScriptRoot $framework) 'FluxForensics.dll'
if (-not (Test-Path -LiteralPath $binary)) {
    throw "FluxForensics: the $framework build is missing at '$binary'. Rebuild the module with ./build.ps1 Build."
}
Import-Module -Name $binary -ErrorAction Stop
# Re-export the binary module's cmdlets through this script module; the manifest's CmdletsToExport is the list users get.
Export-ModuleMember -Cmdlet '*'
