#Requires -Version 7.3
# Which PowerShell the module runs on: PowerShell 7.4 runs on .NET 8, so the net8.0 build ships nothing newer than
# .NET 8's own assemblies (checked against the Microsoft.NETCore.App.Ref 8.0 pack from NuGet), and the loader refuses
# PowerShell 7.0-7.3 with a clear message.

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestSupport.psm1') -Force
    $script:root = Get-FluxRoot
    $script:modulePath = Get-FluxModulePath
    $script:check = Join-Path $root 'build/Test-FrameworkAssemblyVersions.ps1'
    $packages = if ($env:NUGET_PACKAGES) { $env:NUGET_PACKAGES } else { Join-Path ([Environment]::GetFolderPath('UserProfile')) '.nuget/packages' }
    $script:codePages9 = Get-ChildItem -Path (Join-Path $packages 'system.text.encoding.codepages/9.*/lib/net8.0/System.Text.Encoding.CodePages.dll') -ErrorAction SilentlyContinue | Select-Object -First 1

    # Runs the loader's text with $PSVersionTable replaced by a table of the given version (the real one is constant),
    # and returns the error it stops with, if any.
    function Invoke-LoaderAs([string] $Edition, [version] $Version) {
        $text = (Get-Content -Raw -LiteralPath (Join-Path $modulePath 'FluxForensics.psm1')) -replace '\$PSVersionTable', '$fakeVersionTable'
        # Stop before the binary is imported: only the version gate is under test.
        $gate = $text.Substring(0, $text.IndexOf('$framework ='))
        $fakeVersionTable = @{ PSEdition = $Edition; PSVersion = $Version }
        try { & ([scriptblock]::Create($gate)); $null } catch { $_.Exception.Message }
    }
}

Describe 'The net8.0 build against .NET 8 (PowerShell 7.4)' {
    It 'ships no System.Text.Encoding.CodePages: .NET 8 has it built in' {
        Get-ChildItem -LiteralPath (Join-Path $modulePath 'net8.0') -Recurse -Filter 'System.Text.Encoding.CodePages.dll' | Should -BeNullOrEmpty
        (Get-Content -Raw -LiteralPath (Join-Path $modulePath 'net8.0/FluxForensics.deps.json')) | Should -Not -Match 'System\.Text\.Encoding\.CodePages/9'
    }

    It 'passes the build check against Microsoft.NETCore.App.Ref 8.0' {
        { & $check -Path (Join-Path $modulePath 'net8.0') -ResolvedByLoader 'System.Text.Encoding.CodePages' } | Should -Not -Throw
    }

    It 'fails the build check when a framework assembly newer than .NET 8''s is shipped' {
        if (-not $codePages9) { Set-ItResult -Skipped -Because 'System.Text.Encoding.CodePages 9.x is not in the NuGet cache (the net472 build restores it)'; return }
        $copy = New-FluxTempDirectory 'flux-net8-check'
        try {
            Copy-Item -Path (Join-Path $modulePath 'net8.0/*.dll') -Destination $copy
            Copy-Item -LiteralPath $codePages9.FullName -Destination $copy
            { & $check -Path $copy -ResolvedByLoader 'System.Text.Encoding.CodePages' 6>$null } | Should -Throw -ExpectedMessage '*1 assembly version problem*'
        }
        finally {
            Remove-FluxTempDirectory $copy
        }
    }

    It 'fails the build check on a reference newer than .NET 8 that the loader does not answer' {
        # SharpPcap's net8.0 build references System.Text.Encoding.CodePages 9.0.0.0: only the loader makes that loadable.
        { & $check -Path (Join-Path $modulePath 'net8.0') 6>$null } | Should -Throw -ExpectedMessage '*assembly version problem*'
    }

    It 'answers a request for a newer framework assembly with the runtime''s own copy' {
        Import-Module (Get-FluxManifestPath) -Force
        $initializer = [FluxForensics.Commands.ModuleInitializer]
        $resolve = $initializer.GetMethod('ResolveFromModuleFolder', [System.Reflection.BindingFlags]'NonPublic, Static')
        $asked = [System.ResolveEventArgs]::new('System.Text.Encoding.CodePages, Version=99.0.0.0, Culture=neutral, PublicKeyToken=b03f5f7f11d50a3a')
        $answer = $resolve.Invoke($null, @($null, $asked))
        $answer.GetName().Name | Should -Be 'System.Text.Encoding.CodePages'
        $answer.Location | Should -BeLike "$([System.Runtime.InteropServices.RuntimeEnvironment]::GetRuntimeDirectory())*"
    }
}

Describe 'Supported PowerShell versions' {
    It 'the loader refuses PowerShell <_> with a message that names what is needed' -ForEach @('7.0.13', '7.1.7', '7.2.24', '7.3.12') {
        Invoke-LoaderAs 'Core' ([version]$_) | Should -BeLike "*needs PowerShell 7.4 or later*this is PowerShell $_*"
    }

    It 'the loader accepts PowerShell <_>' -ForEach @('7.4.0', '7.6.9', '8.0.0') {
        Invoke-LoaderAs 'Core' ([version]$_) | Should -BeNullOrEmpty
    }

    It 'the loader accepts Windows PowerShell 5.1' {
        Invoke-LoaderAs 'Desktop' ([version]'5.1.19041.1') | Should -BeNullOrEmpty
    }

    It 'the manifest says which versions are supported' {
        $manifest = Import-PowerShellDataFile -LiteralPath (Get-FluxManifestPath)
        $manifest.PowerShellVersion | Should -Be '5.1'
        $manifest.CompatiblePSEditions | Should -Be @('Desktop', 'Core')
        $manifest.Description | Should -Match 'Windows PowerShell 5\.1 and PowerShell 7\.4 or later'
    }
}
