# Helpers the benchmark scripts share; dot-sourced by each (`. (Join-Path $PSScriptRoot 'BenchSupport.ps1')`).

# The median of some numbers (the mean of the two middle ones for an even count).
function Get-Median([double[]] $Values) {
    $sorted = @($Values | Sort-Object)
    $n = $sorted.Count
    if ($n % 2) { $sorted[[int][math]::Floor($n / 2)] } else { ($sorted[$n / 2 - 1] + $sorted[$n / 2]) / 2 }
}

# The fixture generators' assembly, built first when it is missing.
function Get-BenchFixtures([string] $Root, [string] $Configuration = 'Release') {
    $dll = Join-Path $Root "tests/Fixtures/bin/$Configuration/net10.0/FluxForensics.Fixtures.dll"
    if (-not (Test-Path -LiteralPath $dll)) {
        & dotnet build (Join-Path $Root 'tests/Fixtures') -c $Configuration --nologo -v q | Out-Host
        if ($LASTEXITCODE) { throw "Building the fixtures failed ($LASTEXITCODE)." }
    }
    $dll
}
