/** The review queue on the page, driven from the keyboard in headless Chromium against the whole local stack. */
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

import type { Page } from 'playwright-core';
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
if (missing !== undefined) console.warn(`tests/e2e/reviewPage.test.ts skipped: ${missing}`);

interface Doc {
  id: string;
  status: string;
  blob: { name: string };
  result: { kind: string; label?: string } | null;
  review?: { labels: string[]; result: { kind: string; label?: string } } | null;
}

describe.skipIf(missing !== undefined)('review queue page (headless Chromium, local stack)', () => {
  let fake: FakeOpenAI;
  let dataDir: string;
  let stack: LocalStack;
  let browser: Chromium;

  beforeAll(async () => {
    fake = await startFakeOpenAI();
    dataDir = await mkdtemp(path.join(tmpdir(), 'blobsight-e2e-review-'));
    await mkdir(OUTPUT, { recursive: true });
    stack = await startLocalStack({
      dataDir,
      ports: { blob: 0, cosmos: 0, host: 0 },
      readLocalSettings: false,
      env: { AZURE_OPENAI_ENDPOINT: fake.url, AZURE_OPENAI_DEPLOYMENT: fake.deployment, AZURE_OPENAI_API_KEY: fake.apiKey, MODEL_MAX_RETRIES: '0' },
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

  async function apiGet<T>(pathAndQuery: string): Promise<T> {
    const res = await fetch(`${stack.urls.api}/${pathAndQuery}`, { headers: { 'x-functions-key': stack.functionKey } });
    expect(res.status, `GET ${pathAndQuery}`).toBe(200);
    return (await res.json()) as T;
  }

  /** Uploads a pets image the fake answers with `label` at `confidence`, and waits for its document. */
  async function classified(name: string, label: string, confidence: number): Promise<Doc> {
    fake.setAnswer(({ schema }) => ({ answer: answerFromSchema(schema, { label }), confidences: { label: confidence } }));
    const bytes = await jpeg(320, 240, { colour: `#${randomBytes(3).toString('hex')}` });
    await stack.services.images.getBlockBlobClient(name).uploadData(bytes, { blobHTTPHeaders: { blobContentType: 'image/jpeg' } });
    let found: Doc | undefined;
    await expect
      .poll(
        async () => {
          found = (await apiGet<{ items: Doc[] }>('api/images?limit=50')).items.find((d) => d.blob.name === name && d.status !== 'processing');
          return found?.status;
        },
        { timeout: 30_000 },
      )
      .toBeDefined();
    if (found === undefined) throw new Error(`no document for ${name}`);
    return found;
  }

  it('walks the queue from the keyboard: least confident first, a digit picks another label, A accepts, S skips', async () => {
    const unsure = await classified('pets/queue-unsure.jpg', 'dog', 0.41);
    const lessUnsure = await classified('pets/queue-less-unsure.jpg', 'cat', 0.62);
    const sure = await classified('pets/queue-sure.jpg', 'dog', 0.99);
    expect([unsure.status, lessUnsure.status, sure.status]).toEqual(['needs_review', 'needs_review', 'classified']);

    const page: Page = await browser.context.newPage();
    page.on('pageerror', (e) => {
      throw new Error(`page error: ${e.message}`);
    });
    try {
      await page.goto(stack.urls.page);
      await page.locator('#results .results-table, #results .empty-state').first().waitFor({ timeout: 15_000 });
      await page.getByRole('button', { name: 'Start reviewing' }).click();
      const view = page.locator('#review-view');
      await view.locator('.review-name').waitFor({ timeout: 15_000 });
      expect(await view.locator('.review-name').textContent()).toContain('queue-unsure.jpg');
      // The model's label is picked to begin with; the profile's labels are numbered for the keyboard.
      expect(await view.locator('.review-option.picked .label-value').textContent()).toBe('dog');
      const labels = await view.locator('.review-option .label-value').allTextContents();
      const catKey = String(labels.indexOf('cat') + 1);
      expect(Number(catKey)).toBeGreaterThan(0);
      await view.locator('.review-picture img').waitFor({ timeout: 10_000 });
      await page.keyboard.press(catKey);
      expect(await view.locator('.review-option.picked .label-value').textContent()).toBe('cat');
      expect(await page.locator('#review-save').textContent()).toBe('Save label (Enter)');
      // While reviewing, the start button is gone; the view is what the screenshot shows.
      expect(await page.getByRole('button', { name: 'Start reviewing' }).isVisible()).toBe(false);
      await page.locator('#review-panel').screenshot({ path: path.join(OUTPUT, 'web-review.png') });
      await page.keyboard.press('Enter');

      // Saved beside the model's answer; the next one (less unsure) comes up.
      await expect.poll(() => view.locator('.review-name').textContent(), { timeout: 15_000 }).toContain('queue-less-unsure.jpg');
      const first = await apiGet<Doc>(`api/images/${unsure.id}`);
      expect(first.result).toMatchObject({ kind: 'single-label', label: 'dog' });
      expect(first.review?.labels).toEqual(['cat']);

      // S passes it over: the classified one follows, and A accepts the model's answer.
      await page.keyboard.press('s');
      await expect.poll(() => view.locator('.review-name').textContent(), { timeout: 15_000 }).toContain('queue-sure.jpg');
      await page.keyboard.press('a');
      await expect.poll(() => page.locator('#review-status').textContent(), { timeout: 15_000 }).toContain('Saved');
      expect((await apiGet<Doc>(`api/images/${sure.id}`)).review?.labels).toEqual(['dog']);
      expect((await apiGet<Doc>(`api/images/${lessUnsure.id}`)).review ?? null).toBeNull();
      // With the skipped one passed over for this session, nothing is left.
      await view.locator('.review-empty').waitFor({ timeout: 15_000 });
      await page.keyboard.press('Escape');
      await expect.poll(() => page.getByRole('button', { name: 'Start reviewing' }).isVisible()).toBe(true);
      expect(await page.locator('#review-status').textContent()).toContain('Reviewed 2 this session');
    } finally {
      await page.close();
    }
  });
});
