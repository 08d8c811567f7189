/**
 * The page with sign-in, in headless Chromium against the local stack as `npm start` runs it: a browser that is not
 * signed in is sent to the dev sign-in (App Service authentication's stand-in), comes back, and works without a key;
 * a reviewer's correction carries their object id; a reader sees but cannot correct or upload.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { objectIdFor } from '../../scripts/dev/DevSignIn';
import type { LocalStack } from '../../scripts/dev/localStack';
import { startLocalStack } from '../../scripts/dev/localStack';
import type { FakeOpenAI } from '../support/fakeOpenAI';
import { answerFromSchema, startFakeOpenAI } from '../support/fakeOpenAI';
import { jpeg } from '../support/imageFixtures';
import type { Chromium } from './support/launchChromium';
import { chromiumMissing, launchChromium } from './support/launchChromium';

const missing = chromiumMissing();
if (missing !== undefined) console.warn(`tests/e2e/webSignIn.test.ts skipped: ${missing}`);

describe.skipIf(missing !== undefined)('web page with sign-in (headless Chromium, local stack with the dev sign-in)', () => {
  let fake: FakeOpenAI;
  let dataDir: string;
  let files: string;
  let stack: LocalStack;
  let browser: Chromium;

  beforeAll(async () => {
    fake = await startFakeOpenAI();
    fake.setAnswer(({ schema }) => ({ answer: answerFromSchema(schema, { label: 'dog' }) }));
    dataDir = await mkdtemp(path.join(tmpdir(), 'blobsight-e2e-signin-'));
    files = await mkdtemp(path.join(tmpdir(), 'blobsight-e2e-signin-files-'));
    stack = await startLocalStack({
      dataDir,
      ports: { blob: 0, cosmos: 0, host: 0 },
      readLocalSettings: false,
      signIn: true,
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

  async function signInAs(page: Page, name: string, roles: string[]): Promise<void> {
    await page.goto(stack.urls.page);
    // Sent to sign in first: the page itself is not shown to a browser that is not signed in.
    await page.waitForURL(/\/\.auth\/login\/dev\?post_login_redirect_uri=/);
    await page.getByLabel('Name').fill(name);
    for (const role of ['Reader', 'Reviewer']) await page.getByLabel(role).setChecked(roles.includes(role));
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${stack.urls.api}/`);
    await page.locator('#session-info:not([hidden])').waitFor({ timeout: 15_000 });
  }

  async function newPage(): Promise<Page> {
    const page = await browser.context.newPage();
    page.on('pageerror', (e) => {
      throw new Error(`page error: ${e.message}`);
    });
    return page;
  }

  it('signs a reviewer in, uploads and corrects without a function key, and stores who corrected', async () => {
    const page = await newPage();
    try {
      await signInAs(page, 'Ana Reviewer', ['Reviewer']);
      expect(await page.locator('#session-info').textContent()).toContain('Signed in as Ana Reviewer (Reviewer)');
      expect(await page.locator('#key-panel').isHidden()).toBe(true);
      // A signed-in reader gets the health details the anonymous status leaves out.
      await expect.poll(() => page.locator('#health-info').textContent(), { timeout: 15_000 }).toContain('storage ok · cosmos ok');
      await page.locator('#results .results-table, #results .empty-state').first().waitFor({ timeout: 15_000 });
      await page.locator('#profile-select').selectOption('pets');

      const name = `signin-${randomBytes(4).toString('hex')}.jpg`;
      const file = path.join(files, name);
      await writeFile(file, await jpeg(120, 80, { colour: `#${randomBytes(3).toString('hex')}` }));
      await page.setInputFiles('#file-input', file);
      const item = page.locator('.upload-item', { has: page.locator('.file-name', { hasText: name }) });
      await expect.poll(() => item.getAttribute('data-state'), { timeout: 30_000 }).toBe('classified');

      const row = page.locator('#results tbody tr', { has: page.locator('.row-open', { hasText: name }) });
      await row.waitFor({ timeout: 15_000 });
      const id = await row.getAttribute('data-id');
      await row.locator('.row-open').click();
      const dialog = page.locator('#detail-dialog');
      await dialog.locator('.detail-grid').waitFor();
      // No name to type: the review is saved as the signed-in user.
      expect(await dialog.locator('.review-as').textContent()).toBe('Saved as Ana Reviewer.');
      await dialog.getByLabel('Correct label').selectOption('cat');
      await dialog.getByRole('button', { name: 'Save correction' }).click();
      await dialog.locator('.message.success').first().waitFor({ timeout: 10_000 });
      expect(await dialog.locator('.review-meta').textContent()).toMatch(/^by Ana Reviewer · /);
      await page.keyboard.press('Escape');

      const res = await fetch(`${stack.urls.api}/api/images/${id ?? ''}`, { headers: { 'x-functions-key': stack.functionKey } });
      const doc = (await res.json()) as { review?: { reviewer: string; reviewedBy: unknown; labels: string[] } };
      expect(doc.review).toMatchObject({ reviewer: 'Ana Reviewer', reviewedBy: { kind: 'user', objectId: objectIdFor('Ana Reviewer'), name: 'Ana Reviewer' }, labels: ['cat'] });

      // Signing out ends the session: the page sends the browser to sign in again.
      await page.getByRole('link', { name: 'Sign out' }).click();
      await page.waitForURL(/\/\.auth\/login\/dev/);
    } finally {
      await page.close();
    }
  });

  it('shows a reader the results and previews but no upload and no correction form', async () => {
    const page = await newPage();
    try {
      await signInAs(page, 'Rita Reader', ['Reader']);
      expect(await page.locator('#session-info').textContent()).toContain('Signed in as Rita Reader (Reader)');
      expect(await page.locator('#upload-panel').isHidden()).toBe(true);
      const row = page.locator('#results tbody tr').first();
      await row.waitFor({ timeout: 15_000 });
      await row.locator('.thumb img').waitFor({ timeout: 10_000 });
      await row.locator('.row-open').click();
      const dialog = page.locator('#detail-dialog');
      await dialog.locator('.detail-grid').waitFor();
      expect(await dialog.locator('.review-section').textContent()).toContain('corrections need the Reviewer role');
      expect(await dialog.getByRole('button', { name: 'Save correction' }).count()).toBe(0);
      await page.keyboard.press('Escape');
      await page.getByRole('link', { name: 'Sign out' }).click();
      await page.waitForURL(/\/\.auth\/login\/dev/);
    } finally {
      await page.close();
    }
  });

  it('tells a signed-in user without a role what to ask for', async () => {
    const page = await newPage();
    try {
      await signInAs(page, 'Nora Nobody', []);
      expect(await page.locator('#session-info').textContent()).toContain('Signed in as Nora Nobody (no role)');
      expect(await page.locator('#session-message').textContent()).toContain('Ask an owner to assign Reader or Reviewer');
      // The results list shows the API's 403 reason instead of data.
      await expect.poll(async () => (await page.locator('#results-error:not([hidden])').textContent({ timeout: 1_000 }).catch(() => '')) ?? '', { timeout: 15_000 }).toContain('with no app role; this needs Reader or Reviewer');
      expect(await page.locator('#upload-panel').isHidden()).toBe(true);
    } finally {
      await page.close();
    }
  });
});
