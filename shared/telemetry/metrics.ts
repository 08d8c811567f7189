/**
 * The service's metrics, by the names the alerts and the workbook query (infra/): keep them stable. Instruments come
 * from the global MeterProvider when used, not at import: a meter taken before the SDK registers stays a no-op.
 */
import type { Counter, Histogram, MeterProvider } from '@opentelemetry/api';
import { metrics } from '@opentelemetry/api';

import { INSTRUMENTATION_NAME } from './inSpan';

export const METRIC = {
  images: 'blobsight.images',
  tokens: 'blobsight.tokens',
  costUsd: 'blobsight.cost_usd',
  modelLatencyMs: 'blobsight.model.latency_ms',
  modelThrottled: 'blobsight.model.throttled',
  redeliveries: 'blobsight.redeliveries',
  deadletters: 'blobsight.deadletters',
  reconcileFound: 'blobsight.reconcile.found',
  reviews: 'blobsight.reviews',
} as const;

interface Instruments {
  images: Counter;
  tokens: Counter;
  costUsd: Counter;
  modelLatencyMs: Histogram;
  modelThrottled: Counter;
  redeliveries: Counter;
  deadletters: Counter;
  reconcileFound: Counter;
  reviews: Counter;
}

let cached: { provider: MeterProvider; instruments: Instruments } | undefined;

export function instruments(): Instruments {
  const provider = metrics.getMeterProvider();
  if (cached?.provider === provider) return cached.instruments;
  const m = provider.getMeter(INSTRUMENTATION_NAME);
  const instruments: Instruments = {
    images: m.createCounter(METRIC.images, { description: 'Image versions that reached a final state, by outcome and profile' }),
    tokens: m.createCounter(METRIC.tokens, { description: 'Model tokens billed, by kind (prompt, completion) and profile' }),
    costUsd: m.createCounter(METRIC.costUsd, { description: 'Model cost in US dollars, by profile', unit: 'USD' }),
    modelLatencyMs: m.createHistogram(METRIC.modelLatencyMs, { description: 'Time of the model call for one image', unit: 'ms' }),
    modelThrottled: m.createCounter(METRIC.modelThrottled, { description: 'Deliveries handed back because the model answered 429' }),
    redeliveries: m.createCounter(METRIC.redeliveries, { description: 'Deliveries of a version already seen (duplicate or take-over)' }),
    deadletters: m.createCounter(METRIC.deadletters, { description: 'Dead-lettered events the reconcile timer found' }),
    reconcileFound: m.createCounter(METRIC.reconcileFound, { description: 'Images the reconcile timer found and redid, by kind' }),
    reviews: m.createCounter(METRIC.reviews, { description: 'Reviews stored, by whether the person kept exactly the model\'s labels (agreed) and profile' }),
  };
  cached = { provider, instruments };
  return instruments;
}
