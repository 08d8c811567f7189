// Writes local.settings.json from the azd environment's values (read from stdin, as `azd env get-values` prints them,
// JSON or dotenv) so `func start` / `npm start` run locally against the provisioned resources, keyless, as the
// signed-in developer. Shared by postprovision.sh and postprovision.ps1. Usage: node writeLocalSettings.mjs <target>
import { copyFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';

/** azd outputs the app needs, and the local setting each becomes. */
const FROM_AZD = {
  AZURE_STORAGE_BLOB_ENDPOINT: 'IMAGES_STORAGE__blobServiceUri',
  IMAGES_CONTAINER: 'IMAGES_CONTAINER',
  DEADLETTER_CONTAINER: 'DEADLETTER_CONTAINER',
  COSMOS_ENDPOINT: 'COSMOS_ENDPOINT',
  COSMOS_DATABASE: 'COSMOS_DATABASE',
  COSMOS_CONTAINER: 'COSMOS_CONTAINER',
  AZURE_OPENAI_ENDPOINT: 'AZURE_OPENAI_ENDPOINT',
  AZURE_OPENAI_DEPLOYMENT: 'AZURE_OPENAI_DEPLOYMENT',
  OPENAI_API_VERSION: 'OPENAI_API_VERSION',
};

/** `azd env get-values` prints KEY="value" lines by default and a JSON object with --output json. */
function parseValues(text) {
  const trimmed = text.trim();
  if (trimmed.startsWith('{')) return JSON.parse(trimmed);
  const values = {};
  for (const line of trimmed.split(/\r?\n/)) {
    const m = /^([A-Za-z_][A-Za-z0-9_]*)=(?:"((?:[^"\\]|\\.)*)"|(.*))$/.exec(line.trim());
    if (m === null) continue;
    values[m[1]] = m[2] !== undefined ? m[2].replace(/\\(.)/g, '$1') : m[3];
  }
  return values;
}

const target = process.argv[2];
if (target === undefined) {
  console.error('usage: node writeLocalSettings.mjs <path of local.settings.json>  (azd env get-values on stdin)');
  process.exit(2);
}

const azd = parseValues(readFileSync(0, 'utf8'));
const missing = Object.keys(FROM_AZD).filter((k) => typeof azd[k] !== 'string' || azd[k].trim() === '');
if (missing.length > 0) {
  console.error(`The azd environment has no ${missing.join(', ')}. Run \`azd provision\` first.`);
  process.exit(1);
}

const values = {
  FUNCTIONS_WORKER_RUNTIME: 'node',
  // The local Functions host keeps its own state in Azurite; only the app's data lives in Azure.
  AzureWebJobsStorage: 'UseDevelopmentStorage=true',
  // A separate connection name, so the images come from the cloud account while the host uses Azurite. No clientId:
  // locally DefaultAzureCredential signs in as you (az login / azd auth login), not as the app's managed identity.
  IMAGES_STORAGE_CONNECTION: 'IMAGES_STORAGE',
  // Cosmos DB exists already and data-plane RBAC cannot create it; MODEL_PROVIDER is explicit (no silent fallback).
  COSMOS_CREATE_IF_MISSING: 'false',
  MODEL_PROVIDER: 'azure-openai',
  // The drainParked queue trigger binds %PARKING_QUEUE%: the host refuses to start when a binding's setting is missing.
  // Locally the queue lives in Azurite (AzureWebJobsStorage), beside the host's own state.
  PARKING_QUEUE: 'parked-events',
};
for (const [from, to] of Object.entries(FROM_AZD)) values[to] = azd[from].trim();

if (existsSync(target)) {
  copyFileSync(target, `${target}.bak`);
  console.log(`Kept the previous ${target} as ${target}.bak`);
}
writeFileSync(target, `${JSON.stringify({ IsEncrypted: false, Values: values }, null, 2)}\n`);
console.log(`Wrote ${target}: local runs now use ${values.IMAGES_STORAGE__blobServiceUri}, ${values.COSMOS_ENDPOINT} and ${values.AZURE_OPENAI_ENDPOINT} as you.`);
