/**
 * `npm run bench`: speed figures as percentiles and ratios, printed and written to tests/output/bench.json.
 * Nothing here asserts a time: figures depend on the machine; the report is for people. Peak memory, cold start,
 * per-size overhead against the model's time and preprocessing against a bare sharp pass are in perf.bench.test.ts.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';

import { afterAll, describe, it } from 'vitest';

import { createLocalDetector } from '../../shared/model/localDetector';
import { preprocessImage } from '../../shared/preprocess';
import { loadProfiles } from '../../shared/profiles';
import { answerFromSchema, startFakeOpenAI } from '../support/fakeOpenAI';
import { jpeg } from '../support/imageFixtures';
import { startTestApp } from '../support/testApp';

const DATA = join(__dirname, '..', '..', '..', 'shared', 'data');
const OUT = join(__dirname, '..', 'output');
const report: Record<string, unknown> = { machine: { node: process.version, cpus: cpus().length } };

function pct(values: number[], p: number): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
}
function summary(ms: number[]): Record<string, number> {
  return { n: ms.length, p50: +pct(ms, 50).toFixed(1), p95: +pct(ms, 95).toFixed(1), p99: +pct(ms, 99).toFixed(1), max: +Math.max(...ms).toFixed(1) };
}

/** Real photos when ../shared/data is there, else generated 1280x720 frames. */
async function photos(n: number): Promise<Buffer[]> {
  const dir = join(DATA, 'bdd100k', 'images');
  if (existsSync(dir)) return readdirSync(dir).slice(0, n).map((f) => readFileSync(join(dir, f)));
  return Promise.all(Array.from({ length: n }, (_, i) => jpeg(1280, 720, { colour: `#${(i * 2654435761).toString(16).slice(-6).padStart(6, '0')}` })));
}

afterAll(() => {
  mkdirSync(OUT, { recursive: true });
  writeFileSync(join(OUT, 'bench.json'), JSON.stringify(report, null, 2));
  console.log(`\nbench report written to tests/output/bench.json\n${JSON.stringify(report, null, 2)}`);
});

describe('bench', () => {
  it('preprocessing: latency percentiles per detail, bytes and tokens sent relative to the original', async () => {
    const images = await photos(40);
    for (const detail of ['low', 'high', 'auto'] as const) {
      const ms: number[] = [];
      let inBytes = 0;
      let outBytes = 0;
      let tokens = 0;
      for (const img of images) {
        const t0 = performance.now();
        const p = await preprocessImage(img, { detail, maxBytes: 20 * 2 ** 20, maxPixels: 40_000_000 });
        ms.push(performance.now() - t0);
        inBytes += img.length;
        outBytes += p.jpeg.length;
        tokens += p.estimatedImageTokens;
      }
      report[`preprocess_${detail}`] = { ms: summary(ms), bytesSentOverOriginal: +(outBytes / inBytes).toFixed(3), imageTokensPerImage: +(tokens / images.length).toFixed(1) };
    }
  });

  it('local detector: latency percentiles (model load excluded)', async () => {
    const detector = createLocalDetector();
    const profile = loadProfiles().get('objects');
    if (profile === undefined) throw new Error('objects profile missing');
    const images = await photos(30);
    const prepared = await Promise.all(images.map((b) => preprocessImage(b, { detail: profile.detail, maxBytes: 20 * 2 ** 20, maxPixels: 40_000_000 })));
    const t0 = performance.now();
    await detector.classify({ image: prepared[0] as never, profile });
    const firstMs = performance.now() - t0;
    const ms: number[] = [];
    for (const image of prepared) {
      const t = performance.now();
      await detector.classify({ image, profile });
      ms.push(performance.now() - t);
    }
    report['local_detector'] = { firstCallIncludingLoadMs: +firstMs.toFixed(0), ms: summary(ms) };
  });

  it('pipeline on the emulators with the fake model: throughput at concurrency 1 vs 4, per-image percentiles', async () => {
    const fake = await startFakeOpenAI();
    fake.setAnswer(({ schema }) => ({ answer: answerFromSchema(schema, { label: 'cat' }) }));
    const app = await startTestApp(fake);
    try {
      const n = 40;
      const images = await Promise.all(Array.from({ length: n * 2 }, (_, i) => jpeg(640 + (i % 7), 480, { colour: `#${(i * 7919).toString(16).slice(-6).padStart(6, '0')}` })));
      const runs: Record<string, unknown> = {};
      for (const [label, concurrency, offset] of [
        ['c1', 1, 0],
        ['c4', 4, n],
      ] as const) {
        const ups = await Promise.all(images.slice(offset, offset + n).map((b, i) => app.upload(`pets/bench-${label}-${i}.jpg`, b)));
        const totals: number[] = [];
        let next = 0;
        const t0 = performance.now();
        await Promise.all(
          Array.from({ length: concurrency }, async () => {
            while (next < n) {
              const i = next++;
              const out = await app.deliver(`pets/bench-${label}-${i}.jpg`, ups[i] as { eTag: string; contentLength: number });
              if ('document' in out) totals.push(out.document.timings.totalMs);
            }
          }),
        );
        const wall = performance.now() - t0;
        runs[label] = { imagesPerSecond: +((n / wall) * 1000).toFixed(1), totalMs: summary(totals) };
      }
      const c1 = runs['c1'] as { imagesPerSecond: number };
      const c4 = runs['c4'] as { imagesPerSecond: number };
      const chat = fake.requests.filter((r) => r.path.endsWith('/chat/completions')).length;
      report['pipeline'] = { ...runs, speedupC4OverC1: +(c4.imagesPerSecond / c1.imagesPerSecond).toFixed(2), modelCallsPerImage: +(chat / (2 * n)).toFixed(2) };
    } finally {
      await app.cleanup();
      await fake.close();
    }
  });
});
