/**
 * `npm run bench`: a burst of uploads drained against the fake deployment's quota (30K and 450K TPM) by 1, 4 and 40
 * simulated instances, with time compressed so each configuration runs in about BURST_SECONDS (default 45) here.
 * Writes tests/output/bench/burst.json, burst.md and burst.svg. Figures for people; nothing here asserts a time.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import sharp from 'sharp';
import { afterAll, describe, it } from 'vitest';

import type { PreprocessedImage } from '../../shared/preprocess/preprocessedImage';
import { loadProfiles } from '../../shared/profiles';
import type { LabelProfile } from '../../shared/profiles/profileSchema';
import { startFakeOpenAI } from '../support/fakeOpenAI';
import type { BurstResult } from '../support/fakeOpenAI/quotaBurst';
import { runBurst } from '../support/fakeOpenAI/quotaBurst';
import { burstMarkdown, burstSvg } from '../support/fakeOpenAI/quotaBurstReport';

const OUT = join(__dirname, '..', 'output', 'bench');
const UPLOADS = Number(process.env['BURST_N'] ?? 10_000);
const SECONDS = Number(process.env['BURST_SECONDS'] ?? 45);
const QUOTAS = (process.env['BURST_TPM'] ?? '30000,450000').split(',').map(Number);
const INSTANCES = (process.env['BURST_INSTANCES'] ?? '1,4,40').split(',').map(Number);
/** Per-instance concurrency and the app's instance cap, as infra/app/api.bicep sets them. */
const CONCURRENCY = 32;
const MAX_INSTANCES = 40;
const TOKENS_PER_UPLOAD = 331;
const MAX_COMPRESSION = Number(process.env['BURST_MAX_COMPRESSION'] ?? 40);
const results: BurstResult[] = [];

afterAll(() => {
  if (results.length === 0) return;
  mkdirSync(OUT, { recursive: true });
  writeFileSync(join(OUT, 'burst.json'), JSON.stringify({ uploads: UPLOADS, concurrency: CONCURRENCY, maxInstances: MAX_INSTANCES, results }, null, 2));
  writeFileSync(join(OUT, 'burst.md'), burstMarkdown(results));
  writeFileSync(join(OUT, 'burst.svg'), burstSvg(results));
  console.log(`\n${burstMarkdown(results)}\nwritten to tests/output/bench/burst.{json,md,svg}`);
});

async function tinyImage(): Promise<PreprocessedImage> {
  const jpeg = await sharp({ create: { width: 64, height: 64, channels: 3, background: '#3a7' } }).jpeg().toBuffer();
  return { jpeg, detail: 'low', width: 64, height: 64, estimatedImageTokens: 85, original: { width: 64, height: 64, format: 'jpeg', sha256: '', bytes: jpeg.length } };
}

describe('burst at the quota', () => {
  for (const tpm of QUOTAS) {
    for (const instances of INSTANCES) {
      it(`${UPLOADS} uploads, ${tpm} TPM, ${instances} instance(s)`, { timeout: 3_600_000 }, async () => {
        const profile = loadProfiles().get('flowers') as LabelProfile;
        const image = await tinyImage();
        // Compress so the ideal lasts about SECONDS (the flowers request counts ~331 tokens: prompt + 85 image + max_tokens).
        const idealMinutes = (UPLOADS * TOKENS_PER_UPLOAD) / tpm;
        // At most 40×: a quota second must stay tens of real milliseconds, well above timer and event-loop jitter.
        const timeCompression = Math.min(MAX_COMPRESSION, (idealMinutes * 60) / SECONDS);
        const fake = await startFakeOpenAI({ quota: { tpm, timeCompression } });
        try {
          let shown = 0;
          const r = await runBurst({
            fake,
            profile,
            image,
            uploads: UPLOADS,
            instances,
            concurrency: CONCURRENCY,
            maxInstances: MAX_INSTANCES,
            maxWaitMs: 3_000,
            pollMs: 2_000,
            giveUpAfterMs: ((idealMinutes * 60_000) / timeCompression) * 4,
            onProgress: (n) => {
              if (n >= shown + UPLOADS / 10) {
                shown = n;
                process.stdout.write(`  ${tpm} TPM × ${instances}: ${n}/${UPLOADS}\r`);
              }
            },
          });
          results.push(r);
          console.log(`${tpm} TPM, ${instances} instance(s): drain ${r.drainOverIdeal}× ideal, 429 ${(r.share429 * 100).toFixed(2)} %, utilisation ${(r.utilisation * 100).toFixed(1)} %, parks/upload ${r.parksPerUpload}, undrained ${r.undrained}, loop p99 ${r.loopDelayP99Ms} ms`);
        } finally {
          await fake.close();
        }
      });
    }
  }
});
