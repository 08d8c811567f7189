/**
 * Runs `fn` under the trigger's W3C trace context (the Functions host passes `traceparent` to each invocation), so
 * the image span is a child of the host's invocation and Application Insights shows them as one operation.
 */
import { context, propagation, ROOT_CONTEXT } from '@opentelemetry/api';

export function withTraceParent<T>(traceParent: string | null | undefined, traceState: string | null | undefined, fn: () => T): T {
  if (traceParent === undefined || traceParent === null || traceParent === '') return fn();
  const carrier: Record<string, string> = { traceparent: traceParent, ...(traceState === undefined || traceState === null || traceState === '' ? {} : { tracestate: traceState }) };
  return context.with(propagation.extract(ROOT_CONTEXT, carrier), fn);
}
