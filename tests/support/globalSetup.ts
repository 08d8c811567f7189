/** Integration-test emulators: starts (or adopts from the environment) Azurite and a Cosmos DB server, and provides their endpoints. */
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import type { Server } from 'node:http';
import { request } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { BlobServiceClient } from '@azure/storage-blob';
import { createHttpServer } from '@vercel/cosmosdb-server';
import type { TestProject } from 'vitest/node' with { 'resolution-mode': 'import' };

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
const AZURITE_ACCOUNT = 'devstoreaccount1';
const AZURITE_ACCOUNT_KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';
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

  const location = await mkdtemp(path.join(tmpdir(), 'blobsight-azurite-'));
  const entry = createRequire(path.join(root, 'package.json')).resolve('azurite/dist/src/blob/main.js');
  // Run azurite-blob under a tiny wrapper that exits (and removes the data) when our IPC channel closes, so Azurite
  // dies with this process even if vitest is killed before teardown runs. Port 0: Azurite picks a free port and prints it.
  const wrapper = [
    `process.on('disconnect', () => { require('node:fs').rmSync(${JSON.stringify(location)}, { recursive: true, force: true }); process.exit(0); });`,
    `process.argv.splice(1, 0, ${JSON.stringify(entry)});`,
    `require(${JSON.stringify(entry)});`,
  ].join(' ');
  const args = ['--blobHost', '127.0.0.1', '--blobPort', '0', '--location', location, '--disableTelemetry', '--skipApiVersionCheck', '--silent'];
  const child = spawn(process.execPath, ['-e', wrapper, '--', ...args], { stdio: ['ignore', 'pipe', 'pipe', 'ipc'], detached: true });
  // Azurite must never be what keeps vitest alive; teardown stops it, the wrapper covers a vitest that died first.
  child.unref();
  child.channel?.unref();
  const stop = async (): Promise<void> => {
    await stopProcessGroup(child);
    await rm(location, { recursive: true, force: true });
  };
  try {
    const port = await waitForAzurite(child);
    const connectionString =
      `DefaultEndpointsProtocol=http;AccountName=${AZURITE_ACCOUNT};AccountKey=${AZURITE_ACCOUNT_KEY};` +
      `BlobEndpoint=http://127.0.0.1:${port}/${AZURITE_ACCOUNT};`;
    await probeAzurite(port);
    return { value: connectionString, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}

/** Resolves with the port Azurite listens on; rejects with its output when it exits or stays silent too long. */
function waitForAzurite(child: ChildProcess): Promise<number> {
  return new Promise((resolve, reject) => {
    let output = '';
    const tail = (): string => output.trim().split('\n').slice(-15).join('\n') || '(no output)';
    const timer = setTimeout(() => fail(`Azurite did not start in ${START_TIMEOUT_MS / 1000} s:\n${tail()}`), START_TIMEOUT_MS);
    const onData = (chunk: Buffer): void => {
      output += chunk.toString('utf8');
      const m = /successfully listens on https?:\/\/[^\s:]+:(\d+)/.exec(output);
      if (m?.[1] !== undefined) done(() => resolve(Number(m[1])));
    };
    const onExit = (code: number | null, signal: NodeJS.Signals | null): void =>
      fail(`Azurite exited before it was ready (code ${code}, signal ${signal}):\n${tail()}`);
    const onError = (e: Error): void => fail(`Azurite could not be started: ${e.message}`);
    function done(then: () => void): void {
      clearTimeout(timer);
      child.stdout?.off('data', onData);
      child.stderr?.off('data', onData);
      child.off('exit', onExit);
      child.off('error', onError);
      // Keep draining the pipes so a chatty Azurite never blocks on a full buffer, without holding vitest open.
      for (const pipe of [child.stdout, child.stderr]) {
        pipe?.resume();
        (pipe as { unref?: () => void } | null)?.unref?.();
      }
      then();
    }
    function fail(message: string): void {
      done(() => reject(new Error(message)));
    }
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', onExit);
    child.once('error', onError);
  });
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

/**
 * SIGKILL to the whole group. Its data is thrown away, so there is nothing to shut down cleanly, and a graceful
 * close would wait for test workers' keep-alive connections (vitest tears down before it stops the workers).
 */
async function stopProcessGroup(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  // It was unref'd so it never holds vitest open; now this process must stay up until it is really gone.
  child.ref();
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    return; // Already gone.
  }
  await exited;
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
