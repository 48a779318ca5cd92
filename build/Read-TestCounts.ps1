<#
.SYNOPSIS
    Reads passed/failed/skipped counts (and skip reasons, failures) from a TRX file, a Pester result JSON or the Wine
    lane's summary, so build.ps1 can print one line for all suites. A missing result file counts as one failure.
#>
[CmdletBinding()]
param(
    [string] $Trx,
    [string] $Json,
    [string] $WineSummary,
    [Parameter(Mandatory)] [string] $Suite
)

$result = [pscustomobject]@{ Suite = $Suite; Passed = 0; Failed = 0; Skipped = 0; Skips = @(); Failures = @() }
$path = @($Trx, $Json, $WineSummary) | Where-Object { $_ } | Select-Object -First 1
if (-not $path -or -not (Test-Path -LiteralPath $path)) {
    $result.Failed = 1
    $result.Failures = @("$Suite did not produce results ($path)")
    return $result
}

if ($Trx) {
    [xml] $doc = Get-Content -Raw -LiteralPath $Trx
    $ns = @{ t = 'http://microsoft.com/schemas/VisualStudio/TeamTest/2010' }
    $results = Select-Xml -Xml $doc -XPath '//t:UnitTestResult' -Namespace $ns | ForEach-Object Node
    foreach ($r in $results) {
        switch ($r.outcome) {
            'Passed' { $result.Passed++ }
            'NotExecuted' {
                $result.Skipped++
                $why = ($r.SelectSingleNode('.//*[local-name()="Message"]')).InnerText
                $result.Skips += "$($r.testName): $why"
            }
            default {
                $result.Failed++
                $result.Failures += "$($r.testName): $(($r.SelectSingleNode('.//*[local-name()="Message"]')).InnerText)"
            }
        }
    }
}
else {
    $data = Get-Content -Raw -LiteralPath $path | ConvertFrom-Json
    $result.Passed = [int]$data.Passed
    $result.Failed = [int]$data.Failed
    $result.Skipped = [int]$data.Skipped
    $result.Skips = @($data.Skips)
    $result.Failures = @($data.Failures)
}
$result
