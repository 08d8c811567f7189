/** The report's parts without a browser: charts render to SVG with their data, the page is self-contained. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

import { confusionChart } from '../../shared/report/charts/confusionChart';
import { prCurvesChart } from '../../shared/report/charts/prCurvesChart';
import { collectReport } from '../../shared/report/collectReport';
import { renderChart } from '../../shared/report/renderChart';
import { reportHtml } from '../../shared/report/reportHtml';
import { classificationFixture } from './reportFixture';

const work = mkdtempSync(path.join(tmpdir(), 'blobsight-report-unit-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('renderChart', () => {
  it('renders a confusion matrix to SVG in Node: one cell per truth × predicted pair, counts written in the non-empty ones', async () => {
    const svg = await renderChart(confusionChart({ labels: ['cat', 'dog'], columns: ['cat', 'dog', 'unknown'], matrix: [[4, 1, 0], [0, 3, 2]] }, 'c'));
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg.match(/aria-roledescription="rect mark"/g)).toHaveLength(6);
    expect(svg.match(/aria-roledescription="text mark"/g)).toHaveLength(4);
    expect(svg).toContain('unknown');
  });

  it('draws one line per class in the PR chart, AP50 in the legend, and leaves out nothing but what it is given', async () => {
    const recall = Array.from({ length: 101 }, (_, i) => i / 100);
    const svg = await renderChart(prCurvesChart({ car: { recall, precision: recall.map((r) => (r < 0.6 ? 0.9 : -1)) }, bus: { recall, precision: recall.map(() => 0.5) } }, { car: 0.53, bus: 0.5 }, 'pr'));
    expect(svg.match(/aria-roledescription="line mark"/g)).toHaveLength(2);
    expect(svg).toContain('car (AP50 53.0)');
  });
});

describe('reportHtml', () => {
  it('is one self-contained page: no script, no external source, a CSP that forbids requests, every section', async () => {
    const { run, runsDir, truth } = await classificationFixture(work);
    const html = await reportHtml(await collectReport(run, { runsDir, truth, worst: 3 }));
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toMatch(/(src|href)\s*=\s*["']?(https?:)?\/\//i);
    expect(html).toContain(`content="default-src 'none'; img-src data:; style-src 'unsafe-inline'"`);
    for (const id of ['run', 'classification', 'calibration', 'cost', 'gallery']) expect(html).toContain(`<section id="${id}">`);
    expect(html.match(/<img src="data:image\/jpeg;base64,/g)).toHaveLength(3);
  });
});
