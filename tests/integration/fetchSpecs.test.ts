/**
 * scripts/fetchSpecs.mjs against a loopback stand-in for raw.githubusercontent.com serving the reference copies in
 * ../shared/specs (GitHub itself is out of reach here): downloads at the pinned paths, verifies every SHA-256,
 * refuses a changed file, and the tests' spec locator falls back to what it fetched.
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { locateSpecs, manifest, type ManifestFile, SHARED_SPECS_DIR } from '../support/specs';

const repoRoot = path.resolve(__dirname, '..', '..');
const haveShared = manifest.files.every((f: ManifestFile) => existsSync(path.join(SHARED_SPECS_DIR, f.name)));
if (!haveShared) console.warn(`tests/integration/fetchSpecs.test.ts skipped: it serves the reference copies in ${SHARED_SPECS_DIR}, which is absent`);

/** A docs page like event-schema-blob-storage.md: prose, an unrelated example, then both BlobCreated examples (one indented in a tab). */
function docsPage(): string {
  const eventGrid = readFileSync(path.join(SHARED_SPECS_DIR, 'blobcreated-eventgrid-example.json'), 'utf8');
  const cloudEvents = readFileSync(path.join(SHARED_SPECS_DIR, 'blobcreated-cloudevents-example.json'), 'utf8');
  const indented = (text: string): string =>
    text
      .split('\n')
      .map((l) => (l === '' ? l : `    ${l}`))
      .join('\n');
  return [
    '# Azure Blob Storage as an Event Grid source',
    '',
    '```json',
    '{ "not": "an event array" }',
    '```',
    '',
    '### Microsoft.Storage.BlobCreated event',
    '',
    '```json',
    eventGrid.trimEnd(),
    '```',
    '',
    '# [Cloud event schema](#tab/cloud-event-schema)',
    '',
    '    ```json',
    indented(cloudEvents.trimEnd()),
    '    ```',
    '',
  ].join('\r\n');
}

let server: Server;
let base: string;
let requests: string[] = [];
let tamper: string | undefined;

beforeAll(async () => {
  const routes = new Map<string, () => Buffer>();
  for (const f of manifest.files) {
    routes.set(`/${f.repo}/${f.commit}/${f.path}`, f.extract === undefined ? () => readFileSync(path.join(SHARED_SPECS_DIR, f.name)) : () => Buffer.from(docsPage(), 'utf8'));
  }
  server = createServer((req, res) => {
    const url = req.url ?? '';
    requests.push(url);
    const body = routes.get(url);
    if (body === undefined) {
      res.writeHead(404).end('404: Not Found');
      return;
    }
    let bytes = body();
    if (tamper !== undefined && url.endsWith(tamper)) bytes = Buffer.concat([bytes, Buffer.from(' ')]);
    res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' }).end(bytes);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

function fetchSpecs(out: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [path.join(repoRoot, 'scripts', 'fetchSpecs.mjs'), '--base', base, '--out', out], { timeout: 60_000 }, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : 1, stdout, stderr });
    });
  });
}

describe.skipIf(!haveShared)('npm run fetch-specs (scripts/fetchSpecs.mjs)', () => {
  it('downloads every pinned file, verifies its SHA-256, extracts the docs examples, and skips what is already there', async () => {
    const out = await mkdtemp(path.join(tmpdir(), 'blobsight-specs-'));
    try {
      requests = [];
      tamper = undefined;
      const first = await fetchSpecs(out);
      expect(first.stderr).toBe('');
      expect(first.code).toBe(0);
      expect(first.stdout).toMatch(/\[1\/5\] azure-openai-inference-2024-10-21.json: \d+ bytes, sha256 ok/);
      for (const f of manifest.files) expect(readFileSync(path.join(out, f.name)).equals(readFileSync(path.join(SHARED_SPECS_DIR, f.name))), f.name).toBe(true);
      // The docs page holds both examples: fetched once.
      expect(requests).toHaveLength(4);
      expect(requests.every((r) => /^\/[\w-]+\/[\w.-]+\/[0-9a-f]{40}\//.test(r))).toBe(true);

      requests = [];
      const again = await fetchSpecs(out);
      expect(again.code).toBe(0);
      expect(requests).toEqual([]);
      expect(again.stdout.match(/already there, sha256 ok/g)).toHaveLength(5);

      // The tests' locator uses the fetched folder when ../shared/specs is not there.
      expect(locateSpecs(['chat_completions.json'], { shared: path.join(out, 'nowhere'), fetched: out })).toEqual({ ok: true, dir: out, source: 'fetched' });
      writeFileSync(path.join(out, 'chat_completions.json'), '{}');
      const stale = locateSpecs(['chat_completions.json'], { shared: path.join(out, 'nowhere'), fetched: out });
      expect(stale).toMatchObject({ ok: false, reason: expect.stringMatching(/chat_completions.json does not match its pinned SHA-256.*run `npm run fetch-specs`/) });
    } finally {
      await rm(out, { recursive: true, force: true });
    }
  });

  it('refuses a file whose bytes differ from the pinned hash: exit 1, the file named, nothing written for it', async () => {
    const out = await mkdtemp(path.join(tmpdir(), 'blobsight-specs-'));
    try {
      tamper = 'examples/chat_completions.json';
      const run = await fetchSpecs(out);
      expect(run.code).toBe(1);
      expect(run.stderr).toMatch(/chat_completions.json: FAILED: sha256 [0-9a-f]{64} does not match the pinned b88d72cd/);
      expect(run.stderr).toMatch(/1 spec file\(s\) could not be fetched and verified: chat_completions.json/);
      expect(existsSync(path.join(out, 'chat_completions.json'))).toBe(false);
      expect(existsSync(path.join(out, 'chat_completions.json.part'))).toBe(false);
      expect(existsSync(path.join(out, 'azure-openai-inference-2024-10-21.json'))).toBe(true);
    } finally {
      tamper = undefined;
      await rm(out, { recursive: true, force: true });
    }
  });

  it('skips with the command to run when neither folder has the specs', () => {
    const missing = locateSpecs(['azure-openai-inference-2024-10-21.json'], { shared: '/nonexistent/shared/specs', fetched: '/nonexistent/.specs' });
    expect(missing).toMatchObject({ ok: false, reason: expect.stringMatching(/azure-openai-inference-2024-10-21.json missing.*run `npm run fetch-specs`/) });
  });
});
