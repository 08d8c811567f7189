/** A run on disk: `runs/<UTC time>-<name>/` with config.json, predictions.jsonl, failures.jsonl and summary.json. */
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import type { PredictionRecord } from './predictionRecord';
import type { CorruptLine } from './readJsonLines';
import { readJsonLines } from './readJsonLines';
import type { RunConfig } from './runConfig';
import type { RunSummary } from './runSummary';

export const CONFIG_FILE = 'config.json';
export const PREDICTIONS_FILE = 'predictions.jsonl';
export const FAILURES_FILE = 'failures.jsonl';
export const SUMMARY_FILE = 'summary.json';

/** Thrown when a run folder cannot be used as asked; the CLI exits 2 with this message. */
export class RunFolderError extends Error {
  override readonly name = 'RunFolderError';
}

/** `20261201T205518Z`: sorts by time, and has no `:` so it is a valid folder name on Windows too. */
export function runTimestamp(now: Date): string {
  return now.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}Z$/, 'Z');
}

/** Run names go into folder names: keep them to a safe slug. */
export function runSlug(name: string): string {
  const slug = name.toLowerCase().replace(/[^a-z0-9._-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 60);
  return slug === '' ? 'run' : slug;
}

export interface RunContents {
  records: PredictionRecord[];
  predictions: PredictionRecord[];
  failures: PredictionRecord[];
  corrupt: CorruptLine[];
}

export class RunFolder {
  private constructor(readonly dir: string) {}

  get id(): string {
    return path.basename(this.dir);
  }

  static create(runsDir: string, name: string, now: Date, config: Omit<RunConfig, 'id' | 'name' | 'createdAt'>): { folder: RunFolder; config: RunConfig } {
    const slug = runSlug(name);
    let id = `${runTimestamp(now)}-${slug}`;
    // Two runs started in the same second get distinct folders.
    for (let i = 2; existsSync(path.join(runsDir, id)); i++) id = `${runTimestamp(now)}-${slug}-${i}`;
    const dir = path.join(runsDir, id);
    mkdirSync(dir, { recursive: true });
    const full: RunConfig = { id, name: slug, createdAt: now.toISOString(), ...config };
    writeJsonAtomic(path.join(dir, CONFIG_FILE), full);
    return { folder: new RunFolder(dir), config: full };
  }

  /** `ref` is a folder path, or a run id under `runsDir`. */
  static open(runsDir: string, ref: string): RunFolder {
    const candidates = [ref, path.join(runsDir, ref)];
    for (const dir of candidates) {
      if (existsSync(path.join(dir, CONFIG_FILE))) return new RunFolder(path.resolve(dir));
    }
    const where = candidates.map((c) => path.resolve(c)).join(' or ');
    throw new RunFolderError(`No run "${ref}": ${where} has no ${CONFIG_FILE}. List runs with \`blobsight runs --runs-dir ${runsDir}\`.`);
  }

  /** The newest run with this name, or undefined. */
  static latest(runsDir: string, name: string): RunFolder | undefined {
    const slug = runSlug(name);
    const ids = listRunIds(runsDir).filter((id) => {
      const config = tryReadJson<RunConfig>(path.join(runsDir, id, CONFIG_FILE));
      return config?.name === slug;
    });
    const last = ids.at(-1);
    return last === undefined ? undefined : new RunFolder(path.resolve(runsDir, last));
  }

  readConfig(): RunConfig {
    const file = path.join(this.dir, CONFIG_FILE);
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(file, 'utf8'));
    } catch (e) {
      throw new RunFolderError(`${file} is not readable JSON (${e instanceof Error ? e.message : String(e)}); this run cannot be resumed.`);
    }
    const c = parsed as Partial<RunConfig>;
    if (typeof c.profile?.name !== 'string' || typeof c.profile.version !== 'string' || typeof c.model?.deployment !== 'string') {
      throw new RunFolderError(`${file} does not describe a blobsight run (no profile or model); this run cannot be resumed.`);
    }
    return parsed as RunConfig;
  }

  readSummary(): RunSummary | undefined {
    return tryReadJson<RunSummary>(path.join(this.dir, SUMMARY_FILE));
  }

  readContents(): RunContents {
    const p = readJsonLines(path.join(this.dir, PREDICTIONS_FILE));
    const f = readJsonLines(path.join(this.dir, FAILURES_FILE));
    return { records: [...p.records, ...f.records], predictions: p.records, failures: f.records, corrupt: [...p.corrupt, ...f.corrupt] };
  }

  path(file: string): string {
    return path.join(this.dir, file);
  }

  writeSummary(summary: RunSummary): void {
    writeJsonAtomic(this.path(SUMMARY_FILE), summary);
  }
}

/** Run ids under `runsDir`, oldest first (ids start with their UTC time). */
export function listRunIds(runsDir: string): string[] {
  if (!existsSync(runsDir)) return [];
  return readdirSync(runsDir)
    .filter((id) => {
      try {
        return statSync(path.join(runsDir, id)).isDirectory() && existsSync(path.join(runsDir, id, CONFIG_FILE));
      } catch {
        return false;
      }
    })
    .sort();
}

function tryReadJson<T>(file: string): T | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as T;
  } catch {
    return undefined;
  }
}

/** Write then rename: a kill never leaves a half-written config or summary. */
function writeJsonAtomic(file: string, value: unknown): void {
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, `${JSON.stringify(value, null, 2)}\n`);
  renameSync(tmp, file);
}
