/** Intersection over union of two boxes: how duplicates are suppressed and how detections are matched to truth. */
import type { PixelBox } from './scaleBox';

/** 0 for disjoint or empty boxes, 1 for identical ones. */
export function boxIoU(a: PixelBox, b: PixelBox): number {
  const iw = Math.min(a.x2, b.x2) - Math.max(a.x1, b.x1);
  const ih = Math.min(a.y2, b.y2) - Math.max(a.y1, b.y1);
  if (iw <= 0 || ih <= 0) {
    return 0;
  }
  const intersection = iw * ih;
  const union = area(a) + area(b) - intersection;
  return union > 0 ? intersection / union : 0;
}

function area(b: PixelBox): number {
  return Math.max(0, b.x2 - b.x1) * Math.max(0, b.y2 - b.y1);
}
