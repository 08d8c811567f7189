/**
 * The `blobsight` CLI as a user runs it: a child process against the fake model, Azurite and the Cosmos server,
 * checked by exit code, stdout/stderr and the run folder it leaves.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { inject } from 'vitest';

import type { PredictionRecord, RunConfig, RunSummary } from '../../shared/runs';
import { readJsonLines } from '../../shared/runs';
import type { CacheEntry } from '../../shared/store';
import { cacheEntryId, ImageStore } from '../../shared/store';
import type { ImageDocument } from '../../shared/store/imageDocument';
import { runCliInProcess } from '../support/cliInProcess';
import { buildCli, removeCliBuild, runCliProcess, spawnCli } from '../support/cliProcess';
import { createTestContainer, createTestCosmosContainer } from '../support/emulators';
import type { FakeOpenAI, RecordedRequest } from '../support/fakeOpenAI';
import { startFakeOpenAI } from '../support/fakeOpenAI';
import { jpeg, jpegBomb, pngBomb } from '../support/imageFixtures';

/**
 * Most cases run the CLI in-process (cliInProcess.ts: the same runCli, folder and environment); a real process where
 * the process is the point: --help, one full label run, runs show, kill -9 and Ctrl-C (and cliClosedPipe.test.ts).
 * On a loaded 2-core machine one process start takes several seconds.
 */
const SPAWNS = { timeout: 300_000 };

let fake: FakeOpenAI;
let work: string;

beforeAll(async () => {
  buildCli();
  fake = await startFakeOpenAI();
}, 180_000);

afterAll(async () => {
  await fake.close();
  removeCliBuild();
});

beforeEach(() => {
  fake.reset();
  work = mkdtempSync(path.join(tmpdir(), 'blobsight-cli-'));
});

function modelEnv(): Record<string, string> {
  return { AZURE_OPENAI_ENDPOINT: fake.url, AZURE_OPENAI_DEPLOYMENT: fake.deployment, AZURE_OPENAI_API_KEY: fake.apiKey, OPENAI_API_VERSION: fake.apiVersion };
}

/** `n` distinct small JPEGs (different sizes, so different bytes) in `dir`. */
async function writeImages(dir: string, n: number, prefix = 'img'): Promise<Buffer[]> {
  mkdirSync(dir, { recursive: true });
  const out: Buffer[] = [];
  for (let i = 0; i < n; i++) {
    const bytes = await jpeg(40 + i, 30 + (i % 7), { colour: `#${((i * 2654435761) % 0xffffff).toString(16).padStart(6, '0')}` });
    writeFileSync(path.join(dir, `${prefix}-${String(i).padStart(3, '0')}.jpg`), bytes);
    out.push(bytes);
  }
  return out;
}

function chatRequests(): RecordedRequest[] {
  return fake.requests.filter((r) => r.path.endsWith('/chat/completions'));
}

/** Which image a request carried: the hash of its data URL, i.e. of the exact JPEG sent. */
function sentImageKey(r: RecordedRequest): string {
  const body = r.body as { messages?: { content?: unknown }[] };
  const parts = body.messages?.[1]?.content as { type: string; image_url?: { url: string } }[] | undefined;
  const url = parts?.find((p) => p.type === 'image_url')?.image_url?.url ?? '';
  return createHash('sha256').update(url).digest('hex');
}

function onlyRun(runsDir: string): string {
  const ids = readdirSync(runsDir);
  expect(ids).toHaveLength(1);
  return path.join(runsDir, ids[0] as string);
}

function readRun(dir: string): { config: RunConfig; summary: RunSummary; predictions: PredictionRecord[]; failures: PredictionRecord[] } {
  return {
    config: JSON.parse(readFileSync(path.join(dir, 'config.json'), 'utf8')) as RunConfig,
    summary: JSON.parse(readFileSync(path.join(dir, 'summary.json'), 'utf8')) as RunSummary,
    predictions: readJsonLines(path.join(dir, 'predictions.jsonl')).records,
    failures: readJsonLines(path.join(dir, 'failures.jsonl')).records,
  };
}

async function until(check: () => boolean, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 25));
  }
}

function lineCount(file: string): number {
  return existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter((l) => l.trim() !== '').length : 0;
}

describe('blobsight --help', SPAWNS, () => {
  it('every command and subcommand has --help and exits 0', async () => {
    // The real process once (its exit code is the process's); the subcommands through the same runCli in-process.
    const real = await runCliProcess(['--help'], { cwd: work });
    expect(real.code).toBe(0);
    expect(real.stdout).toMatch(/Usage: blobsight/);
    for (const args of [['--help'], ['label', '--help'], ['runs', '--help'], ['runs', 'show', '--help']]) {
      const r = await runCliInProcess(args, { cwd: work });
      expect(r.code, args.join(' ')).toBe(0);
      expect(r.stdout).toMatch(/Usage: blobsight/);
    }
  });

  it('an unknown option is a usage error: exit 2 with the reason', async () => {
    const r = await runCliInProcess(['label', '.', '--concurrency', 'lots'], { cwd: work });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/concurrency.*whole number/i);
  });
});

describe('blobsight label <folder>', SPAWNS, () => {
  it('labels good images, pays identical bytes once, records bad files with the service reasons and exits 1', async () => {
    const photos = path.join(work, 'photos');
    const images = await writeImages(path.join(photos, 'a'), 3);
    writeFileSync(path.join(photos, 'copy-of-first.jpg'), images[0] as Buffer);
    writeFileSync(path.join(photos, 'notes.txt'), 'not an image at all');
    writeFileSync(path.join(photos, 'empty.jpg'), Buffer.alloc(0));
    writeFileSync(path.join(photos, 'bomb.png'), await pngBomb());
    writeFileSync(path.join(photos, 'bomb.jpg'), await jpegBomb());
    // Tests run as root, where chmod 000 does not stop reads: a dangling link is the unreadable file.
    symlinkSync(path.join(work, 'gone.jpg'), path.join(photos, 'dangling.jpg'));

    // A real process: the exit code and the JSON on stdout as a script sees them.
    const r = await runCliProcess(['label', 'photos', '--profile', 'flowers', '--json'], { cwd: work, env: modelEnv() });
    expect(r.code, r.stderr).toBe(1);
    const out = JSON.parse(r.stdout) as { summary: RunSummary; exitCode: number };
    expect(out.exitCode).toBe(1);

    const run = readRun(onlyRun(path.join(work, 'runs')));
    expect(chatRequests()).toHaveLength(3);
    expect(run.predictions.map((p) => p.name).sort()).toEqual(['a/img-000.jpg', 'a/img-001.jpg', 'a/img-002.jpg', 'copy-of-first.jpg']);
    const copy = run.predictions.find((p) => p.name === 'copy-of-first.jpg');
    expect(copy?.reused).toEqual({ from: 'run', name: 'a/img-000.jpg' });
    expect(copy?.usage.modelCalls).toBe(0);
    const codes = Object.fromEntries(run.failures.map((f) => [f.name, f.error?.code]));
    expect(codes).toEqual({
      'notes.txt': 'unsupported_format',
      'empty.jpg': 'empty_blob',
      'bomb.png': 'too_many_pixels',
      'bomb.jpg': 'too_many_pixels',
      'dangling.jpg': 'unreadable',
    });
    expect(run.failures.every((f) => f.status === 'rejected' && f.usage.modelCalls === 0)).toBe(true);

    expect(run.config.profile).toMatchObject({ name: 'flowers', version: '1', detail: 'low', confidenceThreshold: 0.7 });
    expect(run.config.model).toMatchObject({ provider: 'azure-openai', deployment: fake.deployment, apiVersion: fake.apiVersion });
    expect(run.config.promptHash).toMatch(/^[0-9a-f]{64}$/);
    expect(run.config.cliVersion).toMatch(/^\d+\.\d+\.\d+/);

    expect(run.summary.counts).toMatchObject({ images: 9, rejected: 5, failed: 0, reused: 1 });
    expect(run.summary.counts.classified + run.summary.counts.needsReview).toBe(4);
    expect(run.summary.modelCalls).toBe(3);
    const reported = chatRequests().length;
    expect(reported).toBe(3);
    expect(run.summary.latencyMs.total.count).toBe(3);
    expect(run.summary.latencyMs.total.p99).not.toBeNull();
    expect(run.summary.estimateVsActual.images).toBe(3);
    expect(run.summary.estimateVsActual.estimated.promptTokens).toBeGreaterThan(0);
    expect(run.summary.tokens.prompt).toBe(run.summary.estimateVsActual.actual.promptTokens);
    expect(run.summary.costUsd).toBeGreaterThan(0);
  });

  it('resumes with --run: answered and rejected images are skipped, nothing is paid twice', async () => {
    await writeImages(path.join(work, 'photos'), 4);
    writeFileSync(path.join(work, 'photos', 'notes.txt'), 'text');
    const first = await runCliInProcess(['label', 'photos', '--profile', 'pets', '--json'], { cwd: work, env: modelEnv() });
    expect(first.code).toBe(1);
    expect(chatRequests()).toHaveLength(4);
    const dir = onlyRun(path.join(work, 'runs'));

    const again = await runCliInProcess(['label', 'photos', '--profile', 'pets', '--run', path.basename(dir), '--json'], { cwd: work, env: modelEnv() });
    expect(again.code).toBe(1);
    expect(chatRequests()).toHaveLength(4);
    const out = JSON.parse(again.stdout) as { session: { skipped: number; processed: number } };
    expect(out.session).toMatchObject({ skipped: 5, processed: 0 });
    expect(readdirSync(path.join(work, 'runs'))).toHaveLength(1);

    // --resume finds the latest run of the same name (the profile name by default).
    writeFileSync(path.join(work, 'photos', 'new.jpg'), await jpeg(99, 77));
    const resumed = await runCliInProcess(['label', 'photos', '--profile', 'pets', '--resume', '--json'], { cwd: work, env: modelEnv() });
    expect(resumed.code).toBe(1);
    expect(chatRequests()).toHaveLength(5);
    expect(readRun(dir).summary.sessions).toHaveLength(3);
  });

  it('refuses to resume a run of another profile, saying why (exit 2)', async () => {
    await writeImages(path.join(work, 'photos'), 1);
    expect((await runCliInProcess(['label', 'photos', '--profile', 'pets'], { cwd: work, env: modelEnv() })).code).toBe(0);
    const dir = onlyRun(path.join(work, 'runs'));
    const r = await runCliInProcess(['label', 'photos', '--profile', 'flowers', '--run', dir], { cwd: work, env: modelEnv() });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/Refusing to resume .*profile "pets", not "flowers"/);
    expect(chatRequests()).toHaveLength(1);
  });

  it('a corrupt predictions.jsonl line is reported, the rest kept, and only that image labelled again', async () => {
    await writeImages(path.join(work, 'photos'), 3);
    expect((await runCliInProcess(['label', 'photos', '--profile', 'pets'], { cwd: work, env: modelEnv() })).code).toBe(0);
    const dir = onlyRun(path.join(work, 'runs'));
    const file = path.join(dir, 'predictions.jsonl');
    const lines = readFileSync(file, 'utf8').trimEnd().split('\n');
    const damaged = (JSON.parse(lines[1] as string) as PredictionRecord).name;
    lines[1] = (lines[1] as string).slice(0, 40);
    writeFileSync(file, `${lines.join('\n')}\n`);

    // A real process for the runs command (the label cases around it run in-process).
    const show = await runCliProcess(['runs', 'show', path.basename(dir)], { cwd: work });
    expect(show.code).toBe(0);
    expect(show.stdout).toMatch(/corrupt\s+predictions\.jsonl:2 \(not JSON/);

    const r = await runCliInProcess(['label', 'photos', '--profile', 'pets', '--run', dir], { cwd: work, env: modelEnv() });
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/predictions\.jsonl:2: corrupt line skipped/);
    expect(chatRequests()).toHaveLength(4);
    const names = readJsonLines(file).records.map((p) => p.name);
    expect(names.filter((n) => n === damaged)).toHaveLength(1);
    expect(new Set(names).size).toBe(3);
  });

  it('an unknown profile is a usage error listing the known ones (exit 2)', async () => {
    await writeImages(path.join(work, 'photos'), 1);
    const r = await runCliInProcess(['label', 'photos', '--profile', 'no-such'], { cwd: work, env: modelEnv() });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/Unknown profile "no-such"\. Known profiles: .*flowers/);
  });

  it('with no model configured the embedded detector labels (objects), and a labelling profile says how to configure one', async () => {
    await writeImages(path.join(work, 'photos'), 1);
    const wrong = await runCliInProcess(['label', 'photos', '--profile', 'pets'], { cwd: work });
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toMatch(/local-detector.*AZURE_OPENAI_ENDPOINT/);
    const r = await runCliInProcess(['label', 'photos', '--json'], { cwd: work });
    expect(r.code, r.stderr).toBe(0);
    const run = readRun(onlyRun(path.join(work, 'runs')));
    expect(run.config.model.provider).toBe('local-detector');
    expect(run.predictions[0]?.result?.kind).toBe('objects');
    expect(run.summary.costUsd).toBe(0);
  });
});

describe('blobsight label <glob>', SPAWNS, () => {
  it('labels what the pattern matches (directories named like images are not files)', async () => {
    await writeImages(path.join(work, 'photos'), 2);
    mkdirSync(path.join(work, 'photos', 'x.jpg'));
    const r = await runCliInProcess(['label', 'photos/*.jpg', '--profile', 'pets', '--json'], { cwd: work, env: modelEnv() });
    expect(r.code, r.stderr).toBe(0);
    expect(readRun(onlyRun(path.join(work, 'runs'))).predictions.map((p) => p.name).sort()).toEqual(['photos/img-000.jpg', 'photos/img-001.jpg']);
  });

  it('a glob matching nothing is a usage error (exit 2), and no run folder is made', async () => {
    const r = await runCliInProcess(['label', 'photos/**/*.png', '--profile', 'pets'], { cwd: work, env: modelEnv() });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/matches no files/);
    expect(existsSync(path.join(work, 'runs'))).toBe(false);
  });
});

describe('blobsight label --dry-run and --max-cost', SPAWNS, () => {
  it('predicts per image and in total without calling the model; the real run then reports estimate vs actual', async () => {
    const profiles = path.join(work, 'profiles');
    mkdirSync(profiles);
    writeFileSync(
      path.join(profiles, 'hi-res.json'),
      JSON.stringify({ name: 'hi-res', version: '1', kind: 'single-label', prompt: 'Cat or dog?', detail: 'auto', confidenceThreshold: 0.5, labels: [{ name: 'cat' }, { name: 'dog' }] }),
    );
    // Settings from .env in the current folder, as for the service.
    writeFileSync(path.join(work, '.env'), `PROFILES_DIR=${profiles}\n`);
    mkdirSync(path.join(work, 'photos'));
    writeFileSync(path.join(work, 'photos', 'small.jpg'), await jpeg(300, 200));
    writeFileSync(path.join(work, 'photos', 'big.jpg'), await jpeg(3000, 1500));

    const dry = await runCliInProcess(['label', 'photos', '--profile', 'hi-res', '--dry-run', '--json'], { cwd: work, env: modelEnv() });
    expect(dry.code, dry.stderr).toBe(0);
    expect(chatRequests()).toHaveLength(0);
    expect(existsSync(path.join(work, 'runs'))).toBe(false);
    const report = JSON.parse(dry.stdout) as { promptTokens: number; maxTokensReserve: number; costUsd: number; lines: { name: string; estimate: { imageTokens: number; sent: { width: number; height: number; detail: string }; promptTokens: number; maxTokens: number } }[] };
    const byName = Object.fromEntries(report.lines.map((l) => [l.name, l.estimate]));
    // 300x200 fits one low tile; 3000x1500 is sent at 1536x768 high: 3x2 tiles = 85 + 170*6.
    expect(byName['small.jpg']).toMatchObject({ sent: { width: 300, height: 200, detail: 'low' }, imageTokens: 85 });
    expect(byName['big.jpg']).toMatchObject({ sent: { width: 1536, height: 768, detail: 'high' }, imageTokens: 85 + 170 * 6 });
    expect(report.promptTokens).toBe((byName['small.jpg']?.promptTokens ?? 0) + (byName['big.jpg']?.promptTokens ?? 0));
    expect(report.maxTokensReserve).toBeGreaterThan(0);
    // gpt-4o list price: $2.50 / 1M prompt tokens, $10 / 1M output tokens.
    expect(report.costUsd).toBeCloseTo((report.promptTokens * 2.5 + report.maxTokensReserve * 10) / 1e6, 10);

    const real = await runCliInProcess(['label', 'photos', '--profile', 'hi-res', '--json'], { cwd: work, env: modelEnv() });
    expect(real.code, real.stderr).toBe(0);
    const run = readRun(onlyRun(path.join(work, 'runs')));
    expect(run.summary.estimateVsActual.estimated.promptTokens).toBe(report.promptTokens);
    expect(run.summary.estimateVsActual.estimated.maxTokensReserve).toBe(report.maxTokensReserve);
    const usage = chatRequests().length;
    expect(usage).toBe(2);
    expect(run.summary.estimateVsActual.actual.promptTokens).toBe(run.summary.tokens.prompt);
    // What was sent is what was estimated: the fake saw the same sizes and details.
    const sent = chatRequests().map((r) => {
      const parts = (r.body as { messages: { content: unknown }[] }).messages[1]?.content as { type: string; image_url?: { detail: string } }[];
      return parts.find((p) => p.type === 'image_url')?.image_url?.detail;
    });
    expect(sent.sort()).toEqual(['high', 'low']);
  });

  it('--max-cost stops before the next image would exceed it (exit 1) and the spend stays under it', async () => {
    await writeImages(path.join(work, 'photos'), 10);
    const dry = JSON.parse((await runCliInProcess(['label', 'photos', '--profile', 'pets', '--dry-run', '--json'], { cwd: work, env: modelEnv() })).stdout) as { costUsd: number; wouldSend: number };
    const perImage = dry.costUsd / dry.wouldSend;
    const max = perImage * 3.5;
    const r = await runCliInProcess(['label', 'photos', '--profile', 'pets', '--concurrency', '4', '--max-cost', String(max), '--json'], { cwd: work, env: modelEnv() });
    expect(r.code).toBe(1);
    const out = JSON.parse(r.stdout) as { stopped: string; summary: RunSummary };
    expect(out.stopped).toBe('max-cost');
    expect(chatRequests().length).toBe(3);
    expect(out.summary.estimateVsActual.estimated.costUsd).toBeLessThanOrEqual(max);
    expect(out.summary.costUsd).toBeLessThanOrEqual(max);
  });
});

describe('kill -9 and Ctrl-C', SPAWNS, () => {
  it('after kill -9 mid-run, --run finishes the rest and pays for no image twice (except calls in flight at the kill)', async () => {
    const n = 24;
    await writeImages(path.join(work, 'photos'), n);
    fake.setFaultPlan(() => ({ kind: 'slow', delayMs: 150 }));
    const { child, done } = spawnCli(['label', 'photos', '--profile', 'pets', '--concurrency', '4', '--no-progress'], { cwd: work, env: modelEnv() });
    await until(() => existsSync(path.join(work, 'runs')) && readdirSync(path.join(work, 'runs')).length === 1, 30_000);
    const dir = onlyRun(path.join(work, 'runs'));
    await until(() => lineCount(path.join(dir, 'predictions.jsonl')) >= 6, 60_000);
    child.kill('SIGKILL');
    const killed = await done;
    expect(killed.signal).toBe('SIGKILL');
    const firstSession = chatRequests().length;
    const answeredBefore = new Set(readJsonLines(path.join(dir, 'predictions.jsonl')).records.map((p) => p.name));
    expect(answeredBefore.size).toBeLessThan(n);

    fake.setFaultPlan(undefined);
    const r = await runCliInProcess(['label', 'photos', '--profile', 'pets', '--run', dir, '--json'], { cwd: work, env: modelEnv() });
    expect(r.code, r.stderr).toBe(0);
    const run = readRun(dir);
    expect(new Set(run.predictions.map((p) => p.name)).size).toBe(n);
    expect(run.predictions).toHaveLength(n);

    const perImage = new Map<string, number>();
    for (const q of chatRequests()) perImage.set(sentImageKey(q), (perImage.get(sentImageKey(q)) ?? 0) + 1);
    const twice = [...perImage.values()].filter((c) => c > 1).length;
    // A request sent before the kill whose answer never reached predictions.jsonl is asked again: at most the
    // calls in flight (the concurrency); every other image was paid exactly once.
    const lostInKill = firstSession - answeredBefore.size;
    expect(lostInKill).toBeGreaterThanOrEqual(0);
    expect(lostInKill).toBeLessThanOrEqual(4);
    expect(twice).toBe(lostInKill);
    expect([...perImage.values()].every((c) => c <= 2)).toBe(true);
    expect(perImage.size).toBe(n);
  });

  it('Ctrl-C finishes the calls in flight, writes every paid answer and exits 130; --run completes it', async () => {
    const n = 20;
    await writeImages(path.join(work, 'photos'), n);
    fake.setFaultPlan(() => ({ kind: 'slow', delayMs: 200 }));
    const { child, done } = spawnCli(['label', 'photos', '--profile', 'pets', '--concurrency', '2', '--no-progress', '--json'], { cwd: work, env: modelEnv() });
    await until(() => existsSync(path.join(work, 'runs')) && readdirSync(path.join(work, 'runs')).length === 1, 30_000);
    const dir = onlyRun(path.join(work, 'runs'));
    await until(() => lineCount(path.join(dir, 'predictions.jsonl')) >= 3, 60_000);
    child.kill('SIGINT');
    const r = await done;
    expect(r.code).toBe(130);
    expect(r.stderr).toMatch(/Stopping after the images in flight/);
    const run = readRun(dir);
    // Every answered request has its line: nothing paid was lost.
    expect(run.predictions.length).toBe(chatRequests().length);
    expect(run.predictions.length).toBeLessThan(n);
    expect(run.summary.sessions.at(-1)?.stopped).toBe('interrupted');

    fake.setFaultPlan(undefined);
    const rest = await runCliInProcess(['label', 'photos', '--profile', 'pets', '--run', dir], { cwd: work, env: modelEnv() });
    expect(rest.code).toBe(0);
    expect(chatRequests()).toHaveLength(n);
  });
});

describe('blobsight label <container URL> and --from-service', SPAWNS, () => {
  it('labels the blobs under a prefix of an Azurite container through a connection string', async () => {
    const c = await createTestContainer('cli-src');
    try {
      for (const [i, bytes] of (await Promise.all([jpeg(50, 40), jpeg(51, 40), jpeg(52, 40)])).entries()) {
        await c.value.getBlockBlobClient(i < 2 ? `pets/p${i}.jpg` : `other/o${i}.jpg`).uploadData(bytes);
      }
      const url = `${c.value.url}/pets`;
      const r = await runCliInProcess(['label', url, '--profile', 'pets', '--json'], { cwd: work, env: { ...modelEnv(), AZURE_STORAGE_CONNECTION_STRING: inject('blobConnectionString') } });
      expect(r.code, r.stderr).toBe(0);
      const run = readRun(onlyRun(path.join(work, 'runs')));
      expect(run.predictions.map((p) => p.name).sort()).toEqual(['pets/p0.jpg', 'pets/p1.jpg']);
      expect(run.predictions[0]?.source.kind).toBe('blob');
      expect(run.config.source).toEqual({ kind: 'container', location: url });
    } finally {
      await c.cleanup();
    }
  });

  it('a container that does not exist, or that the credentials cannot read, is a usage error (exit 2)', async () => {
    const cs = inject('blobConnectionString');
    const base = (await createTestContainer('cli-probe')).value.url.replace(/\/[^/]+$/, '');
    const missing = await runCliInProcess(['label', `${base}/no-such-container-cli`, '--profile', 'pets', '--connection-string', cs], { cwd: work, env: modelEnv() });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/container no-such-container-cli does not exist/);

    const badKey = cs.replace(/AccountKey=[^;]+/, `AccountKey=${Buffer.from('not the key').toString('base64')}`);
    const denied = await runCliInProcess(['label', `${base}/no-such-container-cli`, '--profile', 'pets', '--connection-string', badKey], { cwd: work, env: modelEnv() });
    expect(denied.code).toBe(2);
    expect(denied.stderr).toMatch(/cannot list .* \(403/);
  });

  it('--from-service writes the documents the service stored, and reuses its cached answers instead of paying again', async () => {
    const cosmos = await createTestCosmosContainer('cli-svc');
    try {
      const store = new ImageStore(cosmos.value);
      const now = new Date().toISOString();
      const doc: ImageDocument = {
        id: 'doc-1',
        type: 'image',
        blob: { container: 'images', name: 'pets/cat.jpg', url: 'http://127.0.0.1/devstoreaccount1/images/pets/cat.jpg', eTag: '"0x1"', contentLength: 123, contentType: 'image/jpeg', sequencer: '1' },
        profile: { name: 'pets', version: '1' },
        status: 'classified',
        result: { kind: 'single-label', label: 'cat', confidence: 0.95 },
        labels: ['cat'],
        confidence: 0.95,
        confidenceSource: 'logprobs',
        model: { provider: 'azure-openai', deployment: 'gpt-4o', apiVersion: '2024-10-21', reportedModel: 'gpt-4o-2024-11-20' },
        usage: { promptTokens: 100, completionTokens: 10, costUsd: 0.0004, modelCalls: 1 },
        timings: { downloadMs: 1, preprocessMs: 2, modelMs: 3, totalMs: 6 },
        image: { width: 10, height: 10, format: 'jpeg', sha256: 'a'.repeat(64) },
        error: null,
        source: { eventId: null, eventTime: null },
        createdAt: now,
        updatedAt: now,
      };
      await store.upsert(doc);
      const cosmosEnv = { COSMOS_ENDPOINT: inject('cosmosEndpoint'), COSMOS_KEY: inject('cosmosKey'), COSMOS_DATABASE: cosmos.value.database.id, COSMOS_CONTAINER: cosmos.value.id };

      // No model configured: --from-service calls none, so the labelling profile is still readable.
      const svc = await runCliInProcess(['label', '--from-service', '--profile', 'pets', '--json'], { cwd: work, env: cosmosEnv });
      expect(svc.code, svc.stderr).toBe(0);
      const run = readRun(onlyRun(path.join(work, 'runs')));
      expect(run.predictions).toHaveLength(1);
      expect(run.predictions[0]).toMatchObject({ name: 'pets/cat.jpg', status: 'classified', reused: { from: 'service-document' }, source: { kind: 'service', documentId: 'doc-1' } });
      expect(chatRequests()).toHaveLength(0);
      rmSync(path.join(work, 'runs'), { recursive: true });

      // The service's content cache already holds an answer for these bytes: the CLI reuses it, no model call.
      const bytes = await jpeg(77, 33);
      mkdirSync(path.join(work, 'photos'));
      writeFileSync(path.join(work, 'photos', 'seen.jpg'), bytes);
      const sha256 = createHash('sha256').update(bytes).digest('hex');
      const key = { sha256, profile: 'pets', profileVersion: '1', provider: 'azure-openai', deployment: fake.deployment };
      const entry: CacheEntry = {
        id: cacheEntryId(key),
        type: 'cache',
        key,
        status: 'ready',
        lease: null,
        answer: { result: { kind: 'single-label', label: 'dog', confidence: 0.9 }, confidence: 0.9, confidenceSource: 'logprobs', usage: { promptTokens: 100, completionTokens: 9, costUsd: 0.0003 }, model: { provider: 'azure-openai', deployment: fake.deployment, apiVersion: fake.apiVersion, reportedModel: 'gpt-4o' }, image: { width: 77, height: 33, format: 'jpeg', sha256 } },
        sourceDocumentId: 'doc-2',
        createdAt: now,
        updatedAt: now,
      };
      await cosmos.value.items.create(entry);
      const cached = await runCliInProcess(['label', 'photos', '--profile', 'pets', '--json'], { cwd: work, env: { ...modelEnv(), ...cosmosEnv } });
      expect(cached.code, cached.stderr).toBe(0);
      const p = readRun(onlyRun(path.join(work, 'runs'))).predictions[0];
      expect(p).toMatchObject({ name: 'seen.jpg', status: 'classified', reused: { from: 'service-cache' }, result: { label: 'dog' } });
      expect(chatRequests()).toHaveLength(0);
    } finally {
      await cosmos.cleanup();
    }
  });
});
