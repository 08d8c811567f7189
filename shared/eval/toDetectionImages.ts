/**
 * Matched images as the detection evaluator's input. With BDD100K truth the official BDD100K conventions apply
 * (bdd100k/eval/detect.py → COCO): each box2d becomes a COCO box of width x2 − x1 + 1 and height y2 − y1 + 1 (area
 * = width × height), for truth and predictions alike; labels with attributes.crowd or attributes.ignored are crowd
 * regions; only the 10 BDD100K detection classes are evaluated. Other truth: the box's own corners, COCO `area` and
 * `iscrowd` as given.
 */
import type { Bdd100kFrame, Bdd100kLabel } from './detection/bdd100kToDetectionImages';
import { BDD100K_DETECTION_CLASSES, bdd100kToDetectionImages } from './detection/bdd100kToDetectionImages';
import type { Bbox, DetectionImage, PredBox, TruthBox } from './detection/types';
import type { EvalBox } from './evalInput';
import type { MatchedImage } from './matchImages';

export { BDD100K_DETECTION_CLASSES };

export function toDetectionImages(matched: readonly MatchedImage[], bdd100k: boolean, warnings: string[] = []): DetectionImage[] {
  if (bdd100k) return bdd100kImages(matched, warnings);
  const bbox = (b: EvalBox): Bbox => b.bbox ?? [b.x1, b.y1, b.x2 - b.x1, b.y2 - b.y1];
  return matched.map((m, i) => {
    const truth: TruthBox[] = (m.truth.boxes ?? []).map((b) => {
      const t: TruthBox = { category: b.category, bbox: bbox(b), iscrowd: b.crowd === true };
      if (b.area !== undefined) t.area = b.area;
      if (typeof b.id === 'number') t.id = b.id;
      return t;
    });
    const predictions: PredBox[] = (m.prediction.boxes ?? []).map((b) => (b.score === null || b.score === undefined ? { category: b.category, bbox: bbox(b) } : { category: b.category, bbox: bbox(b), score: b.score }));
    // COCO's image id where there is one (pycocotools' order), else the position in name order.
    const image: DetectionImage = { image: m.name, id: m.truth.id ?? i + 1, truth, predictions };
    if (m.truth.width !== undefined) image.width = m.truth.width;
    if (m.truth.height !== undefined) image.height = m.truth.height;
    if (m.truth.attributes !== undefined) image.attributes = m.truth.attributes;
    return image;
  });
}

/** Matched pairs as BDD100K frames under the matched name, through the detection module's BDD100K conversion. */
function bdd100kImages(matched: readonly MatchedImage[], warnings: string[]): DetectionImage[] {
  const label = (b: EvalBox): Bdd100kLabel => {
    const l: Bdd100kLabel = { category: b.category, box2d: { x1: b.x1, y1: b.y1, x2: b.x2, y2: b.y2 } };
    if (b.crowd === true || b.ignored === true) l.attributes = { crowd: b.crowd === true, ignored: b.ignored === true };
    if (b.score !== null && b.score !== undefined) l.score = b.score;
    return l;
  };
  const truth: Bdd100kFrame[] = matched.map((m) => ({ name: m.name, labels: (m.truth.boxes ?? []).map(label), ...(m.truth.attributes === undefined ? {} : { attributes: m.truth.attributes }) }));
  const predictions: Bdd100kFrame[] = matched.map((m) => ({ name: m.name, labels: (m.prediction.boxes ?? []).map(label) }));
  const converted = bdd100kToDetectionImages(truth, predictions);
  // Only its warnings about boxes: every frame here has a matched prediction, unmatched names are counted by matchImages.
  warnings.push(...converted.warnings.filter((w) => w.includes('boxes') || w.includes('labels have no box2d')));
  const byName = new Map(converted.images.map((im) => [im.image, im]));
  return matched.map((m) => byName.get(m.name) as DetectionImage);
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
