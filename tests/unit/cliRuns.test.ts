/** Pure parts of the CLI's run tracking and estimates: line files, summaries, URLs, token counting. */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { describe, expect, it } from 'vitest';

import { estimatePromptTokens } from '../../shared/cli/estimate/estimatePromptTokens';
import { estimateRequest, promptHash } from '../../shared/cli/estimate/estimateRequest';
import { countTextTokens } from '../../shared/cli/estimate/gpt4oTokenizer';
import { loadCliConfig } from '../../shared/cli/loadCliConfig';
import { parseContainerUrl } from '../../shared/cli/sources/listContainer';
import { DEFAULT_PRICES } from '../../shared/config';
import { loadProfiles } from '../../shared/profiles';
import type { PredictionRecord } from '../../shared/runs';
import { JsonLinesWriter, percentiles, readJsonLines, RunFolder, RunFolderError, runTimestamp, summarizeRun } from '../../shared/runs';

function record(name: string, over: Partial<PredictionRecord> = {}): PredictionRecord {
  return {
    name,
    source: { kind: 'file', location: name },
    sha256: 'a'.repeat(64),
    size: 10,
    profile: { name: 'pets', version: '1' },
    status: 'classified',
    result: { kind: 'single-label', label: 'cat', confidence: 0.9 },
    review: null,
    confidence: 0.9,
    confidenceSource: 'logprobs',
    image: { width: 1, height: 1, format: 'jpeg' },
    model: { provider: 'azure-openai', deployment: 'gpt-4o', apiVersion: '2024-10-21', reportedModel: 'gpt-4o' },
    usage: { promptTokens: 100, completionTokens: 10, costUsd: 0.001, modelCalls: 1 },
    timings: { readMs: 1, preprocessMs: 1, modelMs: 5, totalMs: 7 },
    reused: null,
    error: null,
    at: '2026-12-01T00:00:00.000Z',
    ...over,
  };
}

describe('run line files', () => {
  it('keeps good lines and reports each bad one with its line number and reason', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'runs-'));
    const file = path.join(dir, 'predictions.jsonl');
    writeFileSync(file, [JSON.stringify(record('a')), '{"name": "b", "stat', JSON.stringify({ hello: 1 }), '', JSON.stringify(record('c'))].join('\n'));
    const { records, corrupt } = readJsonLines(file);
    expect(records.map((r) => r.name)).toEqual(['a', 'c']);
    expect(corrupt).toEqual([
      { file, line: 2, reason: expect.stringMatching(/^not JSON/) as string },
      { file, line: 3, reason: 'no "name"' },
    ]);
  });

  it('a line torn by a kill loses only itself: the writer ends it before appending', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'runs-'));
    const file = path.join(dir, 'predictions.jsonl');
    writeFileSync(file, `${JSON.stringify(record('a'))}\n${JSON.stringify(record('b')).slice(0, 30)}`);
    const w = new JsonLinesWriter(file);
    w.append(record('c'));
    w.close();
    const { records, corrupt } = readJsonLines(file);
    expect(records.map((r) => r.name)).toEqual(['a', 'c']);
    expect(corrupt).toHaveLength(1);
    expect(readFileSync(file, 'utf8').endsWith('\n')).toBe(true);
  });
});

describe('run folders', () => {
  it('are named <UTC time>-<name>, found again by id and as the latest of a name, and unknown ones say so', () => {
    const root = mkdtempSync(path.join(tmpdir(), 'runs-'));
    expect(runTimestamp(new Date('2026-12-01T20:55:18.123Z'))).toBe('20261201T205518Z');
    const base = { cliVersion: '0.1.0', profile: { name: 'pets', version: '1', kind: 'single-label', detail: 'low' as const, confidenceThreshold: 0.8 }, model: { provider: 'p', deployment: 'd', apiVersion: null, maxTokens: 10, logprobs: true }, promptHash: null, profileHash: 'h', source: { kind: 'folder' as const, location: 'x' }, concurrency: 1, maxCostUsd: null, limits: { maxBytes: 1, maxPixels: 1 } };
    const a = RunFolder.create(root, 'My Run!', new Date('2026-12-01T10:00:00Z'), base);
    const b = RunFolder.create(root, 'My Run!', new Date('2026-12-01T10:00:00Z'), base);
    expect(a.config.id).toBe('20261201T100000Z-my-run');
    expect(b.config.id).toBe('20261201T100000Z-my-run-2');
    expect(RunFolder.latest(root, 'My Run!')?.id).toBe(b.config.id);
    expect(RunFolder.open(root, a.config.id).readConfig().profile.name).toBe('pets');
    expect(() => RunFolder.open(root, 'nope')).toThrow(RunFolderError);
  });
});

describe('run summary', () => {
  it('nearest-rank percentiles', () => {
    const p = percentiles(Array.from({ length: 100 }, (_, i) => i + 1));
    expect(p).toMatchObject({ count: 100, p50: 50, p90: 90, p95: 95, p99: 99, max: 100 });
    expect(percentiles([]).p50).toBeNull();
  });

  it('counts the latest line per image, but sums spend over every line (a retried failure was paid twice)', () => {
    const failed = record('x', { status: 'failed', error: { code: 'model_invalid_output', message: 'm' }, usage: { promptTokens: 100, completionTokens: 10, costUsd: 0.001, modelCalls: 2 }, at: '2026-12-01T00:00:00.000Z' });
    const later = record('x', { at: '2026-12-01T00:01:00.000Z', estimate: { promptTokens: 90, maxTokens: 20, costUsd: 0.0005 } });
    const reused = record('y', { reused: { from: 'run', name: 'x' }, usage: { promptTokens: 0, completionTokens: 0, costUsd: 0, modelCalls: 0 } });
    const s = summarizeRun({ id: 'r', profile: { name: 'pets', version: '1' }, model: { provider: 'p', deployment: 'd' }, records: [later, reused, failed], sessions: [{ startedAt: '', endedAt: '', wallMs: 2000, processed: 3, skipped: 0, stopped: null }], corruptLines: 0 });
    expect(s.counts).toMatchObject({ images: 2, classified: 2, failed: 0, reused: 1 });
    expect(s.tokens.prompt).toBe(200);
    expect(s.modelCalls).toBe(3);
    expect(s.costUsd).toBeCloseTo(0.002, 10);
    expect(s.estimateVsActual).toMatchObject({ images: 1, estimated: { promptTokens: 90, maxTokensReserve: 20 }, actual: { promptTokens: 100 } });
    expect(s.estimateVsActual.promptTokensError).toBeCloseTo(0.111, 3);
    expect(s.imagesPerSecond).toBe(1.5);
  });
});

describe('container URLs', () => {
  it('splits account-host and path-style (Azurite) URLs into service, container and prefix', () => {
    expect(parseContainerUrl('https://acct.blob.core.windows.net/images/flowers/2024')).toEqual({ serviceUrl: 'https://acct.blob.core.windows.net', container: 'images', prefix: 'flowers/2024' });
    expect(parseContainerUrl('http://127.0.0.1:10000/devstoreaccount1/images')).toEqual({ serviceUrl: 'http://127.0.0.1:10000/devstoreaccount1', container: 'images', prefix: '' });
    expect(() => parseContainerUrl('https://acct.blob.core.windows.net/')).toThrow(/names no container/);
  });
});

describe('prompt token estimate', () => {
  it('counts text with o200k_base and adds the chat framing and image tokens', () => {
    expect(countTextTokens('hello world')).toBe(2);
    const e = estimatePromptTokens([{ role: 'system', content: 'hello world' }, { role: 'user', content: [{ type: 'text', text: 'hello world' }, { type: 'image_url', image_url: { url: 'data:image/jpeg;base64,AAAA', detail: 'low' } }] }], undefined, 85);
    // 3 priming + per message (3 framing + 1 role + 2 text)
    expect(e).toEqual({ textTokens: 3 + 6 + 6, schemaTokens: 0, imageTokens: 85, total: 100 });
    // Loading the 200k-token ranks takes seconds on a loaded machine.
  }, 60_000);

  it('estimates a profile request: response_format counted, max_tokens reserved, priced from the table', () => {
    const pets = loadProfiles(undefined).get('pets');
    if (pets === undefined) throw new Error('pets profile missing');
    const e = estimateRequest(pets, { width: 300, height: 200, detail: 'low' }, { prices: DEFAULT_PRICES, modelName: 'gpt-4o' });
    expect(e.imageTokens).toBe(85);
    expect(e.schemaTokens).toBeGreaterThan(10);
    expect(e.promptTokens).toBe(e.textTokens + e.schemaTokens + e.imageTokens);
    expect(e.costUsd).toBeCloseTo((e.promptTokens * 2.5 + e.maxTokens * 10) / 1e6, 12);
    expect(estimateRequest(pets, e.sent, { prices: DEFAULT_PRICES, modelName: 'my-custom-deployment' }).costUsd).toBeNull();
    expect(promptHash(pets)).toMatch(/^[0-9a-f]{64}$/);
    expect(promptHash({ ...pets, prompt: 'Other prompt' })).not.toBe(promptHash(pets));
  });
});

describe('CLI configuration', () => {
  it('needs neither storage nor Cosmos DB, and validates the rest as the service does', () => {
    const c = loadCliConfig({});
    expect(c).toMatchObject({ cosmosConfigured: false, storageConfigured: false });
    expect(c.config.model.provider).toBe('local-detector');
    expect(loadCliConfig({ COSMOS_ENDPOINT: 'https://x.documents.azure.com', AzureWebJobsStorage: 'UseDevelopmentStorage=true' })).toMatchObject({ cosmosConfigured: true, storageConfigured: true });
    expect(() => loadCliConfig({ MAX_IMAGE_BYTES: 'lots' })).toThrow(/MAX_IMAGE_BYTES/);
  });
});

