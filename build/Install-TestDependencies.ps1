<#
.SYNOPSIS
    Checks for the Debian packages the tests, demo and benchmarks use; installs the missing ones when root.
.DESCRIPTION
    Without root, names what is missing: the tests that need it skip and say why.
#>
[CmdletBinding()]
param()

$needed = [ordered]@{
    'libpcap0.8'     = 'live capture (SharpPcap)'
    'ntfs-3g'        = 'NTFS volume images (mkntfs, ntfs-3g FUSE) for USB and cleanup tests'
    'attr'           = 'setfattr/getfattr for NTFS Hidden/System attributes'
    'dosfstools'     = 'FAT images'
    'openssh-server' = 'remoting tests (sshd on 127.0.0.1)'
    'openssh-client' = 'remoting tests (ssh client used by PowerShell remoting)'
    'graphviz'       = 'rendering ConvertTo-FluxGraph DOT output'
    'iproute2'       = 'ss baseline and network namespaces'
    'procps'         = 'process tools'
    'tcpdump'        = 'benchmark baseline (libpcap read limit)'
    'tshark'         = 'benchmark baseline (what analysts use today)'
    'xz-utils'       = 'regipy corpus hives are kept xz-compressed (transaction-log recovery tests)'
    'bind9-utils'    = 'named-checkzone loads the response policy zone Export-FluxIndicator writes'
    'chromium'       = 'rendering the Export-FluxReport HTML report headless (screenshot, DOM, net-log)'
}

$missing = foreach ($name in $needed.Keys) {
    $status = & dpkg-query -W -f '${Status}' $name 2>$null
    if ($LASTEXITCODE -or $status -notmatch 'install ok installed') { $name }
}
if (-not $missing) { return }

$isRoot = (& id -u) -eq '0'
if ($isRoot -and (Get-Command apt-get -ErrorAction SilentlyContinue)) {
    Write-Host "Installing Debian packages: $($missing -join ', ')"
    $env:DEBIAN_FRONTEND = 'noninteractive'
    # tshark asks whether non-root users may capture; preseed the answer.
    'wireshark-common wireshark-common/install-setuid boolean false' | & debconf-set-selections 2>$null
    & apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends @missing | Out-Null
    if ($LASTEXITCODE) {
        & apt-get -o DPkg::Lock::Timeout=300 update -qq | Out-Null
        & apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends @missing | Out-Null
    }
    if ($LASTEXITCODE) { Write-Warning "apt-get could not install: $($missing -join ', '). Tests that need them will skip." }
}
else {
    foreach ($name in $missing) {
        Write-Warning "Debian package '$name' is missing ($($needed[$name])); run as root to install it, or the tests that need it skip."
    }
}
