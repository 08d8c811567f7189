/**
 * The fake as a deployment with a quota: each chat request is priced on arrival the way Azure estimates it (prompt
 * tokens by o200k + image tokens by the published rule + `max_tokens`), checked against TPM (a sliding minute) and
 * RPM (1 s and 10 s windows), refused with 429 + `retry-after-ms` when over, and answered after a latency drawn from the reference fit.
 * `timeCompression` c makes a minute of quota last 60/c seconds: windows, waits and latencies all shrink by c.
 */
import { promptTokens } from './promptTokens';
import { latencySampler, referenceLatency } from './quotaLatency';
import { QuotaLedger } from './quotaLedger';
import type { Route } from './serviceError';
import { azureGatewayError, ServiceError } from './serviceError';
import type { ValidatedChatRequest } from './validateChatRequest';

export interface QuotaOptions {
  /** The deployment's tokens per minute (`sku.capacity` × 1,000). */
  tpm: number;
  /** Azure's ratio for GPT-4o-class models: 6 RPM per 1,000 TPM. */
  rpmPer1000Tpm?: number;
  /** RPM enforcement windows in (uncompressed) milliseconds; default 1 s and 10 s. */
  windowsMs?: readonly number[];
  /** TPM enforcement windows in (uncompressed) milliseconds; default one sliding minute. */
  tokenWindowsMs?: readonly number[];
  /** Quota minutes per real minute; default 1 (real time). */
  timeCompression?: number;
  /** 'reference': latencies drawn from the fit of the GPT-4o study; a number: that many (uncompressed) ms; default 'reference'. */
  latency?: 'reference' | number;
  /** For reproducible latencies. */
  random?: () => number;
  /** Clock in real ms; default Date.now (tests may pass a fake clock). */
  now?: () => number;
  /** Waits out a latency on the same clock as `now` (a simulated clock's sleep); default: the server's own timer. */
  sleep?: (ms: number) => Promise<void>;
}

export interface QuotaStats {
  admitted: number;
  throttled: number;
  /** Estimated tokens of admitted requests (what the quota counted). */
  admittedTokens: number;
  /** Real-clock ms of the first and last admission. */
  firstAdmittedAt: number | null;
  lastAdmittedAt: number | null;
}

export type QuotaVerdict = { ok: true; headers: Record<string, string>; latencyMs: number } | { ok: false; error: ServiceError };

/** `max_tokens` counted when a request sends none (GUESS: Azure's default reserve is not published). */
export const DEFAULT_RESERVED_OUTPUT_TOKENS = 4_096;

export interface QuotaGate {
  readonly options: Required<Pick<QuotaOptions, 'tpm' | 'rpmPer1000Tpm' | 'windowsMs' | 'tokenWindowsMs' | 'timeCompression'>>;
  /** Decides one validated request; the caller sends the 429 or waits `latencyMs` and answers with `headers`. */
  admit(request: ValidatedChatRequest, route: Route, apiVersion: string): QuotaVerdict;
  readonly stats: QuotaStats;
  /** The clock's sleep for latencies when the options gave one. */
  readonly sleep: ((ms: number) => Promise<void>) | undefined;
  reset(): void;
}

/** The estimate Azure makes on arrival. */
export function estimatedRequestTokens(request: ValidatedChatRequest): number {
  return promptTokens(request.messages, request.images) + (request.maxTokens ?? DEFAULT_RESERVED_OUTPUT_TOKENS) * request.n;
}

export function createQuotaGate(o: QuotaOptions): QuotaGate {
  const options = {
    tpm: o.tpm,
    rpmPer1000Tpm: o.rpmPer1000Tpm ?? 6,
    windowsMs: o.windowsMs ?? [1_000, 10_000],
    tokenWindowsMs: o.tokenWindowsMs ?? [60_000],
    timeCompression: o.timeCompression ?? 1,
  };
  if (!(options.tpm > 0) || !(options.timeCompression > 0)) throw new Error('quota: tpm and timeCompression must be positive');
  const c = options.timeCompression;
  const clock = o.now ?? Date.now;
  const latency = o.latency ?? 'reference';
  const draw = latency === 'reference' ? latencySampler(referenceLatency(), o.random) : () => latency;
  let ledger = newLedger();
  let epoch = clock();
  const stats: QuotaStats = { admitted: 0, throttled: 0, admittedTokens: 0, firstAdmittedAt: null, lastAdmittedAt: null };

  function newLedger(): QuotaLedger {
    return new QuotaLedger({ tokensPerMinute: options.tpm, requestsPerMinute: (options.tpm / 1000) * options.rpmPer1000Tpm, requestWindowsMs: options.windowsMs, tokenWindowsMs: options.tokenWindowsMs });
  }

  return {
    options,
    stats,
    sleep: o.sleep,
    admit(request, route, apiVersion) {
      const realNow = clock();
      // Quota time runs c times faster than the real clock.
      const quotaNow = (realNow - epoch) * c;
      const tokens = estimatedRequestTokens(request);
      const a = ledger.admit(tokens, quotaNow);
      const headers = { 'x-ratelimit-remaining-requests': String(a.remainingRequests), 'x-ratelimit-remaining-tokens': String(a.remainingTokens) };
      if (!a.admitted) {
        stats.throttled++;
        const realMs = Math.max(1, Math.ceil(a.retryAfterMs / c));
        return { ok: false, error: quotaExceeded(route, apiVersion, a.limit, realMs, options.tpm, tokens, headers) };
      }
      stats.admitted++;
      stats.admittedTokens += tokens;
      stats.firstAdmittedAt ??= realNow;
      stats.lastAdmittedAt = realNow;
      return { ok: true, headers, latencyMs: draw() / c };
    },
    reset() {
      ledger = newLedger();
      epoch = clock();
      Object.assign(stats, { admitted: 0, throttled: 0, admittedTokens: 0, firstAdmittedAt: null, lastAdmittedAt: null });
    },
  };
}

/** Azure's 429: the gateway body, `retry-after-ms` and `retry-after` (whole seconds), and the remaining-quota headers. */
function quotaExceeded(route: Route, apiVersion: string, limit: 'tokens' | 'requests', retryAfterMs: number, tpm: number, requested: number, headers: Record<string, string>): ServiceError {
  const seconds = Math.max(1, Math.ceil(retryAfterMs / 1000));
  const all = { ...headers, 'retry-after-ms': String(retryAfterMs), 'retry-after': String(seconds) };
  if (route === 'openai') {
    return new ServiceError(
      429,
      {
        message: `Rate limit reached for gpt-4o in organization org-fake on ${limit === 'tokens' ? 'tokens per min (TPM)' : 'requests per min (RPM)'}: Limit ${tpm}, Requested ${requested}. Please try again in ${retryAfterMs}ms. Visit https://platform.openai.com/account/rate-limits to learn more.`,
        type: limit,
        param: null,
        code: 'rate_limit_exceeded',
      },
      all,
    );
  }
  return azureGatewayError(
    429,
    '429',
    `Requests to the ChatCompletions_Create Operation under Azure OpenAI API version ${apiVersion} have exceeded ${limit === 'tokens' ? 'token' : 'call'} rate limit of your current OpenAI S0 pricing tier. Please retry after ${seconds} second${seconds === 1 ? '' : 's'}. Please go here: https://aka.ms/oai/quotaincrease if you would like to further increase the default rate limit.`,
    all,
  );
}
