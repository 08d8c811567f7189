// Optional models beside GPT-4o, each off by default, for profiles that name their own provider (profile "model"):
// an AI Services (Foundry) account with a Phi-4-multimodal-instruct deployment (FOUNDRY_ENDPOINT), and an AI Vision
// account for Image Analysis 4.0 object boxes (VISION_ENDPOINT). Keyless like the rest: local auth off, and the app
// identity (plus the optional deploying user) holds only Cognitive Services User on each account, which the model
// inference and Image Analysis data planes accept. These role assignments live here, beside the accounts they need,
// rather than in rbac.bicep, so that nothing exists when both switches are off.

@description('Create the AI Services account and its Phi-4-multimodal-instruct deployment.')
param deployFoundry bool

@description('Create the AI Vision (ComputerVision) account.')
param deployVision bool

@description('Name of the AI Services account; also its custom subdomain, which token authentication requires.')
param foundryAccountName string

@description('Name of the AI Vision account; also its custom subdomain.')
param visionAccountName string

@description('Region of the AI Services account; it must offer the model with the chosen SKU.')
param foundryLocation string

@description('Region of the AI Vision account; Image Analysis 4.0 is offered in some regions only.')
param visionLocation string

@description('Tags for the accounts.')
param tags object

@description('Name of the model deployment (FOUNDRY_MODEL, and the "deployment" a profile names).')
param foundryDeploymentName string

@description('Model of the deployment, as the Foundry catalog names it.')
param foundryModelName string

@description('Model version in the Foundry catalog.')
param foundryModelVersion string

@description('Deployment type (SKU): GlobalStandard is the serverless, pay-per-token offer of models sold by Azure.')
param foundrySkuName string

@description('Capacity of the deployment (units of the SKU).')
param foundryCapacity int

@description('Principal id of the app\'s user-assigned identity.')
param appPrincipalId string

@description('Principal id of the deploying user or service principal; empty: no roles for it.')
param userPrincipalId string = ''

@description('Kind of principal userPrincipalId is.')
@allowed([
  'User'
  'ServicePrincipal'
])
param userPrincipalType string = 'User'

// The allow-list of this file: tests/unit/infraExtraModels.test.ts fails on any other role or a wrong comment.
var roles = {
  cognitiveServicesUser: 'a97b65f3-24c7-4388-baec-2e87135dc908' // Cognitive Services User
}

var withUser = !empty(userPrincipalId)

resource foundry 'Microsoft.CognitiveServices/accounts@2024-10-01' = if (deployFoundry) {
  name: foundryAccountName
  location: foundryLocation
  tags: tags
  kind: 'AIServices'
  sku: {
    name: 'S0'
  }
  properties: {
    customSubDomainName: foundryAccountName
    disableLocalAuth: true
    publicNetworkAccess: 'Enabled'
  }
}

resource phi 'Microsoft.CognitiveServices/accounts/deployments@2024-10-01' = if (deployFoundry) {
  parent: foundry
  name: foundryDeploymentName
  sku: {
    name: foundrySkuName
    capacity: foundryCapacity
  }
  properties: {
    model: {
      // Models sold directly by Azure that Microsoft makes (the Phi family) have the format "Microsoft".
      format: 'Microsoft'
      name: foundryModelName
      version: foundryModelVersion
    }
    versionUpgradeOption: 'OnceCurrentVersionExpired'
  }
}

resource vision 'Microsoft.CognitiveServices/accounts@2024-10-01' = if (deployVision) {
  name: visionAccountName
  location: visionLocation
  tags: tags
  kind: 'ComputerVision'
  sku: {
    name: 'S1'
  }
  properties: {
    customSubDomainName: visionAccountName
    disableLocalAuth: true
    publicNetworkAccess: 'Enabled'
  }
}

// Calls the Foundry model inference endpoint (/models/chat/completions): inference only, no keys, no deployments.
resource appFoundry 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (deployFoundry) {
  name: guid(foundry.id, appPrincipalId, roles.cognitiveServicesUser)
  scope: foundry
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.cognitiveServicesUser)
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
  }
}

// Calls Image Analysis (imageanalysis:analyze, features=objects).
resource appVision 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (deployVision) {
  name: guid(vision.id, appPrincipalId, roles.cognitiveServicesUser)
  scope: vision
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.cognitiveServicesUser)
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
  }
}

// The deploying user mirrors the app, so `blobsight label` runs locally against the same deployments with az login.
resource userFoundry 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (deployFoundry && withUser) {
  name: guid(foundry.id, userPrincipalId, roles.cognitiveServicesUser)
  scope: foundry
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.cognitiveServicesUser)
    principalId: userPrincipalId
    principalType: userPrincipalType
  }
}

resource userVision 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (deployVision && withUser) {
  name: guid(vision.id, userPrincipalId, roles.cognitiveServicesUser)
  scope: vision
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.cognitiveServicesUser)
    principalId: userPrincipalId
    principalType: userPrincipalType
  }
}

// The model inference API lives on the account's services.ai.azure.com host (the app adds /models); empty when off,
// which the app reads as unset.
output foundryEndpoint string = deployFoundry ? 'https://${foundryAccountName}.services.ai.azure.com' : ''
output foundryDeploymentName string = deployFoundry ? foundryDeploymentName : ''
// With a custom subdomain the account's endpoint is https://<subdomain>.cognitiveservices.azure.com/.
output visionEndpoint string = deployVision ? 'https://${visionAccountName}.cognitiveservices.azure.com/' : ''
