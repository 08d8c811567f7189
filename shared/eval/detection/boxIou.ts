/** Box IoU exactly as pycocotools' maskApi bbIou: a crowd region's union is the detection's own area. */
import type { Bbox } from './types';

export function boxIou(dt: Bbox, gt: Bbox, crowd: boolean): number {
  const w = Math.min(dt[2] + dt[0], gt[2] + gt[0]) - Math.max(dt[0], gt[0]);
  if (w <= 0) return 0;
  const h = Math.min(dt[3] + dt[1], gt[3] + gt[1]) - Math.max(dt[1], gt[1]);
  if (h <= 0) return 0;
  const inter = w * h;
  const dtArea = dt[2] * dt[3];
  const union = crowd ? dtArea : dtArea + gt[2] * gt[3] - inter;
  return inter / union;
}
