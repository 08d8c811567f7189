// Alerts for running blobsight: an action group that emails the operator, and log-search alert rules over the
// OpenTelemetry metrics the app sends to Application Insights (table customMetrics; attributes in customDimensions):
//   blobsight.images (outcome), blobsight.model.throttled, blobsight.deadletters, blobsight.cost_usd,
//   blobsight.reviews (agreed), blobsight.model.latency_ms
// and the app's log line when DAILY_BUDGET_USD is reached (table traces). Every threshold is a parameter.

@description('Prefix of the alert rule names, e.g. alert-<resourceToken>.')
param namePrefix string

@description('Name of the action group.')
param actionGroupName string

@description('Region of the alert rules (the action group is global).')
param location string

@description('Tags for every resource.')
param tags object

@description('Application Insights component the rules query.')
param appInsightsName string

@description('Email address that receives the alerts; empty: the action group has no receiver (add one in the portal).')
param alertEmail string

@description('Failure rate that alerts, percent of results in the hour (outcome failed).')
@minValue(1)
@maxValue(100)
param failureRatePercent int = 5

@description('Share of model calls answered 429 that alerts, percent, over the hour.')
@minValue(1)
@maxValue(100)
param throttledPercent int = 10

@description('Dead-lettered events in the hour that alert (Event Grid gave up on them; the reconcile timer picks them up).')
@minValue(0)
param deadLetterCount int = 0

@description('Daily model cost that alerts, USD (UTC day).')
@minValue(1)
param dailyCostUsd int = 50

@description('Share of results needing review that alerts, percent, over the day.')
@minValue(1)
@maxValue(100)
param reviewSharePercent int = 30

@description('Reviewed accuracy below which to alert, percent of reviews that agreed with the model, over 7 days (the seed pipeline\'s bar: 80).')
@minValue(1)
@maxValue(100)
param reviewedAccuracyPercent int = 80

@description('Fewest reviews in 7 days before the accuracy rule judges (a handful of reviews says little).')
@minValue(1)
param minReviews int = 20

@description('Model latency (p90 over the hour) that alerts, ms (the seed pipeline\'s response-time bar: 5 s).')
@minValue(100)
param modelLatencyMs int = 5000

@description('Fewest results in the window before a share rule judges, so one failure out of two does not page anyone.')
@minValue(1)
param minResults int = 20

resource appInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: appInsightsName
}

resource actionGroup 'Microsoft.Insights/actionGroups@2023-01-01' = {
  name: actionGroupName
  location: 'global'
  tags: tags
  properties: {
    groupShortName: 'blobsight'
    enabled: true
    emailReceivers: empty(alertEmail)
      ? []
      : [
          {
            name: 'operator'
            emailAddress: alertEmail
            useCommonAlertSchema: true
          }
        ]
  }
}

// Each rule: a KQL query that returns rows only when the condition holds, alerting on a row count above zero.
var rules = [
  {
    key: 'failure-rate'
    description: 'More than ${failureRatePercent}% of the results in the last hour failed (blobsight.images, outcome failed).'
    severity: 2
    frequency: 'PT15M'
    window: 'PT1H'
    query: 'customMetrics | where name == "blobsight.images" | extend outcome = tostring(customDimensions["outcome"]) | summarize total = sum(valueSum), failed = sumif(valueSum, outcome == "failed") | where total >= ${minResults} and failed * 100.0 / total > ${failureRatePercent}'
  }
  {
    key: 'throttled-share'
    description: 'More than ${throttledPercent}% of model calls in the last hour were throttled (blobsight.model.throttled against blobsight.model.latency_ms calls): raise the GPT-4o capacity or lower maximumInstanceCount.'
    severity: 3
    frequency: 'PT15M'
    window: 'PT1H'
    query: 'customMetrics | where name in ("blobsight.model.throttled", "blobsight.model.latency_ms") | summarize throttled = sumif(valueSum, name == "blobsight.model.throttled"), calls = sumif(valueCount, name == "blobsight.model.latency_ms") | where calls + throttled >= ${minResults} and throttled * 100.0 / (calls + throttled) > ${throttledPercent}'
  }
  {
    key: 'dead-letters'
    description: 'Event Grid dead-lettered more than ${deadLetterCount} events in the last hour (blobsight.deadletters); the reconcile timer retries them, see the deadletter container.'
    severity: 2
    frequency: 'PT15M'
    window: 'PT1H'
    query: 'customMetrics | where name == "blobsight.deadletters" | summarize n = sum(valueSum) | where n > ${deadLetterCount}'
  }
  {
    key: 'daily-cost'
    description: 'Model cost today (UTC) passed ${dailyCostUsd} USD (blobsight.cost_usd).'
    severity: 2
    frequency: 'PT30M'
    window: 'P1D'
    query: 'customMetrics | where timestamp >= startofday(now()) | where name == "blobsight.cost_usd" | summarize cost = sum(valueSum) | where cost > ${dailyCostUsd}'
  }
  {
    key: 'budget-reached'
    description: 'DAILY_BUDGET_USD is reached: new images wait until tomorrow (UTC) or a higher cap (the app logs "daily budget reached").'
    severity: 1
    frequency: 'PT15M'
    window: 'PT1H'
    query: 'traces | where message has "daily budget reached" | summarize n = count() | where n > 0'
  }
  {
    key: 'review-share'
    description: 'More than ${reviewSharePercent}% of today\'s results need review (blobsight.images, outcome needs_review): the review queue grows.'
    severity: 3
    frequency: 'PT1H'
    window: 'P1D'
    query: 'customMetrics | where name == "blobsight.images" | extend outcome = tostring(customDimensions["outcome"]) | summarize total = sum(valueSum), review = sumif(valueSum, outcome == "needs_review") | where total >= ${minResults} and review * 100.0 / total > ${reviewSharePercent}'
  }
  {
    key: 'reviewed-accuracy'
    description: 'Fewer than ${reviewedAccuracyPercent}% of the last 7 days\' reviews agreed with the model (blobsight.reviews, agreed).'
    severity: 2
    frequency: 'PT6H'
    window: 'P2D'
    query: 'customMetrics | where timestamp > ago(7d) | where name == "blobsight.reviews" | extend agreed = tostring(customDimensions["agreed"]) | summarize total = sum(valueSum), ok = sumif(valueSum, agreed == "true") | where total >= ${minReviews} and ok * 100.0 / total < ${reviewedAccuracyPercent}'
  }
  {
    key: 'model-latency'
    description: 'Model calls in the last hour took longer than ${modelLatencyMs} ms at p90 (blobsight.model.latency_ms).'
    severity: 3
    frequency: 'PT15M'
    window: 'PT1H'
    query: 'customMetrics | where name == "blobsight.model.latency_ms" | summarize calls = sum(valueCount), p90 = percentile(valueMax, 90) | where calls >= ${minResults} and p90 > ${modelLatencyMs}'
  }
]

resource alertRules 'Microsoft.Insights/scheduledQueryRules@2023-12-01' = [
  for rule in rules: {
    name: '${namePrefix}-${rule.key}'
    location: location
    tags: tags
    kind: 'LogAlert'
    properties: {
      displayName: 'blobsight: ${rule.key}'
      description: rule.description
      severity: rule.severity
      enabled: true
      scopes: [
        appInsights.id
      ]
      evaluationFrequency: rule.frequency
      windowSize: rule.window
      // The query's own time filter (startofday, ago(7d)) wins where it is narrower or wider than the window.
      overrideQueryTimeRange: rule.key == 'reviewed-accuracy' ? 'P7D' : null
      criteria: {
        allOf: [
          {
            query: rule.query
            timeAggregation: 'Count'
            operator: 'GreaterThan'
            threshold: 0
            failingPeriods: {
              numberOfEvaluationPeriods: 1
              minFailingPeriodsToAlert: 1
            }
          }
        ]
      }
      autoMitigate: true
      actions: {
        actionGroups: [
          actionGroup.id
        ]
      }
    }
  }
]

output actionGroupId string = actionGroup.id
output alertRuleNames array = [for (rule, i) in rules: alertRules[i].name]
