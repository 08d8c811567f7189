/**
 * A worker process: the dev host alone (HTTP functions + the Event Grid webhook) against the storage and Cosmos DB the
 * environment names. `npm run chaos` starts, kills (-9) and restarts it; it also serves for running several workers.
 * Prints one JSON line `{"ready":true,"url":...}` on stdout when it listens; SIGTERM/SIGINT stop it cleanly.
 */
import { randomBytes } from 'node:crypto';

import { loadConfig } from '../shared/config';
import { isConfigError } from '../shared/errors';
import { createServices, FUNCTIONS } from '../shared/runtime';
import { startDevHost } from './dev/devHost';

async function main(): Promise<void> {
  const services = await createServices(loadConfig(process.env));
  const host = await startDevHost({
    services,
    functionKey: process.env['FUNCTIONS_DEV_KEY'] ?? randomBytes(24).toString('base64url'),
    port: Number(process.env['WORKER_PORT'] ?? 0),
    // Quiet by default: a chaos run makes thousands of requests.
    ...(process.env['WORKER_LOG'] === '1' ? { log: (line: string) => console.error(line) } : {}),
    // Timers are not run here: whoever runs workers decides when to reconcile.
    functions: FUNCTIONS.filter((f) => f.trigger !== 'timer'),
  });
  console.log(JSON.stringify({ ready: true, url: host.url, pid: process.pid }));
  const stop = (): void => {
    void host.close().then(() => process.exit(0));
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((e: unknown) => {
  console.error(isConfigError(e) ? e.message : e instanceof Error ? (e.stack ?? e.message) : String(e));
  process.exit(1);
});
