/**
 * Runs the `blobsight` CLI in the test's own process: the same `runCli` the bin's `main` calls (argument parsing,
 * commands, the errors-to-exit-codes mapping), in the given folder with only the given environment, its stdout and
 * stderr captured. For tests about what a command does; a new node process per case costs seconds on a loaded
 * 2-core machine (node start and the SDKs' module load), so the process boundary itself (exit of the real process,
 * signals, kill -9, a closed pipe) keeps its own tests through cliProcess.ts.
 */
import { runCli } from '../../shared/cli/program';
import type { CliResult } from './cliProcess';
import { cliEnv } from './cliProcess';

type Write = typeof process.stdout.write;

/** One CLI run at a time: the working folder, the environment and the standard streams are the process's. */
let queue: Promise<unknown> = Promise.resolve();

export function runCliInProcess(args: readonly string[], options: { cwd: string; env?: Record<string, string> }): Promise<CliResult> {
  const run = queue.then(() => runNow(args, options));
  queue = run.catch(() => undefined);
  return run;
}

async function runNow(args: readonly string[], options: { cwd: string; env?: Record<string, string> }): Promise<CliResult> {
  const savedCwd = process.cwd();
  const savedEnv = { ...process.env };
  // Put back exactly what was there (the stream's own write, or one vitest installed).
  const saved = { stdout: Object.getOwnPropertyDescriptor(process.stdout, 'write'), stderr: Object.getOwnPropertyDescriptor(process.stderr, 'write') };
  const restore = (key: 'stdout' | 'stderr'): void => {
    const d = saved[key];
    if (d === undefined) Reflect.deleteProperty(process[key], 'write');
    else Object.defineProperty(process[key], 'write', d);
  };
  const out = { stdout: '', stderr: '' };
  const capture =
    (key: 'stdout' | 'stderr'): Write =>
    (chunk: string | Uint8Array, encodingOrCb?: BufferEncoding | ((e?: Error | null) => void), cb?: (e?: Error | null) => void): boolean => {
      out[key] += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString();
      const done = typeof encodingOrCb === 'function' ? encodingOrCb : cb;
      if (done !== undefined) process.nextTick(done);
      return true;
    };
  // Exactly what a child started by cliProcess would see: no AZURE_* or OPENAI_* from the machine.
  const replaceEnv = (env: NodeJS.ProcessEnv): void => {
    for (const k of Object.keys(process.env)) Reflect.deleteProperty(process.env, k);
    Object.assign(process.env, env);
  };
  try {
    process.chdir(options.cwd);
    replaceEnv(cliEnv(options.env ?? {}));
    process.stdout.write = capture('stdout');
    process.stderr.write = capture('stderr');
    const code = await runCli(['node', 'blobsight', ...args]);
    return { code, signal: null, ...out };
  } finally {
    restore('stdout');
    restore('stderr');
    replaceEnv(savedEnv);
    process.chdir(savedCwd);
    // A command sets process.exitCode for runCli to read; it must not become the test worker's exit code.
    process.exitCode = undefined;
  }
}
