/** Headless Debian Chromium for browser tests: the system binary (never a downloaded one) with a fresh profile. */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

import type { BrowserContext } from 'playwright-core';
import { chromium } from 'playwright-core';

export const CHROMIUM_PATH = '/usr/bin/chromium';

/** Why browser tests cannot run here, or undefined when they can. */
export function chromiumMissing(): string | undefined {
  return existsSync(CHROMIUM_PATH) ? undefined : `${CHROMIUM_PATH} is missing: install Debian's chromium package (apt-get install chromium) to run the browser tests`;
}

export interface Chromium {
  context: BrowserContext;
  close(): Promise<void>;
}

/** Quiet flags: no background traffic, no QUIC, no first-run UI, so the page's own requests are all there is. */
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

export async function launchChromium(options: { viewport?: { width: number; height: number } } = {}): Promise<Chromium> {
  const profile = await mkdtemp(path.join(tmpdir(), 'blobsight-chromium-'));
  try {
    const context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM_PATH,
      headless: true,
      args: ARGS,
      viewport: options.viewport ?? { width: 1280, height: 900 },
      timeout: 30_000,
    });
    return {
      context,
      close: async () => {
        await context.close().catch(() => undefined);
        await rm(profile, { recursive: true, force: true });
      },
    };
  } catch (e) {
    await rm(profile, { recursive: true, force: true });
    throw e;
  }
}
