// Azure OpenAI: the GPT-4o deployment the classifier calls with Entra ID tokens, and an optional Global-Batch
// deployment for bulk work. Key authentication is off.

@description('Name of the account; also its custom subdomain, which token authentication requires.')
param name string

@description('Region of the account.')
param location string

@description('Tags for the account.')
param tags object

@description('Name of the GPT-4o deployment.')
param deploymentName string

@description('GPT-4o model version.')
param modelVersion string

@description('Deployment type (SKU) of the GPT-4o deployment.')
param skuName string

@description('Capacity of the GPT-4o deployment, thousands of tokens per minute.')
param capacity int

@description('Also create a Global-Batch deployment.')
param deployBatch bool

@description('Name of the Global-Batch deployment.')
param batchDeploymentName string

@description('Capacity of the Global-Batch deployment, thousands of enqueued tokens.')
param batchCapacity int

@description('Disabled with the private network (main.bicep privateNetwork): only the private endpoint reaches the account.')
@allowed([
  'Enabled'
  'Disabled'
])
param publicNetworkAccess string = 'Enabled'

resource account 'Microsoft.CognitiveServices/accounts@2024-10-01' = {
  name: name
  location: location
  tags: tags
  kind: 'OpenAI'
  sku: {
    name: 'S0'
  }
  properties: {
    customSubDomainName: name
    disableLocalAuth: true
    publicNetworkAccess: publicNetworkAccess
  }
}

resource gpt4o 'Microsoft.CognitiveServices/accounts/deployments@2024-10-01' = {
  parent: account
  name: deploymentName
  sku: {
    name: skuName
    capacity: capacity
  }
  properties: {
    model: {
      format: 'OpenAI'
      name: 'gpt-4o'
      version: modelVersion
    }
    // Stay on the pinned version (comparable results) until Azure retires it, then move rather than stop.
    versionUpgradeOption: 'OnceCurrentVersionExpired'
  }
}

resource batch 'Microsoft.CognitiveServices/accounts/deployments@2024-10-01' = if (deployBatch) {
  parent: account
  name: batchDeploymentName
  // An account accepts one deployment operation at a time.
  dependsOn: [
    gpt4o
  ]
  sku: {
    name: 'GlobalBatch'
    capacity: batchCapacity
  }
  properties: {
    model: {
      format: 'OpenAI'
      name: 'gpt-4o'
      version: modelVersion
    }
    versionUpgradeOption: 'OnceCurrentVersionExpired'
  }
}

output name string = account.name
output endpoint string = account.properties.endpoint
output batchDeploymentName string = deployBatch ? batchDeploymentName : ''
