# azd postdeploy hook: subscribes classifyBlob to the images container's blob events by deploying
# infra/eventgrid-subscription.bicep. It runs after deploy because the subscription must point at a function that
# exists. An ARM deployment converges to the template, so re-running (or a second `azd up`) changes nothing.
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest

$root = Resolve-Path (Join-Path $PSScriptRoot '..' '..')
$template = Join-Path $root 'infra' 'eventgrid-subscription.bicep'
$functionName = 'classifyBlob'

# azd passes the environment's values to hooks as variables; run by hand, the script asks azd for them.
function Get-AzdValue([string] $name) {
  $current = [Environment]::GetEnvironmentVariable($name)
  if ([string]::IsNullOrWhiteSpace($current)) {
    $current = azd env get-value $name 2>$null
    if ($LASTEXITCODE -ne 0) { $current = '' }
  }
  if ([string]::IsNullOrWhiteSpace($current)) {
    throw "postdeploy: $name is not set in the azd environment. Run 'azd provision' first."
  }
  return $current.Trim()
}

if (-not (Get-Command az -ErrorAction SilentlyContinue)) {
  throw 'postdeploy: the Azure CLI (az) creates the Event Grid subscription; install it (see README, Deploy to Azure).'
}
az account show --only-show-errors *> $null
if ($LASTEXITCODE -ne 0) {
  throw "postdeploy: the Azure CLI is not signed in. Run 'az login', then 'azd hooks run postdeploy'."
}

$subscription = Get-AzdValue 'AZURE_SUBSCRIPTION_ID'
$resourceGroup = Get-AzdValue 'AZURE_RESOURCE_GROUP'
$functionApp = Get-AzdValue 'AZURE_FUNCTION_APP_NAME'
$systemTopic = Get-AzdValue 'EVENTGRID_SYSTEM_TOPIC_NAME'
$storageAccount = Get-AzdValue 'AZURE_STORAGE_ACCOUNT_NAME'
$subscriptionName = Get-AzdValue 'EVENTGRID_SUBSCRIPTION_NAME'
$imagesContainer = Get-AzdValue 'IMAGES_CONTAINER'
$deadLetterContainer = Get-AzdValue 'DEADLETTER_CONTAINER'

# The function is listed once the host has indexed the new package; give it up to five minutes.
for ($attempt = 1; ; $attempt++) {
  az functionapp function show --subscription $subscription --resource-group $resourceGroup `
    --name $functionApp --function-name $functionName --query name --output tsv --only-show-errors *> $null
  if ($LASTEXITCODE -eq 0) { break }
  if ($attempt -ge 20) {
    throw "postdeploy: $functionApp has no function $functionName after deploy. Check 'azd deploy' output and the app's logs."
  }
  Write-Host "Waiting for $functionName in $functionApp ($attempt/20)..."
  Start-Sleep -Seconds 15
}

for ($attempt = 1; ; $attempt++) {
  az deployment group create --subscription $subscription --resource-group $resourceGroup `
    --name blobsight-eventgrid-subscription --template-file $template `
    --parameters systemTopicName=$systemTopic functionAppName=$functionApp storageAccountName=$storageAccount `
    subscriptionName=$subscriptionName imagesContainerName=$imagesContainer `
    deadLetterContainerName=$deadLetterContainer functionName=$functionName `
    --only-show-errors --output none
  if ($LASTEXITCODE -eq 0) { break }
  if ($attempt -ge 3) {
    throw "postdeploy: creating the Event Grid subscription failed 3 times; fix the error above and run 'azd hooks run postdeploy'."
  }
  Write-Host "Retrying the Event Grid subscription in 30 s ($attempt/3)..."
  Start-Sleep -Seconds 30
}

Write-Host "Event Grid subscription ${subscriptionName}: BlobCreated/BlobDeleted in $imagesContainer -> $functionApp/$functionName (dead-letter: $deadLetterContainer)."
