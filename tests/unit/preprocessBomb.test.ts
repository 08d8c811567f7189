// Decompression bombs are refused from the header: quickly, and without the process growing as if it decoded them.

import { describe, expect, it } from 'vitest';

import { isPermanentError } from '../../shared/errors';
import { preprocessImage } from '../../shared/preprocess';
import { jpegBomb, pngBomb } from '../support/imageFixtures';

// Generous: a decoded 100000x100000 RGB image is 30 GB, and even a streaming attempt at it makes libvips allocate
// around 100 MB of row buffers; refusing from the header allocates next to nothing.
const MAX_RSS_GROWTH = 200 * 1024 * 1024;

/** Runs `work` and returns its outcome with the largest RSS growth seen while it ran (sampled every 2 ms). */
async function withPeakRss<T>(work: () => Promise<T>): Promise<{ outcome: unknown; growth: number }> {
  const before = process.memoryUsage().rss;
  let peak = before;
  // The decoder works on libuv's thread pool, so this main-thread timer keeps sampling meanwhile.
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 2);
  let outcome: unknown;
  try {
    outcome = await work();
  } catch (e) {
    outcome = e;
  } finally {
    clearInterval(sampler);
  }
  peak = Math.max(peak, process.memoryUsage().rss);
  return { outcome, growth: peak - before };
}

describe('pixel bombs', () => {
  it.each([
    ['PNG', () => pngBomb(100_000, 100_000), 100_000, 100_000],
    ['JPEG', () => jpegBomb(65_000, 65_000), 65_000, 65_000],
  ] as const)('a %s declaring %i x %i pixels is refused from its header', async (_name, make, width, height) => {
    const bytes = await make();
    expect(bytes.length).toBeLessThan(4096);
    const { outcome, growth } = await withPeakRss(() =>
      preprocessImage(bytes, { detail: 'high', maxBytes: 20 * 1024 * 1024, maxPixels: 40_000_000 }),
    );
    if (!isPermanentError(outcome)) {
      return expect.fail(`expected a PermanentError, got ${String(outcome)}`);
    }
    expect(outcome.code).toBe('too_many_pixels');
    expect(outcome.details).toMatchObject({ width, height, maxPixels: 40_000_000 });
    // Refused by our header check, not by the decoder's own limit (which would add the decoder's `reason`).
    expect(outcome.details).not.toHaveProperty('reason');
    expect(outcome.message).toContain(`${width}x${height}`);
    expect(growth).toBeLessThan(MAX_RSS_GROWTH);
  });
});
