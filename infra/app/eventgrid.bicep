// Event Grid system topic for the storage account's blob events. Its system-assigned identity is what writes
// undeliverable events to the dead-letter container (role in rbac.bicep); the subscription itself is created by
// the postdeploy hook from ../eventgrid-subscription.bicep, because it must point at a function that already exists.

@description('Name of the system topic.')
param name string

@description('Region of the system topic (the storage account\'s region).')
param location string

@description('Tags for the system topic.')
param tags object

@description('Storage account whose events the topic publishes.')
param storageAccountName string

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: storageAccountName
}

resource topic 'Microsoft.EventGrid/systemTopics@2025-02-15' = {
  name: name
  location: location
  tags: tags
  identity: {
    type: 'SystemAssigned'
  }
  properties: {
    source: storage.id
    topicType: 'Microsoft.Storage.StorageAccounts'
  }
}

output name string = topic.name
output principalId string = topic.identity.principalId
