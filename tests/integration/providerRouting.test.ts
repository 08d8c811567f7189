/**
 * Profile-level routing end to end on the emulators: one service instance serves three profiles with three models
 * (Azure OpenAI deployment A by default, Azure OpenAI deployment B and a Foundry deployment named in the profiles),
 * every document names the model that answered, each fake sees only its own profile's requests, and the content
 * cache never hands one model's answer out as another's. `blobsight label` follows the profile's model too, and
 * `blobsight runs compare base ft` names each run's deployment.
 */
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

import { runCli } from '../../shared/cli/program';
import type { RunComparison } from '../../shared/eval/compareRuns';
import { profilesHttp } from '../../shared/http/profilesHttp';
import { silentLogger } from '../../shared/logging';
import type { DetectedObject } from '../../shared/model/classification';
import pets from '../../shared/profiles/data/pets.json';
import type { ImageDocument } from '../../shared/store';
import type { FakeFoundry } from '../support/fakeFoundry';
import { PHI_4_MULTIMODAL, startFakeFoundry } from '../support/fakeFoundry';
import type { FakeOpenAI } from '../support/fakeOpenAI';
import { answerFromSchema, startFakeOpenAI } from '../support/fakeOpenAI';
import { startFakeVision } from '../support/fakeVision';
import { jpeg } from '../support/imageFixtures';
import type { TestApp } from '../support/testApp';
import { startTestApp } from '../support/testApp';

const BASE = 'gpt-4o';
const FINE_TUNED = 'gpt-4o-2024-08-06-ft-routing';

/** A small single-label profile whose prompt marks which profile a model request belongs to. */
function profile(name: string, model?: Record<string, string>): Record<string, unknown> {
  return {
    name,
    version: '1',
    kind: 'single-label',
    prompt: `PROFILE-${name}: which colour is the image?`,
    detail: 'low',
    confidenceThreshold: 0.1,
    labels: [{ name: 'red' }, { name: 'blue' }],
    ...(model === undefined ? {} : { model }),
  };
}

function profilesDir(files: Record<string, unknown>): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'blobsight-routing-'));
  for (const [name, data] of Object.entries(files)) writeFileSync(path.join(dir, `${name}.json`), JSON.stringify(data));
  return dir;
}

function doc(outcome: Awaited<ReturnType<TestApp['put']>>): ImageDocument {
  if (!('document' in outcome)) throw new Error(`expected a document, got ${outcome.outcome}: ${outcome.reason}`);
  return outcome.document;
}

/** The PROFILE-<name> marker of each chat request a fake saw, with the deployment it was addressed to. */
function openAICalls(fake: FakeOpenAI): { deployment: string; profile: string }[] {
  return fake.requests
    .filter((r) => r.path.endsWith('/chat/completions'))
    .map((r) => ({ deployment: /\/deployments\/([^/]+)\//.exec(r.path)?.[1] ?? '?', profile: /PROFILE-([a-z-]+)/.exec(JSON.stringify(r.body))?.[1] ?? '?' }));
}
function foundryCalls(fake: FakeFoundry): { deployment: string; profile: string }[] {
  return fake.requests
    .filter((r) => r.path.endsWith('/chat/completions'))
    .map((r) => ({ deployment: String((r.body as { model?: unknown }).model), profile: /PROFILE-([a-z-]+)/.exec(JSON.stringify(r.body))?.[1] ?? '?' }));
}

let openai: FakeOpenAI;
let foundry: FakeFoundry;
const dirs: string[] = [];

beforeAll(async () => {
  openai = await startFakeOpenAI({ deployments: [BASE, FINE_TUNED] });
  foundry = await startFakeFoundry();
  openai.setAnswer(({ schema }) => ({ answer: answerFromSchema(schema, { label: 'red' }), confidences: { label: 0.9 } }));
  foundry.setAnswer(() => ({ label: 'blue', confidence: 0.8 }));
});
afterAll(async () => {
  await openai.close();
  await foundry.close();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function env(dir: string): Record<string, string> {
  return { MODEL_PROVIDER: 'azure-openai', FOUNDRY_ENDPOINT: foundry.url, FOUNDRY_API_KEY: foundry.apiKey, PROFILES_DIR: dir, DEFAULT_PROFILE: 'route-default' };
}

describe('one app, three profiles, three models', () => {
  it('routes each profile to its own provider and deployment, records which answered, and reports each in health', async () => {
    const dir = profilesDir({
      'route-default': profile('route-default'),
      'route-ft': profile('route-ft', { deployment: FINE_TUNED }),
      'route-phi': profile('route-phi', { provider: 'azure-ai-foundry', deployment: PHI_4_MULTIMODAL }),
    });
    dirs.push(dir);
    openai.reset();
    foundry.reset();
    openai.setAnswer(({ schema }) => ({ answer: answerFromSchema(schema, { label: 'red' }), confidences: { label: 0.9 } }));
    foundry.setAnswer(() => ({ label: 'blue', confidence: 0.8 }));
    const app = await startTestApp(openai, env(dir));
    try {
      // Nothing is built for a route before its first image (no client, no token request).
      const before = (await app.services.health.checks.find((c) => c.name === 'model')?.run()) as { routes: { deployment: string; built: boolean }[] };
      expect(before.routes.map((r) => [r.deployment, r.built])).toEqual([[BASE, true], [FINE_TUNED, false], [PHI_4_MULTIMODAL, false]]);
      const bytes = await jpeg(64, 48);
      // The same bytes for all three: the content cache must keep their answers apart (profile and model differ).
      const outs = await Promise.all([app.put('route-default/a.jpg', bytes), app.put('route-ft/b.jpg', bytes), app.put('route-phi/c.jpg', bytes)]);
      const [d, ft, phi] = outs.map(doc);
      expect(d).toMatchObject({ status: 'classified', profile: { name: 'route-default' }, labels: ['red'], model: { provider: 'azure-openai', deployment: BASE } });
      expect(ft).toMatchObject({ status: 'classified', profile: { name: 'route-ft' }, labels: ['red'], model: { provider: 'azure-openai', deployment: FINE_TUNED } });
      expect(phi).toMatchObject({ status: 'classified', profile: { name: 'route-phi' }, labels: ['blue'], confidenceSource: 'self-reported', model: { provider: 'azure-ai-foundry', deployment: PHI_4_MULTIMODAL } });

      expect(openAICalls(openai).sort((a, b) => a.profile.localeCompare(b.profile))).toEqual([
        { deployment: BASE, profile: 'route-default' },
        { deployment: FINE_TUNED, profile: 'route-ft' },
      ]);
      expect(foundryCalls(foundry)).toEqual([{ deployment: PHI_4_MULTIMODAL, profile: 'route-phi' }]);

      // GET /api/health?details lists every provider in use and the profiles each serves.
      const results = await Promise.all(app.services.health.checks.map(async (c) => ({ name: c.name, info: await c.run() })));
      const model = results.find((r) => r.name === 'model')?.info as { routes: { provider: string; deployment: string; profiles: string[]; built: boolean }[] };
      expect(model.routes.map((r) => `${r.provider}/${r.deployment}`).sort()).toEqual([`azure-ai-foundry/${PHI_4_MULTIMODAL}`, `azure-openai/${BASE}`, `azure-openai/${FINE_TUNED}`]);
      expect(model.routes.find((r) => r.deployment === PHI_4_MULTIMODAL)).toMatchObject({ profiles: ['route-phi'], built: true });
      expect(results.map((r) => r.name)).toEqual(expect.arrayContaining([`model azure-ai-foundry/${PHI_4_MULTIMODAL}`, `model azure-openai/${FINE_TUNED}`]));

      // GET /api/profiles names the model serving each profile.
      const listed = (await (await profilesHttp(new Request('http://h/api/profiles'), { params: {}, log: silentLogger }, { profiles: app.services.profiles, classifier: app.services.classifier, defaultProfile: 'route-default' })).json()) as { items: { name: string; servedByModel: boolean; servedBy: unknown }[] };
      expect(listed.items.filter((p) => p.name.startsWith('route-')).map((p) => [p.name, p.servedByModel, p.servedBy])).toEqual([
        ['route-default', true, { provider: 'azure-openai', deployment: BASE }],
        ['route-ft', true, { provider: 'azure-openai', deployment: FINE_TUNED }],
        ['route-phi', true, { provider: 'azure-ai-foundry', deployment: PHI_4_MULTIMODAL }],
      ]);
    } finally {
      await app.cleanup();
    }
  });

  it('a broken Foundry deployment opens only its own circuit breaker: GPT-4o keeps answering', async () => {
    // The profile names a deployment the Foundry resource does not have: 404 each time, a misconfiguration.
    const dir = profilesDir({ 'route-default': profile('route-default'), 'route-phi': profile('route-phi', { provider: 'azure-ai-foundry', deployment: 'no-such-deployment' }) });
    dirs.push(dir);
    openai.reset();
    foundry.reset();
    openai.setAnswer(({ schema }) => ({ answer: answerFromSchema(schema, { label: 'red' }), confidences: { label: 0.9 } }));
    const app = await startTestApp(openai, { ...env(dir), MODEL_BREAKER_THRESHOLD: '1' });
    try {
      // Handed back for redelivery (the deployment may appear in minutes), never dropped.
      await expect(app.put('route-phi/x.jpg', await jpeg(40, 30))).rejects.toMatchObject({ code: 'model_deployment_not_found' });
      const check = app.services.health.checks.find((c) => c.name === 'model azure-ai-foundry/no-such-deployment');
      await expect(check?.run()).rejects.toThrow(/breaker open/);
      // The default route's breaker is its own: the next image on GPT-4o is classified.
      const fine = doc(await app.put('route-default/y.jpg', await jpeg(41, 30)));
      expect(fine).toMatchObject({ status: 'classified', model: { provider: 'azure-openai', deployment: BASE } });
      await expect(app.services.health.checks.find((c) => c.name === 'model')?.run()).resolves.toMatchObject({ breaker: 'closed' });
    } finally {
      await app.cleanup();
    }
  });
});

describe('a box profile on Azure AI Vision beside GPT-4o', () => {
  it('sends only the box profile to Vision, with its boxes and per-transaction cost on the document', async () => {
    const vision = await startFakeVision();
    const dir = profilesDir({
      'route-default': profile('route-default'),
      'route-boxes': { name: 'route-boxes', version: '1', kind: 'objects', prompt: 'PROFILE-route-boxes: find the cars.', detail: 'low', confidenceThreshold: 0.3, maxObjects: 10, categories: ['car', 'pedestrian'], model: { provider: 'azure-ai-vision' } },
    });
    dirs.push(dir);
    openai.reset();
    openai.setAnswer(({ schema }) => ({ answer: answerFromSchema(schema, { label: 'red' }), confidences: { label: 0.9 } }));
    // Key auth for Vision here (an explicit choice in configuration); the keyless path is in visionProvider.test.ts.
    const app = await startTestApp(openai, { ...env(dir), VISION_ENDPOINT: vision.url, VISION_API_KEY: vision.apiKey });
    try {
      // A red block the fake Vision reports as a car, on a grey frame.
      const red = await sharp({ create: { width: 40, height: 30, channels: 3, background: { r: 255, g: 0, b: 0 } } }).png().toBuffer();
      const frame = await sharp({ create: { width: 160, height: 120, channels: 3, background: { r: 90, g: 90, b: 90 } } }).composite([{ input: red, left: 20, top: 30 }]).jpeg({ quality: 95 }).toBuffer();
      const [labels, boxes] = (await Promise.all([app.put('route-default/a.jpg', await jpeg(64, 48)), app.put('route-boxes/b.jpg', frame)])).map(doc) as [ImageDocument, ImageDocument];
      expect(labels).toMatchObject({ status: 'classified', labels: ['red'], model: { provider: 'azure-openai', deployment: BASE } });
      expect(boxes).toMatchObject({ status: 'classified', model: { provider: 'azure-ai-vision' } });
      const objects = (boxes.result as { objects: DetectedObject[] }).objects;
      expect(objects.map((o) => o.label)).toEqual(['car']);
      // In the original's pixels: the block spans x 20–60, y 30–60 (within a pixel or two of rounding).
      const box = objects[0]?.box;
      expect([box?.x1, box?.y1, box?.x2, box?.y2].map((v) => Math.round((v ?? -99) / 4))).toEqual([5, 8, 15, 15]);
      expect(boxes.usage.costUsd).toBeGreaterThan(0);
      expect(vision.transactions).toBe(1);
      expect(openAICalls(openai).map((c) => c.profile)).toEqual(['route-default']);
    } finally {
      await app.cleanup();
      await vision.close();
    }
  });
});

describe('switching a profile to another model', () => {
  it('does not serve the old model\'s cached answer as the new one\'s, and the old entry stays the old model\'s', async () => {
    const onOpenAI = profilesDir({ swap: profile('swap') });
    const onFoundry = profilesDir({ swap: profile('swap', { provider: 'azure-ai-foundry', deployment: PHI_4_MULTIMODAL }) });
    dirs.push(onOpenAI, onFoundry);
    openai.reset();
    foundry.reset();
    openai.setAnswer(({ schema }) => ({ answer: answerFromSchema(schema, { label: 'red' }), confidences: { label: 0.9 } }));
    foundry.setAnswer(() => ({ label: 'blue', confidence: 0.8 }));
    const first = await startTestApp(openai, { ...env(onOpenAI), DEFAULT_PROFILE: 'swap' });
    // The same images container and Cosmos database: only the profile's model differs.
    const second = await startTestApp(openai, { ...env(onFoundry), DEFAULT_PROFILE: 'swap', IMAGES_CONTAINER: first.services.config.imagesContainer, COSMOS_DATABASE: first.services.config.cosmos.database });
    try {
      const bytes = await jpeg(50, 50);
      expect(doc(await first.put('swap/1.jpg', bytes))).toMatchObject({ labels: ['red'], model: { provider: 'azure-openai', deployment: BASE } });
      const switched = doc(await second.put('swap/2.jpg', bytes));
      expect(switched).toMatchObject({ labels: ['blue'], model: { provider: 'azure-ai-foundry', deployment: PHI_4_MULTIMODAL } });
      expect(foundryCalls(foundry)).toHaveLength(1);
      // Back on Azure OpenAI: its own cached answer, no new call to either model.
      const again = doc(await first.put('swap/3.jpg', bytes));
      expect(again).toMatchObject({ labels: ['red'], model: { provider: 'azure-openai', deployment: BASE } });
      expect(openAICalls(openai)).toHaveLength(1);
      expect(foundryCalls(foundry)).toHaveLength(1);
    } finally {
      await second.cleanup().catch(() => undefined);
      await first.cleanup();
    }
  });
});

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

describe('label and compare across deployments', () => {
  const ENV = ['AZURE_OPENAI_ENDPOINT', 'AZURE_OPENAI_DEPLOYMENT', 'AZURE_OPENAI_API_KEY', 'OPENAI_API_VERSION', 'PROFILES_DIR'];
  const saved: Record<string, string | undefined> = {};
  let work = '';
  beforeAll(async () => {
    work = mkdtempSync(path.join(tmpdir(), 'blobsight-routing-cli-'));
    for (const k of ENV) saved[k] = process.env[k];
    Reflect.deleteProperty(process.env, 'PROFILES_DIR');
    Object.assign(process.env, { AZURE_OPENAI_ENDPOINT: openai.url, AZURE_OPENAI_DEPLOYMENT: 'gpt-4o', AZURE_OPENAI_API_KEY: openai.apiKey, OPENAI_API_VERSION: openai.apiVersion });
    mkdirSync(path.join(work, 'pets', 'cat'), { recursive: true });
    for (let i = 0; i < 2; i++) writeFileSync(path.join(work, 'pets', 'cat', `cat${i}.jpg`), await jpeg(40 + i, 30));
    // The same pets profile, pointed at the fine-tuned deployment (what the README tells a user to do after fine-tuning).
    mkdirSync(path.join(work, 'ft-profiles'));
    writeFileSync(path.join(work, 'ft-profiles', 'pets.json'), JSON.stringify({ ...pets, model: { deployment: FINE_TUNED } }));
  });

  afterAll(() => {
    for (const k of ENV) {
      if (saved[k] === undefined) Reflect.deleteProperty(process.env, k);
      else process.env[k] = saved[k];
    }
    rmSync(work, { recursive: true, force: true });
  });

  it('labels with the profile\'s deployment and shows each run\'s provider and deployment in runs compare', async () => {
    openai.reset();
    const runs = path.join(work, 'runs');
    const base = await cli('label', path.join(work, 'pets'), '--profile', 'pets', '--name', 'base', '--runs-dir', runs, '--no-progress');
    expect(base.code, base.stderr).toBe(0);
    process.env['PROFILES_DIR'] = path.join(work, 'ft-profiles');
    const ft = await cli('label', path.join(work, 'pets'), '--profile', 'pets', '--name', 'ft', '--runs-dir', runs, '--no-progress');
    expect(ft.code, ft.stderr).toBe(0);
    const deployments = openai.requests.filter((r) => r.path.endsWith('/chat/completions')).map((r) => /\/deployments\/([^/]+)\//.exec(r.path)?.[1]);
    expect(deployments).toEqual(['gpt-4o', 'gpt-4o', FINE_TUNED, FINE_TUNED]);

    const ids = readdirSync(runs).sort();
    const [baseRun, ftRun] = [ids.find((id) => id.endsWith('base')) as string, ids.find((id) => id.endsWith('ft')) as string];
    const text = await cli('runs', 'compare', baseRun, ftRun, '--runs-dir', runs);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(new RegExp(`A {2}${baseRun} {2}pets@\\S+ {2}azure-openai/gpt-4o {2}2 images`));
    expect(text.stdout).toMatch(new RegExp(`B {2}${ftRun} {2}pets@\\S+ {2}azure-openai/${FINE_TUNED} {2}2 images`));
    const json = await cli('runs', 'compare', baseRun, ftRun, '--runs-dir', runs, '--json');
    const c = JSON.parse(json.stdout) as RunComparison;
    expect(c.runs.map((r) => r.model)).toEqual([
      { provider: 'azure-openai', deployment: 'gpt-4o' },
      { provider: 'azure-openai', deployment: FINE_TUNED },
    ]);
  });
});
