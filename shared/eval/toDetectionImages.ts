/**
 * Matched images as the detection evaluator's input. With BDD100K truth the official BDD100K conventions apply
 * (bdd100k/eval/detect.py → COCO): each box2d becomes a COCO box of width x2 − x1 + 1 and height y2 − y1 + 1 (area
 * = width × height), for truth and predictions alike; labels with attributes.crowd or attributes.ignored are crowd
 * regions; only the 10 BDD100K detection classes are evaluated. Other truth: the box's own corners, COCO `area` and
 * `iscrowd` as given.
 */
import type { DetectionImage, PredBox, TruthBox } from './detection/types';
import type { EvalBox } from './evalInput';
import type { MatchedImage } from './matchImages';

export const BDD100K_DETECTION_CLASSES: readonly string[] = ['pedestrian', 'rider', 'car', 'truck', 'bus', 'train', 'motorcycle', 'bicycle', 'traffic light', 'traffic sign'];

export function toDetectionImages(matched: readonly MatchedImage[], bdd100k: boolean): DetectionImage[] {
  const plus = bdd100k ? 1 : 0;
  const bbox = (b: EvalBox): [number, number, number, number] => [b.x1, b.y1, b.x2 - b.x1 + plus, b.y2 - b.y1 + plus];
  return matched.map((m, i) => {
    const truth: TruthBox[] = (m.truth.boxes ?? []).map((b) => {
      const t: TruthBox = { category: b.category, bbox: bbox(b) };
      if (b.crowd === true || (bdd100k && b.ignored === true)) t.iscrowd = true;
      if (!bdd100k && b.area !== undefined) t.area = b.area;
      if (typeof b.id === 'number') t.id = b.id;
      return t;
    });
    const predictions: PredBox[] = (m.prediction.boxes ?? []).map((b) => (b.score === null || b.score === undefined ? { category: b.category, bbox: bbox(b) } : { category: b.category, bbox: bbox(b), score: b.score }));
    const image: DetectionImage = { image: m.name, id: i + 1, truth, predictions };
    if (m.truth.width !== undefined) image.width = m.truth.width;
    if (m.truth.height !== undefined) image.height = m.truth.height;
    if (m.truth.attributes !== undefined) image.attributes = m.truth.attributes;
    return image;
  });
}

/**
 * Errors on one image for ranking the worst ones (report gallery, visualize --worst): per class, detections at or
 * above the score threshold taken by descending score, each matched to the unmatched truth of highest IoU ≥ 0.5;
 * errors = unmatched detections + unmatched truths (crowd truths are neither). Not the COCO figures (those come from
 * the evaluator), only a count a person would recognise on the overlay.
 */
export function boxErrors(image: DetectionImage, scoreThreshold: number | Readonly<Record<string, number>>, categories: ReadonlySet<string> | null): { tp: number; fp: number; fn: number } {
  const min = (c: string): number => (typeof scoreThreshold === 'number' ? scoreThreshold : (scoreThreshold[c] ?? 0));
  const keep = (c: string): boolean => categories === null || categories.has(c);
  let tp = 0;
  let fp = 0;
  const truth = image.truth.filter((t) => keep(t.category));
  const used = new Set<TruthBox>();
  const dets = image.predictions.filter((p) => keep(p.category) && (p.score ?? 1) >= min(p.category)).sort((a, b) => (b.score ?? 1) - (a.score ?? 1));
  for (const d of dets) {
    let best: TruthBox | null = null;
    let bestIou = 0.5;
    for (const t of truth) {
      if (t.category !== d.category || used.has(t)) continue;
      const v = iou(d.bbox, t.bbox);
      if (v >= bestIou) {
        best = t;
        bestIou = v;
      }
    }
    if (best !== null) {
      if (best.iscrowd !== true) {
        used.add(best);
        tp++;
      }
    } else fp++;
  }
  const fn = truth.filter((t) => t.iscrowd !== true && !used.has(t)).length;
  return { tp, fp, fn };
}

function iou(a: readonly number[], b: readonly number[]): number {
  const [ax, ay, aw, ah] = a as [number, number, number, number];
  const [bx, by, bw, bh] = b as [number, number, number, number];
  const w = Math.max(0, Math.min(ax + aw, bx + bw) - Math.max(ax, bx));
  const h = Math.max(0, Math.min(ay + ah, by + bh) - Math.max(ay, by));
  const inter = w * h;
  const union = aw * ah + bw * bh - inter;
  return union <= 0 ? 0 : inter / union;
}
