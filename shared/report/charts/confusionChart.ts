/** Confusion-matrix heatmap: truth rows × predicted columns, coloured by the share of the row, labelled by count. */
import type { Confusion } from '../../eval/types';
import type { ChartSpec } from '../renderChart';

export function confusionChart(c: Confusion, title: string): ChartSpec {
  const values = c.labels.flatMap((truth, i) => {
    const row = c.matrix[i] ?? [];
    const total = row.reduce((a, b) => a + b, 0);
    return c.columns.map((predicted, j) => ({ truth, predicted, count: row[j] ?? 0, share: total === 0 ? 0 : (row[j] ?? 0) / total }));
  });
  const cell = Math.max(22, Math.min(48, Math.floor(420 / Math.max(1, c.columns.length))));
  return {
    title,
    data: { values },
    width: cell * c.columns.length,
    height: cell * c.labels.length,
    encoding: {
      x: { field: 'predicted', type: 'nominal', sort: c.columns, title: 'predicted', axis: { labelAngle: -40, orient: 'top' } },
      y: { field: 'truth', type: 'nominal', sort: c.labels, title: 'truth' },
    },
    layer: [
      { mark: { type: 'rect', stroke: '#ffffff', strokeWidth: 1 }, encoding: { color: { field: 'share', type: 'quantitative', scale: { scheme: 'blues', domain: [0, 1] }, title: 'share of row', legend: { format: '.0%' } } } },
      {
        mark: { type: 'text', fontSize: 11 },
        transform: [{ filter: 'datum.count > 0' }],
        encoding: { text: { field: 'count', type: 'quantitative' }, color: { condition: { test: 'datum.share > 0.55', value: '#ffffff' }, value: '#111827' } },
      },
    ],
  };
}
