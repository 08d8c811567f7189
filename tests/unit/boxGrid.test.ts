import { describe, expect, it } from 'vitest';

import { BOX_GRID, buildDetectionResponseFormat, detectionMaxTokens, gridBoxToPixels, MAX_ANSWER_TOKENS, parseDetectionAnswer, pixelBoxToGrid } from '../../shared/model';
import { loadProfiles } from '../../shared/profiles';
import type { ObjectsProfile } from '../../shared/profiles/profileSchema';
import { validateStrictSchema } from '../support/fakeOpenAI/strictSchema';

const profile = loadProfiles().get('driving-objects') as ObjectsProfile & { categories: string[] };

describe('box grid', () => {
  it('maps grid corners to the upright original, ordering swapped corners and clamping overshoot', () => {
    expect(gridBoxToPixels({ x1: 0, y1: 0, x2: BOX_GRID, y2: BOX_GRID }, { width: 1280, height: 720 })).toEqual({ x1: 0, y1: 0, x2: 1280, y2: 720 });
    expect(gridBoxToPixels({ x1: 750, y1: 900, x2: 250, y2: -20 }, { width: 1280, height: 720 })).toEqual({ x1: 320, y1: 0, x2: 960, y2: 648 });
  });
  it('pixelBoxToGrid is its inverse up to one grid step', () => {
    const size = { width: 1917, height: 1083 };
    const px = { x1: 13.2, y1: 500.5, x2: 1900, y2: 1000 };
    const back = gridBoxToPixels(pixelBoxToGrid(px, size), size);
    for (const k of ['x1', 'y1', 'x2', 'y2'] as const) expect(Math.abs(back[k] - px[k])).toBeLessThanOrEqual(size.width / BOX_GRID);
  });
});

describe('driving-objects answer format', () => {
  it('is a strict schema the fake (Azure rules) accepts, with the ten BDD100K classes', () => {
    const format = buildDetectionResponseFormat(profile);
    expect(() => validateStrictSchema(format.json_schema.schema, { param: 'response_format', name: profile.name, kind: 'response_format' })).not.toThrow();
    expect(profile.categories).toEqual(['pedestrian', 'rider', 'car', 'truck', 'bus', 'train', 'motorcycle', 'bicycle', 'traffic light', 'traffic sign']);
  });
  it('reserves room for maxObjects boxes and no more than the model allows', () => {
    const n = detectionMaxTokens(profile);
    expect(n).toBeGreaterThan(profile.maxObjects * 30);
    expect(n).toBeLessThanOrEqual(MAX_ANSWER_TOKENS);
  });
  it('refuses a category outside the list and keeps the best boxes first', () => {
    const bad = parseDetectionAnswer(profile, JSON.stringify({ weather: 'clear', timeofday: 'night', scene: 'highway', objects: [{ category: 'dog', box: { x1: 0, y1: 0, x2: 1, y2: 1 }, score: 1 }], confidence: 1 }), { width: 10, height: 10 });
    expect(bad).toMatchObject({ ok: false, reason: 'label_outside_set' });
    const good = parseDetectionAnswer(
      profile,
      JSON.stringify({
        weather: 'clear', timeofday: 'night', scene: 'highway',
        objects: [
          { category: 'car', box: { x1: 0, y1: 0, x2: 100, y2: 100 }, score: 0.5 },
          { category: 'bus', box: { x1: 0, y1: 0, x2: 500, y2: 500 }, score: 0.95 },
          { category: 'truck', box: { x1: 10, y1: 10, x2: 10, y2: 90 }, score: 0.99 },
        ],
        confidence: 0.7,
      }),
      { width: 1000, height: 500 },
    );
    expect(good.ok && good.result.kind === 'objects' ? good.result.objects.map((o) => [o.label, o.box]) : null).toEqual([
      ['bus', { x1: 0, y1: 0, x2: 500, y2: 250 }],
      ['car', { x1: 0, y1: 0, x2: 100, y2: 50 }],
    ]);
  });
});
