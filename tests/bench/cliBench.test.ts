/**
 * `npx vitest run --project bench tests/bench/cliBench.test.ts`: the `blobsight label` CLI on ../shared/data
 * (flowers, pets, bdd100k) against the fake model and with the embedded detector, at concurrency 1, 4 and 16;
 * the dry-run estimate against the tokens the fake reported; a kill -9 and resume. Written to
 * tests/output/cli-bench.json. The fake answers in milliseconds, so these figures are the CLI's and pipeline's
 * own overhead (reading, hashing, preprocessing, HTTP, fsync per line), not a model's speed; nothing is asserted
 * about time.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { RunSummary } from '../../shared/runs';
import { readJsonLines } from '../../shared/runs';
import { buildCli, removeCliBuild, runCliProcess, spawnCli } from '../support/cliProcess';
import type { FakeOpenAI, RecordedRequest } from '../support/fakeOpenAI';
import { startFakeOpenAI } from '../support/fakeOpenAI';

const DATA = path.join(__dirname, '..', '..', '..', 'shared', 'data');
const OUT = path.join(__dirname, '..', 'output');
const DATASETS = [
  { name: 'flowers', dir: 'flowers', profile: 'flowers' },
  { name: 'pets', dir: 'pets', profile: 'pets' },
  { name: 'bdd100k', dir: path.join('bdd100k', 'images'), profile: 'driving-scene' },
] as const;
const CONCURRENCY = [1, 4, 16] as const;
/** The detector is CPU-bound (TensorFlow.js on wasm); a subset per dataset keeps the bench within minutes. */
const DETECTOR_IMAGES_PER_DATASET = Number(process.env['CLI_BENCH_DETECTOR_N'] ?? 10);

const report: Record<string, unknown> = { machine: { node: process.version, cpus: cpus().length }, note: 'fake model: CLI + pipeline overhead only, not model latency' };
let fake: FakeOpenAI;
const haveData = existsSync(DATA);

beforeAll(async () => {
  if (!haveData) return;
  buildCli();
  fake = await startFakeOpenAI();
}, 300_000);

afterAll(async () => {
  await fake?.close();
  removeCliBuild();
  mkdirSync(OUT, { recursive: true });
  writeFileSync(path.join(OUT, 'cli-bench.json'), JSON.stringify(report, null, 2));
  console.log(`\ncli bench report written to tests/output/cli-bench.json\n${JSON.stringify(report, null, 2)}`);
});

function modelEnv(): Record<string, string> {
  return { AZURE_OPENAI_ENDPOINT: fake.url, AZURE_OPENAI_DEPLOYMENT: fake.deployment, AZURE_OPENAI_API_KEY: fake.apiKey, OPENAI_API_VERSION: fake.apiVersion };
}

function chat(): RecordedRequest[] {
  return fake.requests.filter((r) => r.path.endsWith('/chat/completions'));
}

function imageKey(r: RecordedRequest): string {
  const parts = (r.body as { messages: { content: unknown }[] }).messages[1]?.content as { type: string; image_url?: { url: string } }[];
  return createHash('sha256').update(parts.find((p) => p.type === 'image_url')?.image_url?.url ?? '').digest('hex');
}

/** A folder of links to the first `n` files of `dir` (recursively), so a subset is an ordinary folder source. */
function subset(dir: string, n: number): string {
  const out = mkdtempSync(path.join(tmpdir(), 'cli-bench-subset-'));
  const files = (readdirSync(dir, { recursive: true }) as string[]).filter((f) => /\.jpe?g$/i.test(f)).sort().slice(0, n);
  for (const f of files) symlinkSync(path.join(dir, f), path.join(out, f.replace(/[/\\ ]/g, '_')));
  return out;
}

async function label(source: string, profile: string, concurrency: number, env: Record<string, string>, extra: string[] = []): Promise<{ summary: RunSummary; processMs: number; code: number | null }> {
  const cwd = mkdtempSync(path.join(tmpdir(), 'cli-bench-'));
  const t0 = performance.now();
  const r = await runCliProcess(['label', source, '--profile', profile, '--concurrency', String(concurrency), '--json', '--no-progress', ...extra], { cwd, env });
  const processMs = performance.now() - t0;
  if (r.code !== 0 && r.code !== 1) throw new Error(`blobsight exited ${String(r.code)}: ${r.stderr}`);
  return { summary: (JSON.parse(r.stdout) as { summary: RunSummary }).summary, processMs, code: r.code };
}

describe.skipIf(!haveData)('blobsight label on ../shared/data', () => {
  it('throughput against the fake model at concurrency 1, 4, 16', async () => {
    const rows: Record<string, unknown>[] = [];
    for (const d of DATASETS) {
      for (const c of CONCURRENCY) {
        fake.reset();
        const { summary, processMs } = await label(path.join(DATA, d.dir), d.profile, c, modelEnv());
        rows.push({ dataset: d.name, concurrency: c, images: summary.counts.images, calls: chat().length, wallS: +(summary.wallMs / 1000).toFixed(2), imagesPerS: summary.imagesPerSecond, processS: +(processMs / 1000).toFixed(2), p50Ms: summary.latencyMs.total.p50, p95Ms: summary.latencyMs.total.p95 });
      }
    }
    report['fakeModel'] = rows;
  }, 1_800_000);

  it('throughput with the embedded detector at concurrency 1, 4, 16', async () => {
    const rows: Record<string, unknown>[] = [];
    const sources = DATASETS.map((d) => ({ name: d.name, dir: subset(path.join(DATA, d.dir), DETECTOR_IMAGES_PER_DATASET) }));
    for (const s of sources) {
      for (const c of CONCURRENCY) {
        const { summary, processMs } = await label(s.dir, 'objects', c, {});
        rows.push({ dataset: s.name, concurrency: c, images: summary.counts.images, wallS: +(summary.wallMs / 1000).toFixed(2), imagesPerS: summary.imagesPerSecond, processS: +(processMs / 1000).toFixed(2), p50Ms: summary.latencyMs.total.p50, p95Ms: summary.latencyMs.total.p95 });
      }
    }
    report['localDetector'] = rows;
  }, 1_800_000);

  it('dry-run estimate vs the prompt tokens the fake counted', async () => {
    const rows: Record<string, unknown>[] = [];
    for (const d of DATASETS) {
      fake.reset();
      const cwd = mkdtempSync(path.join(tmpdir(), 'cli-bench-'));
      const dry = await runCliProcess(['label', path.join(DATA, d.dir), '--profile', d.profile, '--dry-run', '--json', '--concurrency', '4'], { cwd, env: modelEnv() });
      const est = JSON.parse(dry.stdout) as { promptTokens: number; maxTokensReserve: number; costUsd: number; wouldSend: number; lines: { estimate: { imageTokens: number; textTokens: number; schemaTokens: number } | null }[] };
      expect(chat()).toHaveLength(0);
      const { summary } = await label(path.join(DATA, d.dir), d.profile, 4, modelEnv());
      const image = est.lines.reduce((s, l) => s + (l.estimate?.imageTokens ?? 0), 0);
      rows.push({
        dataset: d.name,
        images: est.wouldSend,
        estimatedPromptTokens: est.promptTokens,
        ofWhich: { image, text: est.lines.reduce((s, l) => s + (l.estimate?.textTokens ?? 0), 0), schema: est.lines.reduce((s, l) => s + (l.estimate?.schemaTokens ?? 0), 0) },
        fakeCountedPromptTokens: summary.tokens.prompt,
        relativeDifference: +((summary.tokens.prompt - est.promptTokens) / est.promptTokens).toFixed(3),
        estimatedCostUsd: +est.costUsd.toFixed(6),
        actualCostUsd: summary.costUsd === null ? null : +summary.costUsd.toFixed(6),
        maxTokensReserve: est.maxTokensReserve,
        completionTokens: summary.tokens.completion,
      });
    }
    report['dryRunVsFake'] = rows;
  }, 1_800_000);

  it('kill -9 mid-run on bdd100k, then --run: no image paid twice except calls in flight at the kill', async () => {
    fake.reset();
    fake.setFaultPlan(() => ({ kind: 'slow', delayMs: 100 }));
    const cwd = mkdtempSync(path.join(tmpdir(), 'cli-bench-'));
    const source = path.join(DATA, 'bdd100k', 'images');
    const { child, done } = spawnCli(['label', source, '--profile', 'driving-scene', '--concurrency', '4', '--no-progress'], { cwd, env: modelEnv() });
    const runs = path.join(cwd, 'runs');
    const deadline = Date.now() + 120_000;
    let predictions = '';
    while (Date.now() < deadline) {
      if (existsSync(runs) && readdirSync(runs).length === 1) {
        predictions = path.join(runs, readdirSync(runs)[0] as string, 'predictions.jsonl');
        if (existsSync(predictions) && readFileSync(predictions, 'utf8').split('\n').filter(Boolean).length >= 20) break;
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    child.kill('SIGKILL');
    await done;
    const firstCalls = chat().length;
    const linesAtKill = readJsonLines(predictions).records.length;
    fake.setFaultPlan(undefined);
    const r = await runCliProcess(['label', source, '--profile', 'driving-scene', '--run', path.dirname(predictions), '--json', '--no-progress'], { cwd, env: modelEnv() });
    const counts = new Map<string, number>();
    for (const q of chat()) counts.set(imageKey(q), (counts.get(imageKey(q)) ?? 0) + 1);
    const paidTwice = [...counts.values()].filter((c) => c > 1).length;
    const final = readJsonLines(predictions).records;
    report['killAndResume'] = {
      images: 60,
      exitAfterResume: r.code,
      callsBeforeKill: firstCalls,
      linesAtKill,
      inFlightAtKill: firstCalls - linesAtKill,
      callsAfterResume: chat().length - firstCalls,
      distinctImagesPaid: counts.size,
      paidTwice,
      finalLines: final.length,
      distinctNamesInRun: new Set(final.map((p) => p.name)).size,
    };
    expect(paidTwice).toBe(firstCalls - linesAtKill);
  }, 600_000);
});
