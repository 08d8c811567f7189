/**
 * Real photos from ../shared/data (flowers, pets, BDD100K dash-cam frames) through the whole pipeline. The fake model
 * answers the ground truth, so this proves the real files flow through download, preprocessing (sizes, orientation,
 * token estimates), the strict request checks and storage — not the model's accuracy, which needs GPT-4o itself.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';

import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { FakeOpenAI, ImageInfo } from '../support/fakeOpenAI';
import { answerFromSchema, imageTokens, startFakeOpenAI } from '../support/fakeOpenAI';
import type { TestApp } from '../support/testApp';
import { startTestApp } from '../support/testApp';

const DATA = join(__dirname, '..', '..', '..', 'shared', 'data');
const haveData = existsSync(join(DATA, 'flowers'));
if (!haveData) console.warn(`[skip] real-image tests: ${DATA} not found (it sits beside the repository in the project workspace only)`);

interface Case {
  file: string;
  blobName: string;
  picks: Record<string, string>;
}

function cases(): Case[] {
  if (!haveData) return [];
  const out: Case[] = [];
  for (const [profile, folder] of [
    ['flowers', 'flowers'],
    ['pets', 'pets'],
  ] as const) {
    for (const label of readdirSync(join(DATA, folder))) {
      for (const f of readdirSync(join(DATA, folder, label)).filter((n) => /\.jpe?g$/i.test(n))) {
        out.push({ file: join(DATA, folder, label, f), blobName: `${profile}/${label}/${f}`, picks: { label } });
      }
    }
  }
  const bdd = join(DATA, 'bdd100k');
  for (const f of readdirSync(join(bdd, 'images'))) {
    const truth = JSON.parse(readFileSync(join(bdd, 'labels', `${basename(f, '.jpg')}_label.json`), 'utf8')) as { metadata: Record<string, string> };
    const { weather = '', timeofday = '', scene = '' } = truth.metadata;
    out.push({ file: join(bdd, 'images', f), blobName: `driving-scene/${f}`, picks: { weather, timeofday, scene } });
  }
  return out;
}

describe.skipIf(!haveData)('real images from ../shared/data', () => {
  let fake: FakeOpenAI;
  let app: TestApp;
  beforeAll(async () => {
    fake = await startFakeOpenAI();
    app = await startTestApp(fake);
  });
  afterAll(async () => {
    await app.cleanup();
    await fake.close();
  });

  it('every photo ends classified with the ground-truth labels, sent at the size and cost its detail implies', async () => {
    const all = cases();
    expect(all.length).toBeGreaterThanOrEqual(100);
    const sent: ImageInfo[] = [];
    for (const c of all) {
      fake.setAnswer(({ schema, images }) => {
        sent.push(...images);
        return { answer: answerFromSchema(schema, c.picks) };
      });
      const bytes = readFileSync(c.file);
      const out = await app.put(c.blobName, bytes);
      expect(out.outcome, `${c.blobName}: ${'reason' in out ? out.reason : ''}`).toBe('classified');
      if (!('document' in out)) continue;
      const meta = await sharp(bytes).metadata();
      expect(out.document.labels.sort()).toEqual(Object.values(c.picks).sort());
      expect(out.document.image).toMatchObject({ format: 'jpeg', width: meta.autoOrient.width, height: meta.autoOrient.height });
    }
    expect(sent).toHaveLength(all.length);
    // Every built-in profile here uses low detail: one view of at most 512 px, 85 tokens each.
    for (const img of sent) {
      expect(img.detail).toBe('low');
      expect(Math.max(img.width, img.height)).toBeLessThanOrEqual(512);
      expect(imageTokens(img.width, img.height, img.detail)).toBe(85);
    }
  });
});
