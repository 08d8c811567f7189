/** Images per final status, one horizontal bar each, with the count at its end. */
import type { ChartSpec } from '../renderChart';

export const STATUS_COLOURS: Readonly<Record<string, string>> = { classified: '#16a34a', needs_review: '#f59e0b', rejected: '#6b7280', failed: '#dc2626' };

export function statusChart(counts: Readonly<Record<string, number>>, title: string): ChartSpec {
  const order = Object.keys(STATUS_COLOURS);
  const values = order.map((status) => ({ status: status.replace('_', ' '), count: counts[status] ?? 0 }));
  return {
    title,
    data: { values },
    width: 240,
    height: { step: 26 },
    encoding: { y: { field: 'status', type: 'nominal', sort: values.map((v) => v.status), title: null }, x: { field: 'count', type: 'quantitative', title: 'images', axis: { tickMinStep: 1 } } },
    layer: [
      { mark: { type: 'bar', cornerRadiusEnd: 2 }, encoding: { color: { field: 'status', type: 'nominal', scale: { domain: values.map((v) => v.status), range: order.map((s) => STATUS_COLOURS[s] as string) }, legend: null } } },
      { mark: { type: 'text', align: 'left', dx: 4, fontSize: 11 }, encoding: { text: { field: 'count', type: 'quantitative' } } },
    ],
  };
}
