/** Runs the compiled `blobsight` CLI as a child process, as a user would, for exit codes, output and kill tests. */
import type { ChildProcess } from 'node:child_process';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..');
let built: string | undefined;

/**
 * Compiles the project once per test worker into its own folder under .vitest/ (inside the repository, so
 * node_modules resolves; per process, so parallel workers and the chaos build never write the same files).
 */
export function buildCli(): string {
  if (built !== undefined) return built;
  const outDir = path.join(ROOT, '.vitest', `cli-dist-${process.pid}`);
  execFileSync(process.execPath, [path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', path.join(ROOT, 'tsconfig.build.json'), '--outDir', outDir], { stdio: 'inherit' });
  const main = path.join(outDir, 'shared', 'cli', 'main.js');
  if (!existsSync(main)) throw new Error(`the build did not produce ${main}`);
  built = main;
  return main;
}

/** Removes this worker's build (tests call it in afterAll). */
export function removeCliBuild(): void {
  if (built === undefined) return;
  rmSync(path.resolve(built, '..', '..', '..'), { recursive: true, force: true });
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
