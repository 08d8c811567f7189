/** With OTEL_EXPORTER_OTLP_ENDPOINT set, spans and metrics go there over OTLP/HTTP. */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { inSpan, instruments, METRIC, setupTelemetry } from '../../shared/telemetry';

const received: { path: string; body: string }[] = [];
const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    received.push({ path: req.url ?? '', body: Buffer.concat(chunks).toString('latin1') });
    res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
  });
});

beforeAll(async () => {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
});
afterAll(async () => {
  await new Promise((r) => server.close(r));
});

describe('telemetry over OTLP', () => {
  it('exports the spans and metrics of the process to the configured endpoint', async () => {
    const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    // The exporters read the standard variables themselves.
    process.env['OTEL_EXPORTER_OTLP_ENDPOINT'] = endpoint;
    const setup = await setupTelemetry({ OTEL_EXPORTER_OTLP_ENDPOINT: endpoint });
    expect(setup.kind).toBe('otlp');
    await inSpan('blobsight.test-span', { 'blobsight.image.id': 'abc' }, () => Promise.resolve());
    instruments().images.add(1, { outcome: 'classified', profile: 'pets' });
    await setup.shutdown();
    delete process.env['OTEL_EXPORTER_OTLP_ENDPOINT'];
    const traces = received.filter((r) => r.path === '/v1/traces');
    const metrics = received.filter((r) => r.path === '/v1/metrics');
    expect(traces.map((t) => t.body).join('')).toContain('blobsight.test-span');
    expect(metrics.map((m) => m.body).join('')).toContain(METRIC.images);
  });
});
