/** A webhook receiver on a free loopback port that fails the first N requests (HTTP 503) and records every request. */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedWebhook {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export interface WebhookReceiver {
  readonly url: string;
  /** Every request, the refused ones included. */
  readonly requests: ReceivedWebhook[];
  /** The requests answered 2xx. */
  accepted(): ReceivedWebhook[];
  /** The next `n` requests are answered 503. */
  failNext(n: number): void;
  close(): Promise<void>;
}

export async function startWebhookReceiver(): Promise<WebhookReceiver> {
  const requests: ReceivedWebhook[] = [];
  let failing = 0;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const status = failing > 0 ? 503 : 204;
      if (failing > 0) failing--;
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string') headers[k] = v;
      requests.push({ status, headers, body: Buffer.concat(chunks).toString('utf8') });
      res.writeHead(status).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    requests,
    accepted: () => requests.filter((r) => r.status < 300),
    failNext: (n) => {
      failing = n;
    },
    close: () => new Promise((r) => server.close(() => r())),
  };
}
