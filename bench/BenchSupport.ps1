# Helpers the benchmark scripts share; dot-sourced by each (`. (Join-Path $PSScriptRoot 'BenchSupport.ps1')`).

# The median of some numbers (the mean of the two middle ones for an even count).
function Get-Median([double[]] $Values) {
    $sorted = @($Values | Sort-Object)
    $n = $sorted.Count
    if ($n % 2) { $sorted[[int][math]::Floor($n / 2)] } else { ($sorted[$n / 2 - 1] + $sorted[$n / 2]) / 2 }
}
