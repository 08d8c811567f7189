/** The OpenTelemetry SDK with in-memory exporters, registered globally for one test file (the app uses the global API). */
import { metrics } from '@opentelemetry/api';
import type { DataPoint, Histogram } from '@opentelemetry/sdk-metrics';
import { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';

class CollectingReader extends MetricReader {
  protected onForceFlush(): Promise<void> {
    return Promise.resolve();
  }
  protected onShutdown(): Promise<void> {
    return Promise.resolve();
  }
}

export interface InMemoryTelemetry {
  spans(): ReadableSpan[];
  /** Sum of a counter's points (or count of a histogram's records) whose attributes include `where`. */
  metric(name: string, where?: Record<string, string>): Promise<number>;
  reset(): void;
  shutdown(): Promise<void>;
}

export function startInMemoryTelemetry(): InMemoryTelemetry {
  const exporter = new InMemorySpanExporter();
  const tracerProvider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  tracerProvider.register();
  const reader = new CollectingReader();
  const meterProvider = new MeterProvider({ readers: [reader] });
  metrics.setGlobalMeterProvider(meterProvider);
  return {
    spans: () => exporter.getFinishedSpans(),
    metric: async (name, where = {}) => {
      const { resourceMetrics } = await reader.collect();
      let total = 0;
      for (const sm of resourceMetrics.scopeMetrics) {
        for (const m of sm.metrics) {
          if (m.descriptor.name !== name) continue;
          for (const p of m.dataPoints as DataPoint<number | Histogram>[]) {
            if (!Object.entries(where).every(([k, v]) => p.attributes[k] === v)) continue;
            total += typeof p.value === 'number' ? p.value : p.value.count;
          }
        }
      }
      return total;
    },
    reset: () => exporter.reset(),
    shutdown: async () => {
      await tracerProvider.shutdown();
      await meterProvider.shutdown();
      metrics.disable();
    },
  };
}
