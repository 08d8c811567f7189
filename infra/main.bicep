// Everything `azd up` provisions for blobsight, in one resource group. Keyless by construction: no account keys,
// no connection strings with secrets; every caller authenticates with Entra ID and holds only the roles in app/rbac.bicep.
// Plain resource declarations with explicit API versions (no registry modules), so the templates read and check offline.
targetScope = 'subscription'

@minLength(1)
@maxLength(64)
@description('Name of the azd environment; seeds the resource token and names the resource group.')
param environmentName string

@minLength(1)
@description('Region for everything except Azure OpenAI. It must offer the Flex Consumption plan.')
@metadata({
  azd: {
    type: 'location'
  }
})
param location string

@description('Region of the Azure OpenAI account; empty means the same as location. It must offer GPT-4o with the chosen SKU.')
param openAiLocation string = ''

@description('Object id of the deploying user or service principal. When set, it gets the app\'s data roles so blobsight runs locally against these resources with az login. Empty: no roles for people.')
param principalId string = ''

@description('Kind of principal principalId names.')
@allowed([
  'User'
  'ServicePrincipal'
])
param principalType string = 'User'

// Optional extra models (infra/app/extraModels.bicep), for profiles that name their own provider; both off by default.

@description('Create an AI Services (Foundry) account with a Phi-4-multimodal-instruct deployment; sets FOUNDRY_ENDPOINT and FOUNDRY_MODEL.')
param deployFoundry bool = false

@description('Create an AI Vision account for Image Analysis 4.0 boxes; sets VISION_ENDPOINT.')
param deployVision bool = false

@description('Region of the AI Services account; empty means the same as location. It must offer the model with foundrySkuName.')
param foundryLocation string = ''

@description('Region of the AI Vision account; empty means the same as location.')
param visionLocation string = ''

@description('Name of the Foundry model deployment (FOUNDRY_MODEL).')
param foundryDeploymentName string = 'Phi-4-multimodal-instruct'

@description('Version of Phi-4-multimodal-instruct in the Foundry catalog.')
param foundryModelVersion string = '1'

@description('Deployment type of the Foundry model: GlobalStandard is its serverless pay-per-token offer.')
param foundrySkuName string = 'GlobalStandard'

@description('Capacity of the Foundry model deployment.')
@minValue(1)
param foundryCapacity int = 1

// Function app (Flex Consumption)

@description('Memory of each Flex Consumption instance, MB. 2048 leaves room for sharp on large images.')
@allowed([
  512
  2048
  4096
])
param instanceMemoryMB int = 2048

@description('Events one instance works on at once (Flex Consumption per-instance concurrency for HTTP-pushed Event Grid deliveries).')
@minValue(1)
@maxValue(1000)
param perInstanceConcurrency int = 16

@description('Most instances the app may scale out to. The app gets the smaller of this and quotaInstanceCount (derived from the GPT-4o capacity).')
@minValue(1)
@maxValue(1000)
param maximumInstanceCount int = 40

@description('PARKING_QUEUE: the Storage queue throttled events wait in for the model quota.')
param parkingQueueName string = 'parked-events'

// Azure OpenAI

@description('Name of the GPT-4o deployment the classifier calls (AZURE_OPENAI_DEPLOYMENT).')
param gpt4oDeploymentName string = 'gpt-4o'

@description('GPT-4o model version; pinned so results stay comparable until the version is retired.')
param gpt4oModelVersion string = '2024-11-20'

@description('Deployment type of GPT-4o. GlobalStandard is pay-per-token and has the widest regional availability.')
@allowed([
  'GlobalStandard'
  'DataZoneStandard'
  'Standard'
])
param gpt4oSkuName string = 'GlobalStandard'

@description('GPT-4o capacity in units of 1,000 tokens per minute; must fit your subscription\'s quota in openAiLocation.')
@minValue(1)
param gpt4oCapacity int = 30

@description('Also create a Global-Batch GPT-4o deployment (half price, answers within 24 h) for bulk re-labelling.')
param deployBatch bool = false

@description('Name of the optional Global-Batch deployment.')
param batchDeploymentName string = 'gpt-4o-batch'

@description('Capacity of the optional Global-Batch deployment, in units of 1,000 enqueued tokens.')
@minValue(1)
param batchCapacity int = 50

// Cosmos DB

@description('serverless: pay per request unit, nothing at rest. provisioned: autoscale throughput up to cosmosMaxThroughput.')
@allowed([
  'serverless'
  'provisioned'
])
param cosmosCapacityMode string = 'serverless'

@description('Autoscale maximum RU/s of the images container when cosmosCapacityMode is provisioned (it scales down to a tenth).')
@minValue(1000)
param cosmosMaxThroughput int = 1000

// What the app reads; the defaults are shared/config DEFAULTS (a unit test keeps them equal).

@description('Blob container that receives the images to classify (IMAGES_CONTAINER).')
param imagesContainerName string = 'images'

@description('Blob container where Event Grid dead-letters events it could not deliver (DEADLETTER_CONTAINER).')
param deadLetterContainerName string = 'deadletter'

@description('Cosmos DB database (COSMOS_DATABASE).')
param cosmosDatabaseName string = 'blobsight'

@description('Cosmos DB container holding one document per image (COSMOS_CONTAINER).')
param cosmosContainerName string = 'images'

@description('Azure OpenAI data-plane API version (OPENAI_API_VERSION).')
param openAiApiVersion string = '2024-10-21'

@description('Profile for blobs whose path and metadata name none (DEFAULT_PROFILE).')
param defaultProfile string = 'product-tags'

@description('Largest image accepted, bytes (MAX_IMAGE_BYTES).')
param maxImageBytes int = 20971520

@description('Largest image accepted, width x height (MAX_IMAGE_PIXELS).')
param maxImagePixels int = 40000000

@description('Timeout of one model request, ms (MODEL_TIMEOUT_MS).')
param modelTimeoutMs int = 20000

@description('Retries the OpenAI client makes on 429/5xx (MODEL_MAX_RETRIES).')
param modelMaxRetries int = 2

@description('Paid model requests per image version, SDK retries and redeliveries included, before it ends failed (MAX_MODEL_ATTEMPTS).')
@minValue(1)
@maxValue(100)
param maxModelAttempts int = 3

// Operate it: alerts, the workbook, the spending cap and the optional private network.

@description('Email address the alerts go to; empty: the action group has no receiver.')
param alertEmail string = ''

@description('DAILY_BUDGET_USD, US dollars per UTC day (e.g. 20): past it new images wait for the next day. Empty: no cap.')
param dailyBudgetUsd string = ''

@description('Daily model cost that raises an alert, USD.')
@minValue(1)
param alertDailyCostUsd int = 50

@description('Failure rate that raises an alert, percent of the hour\'s results.')
param alertFailureRatePercent int = 5

@description('Share of throttled (429) model calls that raises an alert, percent.')
param alertThrottledPercent int = 10

@description('Share of results needing review that raises an alert, percent of the day\'s results.')
param alertReviewSharePercent int = 30

@description('Reviewed accuracy below which an alert is raised, percent of 7 days\' reviews agreeing with the model.')
param alertReviewedAccuracyPercent int = 80

@description('Model latency (p90) that raises an alert, ms.')
param alertModelLatencyMs int = 5000

@description('Put the app behind a private network: VNet integration for the function app, private endpoints and DNS for storage, Cosmos DB and Azure OpenAI, public network access off. See README, Operate it.')
param privateNetwork bool = false
@description('CACHE_TTL_DAYS: days a content-cache answer is kept before Cosmos DB expires it.')
@minValue(1)
param cacheTtlDays int = 90

@description('REVIEW_LEASE_SECONDS: how long GET /api/review/next holds an image for one reviewer.')
@minValue(1)
param reviewLeaseSeconds int = 120

@description('OUTBOUND_WEBHOOKS: comma-separated URLs that also receive the outbound events (besides the Event Grid topic); empty by default.')
param outboundWebhooks string = ''

var abbrs = loadJsonContent('abbreviations.json')
var resourceToken = toLower(uniqueString(subscription().id, environmentName, location))
var tags = {
  'azd-env-name': environmentName
}
var functionAppName = '${abbrs.webSitesFunctions}${resourceToken}'
// Flex Consumption reads the app package from this container (a valid container name: at most 63 characters).
var deploymentContainerName = 'app-package-${take(functionAppName, 32)}-${take(resourceToken, 7)}'
// One subscription per function, updated in place when IMAGES_CONTAINER changes.
var eventSubscriptionName = '${abbrs.eventGridEventSubscriptions}classify-blob'

resource rg 'Microsoft.Resources/resourceGroups@2024-03-01' = {
  name: '${abbrs.resourcesResourceGroups}${environmentName}'
  location: location
  tags: tags
}

// The app's one identity; every data-plane role is granted to it in app/rbac.bicep.
module identity 'app/identity.bicep' = {
  name: 'identity'
  scope: rg
  params: {
    name: '${abbrs.managedIdentityUserAssignedIdentities}${resourceToken}'
    location: location
    tags: tags
  }
}

// Only for sign-in: App Service authentication presents this identity's token instead of a client secret. Apart from
// the app identity, as the App Service documentation asks: it holds no Azure role, so it can do nothing else.
module signInIdentity 'app/identity.bicep' = {
  name: 'sign-in-identity'
  scope: rg
  params: {
    name: '${abbrs.managedIdentityUserAssignedIdentities}${resourceToken}-signin'
    location: location
    tags: tags
  }
}

// Images, dead-lettered events and the app package, in one account with shared keys off.
module storage 'app/storage.bicep' = {
  name: 'storage'
  scope: rg
  params: {
    name: '${abbrs.storageStorageAccounts}${resourceToken}'
    location: location
    tags: tags
    // The last holds previews for GET /api/images/{id}/content (stored renditions); the app derives its name.
    containerNames: [
      imagesContainerName
      deadLetterContainerName
      deploymentContainerName
      '${imagesContainerName}-renditions'
    ]
    denyPublicNetwork: privateNetwork
    queueNames: [
      parkingQueueName
    ]
  }
}

// Logs and telemetry with local auth off; the app publishes with its identity.
module monitoring 'app/monitoring.bicep' = {
  name: 'monitoring'
  scope: rg
  params: {
    logAnalyticsName: '${abbrs.operationalInsightsWorkspaces}${resourceToken}'
    appInsightsName: '${abbrs.insightsComponents}${resourceToken}'
    location: location
    tags: tags
  }
}

// The GPT-4o deployment the classifier calls with Entra ID tokens.
module openAi 'app/openai.bicep' = {
  name: 'openai'
  scope: rg
  params: {
    name: '${abbrs.cognitiveServicesAccounts}${resourceToken}'
    location: empty(openAiLocation) ? location : openAiLocation
    tags: tags
    deploymentName: gpt4oDeploymentName
    modelVersion: gpt4oModelVersion
    skuName: gpt4oSkuName
    capacity: gpt4oCapacity
    deployBatch: deployBatch
    batchDeploymentName: batchDeploymentName
    batchCapacity: batchCapacity
    publicNetworkAccess: privateNetwork ? 'Disabled' : 'Enabled'
  }
}

// One document per image, reached with data-plane RBAC only.
module cosmos 'app/cosmos.bicep' = {
  name: 'cosmos'
  scope: rg
  params: {
    name: '${abbrs.documentDBDatabaseAccounts}${resourceToken}'
    location: location
    tags: tags
    databaseName: cosmosDatabaseName
    containerName: cosmosContainerName
    capacityMode: cosmosCapacityMode
    maxThroughput: cosmosMaxThroughput
    publicNetworkAccess: privateNetwork ? 'Disabled' : 'Enabled'
  }
}

// Publishes the storage account's blob events; the subscription to classifyBlob is added after deploy (postdeploy hook).
module eventGrid 'app/eventgrid.bicep' = {
  name: 'eventgrid'
  scope: rg
  params: {
    name: '${abbrs.eventGridSystemTopics}${resourceToken}'
    location: location
    tags: tags
    storageAccountName: storage.outputs.name
  }
}

// Event Grid custom topic for the outbound events (ImageClassified, ...); the app publishes with its identity.
module outbound 'app/outbound.bicep' = {
  name: 'outbound'
  scope: rg
  params: {
    name: '${abbrs.eventGridTopics}${resourceToken}'
    location: location
    tags: tags
  }
}

// The function app on Flex Consumption with identity-based settings only.
// Instances the GPT-4o quota can keep busy (README "Throughput and the quota"): requests in flight at full quota are
// (capacity × 1,000 TPM ÷ 600 counted tokens per image) per minute × 2.737 s (the reference p99 latency); twice that
// for headroom, divided by the per-instance concurrency, rounded up. 30K TPM → 1 instance, 450K → 5. More instances
// than this only share the same quota: they add 429s and cold starts, not throughput.
var quotaInstanceCount = max(1, (gpt4oCapacity * 1000 * 2737 * 2 + 600 * 60000 * perInstanceConcurrency - 1) / (600 * 60000 * perInstanceConcurrency))

module api 'app/api.bicep' = {
  name: 'api'
  scope: rg
  params: {
    name: functionAppName
    planName: '${abbrs.webServerFarms}${resourceToken}'
    location: location
    tags: tags
    identityName: identity.outputs.name
    signInIdentityName: signInIdentity.outputs.name
    storageAccountName: storage.outputs.name
    deploymentContainerName: deploymentContainerName
    applicationInsightsName: monitoring.outputs.appInsightsName
    instanceMemoryMB: instanceMemoryMB
    maximumInstanceCount: min(maximumInstanceCount, quotaInstanceCount)
    imagesContainerName: imagesContainerName
    deadLetterContainerName: deadLetterContainerName
    cosmosEndpoint: cosmos.outputs.endpoint
    cosmosDatabaseName: cosmosDatabaseName
    cosmosContainerName: cosmosContainerName
    openAiEndpoint: openAi.outputs.endpoint
    openAiDeploymentName: gpt4oDeploymentName
    openAiApiVersion: openAiApiVersion
    defaultProfile: defaultProfile
    maxImageBytes: maxImageBytes
    maxImagePixels: maxImagePixels
    modelTimeoutMs: modelTimeoutMs
    modelMaxRetries: modelMaxRetries
    maxModelAttempts: maxModelAttempts
    dailyBudgetUsd: dailyBudgetUsd
    virtualNetworkSubnetId: network.outputs.appSubnetId
    outboundTopicEndpoint: outbound.outputs.endpoint
    cacheTtlDays: cacheTtlDays
    reviewLeaseSeconds: reviewLeaseSeconds
    outboundWebhooks: outboundWebhooks
    modelTpm: gpt4oCapacity * 1000
    parkingQueueName: parkingQueueName
    perInstanceConcurrency: perInstanceConcurrency
    foundryEndpoint: extraModels.outputs.foundryEndpoint
    foundryDeploymentName: extraModels.outputs.foundryDeploymentName
    visionEndpoint: extraModels.outputs.visionEndpoint
  }
}

// Optional: the VNet, the private endpoints and their DNS zones (privateNetwork; off, the module deploys nothing).
module network 'app/network.bicep' = {
  name: 'network'
  scope: rg
  params: {
    enabled: privateNetwork
    vnetName: '${abbrs.networkVirtualNetworks}${resourceToken}'
    privateEndpointPrefix: '${abbrs.networkPrivateEndpoints}${resourceToken}'
    location: location
    tags: tags
    storageAccountName: storage.outputs.name
    cosmosAccountName: cosmos.outputs.name
    openAiAccountName: openAi.outputs.name
  }
}

// An email action group and log-search alert rules over the app's blobsight.* metrics.
module alerts 'app/alerts.bicep' = {
  name: 'alerts'
  scope: rg
  params: {
    namePrefix: '${abbrs.insightsScheduledQueryRules}${resourceToken}'
    actionGroupName: '${abbrs.insightsActionGroups}${resourceToken}'
    location: location
    tags: tags
    appInsightsName: monitoring.outputs.appInsightsName
    alertEmail: alertEmail
    dailyCostUsd: alertDailyCostUsd
    failureRatePercent: alertFailureRatePercent
    throttledPercent: alertThrottledPercent
    reviewSharePercent: alertReviewSharePercent
    reviewedAccuracyPercent: alertReviewedAccuracyPercent
    modelLatencyMs: alertModelLatencyMs
  }
}

// The operations workbook: volume, latency, cost, outcomes, review backlog, reviewed accuracy.
module workbook 'app/workbook.bicep' = {
  name: 'workbook'
  scope: rg
  params: {
    displayName: 'blobsight (${environmentName})'
    location: location
    tags: tags
    appInsightsName: monitoring.outputs.appInsightsName
  }
}

// People sign in with Microsoft Entra ID: the app registration with the Reader and Reviewer app roles...
module entraApp 'app/entra-app.bicep' = {
  name: 'entra-app'
  scope: rg
  params: {
    uniqueName: 'blobsight-${resourceToken}'
    displayName: 'blobsight (${environmentName})'
    appUri: api.outputs.uri
    signInIdentityPrincipalId: signInIdentity.outputs.principalId
    reviewerPrincipalId: principalId
    reviewerPrincipalType: principalType
  }
}

// ...and App Service authentication on the function app with it; machines keep function keys (see auth.bicep).
module auth 'app/auth.bicep' = {
  name: 'auth'
  scope: rg
  params: {
    functionAppName: api.outputs.name
    clientId: entraApp.outputs.clientId
  }
}

// Optional: the Foundry and Vision accounts with their keyless roles (deployFoundry, deployVision; off, nothing is created).
module extraModels 'app/extraModels.bicep' = {
  name: 'extra-models'
  scope: rg
  params: {
    deployFoundry: deployFoundry
    deployVision: deployVision
    foundryAccountName: '${abbrs.cognitiveServicesAccounts}fdy-${resourceToken}'
    visionAccountName: '${abbrs.cognitiveServicesAccounts}cv-${resourceToken}'
    foundryLocation: empty(foundryLocation) ? location : foundryLocation
    visionLocation: empty(visionLocation) ? location : visionLocation
    tags: tags
    foundryDeploymentName: foundryDeploymentName
    foundryModelName: 'Phi-4-multimodal-instruct'
    foundryModelVersion: foundryModelVersion
    foundrySkuName: foundrySkuName
    foundryCapacity: foundryCapacity
    appPrincipalId: identity.outputs.principalId
    userPrincipalId: principalId
    userPrincipalType: principalType
  }
}

// Every role assignment, each at the narrowest scope that works.
module rbac 'app/rbac.bicep' = {
  name: 'rbac'
  scope: rg
  params: {
    storageAccountName: storage.outputs.name
    imagesContainerName: imagesContainerName
    deadLetterContainerName: deadLetterContainerName
    cosmosAccountName: cosmos.outputs.name
    cosmosDatabaseName: cosmosDatabaseName
    openAiAccountName: openAi.outputs.name
    appInsightsName: monitoring.outputs.appInsightsName
    outboundTopicName: outbound.outputs.name
    appPrincipalId: identity.outputs.principalId
    systemTopicPrincipalId: eventGrid.outputs.principalId
    userPrincipalId: principalId
    userPrincipalType: principalType
  }
}

output AZURE_LOCATION string = location
output AZURE_TENANT_ID string = tenant().tenantId
output AZURE_RESOURCE_GROUP string = rg.name
output AZURE_FUNCTION_APP_NAME string = api.outputs.name
output SERVICE_API_URI string = api.outputs.uri
output AZURE_STORAGE_ACCOUNT_NAME string = storage.outputs.name
output AZURE_STORAGE_BLOB_ENDPOINT string = storage.outputs.blobEndpoint
output IMAGES_CONTAINER string = imagesContainerName
output DEADLETTER_CONTAINER string = deadLetterContainerName
output EVENTGRID_SYSTEM_TOPIC_NAME string = eventGrid.outputs.name
output EVENTGRID_SUBSCRIPTION_NAME string = eventSubscriptionName
output OUTBOUND_TOPIC_NAME string = outbound.outputs.name
output OUTBOUND_TOPIC_ENDPOINT string = outbound.outputs.endpoint
output COSMOS_ENDPOINT string = cosmos.outputs.endpoint
output COSMOS_DATABASE string = cosmosDatabaseName
output COSMOS_CONTAINER string = cosmosContainerName
output AZURE_OPENAI_ENDPOINT string = openAi.outputs.endpoint
output AZURE_OPENAI_DEPLOYMENT string = gpt4oDeploymentName
output AZURE_OPENAI_BATCH_DEPLOYMENT string = openAi.outputs.batchDeploymentName
output OPENAI_API_VERSION string = openAiApiVersion
output APPLICATIONINSIGHTS_NAME string = monitoring.outputs.appInsightsName
output AZURE_AUTH_CLIENT_ID string = entraApp.outputs.clientId
output FOUNDRY_ENDPOINT string = extraModels.outputs.foundryEndpoint
output FOUNDRY_MODEL string = extraModels.outputs.foundryDeploymentName
output VISION_ENDPOINT string = extraModels.outputs.visionEndpoint
