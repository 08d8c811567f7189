/**
 * `npm run bench`: a burst of BURST_N (10,000) uploads drained against the fake deployment's quota (30K and 450K
 * TPM) by 1, 4 and 40 simulated instances sharing the slot ledger (BURST_COORDINATION=local: each paces alone).
 * BURST_CLOCK=virtual (default): quota time runs on a simulated clock that moves only while every instance waits,
 * i.e. compressed as far as this machine's CPU allows, and immune to its load; BURST_CLOCK=real: real time compressed
 * so each configuration lasts about BURST_SECONDS (at most BURST_MAX_COMPRESSION×), where a loaded machine's
 * event-loop stalls become whole quota seconds. Writes tests/output/bench/burst.json, burst.md and burst.svg.
 * Figures for people; nothing here asserts a time.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
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
import { VirtualClock } from '../support/fakeOpenAI/quotaVirtualClock';

const OUT = join(__dirname, '..', 'output', 'bench');
const UPLOADS = Number(process.env['BURST_N'] ?? 10_000);
const SECONDS = Number(process.env['BURST_SECONDS'] ?? 45);
const QUOTAS = (process.env['BURST_TPM'] ?? '30000,450000').split(',').map(Number);
const INSTANCES = (process.env['BURST_INSTANCES'] ?? '1,4,40').split(',').map(Number);
/** Per-instance concurrency and the app's instance cap, as infra/app/api.bicep sets them. */
const CONCURRENCY = 32;
const MAX_INSTANCES = 40;
/** What the fake counts for one flowers request today (prompt + 85 image + max_tokens), for sizing the run. */
const TOKENS_PER_UPLOAD = 274;
const MAX_COMPRESSION = Number(process.env['BURST_MAX_COMPRESSION'] ?? 40);
const CLOCK = process.env['BURST_CLOCK'] === 'real' ? 'real' : 'virtual';
const COORDINATION = process.env['BURST_COORDINATION'] === 'local' ? 'local' : 'ledger';
const loadAverages: number[][] = [];
const results: BurstResult[] = [];

/** File stem under tests/output/bench/ (BURST_OUT), so runs of a few configurations each can go side by side. */
const STEM = process.env['BURST_OUT'] ?? 'burst';

/** Written after every configuration, so a long run interrupted still leaves what it measured. */
function write(): void {
  if (results.length === 0) return;
  mkdirSync(OUT, { recursive: true });
  writeFileSync(join(OUT, `${STEM}.json`), JSON.stringify({ uploads: UPLOADS, concurrency: CONCURRENCY, maxInstances: MAX_INSTANCES, clock: CLOCK, coordination: COORDINATION, loadAverage: loadAverages, results }, null, 2));
  writeFileSync(join(OUT, `${STEM}.md`), burstMarkdown(results));
  writeFileSync(join(OUT, `${STEM}.svg`), burstSvg(results));
}

afterAll(() => {
  if (results.length === 0) return;
  write();
  console.log(`\n${burstMarkdown(results)}\nload average (1, 5, 15 min) after each run: ${loadAverages.map((l) => l.join('/')).join(', ')}\nwritten to tests/output/bench/${STEM}.{json,md,svg}`);
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
        // Real clock: compress so the ideal lasts about SECONDS, at most MAX_COMPRESSION× (a quota second must stay
        // tens of real milliseconds, well above timer and event-loop jitter). Simulated clock: no compression.
        const idealMinutes = (UPLOADS * TOKENS_PER_UPLOAD) / tpm;
        const clock = CLOCK === 'virtual' ? new VirtualClock() : undefined;
        const timeCompression = clock === undefined ? Math.min(MAX_COMPRESSION, (idealMinutes * 60) / SECONDS) : 1;
        const fake = await startFakeOpenAI({ quota: { tpm, timeCompression, ...(clock === undefined ? {} : { now: clock.now, sleep: (ms: number) => clock.idle(ms) }) } });
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
            coordination: COORDINATION,
            ...(clock === undefined ? {} : { clock }),
            giveUpAfterMs: ((idealMinutes * 60_000) / timeCompression) * 4,
            onProgress: (n) => {
              if (n >= shown + UPLOADS / 10) {
                shown = n;
                process.stdout.write(`  ${tpm} TPM × ${instances}: ${n}/${UPLOADS}\r`);
              }
            },
          });
          results.push(r);
          loadAverages.push(loadavg().map((l) => Math.round(l * 10) / 10));
          write();
          console.log(`${tpm} TPM, ${instances} instance(s): drain ${r.drainOverIdeal}× ideal, 429 ${(r.share429 * 100).toFixed(2)} %, utilisation ${(r.utilisation * 100).toFixed(1)} %, parks/upload ${r.parksPerUpload}, undrained ${r.undrained}, loop p99 ${r.loopDelayP99Ms} ms, ledger writes ${r.ledgerWrites} (conflicts ${r.ledgerConflicts}, unavailable ${r.ledgerUnavailable}), forfeited ${r.forfeitedSlots}, ${r.realSeconds} s real, ${r.cpuSeconds} s CPU, ${r.fetchRealMs} ms in model round trips`);
        } finally {
          await fake.close();
        }
      });
    }
  }
});
