/** The span and metrics of one image: one trace per delivered event, from the delivery to the final write. */
import type { Span } from '@opentelemetry/api';
import { SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';

import type { BlobOutcome } from '../pipeline/processBlobCreated';
import type { ReconcileReport } from '../pipeline/reconcile';
import type { ImageDocument } from '../store/imageDocument';
import { INSTRUMENTATION_NAME } from './inSpan';
import { instruments } from './metrics';

export const IMAGE_SPAN = 'blobsight.image';

/**
 * Runs one delivery in its root span (kind consumer), a child of the active context: in Azure that is the trigger's
 * trace context (functions/lib/register.ts), so the span sits under the Functions invocation.
 */
export function traceBlobEvent(input: unknown, run: () => Promise<BlobOutcome>): Promise<BlobOutcome> {
  const e = (typeof input === 'object' && input !== null ? input : {}) as { id?: unknown; subject?: unknown; eventType?: unknown; type?: unknown };
  const attributes = {
    'messaging.system': 'eventgrid',
    ...(typeof e.id === 'string' ? { 'messaging.message.id': e.id } : {}),
    ...(typeof e.subject === 'string' ? { 'blobsight.event.subject': e.subject } : {}),
    ...(typeof (e.eventType ?? e.type) === 'string' ? { 'blobsight.event.type': (e.eventType ?? e.type) as string } : {}),
  };
  return trace.getTracer(INSTRUMENTATION_NAME).startActiveSpan(IMAGE_SPAN, { kind: SpanKind.CONSUMER, attributes }, async (span) => {
    try {
      const out = await run();
      span.setAttribute('blobsight.outcome', out.outcome);
      if ('document' in out) describeDocument(span, out.document);
      return out;
    } catch (err) {
      span.setAttribute('blobsight.outcome', 'redeliver');
      const code = (err as { code?: unknown }).code;
      if (typeof code === 'string') span.setAttribute('blobsight.error.code', code);
      if (code === 'model_throttled') instruments().modelThrottled.add(1);
      span.recordException(err instanceof Error ? err : String(err));
      span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.message : String(err) });
      throw err;
    } finally {
      span.end();
    }
  });
}

function describeDocument(span: Span, d: ImageDocument): void {
  span.setAttributes({
    'blobsight.image.id': d.id,
    'blobsight.status': d.status,
    'blobsight.tokens.prompt': d.usage.promptTokens,
    'blobsight.tokens.completion': d.usage.completionTokens,
    'blobsight.cost_usd': d.usage.costUsd ?? 0,
    'blobsight.cached': d.cached !== null && d.cached !== undefined,
    ...(d.profile === null ? {} : { 'blobsight.profile': d.profile.name, 'blobsight.profile.version': d.profile.version }),
    ...(d.error === null ? {} : { 'blobsight.error.code': d.error.code }),
  });
}

/** The metrics of a final write that succeeded (once per image version: a duplicate delivery never gets here). */
export function recordImageOutcome(d: ImageDocument): void {
  const i = instruments();
  const profile = d.profile?.name ?? 'none';
  i.images.add(1, { outcome: d.status, profile });
  if (d.usage.promptTokens > 0) i.tokens.add(d.usage.promptTokens, { kind: 'prompt', profile });
  if (d.usage.completionTokens > 0) i.tokens.add(d.usage.completionTokens, { kind: 'completion', profile });
  if ((d.usage.costUsd ?? 0) > 0) i.costUsd.add(d.usage.costUsd ?? 0, { profile });
  if (d.timings.modelMs !== null && d.usage.modelCalls > 0) i.modelLatencyMs.record(d.timings.modelMs, { profile });
}

/** A delivery of a version already seen: `duplicate` (already final) or `take-over` (an earlier claim expired). */
export function recordRedelivery(kind: 'duplicate' | 'take-over'): void {
  instruments().redeliveries.add(1, { kind });
}

export function recordReconcile(r: ReconcileReport): void {
  const i = instruments();
  if (r.deadLettered + r.movedAside > 0) i.deadletters.add(r.deadLettered + r.movedAside);
  for (const kind of ['orphans', 'outdated', 'stale', 'deadLettered'] as const) if (r[kind] > 0) i.reconcileFound.add(r[kind], { kind });
}
