<#
.SYNOPSIS
    Runs the Pester suite in this (fresh) process against the built module and writes the counts as JSON.
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory)] [string] $ModulePath,
    [Parameter(Mandatory)] [string] $ResultPath,
    [string] $FullNameFilter = ''
)
$ErrorActionPreference = 'Stop'
# Plain text, so failure messages carry no escape codes into the result files.
if ($PSVersionTable.PSVersion.Major -ge 7) { $PSStyle.OutputRendering = 'PlainText' }
$env:NO_COLOR = '1'
$root = Split-Path -Parent $PSScriptRoot
$packages = if ($env:NUGET_PACKAGES) { $env:NUGET_PACKAGES } else { Join-Path ([Environment]::GetFolderPath('UserProfile')) '.nuget/packages' }
# The Pester version is the one build/tools.proj downloads (the only place it is written).
[xml] $tools = Get-Content -Raw -LiteralPath (Join-Path $root 'build/tools.proj')
$pesterVersion = $tools.SelectSingleNode("//PackageDownload[@Include='Pester']").GetAttribute('Version').Trim('[', ']')
Import-Module (Join-Path $packages "pester/$pesterVersion/tools/Pester.psd1") -Force

# The tests find the built module and the fixtures through these.
$env:FLUXFORENSICS_MODULE = (Resolve-Path -LiteralPath $ModulePath).Path
$env:FLUXFORENSICS_ROOT = $root

$config = New-PesterConfiguration
$config.Run.Path = Join-Path $root 'tests/FluxForensics.Tests'
$config.Run.PassThru = $true
$config.Output.Verbosity = 'Detailed'
$config.TestResult.Enabled = $true
$config.TestResult.OutputPath = [System.IO.Path]::ChangeExtension($ResultPath, '.xml')
$config.TestResult.OutputFormat = 'NUnitXml'
if ($FullNameFilter) { $config.Filter.FullName = $FullNameFilter }

$run = Invoke-Pester -Configuration $config
$skips = @($run.Skipped | ForEach-Object {
        $reason = if ($_.ErrorRecord) { ($_.ErrorRecord | Select-Object -First 1).Exception.Message } else { '' }
        "$($_.ExpandedPath): $reason"
    })
$failures = @($run.Failed | ForEach-Object {
        $message = ($_.ErrorRecord | Select-Object -First 1).Exception.Message
        if (-not $message -and $_.Block.ErrorRecord) { $message = 'setup failed: ' + ($_.Block.ErrorRecord | Select-Object -First 1).Exception.Message }
        "$($_.ExpandedPath): $message"
    })
# Failures in BeforeAll/AfterAll blocks fail containers, not tests: count them too so nothing fails silently.
$containerFailures = @($run.Containers | Where-Object { $_.Result -eq 'Failed' -and $_.FailedCount -eq 0 } | ForEach-Object { "$($_.Item): container failed: $(($_.ErrorRecord | Select-Object -First 1).Exception.Message)" })
[pscustomobject]@{
    Passed   = $run.PassedCount
    Failed   = $run.FailedCount + $containerFailures.Count
    Skipped  = $run.SkippedCount
    Skips    = $skips
    Failures = @($failures) + @($containerFailures)
} | ConvertTo-Json -Depth 3 | Set-Content -LiteralPath $ResultPath
exit 0
