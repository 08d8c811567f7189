/**
 * Gates and counts every model request, the openai SDK's own retries included. The SDK retries inside one
 * `create()` call (timeouts, 429, 5xx), so counting calls to `create()` undercounts what is billed: Azure bills a
 * request it received even when the client stopped waiting. The fetch wrapper below sees each attempt: it refuses
 * one that could not finish inside the caller's deadline, and reports each one sent before it is sent.
 */
import { AsyncLocalStorage } from 'node:async_hooks';

import type { BlobsightError } from '../errors';
import { isPermanentError, isTransientError, TransientError } from '../errors';

export interface ModelAttemptHooks {
  /** Epoch ms by which every attempt must have finished; one that could not (per its timeout) is not started. */
  deadlineAt: number;
  /** Runs before each request is sent; persist the count here. Throwing stops the call (no request is sent). */
  beforeAttempt(): Promise<void>;
  /** The service answered without running the model (429, 401, 403, 404): nothing was billed for that request. */
  notBilled(): void;
}

interface GateState {
  hooks: ModelAttemptHooks;
  timeoutMs: number;
  gate: AbortController;
  refused?: BlobsightError;
  lastFailure?: string;
}

/** Statuses at which Azure OpenAI answered before any model ran, so the request is not billed. */
const NOT_BILLED = new Set([401, 403, 404, 429]);

const current = new AsyncLocalStorage<GateState>();

/** Wraps the fetch the SDK uses. Outside runGated (e.g. on-demand HTTP classify) it passes requests straight on. */
export function gatedFetch(inner: typeof fetch): typeof fetch {
  return async (input, init) => {
    const s = current.getStore();
    if (s === undefined) return inner(input, init);
    const remaining = s.hooks.deadlineAt - Date.now();
    if (remaining < s.timeoutMs) {
      refuse(s, new TransientError(s.lastFailure === 'model_throttled' ? 'model_throttled' : 'model_timeout', `No time left for another model attempt: ${Math.max(0, remaining)} ms remain of the event budget and one attempt may take ${s.timeoutMs} ms (MODEL_TIMEOUT_MS).`, { details: { remainingMs: Math.max(0, remaining) } }));
    }
    try {
      await s.hooks.beforeAttempt();
    } catch (e) {
      refuse(s, isTransientError(e) || isPermanentError(e) ? e : new TransientError('model_unavailable', `Could not record the model attempt: ${e instanceof Error ? e.message : String(e)}`, { cause: e }));
    }
    let response: Response;
    try {
      response = await inner(input, init);
    } catch (e) {
      s.lastFailure = e instanceof Error && (e.name === 'AbortError' || e.name === 'TimeoutError') ? 'model_timeout' : 'model_unavailable';
      throw e;
    }
    if (NOT_BILLED.has(response.status)) s.hooks.notBilled();
    if (response.status === 429) s.lastFailure = 'model_throttled';
    else if (response.status >= 500) s.lastFailure = 'model_unavailable';
    else delete s.lastFailure;
    return response;
  };
}

function refuse(s: GateState, e: BlobsightError): never {
  s.refused = e;
  // Aborting the caller-side signal makes the SDK stop at once instead of retrying the refused attempt.
  s.gate.abort(e);
  throw e;
}

/**
 * Runs `call` (one SDK `create()`, retries included) with every attempt gated by `hooks`. `timeoutMs` is the SDK's
 * per-attempt timeout. A refused attempt surfaces as the refusal's error, not as the SDK's abort.
 */
export async function runGated<T>(hooks: ModelAttemptHooks | undefined, timeoutMs: number, signal: AbortSignal | undefined, call: (signal: AbortSignal | undefined) => Promise<T>): Promise<T> {
  if (hooks === undefined) return call(signal);
  const state: GateState = { hooks, timeoutMs, gate: new AbortController() };
  const combined = signal === undefined ? state.gate.signal : AbortSignal.any([signal, state.gate.signal]);
  try {
    return await current.run(state, () => call(combined));
  } catch (e) {
    if (state.refused !== undefined) throw state.refused;
    throw e;
  }
}
