/** Precision–recall curves per class (COCO's 101-point interpolated precision at IoU 0.5), AP in the legend. */
import type { ChartSpec } from '../renderChart';

export interface PrCurveInput {
  recall: readonly number[];
  precision: readonly number[];
}

export function prCurvesChart(curves: Readonly<Record<string, PrCurveInput>>, ap: Readonly<Record<string, number | null>>, title: string): ChartSpec {
  const name = (c: string): string => (ap[c] === null || ap[c] === undefined ? c : `${c} (AP50 ${(ap[c] * 100).toFixed(1)})`);
  const classes = Object.keys(curves).sort();
  // COCO marks recall points beyond the class's reach with precision -1 (or 0 after the end): drawn as 0, the curve's drop.
  const values = classes.flatMap((c) => {
    const curve = curves[c] as PrCurveInput;
    return curve.recall.map((r, i) => ({ cls: name(c), recall: r, precision: Math.max(0, curve.precision[i] ?? 0) }));
  });
  return {
    title,
    data: { values },
    width: 280,
    height: 260,
    mark: { type: 'line', interpolate: 'step-after', strokeWidth: 2 },
    encoding: {
      x: { field: 'recall', type: 'quantitative', scale: { domain: [0, 1] }, axis: { format: '.0%' } },
      y: { field: 'precision', type: 'quantitative', scale: { domain: [0, 1] }, axis: { format: '.0%' } },
      color: { field: 'cls', type: 'nominal', title: null, sort: classes.map(name), legend: { orient: 'right', labelLimit: 260 } },
    },
  };
}
