# azd postprovision hook: writes local.settings.json from `azd env get-values`, so blobsight runs locally against the
# resources just provisioned, signed in as you and without keys. A previous file is kept as local.settings.json.bak.
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest

$root = Resolve-Path (Join-Path $PSScriptRoot '..' '..')

if (-not (Get-Command node -ErrorAction SilentlyContinue)) {
  Write-Error 'postprovision: Node.js 20+ is needed to write local.settings.json (see README, Deploy to Azure).'
  exit 1
}

$values = azd env get-values --output json | Out-String
if ($LASTEXITCODE -ne 0) { throw 'postprovision: azd env get-values failed.' }
$values | node (Join-Path $root 'scripts' 'hooks' 'writeLocalSettings.mjs') (Join-Path $root 'local.settings.json')
if ($LASTEXITCODE -ne 0) { exit $LASTEXITCODE }
