/**
 * GET /api/health: can the app reach its storage and Cosmos DB, and which model is configured. Spends no tokens.
 * Anyone may ask whether the service is up; what it runs on (endpoint, deployment, check details and their errors)
 * is only for a function-key holder or a signed-in reader.
 */
import type { ModelInfo } from '../model/classification';
import type { HttpContext } from './HttpContext';
import { json } from './HttpContext';

export interface HealthCheck {
  name: string;
  /** Resolves when healthy; rejects with the reason otherwise. */
  run(): Promise<Record<string, unknown> | void>;
}

export interface HealthDeps {
  checks: readonly HealthCheck[];
  model: ModelInfo & { endpoint: string | null };
  timeoutMs?: number;
}

/** `status`: only `{ status }`, for anonymous callers; `details`: the checks and the model too. */
export type HealthView = 'status' | 'details';

export async function healthHttp(_req: Request, ctx: HttpContext, deps: HealthDeps, view: HealthView = 'status'): Promise<Response> {
  const timeoutMs = deps.timeoutMs ?? 5000;
  const results = await Promise.all(
    deps.checks.map(async (c) => {
      const t0 = performance.now();
      try {
        const info = await withTimeout(c.run(), timeoutMs, c.name);
        return { name: c.name, ok: true, ms: Math.round(performance.now() - t0), ...(info ?? {}) };
      } catch (e) {
        // Only the message: error objects from SDKs can carry request headers.
        const message = e instanceof Error ? e.message.split('\n')[0] : String(e);
        ctx.log.warn('health check failed', { check: c.name, message });
        return { name: c.name, ok: false, ms: Math.round(performance.now() - t0), error: message };
      }
    }),
  );
  const ok = results.every((r) => r.ok);
  if (view === 'status') return json({ status: ok ? 'ok' : 'degraded' }, ok ? 200 : 503);
  // The model is reported from configuration only: calling it would spend tokens.
  return json({ status: ok ? 'ok' : 'degraded', checks: results, model: { ...deps.model, checked: 'configuration only' } }, ok ? 200 : 503);
}

async function withTimeout<T>(p: Promise<T>, ms: number, name: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${name} did not answer within ${ms} ms`)), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}
