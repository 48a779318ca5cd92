@{
    RootModule           = 'FluxForensics.psm1'
    # Stamped by build.ps1 from Directory.Build.props.
    ModuleVersion        = '0.1.0'
    GUID                 = '7c1f0f3e-5b7a-4f7e-9a51-2f0b8d3c6a91'
    Author               = 'FluxForensics engineers'
    CompanyName          = 'FluxForensics'
    Copyright            = '(c) 2026 FluxForensics engineers. MIT licence.'
    Description          = 'Find and clean a fast-flux botnet relay infection (mobile7.exe / CrashReportSaver / USB shortcut worm): listening sockets, autoruns, USB shortcut traps, capture analysis of DNS flux and SMTP/FTP/HTTP relaying, and reversible cleanup.'
    CompatiblePSEditions = @('Desktop', 'Core')
    PowerShellVersion    = '5.1'
    DotNetFrameworkVersion = '4.7.2'
    TypesToProcess       = @('FluxForensics.types.ps1xml')
    FormatsToProcess     = @(
        'Formats/FluxListener.format.ps1xml'
        'Formats/SuspiciousAutorun.format.ps1xml'
        'Formats/UsbLnkTrap.format.ps1xml'
        'Formats/DnsProxy.format.ps1xml'
        'Formats/FluxDomain.format.ps1xml'
        'Formats/RelaySession.format.ps1xml'
        'Formats/FluxDownload.format.ps1xml'
        'Formats/ExposedCredential.format.ps1xml'
        'Formats/CaptureSummary.format.ps1xml'
        'Formats/FluxRemediation.format.ps1xml'
        'Formats/FluxQuarantineItem.format.ps1xml'
        'Formats/FluxIncident.format.ps1xml'
        'Formats/FluxReputation.format.ps1xml'
    )
    CmdletsToExport      = @(
        'Get-FluxListener'
        'Get-SuspiciousAutorun'
        'Find-UsbLnkTrap'
        'Invoke-PcapFluxAnalysis'
        'Remove-FluxInfection'
        'Restore-FluxQuarantine'
        'Get-FluxQuarantine'
        'ConvertTo-FluxGraph'
        'New-FluxIncident'
        'Get-FluxReputation'
        'Export-FluxIndicator'
        'Export-FluxReport'
    )
    FunctionsToExport    = @()
    AliasesToExport      = @()
    VariablesToExport    = @()
    PrivateData          = @{
        PSData = @{
            Tags         = @('Security', 'Forensics', 'IncidentResponse', 'DFIR', 'Botnet', 'FastFlux', 'pcap', 'DNS', 'Autoruns', 'USB', 'Windows', 'Linux', 'PSEdition_Desktop', 'PSEdition_Core')
            ProjectUri   = 'https://github.com/fluxforensics/FluxForensics'
            LicenseUri   = 'https://github.com/fluxforensics/FluxForensics/blob/main/LICENSE'
            ReleaseNotes = 'See README.md.'
        }
    }
}
