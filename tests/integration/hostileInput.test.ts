/**
 * Every hostile or odd input, generated (nothing opaque committed), through the whole pipeline: each ends with the
 * outcome the README lists, none crashes the worker, and memory stays bounded on the decompression bombs.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { FakeOpenAI, ImageInfo } from '../support/fakeOpenAI';
import { answerFromSchema, startFakeOpenAI } from '../support/fakeOpenAI';
import type { FixtureName } from '../support/imageFixtures';
import { EXIF_UPRIGHT, FIXTURE_LIMITS, FIXTURE_OUTCOMES, FIXTURES, jpeg } from '../support/imageFixtures';
import type { TestApp } from '../support/testApp';
import { startTestApp } from '../support/testApp';

let fake: FakeOpenAI;
let app: TestApp;
let seen: ImageInfo[] = [];

beforeAll(async () => {
  fake = await startFakeOpenAI();
  fake.setAnswer(({ schema, images }) => {
    seen = images;
    return { answer: answerFromSchema(schema, { label: 'cat' }) };
  });
  app = await startTestApp(fake, { MAX_IMAGE_BYTES: String(FIXTURE_LIMITS.maxBytes), MAX_IMAGE_PIXELS: String(FIXTURE_LIMITS.maxPixels) });
});
afterAll(async () => {
  await app.cleanup();
  await fake.close();
});

/** Peak resident memory above the starting point while `fn` runs, sampled every few ms. */
async function peakRssGrowth<T>(fn: () => Promise<T>): Promise<{ result: T; growthMb: number }> {
  const start = process.memoryUsage().rss;
  let peak = start;
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 2);
  try {
    const result = await fn();
    peak = Math.max(peak, process.memoryUsage().rss);
    return { result, growthMb: (peak - start) / 2 ** 20 };
  } finally {
    clearInterval(timer);
  }
}

describe('hostile and odd input through the pipeline', () => {
  const names = Object.keys(FIXTURES) as FixtureName[];

  it.each(names)('%s ends with its listed outcome', async (name) => {
    const bytes = await FIXTURES[name]();
    const calls = fake.requests.length;
    const { result: out, growthMb } = await peakRssGrowth(() => app.put(`pets/hostile/${name}.jpg`, bytes, { contentType: 'image/jpeg' }));
    if (!('document' in out)) throw new Error(`${name}: ${out.outcome}`);
    const expected = FIXTURE_OUTCOMES[name];
    if (expected === 'accepted') {
      expect(out.document.status).toBe('classified');
      expect(fake.requests.length).toBe(calls + 1);
    } else {
      expect(out.document).toMatchObject({ status: 'rejected', error: { code: expected } });
      expect(out.document.error?.message.length).toBeGreaterThan(15);
      // Bad input never reaches the model.
      expect(fake.requests.length).toBe(calls);
    }
    if (name === 'pngBomb' || name === 'jpegBomb') {
      console.log(`[measure] ${name}: peak RSS growth ${growthMb.toFixed(1)} MB while refusing a ${name === 'pngBomb' ? '100000x100000' : '65000x65000'} image`);
      // Decoding either bomb would need gigabytes; refusing from the header needs almost nothing.
      expect(growthMb).toBeLessThan(300);
    }
  });

  it('shows the model an EXIF-rotated photo upright', async () => {
    // Another profile, so the content cache (same bytes as the table case) does not answer instead of the model.
    seen = [];
    fake.setAnswer(({ schema, images }) => {
      seen = images;
      return { answer: answerFromSchema(schema) };
    });
    const out = await app.put('flowers/hostile/rotated.jpg', await FIXTURES.exifRotatedJpeg());
    expect(out.outcome).toBe('classified');
    expect(seen).toHaveLength(1);
    const [img] = seen;
    // Stored sideways with Orientation 6: upright it is taller than wide.
    expect(img?.height).toBeGreaterThan(img?.width ?? Infinity);
    expect((img?.height ?? 0) / (img?.width ?? 1)).toBeCloseTo(EXIF_UPRIGHT.height / EXIF_UPRIGHT.width, 1);
  });

  it.each([
    ['unicode', 'pets/ünïcødé 猫 🐈.jpg'],
    ['spaces', 'pets/a name with   spaces .jpg'],
    ['dot segments', 'pets/a..b/..x/c.jpg'],
    ['percent and hash', 'pets/100% #1?.jpg'],
  ])('a blob named with %s gets its own document keyed by its real name', async (_k, name) => {
    const out = await app.put(name, await jpeg(64, 64));
    if (!('document' in out)) throw new Error(out.outcome);
    expect(out.document.blob.name).toBe(name);
    expect(out.document.id).toMatch(/^[0-9a-f]{32}$/);
    expect(out.document.status).toBe('classified');
  });
});
