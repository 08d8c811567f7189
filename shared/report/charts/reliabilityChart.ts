/** Reliability diagram: per confidence bin, the share correct (bars) against the mean confidence, with the diagonal of perfect calibration. */
import type { ReliabilityBin } from '../../eval/types';
import type { ChartSpec } from '../renderChart';

export function reliabilityChart(bins: readonly ReliabilityBin[], ece: number | null, title: string): ChartSpec {
  const values = bins.filter((b) => b.count > 0).map((b) => ({ lower: b.lower, upper: b.upper, accuracy: b.accuracy ?? 0, confidence: b.meanConfidence ?? (b.lower + b.upper) / 2, count: b.count }));
  return {
    title: ece === null ? title : `${title} (ECE ${(ece * 100).toFixed(1)} %)`,
    width: 320,
    height: 260,
    layer: [
      {
        data: { values },
        mark: { type: 'rect', color: '#93c5fd', stroke: '#ffffff', strokeWidth: 1 },
        encoding: {
          x: { field: 'lower', type: 'quantitative', scale: { domain: [0, 1] }, title: 'confidence', axis: { format: '.0%' } },
          x2: { field: 'upper' },
          y: { field: 'accuracy', type: 'quantitative', scale: { domain: [0, 1] }, title: 'share correct', axis: { format: '.0%' } },
          y2: { datum: 0 },
        },
      },
      {
        data: { values },
        mark: { type: 'text', dy: -7, fontSize: 10, color: '#374151' },
        encoding: { x: { field: 'confidence', type: 'quantitative' }, y: { field: 'accuracy', type: 'quantitative', title: 'share correct', axis: { format: '.0%' } }, text: { field: 'count', type: 'quantitative', format: 'd' } },
      },
      {
        data: { values: [{ x: 0, y: 0 }, { x: 1, y: 1 }] },
        mark: { type: 'line', color: '#9ca3af', strokeDash: [4, 4] },
        encoding: { x: { field: 'x', type: 'quantitative' }, y: { field: 'y', type: 'quantitative' } },
      },
      {
        data: { values },
        mark: { type: 'point', filled: true, color: '#1d4ed8', size: 40 },
        encoding: { x: { field: 'confidence', type: 'quantitative' }, y: { field: 'accuracy', type: 'quantitative' } },
      },
    ],
  };
}
