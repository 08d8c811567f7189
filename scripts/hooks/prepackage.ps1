# azd prepackage hook (service api): compile the TypeScript locally so a type error stops `azd deploy` here, before
# the upload; the remote build on Flex Consumption then installs Linux dependencies and builds the same sources.
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest

Set-Location (Join-Path $PSScriptRoot '..' '..')
if (-not (Test-Path 'node_modules')) {
  npm ci --no-audit --no-fund
  if ($LASTEXITCODE -ne 0) { exit $LASTEXITCODE }
}
npm run build
if ($LASTEXITCODE -ne 0) { exit $LASTEXITCODE }
