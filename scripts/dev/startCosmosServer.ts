/**
 * The Cosmos DB emulator stand-in (@vercel/cosmosdb-server) over https on loopback, with the emulator's published key
 * and our own certificate; its in-memory data is restored from and saved to a snapshot file.
 */
import type { IncomingMessage } from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import path from 'node:path';

import { CosmosClient } from '@azure/cosmos';
import { createHttpsServer } from '@vercel/cosmosdb-server';

import { COSMOS_EMULATOR_KEY } from '../../shared/store';
import type { SnapshotCounts } from './cosmosSnapshot';
import { readSnapshotFile, restoreSnapshot, takeSnapshot, writeSnapshotFile } from './cosmosSnapshot';
import { ensureDevCertificate } from './devCertificate';

export interface CosmosServerOptions {
  /** Holds key.pem, cert.pem and snapshot.json. */
  dir: string;
  /** 0 picks a free port. */
  port: number;
  /** How often a changed account is saved, ms. Default 3000. */
  snapshotMs?: number;
  log?: (line: string) => void;
}

export interface RunningCosmosServer {
  /** `https://127.0.0.1:<port>` */
  endpoint: string;
  port: number;
  key: string;
  certFile: string;
  snapshotFile: string;
  /** What the snapshot brought back at start. */
  restored: SnapshotCounts;
  /** Saves now if anything changed since the last save. */
  flush(): Promise<void>;
  /** Saves, then closes the server and every connection. Idempotent. */
  stop(): Promise<void>;
}

export async function startCosmosServer(o: CosmosServerOptions): Promise<RunningCosmosServer> {
  const log = o.log ?? (() => undefined);
  const cert = await ensureDevCertificate(o.dir);
  if (cert.created) log(`Cosmos: made a self-signed certificate for localhost/127.0.0.1 (${cert.certFile})`);
  const server = createHttpsServer({ key: cert.key, cert: cert.cert, keepAlive: true });
  let dirty = false;
  // Anything but a read, a query or a query plan (both POSTed as application/query+json) may have changed data:
  // only then is a new snapshot worth writing.
  server.on('request', (req: IncomingMessage) => {
    if (req.method === 'GET' || req.method === 'HEAD') return;
    if (req.method === 'POST' && /^application\/query\+json/i.test(req.headers['content-type'] ?? '')) return;
    dirty = true;
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const endpoint = `https://127.0.0.1:${port}`;
  const agent = new https.Agent({ ca: cert.cert, keepAlive: true });
  // Trusts exactly our certificate: no TLS relaxation is needed for our own snapshot client.
  const client = new CosmosClient({ endpoint, key: COSMOS_EMULATOR_KEY, agent, connectionPolicy: { enableEndpointDiscovery: false, requestTimeout: 30_000 } });
  const snapshotFile = path.join(o.dir, 'snapshot.json');

  const close = (): Promise<void> =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
      agent.destroy();
      client.dispose();
    });

  let restored: SnapshotCounts = { databases: 0, containers: 0, items: 0 };
  try {
    const snapshot = readSnapshotFile(snapshotFile, log);
    if (snapshot !== undefined) {
      restored = await restoreSnapshot(client, snapshot);
      log(`Cosmos: restored ${restored.items} item(s) in ${restored.containers} container(s) from ${snapshotFile} (saved ${snapshot.savedAt})`);
    }
    dirty = false;
  } catch (e) {
    await close();
    throw new Error(`Cosmos: could not restore ${snapshotFile}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }

  let saving: Promise<void> = Promise.resolve();
  const save = (): Promise<void> => {
    saving = saving.then(async () => {
      if (!dirty) return;
      dirty = false;
      try {
        const snapshot = await takeSnapshot(client);
        writeSnapshotFile(snapshotFile, snapshot);
      } catch (e) {
        dirty = true;
        log(`Cosmos: snapshot failed, will retry: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`);
      }
    });
    return saving;
  };
  const timer = setInterval(() => void save(), o.snapshotMs ?? 3_000);
  timer.unref();

  let stopping: Promise<void> | undefined;
  return {
    endpoint,
    port,
    key: COSMOS_EMULATOR_KEY,
    certFile: cert.certFile,
    snapshotFile,
    restored,
    flush: save,
    stop: () =>
      (stopping ??= (async () => {
        clearInterval(timer);
        await save();
        if (dirty) log(`Cosmos: the last snapshot could not be written; changes since the previous one are not in ${snapshotFile}`);
        await close();
      })()),
  };
}
