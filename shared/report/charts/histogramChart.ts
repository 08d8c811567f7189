/** A histogram of per-image values (latency, confidence), optionally stacked by a category (status). */
import type { ChartSpec } from '../renderChart';

export interface HistogramOptions {
  title: string;
  axisTitle: string;
  /** Fixed domain (confidences: [0, 1]); default from the data. */
  extent?: [number, number];
  maxbins?: number;
  /** Colour per group, in legend order. */
  groups?: Readonly<Record<string, string>>;
  format?: string;
}

export function histogramChart(values: readonly { value: number; group?: string }[], o: HistogramOptions): ChartSpec {
  const groups = o.groups === undefined ? undefined : Object.keys(o.groups);
  return {
    title: o.title,
    data: { values: values.map((v) => ({ value: v.value, group: v.group ?? '' })) },
    width: 290,
    height: 190,
    mark: { type: 'bar', color: '#3b82f6', binSpacing: 1 },
    encoding: {
      x: { field: 'value', type: 'quantitative', bin: { maxbins: o.maxbins ?? 30, ...(o.extent === undefined ? {} : { extent: o.extent }) }, title: o.axisTitle, ...(o.format === undefined ? {} : { axis: { format: o.format } }) },
      y: { aggregate: 'count', type: 'quantitative', title: 'images' },
      ...(groups === undefined ? {} : { color: { field: 'group', type: 'nominal', title: null, scale: { domain: groups, range: groups.map((g) => o.groups?.[g] ?? '#999999') }, legend: { orient: 'top', direction: 'horizontal' } } }),
    },
  };
}
