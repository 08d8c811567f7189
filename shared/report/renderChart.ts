/**
 * A Vega-Lite spec to an SVG string, in Node without a browser: vega-lite compiles it to Vega, and a Vega View with
 * renderer 'none' renders SVG markup headless (no canvas, no DOM). Both packages are ESM-only, so they are loaded with
 * import() from this CommonJS build, once per process.
 */
import type * as VegaModule from 'vega' with { 'resolution-mode': 'import' };
import type * as VegaLiteModule from 'vega-lite' with { 'resolution-mode': 'import' };
import type { TopLevelSpec } from 'vega-lite' with { 'resolution-mode': 'import' };

type Vega = typeof VegaModule;
type VegaLite = typeof VegaLiteModule;

let loaded: Promise<[Vega, VegaLite]> | undefined;

function load(): Promise<[Vega, VegaLite]> {
  loaded ??= Promise.all([import('vega'), import('vega-lite')]);
  return loaded;
}

/** The report's look: system fonts, quiet axes, no chart border. */
export const CHART_CONFIG = {
  font: 'DejaVu Sans, Liberation Sans, Arial, sans-serif',
  view: { stroke: null },
  axis: { labelFontSize: 11, titleFontSize: 12, titleFontWeight: 'normal', gridColor: '#e5e7eb', domainColor: '#9ca3af', tickColor: '#9ca3af' },
  legend: { labelFontSize: 11, titleFontSize: 12, titleFontWeight: 'normal' },
  title: { fontSize: 13, fontWeight: 'normal', anchor: 'start' },
  range: { category: ['#2563eb', '#f97316', '#16a34a', '#dc2626', '#9333ea', '#0891b2', '#ca8a04', '#db2777', '#4b5563', '#65a30d', '#7c3aed'] },
} as const;

export async function renderChart(spec: TopLevelSpec): Promise<string> {
  const [vega, vl] = await load();
  const compiled = vl.compile({ ...spec, config: { ...CHART_CONFIG, ...(spec.config ?? {}) } } as TopLevelSpec).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** A Vega-Lite spec, re-exported for the chart builders (the package is ESM-only; its types need resolution-mode). */
export type ChartSpec = TopLevelSpec;
