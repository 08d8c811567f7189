/** Runs the compiled `blobsight` CLI as a child process, as a user would, for exit codes, output and kill tests. */
import type { ChildProcess } from 'node:child_process';
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..');
let built: string | undefined;

/** What the build reads: a change to any of these makes a new build; anything else reuses the last one. */
const BUILD_INPUTS = ['functions', 'shared', 'scripts', 'tsconfig.json', 'tsconfig.build.json', 'package.json'];

function sourceHash(): string {
  const hash = createHash('sha256');
  const visit = (relative: string): void => {
    const full = path.join(ROOT, relative);
    if (!existsSync(full)) return;
    if (statSync(full).isDirectory()) {
      for (const entry of readdirSync(full).sort()) visit(path.join(relative, entry));
      return;
    }
    hash.update(relative).update('\0').update(readFileSync(full)).update('\0');
  };
  for (const input of BUILD_INPUTS) visit(input);
  return hash.digest('hex').slice(0, 16);
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Compiles the project into `.vitest/cli-dist-<hash of the sources>` (inside the repository, so node_modules
 * resolves). Every test file that spawns the CLI shares that one build: a compile costs tens of seconds on a
 * 2-core machine, and each test file runs in its own worker. The first worker to get the lock builds into a
 * scratch folder and renames it into place; the others wait for the folder to appear.
 */
export function buildCli(): string {
  if (built !== undefined) return built;
  const cache = path.join(ROOT, '.vitest');
  mkdirSync(cache, { recursive: true });
  const outDir = path.join(cache, `cli-dist-${sourceHash()}`);
  const main = path.join(outDir, 'shared', 'cli', 'main.js');
  const lock = `${outDir}.lock`;
  const deadline = Date.now() + 600_000;
  while (!existsSync(main)) {
    try {
      mkdirSync(lock);
    } catch {
      // Another worker builds: wait for it, or take over when it died holding the lock.
      const holder = Number(readFileOr(path.join(lock, 'pid')));
      if (holder > 0 && !pidAlive(holder)) rmSync(lock, { recursive: true, force: true });
      if (Date.now() > deadline) throw new Error(`timed out waiting for another worker's build of ${outDir}`);
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 250);
      continue;
    }
    try {
      writeFileSync(path.join(lock, 'pid'), String(process.pid));
      const scratch = `${outDir}.tmp-${process.pid}`;
      rmSync(scratch, { recursive: true, force: true });
      execFileSync(process.execPath, [path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', path.join(ROOT, 'tsconfig.build.json'), '--outDir', scratch], { stdio: 'inherit' });
      if (!existsSync(path.join(scratch, 'shared', 'cli', 'main.js'))) throw new Error(`the build did not produce ${main}`);
      rmSync(outDir, { recursive: true, force: true });
      renameSync(scratch, outDir);
      removeOlderBuilds(cache, path.basename(outDir));
    } finally {
      rmSync(lock, { recursive: true, force: true });
    }
  }
  built = main;
  return main;
}

function readFileOr(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

/** Builds of older sources are of no further use; keep the folder from growing one build per edit. */
function removeOlderBuilds(cache: string, keep: string): void {
  for (const entry of readdirSync(cache)) {
    if (entry.startsWith('cli-dist-') && entry !== keep && !entry.endsWith('.lock') && !entry.includes('.tmp-')) rmSync(path.join(cache, entry), { recursive: true, force: true });
  }
}

/** Kept for the tests' afterAll: the shared build stays for the next test file (and the next run). */
export function removeCliBuild(): void {
  built = undefined;
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Only what the test gives: no AZURE_* or OPENAI_* from the machine leak into the CLI's settings. */
export function cliEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  return { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '/tmp', ...extra };
}

export function spawnCli(args: readonly string[], options: { cwd: string; env: Record<string, string> }): { child: ChildProcess; done: Promise<CliResult> } {
  const child = spawn(process.execPath, [buildCli(), ...args], { cwd: options.cwd, env: cliEnv(options.env), stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<CliResult>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
  return { child, done };
}

export async function runCliProcess(args: readonly string[], options: { cwd: string; env?: Record<string, string> }): Promise<CliResult> {
  return spawnCli(args, { cwd: options.cwd, env: options.env ?? {} }).done;
}
