/**
 * The fetch under the openai SDK, paced by a QuotaPacer: each chat request waits for its slot, or, when the slot is
 * further away than the caller can wait, is not sent and answered here with a 429 that says how long to wait. A 429
 * of the deployment is learnt from and tried again here, inside the wait budget; every 429 leaves with
 * `x-should-retry: false`, so the SDK never retries one on its own schedule (its retries ignore the other
 * instances and are what turns a throttle into a storm). The SDK still retries timeouts and 5xx, and those attempts
 * pass through here again, paced.
 */
import { estimateRequestTokens } from './estimateRequestTokens';
import type { QuotaPacer } from './QuotaPacer';

export interface PacedFetchOptions {
  /** Longest wait for a slot before a request is handed back (parked) instead (PACER_MAX_WAIT_MS). */
  maxWaitMs: number;
  /** Sends after a deployment 429 inside one call before it is handed back; default 3. */
  maxThrottledSends?: number;
  now?: () => number;
}

/** Slots a request may find too late (stalls) before it is handed back. */
const MAX_FORFEITS = 3;

/** `error.code` of the 429 the pacer answers itself: no request reached the deployment. */
export const PACED_CODE = 'blobsight_paced';

export function pacedFetch(inner: typeof fetch, pacer: QuotaPacer, options: PacedFetchOptions): typeof fetch {
  const now = options.now ?? Date.now;
  const maxThrottledSends = options.maxThrottledSends ?? 3;
  return async (input, init) => {
    const body = typeof init?.body === 'string' ? init.body : undefined;
    const tokens = body !== undefined && isChatCompletions(input) ? estimateRequestTokens(body) : undefined;
    if (tokens === undefined) return inner(input, init);
    for (let throttled = 0, forfeited = 0; ; ) {
      const slot = await pacer.acquire(tokens, options.maxWaitMs);
      if (slot.kind === 'park') return paced(slot.waitMs, tokens);
      if (slot.waitMs > 0) await (pacer.sleep?.(slot.waitMs) ?? sleep(slot.waitMs, init?.signal ?? undefined));
      // Woken too late (a stall): sending now would bunch with the slots after it. Reserve again, a few times, then
      // hand the request back to be parked rather than spin on a machine that cannot keep time.
      if (!pacer.confirm(slot)) {
        if (++forfeited >= MAX_FORFEITS) return paced(Math.ceil(pacer.slotMs(tokens)), tokens);
        continue;
      }
      const sentAt = now();
      const response = await inner(input, init);
      pacer.observe({
        tokens,
        sentAt,
        status: response.status,
        retryAfterMs: retryAfterMs(response.headers),
        remainingTokens: headerNumber(response.headers, 'x-ratelimit-remaining-tokens'),
        remainingRequests: headerNumber(response.headers, 'x-ratelimit-remaining-requests'),
      });
      if (response.status !== 429) return response;
      if (++throttled >= maxThrottledSends) return noRetry(response);
      // Drop the refused answer's body before asking again.
      await response.body?.cancel().catch(() => undefined);
    }
  };
}

function isChatCompletions(input: Parameters<typeof fetch>[0]): boolean {
  const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
  return /\/chat\/completions(?:\?|$)/.test(url);
}

/** The pacer's own 429: nothing was sent, so nothing is billed and the gate never counted it. */
function paced(waitMs: number, tokens: number): Response {
  const body = JSON.stringify({
    error: { code: PACED_CODE, message: `Not sent: this instance's share of the deployment's quota has no room for ${tokens} tokens within the wait allowed (next slot in ${waitMs} ms).` },
  });
  return new Response(body, {
    status: 429,
    headers: { 'content-type': 'application/json', 'retry-after-ms': String(waitMs), 'x-should-retry': 'false' },
  });
}

function noRetry(response: Response): Response {
  const headers = new Headers(response.headers);
  headers.set('x-should-retry', 'false');
  return new Response(response.body, { status: response.status, statusText: response.statusText, headers });
}

function headerNumber(headers: Headers, name: string): number | undefined {
  const v = Number.parseFloat(headers.get(name) ?? '');
  return Number.isFinite(v) && v >= 0 ? v : undefined;
}

function retryAfterMs(headers: Headers): number | undefined {
  const ms = headerNumber(headers, 'retry-after-ms');
  if (ms !== undefined) return ms;
  const s = headerNumber(headers, 'retry-after');
  return s === undefined ? undefined : s * 1000;
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted === true) {
      reject(signal.reason as Error);
      return;
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason as Error);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
