/** Per-class horizontal bars of precision / recall / F1 (or AP figures): one row per class, one bar per metric. */
import type { ChartSpec } from '../renderChart';

export interface ClassScores {
  label: string;
  /** Metric name → value in [0, 1] or null (undefined: not drawn). */
  scores: Record<string, number | null>;
  support?: number;
}

export function scoreBarsChart(rows: readonly ClassScores[], metrics: readonly string[], title: string): ChartSpec {
  const values = rows.flatMap((r) => metrics.filter((m) => r.scores[m] !== null && r.scores[m] !== undefined).map((m) => ({ label: r.support === undefined ? r.label : `${r.label} (n=${r.support})`, metric: m, value: r.scores[m] as number })));
  const order = rows.map((r) => (r.support === undefined ? r.label : `${r.label} (n=${r.support})`));
  return {
    title,
    data: { values },
    width: 330,
    height: { step: Math.max(8, Math.round(30 / Math.max(1, metrics.length))) },
    mark: { type: 'bar', cornerRadiusEnd: 2 },
    encoding: {
      y: { field: 'label', type: 'nominal', sort: order, title: null },
      yOffset: { field: 'metric', type: 'nominal', sort: [...metrics] },
      x: { field: 'value', type: 'quantitative', scale: { domain: [0, 1] }, title: null, axis: { format: '.0%', tickCount: 5 } },
      color: { field: 'metric', type: 'nominal', sort: [...metrics], title: null, legend: { orient: 'top', direction: 'horizontal' } },
    },
  };
}
