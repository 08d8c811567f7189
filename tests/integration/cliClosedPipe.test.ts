/**
 * `blobsight … | head`: the reader of the CLI's output goes away before the CLI has written. The CLI must leave
 * quietly (exit 0), not crash with an unhandled EPIPE and a stack trace.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { buildCli, cliEnv } from '../support/cliProcess';

let work: string;

beforeAll(() => {
  buildCli();
  work = mkdtempSync(path.join(tmpdir(), 'blobsight-pipe-'));
}, 600_000);

afterAll(() => rmSync(work, { recursive: true, force: true }));

/** Runs the CLI with the read end of `closed` shut at once (a `head` that is already done); collects the other stream. */
function runWithClosedReader(args: readonly string[], closed: 'stdout' | 'stderr'): Promise<{ code: number | null; signal: NodeJS.Signals | null; other: string }> {
  const child = spawn(process.execPath, [buildCli(), ...args], { cwd: work, env: cliEnv({}), stdio: ['ignore', 'pipe', 'pipe'] });
  // Nothing reads this end any more: the CLI's next write to it fails with EPIPE.
  child[closed].destroy();
  let other = '';
  child[closed === 'stdout' ? 'stderr' : 'stdout'].on('data', (d: Buffer) => (other += d.toString()));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, other }));
  });
}

describe('blobsight output into a reader that closed early', { timeout: 120_000 }, () => {
  it('stdout closed (`blobsight --help | head`): exit 0, nothing on stderr', async () => {
    const r = await runWithClosedReader(['--help'], 'stdout');
    expect(r.other).not.toMatch(/EPIPE|Unhandled|at .*\.js:\d+/);
    expect(r.other).toBe('');
    expect(r.signal).toBeNull();
    expect(r.code).toBe(0);
  });

  it('stderr closed (`blobsight … 2>&1 | head`): exit 0 and no crash report on stdout either', async () => {
    // A usage error is written to stderr.
    const r = await runWithClosedReader(['label', '.', '--concurrency', 'lots'], 'stderr');
    expect(r.other).not.toMatch(/EPIPE|Unhandled|at .*\.js:\d+/);
    expect(r.signal).toBeNull();
    expect(r.code).toBe(0);
  });

  it('with the reader open the same commands still answer as before (help on stdout, usage error exit 2)', async () => {
    const child = spawn(process.execPath, [buildCli(), 'label', '.', '--concurrency', 'lots'], { cwd: work, env: cliEnv({}), stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(code).toBe(2);
    expect(stderr).toMatch(/concurrency.*whole number/i);
  });
});
