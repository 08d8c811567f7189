/** Precision, recall and F1 from counts, with sklearn's zero_division=0: a ratio with a zero denominator is 0. */
import type { Averages, LabelScores } from './types';

export function ratio(num: number, den: number): number {
  return den === 0 ? 0 : num / den;
}

export function labelScores(tp: number, fp: number, fn: number): LabelScores {
  const precision = ratio(tp, tp + fp);
  const recall = ratio(tp, tp + fn);
  return { precision, recall, f1: ratio(2 * precision * recall, precision + recall), support: tp + fn, predicted: tp + fp };
}

/** Unweighted mean over labels (sklearn `average='macro'`); 0 over no labels. */
export function macroAverage(scores: readonly LabelScores[]): Averages {
  const n = scores.length;
  const sum = (f: (s: LabelScores) => number): number => scores.reduce((a, s) => a + f(s), 0);
  return { precision: ratio(sum((s) => s.precision), n), recall: ratio(sum((s) => s.recall), n), f1: ratio(sum((s) => s.f1), n) };
}

/** Mean weighted by support (sklearn `average='weighted'`); 0 when no label has support. */
export function weightedAverage(scores: readonly LabelScores[]): Averages {
  const total = scores.reduce((a, s) => a + s.support, 0);
  const sum = (f: (s: LabelScores) => number): number => scores.reduce((a, s) => a + f(s) * s.support, 0);
  return { precision: ratio(sum((s) => s.precision), total), recall: ratio(sum((s) => s.recall), total), f1: ratio(sum((s) => s.f1), total) };
}
