/** The web page in headless Chromium against the whole local stack: upload, watch, browse, open, correct, reload. */
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

import type { FileChooser, Locator, Page } from 'playwright-core';
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
if (missing !== undefined) console.warn(`tests/e2e/webPage.test.ts skipped: ${missing}`);

interface Doc {
  id: string;
  status: string;
  blob: { name: string };
  result: { kind: string; label?: string } | null;
  review?: { labels: string[]; note: string | null; result: { kind: string; label?: string } } | null;
}

describe.skipIf(missing !== undefined)('web page (headless Chromium, local stack)', () => {
  let fake: FakeOpenAI;
  let dataDir: string;
  let files: string;
  let stack: LocalStack;
  let browser: Chromium;
  let imageCount = 0;

  beforeAll(async () => {
    fake = await startFakeOpenAI();
    fake.setAnswer(({ schema }) => ({ answer: answerFromSchema(schema, { label: 'dog' }) }));
    dataDir = await mkdtemp(path.join(tmpdir(), 'blobsight-e2e-web-'));
    files = await mkdtemp(path.join(tmpdir(), 'blobsight-e2e-files-'));
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
    if (files !== undefined) await rm(files, { recursive: true, force: true });
  });

  /** A JPEG with bytes no other upload has (the result cache would otherwise answer without the model). */
  async function jpegFile(name: string): Promise<string> {
    imageCount++;
    const file = path.join(files, name);
    await writeFile(file, await jpeg(96 + imageCount * 8, 64 + imageCount * 4, { colour: `#${randomBytes(3).toString('hex')}` }));
    return file;
  }

  function uniqueName(prefix: string, ext = 'jpg'): string {
    return `${prefix}-${randomBytes(4).toString('hex')}.${ext}`;
  }

  async function apiGet<T>(pathAndQuery: string): Promise<T> {
    const res = await fetch(`${stack.urls.api}/${pathAndQuery}`, { headers: { 'x-functions-key': stack.functionKey } });
    expect(res.status, `GET ${pathAndQuery}`).toBe(200);
    return (await res.json()) as T;
  }

  /** A new tab on the page, ready once the profiles and the first page of results have loaded. */
  async function openPage(url = stack.urls.page, viewport?: { width: number; height: number }): Promise<Page> {
    const page = await browser.context.newPage();
    if (viewport !== undefined) await page.setViewportSize(viewport);
    page.on('pageerror', (e) => {
      throw new Error(`page error: ${e.message}`);
    });
    await page.goto(url);
    return page;
  }

  async function resultsLoaded(page: Page): Promise<void> {
    await page.locator('#results .results-table, #results .empty-state').first().waitFor({ timeout: 15_000 });
    await page.locator('#results:not([aria-busy])').waitFor();
  }

  function uploadItem(page: Page, name: string): Locator {
    return page.locator('.upload-item', { has: page.locator('.file-name', { hasText: name }) });
  }

  function resultRow(page: Page, name: string): Locator {
    return page.locator('#results tbody tr', { has: page.locator('.row-open', { hasText: name }) });
  }

  it('uploads to the chosen profile, shows the label, and keeps a correction beside the model answer across a reload', async () => {
    const page = await openPage();
    try {
      // The key moves from the address bar into the tab's session storage.
      await expect.poll(() => page.url()).not.toContain('code=');
      await resultsLoaded(page);
      // With the key, the footer shows the health details (api/health/details); anonymous callers get the status only.
      await expect.poll(() => page.locator('#health-info').textContent(), { timeout: 15_000 }).toContain('storage ok · cosmos ok');
      await page.locator('#profile-select').selectOption('pets');

      const name = uniqueName('e2e-pet');
      await page.setInputFiles('#file-input', await jpegFile(name));
      const item = uploadItem(page, name);
      await expect.poll(() => item.getAttribute('data-state'), { timeout: 30_000 }).toBe('classified');
      expect(await item.locator('.upload-message').textContent()).toContain('dog');

      // The results list refreshes by itself once the upload is classified.
      const row = resultRow(page, name);
      await row.waitFor({ timeout: 15_000 });
      expect(await row.locator('.cell-status').textContent()).toBe('classified');
      expect(await row.locator('.cell-result').textContent()).toBe('dog');
      expect(await row.locator('.cell-profile').textContent()).toBe('pets');
      await row.locator('.thumb img').waitFor({ timeout: 10_000 });
      const id = await row.getAttribute('data-id');
      expect(id).toMatch(/^[0-9a-f]{32}$/);

      await row.locator('.row-open').click();
      const dialog = page.locator('#detail-dialog');
      await dialog.locator('.detail-grid').waitFor();
      expect(await dialog.locator('.model-answer .label-value').textContent()).toBe('dog');
      await dialog.getByLabel('Correct label').selectOption('cat');
      await dialog.getByLabel('Note (optional)').fill('Pointy ears: a cat.');
      await dialog.getByRole('button', { name: 'Save correction' }).click();
      const saved = dialog.locator('.message.success');
      await saved.first().waitFor({ timeout: 10_000 });
      expect(await saved.first().textContent()).toContain('Correction saved');
      // Both answers side by side: the model's, untouched, and the person's.
      expect(await dialog.locator('.model-answer .label-value').textContent()).toBe('dog');
      expect(await dialog.locator('.review-answer .label-value').textContent()).toBe('cat');
      // The outcome is on screen, not below the fold of the rebuilt dialog.
      expect(await inViewport(saved.first())).toBe(true);
      await page.screenshot({ path: path.join(OUTPUT, 'web-detail-saved.png') });
      // The table behind the dialog shows the correction without a reload.
      expect(await row.locator('.cell-result').textContent()).toContain('cat');

      await page.keyboard.press('Escape');
      await page.reload();
      await resultsLoaded(page);
      const again = resultRow(page, name);
      await again.waitFor();
      const cell = (await again.locator('.cell-result').textContent()) ?? '';
      expect(cell).toContain('cat');
      expect(cell).toContain('reviewed');
      expect(cell).toContain('model: dog');
      await again.locator('.row-open').click();
      await dialog.locator('.review-answer').waitFor();
      expect(await dialog.locator('.review-answer .label-value').textContent()).toBe('cat');
      expect(await dialog.locator('.review-note').textContent()).toBe('Pointy ears: a cat.');
      expect(await dialog.locator('.model-answer .label-value').textContent()).toBe('dog');
      await dialog.locator('.preview-frame:not(.loading) img').waitFor({ timeout: 10_000 });
      await page.screenshot({ path: path.join(OUTPUT, 'web-detail.png') });
      await page.keyboard.press('Escape');

      const doc = await apiGet<Doc>(`api/images/${id}`);
      expect(doc.review?.labels).toEqual(['cat']);
      expect(doc.review?.note).toBe('Pointy ears: a cat.');
      expect(doc.result).toMatchObject({ kind: 'single-label', label: 'dog' });
      await page.screenshot({ path: path.join(OUTPUT, 'web-list.png'), fullPage: true });
    } finally {
      await page.close();
    }
  });

  it('shows a driving-objects answer: the scene attributes beside the boxes', async () => {
    fake.setAnswer(({ schema }) => ({
      answer: answerFromSchema(schema, { label: 'dog', weather: 'rainy', timeofday: 'night', objects: [{ category: 'bus', box: { x1: 100, y1: 100, x2: 600, y2: 900 }, score: 0.8 }] }),
    }));
    const page = await openPage();
    try {
      await resultsLoaded(page);
      await page.locator('#profile-select').selectOption('driving-objects');
      const name = uniqueName('e2e-drive');
      await page.setInputFiles('#file-input', await jpegFile(name));
      await expect.poll(() => uploadItem(page, name).getAttribute('data-state'), { timeout: 30_000 }).toBe('classified');
      const row = resultRow(page, name);
      await row.waitFor({ timeout: 15_000 });
      await row.locator('.row-open').click();
      const dialog = page.locator('#detail-dialog');
      await dialog.locator('.detail-grid').waitFor();
      const answer = dialog.locator('.model-answer');
      expect(await answer.locator('.decision-attributes dt').allTextContents()).toEqual(['weather', 'timeofday', 'scene']);
      expect(await answer.locator('.decision-attributes .label-value').allTextContents()).toEqual(['rainy', 'night', 'city street']);
      expect(await answer.locator('.objects-list .label-value').allTextContents()).toEqual(['bus']);
      await page.screenshot({ path: path.join(OUTPUT, 'web-detail-driving-objects.png') });
      await page.keyboard.press('Escape');
    } finally {
      fake.setAnswer(({ schema }) => ({ answer: answerFromSchema(schema, { label: 'dog' }) }));
      await page.close();
    }
  });

  it('shows the API reason for a text file named .jpg at once, and lists nothing for it', async () => {
    const page = await openPage();
    try {
      await resultsLoaded(page);
      const name = uniqueName('notes');
      const file = path.join(files, name);
      await writeFile(file, 'These are my shopping notes, not a picture.\n');
      const answered = page.waitForResponse((r) => r.url().includes('/api/uploads'));
      await page.setInputFiles('#file-input', file);
      expect((await answered).status()).toBe(415);
      const item = uploadItem(page, name);
      await expect.poll(() => item.getAttribute('data-state'), { timeout: 5_000 }).toBe('refused');
      expect(await item.locator('.upload-message').textContent()).toMatch(/not an accepted image|not a supported image/);
      expect(await item.locator('button').count()).toBe(0);

      await page.locator('#refresh-button').click();
      await resultsLoaded(page);
      expect(await resultRow(page, name).count()).toBe(0);
      const listed = await apiGet<{ items: Doc[] }>('api/images?limit=100');
      expect(listed.items.filter((d) => d.blob.name.endsWith(name))).toEqual([]);
      const blobs: string[] = [];
      for await (const b of stack.services.images.listBlobsFlat()) blobs.push(b.name);
      expect(blobs.filter((b) => b.endsWith(name))).toEqual([]);
    } finally {
      await page.close();
    }
  });

  it('uploads several files a few at a time, one request each, each with its own status', async () => {
    const page = await openPage();
    let inFlight = 0;
    let maxInFlight = 0;
    let requests = 0;
    const isUpload = (r: { url(): string; method(): string }): boolean => r.method() === 'POST' && r.url().includes('/api/uploads');
    page.on('request', (r) => {
      if (!isUpload(r)) return;
      requests++;
      maxInFlight = Math.max(maxInFlight, ++inFlight);
    });
    const done = (r: { url(): string; method(): string }): void => {
      if (isUpload(r)) inFlight--;
    };
    page.on('requestfinished', done);
    page.on('requestfailed', done);
    try {
      await resultsLoaded(page);
      await page.locator('#profile-select').selectOption('pets');
      const names = Array.from({ length: 5 }, (_, i) => uniqueName(`e2e-batch${i}`));
      const paths: string[] = [];
      for (const name of names) paths.push(await jpegFile(name));
      await page.setInputFiles('#file-input', paths);
      for (const name of names) {
        await expect.poll(() => uploadItem(page, name).getAttribute('data-state'), { timeout: 30_000 }).toBe('classified');
      }
      expect(requests).toBe(5);
      // data-upload-concurrency is 3: never more at once, and more than one (they do not go one by one).
      expect(maxInFlight).toBeLessThanOrEqual(3);
      expect(maxInFlight).toBeGreaterThan(1);
    } finally {
      await page.close();
    }
  });

  it('works with the keyboard alone: key prompt, upload control, a result row, Enter opens, Escape closes', async () => {
    // No ?code= this time: the page asks for the key when the API answers 401.
    const page = await openPage(stack.urls.app);
    // Listening from the start: Playwright intercepts file choosers only once its listener is in place, and Enter
    // opens the chooser on key down, sooner than a listener added just before the key press would be ready.
    const choosers: FileChooser[] = [];
    page.on('filechooser', (c) => choosers.push(c));
    try {
      await page.locator('#key-panel:not([hidden])').waitFor({ timeout: 10_000 });
      expect(await activeId(page)).toBe('key-input');
      await page.keyboard.type(stack.functionKey);
      await page.keyboard.press('Enter');
      await resultsLoaded(page);
      expect(await page.locator('#key-panel').isHidden()).toBe(true);

      await tabUntil(page, (a) => a.id === 'file-input');
      // Focus is visible on the control people see (the styled label of the hidden-looking input).
      expect(await cssOf(page.locator('label[for="file-input"]'), 'outlineStyle')).toBe('solid');
      const name = uniqueName('e2e-keyboard');
      await page.keyboard.press('Enter');
      await expect.poll(() => choosers.length).toBe(1);
      await choosers[0]?.setFiles(await jpegFile(name));
      await expect.poll(() => uploadItem(page, name).getAttribute('data-state'), { timeout: 30_000 }).toBe('classified');
      await resultRow(page, name).waitFor({ timeout: 15_000 });

      await tabUntil(page, (a) => a.className === 'row-open' && a.text === name);
      expect(await cssOf(page.locator('.row-open:focus'), 'outlineStyle')).toBe('solid');
      await page.keyboard.press('Enter');
      const dialog = page.locator('#detail-dialog');
      await dialog.locator('.detail-grid').waitFor();
      expect(await page.evaluate<boolean>("document.getElementById('detail-dialog').open")).toBe(true);
      // Tab cycles within the dialog and never reaches the page behind it.
      for (let i = 0; i < 8; i++) {
        await page.keyboard.press('Tab');
        expect(await page.evaluate<boolean>("document.activeElement?.closest('#detail-dialog') != null")).toBe(true);
      }
      await page.keyboard.press('Escape');
      await expect.poll(() => page.evaluate<boolean>("document.getElementById('detail-dialog').open")).toBe(false);
      // Focus returns to the row that opened the dialog.
      expect(await active(page)).toMatchObject({ className: 'row-open', text: name });
    } finally {
      await page.close();
    }
  });

  it('never waits for ever: a slow classification says "still processing" after the page\'s timeout', async () => {
    fake.enqueue({ kind: 'slow', delayMs: 6_000 });
    const page = await openPage(`${stack.urls.page}&pollTimeoutMs=1500`);
    try {
      await resultsLoaded(page);
      const name = uniqueName('e2e-slow');
      await page.setInputFiles('#file-input', await jpegFile(name));
      const item = uploadItem(page, name);
      await expect.poll(() => item.getAttribute('data-state'), { timeout: 10_000 }).toBe('timeout');
      const text = (await item.textContent()) ?? '';
      expect(text).toContain('still processing');
      expect(text).toContain('check the results list later');
    } finally {
      await page.close();
    }
  });

  it('fits a 375 px phone: no horizontal scroll, 16 px inputs, detail readable', async () => {
    const page = await openPage(stack.urls.page, { width: 375, height: 812 });
    try {
      await resultsLoaded(page);
      await page.locator('#results tbody tr .thumb img').first().waitFor({ timeout: 10_000 });
      expect(await page.evaluate<number>('document.documentElement.scrollWidth')).toBeLessThanOrEqual(375);
      for (const selector of ['#profile-select', '#filter-label', '#filter-min']) {
        expect(parseFloat(await cssOf(page.locator(selector), 'fontSize')), selector).toBeGreaterThanOrEqual(16);
      }
      await page.screenshot({ path: path.join(OUTPUT, 'web-mobile.png'), fullPage: true });
      // A row with a preview (the slow upload above may still be processing, with nothing to show yet).
      await page.locator('#results tbody tr', { has: page.locator('.thumb img') }).first().locator('.row-open').click();
      const dialog = page.locator('#detail-dialog');
      await dialog.locator('.preview-frame:not(.loading) img').waitFor({ timeout: 10_000 });
      const widths = await dialog.evaluate((d) => ({ scroll: d.scrollWidth, client: d.clientWidth }));
      expect(widths.scroll).toBeLessThanOrEqual(widths.client);
      await page.screenshot({ path: path.join(OUTPUT, 'web-mobile-detail.png') });
    } finally {
      await page.close();
    }
  });
});

interface Active {
  id: string;
  className: string;
  text: string;
}

function active(page: Page): Promise<Active> {
  return page.evaluate<Active>(`(() => {
    const el = document.activeElement;
    return { id: el?.id ?? '', className: typeof el?.className === 'string' ? el.className : '', text: el?.textContent ?? '' };
  })()`);
}

/** Whether the element's box is wholly inside the window. */
function inViewport(locator: Locator): Promise<boolean> {
  return locator.evaluate((el) => {
    const r = (el as unknown as { getBoundingClientRect(): { top: number; bottom: number } }).getBoundingClientRect();
    return r.top >= 0 && r.bottom <= (globalThis as unknown as { innerHeight: number }).innerHeight;
  });
}

/** A computed style property of the element, as the browser resolved it. */
function cssOf(locator: Locator, property: string): Promise<string> {
  return locator.evaluate(
    (el, prop) => (globalThis as unknown as { getComputedStyle(e: unknown): Record<string, string> }).getComputedStyle(el)[prop] ?? '',
    property,
  );
}

async function activeId(page: Page): Promise<string> {
  return (await active(page)).id;
}

/** Presses Tab until the focused element matches; fails after a bounded number of presses. */
async function tabUntil(page: Page, matches: (a: Active) => boolean, maxPresses = 80): Promise<void> {
  const seen: string[] = [];
  for (let i = 0; i < maxPresses; i++) {
    await page.keyboard.press('Tab');
    const a = await active(page);
    if (matches(a)) return;
    seen.push(a.id || a.className || a.text);
  }
  throw new Error(`Tab never reached the element; focus went through: ${seen.join(' | ')}`);
}
