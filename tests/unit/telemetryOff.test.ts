/** Without an exporter configured, telemetry is off: no SDK, the API's no-op spans, nothing recorded. */
import { trace } from '@opentelemetry/api';
import { describe, expect, it } from 'vitest';

import { inSpan, setupTelemetry } from '../../shared/telemetry';

describe('telemetry off', () => {
  it('sets nothing up when neither Application Insights nor OTLP is configured', async () => {
    const setup = await setupTelemetry({ OTEL_EXPORTER_OTLP_ENDPOINT: ' ' });
    expect(setup.kind).toBe('off');
    const recording = await inSpan('x', {}, (span) => Promise.resolve(span.isRecording()));
    expect(recording).toBe(false);
    expect(trace.getActiveSpan()).toBeUndefined();
  });
});
