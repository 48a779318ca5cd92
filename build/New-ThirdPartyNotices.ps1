<#
.SYNOPSIS
    Writes THIRD-PARTY-NOTICES.txt for the laid-out module: every NuGet package whose assembly ships in the net472 or
    net8.0 folder, with its version, copyright, project, licence and the licence text.

.DESCRIPTION
    The list comes from what ships, not from a hand-kept list: the cmdlet project's project.assets.json says which
    package each runtime file comes from, and a package is named when one of its files is in the module. Licence and
    copyright come from the package's .nuspec in the NuGet cache; the text from the package's own LICENSE file when it
    has one, else from build/licenses/<SPDX id>.txt. A shipped package whose licence cannot be told fails the build.
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory)] [string] $Root,
    # The laid-out module folder (out/FluxForensics/<version>).
    [Parameter(Mandatory)] [string] $Destination
)
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version 3.0

$assetsPath = Join-Path $Root 'src/FluxForensics/obj/project.assets.json'
if (-not (Test-Path -LiteralPath $assetsPath)) { throw "No $assetsPath; build the module first." }
$assets = Get-Content -Raw -LiteralPath $assetsPath | ConvertFrom-Json -AsHashtable
$packages = if ($env:NUGET_PACKAGES) { $env:NUGET_PACKAGES } else { Join-Path ([Environment]::GetFolderPath('UserProfile')) '.nuget/packages' }
$licenceFolder = Join-Path $PSScriptRoot 'licenses'

# Package -> the frameworks it ships in.
$shipped = [ordered]@{}
foreach ($framework in 'net472', 'net8.0') {
    $target = $assets.targets.Keys | Where-Object { $_ -eq $framework -or $_ -like "*$($framework -replace '^net4(\d)(\d)$', 'v4.$1.$2')" } | Select-Object -First 1
    if (-not $target) { throw "project.assets.json has no $framework target." }
    $shippedFiles = @(Get-ChildItem -LiteralPath (Join-Path $Destination $framework) -Recurse -Filter '*.dll' | ForEach-Object Name)
    foreach ($library in $assets.targets[$target].GetEnumerator()) {
        if ($library.Value.type -ne 'package') { continue }
        $files = @()
        foreach ($kind in 'runtime', 'runtimeTargets') {
            if ($library.Value.ContainsKey($kind)) { $files += @($library.Value[$kind].Keys | Where-Object { $_ -like '*.dll' } | ForEach-Object { Split-Path -Leaf $_ }) }
        }
        if (-not ($files | Where-Object { $_ -in $shippedFiles })) { continue }
        if (-not $shipped.Contains($library.Key)) { $shipped[$library.Key] = [System.Collections.Generic.List[string]]::new() }
        $shipped[$library.Key].Add($framework)
    }
}

$text = [System.Text.StringBuilder]::new()
[void]$text.AppendLine('FluxForensics third-party notices')
[void]$text.AppendLine('=================================')
[void]$text.AppendLine()
[void]$text.AppendLine('FluxForensics is MIT-licensed (LICENSE). It ships the following libraries, each under its own licence, reproduced below.')
[void]$text.AppendLine('PacketDotNet is used unmodified under the Mozilla Public License 2.0; its source is at its project address.')
[void]$text.AppendLine()
$texts = [ordered]@{}
$problems = [System.Collections.Generic.List[string]]::new()
foreach ($entry in $shipped.GetEnumerator()) {
    $name, $version = $entry.Key -split '/', 2
    $folder = Join-Path $packages "$($name.ToLowerInvariant())/$version"
    $nuspecFile = Get-ChildItem -LiteralPath $folder -Filter '*.nuspec' -ErrorAction SilentlyContinue | Select-Object -First 1
    if (-not $nuspecFile) { $problems.Add("$name $version is not in the NuGet cache ($folder)"); continue }
    [xml] $nuspec = Get-Content -Raw -LiteralPath $nuspecFile.FullName
    $metadata = $nuspec.package.metadata
    $licence = $metadata.SelectSingleNode("*[local-name()='license' and @type='expression']")
    $licenceUrl = $metadata.SelectSingleNode("*[local-name()='licenseUrl']")
    $ownFile = Get-ChildItem -LiteralPath $folder -File | Where-Object Name -match '^LICEN[SC]E(\.txt|\.md)?$' | Select-Object -First 1
    $spdx = if ($licence) { $licence.InnerText }
            elseif ($licenceUrl -and $licenceUrl.InnerText -match 'dotnet/corefx/blob/master/LICENSE') { 'MIT' }
            else { $null }
    $key = $null
    if ($ownFile) { $key = "$name $version (its LICENSE file)"; $texts[$key] = Get-Content -Raw -LiteralPath $ownFile.FullName }
    elseif ($spdx -and (Test-Path -LiteralPath (Join-Path $licenceFolder "$spdx.txt"))) { $key = $spdx; $texts[$key] = Get-Content -Raw -LiteralPath (Join-Path $licenceFolder "$spdx.txt") }
    else { $problems.Add("$name $version ships, but its licence ($(if ($spdx) { $spdx } else { 'unknown' })) has no text in $licenceFolder"); continue }

    $copyright = $metadata.SelectSingleNode("*[local-name()='copyright']")
    $project = $metadata.SelectSingleNode("*[local-name()='projectUrl']")
    [void]$text.AppendLine("$name $version ($($entry.Value -join ', '))")
    [void]$text.AppendLine("  Licence:   $(if ($spdx) { $spdx } else { 'see its LICENSE file' }) (text: $key)")
    if ($copyright -and $copyright.InnerText) { [void]$text.AppendLine("  Copyright: $($copyright.InnerText)") }
    else { [void]$text.AppendLine("  Authors:   $($metadata.authors) (the package states no copyright line)") }
    if ($project) { [void]$text.AppendLine("  Project:   $($project.InnerText)") }
    [void]$text.AppendLine()
}
if ($problems.Count) {
    $problems | ForEach-Object { Write-Host "  $_" -ForegroundColor Red }
    throw "Third-party notices incomplete: $($problems.Count) shipped package(s) without a licence text."
}
foreach ($licenceText in $texts.GetEnumerator()) {
    [void]$text.AppendLine(('-' * 100))
    [void]$text.AppendLine($licenceText.Key)
    [void]$text.AppendLine(('-' * 100))
    [void]$text.AppendLine($licenceText.Value.TrimEnd())
    [void]$text.AppendLine()
}
Set-Content -LiteralPath (Join-Path $Destination 'THIRD-PARTY-NOTICES.txt') -Value $text.ToString() -Encoding utf8
