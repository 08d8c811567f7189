// Event Grid custom topic for blobsight's outbound events (ImageClassified, ImageNeedsReview, ImageRejected,
// ImageFailed) as CloudEvents 1.0. Local (key and SAS) auth is off: the app publishes with its identity, which
// holds EventGrid Data Sender on this topic (rbac.bicep). Subscribers (Logic Apps, functions, webhooks) are added
// by whoever consumes the events; see the README's "Outbound events".

@description('Name of the custom topic.')
param name string

@description('Region of the topic.')
param location string

@description('Tags for the topic.')
param tags object

resource topic 'Microsoft.EventGrid/topics@2025-02-15' = {
  name: name
  location: location
  tags: tags
  properties: {
    inputSchema: 'CloudEventSchemaV1_0'
    disableLocalAuth: true
    publicNetworkAccess: 'Enabled'
  }
}

output name string = topic.name
// OUTBOUND_TOPIC_ENDPOINT: https://<topic>.<region>-1.eventgrid.azure.net/api/events
output endpoint string = topic.properties.endpoint
