/** `blobsight visualize`'s parts: box matching, per-image errors, the drawn overlay (decoded pixel by pixel), --worst. */
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';

import type { EvalBox, TruthItem } from '../../shared/eval/evalInput';
import { itemFromRecord } from '../../shared/eval/loadPredictions';
import type { DetectedObject } from '../../shared/model/classification';
import type { PredictionRecord } from '../../shared/runs/predictionRecord';
import { compareImage, matchBoxes, OVERLAY_COLOURS, pickWorst, renderOverlay } from '../../shared/visualize';

function det(label: string, score: number, x1: number, y1: number, x2: number, y2: number): DetectedObject {
  return { label, detectorClass: label, score, box: { x1, y1, x2, y2 } };
}

function box(category: string, score: number | null, x1: number, y1: number, x2: number, y2: number): EvalBox {
  return { category, score, x1, y1, x2, y2 };
}

function truthBox(category: string, x1: number, y1: number, x2: number, y2: number, crowd = false): EvalBox {
  return { category, x1, y1, x2, y2, ...(crowd ? { crowd } : {}) };
}

/** The run record as the evaluator reads it (a review wins there). */
const compare = (r: PredictionRecord | undefined, t: TruthItem): ReturnType<typeof compareImage> => compareImage(r === undefined ? undefined : itemFromRecord(r), t);

function record(name: string, result: PredictionRecord['result'], over: Partial<PredictionRecord> = {}): PredictionRecord {
  return {
    name,
    source: { kind: 'file', location: name },
    sha256: 'a'.repeat(64),
    size: 10,
    profile: { name: 'objects', version: '1' },
    status: 'classified',
    result,
    review: null,
    confidence: null,
    confidenceSource: 'none',
    image: { width: 200, height: 120, format: 'jpeg' },
    model: { provider: 'local-detector', deployment: 'centernet', apiVersion: null, reportedModel: null },
    usage: { promptTokens: 0, completionTokens: 0, costUsd: 0, modelCalls: 1 },
    timings: { readMs: 1, preprocessMs: 1, modelMs: 5, totalMs: 7 },
    reused: null,
    error: null,
    at: '2026-12-01T00:00:00.000Z',
    ...over,
  };
}

function hex(c: string): [number, number, number] {
  return [parseInt(c.slice(1, 3), 16), parseInt(c.slice(3, 5), 16), parseInt(c.slice(5, 7), 16)];
}

async function pixels(png: Buffer): Promise<{ at: (x: number, y: number) => [number, number, number]; width: number; height: number }> {
  const { data, info } = await sharp(png).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return {
    width: info.width,
    height: info.height,
    at: (x, y) => {
      const i = (y * info.width + x) * info.channels;
      return [data[i] as number, data[i + 1] as number, data[i + 2] as number];
    },
  };
}

function near(a: [number, number, number], b: [number, number, number], tolerance = 40): boolean {
  return Math.abs(a[0] - b[0]) + Math.abs(a[1] - b[1]) + Math.abs(a[2] - b[2]) <= tolerance;
}

describe('matchBoxes', () => {
  it('matches greedily by score within a class: the higher score takes the truth box, the other is a false positive', () => {
    const truth = [truthBox('car', 0, 0, 100, 100)];
    const m = matchBoxes([box('car', 0.4, 0, 0, 100, 100), box('car', 0.9, 5, 5, 100, 100)], truth);
    expect(m.matched.map((x) => x.prediction.score)).toEqual([0.9]);
    expect(m.falsePositives.map((x) => x.score)).toEqual([0.4]);
    expect(m.missed).toEqual([]);
  });

  it('never matches across classes, and needs IoU ≥ 0.5', () => {
    const truth = [truthBox('car', 0, 0, 100, 100), truthBox('bus', 200, 0, 300, 100)];
    const m = matchBoxes([box('truck', 0.9, 0, 0, 100, 100), box('bus', 0.8, 250, 0, 350, 100)], truth);
    expect(m.matched).toEqual([]);
    expect(m.falsePositives).toHaveLength(2);
    expect(m.missed.map((t) => t.category)).toEqual(['car', 'bus']);
  });

  it('ranks a prediction without a score as score 1, in input order', () => {
    const m = matchBoxes([box('car', 0.99, 0, 0, 100, 100), box('car', null, 0, 0, 100, 100)], [truthBox('car', 0, 0, 100, 100)]);
    expect(m.matched.map((x) => x.prediction.score)).toEqual([null]);
  });

  it('absorbs a prediction inside a crowd region: neither a hit nor a false positive, and the crowd is never missed', () => {
    const m = matchBoxes([box('car', 0.9, 10, 10, 40, 40)], [truthBox('car', 0, 0, 200, 200, true)]);
    expect(m.absorbed).toHaveLength(1);
    expect(m.falsePositives).toEqual([]);
    expect(m.missed).toEqual([]);
  });
});

describe('compareImage', () => {
  it('counts FP + FN + wrong attributes, and a review wins over the model', () => {
    const truth: TruthItem = { name: 'a.jpg', attributes: { weather: 'clear', timeofday: 'night' }, boxes: [truthBox('car', 0, 0, 50, 50)] };
    const r = record('a.jpg', { kind: 'objects', objects: [det('car', 0.9, 100, 0, 150, 50)], attributes: { weather: { label: 'clear', confidence: 0.9 }, timeofday: { label: 'daytime', confidence: 0.8 } } });
    const c = compare(r, truth);
    expect(c.errors).toBe(3);
    expect(c.attributes.find((a) => a.name === 'timeofday')).toMatchObject({ predicted: 'daytime', truth: 'night', right: false });
    const reviewed = compare({ ...r, review: { result: { kind: 'objects', objects: [det('car', 1, 0, 0, 50, 50)], attributes: { weather: { label: 'clear', confidence: 1 }, timeofday: { label: 'night', confidence: 1 } } }, labels: [], reviewer: null, note: null, reviewedAt: '' } }, truth);
    expect(reviewed.errors).toBe(0);
    expect(reviewed.reviewed).toBe(true);
  });

  it('does not blame a box-only detector for the weather, but an unanswered image misses everything', () => {
    const truth: TruthItem = { name: 'a.jpg', attributes: { weather: 'clear' }, boxes: [truthBox('car', 0, 0, 50, 50)] };
    expect(compare(record('a.jpg', { kind: 'objects', objects: [det('car', 0.9, 0, 0, 50, 50)] }), truth).errors).toBe(0);
    expect(compare(record('a.jpg', null, { status: 'failed' }), truth).errors).toBe(2);
    expect(compare(undefined, truth)).toMatchObject({ status: 'missing', errors: 2 });
  });

  it('a wrong single label is one error; label case does not matter', () => {
    expect(compare(record('r.jpg', { kind: 'single-label', label: 'Rose', confidence: 0.9 }), { name: 'r.jpg', label: 'rose' }).errors).toBe(0);
    expect(compare(record('r.jpg', { kind: 'single-label', label: 'daisy', confidence: 0.9 }), { name: 'r.jpg', label: 'rose' }).errors).toBe(1);
  });
});

describe('renderOverlay', () => {
  const grey = '#808080';
  const truth: TruthItem = {
    name: 'scene.jpg',
    attributes: { weather: 'clear', timeofday: 'night' },
    boxes: [truthBox('car', 20, 20, 80, 80), truthBox('pedestrian', 20, 90, 190, 115)],
  };
  const rec = record('scene.jpg', { kind: 'objects', objects: [det('car', 0.9, 20, 20, 80, 80), det('bus', 0.7, 100, 20, 180, 80)], attributes: { weather: { label: 'clear', confidence: 0.9 }, timeofday: { label: 'daytime', confidence: 0.6 } } });

  it('draws matched boxes green, false positives red, misses orange dashed, under a banner; the inside of a box is untouched', async () => {
    const image = await sharp({ create: { width: 200, height: 120, channels: 3, background: grey } }).png().toBuffer();
    const out = await renderOverlay(image, compare(rec, truth), { format: 'png' });
    const px = await pixels(out.data);
    const top = out.bannerHeight;
    expect(top).toBeGreaterThan(10);
    expect(px.width).toBe(200);
    expect(px.height).toBe(120 + top);
    expect(near(px.at(2, 2), hex(OVERLAY_COLOURS.banner)), 'banner colour above the image').toBe(true);
    // Left edges (x = 20 for the car, x = 100 for the bus), halfway down where no tag is drawn.
    expect(near(px.at(20, top + 50), hex(OVERLAY_COLOURS.matched))).toBe(true);
    expect(near(px.at(100, top + 50), hex(OVERLAY_COLOURS.falsePositive))).toBe(true);
    // Inside the boxes and outside every box: the image as it was.
    expect(near(px.at(50, top + 50), hex(grey))).toBe(true);
    expect(near(px.at(140, top + 50), hex(grey))).toBe(true);
    expect(near(px.at(195, top + 5), hex(grey))).toBe(true);
    // The missed pedestrian's bottom edge (y = 115) is dashed: orange dashes with gaps of image between them.
    const edge = Array.from({ length: 120 }, (_, i) => px.at(40 + i, top + 115));
    expect(edge.filter((c) => near(c, hex(OVERLAY_COLOURS.missed))).length).toBeGreaterThan(30);
    expect(edge.filter((c) => near(c, hex(grey))).length).toBeGreaterThan(20);
    // The banner says something: light text pixels on the dark band.
    const bannerText = Array.from({ length: 200 * top }, (_, i) => px.at(i % 200, Math.floor(i / 200))).filter((c) => c[0] + c[1] + c[2] > 400);
    expect(bannerText.length).toBeGreaterThan(20);
  });

  it('draws boxes in upright pixels on a JPEG whose EXIF says rotate 90°, and downscales boxes with the image', async () => {
    // Stored 120 wide × 200 high with orientation 6: upright it is 200 × 120, like the truth above.
    const stored = await sharp({ create: { width: 120, height: 200, channels: 3, background: grey } }).jpeg().withMetadata({ orientation: 6 }).toBuffer();
    const out = await renderOverlay(stored, compare(rec, truth), { format: 'png', maxWidth: 100 });
    const px = await pixels(out.data);
    expect(px.width).toBe(100);
    expect(out.scale).toBeCloseTo(0.5);
    const top = out.bannerHeight;
    expect(near(px.at(50, top + 25), hex(OVERLAY_COLOURS.falsePositive), 60)).toBe(true);
    expect(near(px.at(25, top + 25), hex(grey), 30)).toBe(true);
  });

  it('writes JPEG when asked', async () => {
    const image = await sharp({ create: { width: 200, height: 120, channels: 3, background: grey } }).jpeg().toBuffer();
    const out = await renderOverlay(image, compare(rec, truth), { format: 'jpeg' });
    expect((await sharp(out.data).metadata()).format).toBe('jpeg');
  });
});

describe('pickWorst', () => {
  it('orders by errors, most first, ties by name, and leaves out images with no error', () => {
    const t = (name: string, n: number): TruthItem => ({ name, boxes: Array.from({ length: n }, (_, i) => truthBox('car', i * 10, 0, i * 10 + 5, 5)) });
    const comparisons = [t('b.jpg', 2), t('a.jpg', 2), t('c.jpg', 5), t('d.jpg', 0), t('e.jpg', 1)].map((x) => compare(record(x.name, { kind: 'objects', objects: [] }), x));
    expect(pickWorst(comparisons, 3).map((c) => [c.name, c.errors])).toEqual([['c.jpg', 5], ['a.jpg', 2], ['b.jpg', 2]]);
    expect(pickWorst(comparisons, 10).map((c) => c.name)).toEqual(['c.jpg', 'a.jpg', 'b.jpg', 'e.jpg']);
  });
});
