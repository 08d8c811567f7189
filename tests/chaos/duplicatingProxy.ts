/** Sits between the Event Grid stand-in and the worker: forwards deliveries, duplicating some (a few concurrently). */
import type { Server } from 'node:http';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface DuplicatingProxy {
  readonly url: string;
  /** Where deliveries go now (the worker moves to a new port when restarted). */
  target: string;
  readonly stats: { forwarded: number; duplicated: number; concurrentDuplicates: number; failed: number };
  close(): Promise<void>;
}

/**
 * `rate` of deliveries are sent twice: half of those at the same moment (two workers racing for one event), half
 * again a little later (Event Grid's at-least-once redelivery). The caller sees the first answer.
 */
export async function startDuplicatingProxy(target: string, rate: number, random: () => number): Promise<DuplicatingProxy> {
  const stats = { forwarded: 0, duplicated: 0, concurrentDuplicates: 0, failed: 0 };
  const state = { target };
  const send = async (path: string, headers: Record<string, string>, body: Buffer): Promise<Response> =>
    fetch(`${state.target}${path}`, { method: 'POST', headers, body: new Uint8Array(body), signal: AbortSignal.timeout(35_000) });

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string' && k !== 'host' && k !== 'content-length') headers[k] = v;
      const path = req.url ?? '/';
      stats.forwarded++;
      const r = random();
      const dup = r < rate;
      const concurrent = dup && r < rate / 2;
      if (dup) stats.duplicated++;
      if (concurrent) {
        stats.concurrentDuplicates++;
        void send(path, headers, body).catch(() => undefined);
      }
      send(path, headers, body)
        .then(async (answer) => {
          res.writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? 'text/plain' });
          res.end(Buffer.from(await answer.arrayBuffer()));
          if (dup && !concurrent) setTimeout(() => void send(path, headers, body).catch(() => undefined), 50 + random() * 500);
        })
        .catch(() => {
          stats.failed++;
          res.writeHead(502);
          res.end('worker unreachable');
        });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    get target() {
      return state.target;
    },
    set target(t: string) {
      state.target = t;
    },
    stats,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
