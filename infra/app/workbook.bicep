// An Azure Workbook on the app's Application Insights: volume, latency, cost, outcomes, review backlog and reviewed
// accuracy over time. The panels live in workbook.json (the portal's own export format), so they can be edited in
// the portal, exported and pasted back.

@description('Display name of the workbook.')
param displayName string

@description('Region of the workbook.')
param location string

@description('Tags for the workbook.')
param tags object

@description('Application Insights component the workbook queries.')
param appInsightsName string

resource appInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: appInsightsName
}

resource workbook 'Microsoft.Insights/workbooks@2023-06-01' = {
  // Workbook names must be GUIDs; this one is stable per component, so a redeploy updates it in place.
  name: guid(appInsights.id, 'blobsight-workbook')
  location: location
  tags: tags
  kind: 'shared'
  properties: {
    displayName: displayName
    category: 'workbook'
    sourceId: appInsights.id
    serializedData: loadTextContent('workbook.json')
  }
}

output workbookId string = workbook.id
