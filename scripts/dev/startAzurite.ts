/** Runs Azurite's blob service as a child process on loopback, its data kept in a folder between runs. */
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

/** Azurite's published development account; the key is public and works only against Azurite. */
export const AZURITE_ACCOUNT = 'devstoreaccount1';
export const AZURITE_ACCOUNT_KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

export interface AzuriteOptions {
  /** Azurite's `--location`: its database and blob extents. */
  location: string;
  /** 0 picks a free port. */
  port: number;
  /** The package root whose node_modules holds azurite. */
  root: string;
  startTimeoutMs?: number;
  /** How long stop() waits for Azurite to save and exit before killing it. */
  stopTimeoutMs?: number;
  /** Let this process exit while Azurite runs (test harnesses: teardown stops it; the IPC wrapper covers a crash). */
  unref?: boolean;
  /** Which Azurite service this process runs; default 'blob'. The parking queue needs a second one: 'queue'. */
  service?: 'blob' | 'queue';
}

export interface RunningAzurite {
  port: number;
  pid: number;
  /** `http://127.0.0.1:<port>/devstoreaccount1` (for a queue service, its queue endpoint). */
  blobEndpoint: string;
  connectionString: string;
  /** Asks Azurite to close (it saves its database), waits, then kills it if it hangs. Idempotent. */
  stop(): Promise<void>;
}

/**
 * Azurite runs under a small wrapper that shuts it down gracefully when our IPC channel closes, so it never outlives
 * this process, even one killed with SIGKILL. It gets its own process group: Ctrl-C reaches only us, and we stop
 * it after the servers that use it.
 */
export async function startAzurite(o: AzuriteOptions): Promise<RunningAzurite> {
  mkdirSync(o.location, { recursive: true });
  const service = o.service ?? 'blob';
  const entry = createRequire(path.join(o.root, 'package.json')).resolve(`azurite/dist/src/${service}/main.js`);
  const wrapper = [
    // Azurite shuts down on SIGTERM (saving its database); emitting the event runs that handler without a real signal.
    // Before Azurite listens for it there is nothing to save; the unref'd timer bounds a close that hangs.
    "process.on('disconnect', () => { if (process.listenerCount('SIGTERM') === 0) process.exit(0);",
    "process.emit('SIGTERM'); setTimeout(() => process.exit(0), 8000).unref(); });",
    `process.argv.splice(1, 0, ${JSON.stringify(entry)});`,
    `require(${JSON.stringify(entry)});`,
  ].join(' ');
  const args = [`--${service}Host`, '127.0.0.1', `--${service}Port`, String(o.port), '--location', o.location, '--disableTelemetry', '--skipApiVersionCheck', '--silent'];
  const child = spawn(process.execPath, ['-e', wrapper, '--', ...args], { stdio: ['ignore', 'pipe', 'pipe', 'ipc'], detached: true });
  if (o.unref === true) {
    child.unref();
    child.channel?.unref();
  }
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => (stopping ??= stopChild(child, o.stopTimeoutMs ?? 10_000));
  try {
    const port = await waitForListening(child, o.startTimeoutMs ?? 30_000);
    const blobEndpoint = `http://127.0.0.1:${port}/${AZURITE_ACCOUNT}`;
    return {
      port,
      pid: child.pid as number,
      blobEndpoint,
      connectionString: `DefaultEndpointsProtocol=http;AccountName=${AZURITE_ACCOUNT};AccountKey=${AZURITE_ACCOUNT_KEY};${service === 'queue' ? 'QueueEndpoint' : 'BlobEndpoint'}=${blobEndpoint};`,
      stop,
    };
  } catch (e) {
    await stop();
    throw e;
  }
}

function waitForListening(child: ChildProcess, timeoutMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    let output = '';
    const tail = (): string => output.trim().split('\n').slice(-15).join('\n') || '(no output)';
    const timer = setTimeout(() => fail(`Azurite did not start within ${timeoutMs / 1000} s:\n${tail()}`), timeoutMs);
    const onData = (chunk: Buffer): void => {
      output += chunk.toString('utf8');
      const m = /successfully listens on https?:\/\/[^\s]*:(\d+)/.exec(output);
      if (m?.[1] !== undefined) done(() => resolve(Number(m[1])));
    };
    const onExit = (code: number | null, signal: NodeJS.Signals | null): void => fail(`Azurite exited before it was ready (code ${code}, signal ${signal}):\n${tail()}`);
    const onError = (e: Error): void => fail(`Azurite could not be started: ${e.message}`);
    function done(then: () => void): void {
      clearTimeout(timer);
      child.stdout?.off('data', onData);
      child.stderr?.off('data', onData);
      child.off('exit', onExit);
      child.off('error', onError);
      // Keep draining so Azurite never blocks on a full pipe.
      child.stdout?.resume();
      child.stderr?.resume();
      then();
    }
    function fail(message: string): void {
      done(() => reject(new Error(message)));
    }
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', onExit);
    child.once('error', onError);
  });
}

async function stopChild(child: ChildProcess, timeoutMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  if (child.connected) child.disconnect();
  else signalGroup(child, 'SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  const late = await Promise.race([exited.then(() => false), new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), timeoutMs)))]);
  clearTimeout(timer);
  if (late) {
    signalGroup(child, 'SIGKILL');
    await exited;
  }
}

function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // No process group (Windows) or already gone.
    child.kill(signal);
  }
}
