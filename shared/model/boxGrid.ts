/** The 0–1000 grid GPT-4o answers boxes on, and its conversion to and from the original image's pixels. */
import type { DetectedObject } from './classification';

export type PixelBox = DetectedObject['box'];

/** Grid coordinates run from 0 (left / top edge) to BOX_GRID (right / bottom edge) of the image the model saw. */
export const BOX_GRID = 1000;

export interface UprightSize {
  /** The original image's size after EXIF orientation (PreprocessedImage.original). */
  width: number;
  height: number;
}

/**
 * Grid → original pixels. The model sees the upright original resized by the same factor on both axes (preprocessImage
 * auto-orients, then scales the whole image), so a fraction of the sent image is the same fraction of the upright
 * original: the sent size never enters. Coordinates are clamped to the grid, put in order (a model sometimes swaps
 * corners), and rounded to 0.1 px like the local detector's boxes.
 */
export function gridBoxToPixels(box: PixelBox, original: UprightSize): PixelBox {
  const x = [toPixel(box.x1, original.width), toPixel(box.x2, original.width)].sort((a, b) => a - b) as [number, number];
  const y = [toPixel(box.y1, original.height), toPixel(box.y2, original.height)].sort((a, b) => a - b) as [number, number];
  return { x1: x[0], y1: y[0], x2: x[1], y2: y[1] };
}

/** Original pixels → grid integers: what a fine-tuning example's answer holds, the inverse of gridBoxToPixels. */
export function pixelBoxToGrid(box: PixelBox, original: UprightSize): PixelBox {
  const g = (v: number, size: number): number => Math.round((Math.min(Math.max(v, 0), size) / size) * BOX_GRID);
  return { x1: g(box.x1, original.width), y1: g(box.y1, original.height), x2: g(box.x2, original.width), y2: g(box.y2, original.height) };
}

function toPixel(grid: number, size: number): number {
  const clamped = Math.min(Math.max(grid, 0), BOX_GRID);
  return Math.round(((clamped / BOX_GRID) * size) * 10) / 10;
}
