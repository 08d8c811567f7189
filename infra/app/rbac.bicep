// Every role assignment blobsight needs, and nothing broader: each at the narrowest scope that works, named
// guid(scope, principal, role) so re-provisioning finds the same assignment. No identity gets a control-plane role.

@description('Storage account of the host, the app package and the images.')
param storageAccountName string

@description('Container the app reads and writes images in.')
param imagesContainerName string

@description('Container Event Grid dead-letters into and the reconcile timer reads.')
param deadLetterContainerName string

@description('Cosmos DB account.')
param cosmosAccountName string

@description('Cosmos DB database the app uses; the data role is scoped to it.')
param cosmosDatabaseName string

@description('Azure OpenAI account.')
param openAiAccountName string

@description('Application Insights component.')
param appInsightsName string

@description('Event Grid custom topic the app publishes its outbound events to (outbound.bicep).')
param outboundTopicName string

@description('Principal id of the app\'s user-assigned identity.')
param appPrincipalId string

@description('Principal id of the Event Grid system topic\'s identity.')
param systemTopicPrincipalId string

@description('Principal id of the deploying user or service principal; empty: no roles for it.')
param userPrincipalId string = ''

@description('Kind of principal userPrincipalId is.')
@allowed([
  'User'
  'ServicePrincipal'
])
param userPrincipalType string = 'User'

// The allow-list: built-in role definition ids, each with its role's name. tests/unit/infra.test.ts fails on any
// assignment whose role is not here or whose name comment is wrong.
var roles = {
  storageBlobDataOwner: 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b' // Storage Blob Data Owner
  storageBlobDataContributor: 'ba92f5b4-2d11-453d-a403-e96b0029c9fe' // Storage Blob Data Contributor
  storageQueueDataContributor: '974c5e8b-45b9-4653-ba55-5f855dd0fb88' // Storage Queue Data Contributor
  storageTableDataContributor: '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3' // Storage Table Data Contributor
  cognitiveServicesOpenAiUser: '5e0bd9bd-7b93-4f28-af87-19fc36ad61bd' // Cognitive Services OpenAI User
  monitoringMetricsPublisher: '3913510d-42f4-4e42-8a64-420c390055eb' // Monitoring Metrics Publisher
  cosmosDbBuiltInDataContributor: '00000000-0000-0000-0000-000000000002' // Cosmos DB Built-in Data Contributor
  eventGridDataSender: 'd5a91429-5739-47e2-a06b-3470a27159e7' // EventGrid Data Sender
}

var withUser = !empty(userPrincipalId)

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: storageAccountName
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' existing = {
  parent: storage
  name: 'default'
}

resource imagesContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' existing = {
  parent: blobService
  name: imagesContainerName
}

resource deadLetterContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' existing = {
  parent: blobService
  name: deadLetterContainerName
}

resource cosmos 'Microsoft.DocumentDB/databaseAccounts@2024-11-15' existing = {
  name: cosmosAccountName
}

resource openAi 'Microsoft.CognitiveServices/accounts@2024-10-01' existing = {
  name: openAiAccountName
}

resource appInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: appInsightsName
}

resource outboundTopic 'Microsoft.EventGrid/topics@2025-02-15' existing = {
  name: outboundTopicName
}

// Cosmos DB data-plane scope: the app's database. Container scope would be narrower on paper, but SDKs read the
// database's metadata and get 403 with it; the database holds nothing but the app's container.
var cosmosDataScope = '${cosmos.id}/dbs/${cosmosDatabaseName}'

// App identity

// Functions host storage with an identity: host keys, locks and the Flex app package live in blob containers the
// host and the platform create and manage, so the documented requirement is Blob Data Owner on the account.
resource appHostBlob 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage.id, appPrincipalId, roles.storageBlobDataOwner)
  scope: storage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageBlobDataOwner)
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
  }
}

// The host records diagnostic events in table storage; without this role it logs errors and turns them off.
resource appHostTable 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage.id, appPrincipalId, roles.storageTableDataContributor)
  scope: storage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageTableDataContributor)
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
  }
}

// Throttled events are parked in PARKING_QUEUE (classifyBlob sends), drained by the drainParked queue trigger (reads,
// deletes) and, after maxDequeueCount, moved to `<queue>-poison`, which the host creates: account scope.
resource appQueues 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage.id, appPrincipalId, roles.storageQueueDataContributor)
  scope: storage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageQueueDataContributor)
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
  }
}

// classifyBlob downloads the image and reads its metadata; the upload endpoint writes new images.
resource appImages 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(imagesContainer.id, appPrincipalId, roles.storageBlobDataContributor)
  scope: imagesContainer
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageBlobDataContributor)
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
  }
}

// The reconcile timer re-processes dead-lettered events, then deletes each dead-letter blob once settled.
resource appDeadLetter 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(deadLetterContainer.id, appPrincipalId, roles.storageBlobDataContributor)
  scope: deadLetterContainer
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageBlobDataContributor)
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
  }
}

// Reads, claims (etag-conditional replace) and upserts the image documents, and queries them.
resource appCosmos 'Microsoft.DocumentDB/databaseAccounts/sqlRoleAssignments@2024-11-15' = {
  parent: cosmos
  name: guid(cosmosDataScope, appPrincipalId, roles.cosmosDbBuiltInDataContributor)
  properties: {
    roleDefinitionId: '${cosmos.id}/sqlRoleDefinitions/${roles.cosmosDbBuiltInDataContributor}'
    principalId: appPrincipalId
    scope: cosmosDataScope
  }
}

// Calls the GPT-4o deployment (inference only: cannot list keys or change deployments).
resource appOpenAi 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(openAi.id, appPrincipalId, roles.cognitiveServicesOpenAiUser)
  scope: openAi
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.cognitiveServicesOpenAiUser)
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
  }
}

// Publishes the outbound events to the custom topic, whose local (key) auth is off. Send only: no management.
resource appOutboundTopic 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(outboundTopic.id, appPrincipalId, roles.eventGridDataSender)
  scope: outboundTopic
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.eventGridDataSender)
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
  }
}

// Sends telemetry to Application Insights, whose local (key) auth is off.
resource appTelemetry 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(appInsights.id, appPrincipalId, roles.monitoringMetricsPublisher)
  scope: appInsights
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.monitoringMetricsPublisher)
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
  }
}

// Event Grid system topic identity

// Writes undeliverable events to the dead-letter container, and nowhere else.
resource topicDeadLetter 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(deadLetterContainer.id, systemTopicPrincipalId, roles.storageBlobDataContributor)
  scope: deadLetterContainer
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageBlobDataContributor)
    principalId: systemTopicPrincipalId
    principalType: 'ServicePrincipal'
  }
}

// Deploying user (optional): the app's data roles, so blobsight runs locally against these resources with az login.
// The local Functions host keeps its own state in Azurite, so the user needs no host-storage roles.

// Uploads and reads images.
resource userImages 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (withUser) {
  name: guid(imagesContainer.id, userPrincipalId, roles.storageBlobDataContributor)
  scope: imagesContainer
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageBlobDataContributor)
    principalId: userPrincipalId
    principalType: userPrincipalType
  }
}

// Lets a local reconcile run read and clear dead-lettered events.
resource userDeadLetter 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (withUser) {
  name: guid(deadLetterContainer.id, userPrincipalId, roles.storageBlobDataContributor)
  scope: deadLetterContainer
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageBlobDataContributor)
    principalId: userPrincipalId
    principalType: userPrincipalType
  }
}

// Reads and writes the image documents.
resource userCosmos 'Microsoft.DocumentDB/databaseAccounts/sqlRoleAssignments@2024-11-15' = if (withUser) {
  parent: cosmos
  name: guid(cosmosDataScope, userPrincipalId, roles.cosmosDbBuiltInDataContributor)
  properties: {
    roleDefinitionId: '${cosmos.id}/sqlRoleDefinitions/${roles.cosmosDbBuiltInDataContributor}'
    principalId: userPrincipalId
    scope: cosmosDataScope
  }
}

// Calls the GPT-4o deployment.
resource userOpenAi 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (withUser) {
  name: guid(openAi.id, userPrincipalId, roles.cognitiveServicesOpenAiUser)
  scope: openAi
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.cognitiveServicesOpenAiUser)
    principalId: userPrincipalId
    principalType: userPrincipalType
  }
}
