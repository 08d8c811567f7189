/**
 * One call or two for driving-objects: boxes + attributes in one answer, or a box call plus a driving-scene call.
 * Counted with GPT-4o's real tokenizer (o200k_base) on the exact messages and schemas the client sends, plus the
 * published image-token rule for a 1280x720 BDD100K frame. The schema is counted as its JSON text, which is how
 * structured outputs reach the model's context (an approximation of the service's exact framing, the same for both).
 */
import { beforeAll, describe, expect, it } from 'vitest';

import { buildDetectionMessages, buildDetectionResponseFormat, buildMessages, buildResponseFormat } from '../../shared/model';
import { estimateImageTokens } from '../../shared/preprocess/imageTokens';
import type { PreprocessedImage } from '../../shared/preprocess/preprocessedImage';
import { loadProfiles } from '../../shared/profiles';
import type { AttributesProfile, ObjectsProfile } from '../../shared/profiles/profileSchema';

// js-tiktoken is an ES module; this CommonJS project loads it dynamically.
let enc: { encode(text: string): number[] };
beforeAll(async () => {
  enc = (await import('js-tiktoken')).getEncoding('o200k_base');
  // Building o200k_base's rank table takes seconds on a loaded 2-core machine.
}, 120_000);
/** Chat framing per message and the assistant priming, as in OpenAI's token-counting guide. */
const PER_MESSAGE = 3;
const REPLY_PRIMING = 3;

const profiles = loadProfiles();
const both = profiles.get('driving-objects') as ObjectsProfile & { categories: string[] };
const scene = profiles.get('driving-scene') as AttributesProfile;
const boxesOnly = { ...both, attributes: undefined };
const image = (detail: 'low' | 'high'): PreprocessedImage => ({
  jpeg: Buffer.alloc(0),
  detail,
  width: detail === 'low' ? 512 : 1280,
  height: detail === 'low' ? 288 : 720,
  estimatedImageTokens: estimateImageTokens(1280, 720, detail),
  original: { width: 1280, height: 720, format: 'jpeg', sha256: '', bytes: 0 },
});

function promptTokens(messages: ReturnType<typeof buildMessages>, schema: unknown, img: PreprocessedImage): number {
  let n = REPLY_PRIMING + enc.encode(JSON.stringify(schema)).length + img.estimatedImageTokens;
  for (const m of messages) {
    n += PER_MESSAGE;
    if (typeof m.content === 'string') n += enc.encode(m.content).length;
    else if (Array.isArray(m.content)) for (const p of m.content) if (p.type === 'text') n += enc.encode(p.text).length;
  }
  return n;
}

/** 20 boxes: the BDD100K sample's average (1,981 boxes over 100 frames). */
const objects = Array.from({ length: 20 }, (_, i) => ({ category: i % 3 === 0 ? 'traffic sign' : 'car', box: { x1: 100 + i, y1: 400, x2: 180 + i, y2: 470 }, score: 0.82 }));
const attrs = { weather: 'partly cloudy', timeofday: 'daytime', scene: 'city street' };

describe('driving-objects: one call vs two', () => {
  it('one call costs fewer tokens than a box call plus a scene call', () => {
    const one = {
      prompt: promptTokens(buildDetectionMessages(both, image('high')), buildDetectionResponseFormat(both).json_schema.schema, image('high')),
      completion: enc.encode(JSON.stringify({ ...attrs, objects, confidence: 0.8 })).length,
    };
    const two = {
      prompt:
        promptTokens(buildDetectionMessages(boxesOnly, image('high')), buildDetectionResponseFormat(boxesOnly).json_schema.schema, image('high')) +
        promptTokens(buildMessages(scene, image('low')), buildResponseFormat(scene).json_schema.schema, image('low')),
      completion: enc.encode(JSON.stringify({ objects, confidence: 0.8 })).length + enc.encode(JSON.stringify({ ...attrs, confidence: 0.8 })).length,
    };
    console.log(`[measure] driving-objects tokens per 1280x720 frame, 20 boxes: one call ${JSON.stringify(one)}; two calls ${JSON.stringify(two)}`);
    expect(one.prompt).toBeLessThan(two.prompt);
    expect(one.completion).toBeLessThan(two.completion);
  });
});
