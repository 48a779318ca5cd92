<#
.SYNOPSIS
    Turns docs/<Cmdlet>.md into MAML (<assembly>-Help.xml) so Get-Help -Full and -Examples work for the compiled
    cmdlets. platyPS is not available offline, so the build converts the markdown itself.
.DESCRIPTION
    Markdown sections: "## SYNOPSIS", "## DESCRIPTION", "## PARAMETERS" with "### -Name" entries, "## EXAMPLES" with
    "### Example N: title" entries (a fenced code block then remarks), "## INPUTS", "## OUTPUTS" ("### Type" entries),
    "## NOTES". A parameter's text may end with a line "Default value: ..." for a parameter whose unset value means
    something; other defaults are the compiled initial values. Parameter types, positions, pipeline input and parameter sets come from the compiled cmdlets
    (Get-Command on the built module), so the help cannot drift from the code. A cmdlet without a page, or a parameter
    without text, fails the build.
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory)] [string] $ModulePath,
    [Parameter(Mandatory)] [string] $DocsPath,
    # Several folders separated by ';' (one per framework build).
    [Parameter(Mandatory)] [string] $OutputFolder
)
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version 3.0

$module = Import-Module (Join-Path $ModulePath 'FluxForensics.psd1') -PassThru -Force
$commonParameters = [System.Management.Automation.PSCmdlet]::CommonParameters + [System.Management.Automation.PSCmdlet]::OptionalCommonParameters

function ConvertFrom-HelpMarkdown([string] $Path) {
    $doc = @{ Synopsis = ''; Description = ''; Parameters = @{}; Defaults = @{}; Examples = [System.Collections.Generic.List[object]]::new(); Inputs = @(); Outputs = @(); Notes = '' }
    $section = ''; $sub = $null; $buffer = [System.Text.StringBuilder]::new(); $inFence = $false
    $flush = {
        $text = $buffer.ToString().Trim()
        [void]$buffer.Clear()
        switch ($section) {
            'SYNOPSIS' { $doc.Synopsis = $text }
            'DESCRIPTION' { $doc.Description = $text }
            'NOTES' { $doc.Notes = $text }
            'PARAMETERS' {
                if ($sub) {
                    $name = $sub.TrimStart('-')
                    if ($text -match '(?m)^Default value:\s*(.+?)\s*$') {
                        $doc.Defaults[$name] = $Matches[1]
                        $text = ($text -replace '(?m)^Default value:.*$', '').Trim()
                    }
                    $doc.Parameters[$name] = $text
                }
            }
            'EXAMPLES' {
                if ($sub) {
                    $code = ''; $remarks = $text
                    if ($text -match '(?s)```[a-zA-Z]*\r?\n(.*?)\r?\n```(.*)') { $code = $Matches[1].Trim(); $remarks = $Matches[2].Trim() }
                    $doc.Examples.Add([pscustomobject]@{ Title = $sub; Code = $code; Remarks = $remarks })
                }
            }
            'INPUTS' { if ($sub) { $doc.Inputs += [pscustomobject]@{ Type = $sub; Text = $text } } }
            'OUTPUTS' { if ($sub) { $doc.Outputs += [pscustomobject]@{ Type = $sub; Text = $text } } }
        }
    }
    foreach ($line in Get-Content -LiteralPath $Path) {
        if ($line -match '^```') { $inFence = -not $inFence }
        if (-not $inFence -and $line -match '^## (.+)$') { & $flush; $section = $Matches[1].Trim().ToUpperInvariant(); $sub = $null; continue }
        if (-not $inFence -and $line -match '^### (.+)$') { & $flush; $sub = $Matches[1].Trim(); continue }
        if (-not $inFence -and $line -match '^# ') { continue }
        [void]$buffer.AppendLine($line)
    }
    & $flush
    $doc
}

# The default shown by Get-Help: a "Default value: ..." line of the parameter's text when the page has one (for a
# parameter whose unset value means something, such as the platform's store), else the compiled initial value,
# else None.
function Get-DefaultValueText($command, $instance, $parameter, $doc) {
    if ($doc.Defaults.ContainsKey($parameter.Name)) { return $doc.Defaults[$parameter.Name] }
    if ($parameter.ParameterType -eq [System.Management.Automation.SwitchParameter]) { return 'False' }
    $value = $instance.($parameter.Name)
    if ($null -eq $value) { return 'None' }
    if ($value -is [array]) { return $(if ($value.Count) { $value -join ', ' } else { 'None' }) }
    [string]$value
}

function Add-Paragraphs([System.Xml.XmlWriter] $w, [string] $text) {
    $paragraphs = @($text -split '\r?\n\s*\r?\n' | Where-Object { $_.Trim() })
    if (-not $paragraphs) { $paragraphs = @('') }
    foreach ($p in $paragraphs) {
        $w.WriteElementString('maml', 'para', $mamlNs, (($p -split '\r?\n' | ForEach-Object { $_.Trim() }) -join ' '))
    }
}

$mamlNs = 'http://schemas.microsoft.com/maml/2004/10'
$commandNs = 'http://schemas.microsoft.com/maml/dev/command/2004/10'
$devNs = 'http://schemas.microsoft.com/maml/dev/2004/10'

$settings = [System.Xml.XmlWriterSettings]::new()
$settings.Indent = $true
$settings.Encoding = [System.Text.UTF8Encoding]::new($false)
$stream = [System.IO.MemoryStream]::new()
$w = [System.Xml.XmlWriter]::Create($stream, $settings)
$w.WriteStartDocument()
$w.WriteStartElement('helpItems', 'http://msh')
$w.WriteAttributeString('schema', 'maml')

$problems = [System.Collections.Generic.List[string]]::new()
if ($module.ExportedCmdlets.Count -eq 0) { $problems.Add('the built module exports no cmdlets') }
foreach ($name in ($module.ExportedCmdlets.Keys | Sort-Object)) {
    $command = Get-Command -Name $name -Module $module.Name
    $page = Join-Path $DocsPath "$name.md"
    if (-not (Test-Path -LiteralPath $page)) { $problems.Add("$name has no help page $page"); continue }
    $doc = ConvertFrom-HelpMarkdown $page
    if (-not $doc.Synopsis) { $problems.Add("$name.md has no SYNOPSIS") }
    if (-not $doc.Description) { $problems.Add("$name.md has no DESCRIPTION") }
    if ($doc.Examples.Count -lt 2) { $problems.Add("$name.md has fewer than two examples") }
    $parameters = @($command.Parameters.Values | Where-Object { $_.Name -notin $commonParameters } | Sort-Object Name)
    foreach ($p in $parameters) { if (-not $doc.Parameters.ContainsKey($p.Name)) { $problems.Add("$name.md does not describe -$($p.Name)") } }

    $w.WriteStartElement('command', 'command', $commandNs)
    $w.WriteAttributeString('xmlns', 'maml', $null, $mamlNs)
    $w.WriteAttributeString('xmlns', 'dev', $null, $devNs)
    $w.WriteStartElement('command', 'details', $commandNs)
    $w.WriteElementString('command', 'name', $commandNs, $name)
    $w.WriteElementString('command', 'verb', $commandNs, $command.Verb)
    $w.WriteElementString('command', 'noun', $commandNs, $command.Noun)
    $w.WriteStartElement('maml', 'description', $mamlNs); Add-Paragraphs $w $doc.Synopsis; $w.WriteEndElement()
    $w.WriteEndElement()
    $w.WriteStartElement('maml', 'description', $mamlNs); Add-Paragraphs $w $doc.Description; $w.WriteEndElement()

    $w.WriteStartElement('command', 'syntax', $commandNs)
    foreach ($set in $command.ParameterSets) {
        $w.WriteStartElement('command', 'syntaxItem', $commandNs)
        $w.WriteElementString('maml', 'name', $mamlNs, $name)
        foreach ($p in $set.Parameters | Where-Object { $_.Name -notin $commonParameters }) {
            $w.WriteStartElement('command', 'parameter', $commandNs)
            $w.WriteAttributeString('required', $p.IsMandatory.ToString().ToLowerInvariant())
            $w.WriteAttributeString('position', $(if ($p.Position -ge 0) { [string]($p.Position + 1) } else { 'named' }))
            $w.WriteElementString('maml', 'name', $mamlNs, $p.Name)
            if ($p.ParameterType -ne [System.Management.Automation.SwitchParameter]) {
                $w.WriteElementString('command', 'parameterValue', $commandNs, $p.ParameterType.Name)
            }
            $w.WriteEndElement()
        }
        $w.WriteEndElement()
    }
    $w.WriteEndElement()

    $w.WriteStartElement('command', 'parameters', $commandNs)
    # A fresh cmdlet object holds the parameters' initial values: the defaults the help shows.
    $instance = [Activator]::CreateInstance($command.ImplementingType)
    foreach ($p in $parameters) {
        $attributes = @($p.Attributes | Where-Object { $_ -is [System.Management.Automation.ParameterAttribute] })
        $pipeline = @()
        if ($attributes | Where-Object ValueFromPipeline) { $pipeline += 'ByValue' }
        if ($attributes | Where-Object ValueFromPipelineByPropertyName) { $pipeline += 'ByPropertyName' }
        $position = ($attributes | Where-Object { $_.Position -ge 0 } | Select-Object -First 1)
        $w.WriteStartElement('command', 'parameter', $commandNs)
        $w.WriteAttributeString('required', [string]([bool]($attributes | Where-Object Mandatory)).ToString().ToLowerInvariant())
        $w.WriteAttributeString('globbing', [string]([bool]($p.Attributes | Where-Object { $_ -is [System.Management.Automation.SupportsWildcardsAttribute] })).ToString().ToLowerInvariant())
        $w.WriteAttributeString('pipelineInput', $(if ($pipeline) { "True ($($pipeline -join ', '))" } else { 'False' }))
        $w.WriteAttributeString('position', $(if ($position) { [string]($position.Position + 1) } else { 'named' }))
        $w.WriteAttributeString('aliases', $(if ($p.Aliases.Count) { $p.Aliases -join ', ' } else { 'none' }))
        $w.WriteElementString('maml', 'name', $mamlNs, $p.Name)
        $w.WriteStartElement('maml', 'description', $mamlNs); Add-Paragraphs $w ([string]$doc.Parameters[$p.Name]); $w.WriteEndElement()
        if ($p.ParameterType -ne [System.Management.Automation.SwitchParameter]) {
            $w.WriteElementString('command', 'parameterValue', $commandNs, $p.ParameterType.Name)
        }
        $w.WriteStartElement('dev', 'type', $devNs); $w.WriteElementString('maml', 'name', $mamlNs, $p.ParameterType.FullName); $w.WriteEndElement()
        $w.WriteElementString('dev', 'defaultValue', $devNs, (Get-DefaultValueText $command $instance $p $doc))
        $w.WriteEndElement()
    }
    $w.WriteEndElement()

    $w.WriteStartElement('command', 'inputTypes', $commandNs)
    foreach ($i in $doc.Inputs) {
        $w.WriteStartElement('command', 'inputType', $commandNs)
        $w.WriteStartElement('dev', 'type', $devNs); $w.WriteElementString('maml', 'name', $mamlNs, $i.Type); $w.WriteEndElement()
        $w.WriteStartElement('maml', 'description', $mamlNs); Add-Paragraphs $w $i.Text; $w.WriteEndElement()
        $w.WriteEndElement()
    }
    $w.WriteEndElement()
    $w.WriteStartElement('command', 'returnValues', $commandNs)
    $outputs = if ($doc.Outputs) { $doc.Outputs } else { @($command.OutputType | ForEach-Object { [pscustomobject]@{ Type = $_.Name; Text = '' } }) }
    foreach ($o in $outputs) {
        $w.WriteStartElement('command', 'returnValue', $commandNs)
        $w.WriteStartElement('dev', 'type', $devNs); $w.WriteElementString('maml', 'name', $mamlNs, $o.Type); $w.WriteEndElement()
        $w.WriteStartElement('maml', 'description', $mamlNs); Add-Paragraphs $w $o.Text; $w.WriteEndElement()
        $w.WriteEndElement()
    }
    $w.WriteEndElement()
    $w.WriteStartElement('maml', 'alertSet', $mamlNs)
    $w.WriteStartElement('maml', 'alert', $mamlNs); Add-Paragraphs $w $doc.Notes; $w.WriteEndElement()
    $w.WriteEndElement()
    $w.WriteStartElement('command', 'examples', $commandNs)
    foreach ($e in $doc.Examples) {
        $w.WriteStartElement('command', 'example', $commandNs)
        $w.WriteElementString('maml', 'title', $mamlNs, "-------------------------- $($e.Title) --------------------------")
        $w.WriteElementString('dev', 'code', $devNs, $e.Code)
        $w.WriteStartElement('dev', 'remarks', $devNs); Add-Paragraphs $w $e.Remarks; $w.WriteEndElement()
        $w.WriteEndElement()
    }
    $w.WriteEndElement()
    $w.WriteStartElement('command', 'relatedLinks', $commandNs)
    if ($command.HelpUri) {
        # Get-Help -Online takes the first link with a URI: the cmdlet's HelpUri.
        $w.WriteStartElement('maml', 'navigationLink', $mamlNs)
        $w.WriteElementString('maml', 'linkText', $mamlNs, 'Online Version:')
        $w.WriteElementString('maml', 'uri', $mamlNs, $command.HelpUri)
        $w.WriteEndElement()
    }
    $w.WriteStartElement('maml', 'navigationLink', $mamlNs); $w.WriteElementString('maml', 'linkText', $mamlNs, 'about_FluxForensics'); $w.WriteEndElement()
    $w.WriteEndElement()
    $w.WriteEndElement()
}
$w.WriteEndElement()
$w.WriteEndDocument()
$w.Flush()

if ($problems.Count) {
    $problems | ForEach-Object { Write-Host "help: $_" -ForegroundColor Red }
    exit 1
}
foreach ($folder in $OutputFolder -split ';' | Where-Object { $_ }) {
    New-Item -ItemType Directory -Force -Path $folder | Out-Null
    [System.IO.File]::WriteAllBytes((Join-Path $folder 'FluxForensics.dll-Help.xml'), $stream.ToArray())
}
exit 0
