<#
.SYNOPSIS
    Builds, tests, packages and demonstrates FluxForensics.

.DESCRIPTION
    Runs directly (`dotnet pwsh ./build.ps1 Test`) or through Invoke-Build (`Invoke-Build Test`). Invoke-Build and
    Pester are restored from NuGet by the Setup task, so a machine with only the .NET SDK needs nothing else:

        dotnet tool restore
        dotnet pwsh ./build.ps1 Demo     # build, generate the sample data, run every cmdlet on it
        dotnet pwsh ./build.ps1 Test     # xunit + Pester (+ the Wine lane on Linux); last line: Tests: N passed, M failed, K skipped

    Tasks: Setup, Build, Samples, Test, Demo, Package, Bench, Fuzz, Clean.

.PARAMETER Tasks
    Tasks to run (default: Build).

.PARAMETER Configuration
    Release (default) or Debug.

.PARAMETER TestFilter
    Optional Pester -FullNameFilter wildcard, to run only some Pester tests while developing.
#>
[CmdletBinding()]
param(
    [Parameter(Position = 0)]
    [string[]] $Tasks = @('Build'),
    [ValidateSet('Release', 'Debug')]
    [string] $Configuration = 'Release',
    [string] $TestFilter = '',
    [int] $Minutes = 10
)

# Direct invocation: bootstrap Invoke-Build from the NuGet cache and re-enter through it.
if ([System.IO.Path]::GetFileName($MyInvocation.ScriptName) -ne 'Invoke-Build.ps1') {
    $ErrorActionPreference = 'Stop'
    $root = $PSScriptRoot
    $packages = if ($env:NUGET_PACKAGES) { $env:NUGET_PACKAGES } else { Join-Path ([Environment]::GetFolderPath('UserProfile')) '.nuget/packages' }
    $ib = Join-Path $packages 'invoke-build/5.14.23/tools/Invoke-Build.ps1'
    if (-not (Test-Path -LiteralPath $ib)) {
        & dotnet restore (Join-Path $root 'build/tools.proj') --verbosity quiet
        if ($LASTEXITCODE) { throw "dotnet restore build/tools.proj failed ($LASTEXITCODE): cannot get Invoke-Build and Pester from NuGet." }
    }
    $failed = $false
    try {
        & $ib -Task $Tasks -File $MyInvocation.MyCommand.Path -Configuration $Configuration -TestFilter $TestFilter -Minutes $Minutes
    }
    catch {
        $failed = $true
        Write-Host "build.ps1: $($_.Exception.Message)" -ForegroundColor Red
    }
    # The test summary is the contract CI reads: make it the very last line, even when a later task failed.
    $summary = Join-Path $root 'out/TestResults/summary.txt'
    if ($Tasks -contains 'Test' -and (Test-Path -LiteralPath $summary)) {
        Get-Content -LiteralPath $summary -Tail 1
        if ((Get-Content -LiteralPath $summary -Tail 1) -notmatch ', 0 failed,') { $failed = $true }
    }
    exit ([int]$failed)
}

Set-StrictMode -Version 3.0
$ErrorActionPreference = 'Stop'

$Root = $BuildRoot
$Out = Join-Path $Root 'out'
$Version = ([xml](Get-Content -Raw (Join-Path $Root 'Directory.Build.props'))).Project.PropertyGroup.Version | Where-Object { $_ } | Select-Object -First 1
$ModuleOut = Join-Path $Out "FluxForensics/$Version"
$Samples = Join-Path $Out 'samples'
$TestResults = Join-Path $Out 'TestResults'
$FixturesDll = Join-Path $Root "tests/Fixtures/bin/$Configuration/net10.0/FluxForensics.Fixtures.dll"
# Child processes use the same PowerShell as the build: the dotnet tool re-enters as `dotnet pwsh`.
$Pwsh = (Get-Process -Id $PID).Path
$PwshArgs = @()
if ([System.IO.Path]::GetFileNameWithoutExtension($Pwsh) -eq 'dotnet') { $PwshArgs = @('pwsh') }
$IsLinuxHost = $PSVersionTable.PSEdition -eq 'Core' -and $IsLinux
$IsWindowsHost = $PSVersionTable.PSEdition -eq 'Desktop' -or $IsWindows
# The fixtures' native apphost is the samples' one malware binary: the capture relays it, the stick and the disks carry
# it, and the demo runs a copy of it as the listening relay, so New-FluxIncident joins them all.
$FixturesApphost = Join-Path $Root "tests/Fixtures/bin/$Configuration/net10.0/FluxForensics.Fixtures$(if ($IsWindowsHost) { '.exe' })"

function Get-NuGetPackageRoot {
    if ($env:NUGET_PACKAGES) { return $env:NUGET_PACKAGES }
    Join-Path ([Environment]::GetFolderPath('UserProfile')) '.nuget/packages'
}

function Invoke-Native([string] $File, [string[]] $Arguments, [switch] $AllowFailure) {
    & $File @Arguments
    if ($LASTEXITCODE -and -not $AllowFailure) { throw "$File $($Arguments -join ' ') failed with exit code $LASTEXITCODE" }
}

function Invoke-FreshPwsh([string] $ScriptPath, [string[]] $Arguments) {
    # Tests and the demo import the built module in a fresh process, never in the build session.
    # The child's output goes to the host, so the function returns only the exit code.
    & $Pwsh @PwshArgs -NoLogo -NoProfile -NonInteractive -File $ScriptPath @Arguments | Out-Host
    $LASTEXITCODE
}

# Synopsis: Restore tools and, on Linux, the Debian packages the tests and demo use.
task Setup {
    Invoke-Native dotnet @('restore', (Join-Path $Root 'build/tools.proj'), '--verbosity', 'quiet')
    if ($IsLinuxHost) {
        & (Join-Path $Root 'build/Install-TestDependencies.ps1')
    }
}

# Synopsis: Compile Core and the cmdlets for net472 and net8.0 and lay the module out under out/FluxForensics/<version>.
task Build {
    Invoke-Native dotnet @('build', (Join-Path $Root 'FluxForensics.sln'), '-c', $Configuration, '--nologo', '-v', 'quiet', '-clp:ErrorsOnly;Summary')
    & (Join-Path $Root 'build/New-ModuleLayout.ps1') -Root $Root -Configuration $Configuration -Destination $ModuleOut -Version $Version
    Write-Build Green "Module: $ModuleOut"
}

# Synopsis: Generate the deterministic sample data (incident capture, USB trap tree, autorun roots) under out/samples.
task Samples {
    New-Item -ItemType Directory -Force -Path $Samples | Out-Null
    $wanted = @(
        @{ Command = 'incident-capture'; Output = (Join-Path $Samples 'incident.pcapng'); Arguments = @() }
        @{ Command = 'usb-trap'; Output = (Join-Path $Samples 'usb'); Arguments = @('--no-attributes') }
        @{ Command = 'autorun-tree'; Output = (Join-Path $Samples 'autorun-linux'); Arguments = @('--linux') }
        @{ Command = 'autorun-tree'; Output = (Join-Path $Samples 'autorun-windows'); Arguments = @('--windows') }
    )
    $available = (& dotnet $FixturesDll 2>&1 | Out-String)
    $malware = if (Test-Path -LiteralPath $FixturesApphost) { @('--malware', $FixturesApphost) } else { @() }
    foreach ($sample in $wanted) {
        if ($available -notmatch "(?m)^\s+$([regex]::Escape($sample.Command))\s") {
            Write-Build Yellow "Sample $($sample.Output) skipped: the fixture command '$($sample.Command)' is not built yet."
            continue
        }
        if (Test-Path -LiteralPath $sample.Output) { Remove-Item -LiteralPath $sample.Output -Recurse -Force }
        Invoke-Native dotnet (@($FixturesDll, $sample.Command, $sample.Output) + $sample.Arguments + $malware)
    }
}

# Synopsis: Make a .nupkg of the built module that Install-PSResource installs from a local repository.
task Package Build, {
    $packageDir = Join-Path $Out 'package'
    if (Test-Path -LiteralPath $packageDir) { Remove-Item -LiteralPath $packageDir -Recurse -Force }
    New-Item -ItemType Directory -Force -Path $packageDir | Out-Null
    $code = Invoke-FreshPwsh (Join-Path $Root 'build/New-ModulePackage.ps1') @('-ModulePath', $ModuleOut, '-Destination', $packageDir)
    if ($code) { throw "Packaging failed ($code)." }
    Write-Build Green "Package: $((Get-ChildItem -LiteralPath $packageDir -Filter *.nupkg).FullName)"
}

# Synopsis: Run xunit and Pester (and the Wine lane when available); print one line "Tests: N passed, M failed, K skipped".
task Test Setup, Build, Samples, Package, {
    if (Test-Path -LiteralPath $TestResults) { Remove-Item -LiteralPath $TestResults -Recurse -Force }
    New-Item -ItemType Directory -Force -Path $TestResults | Out-Null
    $suites = [System.Collections.Generic.List[object]]::new()

    # xunit: the Core suite on the installed .NET runtime.
    & dotnet test (Join-Path $Root 'tests/FluxForensics.Core.Tests') -c $Configuration --no-build --nologo `
        --logger 'trx;LogFileName=core.trx' --logger 'console;verbosity=minimal' --results-directory $TestResults
    $suites.Add((& (Join-Path $Root 'build/Read-TestCounts.ps1') -Trx (Join-Path $TestResults 'core.trx') -Suite 'xunit'))

    # Pester: the built module in a fresh pwsh.
    $pesterJson = Join-Path $TestResults 'pester-core.json'
    $null = Invoke-FreshPwsh (Join-Path $Root 'build/Invoke-PesterSuite.ps1') @('-ModulePath', $ModuleOut, '-ResultPath', $pesterJson, '-FullNameFilter', $TestFilter)
    $suites.Add((& (Join-Path $Root 'build/Read-TestCounts.ps1') -Json $pesterJson -Suite 'Pester (PowerShell 7)'))

    # Windows PowerShell 5.1 runs the same Pester suite against the net472 build on Windows.
    if ($IsWindowsHost -and $env:SystemRoot) {
        $desktop = Join-Path $env:SystemRoot 'System32/WindowsPowerShell/v1.0/powershell.exe'
        if (Test-Path -LiteralPath $desktop) {
            $desktopJson = Join-Path $TestResults 'pester-desktop.json'
            & $desktop -NoLogo -NoProfile -NonInteractive -File (Join-Path $Root 'build/Invoke-PesterSuite.ps1') -ModulePath $ModuleOut -ResultPath $desktopJson -FullNameFilter $TestFilter
            $suites.Add((& (Join-Path $Root 'build/Read-TestCounts.ps1') -Json $desktopJson -Suite 'Pester (Windows PowerShell 5.1)'))
        }
    }

    # Wine: the Windows implementations for real, on Linux.
    $wine = Join-Path $Root 'build/Invoke-WineTests.ps1'
    if ($IsLinuxHost -and (Test-Path -LiteralPath $wine)) {
        & $wine -OutputDirectory $TestResults -Configuration $Configuration
        $suites.Add((& (Join-Path $Root 'build/Read-TestCounts.ps1') -WineSummary (Join-Path $TestResults 'wine-summary.json') -Suite 'Wine (Windows code paths)'))
    }

    $passed = ($suites | Measure-Object Passed -Sum).Sum
    $failed = ($suites | Measure-Object Failed -Sum).Sum
    $skipped = ($suites | Measure-Object Skipped -Sum).Sum
    foreach ($suite in $suites) {
        Write-Build Cyan ("{0,-34} {1,5} passed {2,4} failed {3,4} skipped" -f $suite.Suite, $suite.Passed, $suite.Failed, $suite.Skipped)
        foreach ($s in $suite.Skips) { Write-Build Yellow "  skipped: $s" }
        foreach ($f in $suite.Failures) { Write-Build Red "  FAILED: $f" }
    }
    $line = "Tests: $passed passed, $failed failed, $skipped skipped"
    Set-Content -LiteralPath (Join-Path $TestResults 'summary.txt') -Value $line
    Write-Build ($(if ($failed) { 'Red' } else { 'Green' })) $line
    if ($failed) { throw "$failed test(s) failed." }
}

# Synopsis: Build, generate the samples and run every implemented cmdlet on them in a fresh pwsh.
task Demo Setup, Build, Samples, {
    $code = Invoke-FreshPwsh (Join-Path $Root 'samples/Demo.ps1') @('-ModulePath', $ModuleOut, '-SamplePath', $Samples, '-FixturesApphost', $FixturesApphost)
    if ($code) { throw "The demo failed ($code)." }
}

# Synopsis: Run the benchmarks in bench/ (each against its baseline in the same run) and collect bench/RESULTS.md.
task Bench Setup, Build, {
    foreach ($script in Get-ChildItem -LiteralPath (Join-Path $Root 'bench') -Filter 'Bench-*.ps1' | Sort-Object Name) {
        Write-Build Cyan "== $($script.Name)"
        $arguments = if ((Get-Command $script.FullName).Parameters.ContainsKey('ModulePath')) { @('-ModulePath', $ModuleOut) } else { @() }
        $code = Invoke-FreshPwsh $script.FullName $arguments
        if ($code) { Write-Build Red "$($script.Name) failed ($code)" }
    }
}

# Synopsis: Run the coverage-guided fuzzers for -Minutes per target (see bench/FUZZING.md).
task Fuzz Build, {
    $fuzz = Join-Path $Root 'build/Invoke-Fuzz.ps1'
    if (-not (Test-Path -LiteralPath $fuzz)) { throw 'No fuzzing harness in this tree yet (build/Invoke-Fuzz.ps1).' }
    & $fuzz -Minutes $Minutes -Configuration $Configuration
}

# Synopsis: Remove build output.
task Clean {
    foreach ($dir in @($Out) + (Get-ChildItem -Path (Join-Path $Root 'src'), (Join-Path $Root 'tests') -Directory -Recurse -Include bin, obj).FullName) {
        if ($dir -and (Test-Path -LiteralPath $dir)) { Remove-Item -LiteralPath $dir -Recurse -Force }
    }
}

task . Build
