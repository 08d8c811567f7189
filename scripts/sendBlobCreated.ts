/**
 * Sends the BlobCreated event for one blob to a Functions host's Event Grid webhook, as Event Grid would: works
 * against `func start` and the dev host alike. Usage: node dist/scripts/sendBlobCreated.js <blobName> [--host URL] [--key K]
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';

import { blobCreatedEvent } from './dev/blobEvents';
import { imagesContainerFromSettings } from './dev/imagesContainerFromSettings';
import { packageRoot } from './dev/packageRoot';

const USAGE = `Usage: node dist/scripts/sendBlobCreated.js <blobName> [--host http://localhost:7071] [--key <host key>] [--function classifyBlob] [--container images] [--connection-string <cs>]

Reads the blob's properties from storage (AzureWebJobsStorage from local.settings.json / .env / the environment, else
UseDevelopmentStorage=true) and POSTs a Microsoft.Storage.BlobCreated event to
<host>/runtime/webhooks/EventGrid?functionName=<function> with aeg-event-type: Notification.

The webhook wants the host key (x-functions-key): --key, else FUNCTIONS_DEV_KEY, else the key npm start keeps in
.data/function-key. Against func start, pass the eventgrid_extension system key (or the master key).`;

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      host: { type: 'string', default: 'http://localhost:7071' },
      function: { type: 'string', default: 'classifyBlob' },
      container: { type: 'string' },
      'connection-string': { type: 'string' },
      key: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const blobName = positionals[0];
  if (values.help === true || blobName === undefined || positionals.length > 1) {
    console.log(USAGE);
    return values.help === true ? 0 : 2;
  }
  const { container, source } = imagesContainerFromSettings({
    ...(values['connection-string'] === undefined ? {} : { connectionString: values['connection-string'] }),
    ...(values.container === undefined ? {} : { container: values.container }),
  });
  const blob = container.getBlobClient(blobName);
  let props;
  try {
    props = await blob.getProperties();
  } catch (e) {
    const status = (e as { statusCode?: unknown }).statusCode;
    console.error(status === 404 ? `No blob ${container.containerName}/${blobName} (storage: ${source}).` : `Cannot read ${blob.url} (storage: ${source}): ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`);
    return 1;
  }
  const event = blobCreatedEvent({
    accountName: container.accountName,
    container: container.containerName,
    name: blobName,
    url: blob.url,
    eTag: props.etag ?? '',
    contentLength: props.contentLength ?? 0,
    contentType: props.contentType ?? null,
    blobType: props.blobType ?? 'BlockBlob',
  });
  const url = `${values.host.replace(/\/+$/, '')}/runtime/webhooks/EventGrid?functionName=${encodeURIComponent(values.function)}`;
  const key = hostKey(values.key);
  console.log(`POST ${url}${key === undefined ? ' (no key: the webhook will answer 401)' : ''}\n${JSON.stringify([event], null, 2)}`);
  let res: Response;
  try {
    res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', 'aeg-event-type': 'Notification', ...(key === undefined ? {} : { 'x-functions-key': key }) }, body: JSON.stringify([event]), signal: AbortSignal.timeout(120_000) });
  } catch (e) {
    console.error(`No answer from ${values.host}: is func start or npm start running? (${e instanceof Error ? e.message : String(e)})`);
    return 1;
  }
  const text = await res.text();
  console.log(`→ ${res.status} ${res.statusText}${text === '' ? '' : `\n${text}`}`);
  return res.ok ? 0 : 1;
}

/** The key given, or FUNCTIONS_DEV_KEY, or the one `npm start` made and keeps in `.data/function-key`. */
function hostKey(given: string | undefined): string | undefined {
  const fromEnv = process.env['FUNCTIONS_DEV_KEY'];
  if (given !== undefined && given.trim() !== '') return given.trim();
  if (fromEnv !== undefined && fromEnv.trim() !== '') return fromEnv.trim();
  const file = path.join(packageRoot(), '.data', 'function-key');
  const stored = existsSync(file) ? readFileSync(file, 'utf8').trim() : '';
  return stored === '' ? undefined : stored;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  },
);
