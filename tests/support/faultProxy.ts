/** A loopback HTTP proxy that injects faults (status codes, delays) in front of an emulator, for throttling tests. */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface InjectedFault {
  status: number;
  headers?: Record<string, string>;
  body?: unknown;
}

export interface FaultProxy {
  readonly url: string;
  /** Faults answered instead of forwarding, one per matching request, in order. */
  enqueue(match: (req: IncomingMessage) => boolean, ...faults: InjectedFault[]): void;
  /** Answer every matching request with this fault until cleared. */
  always(match: (req: IncomingMessage) => boolean, fault: InjectedFault | undefined): void;
  readonly injected: number;
  readonly forwarded: number;
  close(): Promise<void>;
}

export async function startFaultProxy(target: string): Promise<FaultProxy> {
  const upstream = new URL(target);
  const queue: Array<{ match: (req: IncomingMessage) => boolean; fault: InjectedFault }> = [];
  let sticky: { match: (req: IncomingMessage) => boolean; fault: InjectedFault } | undefined;
  let injected = 0;
  let forwarded = 0;
  const reply = (res: ServerResponse, f: InjectedFault): void => {
    injected++;
    res.writeHead(f.status, { 'content-type': 'application/json', ...f.headers });
    res.end(JSON.stringify(f.body ?? { code: String(f.status), message: 'injected by the test fault proxy' }));
  };
  const server: Server = createServer((req, res) => {
    const i = queue.findIndex((q) => q.match(req));
    if (i >= 0) {
      const [q] = queue.splice(i, 1);
      req.resume();
      if (q !== undefined) reply(res, q.fault);
      return;
    }
    if (sticky?.match(req) === true) {
      req.resume();
      reply(res, sticky.fault);
      return;
    }
    forwarded++;
    const out = request(
      { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: { ...req.headers, host: upstream.host } },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      },
    );
    out.on('error', () => res.destroy());
    req.pipe(out);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    enqueue: (match, ...faults) => queue.push(...faults.map((fault) => ({ match, fault }))),
    always: (match, fault) => (sticky = fault === undefined ? undefined : { match, fault }),
    get injected() {
      return injected;
    },
    get forwarded() {
      return forwarded;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
