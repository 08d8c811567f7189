/**
 * COCO detection metrics computed as pycocotools' COCOeval (bbox) computes them, plus the figures a labelling team
 * needs: precision / recall / F1 at IoU 0.5 and a score threshold, per-class PR curves and review thresholds.
 *
 * Predictions without a score rank as score 1, in input order (as COCOeval breaks ties): AP then depends on that order
 * and is no more than a single-operating-point estimate; the at-0.5 precision / recall / F1 are the figures to read.
 */
import { AREA_RANGES, IOU_THRESHOLDS, MAX_DETECTIONS, PRECISION_EPSILON, RECALL_THRESHOLDS } from './cocoParams';
import { DetectionInputError } from './DetectionInputError';
import type { ImageMatch, PreparedDetection, PreparedTruth } from './matchImage';
import { matchImage, preparePair, stableOrder } from './matchImage';
import type {
  Bbox,
  ClassDetection,
  DetectionCounts,
  DetectionImage,
  DetectionOptions,
  DetectionReport,
  PrCurve,
  ScoreThreshold,
  SizeName,
  SizeSlice,
} from './types';

const MAX_DETS = MAX_DETECTIONS[MAX_DETECTIONS.length - 1] as number;
const ALL = 0;
const AT_100 = MAX_DETECTIONS.length - 1;
const IOU_50 = 0;
const IOU_75 = IOU_THRESHOLDS.indexOf(0.75);
const DEFAULT_TARGET_PRECISION = 0.95;

/** A detection of one category at IoU 0.5, as counted for precision / recall. */
interface ScoredMatch {
  score: number;
  matched: boolean;
  ignored: boolean;
}

/**
 * COCOeval.accumulate's output for one category: precision [area][maxDets][iou] (101 points) and recall; null = -1.
 * Precision is kept for maxDets 100 only (null for 1 and 10): COCO summarizes nothing else from it.
 */
interface CategoryResult {
  precision: (number[][] | null)[][];
  recall: (number[] | null)[][];
  /** Per area range: the top-100 detections at IoU 0.5 and the number of regular (not ignored) truths. */
  at50: { detections: ScoredMatch[]; truths: number }[];
}

export function evaluateDetection(images: readonly DetectionImage[], options: DetectionOptions = {}): DetectionReport {
  const warnings: string[] = [];
  const ordered = orderImages(images, warnings);
  const categories = options.categories ? [...new Set(options.categories)].sort(compareText) : categoriesOf(ordered);
  const wanted = new Set(categories);
  const tally = { unscored: 0, badBoxes: 0, beyondMax: 0 };

  // Per category, per image: prepared truth and detections (truth keeps its input order, detections are ranked).
  const perCategory = new Map<string, { truth: PreparedTruth[]; detections: PreparedDetection[] }[]>();
  for (const c of categories) perCategory.set(c, ordered.map(() => ({ truth: [], detections: [] })));
  ordered.forEach((image, i) => {
    for (const t of image.truth) {
      const bbox = checkBox(t.bbox, image.image, tally);
      if (!wanted.has(t.category)) continue;
      const area = t.area ?? bbox[2] * bbox[3];
      if (!Number.isFinite(area)) throw new DetectionInputError(`${image.image}: a truth box has area ${String(t.area)}`);
      perCategory.get(t.category)?.[i]?.truth.push({ bbox, area, crowd: t.iscrowd === true });
    }
    for (const p of image.predictions) {
      const bbox = checkBox(p.bbox, image.image, tally);
      if (p.score !== undefined && !Number.isFinite(p.score)) throw new DetectionInputError(`${image.image}: a prediction has score ${String(p.score)}`);
      if (!wanted.has(p.category)) continue;
      if (p.score === undefined) tally.unscored++;
      perCategory.get(p.category)?.[i]?.detections.push({ bbox, area: bbox[2] * bbox[3], score: p.score ?? 1 });
    }
  });

  const results = new Map<string, CategoryResult>();
  for (const [category, pairs] of perCategory) {
    const matches = pairs.map((p) => {
      if (p.detections.length > MAX_DETS) tally.beyondMax += p.detections.length - MAX_DETS;
      const prepared = preparePair(p.truth, p.detections, MAX_DETS);
      return AREA_RANGES.map((r) => matchImage(prepared, r.lo, r.hi));
    });
    results.set(category, accumulate(matches));
  }

  if (tally.unscored > 0) {
    warnings.push(
      `${tally.unscored} predictions have no score: they rank as score 1 in input order, so AP is a single-operating-point estimate; read precision / recall at IoU 0.5`,
    );
  }
  if (tally.badBoxes > 0) warnings.push(`${tally.badBoxes} boxes have a negative width or height: they overlap nothing`);
  if (tally.beyondMax > 0) warnings.push(`${tally.beyondMax} predictions beyond the ${MAX_DETS} best per image and category are not evaluated (COCO maxDets)`);
  const noTruth = categories.filter((c) => (results.get(c)?.at50[ALL]?.truths ?? 0) === 0 && (results.get(c)?.at50[ALL]?.detections.length ?? 0) > 0);
  if (noTruth.length > 0) {
    warnings.push(`predictions of categories without ground truth (${noTruth.join(', ')}) count as false positives at IoU 0.5 and are left out of AP, as COCO does`);
  }

  const all = [...results.values()];
  const thresholdOf = (c: string): number => scoreThresholdFor(options.scoreThreshold, c);
  const perClass: Record<string, ClassDetection> = {};
  const prCurves: Record<string, PrCurve> = {};
  const scoreThresholds: Record<string, ScoreThreshold> = {};
  for (const [category, r] of results) {
    const at50 = r.at50[ALL] as { detections: ScoredMatch[]; truths: number };
    perClass[category] = {
      AP: meanPrecision([r], ALL, AT_100),
      AP50: meanPrecision([r], ALL, AT_100, IOU_50),
      AP75: meanPrecision([r], ALL, AT_100, IOU_75),
      ...countAt(at50.detections, at50.truths, thresholdOf(category)),
    };
    const curve = r.precision[ALL]?.[AT_100]?.[IOU_50];
    if (curve) prCurves[category] = { recall: [...RECALL_THRESHOLDS], precision: [...curve] };
    scoreThresholds[category] = reviewThreshold(at50.detections, options.targetPrecision ?? DEFAULT_TARGET_PRECISION);
  }

  const sizeNames: SizeName[] = ['small', 'medium', 'large'];
  const sizes = {} as Record<SizeName, SizeSlice>;
  sizeNames.forEach((name, s) => {
    const a = s + 1;
    sizes[name] = {
      AP: meanPrecision(all, a, AT_100),
      AP50: meanPrecision(all, a, AT_100, IOU_50),
      AR100: meanRecall(all, a, AT_100),
      at50: totalCounts(results, a, thresholdOf),
    };
  });

  return {
    AP: meanPrecision(all, ALL, AT_100),
    AP50: meanPrecision(all, ALL, AT_100, IOU_50),
    AP75: meanPrecision(all, ALL, AT_100, IOU_75),
    APsmall: sizes.small.AP,
    APmedium: sizes.medium.AP,
    APlarge: sizes.large.AP,
    AR1: meanRecall(all, ALL, 0),
    AR10: meanRecall(all, ALL, 1),
    AR100: meanRecall(all, ALL, AT_100),
    ARsmall: sizes.small.AR100,
    ARmedium: sizes.medium.AR100,
    ARlarge: sizes.large.AR100,
    at50: totalCounts(results, ALL, thresholdOf),
    perClass,
    prCurves,
    scoreThresholds,
    sizes,
    images: ordered.length,
    categories,
    warnings,
  };
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** COCOeval walks images in id order; without ids, in name order, so the result never depends on input order. */
function orderImages(images: readonly DetectionImage[], warnings: string[]): DetectionImage[] {
  const byId = images.every((i) => i.id !== undefined && Number.isFinite(i.id));
  const ordered = [...images].sort((a, b) => (byId ? (a.id as number) - (b.id as number) : compareText(a.image, b.image)));
  const seen = new Set<string>();
  const dupes = new Set<string>();
  for (const i of ordered) (seen.has(i.image) ? dupes : seen).add(i.image);
  if (dupes.size > 0) warnings.push(`${dupes.size} image names occur more than once (e.g. ${[...dupes][0]}): each occurrence is evaluated as its own image`);
  return ordered;
}

function categoriesOf(images: readonly DetectionImage[]): string[] {
  const names = new Set<string>();
  for (const i of images) {
    for (const t of i.truth) names.add(t.category);
    for (const p of i.predictions) names.add(p.category);
  }
  return [...names].sort(compareText);
}

function checkBox(bbox: unknown, image: string, tally: { badBoxes: number }): Bbox {
  if (!Array.isArray(bbox) || bbox.length !== 4 || !bbox.every((v) => typeof v === 'number' && Number.isFinite(v))) {
    throw new DetectionInputError(`${image}: a box is not [x, y, width, height] of four finite numbers: ${JSON.stringify(bbox)}`);
  }
  const box = bbox as Bbox;
  if (box[2] < 0 || box[3] < 0) tally.badBoxes++;
  return box;
}

function scoreThresholdFor(option: DetectionOptions['scoreThreshold'], category: string): number {
  if (option === undefined) return -Infinity;
  if (typeof option === 'number') return option;
  return Object.hasOwn(option, category) ? (option[category] as number) : -Infinity;
}

/** COCOeval.accumulate for one category, all area ranges and maxDets. */
function accumulate(matches: (ImageMatch | null)[][]): CategoryResult {
  const precision: (number[][] | null)[][] = [];
  const recall: (number[] | null)[][] = [];
  const at50: { detections: ScoredMatch[]; truths: number }[] = [];
  AREA_RANGES.forEach((_, a) => {
    const evals = matches.map((m) => m[a] ?? null).filter((e): e is ImageMatch => e !== null);
    const truths = evals.reduce((n, e) => n + e.truthIgnored.filter((ig) => !ig).length, 0);
    const pa: (number[][] | null)[] = [];
    const ra: (number[] | null)[] = [];
    // All kept detections of the range, flattened image by image as COCOeval concatenates them.
    const n = evals.reduce((k, e) => k + e.scores.length, 0);
    const T = IOU_THRESHOLDS.length;
    const scores = new Float64Array(n);
    const rankInImage = new Int32Array(n);
    const matched = new Uint8Array(T * n);
    const ignored = new Uint8Array(T * n);
    let at = 0;
    for (const e of evals) {
      e.scores.forEach((score, d) => {
        scores[at] = score;
        rankInImage[at] = d;
        for (let t = 0; t < T; t++) {
          matched[t * n + at] = e.matched[t]?.[d] === true ? 1 : 0;
          ignored[t * n + at] = e.ignored[t]?.[d] === true ? 1 : 0;
        }
        at++;
      });
    }
    // One stable sort serves every maxDets: filtering a stably sorted list keeps the order a stable sort of the subset gives.
    const sorted = stableOrder(Array.from(scores, (v) => -v));
    for (const maxDet of MAX_DETECTIONS) {
      if (evals.length === 0 || truths === 0) {
        pa.push(null);
        ra.push(null);
        continue;
      }
      const order = sorted.filter((i) => (rankInImage[i] as number) < maxDet);
      const nd = order.length;
      const withPrecision = maxDet === MAX_DETS;
      const p: number[][] = [];
      const r: number[] = [];
      const rc = new Float64Array(nd);
      const pr = new Float64Array(nd);
      for (let t = 0; t < T; t++) {
        const base = t * n;
        let tp = 0;
        let fp = 0;
        for (let k = 0; k < nd; k++) {
          const i = base + (order[k] as number);
          if (ignored[i] === 0) {
            if (matched[i] === 1) tp++;
            else fp++;
          }
          rc[k] = tp / truths;
          pr[k] = tp / (fp + tp + PRECISION_EPSILON);
        }
        r.push(nd > 0 ? (rc[nd - 1] as number) : 0);
        if (!withPrecision) continue;
        // Precision envelope: the best precision at any higher recall.
        for (let i = nd - 1; i > 0; i--) if ((pr[i] as number) > (pr[i - 1] as number)) pr[i - 1] = pr[i] as number;
        const q = new Array<number>(RECALL_THRESHOLDS.length).fill(0);
        let pi = 0;
        for (let ri = 0; ri < RECALL_THRESHOLDS.length; ri++) {
          // searchsorted(rc, recThr, side='left'): the first rank whose recall reaches the point.
          while (pi < nd && (rc[pi] as number) < (RECALL_THRESHOLDS[ri] as number)) pi++;
          if (pi >= nd) break;
          q[ri] = pr[pi] as number;
        }
        p.push(q);
      }
      pa.push(withPrecision ? p : null);
      ra.push(r);
    }
    precision.push(pa);
    recall.push(ra);
    at50.push({
      detections: evals.flatMap((e) => e.scores.map((score, d) => ({ score, matched: e.matched[IOU_50]?.[d] === true, ignored: e.ignored[IOU_50]?.[d] === true }))),
      truths,
    });
  });
  return { precision, recall, at50 };
}

/** COCOeval.summarize's mean over the entries that are not -1 (categories without truth in range are left out). */
function meanPrecision(results: readonly CategoryResult[], a: number, m: number, t?: number): number | null {
  let sum = 0;
  let n = 0;
  for (const r of results) {
    const p = r.precision[a]?.[m];
    if (!p) continue;
    for (const curve of t === undefined ? p : [p[t] as number[]]) {
      for (const v of curve) sum += v;
      n += curve.length;
    }
  }
  return n > 0 ? sum / n : null;
}

function meanRecall(results: readonly CategoryResult[], a: number, m: number): number | null {
  let sum = 0;
  let n = 0;
  for (const r of results) {
    const rec = r.recall[a]?.[m];
    if (!rec) continue;
    for (const v of rec) sum += v;
    n += rec.length;
  }
  return n > 0 ? sum / n : null;
}

function countAt(detections: readonly ScoredMatch[], truths: number, threshold: number): DetectionCounts {
  let tp = 0;
  let fp = 0;
  for (const d of detections) {
    if (d.ignored || d.score < threshold) continue;
    if (d.matched) tp++;
    else fp++;
  }
  return withRatios(tp, fp, truths - tp);
}

function withRatios(tp: number, fp: number, fn: number): DetectionCounts {
  return {
    precision: tp + fp > 0 ? tp / (tp + fp) : null,
    recall: tp + fn > 0 ? tp / (tp + fn) : null,
    // F1 = 2TP / (2TP + FP + FN): equal to 2PR / (P + R) where both exist, 0 (not undefined) when only one does.
    f1: tp + fp + fn > 0 ? (2 * tp) / (2 * tp + fp + fn) : null,
    tp,
    fp,
    fn,
  };
}

function totalCounts(results: ReadonlyMap<string, CategoryResult>, a: number, thresholdOf: (c: string) => number): DetectionCounts {
  let tp = 0;
  let fp = 0;
  let fn = 0;
  for (const [category, r] of results) {
    const at = r.at50[a];
    if (!at) continue;
    const c = countAt(at.detections, at.truths, thresholdOf(category));
    tp += c.tp;
    fp += c.fp;
    fn += c.fn;
  }
  return withRatios(tp, fp, fn);
}

/** The lowest score whose detections at or above it reach the target precision at IoU 0.5. */
function reviewThreshold(detections: readonly ScoredMatch[], target: number): ScoreThreshold {
  if (detections.length === 0) return { threshold: null, precision: null, reviewShare: null };
  const counted = detections.filter((d) => !d.ignored).sort((x, y) => y.score - x.score);
  let best: { threshold: number; precision: number } | null = null;
  let tp = 0;
  for (let i = 0; i < counted.length; i++) {
    const d = counted[i] as ScoredMatch;
    if (d.matched) tp++;
    // Evaluate a threshold only after the last detection with this score: a threshold takes ties together.
    if (i + 1 < counted.length && (counted[i + 1] as ScoredMatch).score === d.score) continue;
    const precision = tp / (i + 1);
    if (precision >= target) best = { threshold: d.score, precision };
  }
  if (!best) return { threshold: null, precision: null, reviewShare: 1 };
  const threshold = best.threshold;
  const below = detections.filter((d) => d.score < threshold).length;
  return { threshold, precision: best.precision, reviewShare: below / detections.length };
}
