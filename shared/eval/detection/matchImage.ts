/** One image and one category, matched as COCOeval.computeIoU + evaluateImg do (bbox, one area range, up to 100 detections). */
import { boxIou } from './boxIou';
import { IOU_THRESHOLDS } from './cocoParams';
import type { Bbox } from './types';

export interface PreparedTruth {
  bbox: Bbox;
  area: number;
  crowd: boolean;
}

export interface PreparedDetection {
  bbox: Bbox;
  /** Box area w × h, as pycocotools' loadRes sets it. */
  area: number;
  score: number;
}

/** Truth and the top detections (by descending score, stable) of one image and category, with their IoU matrix [detection][truth]. */
export interface PreparedPair {
  truth: PreparedTruth[];
  detections: PreparedDetection[];
  ious: number[][];
}

/** What evaluateImg returns: per IoU threshold, which detections matched and which are ignored. */
export interface ImageMatch {
  scores: number[];
  /** [threshold][detection] */
  matched: boolean[][];
  /** [threshold][detection] */
  ignored: boolean[][];
  truthIgnored: boolean[];
}

/** Indices of values sorted ascending by key, ties in input order (numpy argsort kind='mergesort'). */
export function stableOrder(keys: readonly number[]): number[] {
  return keys.map((_, i) => i).sort((a, b) => (keys[a] as number) - (keys[b] as number));
}

export function preparePair(truth: PreparedTruth[], detections: PreparedDetection[], maxDetections: number): PreparedPair {
  const order = stableOrder(detections.map((d) => -d.score));
  const top = order.slice(0, maxDetections).map((i) => detections[i] as PreparedDetection);
  const ious = top.map((d) => truth.map((g) => boxIou(d.bbox, g.bbox, g.crowd)));
  return { truth, detections: top, ious };
}

export function matchImage(pair: PreparedPair, lo: number, hi: number): ImageMatch | null {
  const { truth, detections, ious } = pair;
  if (truth.length === 0 && detections.length === 0) return null;
  const outside = truth.map((g) => g.crowd || g.area < lo || g.area > hi);
  // Regular truth first, ignored last, each group in input order.
  const gtOrder = stableOrder(outside.map((o) => (o ? 1 : 0)));
  const gtIgnored = gtOrder.map((i) => outside[i] as boolean);
  const crowd = gtOrder.map((i) => (truth[i] as PreparedTruth).crowd);
  // Truths a detection could match at all, in the sorted order: an IoU under the lowest threshold (0.5) is always passed
  // over, so leaving it out changes nothing (the loop's early stop depends only on the ignore flags, sorted last).
  const lowest = IOU_THRESHOLDS[0] as number;
  const candidates = ious.map((row) => {
    const list: number[] = [];
    gtOrder.forEach((g, pos) => {
      if ((row[g] as number) >= lowest) list.push(pos);
    });
    return list;
  });
  const matched: boolean[][] = [];
  const ignored: boolean[][] = [];
  for (const threshold of IOU_THRESHOLDS) {
    const gtTaken = new Array<boolean>(truth.length).fill(false);
    const dtMatched = new Array<boolean>(detections.length).fill(false);
    const dtIgnored = new Array<boolean>(detections.length).fill(false);
    for (let d = 0; d < detections.length; d++) {
      const row = ious[d] as number[];
      let best = Math.min(threshold, 1 - 1e-10);
      let m = -1;
      for (const g of candidates[d] as number[]) {
        // A matched truth takes no other detection, unless it is a crowd region.
        if (gtTaken[g] === true && crowd[g] !== true) continue;
        // Matched to a regular truth already: the ignored ones (sorted last) cannot replace it.
        if (m > -1 && gtIgnored[m] === false && gtIgnored[g] === true) break;
        const iou = row[gtOrder[g] as number] as number;
        if (iou < best) continue;
        best = iou;
        m = g;
      }
      if (m === -1) continue;
      dtIgnored[d] = gtIgnored[m] as boolean;
      dtMatched[d] = true;
      gtTaken[m] = true;
    }
    // Unmatched detections outside the area range are not counted against the model.
    for (let d = 0; d < detections.length; d++) {
      const area = (detections[d] as PreparedDetection).area;
      if (!dtMatched[d] && (area < lo || area > hi)) dtIgnored[d] = true;
    }
    matched.push(dtMatched);
    ignored.push(dtIgnored);
  }
  return { scores: detections.map((d) => d.score), matched, ignored, truthIgnored: gtIgnored };
}
