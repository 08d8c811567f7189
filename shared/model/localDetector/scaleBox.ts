/** Maps a box from the detector's square input back to the original image's pixels. */
import type { DetectedObject } from '../classification';

export type PixelBox = DetectedObject['box'];

export interface ImageSize {
  width: number;
  height: number;
}

/**
 * The model sees the whole image stretched (not letterboxed) to `inputSize` x `inputSize`, the way
 * @vladmandic/human feeds it (`resizeBilinear` straight to the input size), so each axis scales on its own: x by
 * width / inputSize, y by height / inputSize. The JPEG we decode is an aspect-preserving resize of the whole
 * original, so the original's size is all that matters. CenterNet boxes can overhang the border, hence the clamp;
 * 0.1 px is finer than any detector is accurate and keeps stored documents short.
 */
export function scaleBox(box: PixelBox, inputSize: number, original: ImageSize): PixelBox {
  const sx = original.width / inputSize;
  const sy = original.height / inputSize;
  return {
    x1: toPixel(box.x1 * sx, original.width),
    y1: toPixel(box.y1 * sy, original.height),
    x2: toPixel(box.x2 * sx, original.width),
    y2: toPixel(box.y2 * sy, original.height),
  };
}

function toPixel(value: number, max: number): number {
  return Math.round(Math.min(Math.max(value, 0), max) * 10) / 10;
}
