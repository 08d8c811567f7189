/** pycocotools COCOeval's default bbox parameters, computed bit for bit as numpy.linspace computes them. */

/** numpy.linspace(start, stop, num): i × step + start, the last point set to stop exactly. */
function linspace(start: number, stop: number, num: number): number[] {
  const step = (stop - start) / (num - 1);
  return Array.from({ length: num }, (_, i) => (i === num - 1 ? stop : i * step + start));
}

/** IoU thresholds 0.50:0.05:0.95. Index 0 is 0.5, index 5 is 0.75. */
export const IOU_THRESHOLDS: readonly number[] = linspace(0.5, 0.95, 10);
/** Recall points 0:0.01:1 at which precision is interpolated (101). */
export const RECALL_THRESHOLDS: readonly number[] = linspace(0, 1, 101);
/** Detections kept per image and category, in ascending order as COCOeval sorts them. */
export const MAX_DETECTIONS: readonly number[] = [1, 10, 100];

export type AreaRangeName = 'all' | 'small' | 'medium' | 'large';
/** COCO area ranges; a box is outside when area < lo or area > hi (both ends are inside). */
export const AREA_RANGES: readonly { name: AreaRangeName; lo: number; hi: number }[] = [
  { name: 'all', lo: 0, hi: 1e5 ** 2 },
  { name: 'small', lo: 0, hi: 32 ** 2 },
  { name: 'medium', lo: 32 ** 2, hi: 96 ** 2 },
  { name: 'large', lo: 96 ** 2, hi: 1e5 ** 2 },
];

/** np.spacing(1), added to the precision denominator by COCOeval.accumulate. */
export const PRECISION_EPSILON = Number.EPSILON;
