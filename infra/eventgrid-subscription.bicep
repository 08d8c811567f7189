// The Event Grid subscription that feeds classifyBlob (BlobCreated and BlobDeleted of the images container). Deployed by the azd postdeploy hook (scripts/hooks/postdeploy.*)
// into the environment's resource group, because an Azure Function destination must already exist when the
// subscription is created. Re-deploying it is idempotent.
//
// Destination type AzureFunction, not a webhook: Microsoft's Event Grid docs say to use it for functions with the
// Event Grid trigger. Event Grid then fetches the function's key itself, so no key passes through this template or
// the hook, there is no webhook validation handshake to race a cold Flex Consumption instance, and delivery adapts to
// the rate the function keeps up with.

@description('Event Grid system topic on the storage account (azd output EVENTGRID_SYSTEM_TOPIC_NAME).')
param systemTopicName string

@description('Function app hosting classifyBlob (azd output AZURE_FUNCTION_APP_NAME).')
param functionAppName string

@description('Storage account holding the dead-letter container (azd output AZURE_STORAGE_ACCOUNT_NAME).')
param storageAccountName string

@description('Name of the subscription (azd output EVENTGRID_SUBSCRIPTION_NAME).')
param subscriptionName string = 'evgs-classify-blob'

@description('Container whose uploads are classified (azd output IMAGES_CONTAINER).')
param imagesContainerName string = 'images'

@description('Container receiving events that exhausted their retries (azd output DEADLETTER_CONTAINER).')
param deadLetterContainerName string = 'deadletter'

@description('The Event Grid triggered function; renaming it in functions/ is a breaking change for this template.')
param functionName string = 'classifyBlob'

resource topic 'Microsoft.EventGrid/systemTopics@2025-02-15' existing = {
  name: systemTopicName
}

resource functionApp 'Microsoft.Web/sites@2024-04-01' existing = {
  name: functionAppName
}

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: storageAccountName
}

resource imagesSubscription 'Microsoft.EventGrid/systemTopics/eventSubscriptions@2025-02-15' = {
  parent: topic
  name: subscriptionName
  properties: {
    destination: {
      endpointType: 'AzureFunction'
      properties: {
        resourceId: '${functionApp.id}/functions/${functionName}'
        // The trigger takes one event per invocation; a failure then redelivers only that event.
        maxEventsPerBatch: 1
        preferredBatchSizeInKilobytes: 64
      }
    }
    eventDeliverySchema: 'EventGridSchema'
    filter: {
      // BlobCreated classifies; BlobDeleted marks the image's document deleted (shared/pipeline/processBlobCreated.ts).
      includedEventTypes: [
        'Microsoft.Storage.BlobCreated'
        'Microsoft.Storage.BlobDeleted'
      ]
      subjectBeginsWith: '/blobServices/default/containers/${imagesContainerName}/blobs/'
      // Completed writes only (COMPLETED_WRITE_APIS in shared/events/parseBlobEvent.ts): a PutBlock or an unflushed
      // Data Lake append announces a blob that may still be growing. DeleteBlob is the BlobDeleted event's api.
      advancedFilters: [
        {
          operatorType: 'StringIn'
          key: 'data.api'
          values: [
            'PutBlob'
            'PutBlockList'
            'CopyBlob'
            'FlushWithClose'
            'DeleteBlob'
          ]
        }
      ]
    }
    // A transient failure (429, 5xx, timeout) throws, and Event Grid redelivers with backoff for up to a day.
    retryPolicy: {
      maxDeliveryAttempts: 30
      eventTimeToLiveInMinutes: 1440
    }
    // Then the event lands in the dead-letter container, written by the topic's own identity (no SAS, no key).
    deadLetterWithResourceIdentity: {
      identity: {
        type: 'SystemAssigned'
      }
      deadLetterDestination: {
        endpointType: 'StorageBlob'
        properties: {
          resourceId: storage.id
          blobContainerName: deadLetterContainerName
        }
      }
    }
  }
}

output EVENTGRID_SUBSCRIPTION_ID string = imagesSubscription.id
