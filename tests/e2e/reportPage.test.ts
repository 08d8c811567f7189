/** `blobsight report`'s page in headless Chromium: it renders with no console error and no network request, and its charts carry data. */
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { writeReport } from '../../shared/report/writeReport';
import { classificationFixture, detectionFixture } from '../unit/reportFixture';
import type { Chromium } from './support/launchChromium';
import { chromiumMissing, launchChromium } from './support/launchChromium';

const OUTPUT = path.resolve(__dirname, '..', 'output');
const missing = chromiumMissing();
if (missing !== undefined) console.warn(`tests/e2e/reportPage.test.ts skipped: ${missing}`);

interface Opened {
  page: Page;
  problems: string[];
  requests: string[];
}

describe.skipIf(missing !== undefined)('report page (headless Chromium)', () => {
  let work: string;
  let browser: Chromium;

  beforeAll(async () => {
    work = await mkdtemp(path.join(tmpdir(), 'blobsight-report-'));
    await mkdir(OUTPUT, { recursive: true });
    browser = await launchChromium({ viewport: { width: 1280, height: 900 } });
  });

  afterAll(async () => {
    await browser?.close();
    if (work !== undefined) await rm(work, { recursive: true, force: true });
  });

  /** Opens a report file, recording console errors, page errors, failed requests and every request not for the file itself. */
  async function open(file: string): Promise<Opened> {
    const page = await browser.context.newPage();
    const problems: string[] = [];
    const requests: string[] = [];
    const url = pathToFileURL(file).href;
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()}`));
    page.on('request', (r) => {
      if (r.url() !== url && !r.url().startsWith('data:')) requests.push(r.url());
    });
    await page.goto(url, { waitUntil: 'load' });
    return { page, problems, requests };
  }

  /** Marks Vega drew in one chart, and how many. */
  async function marks(page: Page, chart: string, kind: string): Promise<number> {
    return page.locator(`figure[data-chart="${chart}"] svg g.mark-${kind}.role-mark > *`).count();
  }

  it('with --truth: summary, confusion heatmap, per-class bars, reliability diagram, latency, cost and the worst mistakes, self-contained', async () => {
    const { run, truth, runsDir } = await classificationFixture(path.join(work, 'cls'));
    const written = await writeReport(run, undefined, { runsDir, truth, worst: 6 });
    expect(written.file).toBe(path.join(run, 'report.html'));
    expect(written.evaluated).toBe(15);
    const html = await readFile(written.file, 'utf8');
    expect(html).not.toMatch(/(src|href)\s*=\s*["']?(https?:)?\/\//i);

    const { page, problems, requests } = await open(written.file);
    expect(problems).toEqual([]);
    expect(requests).toEqual([]);
    // 11 of 15 right (the failed image counts as wrong).
    await expect(page.locator('.card', { hasText: 'Accuracy' }).locator('.v').textContent()).resolves.toBe('73.3 %');
    // 3 truth rows × (3 labels + "wolf"? no: + unknown) cells, each a rect with data.
    const cells = await marks(page, 'confusion', 'rect');
    expect(cells).toBeGreaterThanOrEqual(12);
    await expect(page.locator('figure[data-chart="confusion"] svg').textContent()).resolves.toContain('unknown');
    expect(await marks(page, 'per-class', 'rect')).toBe(9);
    expect(await marks(page, 'reliability', 'rect')).toBeGreaterThan(2);
    expect(await marks(page, 'latency', 'rect')).toBeGreaterThan(2);
    expect(await marks(page, 'statuses', 'rect')).toBe(4);
    await expect(page.locator('#cost').textContent()).resolves.toMatch(/per correct label\$0\.\d+/);
    // The gallery: the 4 images with an error, worst first, each decoded by the browser.
    const shots = page.locator('#gallery figure.shot img');
    expect(await shots.count()).toBe(4);
    const widths = await shots.evaluateAll((imgs) => imgs.map((i) => (i as unknown as { naturalWidth: number }).naturalWidth));
    expect(widths.every((w) => w > 0)).toBe(true);
    await page.screenshot({ path: path.join(OUTPUT, 'report.png'), fullPage: true });
    await page.close();
  });

  it('detection: PR curves per class and per-class bars from the detection evaluator, and overlays of the frames', async () => {
    const { run, truth, runsDir } = await detectionFixture(path.join(work, 'det'));
    const written = await writeReport(run, path.join(work, 'det-report.html'), { runsDir, truth });
    const { page, problems, requests } = await open(written.file);
    expect(problems).toEqual([]);
    expect(requests).toEqual([]);
    expect(await marks(page, 'pr-curves', 'line')).toBe(2);
    await expect(page.locator('figure[data-chart="pr-curves"] svg').textContent()).resolves.toMatch(/car \(AP50 [\d.]+\)[\s\S]*pedestrian/);
    expect(await marks(page, 'detection-per-class', 'rect')).toBeGreaterThanOrEqual(6);
    await expect(page.locator('#detection table').textContent()).resolves.toContain('pedestrian');
    expect(await page.locator('#gallery figure.shot img').count()).toBe(4);
    await page.screenshot({ path: path.join(OUTPUT, 'report-detection.png'), fullPage: true });
    await page.close();
  });

  it('without --truth: what the run alone gives (statuses, confidences, latency, cost), and says how to get the rest', async () => {
    const { run, runsDir } = await classificationFixture(path.join(work, 'alone'));
    const written = await writeReport(run, path.join(work, 'alone.html'), { runsDir });
    expect(written.evaluated).toBeNull();
    const { page, problems, requests } = await open(written.file);
    expect(problems).toEqual([]);
    expect(requests).toEqual([]);
    expect(await marks(page, 'statuses', 'rect')).toBe(4);
    expect(await marks(page, 'confidence', 'rect')).toBeGreaterThan(2);
    expect(await marks(page, 'latency', 'rect')).toBeGreaterThan(2);
    expect(await page.locator('figure[data-chart="confusion"]').count()).toBe(0);
    expect(await page.locator('#gallery').count()).toBe(0);
    await expect(page.locator('.notice').textContent()).resolves.toContain('--truth');
    await expect(page.locator('#run table').textContent()).resolves.toContain('model_invalid_output');
    await page.close();
  });
});
