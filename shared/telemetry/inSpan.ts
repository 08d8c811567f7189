/**
 * Spans through the global OpenTelemetry API only: with no SDK registered (the default locally) every call is a
 * no-op, so instrumented code costs next to nothing; the SDK is set up in one place (setupTelemetry).
 */
import type { Attributes, Span } from '@opentelemetry/api';
import { SpanStatusCode, trace } from '@opentelemetry/api';

export const INSTRUMENTATION_NAME = 'blobsight';

/** Runs `fn` in a child span of the active one; a throw is recorded on the span and rethrown. */
export async function inSpan<T>(name: string, attributes: Attributes, fn: (span: Span) => Promise<T>): Promise<T> {
  return trace.getTracer(INSTRUMENTATION_NAME).startActiveSpan(name, { attributes }, async (span) => {
    try {
      return await fn(span);
    } catch (e) {
      span.recordException(e instanceof Error ? e : String(e));
      span.setStatus({ code: SpanStatusCode.ERROR, message: e instanceof Error ? e.message : String(e) });
      throw e;
    } finally {
      span.end();
    }
  });
}
