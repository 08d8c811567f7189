/**
 * Multi-label metrics as sklearn on binarised label sets (`precision_recall_fscore_support` with average None,
 * 'micro' and 'macro', zero_division=0; exact match = `accuracy_score` on the indicator matrix, i.e. subset accuracy).
 * Labels: the profile's, then any other label seen in truth or predictions; the macro mean is over the labels that
 * occur (in truth or predicted), as sklearn's default label set.
 */
import { labelScores, macroAverage, ratio } from './labelScores';
import type { LabelScores, MultiLabelSection } from './types';

export interface LabelSetPair {
  truth: readonly string[];
  /** null: the image got no answer (every truth label is missed). */
  predicted: readonly string[] | null;
}

export function multiLabelMetrics(pairs: readonly LabelSetPair[], labelSet: readonly string[]): MultiLabelSection {
  const labels = [...labelSet];
  const add = (l: string): void => void (labels.includes(l) ? undefined : labels.push(l));
  for (const p of pairs) {
    p.truth.forEach(add);
    p.predicted?.forEach(add);
  }
  const counts = new Map(labels.map((l) => [l, { tp: 0, fp: 0, fn: 0 }]));
  let exact = 0;
  for (const p of pairs) {
    const truth = new Set(p.truth);
    const pred = new Set(p.predicted ?? []);
    for (const l of pred) {
      const c = counts.get(l) as { tp: number; fp: number; fn: number };
      if (truth.has(l)) c.tp++;
      else c.fp++;
    }
    for (const l of truth) if (!pred.has(l)) (counts.get(l) as { fn: number }).fn++;
    if (p.predicted !== null && truth.size === pred.size && [...truth].every((l) => pred.has(l))) exact++;
  }
  const perLabel: Record<string, LabelScores> = {};
  let tp = 0;
  let fp = 0;
  let fn = 0;
  for (const [l, c] of counts) {
    perLabel[l] = labelScores(c.tp, c.fp, c.fn);
    tp += c.tp;
    fp += c.fp;
    fn += c.fn;
  }
  const micro = labelScores(tp, fp, fn);
  return {
    exactMatch: pairs.length === 0 ? null : ratio(exact, pairs.length),
    micro: { precision: micro.precision, recall: micro.recall, f1: micro.f1 },
    macro: macroAverage(Object.values(perLabel).filter((s) => s.support > 0 || s.predicted > 0)),
    perLabel,
    images: pairs.length,
    correctLabels: tp,
  };
}
