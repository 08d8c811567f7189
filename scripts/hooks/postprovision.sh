#!/bin/sh
# azd postprovision hook: writes local.settings.json from `azd env get-values`, so blobsight runs locally against the
# resources just provisioned, signed in as you and without keys. A previous file is kept as local.settings.json.bak.
set -eu

root=$(cd "$(dirname "$0")/../.." && pwd)

if ! command -v node >/dev/null 2>&1; then
  echo "postprovision: Node.js 20+ is needed to write local.settings.json (see README, Deploy to Azure)." >&2
  exit 1
fi

values=$(azd env get-values --output json)
printf '%s\n' "$values" | node "$root/scripts/hooks/writeLocalSettings.mjs" "$root/local.settings.json"
