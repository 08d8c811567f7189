#!/bin/sh
# azd prepackage hook (service api): compile the TypeScript locally so a type error stops `azd deploy` here, before
# the upload; the remote build on Flex Consumption then installs Linux dependencies and builds the same sources.
set -eu

cd "$(dirname "$0")/../.."
if [ ! -d node_modules ]; then
  npm ci --no-audit --no-fund
fi
npm run build
