/**
 * Single-label metrics as sklearn's `classification_report(y_true, y_pred, labels=L, zero_division=0)` and
 * `confusion_matrix`, with L = the profile's labels then any other truth label. An answer outside L (the model's
 * "unknown", a label of another profile, or no answer at all) is never a class of its own: it is wrong, lowers the
 * recall of the truth label, and lands in the confusion matrix's extra "unknown" column. `perClass` lists every label
 * of L; the macro and weighted averages are over the labels that occur (in truth or as an answer), as sklearn's
 * default label set does, so a profile label absent from the data set does not add a 0 to the macro mean.
 */
import { labelScores, macroAverage, ratio, weightedAverage } from './labelScores';
import type { ClassificationSection, LabelScores } from './types';

const occurs = (s: LabelScores): boolean => s.support > 0 || s.predicted > 0;

export const UNKNOWN = 'unknown';

export interface LabelPair {
  truth: string;
  /** null: the image got no answer. */
  predicted: string | null;
}

export function classificationMetrics(pairs: readonly LabelPair[], labelSet: readonly string[]): ClassificationSection {
  const labels = [...labelSet];
  for (const p of pairs) if (!labels.includes(p.truth)) labels.push(p.truth);
  const index = new Map(labels.map((l, i) => [l, i]));
  const matrix = labels.map(() => new Array<number>(labels.length + 1).fill(0));
  let correct = 0;
  for (const p of pairs) {
    const row = matrix[index.get(p.truth) as number] as number[];
    const col = p.predicted === null ? undefined : index.get(p.predicted);
    row[col ?? labels.length] = (row[col ?? labels.length] ?? 0) + 1;
    if (p.predicted === p.truth) correct++;
  }
  const perClass: Record<string, LabelScores> = {};
  const scores = labels.map((l, i) => {
    const tp = (matrix[i] as number[])[i] as number;
    const fn = (matrix[i] as number[]).reduce((a, b) => a + b, 0) - tp;
    const fp = matrix.reduce((a, row) => a + (row[i] as number), 0) - tp;
    const s = labelScores(tp, fp, fn);
    perClass[l] = s;
    return s;
  });
  return {
    accuracy: pairs.length === 0 ? null : ratio(correct, pairs.length),
    macro: macroAverage(scores.filter(occurs)),
    weighted: weightedAverage(scores),
    perClass,
    confusion: { labels, columns: [...labels, UNKNOWN], matrix },
    images: pairs.length,
    correct,
  };
}
