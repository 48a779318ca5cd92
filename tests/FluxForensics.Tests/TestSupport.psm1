# Helpers shared by the Pester suites. The suites run in a fresh pwsh started by build/Invoke-PesterSuite.ps1 and import
# the *built* module (out/FluxForensics/<version>), never the sources.
Set-StrictMode -Version 3.0

function Get-FluxRoot {
    if ($env:FLUXFORENSICS_ROOT) { return $env:FLUXFORENSICS_ROOT }
    (Resolve-Path (Join-Path $PSScriptRoot '../..')).Path
}

function Get-FluxModulePath {
    <# The folder of the built module (holding FluxForensics.psd1). #>
    if ($env:FLUXFORENSICS_MODULE) { return $env:FLUXFORENSICS_MODULE }
    $version = ([xml](Get-Content -Raw (Join-Path (Get-FluxRoot) 'Directory.Build.props'))).Project.PropertyGroup.Version | Where-Object { $_ } | Select-Object -First 1
    Join-Path (Get-FluxRoot) "out/FluxForensics/$version"
}

function Get-FluxManifestPath { Join-Path (Get-FluxModulePath) 'FluxForensics.psd1' }

function Get-FluxCorpusPath {
    <# ../shared/corpus beside the repository: public files tests may read but never copy. #>
    Join-Path (Split-Path -Parent (Get-FluxRoot)) 'shared/corpus'
}

function Get-FluxSamplePath { Join-Path (Get-FluxRoot) 'out/samples' }

function Get-FluxFixturesDll {
    $dll = Join-Path (Get-FluxRoot) 'tests/Fixtures/bin/Release/net10.0/FluxForensics.Fixtures.dll'
    if (-not (Test-Path -LiteralPath $dll)) { $dll = Join-Path (Get-FluxRoot) 'tests/Fixtures/bin/Debug/net10.0/FluxForensics.Fixtures.dll' }
    $dll
}

function Test-FluxFixtureCommand([string] $Name) {
    <# True when the fixtures program knows the command (its usage lists every command). #>
    $usage = & dotnet (Get-FluxFixturesDll) 2>&1 | Out-String
    $usage -match "(?m)^\s+$([regex]::Escape($Name))\s"
}

function Invoke-FluxFixture {
    <# Runs a fixture command and returns its standard output; throws with its standard error on failure. #>
    param([Parameter(Mandatory)] [string] $Name, [string[]] $Arguments = @())
    $out = & dotnet (Get-FluxFixturesDll) $Name @Arguments 2>&1
    if ($LASTEXITCODE) { throw "fixture $Name failed ($LASTEXITCODE): $($out | Out-String)" }
    $out
}

function Get-FluxPwshCommand {
    <#
    How to start a fresh PowerShell like this one: the installed pwsh, or (for the dotnet tool, which has no native
    executable on Linux) dotnet with the tool's pwsh.dll.
    #>
    $self = (Get-Process -Id $PID).Path
    if ([System.IO.Path]::GetFileNameWithoutExtension($self) -eq 'dotnet') {
        return [pscustomobject]@{ File = $self; Prefix = @(Join-Path $PSHOME 'pwsh.dll') }
    }
    [pscustomobject]@{ File = $self; Prefix = @() }
}

function Invoke-FluxFreshPwsh {
    <#
    Runs a script in a fresh, non-interactive pwsh that has imported the built module. Returns ExitCode, Output and
    Error. A run longer than TimeoutSeconds is killed and reported as a timeout.
    #>
    param(
        [Parameter(Mandatory)] [string] $Script,
        [int] $TimeoutSeconds = 120,
        [switch] $NoModule,
        [hashtable] $Environment = @{},
        # Run inside this network namespace (ip netns exec), e.g. the client side of New-FluxTestNetwork.
        [string] $NetNamespace
    )
    $pwsh = Get-FluxPwshCommand
    $prelude = if ($NoModule) { '' } else { "Import-Module '$(Get-FluxManifestPath)' -ErrorAction Stop`n" }
    $scriptFile = Join-Path ([System.IO.Path]::GetTempPath()) ("flux-" + [guid]::NewGuid().ToString('n') + '.ps1')
    Set-Content -LiteralPath $scriptFile -Value ($prelude + $Script) -Encoding utf8
    try {
        $psi = [System.Diagnostics.ProcessStartInfo]::new($pwsh.File)
        $arguments = @($pwsh.Prefix) + @('-NoLogo', '-NoProfile', '-NonInteractive', '-File', $scriptFile)
        if ($NetNamespace) {
            $arguments = @('netns', 'exec', $NetNamespace, $pwsh.File) + $arguments
            $psi.FileName = (Get-Command ip).Source
        }
        # ArgumentList does not exist on .NET Framework (Windows PowerShell 5.1): quote by hand there.
        if ($psi.PSObject.Properties['ArgumentList']) { foreach ($a in $arguments) { $psi.ArgumentList.Add($a) } }
        else { $psi.Arguments = ($arguments | ForEach-Object { '"' + ($_ -replace '"', '\"') + '"' }) -join ' ' }
        $psi.RedirectStandardOutput = $true
        $psi.RedirectStandardError = $true
        $psi.UseShellExecute = $false
        $psi.Environment['NO_COLOR'] = '1'
        foreach ($k in $Environment.Keys) { $psi.Environment[$k] = [string]$Environment[$k] }
        $p = [System.Diagnostics.Process]::Start($psi)
        $stdout = $p.StandardOutput.ReadToEndAsync()
        $stderr = $p.StandardError.ReadToEndAsync()
        if (-not $p.WaitForExit($TimeoutSeconds * 1000)) {
            try { $p.Kill($true) } catch { $p.Kill() }
            throw "fresh pwsh timed out after $TimeoutSeconds s. Output: $($stdout.Result) $($stderr.Result)"
        }
        $p.WaitForExit()
        [pscustomobject]@{ ExitCode = $p.ExitCode; Output = $stdout.Result; Error = $stderr.Result }
    }
    finally {
        Remove-Item -LiteralPath $scriptFile -ErrorAction SilentlyContinue
    }
}

function Get-FluxCoreAssembly {
    <# FluxForensics.Core as the imported module loaded it (it loads lazily with the first cmdlet call: force it). #>
    $assembly = [AppDomain]::CurrentDomain.GetAssemblies() | Where-Object { $_.GetName().Name -eq 'FluxForensics.Core' } | Select-Object -First 1
    if ($assembly) { return $assembly }
    $module = Get-Module FluxForensics | Select-Object -First 1
    if (-not $module) { throw 'Import the FluxForensics module first.' }
    $framework = if ($PSVersionTable.PSEdition -eq 'Core') { 'net8.0' } else { 'net472' }
    [System.Reflection.Assembly]::LoadFrom((Join-Path (Join-Path $module.ModuleBase $framework) 'FluxForensics.Core.dll'))
}

function New-FluxFinding {
    <#
    Creates a finding of the given model type with the given property values, through reflection (the model's setters
    are internal: only Core makes findings). For tests of serialization, views and remediation input.
    #>
    param([Parameter(Mandatory)] [string] $Type, [hashtable] $Property = @{})
    $assembly = Get-FluxCoreAssembly
    $t = $assembly.GetType("FluxForensics.Model.$Type", $true)
    $o = [Activator]::CreateInstance($t, $true)
    foreach ($key in $Property.Keys) {
        $prop = $t.GetProperty($key)
        if (-not $prop) { throw "$Type has no property $key" }
        $setter = $prop.GetSetMethod($true)
        if (-not $setter) { throw "$Type.$key has no setter" }
        $value = $Property[$key]
        if ($null -ne $value -and -not $prop.PropertyType.IsInstanceOfType($value)) {
            $value = [System.Management.Automation.LanguagePrimitives]::ConvertTo($value, $prop.PropertyType)
        }
        [void]$setter.Invoke($o, @(, $value))
    }
    $o
}

function Test-FluxIsRoot {
    if ($IsWindows) { return ([Security.Principal.WindowsPrincipal][Security.Principal.WindowsIdentity]::GetCurrent()).IsInRole('Administrators') }
    (& id -u) -eq '0'
}

function Get-FluxFreeTcpPort {
    $listener = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Loopback, 0)
    $listener.Start()
    try { $listener.LocalEndpoint.Port } finally { $listener.Stop() }
}

function Start-FluxSshServer {
    <#
    Starts an sshd on 127.0.0.1 with its own config, host key and client key in a temp dir, and a `powershell`
    subsystem that runs this PowerShell (for the dotnet tool: a two-line script that execs dotnet on pwsh.dll).
    Returns connection details, or a Skip reason when sshd cannot run here.

    With -NetNamespace it runs inside that network namespace (from New-FluxTestNetwork) on -ListenAddress, and with
    -UtsHostName in its own UTS namespace under that host name, so the remote side reports its own computer name.
    -ModulePath becomes the subsystem's PSModulePath (with a private HOME, so nothing the user installed leaks in);
    -ClientKeyFrom reuses another server's client key, so one key logs in everywhere.
    #>
    param(
        [string] $NetNamespace,
        [string] $ListenAddress = '127.0.0.1',
        # Run sshd in a UTS namespace of its own with this host name, so the remote session is another computer by name.
        [string] $UtsHostName,
        [string] $ModulePath,
        $ClientKeyFrom
    )
    $sshd = @('/usr/sbin/sshd', (Get-Command sshd -ErrorAction SilentlyContinue).Source) | Where-Object { $_ -and (Test-Path -LiteralPath $_) } | Select-Object -First 1
    if (-not $sshd) { return [pscustomobject]@{ Skip = 'sshd is not installed (Debian package openssh-server)' } }
    if (-not (Get-Command ssh -ErrorAction SilentlyContinue)) { return [pscustomobject]@{ Skip = 'the ssh client is not installed (Debian package openssh-client)' } }
    if (-not (Test-FluxIsRoot)) { return [pscustomobject]@{ Skip = 'sshd for the remoting tests needs root (it logs in as the current user with its own host key)' } }

    $dir = Join-Path ([System.IO.Path]::GetTempPath()) ("flux-sshd-" + [guid]::NewGuid().ToString('n'))
    New-Item -ItemType Directory -Path $dir | Out-Null
    & chmod 700 $dir
    & ssh-keygen -q -t ed25519 -N '' -f (Join-Path $dir 'host_key') | Out-Null
    if ($ClientKeyFrom) {
        Copy-Item -LiteralPath $ClientKeyFrom.KeyFilePath, "$($ClientKeyFrom.KeyFilePath).pub" -Destination $dir
    }
    else {
        & ssh-keygen -q -t ed25519 -N '' -f (Join-Path $dir 'client_key') | Out-Null
    }
    Copy-Item -LiteralPath (Join-Path $dir 'client_key.pub') -Destination (Join-Path $dir 'authorized_keys')
    & chmod 600 (Join-Path $dir 'authorized_keys') (Join-Path $dir 'host_key') (Join-Path $dir 'client_key')

    $pwsh = Get-FluxPwshCommand
    $subsystem = Join-Path $dir 'pwsh-subsystem.sh'
    $exec = if ($pwsh.Prefix) { "exec '$($pwsh.File)' '$($pwsh.Prefix[0])' -sshs -NoLogo -NoProfile" } else { "exec '$($pwsh.File)' -sshs -NoLogo -NoProfile" }
    $environment = ''
    if ($ModulePath) {
        New-Item -ItemType Directory -Force -Path (Join-Path $dir 'home') | Out-Null
        $environment = "export PSModulePath='$ModulePath' HOME='$dir/home' XDG_DATA_HOME='$dir/home/data' XDG_CONFIG_HOME='$dir/home/config' XDG_CACHE_HOME='$dir/home/cache'`n"
    }
    Set-Content -LiteralPath $subsystem -Value "#!/bin/sh`n$environment$exec" -NoNewline
    & chmod 755 $subsystem

    $port = if ($NetNamespace) { 22 } else { Get-FluxFreeTcpPort }
    $dotnetRoot = Split-Path -Parent (Get-Command dotnet).Source
    $config = @"
Port $port
ListenAddress $ListenAddress
HostKey $dir/host_key
PidFile $dir/sshd.pid
AuthorizedKeysFile $dir/authorized_keys
PasswordAuthentication no
KbdInteractiveAuthentication no
PubkeyAuthentication yes
PermitRootLogin yes
StrictModes no
UsePAM no
SetEnv PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:$dotnetRoot DOTNET_ROOT=$dotnetRoot
Subsystem powershell $subsystem
"@
    Set-Content -LiteralPath (Join-Path $dir 'sshd_config') -Value $config
    New-Item -ItemType Directory -Force -Path '/run/sshd' | Out-Null
    $log = Join-Path $dir 'sshd.log'
    $sshdArguments = @('-D', '-e', '-f', (Join-Path $dir 'sshd_config'), '-E', $log)
    if ($NetNamespace) {
        # ip netns exec, unshare and sh each exec the next, so the process started is sshd itself.
        $inner = "$(if ($UtsHostName) { "hostname '$UtsHostName' && " })exec '$sshd' $($sshdArguments | ForEach-Object { "'$_'" })"
        $psi = [System.Diagnostics.ProcessStartInfo]::new((Get-Command ip).Source)
        foreach ($a in @('netns', 'exec', $NetNamespace, 'unshare', '--uts', 'sh', '-c', $inner)) { $psi.ArgumentList.Add($a) }
        $psi.UseShellExecute = $false
        $process = [System.Diagnostics.Process]::Start($psi)
    }
    elseif ($UtsHostName) {
        if (-not (Get-Command unshare -ErrorAction SilentlyContinue)) { return [pscustomobject]@{ Skip = 'unshare (util-linux) is not installed' } }
        $launcher = Join-Path $dir 'sshd-uts.sh'
        Set-Content -LiteralPath $launcher -Value "#!/bin/sh`nhostname '$UtsHostName' || exit 1`nexec '$sshd' `"`$@`"`n" -NoNewline
        & chmod 755 $launcher
        $process = Start-Process -FilePath 'unshare' -ArgumentList (@('--uts', $launcher) + $sshdArguments) -PassThru
    }
    else {
        $process = Start-Process -FilePath $sshd -ArgumentList $sshdArguments -PassThru
    }
    $deadline = [DateTime]::UtcNow.AddSeconds(15)
    while ([DateTime]::UtcNow -lt $deadline -and -not $process.HasExited) {
        if ($NetNamespace) {
            # Not reachable from here: sshd says when it listens.
            if ((Get-Content -Raw -LiteralPath $log -ErrorAction SilentlyContinue) -match 'Server listening') { break }
            Start-Sleep -Milliseconds 100
            continue
        }
        try {
            $c = [System.Net.Sockets.TcpClient]::new('127.0.0.1', $port); $c.Dispose(); break
        }
        catch { Start-Sleep -Milliseconds 100 }
    }
    if ($process.HasExited) {
        return [pscustomobject]@{ Skip = "sshd did not start: $(Get-Content -Raw -LiteralPath $log -ErrorAction SilentlyContinue)" }
    }
    [pscustomobject]@{
        Skip        = $null
        Process     = $process
        Directory   = $dir
        Port        = $port
        Address     = $ListenAddress
        HostName    = $UtsHostName
        KeyFilePath = Join-Path $dir 'client_key'
        UserName    = [Environment]::UserName
        Log         = $log
    }
}

function New-FluxSshSession([Parameter(Mandatory)] $Server) {
    New-PSSession -HostName 127.0.0.1 -Port $Server.Port -UserName $Server.UserName -KeyFilePath $Server.KeyFilePath `
        -Options @{ StrictHostKeyChecking = 'no'; UserKnownHostsFile = '/dev/null'; LogLevel = 'ERROR' } -ErrorAction Stop
}

function Stop-FluxSshServer($Server) {
    if (-not $Server -or $Server.Skip) { return }
    if ($Server.Process -and -not $Server.Process.HasExited) { $Server.Process.Kill(); $Server.Process.WaitForExit(5000) | Out-Null }
    $tmp = [System.IO.Path]::GetTempPath()
    if ($Server.Directory -and $Server.Directory.StartsWith($tmp) -and (Test-Path -LiteralPath $Server.Directory)) {
        Remove-Item -LiteralPath $Server.Directory -Recurse -Force
    }
}

function New-FluxTestNetwork {
    <#
    Network namespaces for remoting tests: one client namespace and one per host name, each host joined to the client
    by a veth pair in its own private /30 (10.213.47.4n+1 client side, .4n+2 host side), which exists only inside
    these namespaces. /etc/netns/<client>/hosts (which `ip netns exec` puts over /etc/hosts) names the hosts, and
    -DeadHostName names an address no route leads to. Returns the namespaces and addresses, or a Skip reason.
    #>
    param([Parameter(Mandatory)] [string[]] $HostName, [string[]] $DeadHostName = @())
    if (-not $IsLinux) { return [pscustomobject]@{ Skip = 'network namespaces exist on Linux only' } }
    if (-not (Test-FluxIsRoot)) { return [pscustomobject]@{ Skip = 'network namespaces need root' } }
    if (-not (Get-Command ip -ErrorAction SilentlyContinue) -or -not (Get-Command unshare -ErrorAction SilentlyContinue)) {
        return [pscustomobject]@{ Skip = 'ip (iproute2) and unshare (util-linux) are needed for the test network' }
    }
    $id = [guid]::NewGuid().ToString('n').Substring(0, 5)
    $client = "fx$id-c"
    $net = [pscustomobject]@{ Skip = $null; Id = $id; Client = $client; Hosts = @(); Namespaces = @($client) }
    & ip netns add $client 2>&1 | Out-Null
    if ($LASTEXITCODE) { return [pscustomobject]@{ Skip = "ip netns add failed (no CAP_SYS_ADMIN here?)" } }
    & ip -n $client link set lo up
    $lines = @('127.0.0.1 localhost')
    $i = 0
    foreach ($name in $HostName) {
        $i++
        $ns = "fx$id-$i"
        & ip netns add $ns
        $net.Namespaces += $ns
        & ip link add "fx$id-c$i" netns $client type veth peer name "fx$id-h$i" netns $ns
        & ip -n $client addr add "10.213.47.$(4 * $i + 1)/30" dev "fx$id-c$i"
        & ip -n $ns addr add "10.213.47.$(4 * $i + 2)/30" dev "fx$id-h$i"
        & ip -n $client link set "fx$id-c$i" up
        & ip -n $ns link set "fx$id-h$i" up
        & ip -n $ns link set lo up
        $lines += "10.213.47.$(4 * $i + 2) $name"
        $net.Hosts += [pscustomobject]@{ Name = $name; Namespace = $ns; Address = "10.213.47.$(4 * $i + 2)" }
    }
    foreach ($name in $DeadHostName) { $lines += "10.213.47.254 $name" }
    New-Item -ItemType Directory -Force -Path "/etc/netns/$client" | Out-Null
    Set-Content -LiteralPath "/etc/netns/$client/hosts" -Value $lines
    $net
}

function Remove-FluxTestNetwork($Network) {
    if (-not $Network -or $Network.Skip) { return }
    foreach ($ns in $Network.Namespaces) { & ip netns del $ns 2>&1 | Out-Null }
    if ($Network.Client -match '^fx[0-9a-f]{5}-c$' -and (Test-Path -LiteralPath "/etc/netns/$($Network.Client)")) {
        Remove-Item -LiteralPath "/etc/netns/$($Network.Client)" -Recurse -Force
    }
}

function Install-FluxPackage {
    <#
    Installs the module from the built .nupkg (out/package, made by build.ps1 Package) into -Destination with
    PSResourceGet from a private local repository, as an administrator would onto a computer to be swept. Returns
    the destination, or throws with the reason.
    #>
    param([Parameter(Mandatory)] [string] $Destination)
    $package = Get-ChildItem -LiteralPath (Join-Path (Get-FluxRoot) 'out/package') -Filter 'FluxForensics.*.nupkg' -ErrorAction SilentlyContinue | Select-Object -First 1
    if (-not $package) { throw 'no package in out/package: run build.ps1 Package (the Test task does)' }
    $sandbox = New-FluxTempDirectory 'flux-psresource'
    try {
        $repository = 'FluxLocal' + [guid]::NewGuid().ToString('n').Substring(0, 8)
        $script = @"
`$ErrorActionPreference = 'Stop'
Register-PSResourceRepository -Name $repository -Uri '$($package.DirectoryName)' -Trusted
try { Save-PSResource -Name FluxForensics -Repository $repository -Path '$Destination' -TrustRepository -Quiet -IncludeXml }
finally { Unregister-PSResourceRepository -Name $repository }
"@
        New-Item -ItemType Directory -Force -Path $Destination | Out-Null
        # The XDG folders exist before PowerShell starts: while XDG_DATA_HOME is missing, .NET answers LocalApplicationData
        # with an empty string and PSResourceGet writes its repository list relative to the current directory.
        foreach ($folder in 'data', 'config', 'cache') { New-Item -ItemType Directory -Force -Path (Join-Path $sandbox $folder) | Out-Null }
        $environment = @{ HOME = $sandbox; XDG_DATA_HOME = (Join-Path $sandbox 'data'); XDG_CONFIG_HOME = (Join-Path $sandbox 'config'); XDG_CACHE_HOME = (Join-Path $sandbox 'cache'); DOTNET_CLI_HOME = [Environment]::GetFolderPath('UserProfile') }
        $r = Invoke-FluxFreshPwsh -NoModule -Script $script -Environment $environment -TimeoutSeconds 180
        if ($r.ExitCode -or -not (Test-Path -LiteralPath (Join-Path $Destination 'FluxForensics'))) { throw "installing $($package.Name) failed ($($r.ExitCode)): $($r.Output) $($r.Error)" }
        $Destination
    }
    finally { Remove-FluxTempDirectory $sandbox }
}

function New-FluxTempDirectory([string] $Prefix = 'flux') {
    $dir = Join-Path ([System.IO.Path]::GetTempPath()) ("$Prefix-" + [guid]::NewGuid().ToString('n'))
    New-Item -ItemType Directory -Path $dir | Out-Null
    $dir
}

function Remove-FluxTempDirectory([string] $Path) {
    <# Removes only directories created under the temp folder. #>
    $tmp = [System.IO.Path]::GetTempPath()
    if ($Path -and $Path.StartsWith($tmp) -and $Path.Length -gt $tmp.Length + 4 -and (Test-Path -LiteralPath $Path)) {
        Remove-Item -LiteralPath $Path -Recurse -Force -ErrorAction SilentlyContinue
    }
}

function Test-FluxCmdletImplemented([string] $Name, [scriptblock] $Probe) {
    <# False while a cmdlet is still the shell that stops with NotImplementedYet. #>
    try { & $Probe | Out-Null; $true }
    catch { $_.FullyQualifiedErrorId -notlike 'NotImplementedYet*' }
}

Export-ModuleMember -Function *
