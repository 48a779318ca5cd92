# Run by the PowerShell 7.4 host (Program.cs) on .NET 8. One line per check: "PASS <name>", "FAIL <name>: <why>" or
# "SKIP <name>: <why>"; build/Invoke-Pwsh74Tests.ps1 counts them.
param([string] $ModulePath, [string] $SamplePath)

function Test-Check([string] $Name, [scriptblock] $Body) {
    try {
        $result = & $Body
        if ($result -is [string] -and $result.StartsWith('SKIP:')) { "SKIP ${Name}: $($result.Substring(5).Trim())" }
        elseif ($result -eq $true) { "PASS $Name" }
        else { "FAIL ${Name}: $result" }
    }
    catch {
        "FAIL ${Name}: $($_.Exception.Message)"
    }
}

$codePages9 = 'System.Text.Encoding.CodePages, Version=9.0.0.0, Culture=neutral, PublicKeyToken=b03f5f7f11d50a3a'

Test-Check 'the host is PowerShell 7.4 on .NET 8' {
    if ($PSVersionTable.PSVersion.Major -eq 7 -and $PSVersionTable.PSVersion.Minor -eq 4 -and [Environment]::Version.Major -eq 8) { $true }
    else { "PowerShell $($PSVersionTable.PSVersion) on .NET $([Environment]::Version)" }
}

Test-Check 'without the module, .NET 8 cannot bind the CodePages 9.0.0.0 that SharpPcap references' {
    try { [void][System.Reflection.Assembly]::Load($codePages9); 'it loaded: the runtime has a newer CodePages than .NET 8' }
    catch { $true }
}

Test-Check 'the module imports and exports every cmdlet of its manifest' {
    Import-Module $ModulePath -ErrorAction Stop
    $expected = @((Import-PowerShellDataFile -LiteralPath $ModulePath).CmdletsToExport)
    $exported = @((Get-Module FluxForensics).ExportedCmdlets.Keys)
    $missing = @($expected | Where-Object { $_ -notin $exported })
    if ($missing.Count -eq 0) { $true } else { "missing: $($missing -join ', ')" }
}

Test-Check 'the module ships no framework assembly newer than .NET 8''s' {
    $newer = @(Get-ChildItem -LiteralPath (Join-Path (Split-Path -Parent $ModulePath) 'net8.0') -Recurse -Filter 'System.*.dll' |
        Where-Object { [System.Reflection.AssemblyName]::GetAssemblyName($_.FullName).Version.Major -gt 8 })
    if ($newer.Count -eq 0) { $true } else { "ships $($newer.Name -join ', ')" }
}

Test-Check 'SharpPcap''s CodePages 9.0.0.0 reference is answered with .NET 8''s own copy' {
    $assembly = [System.Reflection.Assembly]::Load($codePages9)
    $runtime = [System.IO.Path]::GetDirectoryName([object].Assembly.Location)
    if ($assembly.GetName().Version -eq [version]'8.0.0.0' -and [System.IO.Path]::GetDirectoryName($assembly.Location) -eq $runtime) { $true }
    else { "got $($assembly.GetName().Version) from $($assembly.Location)" }
}

Test-Check 'SharpPcap loads and lists interfaces (or names the missing capture library)' {
    try {
        Invoke-PcapFluxAnalysis -InterfaceName 'flux-no-such-interface' -Duration '00:00:01' -ErrorAction Stop | Out-Null
        'an interface that does not exist was accepted'
    }
    catch {
        switch -Wildcard ($_.FullyQualifiedErrorId) {
            'CaptureInterfaceNotFound*' { $true }
            'CaptureLibraryMissing*' { 'SKIP: libpcap is not installed (apt package libpcap0.8)' }
            default { "$($_.FullyQualifiedErrorId): $($_.Exception.Message)" }
        }
    }
}

Test-Check 'Invoke-PcapFluxAnalysis analyses the incident sample' {
    $capture = Join-Path $SamplePath 'incident.pcapng'
    if (-not (Test-Path -LiteralPath $capture)) { return "SKIP: no sample at $capture (build.ps1 Samples)" }
    $kinds = @(Invoke-PcapFluxAnalysis -LiteralPath $capture -WarningAction SilentlyContinue | Group-Object Kind | ForEach-Object Name)
    $wanted = @('DnsProxy', 'FluxDomain', 'RelaySession', 'FluxDownload')
    $missing = @($wanted | Where-Object { $_ -notin $kinds })
    if ($missing.Count -eq 0) { $true } else { "no $($missing -join ', ') finding (got $($kinds -join ', '))" }
}

Test-Check 'Find-UsbLnkTrap reads the sample USB tree (shortcut parsing, code pages)' {
    $usb = Join-Path $SamplePath 'usb'
    if (-not (Test-Path -LiteralPath $usb)) { return "SKIP: no sample at $usb (build.ps1 Samples)" }
    $traps = @(Find-UsbLnkTrap -LiteralPath $usb -WarningAction SilentlyContinue)
    if ($traps.Count -gt 0) { $true } else { 'no trap found' }
}
