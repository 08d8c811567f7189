/** Integration-test emulators: starts (or adopts from the environment) Azurite and a Cosmos DB server, and provides their endpoints. */
import { mkdtemp, rm } from 'node:fs/promises';
import type { Server } from 'node:http';
import { request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { BlobServiceClient } from '@azure/storage-blob';
import { createHttpServer } from '@vercel/cosmosdb-server';
import type { TestProject } from 'vitest/node' with { 'resolution-mode': 'import' };

import type { RunningAzurite } from '../../scripts/dev/startAzurite';
import { AZURITE_ACCOUNT, startAzurite } from '../../scripts/dev/startAzurite';
import { COSMOS_EMULATOR_KEY } from '../../shared/store';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Azurite (or the storage named by AZURITE_BLOB_CONNECTION_STRING / AZURE_STORAGE_CONNECTION_STRING). */
    blobConnectionString: string;
    /** The in-process Cosmos DB server over http, or COSMOS_ENDPOINT. */
    cosmosEndpoint: string;
    /** COSMOS_KEY, else the emulator's well-known key (the in-process server accepts any key). */
    cosmosKey: string;
  }
}

/** Azurite's published development account; the key is public and works only against Azurite. */
const START_TIMEOUT_MS = 20_000;

interface Running<T> {
  value: T;
  stop: () => Promise<void>;
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const stops: Array<() => Promise<void>> = [];
  const teardown = async (): Promise<void> => {
    const errors: unknown[] = [];
    for (const stop of stops.reverse()) await stop().catch((e: unknown) => errors.push(e));
    stops.length = 0;
    if (errors.length > 0) console.warn('Emulator teardown had problems:', ...errors);
  };
  try {
    const blob = await startBlob(project.config.root);
    stops.push(blob.stop);
    const cosmos = await startCosmos();
    stops.push(cosmos.stop);
    project.provide('blobConnectionString', blob.value);
    project.provide('cosmosEndpoint', cosmos.value.endpoint);
    project.provide('cosmosKey', cosmos.value.key);
  } catch (e) {
    // Nothing may outlive a failed setup: vitest will not call a teardown it never received.
    await teardown();
    throw e;
  }
  return teardown;
}

function envValue(name: string): string | undefined {
  const v = process.env[name]?.trim();
  return v === undefined || v === '' ? undefined : v;
}

async function startBlob(root: string): Promise<Running<string>> {
  const given = envValue('AZURITE_BLOB_CONNECTION_STRING') ?? envValue('AZURE_STORAGE_CONNECTION_STRING');
  if (given !== undefined) {
    await probeBlob(given, 'the storage named by AZURITE_BLOB_CONNECTION_STRING / AZURE_STORAGE_CONNECTION_STRING');
    return { value: given, stop: () => Promise.resolve() };
  }

  // The same launcher `npm start` uses, on a free port with throw-away data.
  const location = await mkdtemp(path.join(tmpdir(), 'blobsight-azurite-'));
  let azurite: RunningAzurite | undefined;
  const stop = async (): Promise<void> => {
    await azurite?.stop();
    await rm(location, { recursive: true, force: true });
  };
  try {
    azurite = await startAzurite({ location, port: 0, root, startTimeoutMs: START_TIMEOUT_MS, stopTimeoutMs: 2_000, unref: true });
    await probeAzurite(azurite.port);
    return { value: azurite.connectionString, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}

/** One cheap call, bounded, so a wrong endpoint fails the run at once with a clear message instead of in every test. */
async function probeBlob(connectionString: string, what: string): Promise<void> {
  const client = BlobServiceClient.fromConnectionString(connectionString, { retryOptions: { maxTries: 2, tryTimeoutInMs: 5_000 } });
  try {
    await client.getProperties({ abortSignal: AbortSignal.timeout(START_TIMEOUT_MS) });
  } catch (e) {
    throw new Error(`${what} did not answer: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`, { cause: e });
  }
}

/**
 * Any HTTP answer means Azurite serves requests. No keep-alive: an idle connection from this process would make
 * Azurite's graceful shutdown wait for it.
 */
async function probeAzurite(port: number): Promise<void> {
  try {
    await new Promise<void>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, path: `/${AZURITE_ACCOUNT}?comp=list`, agent: false, timeout: START_TIMEOUT_MS }, (res) => {
        res.resume();
        resolve();
      });
      req.once('timeout', () => req.destroy(new Error('no answer')));
      req.once('error', reject);
      req.end();
    });
  } catch (e) {
    throw new Error(`Azurite on port ${port} did not answer: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
}

async function startCosmos(): Promise<Running<{ endpoint: string; key: string }>> {
  const endpoint = envValue('COSMOS_ENDPOINT');
  if (endpoint !== undefined) {
    return { value: { endpoint, key: envValue('COSMOS_KEY') ?? COSMOS_EMULATOR_KEY }, stop: () => Promise.resolve() };
  }
  const server: Server = createHttpServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const stop = (): Promise<void> =>
    new Promise((resolve, reject) => {
      server.close((e) => (e === undefined ? resolve() : reject(e)));
      // Clients keep connections alive; close() alone would wait for them.
      server.closeAllConnections();
    });
  return { value: { endpoint: `http://127.0.0.1:${port}`, key: COSMOS_EMULATOR_KEY }, stop };
}
