<#
.SYNOPSIS
    Fails when the net8.0 build ships an assembly that .NET 8 itself provides in a newer version, or an assembly that
    references a framework assembly newer than .NET 8's.

.DESCRIPTION
    PowerShell 7.4 runs on .NET 8 and loads modules into its default context, where a framework assembly is already
    loaded in the version the runtime has: a module that ships System.Text.Encoding.CodePages 9.0.0.0, or a library
    compiled against System.Runtime 9.0.0.0, fails to load there. The versions .NET 8 has are read from the reference
    pack Microsoft.NETCore.App.Ref 8.0.x in the NuGet cache (build/tools.proj downloads it), not assumed.

    Every .dll under -Path (runtimes/ included) is checked:
      - its own assembly version, when .NET 8 has an assembly of that name;
      - every assembly it references, when .NET 8 has an assembly of that name (except -ResolvedByLoader).
    Writes one line per problem and throws when there is any.

.EXAMPLE
    ./build/Test-FrameworkAssemblyVersions.ps1 -Path out/FluxForensics/0.1.0/net8.0
#>
[CmdletBinding()]
param(
    # The net8.0 folder of the laid-out module.
    [Parameter(Mandatory)] [string] $Path,

    # The ref/net8.0 folder of Microsoft.NETCore.App.Ref; found in the NuGet cache when not given.
    [string] $ReferencePath,

    # Framework assemblies a shipped library may reference in a newer version because the module's loader answers
    # that request with the runtime's own copy (src/FluxForensics/ModuleInitializer.cs). Shipping the newer file is
    # never allowed.
    [string[]] $ResolvedByLoader = @()
)
$ErrorActionPreference = 'Stop'

if (-not $ReferencePath) {
    $packages = if ($env:NUGET_PACKAGES) { $env:NUGET_PACKAGES } else { Join-Path ([Environment]::GetFolderPath('UserProfile')) '.nuget/packages' }
    $pack = Get-ChildItem -LiteralPath (Join-Path $packages 'microsoft.netcore.app.ref') -Directory -Filter '8.0.*' -ErrorAction SilentlyContinue |
        Sort-Object { [version]$_.Name } | Select-Object -Last 1
    if (-not $pack) {
        throw "Microsoft.NETCore.App.Ref 8.0.x is not in the NuGet cache ($packages); run: dotnet restore build/tools.proj"
    }
    $ReferencePath = Join-Path $pack.FullName 'ref/net8.0'
}
if (-not (Test-Path -LiteralPath (Join-Path $ReferencePath 'System.Runtime.dll'))) { throw "No .NET reference assemblies in $ReferencePath." }

function Read-Assembly([string] $File) {
    $stream = [System.IO.File]::OpenRead($File)
    try {
        $pe = [System.Reflection.PortableExecutable.PEReader]::new($stream)
        if (-not $pe.HasMetadata) { return $null }
        $reader = [System.Reflection.Metadata.PEReaderExtensions]::GetMetadataReader($pe)
        if (-not $reader.IsAssembly) { return $null }
        $definition = $reader.GetAssemblyDefinition()
        [pscustomobject]@{
            Name       = $reader.GetString($definition.Name)
            Version    = $definition.Version
            References = @(foreach ($handle in $reader.AssemblyReferences) {
                $reference = $reader.GetAssemblyReference($handle)
                [pscustomobject]@{ Name = $reader.GetString($reference.Name); Version = $reference.Version }
            })
        }
    }
    finally {
        $stream.Dispose()
    }
}

$framework = @{}
foreach ($file in Get-ChildItem -LiteralPath $ReferencePath -Filter '*.dll') {
    $assembly = Read-Assembly $file.FullName
    if ($assembly) { $framework[$assembly.Name] = $assembly.Version }
}

$problems = [System.Collections.Generic.List[string]]::new()
$checked = 0
foreach ($file in Get-ChildItem -LiteralPath $Path -Recurse -Filter '*.dll') {
    $assembly = Read-Assembly $file.FullName
    if (-not $assembly) { continue }
    $checked++
    $relative = [System.IO.Path]::GetRelativePath($Path, $file.FullName)
    if ($framework.ContainsKey($assembly.Name) -and $assembly.Version -gt $framework[$assembly.Name]) {
        $problems.Add("$relative is $($assembly.Name) $($assembly.Version); .NET 8 has $($framework[$assembly.Name]) built in and PowerShell 7.4 cannot load the newer copy. Use the framework's (exclude the package's assets for net8.0).")
    }
    foreach ($reference in $assembly.References) {
        if ($framework.ContainsKey($reference.Name) -and $reference.Version -gt $framework[$reference.Name]) {
            if ($reference.Name -in $ResolvedByLoader) {
                Write-Verbose "$relative references $($reference.Name) $($reference.Version); the loader answers it with .NET 8's $($framework[$reference.Name])."
                continue
            }
            $problems.Add("$relative references $($reference.Name) $($reference.Version), newer than .NET 8's $($framework[$reference.Name]): it cannot load in PowerShell 7.4.")
        }
    }
}

if ($problems.Count) {
    $problems | ForEach-Object { Write-Host "  $_" -ForegroundColor Red }
    throw "$($problems.Count) assembly version problem(s) in $Path against Microsoft.NETCore.App.Ref $(Split-Path -Leaf (Split-Path -Parent (Split-Path -Parent $ReferencePath)))."
}
Write-Verbose "$checked assemblies in $Path checked against $ReferencePath."
