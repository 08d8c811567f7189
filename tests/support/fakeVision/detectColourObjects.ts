/**
 * The fake's "model": deterministic objects computed from the image. Tests draw flat rectangles of a few pure colours;
 * each colour present becomes one object, boxed around its pixels, with a fixed tag and confidence.
 */
import sharp from 'sharp';

export interface FakeVisionObject {
  boundingBox: { x: number; y: number; w: number; h: number };
  tags: { name: string; confidence: number }[];
}

/** Colour → what the fake "sees": COCO names, one outside every profile (tree), one below the usual 0.3 threshold. */
export const COLOUR_OBJECTS: readonly { rgb: readonly [number, number, number]; name: string; confidence: number }[] = [
  { rgb: [255, 0, 0], name: 'car', confidence: 0.912 },
  { rgb: [0, 0, 255], name: 'person', confidence: 0.847 },
  { rgb: [0, 255, 0], name: 'tree', confidence: 0.8 },
  { rgb: [255, 255, 0], name: 'truck', confidence: 0.21 },
];

/** JPEG noise moves pure colours a little; this far from each channel still counts. */
const TOLERANCE = 60;

export async function detectColourObjects(bytes: Buffer): Promise<FakeVisionObject[]> {
  const { data, info } = await sharp(bytes).rotate().removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
  const boxes = COLOUR_OBJECTS.map(() => ({ x1: Infinity, y1: Infinity, x2: -Infinity, y2: -Infinity }));
  for (let y = 0; y < info.height; y++) {
    for (let x = 0; x < info.width; x++) {
      const i = (y * info.width + x) * info.channels;
      const r = data[i] ?? 0;
      const g = data[i + 1] ?? 0;
      const b = data[i + 2] ?? 0;
      for (const [k, c] of COLOUR_OBJECTS.entries()) {
        if (Math.abs(r - c.rgb[0]) <= TOLERANCE && Math.abs(g - c.rgb[1]) <= TOLERANCE && Math.abs(b - c.rgb[2]) <= TOLERANCE) {
          const box = boxes[k];
          if (box === undefined) continue;
          box.x1 = Math.min(box.x1, x);
          box.y1 = Math.min(box.y1, y);
          box.x2 = Math.max(box.x2, x + 1);
          box.y2 = Math.max(box.y2, y + 1);
        }
      }
    }
  }
  const objects: FakeVisionObject[] = [];
  for (const [k, box] of boxes.entries()) {
    const c = COLOUR_OBJECTS[k];
    // A few stray pixels (JPEG ringing) are not an object.
    if (c === undefined || box.x2 - box.x1 < 4 || box.y2 - box.y1 < 4) continue;
    objects.push({ boundingBox: { x: box.x1, y: box.y1, w: box.x2 - box.x1, h: box.y2 - box.y1 }, tags: [{ name: c.name, confidence: c.confidence }] });
  }
  return objects;
}
