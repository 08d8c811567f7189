/**
 * The confidence code on GPT-4o's real token boundaries: the fake answers in o200k_base tokens, which split
 * labels mid-word, merge punctuation and cut multi-byte characters, and the classifier must still read the
 * probability of each decision exactly.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { DEFAULT_PRICES } from '../../shared/config';
import type { ModelInfo } from '../../shared/model';
import { createOpenAIClient, OpenAIClassifier } from '../../shared/model';
import { preprocessImage } from '../../shared/preprocess';
import type { PreprocessedImage } from '../../shared/preprocess/preprocessedImage';
import type { LabelProfile } from '../../shared/profiles/profileSchema';
import type { FakeOpenAI } from '../support/fakeOpenAI';
import { startFakeOpenAI } from '../support/fakeOpenAI';
import { o200kTokens } from '../support/fakeOpenAI/o200k';
import { jpeg } from '../support/imageFixtures';

let fake: FakeOpenAI;
let image: PreprocessedImage;

beforeAll(async () => {
  fake = await startFakeOpenAI();
  image = await preprocessImage(await jpeg(), { detail: 'low', maxBytes: 1_000_000, maxPixels: 1_000_000 });
});
afterAll(async () => {
  await fake.close();
});

function classifier(): OpenAIClassifier {
  const info: ModelInfo = { provider: 'azure-openai', deployment: fake.deployment, apiVersion: fake.apiVersion };
  const client = createOpenAIClient(
    { provider: 'azure-openai', endpoint: fake.url, deployment: fake.deployment, apiVersion: fake.apiVersion, apiKey: fake.apiKey },
    { timeoutMs: 5000, maxRetries: 0, logprobs: true },
  );
  return new OpenAIClassifier({ client, info, model: fake.deployment, prices: DEFAULT_PRICES, logprobs: true });
}

const texts = (s: string): string[] => o200kTokens(s).map((t) => t.bytes.toString('latin1'));

describe('confidence from logprobs on o200k_base tokens', () => {
  it('the fake answers in real GPT-4o tokens: labels split mid-word, quotes merged with colons, characters cut in two', () => {
    expect(texts('{"label":"golden_retriever"}').map((t) => Buffer.from(t, 'latin1').toString('utf8'))).toEqual(['{"', 'label', '":"', 'gold', 'en', '_re', 'tr', 'iever', '"}']);
    // '犬' is three UTF-8 bytes spread over two tokens: neither token is valid UTF-8 alone.
    const dog = o200kTokens('{"label":"Schäferhund 犬"}');
    const cut = dog.filter((t) => t.bytes.toString('utf8').includes('\uFFFD'));
    expect(cut).toHaveLength(2);
    expect(Buffer.concat(cut.map((t) => t.bytes)).toString('utf8')).toBe(' 犬');
  });

  it.each<[string, LabelProfile, Record<string, unknown>, Record<string, number>, unknown, number]>([
    [
      'single-label, a label of five tokens',
      { name: 'dogs', version: '1', kind: 'single-label', prompt: 'Which dog?', detail: 'low', confidenceThreshold: 0.5, labels: [{ name: 'golden_retriever' }, { name: 'german_shepherd' }] },
      { label: 'golden_retriever' },
      { label: 0.62 },
      { kind: 'single-label', label: 'golden_retriever' },
      0.62,
    ],
    [
      'single-label, a label whose last character is split across two tokens',
      { name: 'hunde', version: '1', kind: 'single-label', prompt: 'Welcher Hund?', detail: 'low', confidenceThreshold: 0.5, labels: [{ name: 'Schäferhund 犬' }, { name: 'Pudel' }] },
      { label: 'Schäferhund 犬' },
      { label: 0.55 },
      { kind: 'single-label', label: 'Schäferhund 犬' },
      0.55,
    ],
    [
      'multi-label, booleans between merged punctuation',
      { name: 'tags', version: '1', kind: 'multi-label', prompt: 'Tag it.', detail: 'low', confidenceThreshold: 0.5, labels: [{ name: 'cat' }, { name: 'outdoor' }, { name: 'black and white' }] },
      { labels: { cat: true, outdoor: false, 'black and white': true } },
      { 'labels.cat': 0.9, 'labels.outdoor': 0.7, 'labels.black and white': 0.8 },
      { kind: 'multi-label', labels: [{ label: 'cat' }, { label: 'black and white' }] },
      0.7,
    ],
    [
      'attributes, multi-word values',
      {
        name: 'scene',
        version: '1',
        kind: 'attributes',
        prompt: 'Describe the scene.',
        detail: 'low',
        confidenceThreshold: 0.5,
        attributes: [
          { name: 'scene', labels: [{ name: 'city street' }, { name: 'highway' }, { name: 'parking lot' }] },
          { name: 'timeofday', labels: [{ name: 'daytime' }, { name: 'dawn/dusk' }, { name: 'night' }] },
        ],
      },
      { scene: 'parking lot', timeofday: 'dawn/dusk' },
      { scene: 0.75, timeofday: 0.6 },
      { kind: 'attributes' },
      0.6,
    ],
  ])('%s', async (_name, profile, answer, confidences, result, least) => {
    fake.reset();
    let sent: unknown;
    fake.setAnswer(({ schema }) => {
      const properties = (schema.properties ?? {}) as Record<string, unknown>;
      // Fill the self-reported confidence field, whatever the schema calls it, with a value the logprobs must override.
      const extra = Object.fromEntries(Object.keys(properties).filter((k) => !(k in answer)).map((k) => [k, 0.01]));
      sent = { ...answer, ...extra };
      return { answer: sent, confidences };
    });
    const out = await classifier().classify({ image, profile });
    expect(out.confidenceSource).toBe('logprobs');
    expect(out.result).toMatchObject(result as Record<string, unknown>);
    expect(out.confidence).toBeCloseTo(least, 5);
    if (out.result.kind === 'single-label') expect(out.result.confidence).toBeCloseTo(least, 5);
    if (out.result.kind === 'attributes') {
      for (const [field, p] of Object.entries(confidences)) expect(out.result.attributes[field]?.confidence).toBeCloseTo(p, 5);
    }
    if (out.result.kind === 'multi-label') {
      for (const d of out.result.labels) expect(d.confidence).toBeCloseTo(confidences[`labels.${d.label}`] ?? 0, 5);
    }
    // completion_tokens are the real token count of the answer.
    expect(out.usage.completionTokens).toBe(o200kTokens(JSON.stringify(sent)).length);
  });
});
