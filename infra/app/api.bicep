// The blobsight function app on the Flex Consumption plan (FC1): Node 20, the user-assigned identity, and app settings
// that are endpoints and names only (no secrets), matching what shared/config/loadConfig.ts reads.

@description('Name of the function app.')
param name string

@description('Name of the Flex Consumption plan.')
param planName string

@description('Region of the plan and the app.')
param location string

@description('Tags; the app also gets azd-service-name so azd deploy finds it.')
param tags object

@description('User-assigned identity the app runs as.')
param identityName string

@description('User-assigned identity App Service authentication presents instead of a client secret (auth.bicep); holds no Azure role.')
param signInIdentityName string

@description('Storage account for the Functions host, the app package and the images.')
param storageAccountName string

@description('Blob container Flex Consumption deploys the app package to.')
param deploymentContainerName string

@description('Application Insights component that receives the app\'s telemetry.')
param applicationInsightsName string

@description('Memory of each instance, MB.')
param instanceMemoryMB int

@description('Most instances the app scales out to.')
param maximumInstanceCount int

@description('IMAGES_CONTAINER.')
param imagesContainerName string

@description('DEADLETTER_CONTAINER: where Event Grid dead-letters and the reconcile timer looks.')
param deadLetterContainerName string

@description('COSMOS_ENDPOINT.')
param cosmosEndpoint string

@description('COSMOS_DATABASE.')
param cosmosDatabaseName string

@description('COSMOS_CONTAINER.')
param cosmosContainerName string

@description('AZURE_OPENAI_ENDPOINT.')
param openAiEndpoint string

@description('AZURE_OPENAI_DEPLOYMENT.')
param openAiDeploymentName string

@description('OPENAI_API_VERSION.')
param openAiApiVersion string

@description('OUTBOUND_TOPIC_ENDPOINT: the Event Grid custom topic for outbound events (outbound.bicep).')
param outboundTopicEndpoint string

@description('CACHE_TTL_DAYS: days a content-cache answer is kept (the Cosmos container expires them by per-item ttl).')
param cacheTtlDays int

@description('REVIEW_LEASE_SECONDS: how long GET /api/review/next holds an image for one reviewer.')
param reviewLeaseSeconds int

@description('OUTBOUND_WEBHOOKS: comma-separated URLs that also receive the outbound events; empty: the topic only. Webhooks then need OUTBOUND_WEBHOOK_SECRET, which belongs in Key Vault, not here.')
param outboundWebhooks string

@description('DEFAULT_PROFILE.')
param defaultProfile string

@description('MAX_IMAGE_BYTES.')
param maxImageBytes int

@description('MAX_IMAGE_PIXELS.')
param maxImagePixels int

@description('MODEL_TIMEOUT_MS.')
param modelTimeoutMs int

@description('MODEL_MAX_RETRIES.')
param modelMaxRetries int

@description('MODEL_TPM: the GPT-4o deployment\'s tokens per minute (capacity × 1,000), which each instance paces against.')
param modelTpm int

@description('PARKING_QUEUE: the Storage queue throttled events wait in.')
param parkingQueueName string

@description('Events (HTTP-pushed Event Grid deliveries included) one instance works on at once.')
@minValue(1)
@maxValue(1000)
param perInstanceConcurrency int

@description('MAX_MODEL_ATTEMPTS.')
@minValue(1)
@maxValue(100)
param maxModelAttempts int

@description('Subnet for Flex Consumption VNet integration (network.bicep); empty: no VNet.')
param virtualNetworkSubnetId string = ''

@description('DAILY_BUDGET_USD, US dollars per UTC day; empty: no cap.')
param dailyBudgetUsd string = ''

@description('FOUNDRY_ENDPOINT of the optional AI Services account (extraModels.bicep); empty: unset.')
param foundryEndpoint string = ''

@description('FOUNDRY_MODEL, the optional Foundry deployment; empty: unset.')
param foundryDeploymentName string = ''

@description('VISION_ENDPOINT of the optional AI Vision account; empty: unset.')
param visionEndpoint string = ''

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' existing = {
  name: identityName
}

resource signInIdentity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' existing = {
  name: signInIdentityName
}

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: storageAccountName
}

resource blobServices 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' existing = {
  parent: storage
  name: 'default'
}

// The quota slot ledger (PACER_LEDGER): one small blob in which every instance reserves its model send times with
// ETag-conditional writes. The app identity already holds Storage Blob Data Owner on the account; no new role.
resource quotaLedgerContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = {
  parent: blobServices
  name: 'quota-ledger'
  properties: {
    publicAccess: 'None'
  }
}

resource appInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: applicationInsightsName
}

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  name: planName
  location: location
  tags: tags
  kind: 'functionapp'
  sku: {
    name: 'FC1'
    tier: 'FlexConsumption'
  }
  properties: {
    reserved: true
  }
}

resource functionApp 'Microsoft.Web/sites@2024-04-01' = {
  name: name
  location: location
  tags: union(tags, {
    'azd-service-name': 'api'
  })
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identity.id}': {}
      '${signInIdentity.id}': {}
    }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    // With the private network every outbound call (storage, Cosmos DB, Azure OpenAI) leaves through this subnet.
    virtualNetworkSubnetId: empty(virtualNetworkSubnetId) ? null : virtualNetworkSubnetId
    siteConfig: {
      minTlsVersion: '1.2'
    }
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${storage.properties.primaryEndpoints.blob}${deploymentContainerName}'
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identity.id
          }
        }
      }
      scaleAndConcurrency: {
        instanceMemoryMB: instanceMemoryMB
        maximumInstanceCount: maximumInstanceCount
        // Event Grid deliveries arrive as HTTP requests: this bounds the events one instance holds; queue drains are
        // bounded by host.json (extensions.queues batchSize 16 + newBatchThreshold 8).
        triggers: {
          http: {
            perInstanceConcurrency: perInstanceConcurrency
          }
        }
      }
      runtime: {
        name: 'node'
        version: '20'
      }
    }
  }
}

// Flex Consumption sets the runtime in functionAppConfig: FUNCTIONS_WORKER_RUNTIME and FUNCTIONS_EXTENSION_VERSION
// are not allowed here. Everything below is an endpoint, a name or a number; identities carry the authority.
resource appSettings 'Microsoft.Web/sites/config@2024-04-01' = {
  parent: functionApp
  name: 'appsettings'
  properties: {
    // Functions host storage (and, through IMAGES_STORAGE_CONNECTION, the app's blob client) with the app identity.
    // Blob: keys, the timer's schedule and locks, the app package. Table: the host's diagnostic events. Queue: the
    // drainParked trigger and the parking of throttled events (PARKING_QUEUE; Storage Queue Data Contributor).
    AzureWebJobsStorage__credential: 'managedidentity'
    AzureWebJobsStorage__clientId: identity.properties.clientId
    AzureWebJobsStorage__blobServiceUri: storage.properties.primaryEndpoints.blob
    AzureWebJobsStorage__tableServiceUri: storage.properties.primaryEndpoints.table
    AzureWebJobsStorage__queueServiceUri: storage.properties.primaryEndpoints.queue
    // DefaultAzureCredential (Cosmos DB, Azure OpenAI) picks the user-assigned identity by its client id.
    AZURE_CLIENT_ID: identity.properties.clientId
    IMAGES_STORAGE_CONNECTION: 'AzureWebJobsStorage'
    IMAGES_CONTAINER: imagesContainerName
    DEADLETTER_CONTAINER: deadLetterContainerName
    COSMOS_ENDPOINT: cosmosEndpoint
    COSMOS_DATABASE: cosmosDatabaseName
    COSMOS_CONTAINER: cosmosContainerName
    // The template creates the database and container; data-plane RBAC could not.
    COSMOS_CREATE_IF_MISSING: 'false'
    MODEL_PROVIDER: 'azure-openai'
    AZURE_OPENAI_ENDPOINT: openAiEndpoint
    AZURE_OPENAI_DEPLOYMENT: openAiDeploymentName
    OPENAI_API_VERSION: openAiApiVersion
    DEFAULT_PROFILE: defaultProfile
    MAX_IMAGE_BYTES: string(maxImageBytes)
    MAX_IMAGE_PIXELS: string(maxImagePixels)
    MODEL_TIMEOUT_MS: string(modelTimeoutMs)
    MODEL_MAX_RETRIES: string(modelMaxRetries)
    MAX_MODEL_ATTEMPTS: string(maxModelAttempts)
    // Empty is unset for loadConfig: no cap.
    DAILY_BUDGET_USD: dailyBudgetUsd
    // Outbound events (published keyless with EventGrid Data Sender), content-cache retention, review leases.
    OUTBOUND_TOPIC_ENDPOINT: outboundTopicEndpoint
    OUTBOUND_WEBHOOKS: outboundWebhooks
    CACHE_TTL_DAYS: string(cacheTtlDays)
    REVIEW_LEASE_SECONDS: string(reviewLeaseSeconds)
    // Quota pacing and load levelling (README "Throughput and the quota").
    MODEL_TPM: string(modelTpm)
    MAX_INSTANCES: string(maximumInstanceCount)
    PARKING_QUEUE: parkingQueueName
    // Optional extra models for profiles that name their own provider (profile "model"); empty is unset for loadConfig.
    FOUNDRY_ENDPOINT: foundryEndpoint
    FOUNDRY_MODEL: foundryDeploymentName
    VISION_ENDPOINT: visionEndpoint
    PACER_LEDGER: '${quotaLedgerContainer.name}/slots.json'
    // The connection string names the component (its instrumentation key is an id, not a credential); with local
    // auth off, ingestion also needs the Entra token the authentication string asks for.
    APPLICATIONINSIGHTS_CONNECTION_STRING: appInsights.properties.ConnectionString
    APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'ClientId=${identity.properties.clientId};Authorization=AAD'
    // App Service authentication signs in to Entra ID with this identity's token as the client assertion (the app
    // registration trusts it by a federated identity credential), so no client secret exists anywhere.
    OVERRIDE_USE_MI_FIC_ASSERTION_CLIENTID: signInIdentity.properties.clientId
  }
}

// Basic (username/password) publishing would be a secret; azd deploys to Flex Consumption with an Entra ID token.
resource ftpPublishing 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: functionApp
  name: 'ftp'
  properties: {
    allow: false
  }
}

resource scmPublishing 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: functionApp
  name: 'scm'
  properties: {
    allow: false
  }
}

output name string = functionApp.name
output uri string = 'https://${functionApp.properties.defaultHostName}'
