#!/bin/sh
# azd postdeploy hook: subscribes classifyBlob to the images container's blob events by deploying
# infra/eventgrid-subscription.bicep. It runs after deploy because the subscription must point at a function that
# exists. An ARM deployment converges to the template, so re-running (or a second `azd up`) changes nothing.
set -eu

root=$(cd "$(dirname "$0")/../.." && pwd)
template="$root/infra/eventgrid-subscription.bicep"
function_name=classifyBlob

# azd passes the environment's values to hooks as variables; run by hand, the script asks azd for them.
value() {
  eval "current=\${$1:-}"
  if [ -z "$current" ]; then
    current=$(azd env get-value "$1" 2>/dev/null || true)
  fi
  if [ -z "$current" ]; then
    echo "postdeploy: $1 is not set in the azd environment. Run \`azd provision\` first." >&2
    exit 1
  fi
  printf '%s' "$current"
}

if ! command -v az >/dev/null 2>&1; then
  echo "postdeploy: the Azure CLI (az) creates the Event Grid subscription; install it (see README, Deploy to Azure)." >&2
  exit 1
fi
if ! az account show --only-show-errors >/dev/null 2>&1; then
  echo "postdeploy: the Azure CLI is not signed in. Run \`az login\`, then \`azd hooks run postdeploy\`." >&2
  exit 1
fi

subscription=$(value AZURE_SUBSCRIPTION_ID)
resource_group=$(value AZURE_RESOURCE_GROUP)
function_app=$(value AZURE_FUNCTION_APP_NAME)
system_topic=$(value EVENTGRID_SYSTEM_TOPIC_NAME)
storage_account=$(value AZURE_STORAGE_ACCOUNT_NAME)
subscription_name=$(value EVENTGRID_SUBSCRIPTION_NAME)
images_container=$(value IMAGES_CONTAINER)
deadletter_container=$(value DEADLETTER_CONTAINER)

# The function is listed once the host has indexed the new package; give it up to five minutes.
attempt=1
until az functionapp function show --subscription "$subscription" --resource-group "$resource_group" \
  --name "$function_app" --function-name "$function_name" --query name --output tsv --only-show-errors >/dev/null 2>&1; do
  if [ "$attempt" -ge 20 ]; then
    echo "postdeploy: $function_app has no function $function_name after deploy. Check \`azd deploy\` output and the app's logs." >&2
    exit 1
  fi
  echo "Waiting for $function_name in $function_app ($attempt/20)..."
  attempt=$((attempt + 1))
  sleep 15
done

attempt=1
until az deployment group create --subscription "$subscription" --resource-group "$resource_group" \
  --name blobsight-eventgrid-subscription --template-file "$template" \
  --parameters systemTopicName="$system_topic" functionAppName="$function_app" storageAccountName="$storage_account" \
  subscriptionName="$subscription_name" imagesContainerName="$images_container" \
  deadLetterContainerName="$deadletter_container" functionName="$function_name" \
  --only-show-errors --output none; do
  if [ "$attempt" -ge 3 ]; then
    echo "postdeploy: creating the Event Grid subscription failed 3 times; fix the error above and run \`azd hooks run postdeploy\`." >&2
    exit 1
  fi
  echo "Retrying the Event Grid subscription in 30 s ($attempt/3)..."
  attempt=$((attempt + 1))
  sleep 30
done

echo "Event Grid subscription $subscription_name: BlobCreated/BlobDeleted in $images_container -> $function_app/$function_name (dead-letter: $deadletter_container)."
