/**
 * The overlay's box matching: class-aware, greedy by descending score, each prediction taking the unmatched truth
 * box of its class with the highest IoU ≥ 0.5 (COCO's rule at one threshold, continuous pixel coordinates). A
 * prediction without a score ranks as score 1 in input order (the detection evaluator's convention). A prediction
 * that overlaps a crowd or ignored region of its class by ≥ 0.5 of its own area is absorbed (neither TP nor FP), as
 * COCO does. This only decides what to draw and how many errors an image has; the metrics come from shared/eval.
 */
import type { EvalBox } from '../eval/evalInput';

export const OVERLAY_IOU = 0.5;

type Box = { x1: number; y1: number; x2: number; y2: number };

export interface BoxMatches {
  matched: { prediction: EvalBox; truth: EvalBox; iou: number }[];
  falsePositives: EvalBox[];
  missed: EvalBox[];
  /** Predictions inside a crowd region. */
  absorbed: EvalBox[];
  /** The crowd / ignored truth regions themselves. */
  crowd: EvalBox[];
}

export function iou(a: Box, b: Box): number {
  const inter = intersection(a, b);
  const union = area(a) + area(b) - inter;
  return union <= 0 ? 0 : inter / union;
}

export function isCrowd(t: EvalBox): boolean {
  return t.crowd === true || t.ignored === true;
}

export function matchBoxes(predictions: readonly EvalBox[], truth: readonly EvalBox[], threshold = OVERLAY_IOU): BoxMatches {
  // Stable sort: equal scores keep the input order, so the same inputs always draw the same picture.
  const order = predictions.map((p, i) => ({ p, i })).sort((a, b) => (b.p.score ?? 1) - (a.p.score ?? 1) || a.i - b.i);
  const real = truth.filter((t) => !isCrowd(t));
  const crowd = truth.filter(isCrowd);
  const taken = new Set<number>();
  const out: BoxMatches = { matched: [], falsePositives: [], missed: [], absorbed: [], crowd };
  for (const { p } of order) {
    let best = -1;
    let bestIou = threshold;
    real.forEach((t, j) => {
      if (taken.has(j) || t.category !== p.category) return;
      const v = iou(p, t);
      if (v >= bestIou) {
        best = j;
        bestIou = v;
      }
    });
    const hit = real[best];
    if (hit !== undefined) {
      taken.add(best);
      out.matched.push({ prediction: p, truth: hit, iou: bestIou });
    } else if (crowd.some((c) => c.category === p.category && area(p) > 0 && intersection(p, c) / area(p) >= threshold)) {
      out.absorbed.push(p);
    } else {
      out.falsePositives.push(p);
    }
  }
  out.missed = real.filter((_, j) => !taken.has(j));
  return out;
}

function area(b: Box): number {
  return Math.max(0, b.x2 - b.x1) * Math.max(0, b.y2 - b.y1);
}

function intersection(a: Box, b: Box): number {
  return Math.max(0, Math.min(a.x2, b.x2) - Math.max(a.x1, b.x1)) * Math.max(0, Math.min(a.y2, b.y2) - Math.max(a.y1, b.y1));
}
