/** The page's stats view in headless Chromium against the whole local stack: counts, spend, charts, reviewed accuracy. */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { LocalStack } from '../../scripts/dev/localStack';
import { startLocalStack } from '../../scripts/dev/localStack';
import type { FakeOpenAI } from '../support/fakeOpenAI';
import { answerFromSchema, startFakeOpenAI } from '../support/fakeOpenAI';
import { jpeg } from '../support/imageFixtures';
import type { Chromium } from './support/launchChromium';
import { chromiumMissing, launchChromium } from './support/launchChromium';

const OUTPUT = path.resolve(__dirname, '..', 'output');
const missing = chromiumMissing();
if (missing !== undefined) console.warn(`tests/e2e/statsPage.test.ts skipped: ${missing}`);

describe.skipIf(missing !== undefined)('stats view (headless Chromium, local stack)', () => {
  let fake: FakeOpenAI;
  let dataDir: string;
  let stack: LocalStack;
  let browser: Chromium;

  beforeAll(async () => {
    fake = await startFakeOpenAI();
    // Alternate answers, so the label table and the review have something to tell apart.
    let n = 0;
    fake.setAnswer(({ schema }) => ({ answer: answerFromSchema(schema, { label: n++ % 3 === 2 ? 'cat' : 'dog' }) }));
    dataDir = await mkdtemp(path.join(tmpdir(), 'blobsight-e2e-stats-'));
    await mkdir(OUTPUT, { recursive: true });
    stack = await startLocalStack({
      dataDir,
      ports: { blob: 0, cosmos: 0, host: 0 },
      readLocalSettings: false,
      env: { AZURE_OPENAI_ENDPOINT: fake.url, AZURE_OPENAI_DEPLOYMENT: fake.deployment, AZURE_OPENAI_API_KEY: fake.apiKey, MODEL_MAX_RETRIES: '0', DAILY_BUDGET_USD: '5' },
      eventGrid: { pollMs: 200 },
      log: () => undefined,
    });
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
    await fake?.close();
    if (dataDir !== undefined) await rm(dataDir, { recursive: true, force: true });
  });

  const headers = (): Record<string, string> => ({ 'x-functions-key': stack.functionKey });

  async function uploadAndWait(name: string, colour: string): Promise<{ id: string; labels: string[] }> {
    const res = await fetch(`${stack.urls.api}/api/uploads?profile=pets&name=${encodeURIComponent(name)}`, { method: 'POST', headers: { ...headers(), 'content-type': 'image/jpeg' }, body: await jpeg(90, 60, { colour }) });
    expect(res.status).toBe(201);
    const { id } = (await res.json()) as { id: string };
    let doc: { status: string; labels: string[] } | undefined;
    await expect
      .poll(async () => {
        const r = await fetch(`${stack.urls.api}/api/images/${id}`, { headers: headers() });
        doc = r.ok ? ((await r.json()) as { status: string; labels: string[] }) : undefined;
        return doc?.status;
      }, { timeout: 20_000, interval: 200 })
      .toBe('classified');
    return { id, labels: doc?.labels ?? [] };
  }

  it('shows today\'s results, spend, latency, the budget and reviewed accuracy, and draws the charts', async () => {
    const docs = [];
    for (const [i, colour] of ['#204060', '#602040', '#406020'].entries()) docs.push(await uploadAndWait(`stats-${i}.jpg`, colour));
    const dog = docs.find((d) => d.labels.includes('dog'));
    if (dog === undefined) throw new Error('expected a dog');
    // A person says the first dog is a cat: one review, not agreed.
    const review = await fetch(`${stack.urls.api}/api/images/${dog.id}/review`, { method: 'PATCH', headers: { ...headers(), 'content-type': 'application/json' }, body: JSON.stringify({ label: 'cat', reviewer: 'e2e' }) });
    expect(review.status).toBe(200);
    const api = (await (await fetch(`${stack.urls.api}/api/stats?days=7`, { headers: headers() })).json()) as { today: { results: number; costUsd: number } };
    expect(api.today.results).toBe(3);

    const page = await browser.context.newPage();
    try {
      await page.setViewportSize({ width: 1200, height: 900 });
      page.on('pageerror', (e) => {
        throw new Error(`page error: ${e.message}`);
      });
      await page.goto(stack.urls.page);
      const today = page.locator('#stats .stat-today');
      await today.waitFor({ timeout: 15_000 });
      expect(await today.locator('.stat-detail').textContent()).toContain('3 results');
      expect(await page.locator('#stats .stat-accuracy .stat-value').textContent()).toBe('0 %');
      expect(await page.locator('#stats .stat-accuracy .stat-detail').textContent()).toBe('0 of 1 reviews agreed with the model');
      expect(await page.locator('#stats .stat-tile', { hasText: 'Daily budget' }).locator('.stat-value').textContent()).toMatch(/ \/ \$5$/);
      // One bar segment for today's three classified results; seven days on the axis; a latency histogram with bars.
      const todayBar = page.locator('svg[data-chart="results"] rect.status-fill-classified');
      expect(await todayBar.count()).toBe(1);
      expect(await todayBar.locator('title').textContent()).toMatch(/: 3 classified$/);
      expect(await page.locator('svg[data-chart="latency"] rect').count()).toBeGreaterThan(0);
      expect(await page.locator('svg[data-chart="accuracy"] circle').count()).toBe(1);
      const labelRows = page.locator('.stat-table', { hasText: 'By label' }).locator('tbody tr');
      expect(await labelRows.first().locator('th').textContent()).toBe('dog');
      // Another period reloads the view from the API.
      await page.locator('#stats-days').selectOption('30');
      await expect.poll(() => page.locator('#stats-status').textContent(), { timeout: 10_000 }).toMatch(/^Stats for \d{4}-\d\d-\d\d to/);
      await page.locator('#stats-panel').scrollIntoViewIfNeeded();
      await page.locator('#stats-panel').screenshot({ path: path.join(OUTPUT, 'web-stats.png') });
    } finally {
      await page.close();
    }
  });
});
