/** Local stand-in for the topic: POSTs each CloudEvent to every configured URL, signed, with bounded retries. */
import type { OutboundPublisher } from './OutboundPublisher';
import { signWebhook } from './webhookSignature';

export interface WebhookOptions {
  urls: readonly string[];
  secret: string;
  /** Tries per event and URL (first one included). */
  maxTries?: number;
  /** First pause between tries; doubles each time. */
  backoffMs?: number;
  timeoutMs?: number;
  fetch?: typeof fetch;
}

export const DEFAULT_WEBHOOK_TRIES = 4;

export function webhookPublisher(o: WebhookOptions): OutboundPublisher {
  const doFetch = o.fetch ?? fetch;
  const maxTries = o.maxTries ?? DEFAULT_WEBHOOK_TRIES;
  const backoffMs = o.backoffMs ?? 250;
  const timeoutMs = o.timeoutMs ?? 10_000;
  const post = async (url: string, id: string, body: string): Promise<void> => {
    let last = '';
    for (let attempt = 1; attempt <= maxTries; attempt++) {
      const timestamp = Math.floor(Date.now() / 1000);
      try {
        const res = await doFetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/cloudevents+json; charset=utf-8', 'webhook-id': id, 'webhook-timestamp': String(timestamp), 'webhook-signature': signWebhook(o.secret, id, timestamp, body) },
          body,
          signal: AbortSignal.timeout(timeoutMs),
        });
        await res.body?.cancel();
        if (res.ok) return;
        last = `HTTP ${res.status}`;
        // A 4xx other than 408/429 is the receiver refusing this event: trying again cannot change its mind.
        if (res.status < 500 && res.status !== 408 && res.status !== 429) break;
      } catch (e) {
        last = e instanceof Error ? e.message : String(e);
      }
      if (attempt < maxTries) await new Promise((r) => setTimeout(r, backoffMs * 2 ** (attempt - 1)));
    }
    throw new Error(`webhook ${new URL(url).host} did not accept event ${id}: ${last}`);
  };
  return {
    target: `${o.urls.length} webhook(s)`,
    send: async (events) => {
      for (const e of events) {
        const body = JSON.stringify(e);
        // Every URL gets its tries; one failing receiver does not keep the others from the event.
        const results = await Promise.allSettled(o.urls.map((u) => post(u, e.id, body)));
        const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
        if (failed.length > 0) throw new Error(failed.map((f) => (f.reason instanceof Error ? f.reason.message : String(f.reason))).join('; '));
      }
    },
  };
}
