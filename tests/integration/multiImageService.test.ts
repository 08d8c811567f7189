/** The service's multi-image coalescer (MULTI_IMAGE_WINDOW_MS): concurrent events of an imagesPerRequest > 1 profile share one request. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import { loadProfiles } from '../../shared/profiles';
import type { FakeOpenAI } from '../support/fakeOpenAI';
import { answerFromSchema, startFakeOpenAI } from '../support/fakeOpenAI';
import { jpeg } from '../support/imageFixtures';
import type { TestApp } from '../support/testApp';
import { startTestApp } from '../support/testApp';

let fake: FakeOpenAI;
let app: TestApp | undefined;
const profilesDir = mkdtempSync(path.join(tmpdir(), 'blobsight-profiles-'));

beforeAll(async () => {
  fake = await startFakeOpenAI();
  const pets = loadProfiles(undefined).get('pets');
  writeFileSync(path.join(profilesDir, 'pets4.json'), JSON.stringify({ ...pets, name: 'pets4', imagesPerRequest: 4 }));
});
afterAll(async () => fake.close());
afterEach(async () => app?.cleanup());

const chat = (): { images: number }[] => fake.requests.filter((r) => r.path.endsWith('/chat/completions')).map((r) => ({ images: JSON.stringify(r.body).split('"type":"image_url"').length - 1 }));

describe('multi-image in the service', () => {
  it('four concurrent events of an imagesPerRequest 4 profile make one model call and four final documents; an unsure one is asked alone', async () => {
    fake.reset();
    // Grouped answers: image 4 unsure; asked alone, every image is sure.
    fake.setAnswer(({ schema, images }) => {
      if (images.length === 1) return { answer: answerFromSchema(schema, { label: 'dog' }) };
      const picks: Record<string, unknown> = {};
      for (let i = 1; i <= images.length; i++) Object.assign(picks, { [`${i}.label`]: 'cat', [`${i}.confidence`]: i === 4 ? 0.1 : 0.95 });
      return { answer: answerFromSchema(schema, picks) };
    });
    app = await startTestApp(fake, { PROFILES_DIR: profilesDir, MULTI_IMAGE_WINDOW_MS: '1000' });
    const a = app;
    const uploads = await Promise.all([0, 1, 2, 3].map(async (i) => ({ name: `pets4/p-${i}.jpg`, u: await a.upload(`pets4/p-${i}.jpg`, await jpeg(60 + i, 40)) })));
    const outs = await Promise.all(uploads.map(({ name, u }) => a.deliver(name, u)));
    expect(chat()).toEqual([{ images: 4 }, { images: 1 }]);
    expect(outs.map((o) => o.outcome)).toEqual(['classified', 'classified', 'classified', 'classified']);
    const docs = outs.map((o) => ('document' in o ? o.document : undefined));
    expect(docs.map((d) => (d?.result as { label?: string } | undefined)?.label).sort()).toEqual(['cat', 'cat', 'cat', 'dog']);
    // Each document counts the shared request as its attempt and carries its share of the bill.
    expect(docs.every((d) => d?.modelAttempts !== undefined && d.modelAttempts >= 1 && (d.usage?.costUsd ?? 0) > 0)).toBe(true);
    expect(docs.map((d) => d?.modelAttempts).sort()).toEqual([1, 1, 1, 2]);

    // A profile with imagesPerRequest 1 is never grouped.
    const single = await a.put('pets/one.jpg', await jpeg(70, 40));
    expect(single.outcome).toBe('classified');
    expect(chat().at(-1)).toEqual({ images: 1 });
  });
});
