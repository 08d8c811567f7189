/** Preprocessing started ahead (while the content cache is asked): the same work is handed out, failures wait to be asked for. */
import { describe, expect, it } from 'vitest';

import { preprocessAhead } from '../../shared/pipeline/preprocessAhead';
import { jpeg } from '../support/imageFixtures';

const OPTIONS = { detail: 'low' as const, maxBytes: 2 ** 20, maxPixels: 1_000_000 };

describe('preprocessAhead', () => {
  it('hands out the preprocessing already under way for the same bytes and options, and starts afresh for others', async () => {
    const bytes = await jpeg(800, 600);
    const ahead = preprocessAhead(bytes, OPTIONS);
    const first = ahead(bytes, OPTIONS);
    expect(ahead(bytes, { ...OPTIONS })).toBe(first);
    expect((await first).width).toBe(512);
    const high = await ahead(bytes, { ...OPTIONS, detail: 'high' });
    expect(high.width).toBe(800);
    const other = await jpeg(100, 80);
    expect((await ahead(other, OPTIONS)).width).toBe(100);
  });

  it('a damaged image is refused where the result is asked for, and is no unhandled rejection when it never is', async () => {
    const broken = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 16, 1, 2, 3]);
    preprocessAhead(broken, OPTIONS);
    const ahead = preprocessAhead(broken, OPTIONS);
    await new Promise((resolve) => setTimeout(resolve, 50));
    await expect(ahead(broken, OPTIONS)).rejects.toMatchObject({ code: 'corrupt_image' });
  });
});
