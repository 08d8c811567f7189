/**
 * `blobsight label` then `blobsight evaluate` and `blobsight runs compare`, as a user runs them, in-process (the CLI's
 * own runCli) against the fake model: two runs of the pets profile on tiny JPEGs in class folders, one answering
 * "cat" for everything (the fake's default: the first label), one telling them apart by size.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

import { runCli } from '../../shared/cli/program';
import type { RunComparison } from '../../shared/eval/compareRuns';
import type { EvaluationResult } from '../../shared/eval/types';
import type { FakeOpenAI } from '../support/fakeOpenAI';
import { answerFromSchema, startFakeOpenAI } from '../support/fakeOpenAI';
import { jpeg } from '../support/imageFixtures';

let fake: FakeOpenAI;
let work: string;
const saved: Record<string, string | undefined> = {};
const ENV = ['AZURE_OPENAI_ENDPOINT', 'AZURE_OPENAI_DEPLOYMENT', 'AZURE_OPENAI_API_KEY', 'OPENAI_API_VERSION'];

async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const out = vi.spyOn(process.stdout, 'write').mockImplementation((t: string | Uint8Array) => ((stdout += String(t)), true));
  const err = vi.spyOn(process.stderr, 'write').mockImplementation((t: string | Uint8Array) => ((stderr += String(t)), true));
  try {
    const code = await runCli(['node', 'blobsight', ...args]);
    return { code, stdout, stderr };
  } finally {
    out.mockRestore();
    err.mockRestore();
    process.exitCode = undefined;
  }
}

const runIds = (): string[] => readdirSync(path.join(work, 'runs')).sort();

beforeAll(async () => {
  fake = await startFakeOpenAI();
  work = mkdtempSync(path.join(tmpdir(), 'blobsight-eval-cli-'));
  for (const k of ENV) saved[k] = process.env[k];
  Object.assign(process.env, { AZURE_OPENAI_ENDPOINT: fake.url, AZURE_OPENAI_DEPLOYMENT: fake.deployment, AZURE_OPENAI_API_KEY: fake.apiKey, OPENAI_API_VERSION: fake.apiVersion });
  // Cats are 40 px wide, dogs 60 px: the second run's rule can tell them apart, the first answers "cat" for all.
  for (const [label, width] of [['cat', 40], ['dog', 60]] as const) {
    mkdirSync(path.join(work, 'pets', label), { recursive: true });
    for (let i = 0; i < 3; i++) writeFileSync(path.join(work, 'pets', label, `${label}${i}.jpg`), await jpeg(width + i, 30, { colour: `#${(i * 40 + width).toString(16).padStart(2, '0')}4080` }));
  }
}, 60_000);

afterAll(async () => {
  for (const k of ENV) {
    if (saved[k] === undefined) Reflect.deleteProperty(process.env, k);
    else process.env[k] = saved[k];
  }
  await fake.close();
  rmSync(work, { recursive: true, force: true });
});

describe('label, evaluate, compare', () => {
  it('labels twice, evaluates each run with --json and --write-thresholds, and compares them with McNemar', async () => {
    const runs = path.join(work, 'runs');
    const first = await cli('label', path.join(work, 'pets'), '--profile', 'pets', '--name', 'always-cat', '--runs-dir', runs, '--no-progress');
    expect(first.code, first.stderr).toBe(0);
    fake.setAnswer((ctx) => ({ answer: answerFromSchema(ctx.schema, { label: (ctx.images[0]?.width ?? 0) >= 50 ? 'dog' : 'cat' }), confidences: { label: (ctx.images[0]?.width ?? 0) >= 61 ? 0.99 : 0.9 } }));
    const second = await cli('label', path.join(work, 'pets'), '--profile', 'pets', '--name', 'by-size', '--runs-dir', runs, '--no-progress');
    expect(second.code, second.stderr).toBe(0);
    const [catRun, sizeRun] = [runIds().find((id) => id.endsWith('always-cat')) as string, runIds().find((id) => id.endsWith('by-size')) as string];

    const json = path.join(work, 'eval.json');
    const thresholds = path.join(work, 'pets-thresholds.json');
    const e1 = await cli('evaluate', '--pred', path.join(runs, catRun), '--truth', path.join(work, 'pets'), '--json', json);
    expect(e1.code, e1.stderr).toBe(0);
    expect(e1.stdout).toMatch(/Classification: accuracy 50\.0% \(3\/6\)/);
    expect(e1.stdout).toMatch(/truth \\ answer\s+cat\s+dog\s+unknown/);
    const r1 = JSON.parse(readFileSync(json, 'utf8')) as EvaluationResult;
    expect(r1.images).toMatchObject({ evaluated: 6, predictionsWithoutTruth: 0, truthWithoutPredictions: 0 });
    expect(r1.inputs).toMatchObject({ predFormat: 'run', truthFormat: 'folders', profile: { name: 'pets' } });
    expect(r1.classification?.confusion.matrix).toEqual([
      [3, 0, 0],
      [3, 0, 0],
    ]);
    // Confidence 0.97 (from the fake's logprobs, to 1e-5) for every answer, right half the time: ECE = |0.5 − 0.97|.
    expect(r1.calibration?.ece).toBeCloseTo(0.47, 4);
    expect(r1.latency?.count).toBe(6);
    expect(r1.cost?.tokens.prompt).toBeGreaterThan(0);

    const e2 = await cli('evaluate', '--pred', path.join(runs, sizeRun), '--truth', path.join(work, 'pets'), '--json', json, '--write-thresholds', thresholds, '--target-precision', '0.95');
    expect(e2.code, e2.stderr).toBe(0);
    const r2 = JSON.parse(readFileSync(json, 'utf8')) as EvaluationResult;
    expect(r2.classification?.accuracy).toBe(1);
    const written = JSON.parse(readFileSync(thresholds, 'utf8')) as { name: string; labelThresholds: Record<string, number> };
    expect(written.name).toBe('pets');
    // Every answer right: the lowest confidence seen per label (0.9 from the fake's logprobs) is the threshold.
    expect(Object.keys(written.labelThresholds).sort()).toEqual(['cat', 'dog']);
    expect(written.labelThresholds['cat']).toBeCloseTo(0.9, 4);
    expect(written.labelThresholds['dog']).toBeCloseTo(0.9, 4);

    const c = await cli('runs', 'compare', catRun, sizeRun, '--runs-dir', runs, '--truth', path.join(work, 'pets'));
    expect(c.code, c.stderr).toBe(0);
    expect(c.stdout).toMatch(/accuracy\s+50\.0%\s+100\.0%\s+\+50\.0 pt/);
    expect(c.stdout).toMatch(/McNemar A vs B on 6 images both answered .* only A right 0, only the other right 3; exact binomial .*p = 0\.2500/);
    const asJson = await cli('runs', 'compare', catRun, sizeRun, '--runs-dir', runs, '--truth', path.join(work, 'pets'), '--json');
    const cmp = JSON.parse(asJson.stdout) as RunComparison;
    expect(cmp.differences['accuracy']).toEqual([0.5]);
    expect(cmp.mcnemar[0]).toMatchObject({ n: 6, b: 0, c: 3, method: 'exact-binomial', pValue: 0.25 });

    const noTruth = await cli('runs', 'compare', catRun, sizeRun, '--runs-dir', runs);
    expect(noTruth.code).toBe(0);
    expect(noTruth.stdout).toMatch(/Agreement of A and .*by-size: 50\.0% of 6 images/);
  });

  it('bad input exits 2 with the reason; nothing matched exits 1', async () => {
    const missing = await cli('evaluate', '--pred', path.join(work, 'nope'), '--truth', path.join(work, 'pets'));
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/--pred .*nope does not exist/);
    const badP = await cli('evaluate', '--pred', path.join(work, 'pets'), '--truth', path.join(work, 'pets'), '--target-precision', '2');
    expect(badP.code).toBe(2);
    const other = path.join(work, 'other.jsonl');
    writeFileSync(other, `${JSON.stringify({ name: 'zebra.jpg', label: 'cat' })}\n`);
    const none = await cli('evaluate', '--pred', other, '--truth', path.join(work, 'pets'));
    expect(none.code).toBe(1);
    expect(none.stdout).toMatch(/1 predictions have no ground truth/);
    expect(existsSync(path.join(work, 'runs'))).toBe(true);
  });
});
