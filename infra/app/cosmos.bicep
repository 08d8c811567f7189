// Cosmos DB for NoSQL: one document per image, reached only with Entra ID (data-plane RBAC; keys disabled).
// Serverless by default, so an idle deployment costs nothing here; provisioned autoscale is the option for steady load.

@description('Name of the account.')
param name string

@description('Region of the account.')
param location string

@description('Tags for the account.')
param tags object

@description('Database the app uses (COSMOS_DATABASE).')
param databaseName string

@description('Container the app uses (COSMOS_CONTAINER).')
param containerName string

@description('serverless or provisioned.')
@allowed([
  'serverless'
  'provisioned'
])
param capacityMode string

@description('Autoscale maximum RU/s of the container when provisioned.')
param maxThroughput int

var serverless = capacityMode == 'serverless'

@description('Disabled with the private network (main.bicep privateNetwork): only the private endpoint reaches the account.')
@allowed([
  'Enabled'
  'Disabled'
])
param publicNetworkAccess string = 'Enabled'

resource account 'Microsoft.DocumentDB/databaseAccounts@2024-11-15' = {
  name: name
  location: location
  tags: tags
  kind: 'GlobalDocumentDB'
  properties: {
    databaseAccountOfferType: 'Standard'
    consistencyPolicy: {
      defaultConsistencyLevel: 'Session'
    }
    locations: [
      {
        locationName: location
        failoverPriority: 0
        isZoneRedundant: false
      }
    ]
    capabilities: serverless
      ? [
          {
            name: 'EnableServerless'
          }
        ]
      : []
    disableLocalAuth: true
    // The database and container come from this template; no client may change them with a key.
    disableKeyBasedMetadataWriteAccess: true
    minimalTlsVersion: 'Tls12'
    publicNetworkAccess: publicNetworkAccess
  }
}

resource database 'Microsoft.DocumentDB/databaseAccounts/sqlDatabases@2024-11-15' = {
  parent: account
  name: databaseName
  properties: {
    resource: {
      id: databaseName
    }
  }
}

resource container 'Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers@2024-11-15' = {
  parent: database
  name: containerName
  properties: {
    resource: {
      id: containerName
      // IMAGES_PARTITION_KEY_PATH: per-image point reads and writes spread evenly, no hot partition in bursts.
      partitionKey: {
        paths: [
          '/id'
        ]
        kind: 'Hash'
        version: 2
      }
      // TTL on, with no default: image documents never expire; content-cache entries carry their own `ttl`
      // (CACHE_TTL_DAYS), so Cosmos DB deletes each one that long after its last write.
      defaultTtl: -1
      // Mirrors IMAGES_INDEXING_POLICY in shared/store/createCosmosContainer.ts (a unit test fails if they drift):
      // everything is indexed except the bulky parts no query filters or sorts on.
      indexingPolicy: {
        indexingMode: 'consistent'
        automatic: true
        includedPaths: [
          {
            path: '/*'
          }
        ]
        excludedPaths: [
          {
            path: '/result/*'
          }
          {
            path: '/usage/*'
          }
          {
            path: '/timings/*'
          }
          {
            path: '/error/details/*'
          }
          {
            path: '/blob/url/?'
          }
          {
            path: '/"_etag"/?'
          }
        ]
      }
    }
    options: serverless
      ? {}
      : {
          autoscaleSettings: {
            maxThroughput: maxThroughput
          }
        }
  }
}

output name string = account.name
output endpoint string = account.properties.documentEndpoint
