/** The local stack's small parts: settings files, the function key, the Cosmos certificate and snapshot file, Event Grid's schedule and dead-letter names. */
import { X509Certificate } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { readSnapshotFile, writeSnapshotFile } from '../../scripts/dev/cosmosSnapshot';
import { deadLetterBlobName } from '../../scripts/dev/deadLetter';
import { ensureDevCertificate } from '../../scripts/dev/devCertificate';
import { readLocalSettings } from '../../scripts/dev/localSettings';
import { withLocalDefaults } from '../../scripts/dev/localStack';
import { resolveFunctionKey } from '../../scripts/dev/resolveFunctionKey';
import { EVENT_GRID_RETRY_SCHEDULE_MS, retryDelayMs } from '../../scripts/dev/retrySchedule';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'blobsight-dev-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('local settings', () => {
  it('reads local.settings.json Values, then .env on top', () => {
    writeFileSync(path.join(dir, 'local.settings.json'), JSON.stringify({ IsEncrypted: false, Values: { A: 'from json', B: 'json only', N: 5, T: true } }));
    writeFileSync(path.join(dir, '.env'), 'A=from env\n# a comment\nC="quoted value"\n');
    const s = readLocalSettings(dir);
    expect(s.values).toEqual({ A: 'from env', B: 'json only', N: '5', T: 'true', C: 'quoted value' });
    expect(s.files.map((f) => path.basename(f))).toEqual(['local.settings.json', '.env']);
  });

  it('reads nothing when there are no files, and names a broken one', () => {
    expect(readLocalSettings(dir)).toEqual({ values: {}, files: [] });
    writeFileSync(path.join(dir, 'local.settings.json'), '{ "Values": ');
    expect(() => readLocalSettings(dir)).toThrow(/local\.settings\.json is not valid JSON/);
  });

  it('fills in local defaults only where a setting is unset or empty', () => {
    const env = withLocalDefaults({ COSMOS_ENDPOINT: 'https://mine.documents.azure.com:443/', COSMOS_KEY: '  ' }, { COSMOS_ENDPOINT: 'https://127.0.0.1:8081', COSMOS_KEY: 'emulator', AzureWebJobsStorage: 'azurite' });
    expect(env).toEqual({ COSMOS_ENDPOINT: 'https://mine.documents.azure.com:443/', COSMOS_KEY: 'emulator', AzureWebJobsStorage: 'azurite' });
  });
});

describe('function key', () => {
  it('is made once, URL-safe, kept in the data folder and reused', () => {
    const first = resolveFunctionKey(dir, undefined, undefined);
    expect(first.source).toBe('new');
    expect(first.key).toMatch(/^[A-Za-z0-9_-]{40,}$/);
    expect(readFileSync(path.join(dir, 'function-key'), 'utf8').trim()).toBe(first.key);
    expect(resolveFunctionKey(dir, undefined, undefined)).toMatchObject({ key: first.key, source: 'file' });
  });

  it('comes from FUNCTIONS_DEV_KEY, or the option, before the stored one', () => {
    resolveFunctionKey(dir, undefined, undefined);
    expect(resolveFunctionKey(dir, undefined, 'from-settings')).toMatchObject({ key: 'from-settings', source: 'FUNCTIONS_DEV_KEY' });
    expect(resolveFunctionKey(dir, 'given', 'from-settings')).toMatchObject({ key: 'given', source: 'option' });
  });
});

describe('Cosmos certificate', () => {
  it('is made for localhost and 127.0.0.1 for years, then reused', async () => {
    const made = await ensureDevCertificate(dir);
    expect(made.created).toBe(true);
    const x = new X509Certificate(made.cert);
    expect(x.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(x.checkHost('localhost')).toBe('localhost');
    expect(made.validTo.getTime() - Date.now()).toBeGreaterThan(5 * 365 * 24 * 3600 * 1000);
    const again = await ensureDevCertificate(dir);
    expect(again).toMatchObject({ created: false, cert: made.cert, key: made.key });
  });

  it('is replaced when it is about to expire', async () => {
    const made = await ensureDevCertificate(dir);
    const nearExpiry = new Date(made.validTo.getTime() - 24 * 3600 * 1000);
    const renewed = await ensureDevCertificate(dir, nearExpiry);
    expect(renewed.created).toBe(true);
    expect(renewed.cert).not.toBe(made.cert);
  });
});

describe('Cosmos snapshot file', () => {
  it('round-trips, and a corrupt one is moved aside, not overwritten', () => {
    const file = path.join(dir, 'snapshot.json');
    const snapshot = { version: 1 as const, savedAt: new Date().toISOString(), databases: [{ id: 'db', containers: [{ id: 'c', partitionKey: { paths: ['/id'] }, items: [{ id: '1' }] }] }] };
    writeSnapshotFile(file, snapshot);
    expect(readSnapshotFile(file, () => undefined)).toEqual(snapshot);
    expect(readdirSync(dir)).toEqual(['snapshot.json']);

    writeFileSync(file, '{"version": 1, "databa');
    const reports: string[] = [];
    expect(readSnapshotFile(file, (m) => reports.push(m))).toBeUndefined();
    expect(existsSync(file)).toBe(false);
    const aside = readdirSync(dir).find((f) => f.startsWith('snapshot.json.unreadable-'));
    expect(aside).toBeDefined();
    expect(readFileSync(path.join(dir, aside as string), 'utf8')).toBe('{"version": 1, "databa');
    expect(reports[0]).toContain('moved to');
  });
});

describe("Event Grid's schedule and dead-letter names", () => {
  it('follows the documented retry schedule, scaled, with ±20 % jitter', () => {
    const minutes = (ms: number): number => ms / 60_000;
    expect(EVENT_GRID_RETRY_SCHEDULE_MS.slice(0, 7).map(minutes)).toEqual([1 / 6, 0.5, 1, 5, 10, 30, 60]);
    expect([1, 2, 3, 4].map((n) => retryDelayMs(n, 1, () => 0.5))).toEqual([10_000, 30_000, 60_000, 300_000]);
    expect(retryDelayMs(1, 0.01, () => 0.5)).toBe(100);
    expect(retryDelayMs(1, 1, () => 0)).toBe(8_000);
    expect(retryDelayMs(1, 1, () => 1)).toBe(12_000);
    // Past the table, the last step repeats.
    expect(retryDelayMs(29, 1, () => 0.5)).toBe(EVENT_GRID_RETRY_SCHEDULE_MS.at(-1));
  });

  it('names dead-letter blobs TOPIC/SUBSCRIPTION/yyyy/M/d/H/<uuid>.json in UTC, not zero-padded', () => {
    const name = deadLetterBlobName('/subscriptions/x/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/devstoreaccount1', 'blobsight-local', new Date('2026-03-05T07:59:00Z'), 'id');
    expect(name).toBe('DEVSTOREACCOUNT1/BLOBSIGHT-LOCAL/2026/3/5/7/id.json');
  });
});
