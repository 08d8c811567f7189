/**
 * The one place the OpenTelemetry SDK is set up (the Functions entry and the dev host call it; shared code only uses
 * the API). In Azure: Azure Monitor, keyless (the Bicep sets APPLICATIONINSIGHTS_CONNECTION_STRING and an
 * authentication string asking for Entra ID, so local authentication can stay off on the resource). Locally: OTLP
 * over HTTP when OTEL_EXPORTER_OTLP_ENDPOINT is set, else nothing at all (no exporter, the API stays a no-op).
 */
import type { TokenCredential } from '@azure/identity';

import type { Env } from '../config';

export interface TelemetrySetup {
  kind: 'azure-monitor' | 'otlp' | 'off';
  /** Flushes and stops the exporters. */
  shutdown(): Promise<void>;
}

let active: Promise<TelemetrySetup> | undefined;

/** Idempotent per process: the second call returns the first setup. */
export function setupTelemetry(env: Env = process.env, credential?: () => TokenCredential): Promise<TelemetrySetup> {
  active ??= build(env, credential);
  return active;
}

async function build(env: Env, credential: (() => TokenCredential) | undefined): Promise<TelemetrySetup> {
  const connectionString = env['APPLICATIONINSIGHTS_CONNECTION_STRING']?.trim();
  if (connectionString !== undefined && connectionString !== '') {
    // Loaded only when used: the exporter and its instrumentations stay out of processes without telemetry.
    const { useAzureMonitor, shutdownAzureMonitor } = await import('@azure/monitor-opentelemetry');
    const keyless = /Authorization=AAD/i.test(env['APPLICATIONINSIGHTS_AUTHENTICATION_STRING'] ?? '');
    const cred = keyless ? (credential ?? (await import('../model/getCredential.js')).getCredential)() : undefined;
    useAzureMonitor({
      azureMonitorExporterOptions: { connectionString, ...(cred === undefined ? {} : { credential: cred }) },
      // Live Metrics would need its own token scope and a second pipeline; the portal's metrics come from the exporter.
      enableLiveMetrics: false,
    });
    return { kind: 'azure-monitor', shutdown: () => shutdownAzureMonitor() };
  }
  const otlp = env['OTEL_EXPORTER_OTLP_ENDPOINT']?.trim();
  if (otlp !== undefined && otlp !== '') return buildOtlp(env);
  return { kind: 'off', shutdown: () => Promise.resolve() };
}

/** The OTLP exporters read OTEL_EXPORTER_OTLP_ENDPOINT (and _HEADERS, _PROTOCOL...) themselves, as the spec says. */
async function buildOtlp(env: Env): Promise<TelemetrySetup> {
  const [{ NodeTracerProvider, BatchSpanProcessor }, { OTLPTraceExporter }, { MeterProvider, PeriodicExportingMetricReader }, { OTLPMetricExporter }, { resourceFromAttributes }, api] = await Promise.all([
    import('@opentelemetry/sdk-trace-node'),
    import('@opentelemetry/exporter-trace-otlp-http'),
    import('@opentelemetry/sdk-metrics'),
    import('@opentelemetry/exporter-metrics-otlp-http'),
    import('@opentelemetry/resources'),
    import('@opentelemetry/api'),
  ]);
  const resource = resourceFromAttributes({ 'service.name': env['OTEL_SERVICE_NAME']?.trim() || 'blobsight' });
  const tracerProvider = new NodeTracerProvider({ resource, spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter())] });
  // register(): the AsyncLocalStorage context manager (child spans across awaits) and the W3C trace-context propagator.
  tracerProvider.register();
  const meterProvider = new MeterProvider({ resource, readers: [new PeriodicExportingMetricReader({ exporter: new OTLPMetricExporter(), exportIntervalMillis: 15_000 })] });
  api.metrics.setGlobalMeterProvider(meterProvider);
  return {
    kind: 'otlp',
    shutdown: async () => {
      await Promise.allSettled([tracerProvider.shutdown(), meterProvider.shutdown()]);
    },
  };
}
