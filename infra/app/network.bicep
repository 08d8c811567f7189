// The optional private network (main.bicep privateNetwork = true), as the azd quickstarts offer it: a VNet whose
// `app` subnet carries the function app's outbound traffic (Flex Consumption VNet integration) and whose
// `private-endpoints` subnet holds private endpoints for storage (blob, queue for PARKING_QUEUE's throttled events, and
// table), Cosmos DB and Azure OpenAI, each with its private DNS zone linked to the VNet so the usual host names
// resolve to private addresses from inside. The resources themselves turn public access off (their modules).

@description('Off: nothing is deployed (main.bicep privateNetwork = false) and appSubnetId is empty.')
param enabled bool

@description('Name of the virtual network.')
param vnetName string

@description('Prefix of the private endpoint names.')
param privateEndpointPrefix string

@description('Region of the VNet and the private endpoints.')
param location string

@description('Tags for every resource.')
param tags object

@description('Address space of the VNet.')
param addressPrefix string = '10.20.0.0/16'

@description('Subnet the function app integrates with (delegated to Microsoft.App/environments, as Flex Consumption requires).')
param appSubnetPrefix string = '10.20.1.0/24'

@description('Subnet of the private endpoints.')
param privateEndpointSubnetPrefix string = '10.20.2.0/24'

@description('Storage account reached through private endpoints (blob, queue, table).')
param storageAccountName string

@description('Cosmos DB account reached through a private endpoint (Sql).')
param cosmosAccountName string

@description('Azure OpenAI account reached through a private endpoint (account).')
param openAiAccountName string

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: storageAccountName
}

resource cosmos 'Microsoft.DocumentDB/databaseAccounts@2024-11-15' existing = {
  name: cosmosAccountName
}

resource openAi 'Microsoft.CognitiveServices/accounts@2024-10-01' existing = {
  name: openAiAccountName
}

resource vnet 'Microsoft.Network/virtualNetworks@2024-05-01' = if (enabled) {
  name: vnetName
  location: location
  tags: tags
  properties: {
    addressSpace: {
      addressPrefixes: [
        addressPrefix
      ]
    }
    subnets: [
      {
        name: 'app'
        properties: {
          addressPrefix: appSubnetPrefix
          delegations: [
            {
              name: 'flex-consumption'
              properties: {
                serviceName: 'Microsoft.App/environments'
              }
            }
          ]
        }
      }
      {
        name: 'private-endpoints'
        properties: {
          addressPrefix: privateEndpointSubnetPrefix
          privateEndpointNetworkPolicies: 'Disabled'
        }
      }
    ]
  }
}

var blobZone = 'privatelink.blob.${environment().suffixes.storage}'
var queueZone = 'privatelink.queue.${environment().suffixes.storage}'
var tableZone = 'privatelink.table.${environment().suffixes.storage}'
var cosmosZone = 'privatelink.documents.azure.com'
var openAiZone = 'privatelink.openai.azure.com'
var cognitiveZone = 'privatelink.cognitiveservices.azure.com'
var zoneNames = !enabled ? [] : [
  blobZone
  queueZone
  tableZone
  cosmosZone
  openAiZone
  cognitiveZone
]

// One private endpoint per service the app calls; groupId is the sub-resource it reaches.
var endpoints = !enabled ? [] : [
  {
    key: 'blob'
    resourceId: storage.id
    groupId: 'blob'
    zones: [
      blobZone
    ]
  }
  {
    // The parking queue (PARKING_QUEUE): throttled events wait there and the drainParked trigger reads them.
    key: 'queue'
    resourceId: storage.id
    groupId: 'queue'
    zones: [
      queueZone
    ]
  }
  {
    key: 'table'
    resourceId: storage.id
    groupId: 'table'
    zones: [
      tableZone
    ]
  }
  {
    key: 'cosmos'
    resourceId: cosmos.id
    groupId: 'Sql'
    zones: [
      cosmosZone
    ]
  }
  {
    key: 'openai'
    resourceId: openAi.id
    groupId: 'account'
    zones: [
      openAiZone
      cognitiveZone
    ]
  }
]

resource zones 'Microsoft.Network/privateDnsZones@2024-06-01' = [
  for zone in zoneNames: {
    name: zone
    location: 'global'
    tags: tags
  }
]

resource zoneLinks 'Microsoft.Network/privateDnsZones/virtualNetworkLinks@2024-06-01' = [
  for (zone, i) in zoneNames: {
    parent: zones[i]
    name: '${vnetName}-link'
    location: 'global'
    tags: tags
    properties: {
      registrationEnabled: false
      virtualNetwork: {
        id: vnet.id
      }
    }
  }
]

resource privateEndpoints 'Microsoft.Network/privateEndpoints@2024-05-01' = [
  for ep in endpoints: {
    name: '${privateEndpointPrefix}-${ep.key}'
    location: location
    tags: tags
    properties: {
      subnet: {
        id: vnet.properties.subnets[1].id
      }
      privateLinkServiceConnections: [
        {
          name: '${privateEndpointPrefix}-${ep.key}'
          properties: {
            privateLinkServiceId: ep.resourceId
            groupIds: [
              ep.groupId
            ]
          }
        }
      ]
    }
  }
]

resource dnsZoneGroups 'Microsoft.Network/privateEndpoints/privateDnsZoneGroups@2024-05-01' = [
  for (ep, i) in endpoints: {
    parent: privateEndpoints[i]
    name: 'default'
    properties: {
      privateDnsZoneConfigs: [
        for zone in ep.zones: {
          name: replace(zone, '.', '-')
          properties: {
            privateDnsZoneId: resourceId('Microsoft.Network/privateDnsZones', zone)
          }
        }
      ]
    }
    dependsOn: [
      zones
    ]
  }
]

output appSubnetId string = enabled ? vnet.properties.subnets[0].id : ''
output vnetName string = enabled ? vnet.name : ''
