/** `npm start`: Azurite, the Cosmos emulator server, the dev host and the Event Grid stand-in on this machine; Ctrl-C stops them. */
import path from 'node:path';

import { isConfigError } from '../shared/errors';
import { setupTelemetry } from '../shared/telemetry';
import { PortInUseError } from './dev/checkPortsFree';
import type { LocalStack } from './dev/localStack';
import { DEAD_LETTER_CONTAINER, startLocalStack } from './dev/localStack';
import { packageRoot } from './dev/packageRoot';

async function main(): Promise<number> {
  const t0 = performance.now();
  const root = packageRoot();
  const dataDir = path.join(root, '.data');
  console.log('blobsight: starting the local stack (Azurite, Cosmos DB emulator server, dev host, Event Grid stand-in)…');
  // Telemetry to OTEL_EXPORTER_OTLP_ENDPOINT when set (e.g. a local Jaeger or Aspire dashboard), else off.
  const telemetry = await setupTelemetry(process.env);
  if (telemetry.kind !== 'off') console.log(`blobsight: telemetry on (${telemetry.kind})`);

  let stack: LocalStack | undefined;
  let signals = 0;
  let shutdown: Promise<number> | undefined;
  const stop = (): Promise<number> =>
    (shutdown ??= (async () => {
      console.log('\nblobsight: stopping (Ctrl-C again to force)…');
      await stack?.stop();
      await telemetry.shutdown();
      console.log('blobsight: stopped; data kept in', dataDir);
      return 0;
    })());
  const onSignal = (signal: NodeJS.Signals): void => {
    signals++;
    if (signals > 1) {
      // Azurite still shuts itself down: it watches our IPC channel, which closes with this process.
      console.error(`blobsight: ${signal} again, exiting without waiting`);
      process.exit(130);
    }
    if (stack !== undefined) void stop().then((code) => process.exit(code));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  try {
    // The dev sign-in stands in for App Service authentication; DEV_SIGN_IN=false gives the key-only page instead.
    const signIn = !/^(false|0|no)$/i.test(process.env['DEV_SIGN_IN']?.trim() ?? '');
    stack = await startLocalStack({ dataDir, readLocalSettings: true, env: process.env, signIn, log: (line) => console.log(line) });
  } catch (e) {
    if (e instanceof PortInUseError) console.error(`\n✖ ${e.message}`);
    else if (isConfigError(e)) console.error(`\n✖ The settings (local.settings.json, .env, environment) are not valid:\n${e.issues.map((i) => `  - ${i}`).join('\n')}`);
    else console.error(`\n✖ The local stack could not start: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
    return 1;
  }
  // Ctrl-C pressed while starting: stop now that there is something to stop.
  if (signals > 0) return stop();

  console.log(banner(stack, dataDir, root, (performance.now() - t0) / 1000));
  return new Promise<number>(() => undefined);
}

function banner(s: LocalStack, dataDir: string, root: string, seconds: number): string {
  const m = s.services.config.model;
  const model =
    m.provider === 'local-detector'
      ? 'local detector (COCO-80, offline)'
      : m.provider === 'azure-openai'
        ? `Azure OpenAI deployment ${m.deployment} at ${m.endpoint} (${m.apiKey === undefined ? 'keyless: az login / DefaultAzureCredential' : 'API key'})`
        : m.provider === 'azure-ai-foundry'
          ? `Azure AI Foundry model ${m.deployment} at ${m.endpoint}/models (${m.apiKey === undefined ? 'keyless: az login / DefaultAzureCredential' : 'API key'})`
          : m.provider === 'azure-ai-vision'
            ? `Azure AI Vision objects at ${m.endpoint}/computervision (${m.apiKey === undefined ? 'keyless: az login / DefaultAzureCredential' : 'API key'})`
            : `OpenAI-compatible model ${m.model} at ${m.baseURL}`;
  const container = s.services.images.containerName;
  const rel = (p: string): string => path.relative(process.cwd(), p) || '.';
  return [
    '',
    `blobsight is running (started in ${seconds.toFixed(1)} s)`,
    '',
    `  Web page     ${s.urls.page}${s.urls.signIn === null ? '' : '   (dev sign-in: pick a name and the roles Reader / Reviewer)'}`,
    ...(s.urls.signIn === null ? [] : [`  Sign-in      ${s.urls.signIn}   (stands in for Microsoft Entra ID; DEV_SIGN_IN=false turns it off)`]),
    `  API base     ${s.urls.api}/api   (function key: header x-functions-key or ?code=)`,
    `  Function key ${s.functionKey}`,
    `  Health       ${s.urls.health}   (status only; details: /api/health/details with the key, or signed in)`,
    `  Azurite      ${s.urls.blob}   containers: ${container}, ${DEAD_LETTER_CONTAINER}`,
    `               ${s.blobConnectionString}`,
    `  Cosmos DB    ${s.urls.cosmos}   database ${s.services.config.cosmos.database}, container ${s.services.config.cosmos.container}`,
    `               key ${s.cosmosKey}`,
    `  Model        ${model}; default profile ${s.services.config.defaultProfile}`,
    `  Data folder  ${dataDir}`,
    '',
    'Add images (each upload is classified through the Event Grid stand-in → classifyBlob):',
    `  1. the web page above`,
    `  2. node ${rel(path.join(root, 'dist', 'scripts', 'upload.js'))} <files or folders...> [--profile <name>]`,
    `  3. Azure Storage Explorer (Emulator & Attached → Azurite), or`,
    // The full string: the Azure CLI refuses the UseDevelopmentStorage=true shortcut (azure-sdk-for-python#42280).
    `     az storage blob upload --connection-string "${s.blobConnectionString}" --container-name ${container} --file x.jpg --name flowers/x.jpg`,
    `  Profiles: ${s.services.profiles.names().join(', ')} (the first folder of the blob name picks one)`,
    '',
    'Ctrl-C stops everything and keeps the data.',
    '',
  ].join('\n');
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(e);
    process.exit(1);
  },
);
